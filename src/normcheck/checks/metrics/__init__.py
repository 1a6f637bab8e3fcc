"""Metrics rules: the semantic layer definitions, their North Star hierarchy and traffic lights."""
