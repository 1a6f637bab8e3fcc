"""The SQL analysis' plain parts, which need neither sqlglot nor Jinja: the
facts a parse yields, what rendering a model takes, dialect names, relation
names. They cross between the checking process and its parse workers; the
checking process itself imports neither sqlglot nor jinja2 for them."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

DIALECTS = {
    "athena": "athena",
    "exasol": "exasol",
    "greenplum": "postgres",  # Postgres underneath
    "singlestore": "singlestore",
    "bigquery": "bigquery",
    "clickhouse": "clickhouse",
    "databricks": "databricks",
    "doris": "doris",
    "dremio": "dremio",
    "duckdb": "duckdb",
    "fabric": "fabric",
    "glue": "spark",
    "hive": "hive",
    "materialize": "materialize",
    "mysql": "mysql",
    "oracle": "oracle",
    "postgres": "postgres",
    "redshift": "redshift",
    "risingwave": "risingwave",
    "snowflake": "snowflake",
    "spark": "spark",
    "sqlite": "sqlite",
    "sqlserver": "tsql",
    "starburst": "trino",
    "starrocks": "starrocks",
    "synapse": "tsql",
    "teradata": "teradata",
    "trino": "trino",
    "tsql": "tsql",
    "presto": "presto",
}


def dialect_for(name: str | None) -> str:
    """sqlglot's dialect for a dbt adapter type or a configured dialect ("" = generic)."""
    if not name:
        return ""
    return DIALECTS.get(name.lower(), name.lower() if name.lower() in DIALECTS.values() else "")


class Item(msgspec.Struct, frozen=True, array_like=True):
    """One output column, or a star over a relation (``star``: its normalised name)."""

    name: str
    type: str | None = None
    star: str | None = None
    excluded: list[str] = []
    line: int | None = None  # of the rendered SQL: where the select names it (or its star)


class Facts(msgspec.Struct, frozen=True):
    error: str | None = None
    error_line: int | None = None
    items: list[Item] | None = None  # None: the output cannot be known
    tables: list[str] = []
    table_lines: dict[str, int] = {}  # each table's first line in the rendered SQL
    star: bool = False
    comparisons: dict[str, list[str]] = {}  # column name -> string literals compared with it
    # the same, compared whatever the case: `ilike 'x'`, `lower(column) = 'x'`
    case_blind: dict[str, list[str]] = {}
    # compared through `lower()` / `upper()` with a literal in the other case, which
    # never holds: `lower(event_text) = 'Order Completed'`
    never: dict[str, list[tuple[str, str]]] = {}  # column -> (lower or upper, literal)


# the schema of what a ref() or source() the manifest does not know renders to (a
# branch of the model's Jinja dbt did not take, as `var()` decided when it parsed)
UNRESOLVED = "__normcheck_unresolved__"
# dbt's name of an ephemeral model: what `ref()` to it (and its `{{ this }}`) renders
# to, and the CTE dbt's compiled code defines it as
EPHEMERAL_PREFIX = "__dbt__cte__"


def relation_key(parts: list[str]) -> str:
    """Normalised dotted name: unquoted, lower case, empty parts dropped."""
    return ".".join(p.strip('"`[]').lower() for p in parts if p)


@functools.lru_cache(maxsize=1 << 16)  # each model's parents' names, again for every model
def parse_relation(text: str) -> str:
    """Normalise a manifest `relation_name` such as ``"db"."schema"."table"``."""
    parts = re.findall(r'"([^"]*)"|`([^`]*)`|\[([^\]]*)\]|([^.]+)', text)
    return relation_key(["".join(p) for p in parts])


# sqlglot parses about half a megabyte a second: a bigger model is reported, not parsed.
MAX_SQL_CHARS = 2_000_000


def too_big(sql: str) -> Facts | None:
    """The parse-error fact of SQL longer than MAX_SQL_CHARS, else None."""
    if len(sql) <= MAX_SQL_CHARS:
        return None
    return Facts(
        error=f"the SQL has {len(sql):,} characters, more than the {MAX_SQL_CHARS:,} "
        "normcheck parses"
    )


class MacroSource(msgspec.Struct, frozen=True):
    package: str
    name: str
    sql: str


class RenderInput(msgspec.Struct, frozen=True):
    """What rendering one model needs from the manifest (a struct: thousands
    are sent to the parse workers, in msgpack)."""

    name: str
    package: str
    raw_code: str
    config: Mapping[str, object]
    relation: str


Job = tuple[str, str, RenderInput | None]  # uid, compiled SQL (or ""), what to render


@dataclass(frozen=True)
class ParseContext:
    """What every model of one project is rendered and parsed with."""

    dialect: str
    root: str
    adapter: str
    macros: tuple[MacroSource, ...]
    variables: Mapping[str, object]
    refs: Mapping[tuple[str | None, str, str | None], str]


def nearest(lines: list[int], line: int | None) -> int | None:
    """Of ``lines`` (ascending), the nearest to ``line`` (the earlier of two as
    near; the first when ``line`` is None)."""
    if not lines:
        return None
    if line is None:
        return lines[0]
    return min(lines, key=lambda number: (abs(number - line), number))


class WordLines:
    """The lines where a word is (whole word, any case) in a model's ``code``,
    and of those the nearest to the line the rendered SQL has it on (rendering
    keeps most lines where they are; a macro's output or a Jinja comment moves
    the rest a little), or the first. Indexed once per model: searching the
    code again for each of its columns or tables is quadratic, minutes on a
    1 MB model with 60,000 columns."""

    def __init__(self, code: str) -> None:
        self.code = code
        self._texts: list[str] | None = None
        self._index: dict[str, list[int]] | None = None

    def line_near(self, word: str, line: int | None) -> int | None:
        if self._texts is None:
            self._texts = self.code.splitlines()
        if word == "*" or _WORD.fullmatch(word):
            if self._index is None:
                index: dict[str, list[int]] = {}
                for number, text in enumerate(self._texts, 1):
                    for found in {w.lower() for w in _WORD.findall(text)}:
                        index.setdefault(found, []).append(number)
                    if "*" in text:
                        index.setdefault("*", []).append(number)
                self._index = index
            return nearest(self._index.get(word.lower(), []), line)
        # a quoted name with other characters: searched for, in the lines split once
        pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", re.I)
        return nearest([n for n, t in enumerate(self._texts, 1) if pattern.search(t)], line)


_WORD = re.compile(r"[A-Za-z0-9_]+")
