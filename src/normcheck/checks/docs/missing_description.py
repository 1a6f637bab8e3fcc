from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, ResourceType, rule
from normcheck.project import Resource

DESCRIBED_TYPES = [
    "model",
    "seed",
    "snapshot",
    "source",
    "exposure",
    "metric",
    "semantic_model",
    "macro",
    "group",
    "column",
    "event",
    "property",
]


class MissingDescriptionOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    resource_types: Annotated[
        list[ResourceType],
        msgspec.Meta(
            description="resource types that must be described", extra={"stricter": "more"}
        ),
    ] = msgspec.field(
        default_factory=lambda: [
            "model",
            "source",
            "exposure",
            "metric",
            "semantic_model",
            "event",
            "property",
        ]
    )
    min_length: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            description="fewer characters than this count as missing",
            extra={"stricter": "higher"},
        ),
    ] = 1
    null_values: Annotated[
        list[str],
        msgspec.Meta(
            description="texts that count as no description (compared case-blind)",
            extra={"stricter": "more"},
        ),
    ] = msgspec.field(default_factory=lambda: ["none", "null", "n/a", "na", "-"])


def is_missing(description: str | None, options: MissingDescriptionOptions) -> bool:
    text = (description or "").strip()
    nulls = {value.lower() for value in options.null_values}
    return len(text) < options.min_length or text.lower() in nulls


@rule(
    "docs/missing-description",
    severity="warning",
    targets=DESCRIBED_TYPES,
    options=MissingDescriptionOptions,
    subject_only=True,
)
def missing_description(
    resource: Resource, ctx: Context[MissingDescriptionOptions]
) -> Iterator[Hit]:
    """A resource with no description.

    ## What it finds
    A resource of the configured types (models, sources, exposures, metrics and
    semantic models by default; add `column`, `seed`, `macro`… as you like) whose
    description is empty, shorter than `min_length`, or a null word such as `n/a`.

    ## Why it matters
    The description is what dbt docs, the catalogue and every BI tool show; without it
    people guess what a relation means, and guess differently.

    ## Example
    ```sql models/staging/stg_orders.sql
    select 1 as order_id
    ```

    ## Use instead
    ```sql models/staging/stg_orders.sql
    select 1 as order_id
    ```
    ```yaml models/staging/_models.yml
    version: 2
    models:
      - name: stg_orders
        description: One row per order placed in the web shop.
    ```
    """
    if resource.from_sql or resource.type not in ctx.options.resource_types:
        return
    if not is_missing(resource.description, ctx.options):
        return
    kind = resource.type.replace("_", " ")
    yield Hit(
        f"{kind} `{resource.name}` has no description: add `description:` to its YAML",
        yaml_key=("description",),
    )
