from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck._glob import match_any
from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.project import Resource


class GroupRequiredOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    paths: Annotated[
        list[str],
        msgspec.Meta(
            description="globs of the model files that must belong to a group",
            extra={"stricter": "more"},
        ),
    ] = msgspec.field(default_factory=lambda: ["models/marts/**"])


@rule(
    "governance/group-required",
    severity="warning",
    targets=["model"],
    options=GroupRequiredOptions,
    subject_only=True,
)
def group_required(model: Resource, ctx: Context[GroupRequiredOptions]) -> Iterator[Hit]:
    """A model under the configured paths that belongs to no group.

    ## What it finds
    A model whose file matches one of `paths` (default `models/marts/**`) and that has
    no `group`.

    ## Why it matters
    Groups are how dbt ties models to an owning team and limits who may reference
    private models; a mart outside every group has neither.

    ## Example
    ```sql models/marts/fct_orders.sql
    select 1 as order_id
    ```

    ## Use instead
    ```yaml models/marts/_groups.yml
    version: 2
    groups:
      - name: finance
        owner: {name: Finance, email: finance@example.com}
    ```
    ```sql models/marts/fct_orders.sql
    {{ config(group="finance") }}
    select 1 as order_id
    ```
    """
    if model.group or not match_any(model.file, ctx.options.paths):
        return
    yield Hit(
        f"model `{model.name}` belongs to no group: set `config: {{group: ...}}` "
        "to the owning team's group",
        yaml_key=("config",),
    )
