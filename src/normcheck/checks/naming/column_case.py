from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.checks._common import CaseName, Regex, case_problem, fits_case
from normcheck.project import Resource


class ColumnCaseOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    case: CaseName = "snake_case"
    pattern: Annotated[
        Regex | None, msgspec.Meta(description="a regular expression instead of `case`")
    ] = None


@rule(
    "naming/column-case",
    severity="warning",
    targets=["column"],
    options=ColumnCaseOptions,
    subject_only=True,
)
def column_case(column: Resource, ctx: Context[ColumnCaseOptions]) -> Iterator[Hit]:
    """A column name off the configured case (default snake_case).

    ## What it finds
    A column documented in a properties YAML file whose name does not follow the
    convention (`case`, or a `pattern`).

    ## Why it matters
    Columns are what analysts type most; `CustomerID`, `customerId` and `customer_id`
    in one warehouse mean quoting, guessing and broken joins.

    ## Example
    ```sql models/staging/stg_customers.sql
    select 1 as "customerId"
    ```
    ```yaml models/staging/_models.yml
    version: 2
    models:
      - name: stg_customers
        columns:
          - name: customerId
    ```

    ## Use instead
    ```sql models/staging/stg_customers.sql
    select 1 as customer_id
    ```
    ```yaml models/staging/_models.yml
    version: 2
    models:
      - name: stg_customers
        columns:
          - name: customer_id
    ```
    """
    options = ctx.options
    if fits_case(column.name, options.case, options.pattern):  # the common case, first
        return
    message = case_problem("column", column.name, options.case, options.pattern)
    if message is not None:
        yield Hit(message)
