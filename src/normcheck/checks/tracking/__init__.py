"""Tracking-plan rules: one taxonomy for product events."""
