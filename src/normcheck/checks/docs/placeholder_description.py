from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, ResourceType, rule
from normcheck.checks._common import words
from normcheck.checks.docs.missing_description import DESCRIBED_TYPES
from normcheck.project import Resource


class PlaceholderOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    resource_types: Annotated[
        list[ResourceType],
        msgspec.Meta(
            description="resource types whose descriptions are checked", extra={"stricter": "more"}
        ),
    ] = msgspec.field(
        default_factory=lambda: ["model", "source", "exposure", "metric", "semantic_model", "event"]
    )
    min_words: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            description="descriptions with fewer words are placeholders",
            extra={"stricter": "higher"},
        ),
    ] = 3
    placeholders: Annotated[
        list[str],
        msgspec.Meta(
            description="words that mark a description as unfinished",
            extra={"stricter": "more-words"},
        ),
    ] = msgspec.field(default_factory=lambda: ["todo", "tbd", "fixme", "xxx", "wip"])


_TOKEN = re.compile(r"[A-Za-z0-9]+")


@lru_cache(maxsize=64)
def _placeholder_words(placeholders: tuple[str, ...]) -> frozenset[str]:
    return frozenset(p.lower() for p in placeholders)


def placeholder_reason(name: str, text: str, options: PlaceholderOptions) -> str | None:
    # lower-casing the text first is the same as lower-casing each token only for ASCII
    if text.isascii():
        tokens = _TOKEN.findall(text.lower())
    else:
        tokens = [t.lower() for t in _TOKEN.findall(text)]
    if not tokens:
        return None  # empty: docs/missing-description's business
    marks = sorted(_placeholder_words(tuple(options.placeholders)).intersection(tokens))
    if marks:
        return f"contains `{marks[0].upper()}`"
    if tokens == words(name):
        return "only repeats the name"
    if len(tokens) < options.min_words:
        return f"has fewer than {options.min_words} words"
    return None


@rule(
    "docs/placeholder-description",
    severity="warning",
    targets=DESCRIBED_TYPES,
    options=PlaceholderOptions,
    subject_only=True,
)
def placeholder_description(resource: Resource, ctx: Context[PlaceholderOptions]) -> Iterator[Hit]:
    """A description that is a placeholder: "TODO", "TBD", the name repeated, or too short.

    ## What it finds
    A description containing a placeholder word (`TODO`, `TBD`, `FIXME`…), one that only
    repeats the resource's name (`order_id` → "Order id"), or one with fewer than
    `min_words` words.

    ## Why it matters
    A placeholder passes a "has a description" check while telling the reader nothing;
    it hides the gap instead of closing it.

    ## Example
    ```sql models/staging/stg_orders.sql
    select 1 as order_id
    ```
    ```yaml models/staging/_models.yml
    version: 2
    models:
      - name: stg_orders
        description: TODO
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
    if (
        resource.from_sql
        or resource.type not in ctx.options.resource_types
        or not resource.description
    ):
        return
    reason = placeholder_reason(resource.name, resource.description, ctx.options)
    if reason is None:
        return
    kind = resource.type.replace("_", " ")
    yield Hit(
        f"{kind} `{resource.name}` has a placeholder description that {reason}: "
        "say what one row means and where it comes from",
        yaml_key=("description",),
    )
