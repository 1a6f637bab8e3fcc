from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, ResourceType, rule
from normcheck.project import Resource

OWNED_TYPES = [
    "model",
    "source",
    "exposure",
    "metric",
    "semantic_model",
    "seed",
    "snapshot",
    "event",
]


class MissingOwnerOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    resource_types: Annotated[
        list[ResourceType],
        msgspec.Meta(
            description="resource types that must have an owner", extra={"stricter": "more"}
        ),
    ] = msgspec.field(
        default_factory=lambda: ["model", "source", "exposure", "metric", "semantic_model", "event"]
    )


@rule(
    "ownership/missing-owner",
    severity="error",
    targets=OWNED_TYPES,
    options=MissingOwnerOptions,
    subject_only=True,
)
def missing_owner(resource: Resource, ctx: Context[MissingOwnerOptions]) -> Iterator[Hit]:
    """A resource nobody owns.

    ## What it finds
    A model, source, exposure, metric or semantic model (configurable) with no owner.
    The owner is `config.meta.owner`, then `meta.owner`, then the owner of the
    resource's group; for exposures also their `owner:` name or email.

    ## Why it matters
    Without an owner nobody answers when the data is wrong, nobody approves a change,
    and nobody retires it.

    ## Example
    ```sql models/staging/stg_orders.sql
    select 1 as order_id
    ```

    ## Use instead
    ```sql models/staging/stg_orders.sql
    {{ config(meta={"owner": "growth"}) }}
    select 1 as order_id
    ```
    """
    if resource.type not in ctx.options.resource_types or resource.owner:
        return
    kind = resource.type.replace("_", " ")
    if resource.type in _PLANNED:  # a tracking plan's event or property
        fix = "set `owner:` on the event or on the plan"
    else:
        fix = "set `meta.owner` (or put it in a group that has one)"
    yield Hit(f"{kind} `{resource.name}` has no owner: {fix}", yaml_key=("meta", "owner"))


_PLANNED = frozenset({"event", "property"})
