"""Ownership rules."""
