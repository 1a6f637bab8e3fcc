"""normcheck: one set of norms for dbt projects, SQL and tracking plans."""

from __future__ import annotations

__version__ = "0.1.0"
