"""Which planned events the project's SQL reads, through each plan's warehouse
profile: comparisons and IN lists on the event-name or slug column, and
per-event tables read through `source()`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from normcheck.project import Project
from normcheck.tracking.model import Plan, PlanEvent
from normcheck.tracking.names import slug

if TYPE_CHECKING:  # without importing sqlglot at run time
    from normcheck.analysis import SqlAnalysis


@dataclass(frozen=True)
class Use:
    model: str  # uid
    value: str  # as written in the SQL
    column: str | None  # None: through a per-event table
    event: tuple[Plan, PlanEvent] | None  # None: no plan defines it
    hint: str | None = None  # the planned spelling when only the case differs


@dataclass
class Usage:
    uses: list[Use] = field(default_factory=list)
    read: set[str] = field(default_factory=set)  # event uids some model reads


def _index(
    plans: tuple[Plan, ...],
) -> tuple[
    dict[str, dict[str, tuple[Plan, PlanEvent]]], dict[str, dict[str, tuple[Plan, PlanEvent]]]
]:
    """column -> spelling -> event, for name columns and slug columns."""
    by_name: dict[str, dict[str, tuple[Plan, PlanEvent]]] = {}
    by_slug: dict[str, dict[str, tuple[Plan, PlanEvent]]] = {}
    for plan in plans:
        w = plan.warehouse
        for event in plan.events:
            for spelling in (event.name, *event.aliases):
                if w.name_column:
                    by_name.setdefault(w.name_column.lower(), {}).setdefault(
                        spelling, (plan, event)
                    )
                if w.slug_column:
                    by_slug.setdefault(w.slug_column.lower(), {}).setdefault(
                        slug(spelling), (plan, event)
                    )
    return by_name, by_slug


def event_usage(project: Project, sql: SqlAnalysis) -> Usage:
    cached = sql.memo.get("event_usage")
    if isinstance(cached, Usage):
        return cached
    usage = Usage()
    by_name, by_slug = _index(project.plans)
    columns: Mapping[str, dict[str, tuple[Plan, PlanEvent]]] = {**by_slug, **by_name}
    tables = {
        slug(e.name): (p, e) for p in project.plans if p.warehouse.event_tables for e in p.events
    }
    sources = {p.warehouse.source for p in project.plans if p.warehouse.source}
    for uid, facts in sorted(sql.facts.items()):
        for column, values in facts.comparisons.items():
            known = columns.get(column)
            if known is None:
                continue
            lower = {k.lower(): k for k in known}
            for value in values:
                found = known.get(value)
                hint = None if found else lower.get(value.lower())
                usage.uses.append(Use(uid, value, column, found, hint))
        model = project.resources[uid]
        for parent_uid in model.depends_on:
            parent = project.resources.get(parent_uid)
            if parent is None or parent.type != "source":
                continue
            event = tables.get(parent.name.lower())
            if event is not None:
                usage.uses.append(Use(uid, parent.name, None, event))
            elif parent.source_name in sources and parent.name not in _STANDARD_TABLES:
                usage.uses.append(Use(uid, parent.name, None, None))
    usage.read = {
        f"event.{u.event[0].id}.{u.event[1].name}" for u in usage.uses if u.event is not None
    }
    sql.memo["event_usage"] = usage
    return usage


# tables every Segment / RudderStack source has besides the per-event ones
_STANDARD_TABLES = frozenset(
    {"tracks", "pages", "screens", "identifies", "groups", "aliases", "users", "accounts"}
)
