from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.checks.tracking._plans import properties, where
from normcheck.project import Project, Resource
from normcheck.tracking.model import PlanProperty


def _shape(prop: PlanProperty) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return prop.type, tuple(sorted(prop.enum))


def _describe(prop: PlanProperty) -> str:
    kind = "|".join(prop.type) or "untyped"
    return f"{kind} enum {sorted(prop.enum)}" if prop.enum else kind


@rule("tracking/property-type-conflict", severity="error", targets=["project"])
def property_type_conflict(project: Project, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """One property name with different types or enums across events or plans.

    ## What it finds
    Properties of the same name whose `type` or `enum` differ from the first definition
    seen (plans sorted by id). Untyped properties are not compared.

    ## Why it matters
    `order_id` sent as a string by the web and an integer by the app lands in one
    column: the load fails, or worse, silently casts.

    ## Example
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Order Completed
        description: Buyer finished payment and the order was accepted.
        properties:
          - {name: order_id, type: string, description: The order, pii: none}
      - name: Order Refunded
        description: Support refunded the whole order to the buyer.
        properties:
          - {name: order_id, type: integer, description: The order, pii: none}
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```

    ## Use instead
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Order Completed
        description: Buyer finished payment and the order was accepted.
        properties:
          - {name: order_id, type: string, description: The order, pii: none}
      - name: Order Refunded
        description: Support refunded the whole order to the buyer.
        properties:
          - {name: order_id, type: string, description: The order, pii: none}
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```
    """
    first: dict[str, tuple[Resource, PlanProperty]] = {}
    for resource, _plan, prop in properties(project):
        if not prop.type:
            continue
        seen = first.setdefault(prop.name, (resource, prop))
        if _shape(seen[1]) == _shape(prop):
            continue
        yield Hit(
            f"property `{prop.name}` is {_describe(prop)} here but {_describe(seen[1])} at "
            f"{where(seen[0])}: agree one type",
            key=_describe(prop),
            resource=resource,
        )
