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
_CASE_RES = {name: re.compile(pattern) for name, pattern in CASES.items()}

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
    compiled = _CASE_RES.get(case) if pattern is None else None
    if compiled is None:
        compiled = _compiled(pattern or CASES[case])
    return compiled.search(name) is not None


def convention(case: str, pattern: str | None) -> str:
    return f"the pattern `{pattern}`" if pattern else case


def case_problem(kind: str, name: str, case: str, pattern: str | None) -> str | None:
    """The message for a name off its case convention, or None when it fits."""
    if fits_case(name, case, pattern):
        return None
    hint = ""
    if case == "snake_case" and not pattern:
        spelled = _ascii(name)
        example = to_snake(spelled)
        if spelled.isascii() and fits_case(example, case):
            hint = f" (for example `{example}`)"
        else:  # a letter with no ASCII spelling: an example would drop it
            hint = " with ASCII letters, digits and `_`"
    return f"{kind} `{name}` is not {convention(case, pattern)}: rename it{hint}"


def _ascii(name: str) -> str:
    """The name with its letters spelled in ASCII where they can be (`café` ->
    `cafe`, `Straße` -> `Strasse`); the others kept as they are."""
    import unicodedata

    if name.isascii():
        return name
    out = []
    for char in unicodedata.normalize("NFKD", name):
        if unicodedata.combining(char):
            continue  # the accent of a decomposed letter
        if not char.isascii():
            folded = char.casefold()
            if folded.isascii():  # ß -> ss
                char = folded.capitalize() if char.isupper() else folded
        out.append(char)
    return "".join(out)


_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words(name: str) -> list[str]:
    """``orderAmt_usd`` -> ``['order', 'amt', 'usd']``."""
    return [w.lower() for w in _WORD_RE.findall(name)]


def to_snake(name: str) -> str:
    return "_".join(words(name))


# id(layers tuple) -> (the tuple, file -> its layer): several rules ask for every
# model and its parents (100,000 questions in a 20,000-model project)
_LAYER_MEMO: dict[int, tuple[tuple[Layer, ...], dict[str, Layer | None]]] = {}


def layer_of(resource: Resource, layers: Iterable[Layer]) -> Layer | None:
    """The first configured layer whose paths contain the resource's file."""
    if not isinstance(layers, tuple):
        return _first_layer(resource.file, layers)
    entry = _LAYER_MEMO.get(id(layers))
    if entry is None or entry[0] is not layers:
        if len(_LAYER_MEMO) >= 64:
            _LAYER_MEMO.clear()
        entry = _LAYER_MEMO[id(layers)] = (layers, {})
    known = entry[1]
    file = resource.file
    if file not in known:
        known[file] = _first_layer(file, layers)
    return known[file]


def _first_layer(file: str, layers: Iterable[Layer]) -> Layer | None:
    for layer in layers:
        if match_any(file, layer.paths):
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


_SQL_MASKED = re.compile(
    r"'(?:[^']|'')*'"  # a string literal: kept (a `--` inside it is text)
    r'|"(?:[^"]|"")*"'
    r"|--[^\n]*"  # comments: blanked
    r"|/\*.*?(?:\*/|$)"
    r"|\{#.*?(?:#\}|$)",
    re.DOTALL,
)
_COMPARED = re.compile(r"(?:=|<|>|\blike|\bilike)\s*$", re.IGNORECASE)
_IN_LIST = re.compile(r"\bin\s*$", re.IGNORECASE)


def _blank_comments(code: str) -> str:
    """``code`` with its SQL (``--``, ``/* */``) and Jinja (``{# #}``) comments
    replaced by spaces, line breaks kept, so offsets and lines stay."""

    def blank(match: re.Match[str]) -> str:
        text = match.group()
        if text[0] in "'\"":
            return text
        return re.sub(r"[^\n]", " ", text)

    return _SQL_MASKED.sub(blank, code)


def _in_list(code: str, quote: int) -> bool:
    """Whether the literal starting at ``quote`` is an item of an ``IN (...)`` list."""
    depth = 0
    for i in range(quote - 1, max(-1, quote - 5000), -1):
        char = code[i]
        if char == ")":
            depth += 1
        elif char == "(":
            if depth == 0:
                return _IN_LIST.search(code[max(0, i - 20) : i]) is not None
            depth -= 1
        elif char == ";":
            return False
    return False


def sql_value_line(code: str, value: str) -> int | None:
    """The 1-based line where SQL ``code`` uses the string ``value``: never in a
    comment, and a quoted occurrence in a comparison (``= 'x'``, ``in ('x', ...)``,
    ``like 'x'``) before any other quoted one, before a bare one."""
    masked = _blank_comments(code)
    best: tuple[int, int] | None = None  # (rank, offset): 0 compared, 1 quoted, 2 bare
    for match in re.finditer(re.escape(value), masked):
        start, end = match.start(), match.end()
        before = masked[start - 1 : start]
        quoted = before in ("'", '"') and masked[end : end + 1] == before
        if quoted and (
            _COMPARED.search(masked[max(0, start - 41) : start - 1]) or _in_list(masked, start - 1)
        ):
            rank = 0
        elif quoted:
            rank = 1
        else:
            rank = 2
        if best is None or rank < best[0]:
            best = (rank, start)
        if rank == 0:
            break
    if best is None:
        return code_line(code, value)
    return masked.count("\n", 0, best[1]) + 1


def backticks(items: Iterable[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)


def model_label(model: Resource, seen_from: str | None = None) -> str:
    """A model as a message names it: with its version (`dim_accounts` v1 and v2 are
    two models), and its project when it is not ``seen_from``'s."""
    name = model.name
    if seen_from is not None and model.package not in ("", seen_from):
        name = f"{model.package}.{name}"
    return f"{name} v{model.version}" if model.version else name
