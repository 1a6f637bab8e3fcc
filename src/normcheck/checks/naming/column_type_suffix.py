from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.project import Resource

_BOOLEAN = re.compile(r"^(bool|boolean|bit)\b", re.IGNORECASE)
_TIMESTAMP = re.compile(r"^(timestamp|datetime|timestamptz|timestamp_[a-z]+)", re.IGNORECASE)
_DATE = re.compile(r"^date$", re.IGNORECASE)


class ColumnTypeSuffixOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    boolean_prefixes: Annotated[
        list[str],
        msgspec.Meta(
            description="allowed prefixes of boolean columns", extra={"stricter": "fewer"}
        ),
    ] = msgspec.field(default_factory=lambda: ["is_", "has_", "can_", "should_", "was_", "did_"])
    timestamp_suffixes: Annotated[
        list[str],
        msgspec.Meta(
            description="allowed suffixes of timestamp columns", extra={"stricter": "fewer"}
        ),
    ] = msgspec.field(default_factory=lambda: ["_at"])
    date_suffixes: Annotated[
        list[str],
        msgspec.Meta(description="allowed suffixes of date columns", extra={"stricter": "fewer"}),
    ] = msgspec.field(default_factory=lambda: ["_date"])


def type_class(data_type: str | None) -> str | None:
    """``boolean``, ``timestamp``, ``date`` or None for a warehouse type name."""
    if not data_type:
        return None
    text = data_type.strip()
    if _BOOLEAN.match(text):
        return "boolean"
    if _TIMESTAMP.match(text):
        return "timestamp"
    if _DATE.match(text):
        return "date"
    return None


@rule(
    "naming/column-type-suffix",
    severity="warning",
    targets=["column"],
    options=ColumnTypeSuffixOptions,
    subject_only=True,
)
def column_type_suffix(column: Resource, ctx: Context[ColumnTypeSuffixOptions]) -> Iterator[Hit]:
    """A column whose name hides its type: booleans `is_`…, timestamps `_at`, dates `_date`.

    ## What it finds
    A boolean column not starting with a boolean prefix, a timestamp column not ending
    `_at`, or a date column not ending `_date`. Types come from `catalog.json` when
    present, else from the YAML `data_type`; for a column only the SQL names (with the
    SQL rules on), from its expression's form: a cast, `true`, a comparison or other
    predicate, a date or timestamp function, a CASE whose results share a type, or a
    column passed on from a CTE or subquery that has one.

    ## Why it matters
    A reader should know from the name alone whether `active` is a flag, a date or a
    count, and whether `created` carries a time zone.

    ## Example
    ```sql models/staging/stg_users.sql
    select true as active
    ```
    ```yaml models/staging/_models.yml
    version: 2
    models:
      - name: stg_users
        columns:
          - name: active
            data_type: boolean
    ```

    ## Use instead
    ```sql models/staging/stg_users.sql
    select true as is_active
    ```
    ```yaml models/staging/_models.yml
    version: 2
    models:
      - name: stg_users
        columns:
          - name: is_active
            data_type: boolean
    ```
    """
    kind = type_class(column.data_type)
    if kind is None:  # most columns: no known type, or not one with a naming rule
        return
    name = column.name.lower()
    options = ctx.options
    if kind == "boolean" and not name.startswith(tuple(options.boolean_prefixes)):
        wanted = "start with " + ", ".join(options.boolean_prefixes)
    elif kind == "timestamp" and not name.endswith(tuple(options.timestamp_suffixes)):
        wanted = "end with " + ", ".join(options.timestamp_suffixes)
    elif kind == "date" and not name.endswith(tuple(options.date_suffixes)):
        wanted = "end with " + ", ".join(options.date_suffixes)
    else:
        return
    yield Hit(f"{kind} column `{column.name}` should {wanted}", key=kind or "")
