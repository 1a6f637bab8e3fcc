"""Shared helpers for the tracking rules."""

from __future__ import annotations

from collections.abc import Iterator

from normcheck.project import Project, Resource
from normcheck.tracking.model import Plan, PlanEvent, PlanProperty

TRACKING_YAML = """\
```yaml normcheck.yml
tracking_plans: ["tracking/*.yml"]
```"""


def events(project: Project) -> Iterator[tuple[Resource, Plan, PlanEvent]]:
    for uid, (plan, item) in sorted(project.plan_items.items()):
        if isinstance(item, PlanEvent):
            yield project.resources[uid], plan, item


def properties(project: Project) -> Iterator[tuple[Resource, Plan, PlanProperty]]:
    for uid, (plan, item) in sorted(project.plan_items.items()):
        if isinstance(item, PlanProperty):
            yield project.resources[uid], plan, item


def where(resource: Resource) -> str:
    return f"{resource.file}:{resource.line or 1}"
