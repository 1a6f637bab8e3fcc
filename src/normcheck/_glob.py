"""Path globs as users write them in config: ``*`` stays inside one folder,
``**`` spans folders, ``?`` is one character. Paths use ``/``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z")


def match_any(path: str, patterns: Iterable[str]) -> bool:
    """True when ``path`` (relative, ``/``-separated) matches one of ``patterns``.
    A pattern naming a folder (``models/legacy``) matches everything inside it."""
    path = path.replace("\\", "/")
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if compile_glob(pattern).match(path) or path.startswith(pattern + "/"):
            return True
    return False
