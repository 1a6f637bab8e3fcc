"""Plans' events and properties as project resources, so the generic rules
(owners, descriptions, suppressions, every report) apply to them too."""

from __future__ import annotations

from dataclasses import replace

from normcheck.project import Project, Resource
from normcheck.tracking.model import Plan, PlanEvent, PlanProperty


def _meta(ignore: tuple[object, ...]) -> dict[str, object]:
    return {"normcheck": {"ignore": list(ignore)}} if ignore else {}


def _property(
    uid: str, prop: PlanProperty, owner: str | None, parent: str | None, file: str, package: str
) -> Resource:
    return Resource(
        uid=uid,
        type="property",
        name=prop.name,
        package=package,
        file=prop.file or file,
        description=prop.description,
        meta=_meta(prop.ignore),
        ignore_lines=prop.ignore_lines,
        owner=owner,
        data_type=",".join(prop.type) or None,
        parent=parent,
        line=prop.line,
    )


def with_plans(project: Project, plans: list[Plan]) -> Project:
    if not plans:
        return project
    resources = dict(project.resources)
    items: dict[str, tuple[Plan, PlanEvent | PlanProperty]] = dict(project.plan_items)
    for plan in plans:
        for prop in plan.properties:
            uid = f"property.{plan.id}.{prop.name}"
            resources[uid] = _property(uid, prop, plan.owner, None, plan.file, project.name)
            items[uid] = (plan, prop)
        for event in plan.events:
            uid = f"event.{plan.id}.{event.name}"
            owner = event.owner or plan.owner
            file = event.file or plan.file
            children = []
            for prop in event.properties:
                if prop.shared:  # judged once, where the plan's catalogue defines it
                    continue
                child = f"property.{plan.id}.{event.name}.{prop.name}"
                resources[child] = _property(child, prop, owner, uid, file, project.name)
                items[child] = (plan, prop)
                children.append(child)
            resources[uid] = Resource(
                uid=uid,
                type="event",
                name=event.name,
                package=project.name,
                file=file,
                description=event.description,
                meta=_meta(event.ignore),
                ignore_lines=event.ignore_lines,
                owner=owner,
                columns=tuple(children),
                line=event.line,
            )
            items[uid] = (plan, event)
    return replace(project, resources=resources, plans=(*project.plans, *plans), plan_items=items)
