"""Refuse user regular expressions that can take exponential time.

Python's ``re`` backtracks: ``(a+)+$`` against forty ``a`` and a ``!`` tries
every way to split the run between the two ``+`` (2**40 of them), and a rule
option with such a pattern would hang normcheck on one long name. A repetition
is safe when each of its rounds must contain a character that the variable
parts of the round cannot match: ``[a-z]+(_[a-z0-9]+)*`` is, since every round
starts with ``_``. :func:`regex_problem` refuses a repeated group without such
a separator (``(a+)+``, ``(a*)*``, ``(\\w+\\s?)+``, ``(a|ab)+``); atomic groups
and possessive quantifiers never backtrack, so they pass. It is a static check
of the classic exponential shapes, not a proof: polynomial ones
(``.*.*.*x``) pass, and a few safe patterns (``(a+b+)*``) are refused.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

_parser: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

# Characters the sets are compared on: Latin-1 and Latin Extended, plus a few
# letters, digits and spaces of other scripts so \w, \d and \s differ from ASCII.
_ALPHABET = frozenset(
    "".join(map(chr, range(0x250))) + "\u0391\u03b1\u0416\u0436\u4e2d\u0663\u2003\u3000"
)
_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT"}
_NON_BACKTRACKING = {"POSSESSIVE_REPEAT", "ATOMIC_GROUP"}

PROBLEM = (
    "can take exponential time: a repeated group holds a part of variable length "
    "and no character that part cannot match to separate the rounds (like `(a+)+`); "
    "start each round with such a character, e.g. `[a-z]+(_[a-z0-9]+)*`"
)


def _name(constant: Any) -> str:
    """The name of one of the parser's opcode constants (``MAX_REPEAT``)."""
    return str(getattr(constant, "name", constant))


@cache
def _category(name: str) -> frozenset[str]:
    regex = _CATEGORIES.get(name)
    if regex is None:
        return _ALPHABET
    compiled = re.compile(regex)
    return frozenset(c for c in _ALPHABET if compiled.match(c))


def _charset(op: str, av: Any, ignorecase: bool) -> frozenset[str] | None:
    """The characters a one-character element matches, or None for other elements."""
    if op == "LITERAL":
        chars = frozenset(chr(av))
    elif op == "NOT_LITERAL":
        chars = _ALPHABET - {chr(av)}
    elif op == "ANY":
        chars = _ALPHABET
    elif op == "IN":
        negate = False
        found: set[str] = set()
        for item_op, item_av in av:
            kind = _name(item_op)
            if kind == "NEGATE":
                negate = True
            elif kind == "LITERAL":
                found.add(chr(item_av))
            elif kind == "RANGE":
                low, high = item_av
                found.update(c for c in _ALPHABET if low <= ord(c) <= high)
            elif kind == "CATEGORY":
                found.update(_category(_name(item_av)))
            else:  # anything else: assume it can match everything
                found.update(_ALPHABET)
        chars = _ALPHABET - found if negate else frozenset(found)
    else:
        return None
    if ignorecase:
        chars = frozenset(x for c in chars for x in (c, c.lower(), c.upper()))
    return chars


def _all_chars(items: Iterable[tuple[Any, Any]], ignorecase: bool) -> set[str]:
    """Every character any element below ``items`` can match."""
    out: set[str] = set()
    for op, av in items:
        kind = _name(op)
        chars = _charset(kind, av, ignorecase)
        if chars is not None:
            out |= chars
        for sub in _subpatterns(kind, av):
            out |= _all_chars(sub, ignorecase)
    return out


def _subpatterns(kind: str, av: Any) -> list[Any]:
    if kind in _REPEATS or kind == "POSSESSIVE_REPEAT":
        return [av[2]]
    if kind == "SUBPATTERN":
        return [av[3]]
    if kind == "BRANCH":
        return list(av[1])
    if kind in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    if kind == "ATOMIC_GROUP":
        return [av]
    if kind == "GROUPREF_EXISTS":
        return [p for p in av[1:] if p is not None]
    return []


def _variable_chars(items: Iterable[tuple[Any, Any]], ignorecase: bool) -> set[str]:
    """The characters the parts of variable length below ``items`` can match."""
    out: set[str] = set()
    for op, av in items:
        kind = _name(op)
        if kind in _NON_BACKTRACKING:
            continue  # matched once, never split again
        if kind in _REPEATS and av[1] > av[0]:
            out |= _all_chars(av[2], ignorecase)
        elif kind == "BRANCH":
            out |= _all_chars([(op, av)], ignorecase)
        else:
            for sub in _subpatterns(kind, av):
                out |= _variable_chars(sub, ignorecase)
    return out


def _separators(items: Iterable[tuple[Any, Any]], ignorecase: bool) -> list[frozenset[str]]:
    """Character sets of one-character elements every match of ``items`` contains."""
    out: list[frozenset[str]] = []
    for op, av in items:
        kind = _name(op)
        chars = _charset(kind, av, ignorecase)
        if chars is not None:
            out.append(chars)
        elif kind == "SUBPATTERN":
            out += _separators(av[3], ignorecase)
    return out


def _min_width(items: Iterable[tuple[Any, Any]]) -> int:
    """The fewest characters ``items`` can match (lookarounds and anchors: none)."""
    total = 0
    for op, av in items:
        kind = _name(op)
        if kind in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            total += 1
        elif kind in _REPEATS or kind == "POSSESSIVE_REPEAT":
            total += av[0] * _min_width(av[2])
        elif kind == "SUBPATTERN":
            total += _min_width(av[3])
        elif kind == "ATOMIC_GROUP":
            total += _min_width(av)
        elif kind == "BRANCH":
            total += min(_min_width(alternative) for alternative in av[1])
    return total


def _empty_twice(items: Iterable[tuple[Any, Any]]) -> bool:
    """Whether a backtracking alternation below ``items`` has two branches that can
    both match nothing: `(a|a)*` parses as `a(?:|)`, each round matched two ways."""
    for op, av in items:
        kind = _name(op)
        if kind in _NON_BACKTRACKING:
            continue
        if kind == "BRANCH" and sum(_min_width(alt) == 0 for alt in av[1]) >= 2:
            return True
        if any(_empty_twice(sub) for sub in _subpatterns(kind, av)):
            return True
    return False


def _ambiguous_repeat(items: Iterable[tuple[Any, Any]], ignorecase: bool) -> bool:
    for op, av in items:
        kind = _name(op)
        if kind in _REPEATS and av[1] >= 2:
            body = av[2]
            if _empty_twice(body):
                return True
            variable = _variable_chars(body, ignorecase)
            if variable and not any(s.isdisjoint(variable) for s in _separators(body, ignorecase)):
                return True
        for sub in _subpatterns(kind, av):
            if _ambiguous_repeat(sub, ignorecase):
                return True
    return False


@lru_cache(maxsize=256)
def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is refused (invalid, or exponential), or None when it is fine."""
    try:
        flags = re.compile(pattern).flags
        parsed = _parser.parse(pattern)
        ambiguous = _ambiguous_repeat(parsed.data, bool(flags & re.IGNORECASE))
    except (re.error, RecursionError, OverflowError) as exc:
        return f"is not a valid regular expression ({exc})"
    return PROBLEM if ambiguous else None
