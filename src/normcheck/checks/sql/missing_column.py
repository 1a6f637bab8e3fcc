from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.project import Resource


@rule("sql/missing-column", severity="error", targets=["model"])
def missing_column(model: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """A column documented in YAML that the model's SQL does not produce.

    ## What it finds
    A column under the model's `columns:` that is not among the output columns of its
    final SELECT (compared case-blind). Silent when the output cannot be known exactly
    (an unresolvable `*`, an unnamed expression, SQL that does not parse).

    ## Why it matters
    Documentation that promises a column the model does not have misleads every reader
    and every tool that trusts the docs.

    ## Example
    ```sql models/marts/fct_orders.sql
    select 1 as order_id
    ```
    ```yaml models/marts/_models.yml
    version: 2
    models:
      - name: fct_orders
        columns:
          - name: order_id
          - name: amount
    ```

    ## Use instead
    ```sql models/marts/fct_orders.sql
    select 1 as order_id, 10 as amount
    ```
    ```yaml models/marts/_models.yml
    version: 2
    models:
      - name: fct_orders
        columns:
          - name: order_id
          - name: amount
    ```
    """
    produced = ctx.sql.output(model.uid) if ctx.sql else None
    if ctx.sql is None or produced is None:
        return
    missing = ctx.sql.documented(model.uid) - {name.lower() for name, _ in produced}
    for uid in model.columns if missing else ():
        column = ctx.project.resources[uid]
        if column.from_sql or column.name.lower() not in missing:
            continue
        yield Hit(
            f"model `{model.name}` documents column `{column.name}`, which its SQL does not "
            "produce: remove it from the YAML or add it to the select",
            key=column.name.lower(),
            resource=column,
        )
