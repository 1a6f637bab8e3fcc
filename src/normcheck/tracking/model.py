"""Tracking plans as normcheck reads them, whatever format they came in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PROFILES = ("segment", "rudderstack", "snowplow", "custom")
STATUSES = ("proposed", "active", "deprecated")


@dataclass(frozen=True)
class Warehouse:
    """How a plan's events appear in the warehouse, which drives the SQL cross-checks.

    ``name_column`` holds the event name as planned (``Order Completed``);
    ``slug_column`` holds its snake_case slug (``order_completed``); with
    ``event_tables``, each event also has its own table named by its slug."""

    profile: str = "segment"
    name_column: str | None = "event_text"
    slug_column: str | None = "event"
    event_tables: bool = True
    source: str | None = None  # the dbt source whose tables are the plan's event tables


def warehouse_for(profile: str, overrides: Mapping[str, object] | None = None) -> Warehouse:
    base = {
        "segment": Warehouse("segment", "event_text", "event", True),
        "rudderstack": Warehouse("rudderstack", "event_text", "event", True),
        "snowplow": Warehouse("snowplow", None, "event_name", False),
        "custom": Warehouse("custom", None, None, False),
    }.get(profile, Warehouse(profile, None, None, False))
    if not overrides:
        return base
    return Warehouse(
        profile=base.profile,
        name_column=_text(overrides.get("event_column", overrides.get("name_column")))
        or base.name_column,
        slug_column=_text(overrides.get("slug_column")) or base.slug_column,
        event_tables=bool(overrides.get("event_tables", base.event_tables)),
        source=_text(overrides.get("source")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class PlanProperty:
    name: str
    line: int
    type: tuple[str, ...] = ()
    enum: tuple[str, ...] = ()
    format: str | None = None
    description: str | None = None
    pii: str | None = None  # None: not reviewed; "none"; or the PII category
    required: bool = False
    ignore: tuple[Mapping[str, object], ...] = ()
    ignore_lines: tuple[int, ...] = ()  # each `ignore` entry's line, when known
    file: str | None = None  # when not the plan's own file
    shared: bool = False  # an event's use of a property of the plan's catalogue
    # an object property's own properties (JSON plans), named by their path: `buyer.email`
    nested: tuple[PlanProperty, ...] = ()


@dataclass(frozen=True)
class PlanEvent:
    name: str
    line: int
    description: str | None = None
    owner: str | None = None
    status: str = "active"
    aliases: tuple[str, ...] = ()
    replaced_by: str | None = None
    properties: tuple[PlanProperty, ...] = ()
    ignore: tuple[Mapping[str, object], ...] = ()
    ignore_lines: tuple[int, ...] = ()  # each `ignore` entry's line, when known
    file: str | None = None  # when not the plan's own file


@dataclass(frozen=True)
class Plan:
    id: str
    file: str  # relative to the project directory (as resources' files are)
    format: str  # native, segment, iglu, rudderstack
    warehouse: Warehouse
    owner: str | None = None
    events: tuple[PlanEvent, ...] = ()
    properties: tuple[PlanProperty, ...] = ()  # the shared catalogue
    line: int = 1
    skipped: int = 0  # files of the plan that define no event (e.g. Iglu avro schemas)
    files: tuple[str, ...] = field(default=())
