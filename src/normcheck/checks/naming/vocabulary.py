from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, ResourceType, rule
from normcheck.checks._common import words
from normcheck.project import Resource

VOCABULARY_TYPES: list[ResourceType] = [
    "model",
    "seed",
    "snapshot",
    "source",
    "exposure",
    "metric",
    "semantic_model",
    "column",
    "event",
    "property",
]


class VocabularyOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    resource_types: Annotated[
        list[ResourceType],
        msgspec.Meta(
            description="resource types whose names are checked", extra={"stricter": "more"}
        ),
    ] = msgspec.field(default_factory=lambda: list(VOCABULARY_TYPES))


@rule(
    "naming/vocabulary",
    severity="warning",
    targets=VOCABULARY_TYPES,
    options=VocabularyOptions,
    subject_only=True,
)
def vocabulary(resource: Resource, ctx: Context[VocabularyOptions]) -> Iterator[Hit]:
    """A name with a banned word or a non-preferred synonym from the controlled vocabulary.

    ## What it finds
    A name one of whose words (split on `_`, `-` and camelCase) is in `vocabulary.banned`,
    or is a key of `vocabulary.preferred` (`cust_id` when `cust: customer` is preferred).
    The vocabulary is the top-level `vocabulary:` of the configuration.

    ## Why it matters
    `amt`, `amount` and `revenue` for one idea split every metric three ways; a
    controlled vocabulary keeps one word per concept across teams.

    ## Example
    ```yaml normcheck.yml
    vocabulary: {preferred: {cust: customer}, banned: [tmp]}
    ```
    ```sql models/staging/stg_cust.sql
    select 1 as id
    ```

    ## Use instead
    ```yaml normcheck.yml
    vocabulary: {preferred: {cust: customer}, banned: [tmp]}
    ```
    ```sql models/staging/stg_customer.sql
    select 1 as id
    ```
    """
    banned = ctx.vocabulary.banned
    preferred = ctx.vocabulary.preferred
    if not (banned or preferred) or resource.type not in ctx.options.resource_types:
        return
    parts = words(resource.name)
    kind = resource.type.replace("_", " ")
    for word in sorted(set(parts) & set(banned)):
        yield Hit(
            f"{kind} `{resource.name}` uses the banned word `{word}`: rename it",
            key=f"banned:{word}",
        )
    for word in sorted(set(parts) & set(preferred)):
        better = "_".join(preferred[w] if w == word else w for w in parts)
        yield Hit(
            f"{kind} `{resource.name}` uses `{word}` where the vocabulary prefers "
            f"`{preferred[word]}`: rename it to `{better}`",
            key=f"preferred:{word}",
        )
