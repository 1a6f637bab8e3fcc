from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.checks._common import code_line
from normcheck.checks.ownership.missing_owner import OWNED_TYPES
from normcheck.project import Resource, registered_team


@rule("ownership/unknown-owner", severity="error", targets=OWNED_TYPES, subject_only=True)
def unknown_owner(resource: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """An owner that is not in the `owners:` registry.

    ## What it finds
    A resource whose resolved owner is neither a key of the configuration's `owners:`
    registry nor the email of one. Silent when the registry is empty.

    ## Why it matters
    Owners drift: teams are renamed, people leave. An owner outside the registry is
    as good as none, because nobody can be reached through it.

    ## Example
    ```yaml normcheck.yml
    owners: {growth: {email: growth@example.com}}
    ```
    ```sql models/staging/stg_orders.sql
    {{ config(meta={"owner": "growht"}) }}
    select 1 as order_id
    ```

    ## Use instead
    ```yaml normcheck.yml
    owners: {growth: {email: growth@example.com}}
    ```
    ```sql models/staging/stg_orders.sql
    {{ config(meta={"owner": "growth"}) }}
    select 1 as order_id
    ```
    """
    owner = resource.owner
    if not owner or not ctx.owners or registered_team(owner, ctx.owners) is not None:
        return
    teams = ", ".join(sorted(ctx.owners))
    kind = resource.type.replace("_", " ")
    yield Hit(
        f"{kind} `{resource.name}` has owner `{owner}`, which is not in the owners "
        f"registry: use one of {teams}",
        key=owner,
        yaml_key=("meta", "owner"),
        line=code_line(resource.raw_code, owner),
    )
