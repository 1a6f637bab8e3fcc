from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.project import Project, Resource
from normcheck.tracking.model import PlanProperty
from normcheck.tracking.names import slug

DEFAULT_PATTERNS = [
    r"(^|_)(e_?mail|phone|mobile|ip|ipv4|ipv6|ip_address|ssn|dob|birth_?date|birth_?day)(_|$)",
    r"(^|_)date_of_birth(_|$)",
    r"(^|_)(passport|street|address|zip|zip_code|postcode|postal_code|iban)(_|$)",
    r"(^|_)(first|last|full|given|family|middle|maiden|nick|sur|user|legal|display|customer"
    r"|client|buyer|recipient|sender|receiver|contact|billing|shipping|card_?holder"
    r"|account_?holder|patient|employee)_?name(_|$)",
    r"(^|_)(credit_card|card_number|social_security)(_|$)",
]
PII_FORMATS = ["email", "ipv4", "ipv6", "phone", "idn-email"]


class PiiOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    patterns: Annotated[
        list[Annotated[str, msgspec.Meta(extra_json_schema={"format": "regex"})]],
        msgspec.Meta(
            description="regexes on the snake_case property name that look personal",
            extra={"stricter": "more"},
        ),
    ] = msgspec.field(default_factory=lambda: list(DEFAULT_PATTERNS))
    formats: Annotated[
        list[str],
        msgspec.Meta(
            description="JSON Schema formats that are personal data", extra={"stricter": "more"}
        ),
    ] = msgspec.field(default_factory=lambda: list(PII_FORMATS))


@rule("tracking/pii-undeclared", severity="error", targets=["property"], options=PiiOptions)
def pii_undeclared(prop: Resource, ctx: Context[PiiOptions]) -> Iterator[Hit]:
    """A property that looks personal (email, phone, IP, name, address…) with no PII declaration.

    ## What it finds
    A property whose snake_case name matches one of `patterns`, or whose `format` is one of
    `formats`, and whose plan entry has no `pii:` at all. PII is three-state: absent (not
    reviewed), `none` (reviewed: not personal), or `{category: ...}`. In JSON plans
    (Segment, Iglu) the properties nested in an object property are checked too, unless
    it or an object around them declares `pii`; they are reported on the outer property,
    at their own line. A boolean is judged by its `format` only (`mobile: true` holds
    no phone number).

    ## Why it matters
    Personal data needs consent, retention and masking decided before it lands in the
    warehouse; an undeclared email column is found by the auditor, not by the team.

    ## Example
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Account Created
        description: Someone signed up and confirmed their account.
        properties:
          - {name: buyer_email, type: string, format: email, description: Where we write}
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```

    ## Use instead
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Account Created
        description: Someone signed up and confirmed their account.
        properties:
          - {name: buyer_email, type: string, format: email, description: Where we write,
             pii: {category: contact}}
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```
    """
    entry = _entry(ctx.project, prop)
    if entry is None or entry.pii is not None:
        return
    why = _personal(entry, ctx.options)
    if why is not None:
        yield Hit(
            f"property `{prop.name}` has no PII declaration but {why}: set `pii: none` or "
            "`pii: {category: ...}` once reviewed"
        )
    for inner in _undeclared(entry.nested):  # an object's own properties (JSON plans)
        why = _personal(inner, ctx.options)
        if why is not None:
            yield Hit(
                f"nested property `{inner.name}` has no PII declaration but {why}: set `pii` "
                f"on it or on `{prop.name}` once reviewed",
                key=inner.name,
                where="file",
                line=inner.line,
            )


def _personal(entry: PlanProperty, options: PiiOptions) -> str | None:
    """Why the property looks personal, or None."""
    if entry.format and entry.format in options.formats:
        return f"its format is `{entry.format}`"
    if entry.type and set(entry.type) <= {"boolean", "null"}:
        return None  # a yes or no (`mobile`, `ip_opt`) holds no personal data itself
    name = slug(entry.name.rsplit(".", 1)[-1])
    if any(re.search(p, name) for p in options.patterns):
        return "its name looks personal"
    return None


def _undeclared(nested: tuple[PlanProperty, ...]) -> Iterator[PlanProperty]:
    """Nested properties with no PII declaration, depth first; a declaration covers
    what is nested inside it."""
    for inner in nested:
        if inner.pii is None:
            yield inner
            yield from _undeclared(inner.nested)


def _entry(project: Project, prop: Resource) -> PlanProperty | None:
    found = project.plan_items.get(prop.uid)
    return found[1] if found and isinstance(found[1], PlanProperty) else None
