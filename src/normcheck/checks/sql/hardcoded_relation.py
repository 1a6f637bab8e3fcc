from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.checks._common import code_line
from normcheck.project import Resource
from normcheck.sqlfacts import UNRESOLVED, WordLines


@rule("sql/hardcoded-relation", severity="error", targets=["model"])
def hardcoded_relation(model: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """A relation referenced by name instead of `ref()` or `source()`.

    ## What it finds
    A table or view in a model's SQL that is neither a CTE nor one of the relations its
    `ref()` and `source()` calls resolve to.

    ## Why it matters
    dbt only knows the dependencies it is told about: a hard-coded name breaks lineage,
    build order, environments (dev writes to prod) and impact analysis.

    ## Example
    ```sql models/staging/stg_orders.sql
    select order_id from raw.shop.orders
    ```

    ## Use instead
    ```sql models/staging/stg_orders.sql
    select order_id from {{ source('shop', 'orders') }}
    ```
    ```yaml models/staging/_sources.yml
    version: 2
    sources:
      - name: shop
        schema: raw
        tables: [{name: orders}]
    ```
    """
    facts = ctx.sql.of(model.uid) if ctx.sql else None
    if ctx.sql is None or facts is None or facts.error is not None:
        return
    known = ctx.sql.known_relations(model)
    short = {k.rsplit(".", 1)[-1] for k in known}
    words = WordLines(model.raw_code)  # the model's lines, split and indexed once
    for table in facts.tables:
        name = table.rsplit(".", 1)[-1]
        if (
            table in known
            or (table == name and name in short)
            or name.startswith("__dbt__cte__")
            or table.startswith(f"{UNRESOLVED}.")  # a ref() or source(), though unknown
        ):
            continue
        yield Hit(
            f"model `{model.name}` reads `{table}` by name: use ref() or source() so dbt "
            "knows the dependency",
            key=table,
            where="file",
            line=words.line_near(name, facts.table_lines.get(table))
            or code_line(model.raw_code.lower(), name)
            or 1,
        )
