from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.checks.tracking._plans import properties, where
from normcheck.project import Project, Resource
from normcheck.tracking.names import slug


@rule("tracking/duplicate-property", severity="warning", targets=["project"])
def duplicate_property(project: Project, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """Property names that collide once normalised (`workspaceId` / `workspace_id`).

    ## What it finds
    Across every plan, properties whose names differ but are the same once case,
    separators and camelCase are folded. The spelling used most often (on a tie, the
    snake_case one, then the first alphabetically) is taken as the agreed one; every
    other spelling is reported.

    ## Why it matters
    Spellings that differ only in case and separators land in one warehouse column, or
    in several that should have been one; either way joins and dashboards break.

    ## Example
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Workspace Created
        description: Someone created a new workspace for their team.
        properties:
          - {name: workspace_id, type: string, description: The workspace, pii: none}
      - name: Workspace Deleted
        description: Someone deleted a workspace and all its content.
        properties:
          - {name: workspaceId, type: string, description: The workspace, pii: none}
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```

    ## Use instead
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    properties:
      workspace_id: {type: string, description: The workspace, pii: none}
    events:
      - name: Workspace Created
        description: Someone created a new workspace for their team.
        properties: [{ref: workspace_id}]
      - name: Workspace Deleted
        description: Someone deleted a workspace and all its content.
        properties: [{ref: workspace_id}]
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```
    """
    spellings: dict[str, Counter[str]] = {}
    first: dict[tuple[str, str], Resource] = {}
    found = list(properties(project))
    for resource, _plan, prop in found:
        key = slug(prop.name)
        spellings.setdefault(key, Counter())[prop.name] += 1
        first.setdefault((key, prop.name), resource)
    for resource, _plan, prop in found:
        counts = spellings[slug(prop.name)]
        if len(counts) < 2:
            continue
        agreed = min(counts, key=lambda s: (-counts[s], s != slug(s), s))
        if prop.name == agreed:
            continue
        yield Hit(
            f"property `{prop.name}` collides with `{agreed}` "
            f"({where(first[(slug(agreed), agreed)])}): use one spelling",
            key=agreed,
            resource=resource,
        )
