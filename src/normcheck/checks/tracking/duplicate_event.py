from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.checks.tracking._plans import events, where
from normcheck.project import Project, Resource
from normcheck.tracking.model import PlanEvent
from normcheck.tracking.names import antonyms, normal_form, words


class DuplicateEventOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    synonyms: Annotated[
        list[list[str]],
        msgspec.Meta(description="groups of words that mean the same, e.g. [order, purchase]"),
    ] = msgspec.field(default_factory=list)


@rule(
    "tracking/duplicate-event",
    severity="warning",
    targets=["project"],
    options=DuplicateEventOptions,
)
def duplicate_event(project: Project, ctx: Context[DuplicateEventOptions]) -> Iterator[Hit]:
    """Near-duplicate events: the same event under two names, in one plan or across plans.

    ## What it finds
    Events whose names are the same after folding case, separators and camelCase,
    singular/plural, verb tense (`Completed` / `Complete` / `Completes`), the order of
    object and action, abbreviations from `vocabulary.preferred` and the `synonyms`
    groups (e.g. `[order, purchase, checkout]`). Antonyms (`Enabled`/`Disabled`,
    `Added`/`Removed`) are never paired; events that declare each other in `aliases` or
    `replaced_by` are not reported. A pair in one file is reported once, on the event
    whose name sorts later (not the one further down: reordering a plan does not move
    findings); a pair across files on both, so a check of either file shows it.

    ## Why it matters
    Five purchase events that mean almost the same thing split every funnel five ways,
    and nobody knows which one the dashboard counts.

    ## Example
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Order Completed
        description: Buyer finished payment and the order was accepted.
      - name: Completed Order
        description: The order went through after the buyer paid for it.
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```

    ## Use instead
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: Order Completed
        description: Buyer finished payment and the order was accepted.
        aliases: [Completed Order]
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```
    """
    groups: dict[tuple[str, ...], list[tuple[Resource, PlanEvent]]] = {}
    abbreviations = dict(ctx.vocabulary.preferred)
    for resource, _plan, event in events(project):
        key = normal_form(event.name, abbreviations, ctx.options.synonyms)
        groups.setdefault(key, []).append((resource, event))
    for key, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        members.sort(key=_order)
        for i, (resource, event) in enumerate(members):
            partner = _partner(i, members)
            if partner is not None:
                yield _hit(resource, event, *partner, key)


def _order(member: tuple[Resource, PlanEvent]) -> tuple[str, ...]:
    return (member[0].uid,)


def _partner(
    i: int, members: list[tuple[Resource, PlanEvent]]
) -> tuple[Resource, PlanEvent] | None:
    """The first event of the group that ``members[i]`` duplicates: any in another
    file (whichever file changes shows the pair), in its own file only an earlier one
    (a pair in one file is reported once)."""
    resource, event = members[i]
    for j, (other_resource, other) in enumerate(members):
        if j == i or (j > i and other_resource.file == resource.file):
            continue
        if _declared(event, other) or antonyms(words(event.name), words(other.name)):
            continue
        return other_resource, other
    return None


def _hit(
    resource: Resource,
    event: PlanEvent,
    other_resource: Resource,
    other: PlanEvent,
    key: tuple[str, ...],
) -> Hit:
    # keyed on the group, not the partner: an event added to the group later does not
    # make the findings already baselined new again
    return Hit(
        f"event `{event.name}` duplicates `{other.name}` ({where(other_resource)}): "
        "keep one, or declare it in `aliases`/`replaced_by`",
        key="duplicates:" + " ".join(key),
        resource=resource,
    )


def _declared(a: PlanEvent, b: PlanEvent) -> bool:
    return b.name in {*a.aliases, a.replaced_by} or a.name in {*b.aliases, b.replaced_by}
