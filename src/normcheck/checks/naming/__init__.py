"""Naming rules."""
