from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, rule
from normcheck.checks.sql._layers import LayerScopedOptions, in_scope
from normcheck.project import Resource


@rule("sql/undocumented-column", severity="warning", targets=["model"], options=LayerScopedOptions)
def undocumented_column(model: Resource, ctx: Context[LayerScopedOptions]) -> Iterator[Hit]:
    """A column the model's SQL produces that its YAML does not document.

    ## What it finds
    In the configured `layers` (default marts), each output column of the final SELECT
    (stars resolved from upstream models where their columns are known) with no entry
    under the model's `columns:`. Silent when the output cannot be known exactly.

    ## Why it matters
    Consumers read the YAML, not the SQL: an undocumented column is one nobody has
    agreed the meaning of.

    ## Example
    ```sql models/marts/fct_orders.sql
    select 1 as order_id, 10 as amount
    ```
    ```yaml models/marts/_models.yml
    version: 2
    models:
      - name: fct_orders
        columns:
          - name: order_id
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
    if ctx.sql is None or not in_scope(model, ctx):
        return
    for uid in model.columns:
        column = ctx.project.resources[uid]
        if column.from_sql:
            yield Hit(
                f"model `{model.name}` produces column `{column.name}`, which its YAML does "
                "not document: add it under `columns:`",
                key=column.name.lower(),
                where="file",
                line=column.line or 1,
                resource=column,
            )
