"""Normcheck rules."""
