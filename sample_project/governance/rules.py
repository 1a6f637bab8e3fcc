"""The central data team's own rules, in Python (see docs/writing-rules.md).

Listed under `plugins:` in governance/central.yml; written with the same decorator
and types as normcheck's built-in rules, in the team's own `jaffle/` namespace."""

from __future__ import annotations

from collections.abc import Iterator

from normcheck.api import Context, Hit, NoOptions, Resource, layer_of, rule


@rule("jaffle/mart-materialization", severity="warning", targets=["model"])
def mart_materialization(model: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """A mart that is not materialized as a table.

    ## What it finds
    A model in the `marts` layer whose materialization is not `table` or `incremental`.

    ## Why it matters
    Dashboards read marts all day: a view re-runs its whole lineage on every query and
    makes the BI tool slow and the warehouse bill high.

    ## Example
    ```sql models/marts/fct_orders.sql
    {{ config(materialized="view") }}
    select 1 as order_id
    ```

    ## Use instead
    ```sql models/marts/fct_orders.sql
    {{ config(materialized="table") }}
    select 1 as order_id
    ```
    """
    layer = layer_of(model, ctx.layers)
    if layer is None or layer.name != "marts":
        return
    if model.materialized in ("table", "incremental"):
        return
    yield Hit(
        f"mart `{model.name}` is materialized as `{model.materialized}`: make it a table "
        "(or incremental) so dashboards do not re-run its lineage",
        where="file",
        line=1,
    )
