from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.checks._common import CaseName, Regex, case_problem
from normcheck.project import Resource


class PropertyNameOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    case: CaseName = "snake_case"
    pattern: Annotated[
        Regex | None, msgspec.Meta(description="a regular expression instead of `case`")
    ] = None


@rule(
    "naming/property-name",
    severity="warning",
    targets=["property"],
    options=PropertyNameOptions,
    subject_only=True,
)
def property_name(prop: Resource, ctx: Context[PropertyNameOptions]) -> Iterator[Hit]:
    """An event property whose name is off the convention (default snake_case).

    ## What it finds
    A property of a tracking-plan event, or of the plan's shared catalogue, whose name
    does not follow `case` (or `pattern`).

    ## Why it matters
    `workspaceId`, `workspace_id` and `workspace id` land as three warehouse columns for
    one idea; one case keeps properties joinable.

    ## Example
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Order Completed
        description: Buyer finished payment and the order was accepted.
        properties:
          - {name: orderId, type: string, description: The order, pii: none}
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
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```
    """
    options = ctx.options
    message = case_problem("property", prop.name, options.case, options.pattern)
    if message is not None:
        yield Hit(message)
