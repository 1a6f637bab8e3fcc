"""Small predicates shared by several rules."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Annotated

import msgspec

from normcheck._glob import match_any
from normcheck.checks._api import Layer
from normcheck.project import Resource

CASES = {
    "snake_case": r"^[a-z][a-z0-9_]*$",
    "camelCase": r"^[a-z][a-zA-Z0-9]*$",
    "PascalCase": r"^[A-Z][a-zA-Z0-9]*$",
    "kebab-case": r"^[a-z][a-z0-9-]*$",
    "SCREAMING_SNAKE_CASE": r"^[A-Z][A-Z0-9_]*$",
}

CaseName = Annotated[
    str,
    msgspec.Meta(
        description="naming convention: snake_case, camelCase, PascalCase, kebab-case, "
        "SCREAMING_SNAKE_CASE",
        extra_json_schema={"enum": sorted(CASES)},
    ),
]
Regex = Annotated[str, msgspec.Meta(extra_json_schema={"format": "regex"})]


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def fits_case(name: str, case: str, pattern: str | None = None) -> bool:
    return _compiled(pattern or CASES[case]).search(name) is not None


def convention(case: str, pattern: str | None) -> str:
    return f"the pattern `{pattern}`" if pattern else case


def case_problem(kind: str, name: str, case: str, pattern: str | None) -> str | None:
    """The message for a name off its case convention, or None when it fits."""
    if fits_case(name, case, pattern):
        return None
    snake = case == "snake_case" and not pattern
    hint = f" (for example `{to_snake(name)}`)" if snake else ""
    return f"{kind} `{name}` is not {convention(case, pattern)}: rename it{hint}"


_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words(name: str) -> list[str]:
    """``orderAmt_usd`` -> ``['order', 'amt', 'usd']``."""
    return [w.lower() for w in _WORD_RE.findall(name)]


def to_snake(name: str) -> str:
    return "_".join(words(name))


def layer_of(resource: Resource, layers: Iterable[Layer]) -> Layer | None:
    """The first configured layer whose paths contain the resource's file."""
    for layer in layers:
        if match_any(resource.file, layer.paths):
            return layer
    return None


def layer_by_prefix(name: str, layers: Iterable[Layer]) -> Layer | None:
    best: Layer | None = None
    best_len = 0
    for layer in layers:
        for prefix in layer.prefixes:
            if name.startswith(prefix) and len(prefix) > best_len:
                best, best_len = layer, len(prefix)
    return best


def code_line(code: str, needle: str) -> int | None:
    """The 1-based line of the first occurrence of ``needle`` in ``code``."""
    index = code.find(needle)
    return None if index < 0 else code.count("\n", 0, index) + 1


def backticks(items: Iterable[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)
