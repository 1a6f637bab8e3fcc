"""Acme's central rule sets: each `NAME.yml` here is `extends: [acme:NAME]`."""
