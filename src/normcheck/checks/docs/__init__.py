"""Docs rules."""
