"""The suppress stage: findings -> kept and suppressed, plus the findings that
keep suppressions honest (unused, without reason, expired, of a locked rule).

Suppressions are written in a model's SQL (``-- normcheck: ignore[rule, ...]
reason``; ``# normcheck: ...`` in a Python model) or in a resource's
``meta.normcheck.ignore`` list."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from normcheck.checks.registry import LOCKED_RULE
from normcheck.config.loader import in_message
from normcheck.config.model import Config
from normcheck.finding import Finding, fingerprint
from normcheck.project import Project, Resource

UNUSED = "normcheck/unused-suppression"
NO_REASON = "normcheck/suppression-without-reason"
EXPIRED = "normcheck/expired-suppression"
HONESTY_RULES = (UNUSED, NO_REASON, EXPIRED)

# a model's comment: `--` in SQL; `#` in a Python model (or `--` after it, `# -- normcheck:`)
_MARKS = {"sql": "--", "python": "#"}
_DIRECTIVES = {
    "sql": re.compile(r"--[ \t]*normcheck:"),
    "python": re.compile(r"(?:#|--)[ \t]*normcheck:"),
}
_COMMENTS = {
    "sql": re.compile(r"--[ \t]*normcheck:[ \t]*ignore\["),
    "python": re.compile(r"(?:#|--)[ \t]*normcheck:[ \t]*ignore\["),
}


def _shapes(mark: str) -> dict[str, str]:
    form = f"`{mark} normcheck: ignore[rule, ...] reason`"
    return {
        "not ignore[...]": f"`{mark} normcheck:` comment that is not {form}",
        "unclosed": f"`{mark} normcheck: ignore[` without its `]` on the same line ({form})",
        "empty": f"`{mark} normcheck: ignore[]` that names no rule ({form})",
    }


def _language(resource: Resource) -> str:
    return "python" if resource.language == "python" else "sql"


@dataclass(frozen=True)
class Suppression:
    rule: str
    reason: str
    until: str | None
    resource: Resource
    kind: str  # "sql" or "yaml"
    line: int | None  # the SQL line; YAML lines are located by `index`
    index: int = 0
    malformed: str | None = None


def _sql_suppressions(resource: Resource) -> Iterator[Suppression]:
    code = resource.raw_code
    if "normcheck" not in code:
        return
    malformed = 0
    language = _language(resource)
    directives, comments = _DIRECTIVES[language], _COMMENTS[language]
    # Line by line, the bracket closed on the same line: one regex over the whole
    # code backtracked quadratically on a long line of unclosed `ignore[`.
    for line, text in enumerate(code.split("\n"), 1):
        if "normcheck" not in text:
            continue
        directive = directives.search(text)
        if directive is None:
            continue
        match = comments.search(text, directive.start())
        close = -1 if match is None else text.find("]", match.end())
        listed = "" if match is None or close < 0 else text[match.end() : close]
        rule_ids = [r.strip() for r in listed.split(",") if r.strip()]  # `ignore[a,]`: a
        if not rule_ids:
            problem = "not ignore[...]" if match is None else "unclosed" if close < 0 else "empty"
            yield Suppression("", "", None, resource, "sql", line, malformed, problem)
            malformed += 1
            continue
        reason = text[close + 1 :].strip()
        for rule_id in rule_ids:
            yield Suppression(rule_id, reason, None, resource, "sql", line)


def _yaml_suppressions(resource: Resource) -> Iterator[Suppression]:
    block = resource.meta.get("normcheck")
    if not isinstance(block, Mapping):  # `normcheck: [...]`, `ignore:` forgotten
        yield Suppression("", "", None, resource, "yaml", None, 0, "not a mapping")
        return
    entries = block.get("ignore")
    if not isinstance(entries, list):
        entries = [entries]
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("rule"), str):
            yield Suppression("", "", None, resource, "yaml", None, index, "malformed")
            continue
        until = entry.get("until")
        yield Suppression(
            rule=entry["rule"].strip(),
            reason=str(entry.get("reason") or "").strip(),
            until=None if until is None else str(until),
            resource=resource,
            kind="yaml",
            # a plan's entry has its line (a plan is no dbt YAML the locator follows)
            line=resource.ignore_lines[index] if index < len(resource.ignore_lines) else None,
            index=index,
        )


def collect(project: Project) -> list[Suppression]:
    out: list[Suppression] = []
    root = project.name
    for resource in project.resources.values():
        # cheap tests first: most of 300,000 resources have neither
        if resource.package != root:
            continue
        if "normcheck" in resource.raw_code:
            out.extend(_sql_suppressions(resource))
        if "normcheck" in resource.meta:
            out.extend(_yaml_suppressions(resource))
    return out


def today() -> dt.date:
    """The date `until:` is compared with: in UTC, so every CI runner and laptop
    agrees on the day a suppression expires, wherever its clock is set."""
    return dt.datetime.now(dt.timezone.utc).date()


def _expired(until: str | None, today: dt.date) -> str | None:
    if until is None:
        return None
    try:
        date = dt.date.fromisoformat(until[:10])
    except ValueError:
        return f"has `until: {until}`, which is not a date (YYYY-MM-DD)"
    return f"expired on {date.isoformat()}" if date < today else None


@dataclass(frozen=True)
class Suppressed:
    kept: tuple[Finding, ...]
    hidden: tuple[Finding, ...]
    honesty: tuple[Finding, ...]


Placer = Callable[[Suppression], tuple[str, int]]
SeverityOf = Callable[[str, Resource], str]


def apply(
    findings: Sequence[Finding],
    suppressions: Sequence[Suppression],
    config: Config,
    severity_of: SeverityOf,
    place: Placer,
    today: dt.date,
) -> Suppressed:
    """Hide the findings suppressions cover and report dishonest suppressions.

    ``severity_of(rule, resource)`` says whether a rule ran on a resource (not
    "off"); ``place`` gives a suppression's file and line."""
    by_key: dict[tuple[str, str], list[int]] = {}
    for index, finding in enumerate(findings):
        by_key.setdefault((finding.rule, finding.resource), []).append(index)
    hidden: set[int] = set()
    honesty: list[Finding] = []
    columns_of: dict[str, tuple[str, ...]] = {}

    def report(rule_id: str, s: Suppression, message: str, key: str) -> None:
        level = "error" if rule_id == LOCKED_RULE else config.rules[rule_id].severity
        if level == "off":
            return
        file, line = place(s)
        honesty.append(
            Finding(
                file=file,
                line=line,
                rule=rule_id,
                resource=s.resource.uid,
                message=message,
                severity=level,
                resource_type=s.resource.type,
                owner=s.resource.owner or config.team,
                fingerprint=fingerprint(rule_id, s.resource.uid, f"{s.kind}:{key}"),
            )
        )

    for s in suppressions:
        what = f"suppression of `{s.rule}` on {s.resource.type} `{s.resource.name}`"
        if s.malformed:
            if s.kind == "sql":
                shape = _shapes(_MARKS[_language(s.resource)])[s.malformed]
            elif s.malformed == "not a mapping":
                shape = "`meta.normcheck` that is not `{ignore: [...]}`"
            else:
                shape = "suppression that is not `{rule, reason, until}`"
            report(
                UNUSED,
                s,
                f"{s.resource.type} `{s.resource.name}` has a {shape}: it has no effect",
                f"malformed:{s.index}",
            )
            continue
        rule_config = config.rules.get(s.rule)
        if rule_config is None:
            report(
                UNUSED,
                s,
                f"{what} names no known rule: fix the id or remove it",
                f"unknown:{s.rule}",
            )
            continue
        if rule_config.locked or s.rule in HONESTY_RULES:
            origin = rule_config.locked_origin
            lock = in_message(origin) if origin is not None else "normcheck itself"
            report(
                LOCKED_RULE,
                s,
                f"{what} has no effect: the rule is locked ({lock})",
                f"suppress:{s.rule}",
            )
            continue
        expired = _expired(s.until, today)
        if expired:
            report(
                EXPIRED,
                s,
                f"{what} {expired}: it no longer applies; fix the finding or agree a new date",
                f"expired:{s.rule}",
            )
            continue
        if not s.reason:
            report(
                NO_REASON,
                s,
                f"{what} gives no reason: say why, so it can be reviewed",
                f"reason:{s.rule}",
            )
        targets = columns_of.setdefault(s.resource.uid, (s.resource.uid, *s.resource.columns))
        matched = [i for uid in targets for i in by_key.get((s.rule, uid), ())]
        if matched:
            hidden.update(matched)
        elif severity_of(s.rule, s.resource) != "off":
            report(UNUSED, s, f"{what} hides nothing: remove it", f"unused:{s.rule}")
    kept = tuple(f for i, f in enumerate(findings) if i not in hidden)
    return Suppressed(kept, tuple(findings[i] for i in sorted(hidden)), tuple(honesty))
