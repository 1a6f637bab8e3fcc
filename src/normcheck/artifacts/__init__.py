"""The load stage: dbt artifacts on disk -> typed, read-only records.

This is the only package that knows the raw manifest's quirks (schema
versions, ``config.meta`` versus ``meta``, where owners hide)."""
