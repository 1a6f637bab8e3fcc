"""Acme's own normcheck rules: money is never a float."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.api import Context, Hit, Options, Resource, rule

_FLOAT = re.compile(r"^(float|double|real|float4|float8|double precision)\b", re.IGNORECASE)


class FloatColumnOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    groups: Annotated[
        list[str], msgspec.Meta(description="only models of these groups (empty: every model)")
    ] = msgspec.field(default_factory=list)


@rule("acme/float-column", severity="error", targets=["column"], options=FloatColumnOptions)
def float_column(column: Resource, ctx: Context[FloatColumnOptions]) -> Iterator[Hit]:
    """A column typed float, double or real.

    ## What it finds
    A documented column (or one the catalog types) whose data type is a binary floating
    point type, in the models of the configured `groups`.

    ## Why it matters
    Floats cannot hold 0.10 exactly: sums of money drift by cents, and finance's numbers
    stop reconciling with the ledger.

    ## Example
    ```sql models/marts/fct_payments.sql
    select 1 as payment_id, 9.99::double as amount
    ```
    ```yaml models/marts/_payments.yml
    version: 2
    models:
      - name: fct_payments
        columns:
          - name: amount
            data_type: double
    ```

    ## Use instead
    ```sql models/marts/fct_payments.sql
    select 1 as payment_id, 9.99::decimal(18, 2) as amount
    ```
    ```yaml models/marts/_payments.yml
    version: 2
    models:
      - name: fct_payments
        columns:
          - name: amount
            data_type: decimal(18, 2)
    ```
    """
    if not column.data_type or not _FLOAT.match(column.data_type.strip()):
        return
    if ctx.options.groups and column.group not in ctx.options.groups:
        return
    yield Hit(
        f"column `{column.name}` is `{column.data_type}`: use a decimal type for exact values"
    )
