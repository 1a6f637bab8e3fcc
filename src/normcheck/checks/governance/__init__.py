"""Governance rules."""
