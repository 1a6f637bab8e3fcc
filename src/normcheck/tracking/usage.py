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
    events: tuple[tuple[Plan, PlanEvent], ...]  # () : no plan defines it; several share a slug
    hint: str | None = None  # the planned spelling when only the case differs
    # the column's function when the value can never equal it: `lower(event_text) = 'Order X'`
    folded: str | None = None

    @property
    def event(self) -> tuple[Plan, PlanEvent] | None:
        return self.events[0] if self.events else None


@dataclass
class Usage:
    uses: list[Use] = field(default_factory=list)
    read: set[str] = field(default_factory=set)  # event uids some model reads


Planned = tuple[Plan, PlanEvent]


def _index(
    plans: tuple[Plan, ...],
) -> tuple[dict[str, dict[str, list[Planned]]], dict[str, dict[str, list[Planned]]]]:
    """column -> spelling -> events, for name columns and slug columns. Events
    that share a spelling (``Order Completed`` and ``order completed`` share a
    slug) are all read where it is: which one the plan lists first does not
    decide what is reported."""
    by_name: dict[str, dict[str, list[Planned]]] = {}
    by_slug: dict[str, dict[str, list[Planned]]] = {}
    for plan in plans:
        w = plan.warehouse
        for event in plan.events:
            for spelling in (event.name, *event.aliases):
                if w.name_column:
                    _add(by_name.setdefault(w.name_column.lower(), {}), spelling, (plan, event))
                if w.slug_column:
                    _add(
                        by_slug.setdefault(w.slug_column.lower(), {}), slug(spelling), (plan, event)
                    )
    return by_name, by_slug


def _add(index: dict[str, list[Planned]], key: str, planned: Planned) -> None:
    found = index.setdefault(key, [])
    if planned not in found:
        found.append(planned)
        found.sort(key=lambda p: (p[0].id, p[1].name))


def _uid(planned: Planned) -> str:
    return f"event.{planned[0].id}.{planned[1].name}"


def event_usage(project: Project, sql: SqlAnalysis) -> Usage:
    cached = sql.memo.get("event_usage")
    if isinstance(cached, Usage):
        return cached
    usage = Usage()
    by_name, by_slug = _index(project.plans)
    columns: Mapping[str, dict[str, list[Planned]]] = {**by_slug, **by_name}
    tables: dict[str, list[Planned]] = {}
    for plan in project.plans:
        if plan.warehouse.event_tables:
            for event in plan.events:
                _add(tables, slug(event.name), (plan, event))
    sources = {p.warehouse.source for p in project.plans if p.warehouse.source}
    # Snowplow's own events (no plan defines them) under its event-name column
    core = {
        w.slug_column.lower()
        for w in (p.warehouse for p in project.plans)
        if w.profile == "snowplow" and w.slug_column
    }
    # when every plan names its dbt source, only the models reading from one of them
    # (directly or not) compare event columns: elsewhere `event` is some other column
    tracked = (
        _reading(project, sources)
        if project.plans and all(p.warehouse.source for p in project.plans)
        else None
    )
    for uid, facts in sorted(sql.facts.items()):
        if tracked is not None and uid not in tracked:
            continue
        for column, values in facts.comparisons.items():
            known = columns.get(column)
            if known is None:
                continue
            lower = {k.lower(): k for k in known}
            for value in values:
                found = known.get(value)
                if not found and column in core and value in SNOWPLOW_CORE_EVENTS:
                    continue
                hint = None if found else lower.get(value.lower())
                usage.uses.append(Use(uid, value, column, tuple(found or ()), hint))
        for column, values in facts.case_blind.items():
            known = columns.get(column)
            if known is None:
                continue
            spellings: dict[str, list[str]] = {}
            for key in known:
                spellings.setdefault(key.lower(), []).append(key)
            for value in values:
                matched: list[Planned] = []
                for key in spellings.get(value.lower(), ()):
                    matched += [p for p in known[key] if p not in matched]
                usage.uses.append(Use(uid, value, column, tuple(matched)))
        for column, folded in facts.never.items():
            if column in columns:
                for fold, text in folded:
                    usage.uses.append(Use(uid, text, column, (), folded=fold))
        model = project.resources[uid]
        for parent_uid in model.depends_on:
            parent = project.resources.get(parent_uid)
            if parent is None or parent.type != "source":
                continue
            events = tables.get(parent.name.lower())
            if events is not None:
                usage.uses.append(Use(uid, parent.name, None, tuple(events)))
            elif parent.source_name in sources and parent.name not in _STANDARD_TABLES:
                usage.uses.append(Use(uid, parent.name, None, ()))
    usage.read = {_uid(p) for use in usage.uses for p in use.events}
    sql.memo["event_usage"] = usage
    return usage


def _reading(project: Project, sources: set[str]) -> set[str]:
    """The models that read one of these dbt sources, directly or through others."""
    resources = project.resources
    children: dict[str, list[str]] = {}
    for uid in project.resources:
        if uid.startswith("model."):
            for parent in resources[uid].depends_on:
                children.setdefault(parent, []).append(uid)
    todo = [uid for uid, r in resources.items() if r.type == "source" and r.source_name in sources]
    found: set[str] = set()
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


# the events every Snowplow pipeline has, which no tracking plan defines (its
# `event_name` column holds them beside the self-describing events' names)
SNOWPLOW_CORE_EVENTS = frozenset(
    {"page_view", "page_ping", "struct", "unstruct", "transaction", "transaction_item"}
)

# tables every Segment / RudderStack source has besides the per-event ones
_STANDARD_TABLES = frozenset(
    {"tracks", "pages", "screens", "identifies", "groups", "aliases", "users", "accounts"}
)
