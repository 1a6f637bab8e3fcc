from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.project import Resource


@rule("sql/parse-error", severity="warning", targets=["model"])
def parse_error(model: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """Model SQL that sqlglot cannot parse in the project's dialect.

    ## What it finds
    A model whose SQL (its `compiled_code`, or its Jinja rendered by normcheck) does not
    parse in the dialect of the manifest's adapter (or `dialect:`). The other rules still
    run on the model; the SQL rules simply have nothing to read.

    ## Why it matters
    SQL that no parser reads cannot be linted, linted for lineage, or moved to another
    warehouse; often it is also SQL that only works by accident.

    ## Example
    ```sql models/staging/stg_orders.sql
    select (order_id, amount from {{ source('shop', 'orders') }}
    ```
    ```yaml models/staging/_sources.yml
    version: 2
    sources:
      - name: shop
        tables: [{name: orders}]
    ```

    ## Use instead
    ```sql models/staging/stg_orders.sql
    select order_id, amount from {{ source('shop', 'orders') }}
    ```
    ```yaml models/staging/_sources.yml
    version: 2
    sources:
      - name: shop
        tables: [{name: orders}]
    ```
    """
    facts = ctx.sql.of(model.uid) if ctx.sql else None
    if facts is None or facts.error is None:
        return
    dialect = ctx.sql.dialect if ctx.sql and ctx.sql.dialect else "generic"
    yield Hit(
        f"model `{model.name}` does not parse as {dialect} SQL: {facts.error}",
        where="file",
        line=facts.error_line or 1,
    )
