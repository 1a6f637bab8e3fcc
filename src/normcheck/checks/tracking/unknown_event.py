from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.checks._common import sql_value_line
from normcheck.project import Resource


@rule("tracking/unknown-event", severity="error", targets=["model"])
def unknown_event(model: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """An event name a model's SQL uses that no tracking plan defines.

    ## What it finds
    A string compared (`=`, `<>`, `IN`, a `LIKE` without `%`; case-blind with `ILIKE` or
    `lower(column)`) with a plan's event column (its warehouse
    profile: `event_text` names and `event` slugs for Segment and RudderStack,
    `event_name` for Snowplow, or the configured columns) that is neither an event nor an
    alias of one; and, with `warehouse.source`, a per-event table of that source no
    event matches. A spelling that differs only in case is reported with the planned
    spelling as a hint; so is `lower(column)` (or `upper`) compared with a value that
    has capitals (or small letters), which it can never equal. Snowplow's own events
    (`page_view`, `page_ping`, `struct`, `unstruct`, `transaction`, `transaction_item`),
    which no plan defines, are known under its `event_name`. When every plan names its
    dbt source (`warehouse.source`), only the models that read one of those sources,
    directly or not, are judged: elsewhere a column called `event` is something else.

    ## Why it matters
    A model filtering on an event nobody sends counts nothing, silently; usually it is
    a typo, a renamed event, or an event another team never agreed.

    ## Example
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth, warehouse: {profile: segment}}
    events:
      - name: Order Completed
        description: Buyer finished payment and the order was accepted.
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```
    ```sql models/marts/fct_orders.sql
    {{ config(meta={"owner": "growth"}) }}
    select 1 as order_id from (select 'x' as event_text) t where event_text = 'order completed'
    ```

    ## Use instead
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth, warehouse: {profile: segment}}
    events:
      - name: Order Completed
        description: Buyer finished payment and the order was accepted.
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```
    ```sql models/marts/fct_orders.sql
    {{ config(meta={"owner": "growth"}) }}
    select 1 as order_id from (select 'x' as event_text) t where event_text = 'Order Completed'
    ```
    """
    if ctx.sql is None or not ctx.project.plans:
        return
    from normcheck.tracking.usage import event_usage

    for use in event_usage(ctx.project, ctx.sql).uses:
        if use.model != model.uid or use.event is not None:
            continue
        if use.folded is not None:
            folded = use.value.lower() if use.folded == "lower" else use.value.upper()
            yield Hit(
                f"model `{model.name}` compares `{use.folded}({use.column})` with "
                f"`{use.value}`, which it never equals: compare with `{folded}`, or drop "
                f"`{use.folded}()`",
                key=f"{use.column}:{use.value}",
                where="file",
                line=sql_value_line(model.raw_code, use.value) or 1,
            )
            continue
        via = f"column `{use.column}`" if use.column else "its per-event table"
        hint = f": the plan spells it `{use.hint}`" if use.hint else ": add it to a plan or fix it"
        yield Hit(
            f"model `{model.name}` reads event `{use.value}` ({via}), which no tracking plan "
            f"defines{hint}",
            key=f"{use.column}:{use.value}",
            where="file",
            line=sql_value_line(model.raw_code, use.value) or 1,
        )
