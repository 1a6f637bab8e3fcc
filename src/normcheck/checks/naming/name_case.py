from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, ResourceType, rule
from normcheck.checks._common import CaseName, Regex, case_problem
from normcheck.project import Resource

NAMED_TYPES: list[ResourceType] = [
    "model",
    "seed",
    "snapshot",
    "source",
    "exposure",
    "metric",
    "semantic_model",
    "macro",
    "group",
]


class NameCaseOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    case: CaseName = "snake_case"
    pattern: Annotated[
        Regex | None, msgspec.Meta(description="a regular expression instead of `case`")
    ] = None
    resource_types: Annotated[
        list[ResourceType],
        msgspec.Meta(
            description="resource types whose names are checked", extra={"stricter": "more"}
        ),
    ] = msgspec.field(default_factory=lambda: list(NAMED_TYPES))


@rule(
    "naming/name-case",
    severity="error",
    targets=NAMED_TYPES,
    options=NameCaseOptions,
    subject_only=True,
)
def name_case(resource: Resource, ctx: Context[NameCaseOptions]) -> Iterator[Hit]:
    """A resource name off the configured case (default snake_case).

    ## What it finds
    A model, seed, snapshot, source table, exposure, metric, semantic model, macro or
    group whose name does not follow the convention (`case`, or a `pattern`).

    ## Why it matters
    Mixed conventions force every query author to remember quoting and spelling per
    relation; one convention makes names guessable.

    ## Example
    ```sql models/staging/stg_OrderItems.sql
    select 1 as order_item_id
    ```

    ## Use instead
    ```sql models/staging/stg_order_items.sql
    select 1 as order_item_id
    ```
    """
    options = ctx.options
    if resource.type not in options.resource_types:
        return
    kind = resource.type.replace("_", " ")
    message = case_problem(kind, resource.name, options.case, options.pattern)
    if message is not None:
        # the file whose name is the name (its top; a macro's own line in its file), but
        # a snapshot declared in YAML (dbt 1.9+) is its entry there
        named_by_file = resource.file != resource.yaml_file
        kinds = ("model", "seed", "snapshot", "macro")
        where = "file" if resource.type in kinds and named_by_file else "auto"
        yield Hit(message, where=where)
