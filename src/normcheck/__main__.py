from __future__ import annotations

from normcheck.cli import entry

entry()
