from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.project import Resource


@rule("tracking/unused-event", severity="info", targets=["event"])
def unused_event(event: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """A planned event no model reads.

    ## What it finds
    An event (not deprecated) that no model's SQL compares with the event column or reads
    through its per-event table. Judged only when the SQL is analysed.

    ## Why it matters
    Every tracked event costs instrumentation, storage and privacy review; one nobody
    models is either missing from the warehouse models or not worth sending.

    ## Example
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Banner Viewed
        description: A visitor saw the home page banner for at least a second.
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```
    ```sql models/marts/fct_views.sql
    {{ config(meta={"owner": "growth"}) }}
    select 1 as view_id
    ```

    ## Use instead
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Banner Viewed
        description: A visitor saw the home page banner for at least a second.
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```
    ```sql models/marts/fct_views.sql
    {{ config(meta={"owner": "growth"}) }}
    select 1 as view_id from (select 'x' as event_text) t where event_text = 'Banner Viewed'
    ```
    """
    if ctx.sql is None:
        return
    found = ctx.project.plan_items.get(event.uid)
    if found is None or getattr(found[1], "status", "") == "deprecated":
        return
    from normcheck.tracking.usage import event_usage

    if event.uid in event_usage(ctx.project, ctx.sql).read:
        return
    yield Hit(f"event `{event.name}` is read by no model: model it, or drop it from the plan")
