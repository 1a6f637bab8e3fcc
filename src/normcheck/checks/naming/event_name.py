from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.checks._common import CASES, Regex, fits_case
from normcheck.project import Resource

CONVENTIONS = ["object-action", *sorted(CASES)]
_TITLE_WORD = re.compile(r"^(?:[A-Z][a-z0-9]*|[A-Z0-9]{2,5}|[0-9]+)$")


class EventNameOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    convention: Annotated[
        str,
        msgspec.Meta(
            description="object-action (Title Case `Object Action`), or a case: "
            + ", ".join(sorted(CASES)),
            extra_json_schema={"enum": CONVENTIONS},
        ),
    ] = "object-action"
    pattern: Annotated[
        Regex | None, msgspec.Meta(description="a regular expression instead of `convention`")
    ] = None
    past_tense: Annotated[
        bool,
        msgspec.Meta(
            description="object-action: the action must be past tense", extra={"stricter": "true"}
        ),
    ] = True
    actions: Annotated[
        list[str],
        msgspec.Meta(description="object-action: the allowed actions (empty: any)"),
    ] = msgspec.field(default_factory=list)


_PARTICLES = frozenset(
    {"up", "in", "out", "off", "on", "down", "over", "back", "away", "through", "into"}
)


def problem(name: str, options: EventNameOptions) -> str | None:
    """Why ``name`` is off the convention, or None."""
    from normcheck.tracking.names import looks_past_tense

    if options.pattern:
        return None if re.search(options.pattern, name) else f"does not match `{options.pattern}`"
    if options.convention != "object-action":
        ok = fits_case(name, options.convention)
        return None if ok else f"is not {options.convention}"
    parts = name.split(" ")
    if len(parts) < 2 or not all(_TITLE_WORD.match(p) for p in parts):
        return "is not Title Case `Object Action` (for example `Order Completed`)"
    action = parts[-1]
    if action.lower() in _PARTICLES:  # a phrasal verb: `Signed Up`, `Logged In`, `Checked Out`
        action = " ".join(parts[-2:])
    if options.actions and action.lower() not in {a.lower() for a in options.actions}:
        return f"ends in `{action}`, which is not an allowed action ({', '.join(options.actions)})"
    if options.past_tense and not looks_past_tense(action.split(" ")[0]):
        return f"ends in `{action}`, which is not a past-tense action (`Completed`, `Viewed`)"
    return None


@rule(
    "naming/event-name",
    severity="error",
    targets=["event"],
    options=EventNameOptions,
    subject_only=True,
)
def event_name(event: Resource, ctx: Context[EventNameOptions]) -> Iterator[Hit]:
    """A tracking event whose name is off the convention (default Title Case "Object Action").

    ## What it finds
    A tracking-plan event whose name is not `Object Action` in Title Case with a past-tense
    action (`Order Completed`), or off the configured `convention` (a case such as
    snake_case) or `pattern`; optionally, an action outside `actions`. A phrasal verb
    is one action (`Signed Up`, `Account Logged In`).

    ## Why it matters
    One grammar for events lets anyone guess the name of the event they need, and stops
    `purchase`, `Purchased` and `complete_order` from all meaning the same thing.

    ## Example
    ```yaml tracking/web.yml
    normcheck: plan/v1
    plan: {id: web, owner: growth}
    events:
      - name: completeOrder
        description: Buyer finished payment and the order was accepted.
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
    ```
    ```yaml normcheck.yml
    tracking_plans: ["tracking/*.yml"]
    ```
    """
    reason = problem(event.name, ctx.options)
    if reason is not None:
        yield Hit(f"event `{event.name}` {reason}: rename it")
