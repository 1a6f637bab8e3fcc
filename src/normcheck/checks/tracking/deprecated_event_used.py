from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.checks._common import sql_value_line
from normcheck.project import Resource


@rule("tracking/deprecated-event-used", severity="warning", targets=["model"])
def deprecated_event_used(model: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """A model's SQL that reads an event the tracking plan marks deprecated.

    ## What it finds
    A model that compares the event column with (or reads the per-event table of) an event
    whose plan entry says `status: deprecated`; the hint names its `replaced_by`.

    ## Why it matters
    Deprecated events stop arriving: a model built on one decays into zeros while its
    dashboard still looks alive.

    ## Example
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Order Completed
        description: Buyer finished payment and the order was accepted.
      - name: Purchase Made
        description: The old name of the purchase event, kept for history.
        status: deprecated
        replaced_by: Order Completed
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```
    ```sql models/marts/fct_orders.sql
    {{ config(meta={"owner": "growth"}) }}
    select 1 as order_id from (select 'x' as event_text) t where event_text = 'Purchase Made'
    ```

    ## Use instead
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Order Completed
        description: Buyer finished payment and the order was accepted.
      - name: Purchase Made
        description: The old name of the purchase event, kept for history.
        status: deprecated
        replaced_by: Order Completed
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
        if use.model != model.uid:
            continue
        for plan, event in use.events:  # all the events the value reads
            if event.status != "deprecated":
                continue
            instead = f": use `{event.replaced_by}`" if event.replaced_by else ""
            yield Hit(
                f"model `{model.name}` reads event `{event.name}`, deprecated in plan "
                f"`{plan.id}`{instead}",
                key=f"{plan.id}:{event.name}",
                where="file",
                line=sql_value_line(model.raw_code, use.value) or 1,
            )
