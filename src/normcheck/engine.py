"""The evaluate stage: project x resolved rules -> findings.

A rule that raises does not stop the run: the crash is recorded (rule,
resource, traceback) and the other rules go on."""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from normcheck._glob import match_any
from normcheck._yaml import Step, YamlDoc, load_yaml
from normcheck.cache import stamp
from normcheck.checks._api import (
    PROJECT,
    SEVERITY_RANK,
    Context,
    Hit,
    Options,
    option_default,
    stricter_or_same,
)
from normcheck.checks.registry import LOCKED_RULE
from normcheck.config.loader import convert_options, in_message, option_origins
from normcheck.config.model import (
    DEFAULT_ORIGIN,
    Config,
    LockViolation,
    Origin,
    Override,
    OverrideRule,
    RuleConfig,
)
from normcheck.errors import NormcheckError
from normcheck.finding import Finding, fingerprint, sort_findings
from normcheck.project import Project, Resource

if TYPE_CHECKING:
    from normcheck.analysis import SqlAnalysis
    from normcheck.suppression import Suppression


@dataclass(frozen=True)
class RuleCrash:
    rule: str
    resource: str
    traceback: str


@dataclass
class _Locator:
    """Turns a hit into a file and line, reading property YAML files lazily."""

    root: Path
    prefix: str
    docs: dict[str, YamlDoc | None] = field(default_factory=dict)
    stamps: dict[str, str] = field(default_factory=dict)  # of each file read, for the cache
    # each macro file's `{% macro name(` lines by name (None: not on disk)
    macro_lines: dict[str, dict[str, int] | None] = field(default_factory=dict)

    def doc(self, file: str) -> YamlDoc | None:
        """The properties file, or None when it is not on disk (a manifest from
        elsewhere); a file that is there but broken is the user's error (exit 2)."""
        if file not in self.docs:
            path = self.root / file
            self.stamps[str(path)] = stamp(path)  # before it is read: a later write is seen
            self.docs[file] = load_yaml(path, self.shown(file)) if path.is_file() else None
        return self.docs[file]

    def place(self, resource: Resource, hit: Hit) -> tuple[str, int]:
        """The YAML line of the property when it is written there; else the line
        the rule found in the resource's own file (SQL); else its YAML entry."""
        if hit.where == "file" or not resource.yaml_file:
            line = hit.line or resource.line
            if line is None and resource.type == "macro":
                line = self.macro_line(resource)
            return self.shown(resource.file), line or 1
        doc = self.doc(resource.yaml_file)
        steps = resource.yaml_steps
        # a version of a versioned model: what its `versions:` entry does not say
        # itself (a column it takes with `include: all`, the description) is the model's
        candidates = [steps]
        if "versions" in steps:
            at = steps.index("versions")
            candidates.append((*steps[:at], *steps[at + 2 :]))
        if doc is not None and hit.yaml_key:
            keys: list[tuple[Step, ...] | None] = [hit.yaml_key]
            if len(candidates) > 1:
                keys.append(_model_key(doc, steps, hit.yaml_key))
            for entry, key in zip(candidates, keys, strict=True):
                if key is None:
                    continue
                # a property may sit at the entry's top level or under its `config:`
                exact = doc.locate_exact((*entry, *key)) or doc.locate_exact(
                    (*entry, "config", *key)
                )
                if exact is not None:
                    return self.shown(resource.yaml_file), exact
        if hit.line is not None and resource.file != resource.yaml_file:
            return self.shown(resource.file), hit.line
        line = None
        if doc is not None:
            found = (doc.locate_exact(entry) for entry in candidates)
            line = next((n for n in found if n is not None), None) or doc.locate(steps)
        return self.shown(resource.yaml_file), line or 1

    def macro_line(self, macro: Resource) -> int | None:
        """The line of the macro's `{% macro name(` in its file, one of the several
        macros a file often holds (the manifest does not say where each starts)."""
        if macro.file not in self.macro_lines:
            path = self.root / macro.file
            self.stamps[str(path)] = stamp(path)
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:  # a manifest from elsewhere
                self.macro_lines[macro.file] = None
            else:
                lines: dict[str, int] = {}
                for found in _MACRO_START.finditer(text):  # the file read once, one pattern
                    lines.setdefault(found.group(1), text.count("\n", 0, found.start()) + 1)
                self.macro_lines[macro.file] = lines
        lines_of = self.macro_lines[macro.file]
        return None if lines_of is None else lines_of.get(macro.name)

    def shown(self, file: str) -> str:
        return f"{self.prefix}{file}" if file else file


# `{% macro name(` (`{%- macro`): where each macro of a file starts
_MACRO_START = re.compile(r"\{%-?\s*macro\s+(\w+)\s*\(")


def _model_key(
    doc: YamlDoc, steps: tuple[Step, ...], key: tuple[Step, ...]
) -> tuple[Step, ...] | None:
    """``key`` of a version's property in its model's entry. An item of a list the
    version extends (dbt merges its `meta.normcheck.ignore` before the model's) is
    there as many items earlier as the version's own list has; None: one of those."""
    if not key or not isinstance(key[-1], int):
        return key
    own = 0
    for base in ((*steps, *key[:-1]), (*steps, "config", *key[:-1])):
        while doc.locate_exact((*base, own)) is not None:
            own += 1
        if own:
            break
    return (*key[:-1], key[-1] - own) if key[-1] >= own else None


def _matches(override: Override, resource: Resource) -> bool:
    if override.paths and not (
        match_any(resource.file, override.paths)
        or (resource.yaml_file is not None and match_any(resource.yaml_file, override.paths))
    ):
        return False
    if override.tags and not set(override.tags) & set(resource.tags):
        return False
    if override.groups and resource.group not in override.groups:
        return False
    return not (override.owners and resource.owner not in override.owners)


def idle_overrides(project: Project, overrides: Sequence[Override]) -> tuple[Override, ...]:
    """The overrides that match none of the project's own resources (a `paths:`
    glob with a typo, a tag nobody uses): they change nothing."""
    # one resource of each kind alike for the match (a model's columns share its files)
    alike = {
        (r.file, r.yaml_file, r.tags, r.group, r.owner): r
        for r in project.resources.values()
        if r.package == project.name
    }
    return tuple(o for o in overrides if not any(_matches(o, r) for r in alike.values()))


class _Settings:
    """Per-resource severity and options of one rule, after overrides."""

    def __init__(self, config: RuleConfig, overrides: Sequence[Override]) -> None:
        self.config = config
        self.overrides = [o for o in overrides if config.id in o.rules]
        self.options_cache: dict[tuple[int, ...], Options] = {(): config.options}
        # guarded overrides (a locked rule's, from outside the lock's files) held back
        # because they would have weakened the rule on some resource
        self.blocked: dict[tuple[Origin, str], LockViolation] = {}

    @property
    def may_fire(self) -> bool:
        levels = [self.config.severity]
        levels += [o.rules[self.config.id].severity or "off" for o in self.overrides]
        return any(level != "off" for level in levels)

    def resolve(self, resource: Resource) -> tuple[str, Options]:
        if not self.overrides:
            return self.config.severity, self.config.options
        severity = self.config.severity
        applied: list[int] = []
        for index, override in enumerate(self.overrides):
            if not _matches(override, resource):
                continue
            setting = override.rules[self.config.id]
            if setting.severity is not None:
                if setting.guarded and SEVERITY_RANK[setting.severity] < SEVERITY_RANK[severity]:
                    self._block(setting, "severity", f"an override to `{setting.severity}`")
                else:
                    severity = setting.severity
            if setting.options:
                applied.append(index)
        key = tuple(applied)
        if key not in self.options_cache:
            raw = dict(self.config.raw_options)
            origins = dict(self.config.option_origins)
            kind = self.config.rule.options
            for index in key:
                setting = self.overrides[index].rules[self.config.id]
                for name, value in (setting.options or {}).items():
                    now = raw[name] if name in raw else option_default(kind, name)
                    if setting.guarded and not stricter_or_same(kind, name, value, now):
                        self._block(
                            setting, f"options.{name}", f"an override weakening option `{name}`"
                        )
                        continue
                    raw[name] = value
                    origins[name] = option_origins(setting).get(name, setting.origin)
            self.options_cache[key] = convert_options(
                self.config.rule, raw, origins, self.config.severity_origin
            )
        return severity, self.options_cache[key]

    def _block(self, setting: OverrideRule, key: str, what: str) -> None:
        """A guarded override held back on a resource where the locked rule is
        stricter than it would leave it (the central set's severity or override)."""
        lock = self.config.locked_origin or DEFAULT_ORIGIN
        where = setting.where.get(key, setting.origin)
        self.blocked.setdefault(
            (where, key),
            LockViolation(
                self.config.id,
                where,
                f"{what} of locked rule `{self.config.id}` has no effect where the rule is "
                f"stricter (its own severity, or an earlier override's): it was locked at "
                f"{in_message(lock)}",
                f"{setting.key}.{key}",
            ),
        )


@dataclass(frozen=True)
class Evaluation:
    findings: tuple[Finding, ...]
    crashes: tuple[RuleCrash, ...]
    settings: Mapping[str, _Settings]
    locator: _Locator

    def blocked(self) -> tuple[LockViolation, ...]:
        """The guarded overrides held back on some resource, in file and line order."""
        found = [v for s in self.settings.values() for v in s.blocked.values()]
        return tuple(sorted(found, key=lambda v: (v.origin, v.rule_id, v.key)))

    def severity_of(self, rule_id: str, resource: Resource) -> str:
        """The rule's effective severity on a resource ("off" when it did not run)."""
        settings = self.settings.get(rule_id)
        if settings is None or resource.type not in settings.config.rule.targets:
            return "off"
        return settings.resolve(resource)[0]

    def place_suppression(self, s: Suppression) -> tuple[str, int]:
        resource = s.resource
        if s.kind == "sql" or not resource.yaml_file:
            return self.locator.shown(resource.file), s.line or resource.line or 1
        key = ("meta", "normcheck", "ignore", s.index)
        return self.locator.place(resource, Hit("", yaml_key=key))


def _by_type(project: Project) -> dict[str, list[Resource]]:
    return _grouped(project.resources.values(), project.name)


def _grouped(resources: Iterable[Resource], root: str) -> dict[str, list[Resource]]:
    out: dict[str, list[Resource]] = {}
    for resource in resources:
        if resource.package == root:  # project.owned(), inlined: 300,000 calls
            found = out.get(resource.type)
            if found is None:
                out[resource.type] = found = []
            found.append(resource)
    return out


@dataclass(frozen=True)
class _Job:
    """One rule over the subjects of its target types."""

    rule_id: str
    settings: _Settings  # the rule's configuration is settings.config
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Early:
    """What the subject-only rules found before the SQL facts were in: still
    true of every resource the SQL analysis leaves as it was."""

    project: Project
    findings: tuple[tuple[str, Finding], ...]  # (subject uid, finding)
    crashes: tuple[RuleCrash, ...]
    locator: _Locator
    by_type: Mapping[str, Sequence[Resource]]  # of project


def _jobs(config: Config, rule_ids: Iterable[str]) -> tuple[dict[str, _Settings], list[_Job]]:
    selected = set(rule_ids)
    all_settings: dict[str, _Settings] = {}
    jobs: list[_Job] = []
    for rule_id, rule_config in config.rules.items():
        if rule_id not in selected or rule_id == LOCKED_RULE:
            continue
        settings = _Settings(rule_config, config.overrides)
        all_settings[rule_id] = settings
        if not settings.may_fire:
            continue
        jobs.append(_Job(rule_id, settings, _targets(settings)))
    return all_settings, jobs


def evaluate_early(
    project: Project, config: Config, rule_ids: Iterable[str], display_prefix: str = ""
) -> Early:
    """Run the rules declared ``subject_only`` now, while SQL is being parsed:
    what they find depends on nothing the analysis adds. ``evaluate(...,
    early=)`` runs them again only on the resources it added or changed."""
    locator = _Locator(project.root, display_prefix)
    _, jobs = _jobs(config, rule_ids)
    early = [job for job in jobs if _early(job)]
    by_type = _by_type(project)
    findings, crashes = _Runner(project, config, by_type, locator, None).run(early)
    return Early(project, tuple(findings), tuple(crashes), locator, by_type)


def evaluate(
    project: Project,
    config: Config,
    rule_ids: Iterable[str],
    display_prefix: str = "",
    sql: SqlAnalysis | None = None,
    early: Early | None = None,
) -> Evaluation:
    """Run the selected rules over the root project's resources (with ``early``:
    the subject-only rules only over resources that are not the very objects
    they judged then). One process: a forked second one halving the rules was
    slower on 300,000 columns, its copy-on-write page copies costing more than
    the rules it ran."""
    all_settings, jobs = _jobs(config, rule_ids)
    if early is None:
        by_type = _by_type(project)
        locator = _Locator(project.root, display_prefix)
        found, crashes = _Runner(project, config, by_type, locator, sql).run(jobs)
        findings = [finding for _, finding in found]
    else:
        locator = early.locator
        before = early.project.resources
        by_type, changed = _since(early, project)
        late = [job for job in jobs if not _early(job)]
        found, crashes = _Runner(project, config, by_type, locator, sql).run(late)
        again = [job for job in jobs if _early(job)]
        found_again, crashed_again = _Runner(project, config, changed, locator, sql).run(again)
        resources = project.resources

        def unchanged(uid: str) -> bool:  # the very object the early rules judged
            return resources.get(uid) is before.get(uid)

        findings = [f for uid, f in early.findings if unchanged(uid)]
        findings += [f for _, f in (*found, *found_again)]
        crashes += [c for c in early.crashes if unchanged(c.resource)]
        crashes += crashed_again
    return Evaluation(
        sort_findings(findings), tuple(sorted(crashes, key=_crash_key)), all_settings, locator
    )


_Kinds = dict[str, list[Resource]]


def _since(early: Early, project: Project) -> tuple[_Kinds, _Kinds]:
    """The project's root resources by type, and those of them that are not the
    very objects ``early`` judged. When the project is the early one with some
    resources replaced in place and others added at the end, as the SQL
    analysis leaves it, both come from the early ones and the few changes,
    without sorting 300,000 resources again."""
    before, after = early.project.resources, project.resources
    changed: list[Resource] = []
    rest = iter(after.items())
    same = len(after) >= len(before)
    if same:
        for (uid, old), (same_uid, new) in zip(before.items(), rest, strict=False):
            if uid != same_uid:
                same = False
                break
            if old is not new:
                changed.append(new)
    if not same:  # not the early project with changes: sort it all again
        by_type = _by_type(project)
        return by_type, {
            kind: [r for r in found if before.get(r.uid) is not r]
            for kind, found in by_type.items()
        }
    changed.extend(new for _, new in rest)
    moved = _grouped(changed, project.name)
    by_type = {kind: list(found) for kind, found in early.by_type.items()}
    for kind, found in moved.items():
        kept = by_type.setdefault(kind, [])
        if any(r.uid in before for r in found):  # replaced in place
            by_type[kind] = kept = [after[r.uid] for r in kept]
        kept.extend(r for r in found if r.uid not in before)
    return by_type, moved


def _early(job: _Job) -> bool:
    return job.settings.config.rule.subject_only and PROJECT not in job.targets


def _crash_key(crash: RuleCrash) -> tuple[str, str]:
    return crash.rule, crash.resource


def _targets(settings: _Settings) -> tuple[str, ...]:
    """The resource types a rule is called for."""
    rule_config = settings.config
    targets = rule_config.rule.targets
    wanted = getattr(rule_config.options, "resource_types", None)
    if not settings.overrides and isinstance(wanted, list):
        # a rule limited to some types need not be called for the others (columns!)
        targets = tuple(t for t in targets if t in wanted)
    return targets


def may_fire(config: Config, rule_id: str) -> bool:
    """Whether the rule is on somewhere: in the configuration or in an override."""
    return _Settings(config.rules[rule_id], config.overrides).may_fire


def needs_columns(config: Config, rule_ids: Iterable[str]) -> bool:
    """Whether a selected rule that may fire judges columns, or may read more
    of the project than its subject (a rule not declared ``subject_only``)."""
    selected = set(rule_ids)
    for rule_id, rule_config in config.rules.items():
        if rule_id not in selected or rule_id == LOCKED_RULE:
            continue
        settings = _Settings(rule_config, config.overrides)
        if not settings.may_fire:
            continue
        targets = _targets(settings)
        if not rule_config.rule.subject_only or "column" in targets or PROJECT in targets:
            return True
    return False


@dataclass
class _Runner:
    project: Project
    config: Config
    by_type: Mapping[str, Sequence[Resource]]
    locator: _Locator
    sql: SqlAnalysis | None
    contexts: dict[int, Context[Options]] = field(default_factory=dict)  # by options object

    def context_for(self, options: Options) -> Context[Options]:
        ctx = self.contexts.get(id(options))  # options objects all stay alive
        if ctx is None:
            config = self.config
            ctx = Context(
                self.project, options, config.vocabulary, config.owners, config.layers, self.sql
            )
            self.contexts[id(options)] = ctx
        return ctx

    def resolve(
        self, settings: _Settings, subject: Resource | Project
    ) -> tuple[str, Context[Options]] | None:
        """Severity and context of a rule with overrides on one subject (None: off)."""
        if isinstance(subject, Resource):
            severity, options = settings.resolve(subject)
        else:
            severity, options = settings.config.severity, settings.config.options
        return None if severity == "off" else (severity, self.context_for(options))

    def run(self, jobs: Sequence[_Job]) -> tuple[list[tuple[str, Finding]], list[RuleCrash]]:
        """The findings, each with the uid of the subject it was found on."""
        project, config, locator = self.project, self.config, self.locator
        findings: list[tuple[str, Finding]] = []
        crashes: list[RuleCrash] = []
        for job in jobs:
            rule_id, settings = job.rule_id, job.settings
            rule_config = settings.config
            func = rule_config.rule.func
            # without overrides every subject gets the same severity and options:
            # the loop below runs over 300,000 columns and must do nothing else
            fixed = not settings.overrides
            severity = rule_config.severity
            ctx = self.context_for(rule_config.options)
            for target in job.targets:
                subjects: Sequence[Resource | Project] = (
                    [project] if target == PROJECT else self.by_type.get(target, [])
                )
                for subject in subjects:
                    if not fixed:
                        resolved = self.resolve(settings, subject)
                        if resolved is None:
                            continue
                        severity, ctx = resolved
                    try:
                        hits = func(subject, ctx)
                        if hits is None:
                            raise TypeError(f"rule `{rule_id}` returned None: {_YIELD}")
                        for hit in hits:
                            _check_hit(rule_id, hit)  # a bad one is this rule's crash
                            about = hit.resource or (
                                subject if isinstance(subject, Resource) else None
                            )
                            if about is not None:
                                finding = _finding(rule_id, severity, about, hit, locator, config)
                                findings.append((_uid(subject), finding))
                    except NormcheckError:
                        raise  # the user's input is broken (a property file, say): exit 2
                    except (KeyboardInterrupt, GeneratorExit):
                        raise
                    except BaseException:  # sys.exit() in a rule too: the rule's crash
                        crashes.append(RuleCrash(rule_id, _uid(subject), traceback.format_exc()))
        return findings, crashes


_YIELD = "a rule yields (or returns an iterable of) normcheck.api.Hit"


def _check_hit(rule_id: str, hit: object) -> None:
    """Raise TypeError naming what is wrong with what a rule yielded: found here,
    in the rule's own try, not later in sorting or a report (blamed on normcheck)."""
    if not isinstance(hit, Hit):
        raise TypeError(f"rule `{rule_id}` yielded {_shown(hit)}: {_YIELD}")
    wrong = None
    if not isinstance(hit.message, str):
        wrong = f"`message` {_shown(hit.message)}, not a string"
    elif not isinstance(hit.key, str):
        wrong = f"`key` {_shown(hit.key)}, not a string"
    elif not isinstance(hit.yaml_key, tuple) or not all(
        isinstance(step, (str, int, tuple)) for step in hit.yaml_key
    ):
        wrong = f"`yaml_key` {_shown(hit.yaml_key)}, not a tuple of keys and indexes"
    elif hit.where not in ("auto", "file"):
        wrong = f'`where` {_shown(hit.where)}, not "auto" or "file"'
    elif hit.line is not None and (
        not isinstance(hit.line, int) or isinstance(hit.line, bool) or hit.line < 1
    ):
        wrong = f"`line` {_shown(hit.line)}, not a line number (1 or more) or None"
    elif hit.resource is not None and not isinstance(hit.resource, Resource):
        wrong = f"`resource` {_shown(hit.resource)}, not a Resource or None"
    if wrong is not None:
        raise TypeError(f"rule `{rule_id}` yielded a Hit with {wrong}")


def _shown(value: object) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _uid(subject: Resource | Project) -> str:
    return subject.uid if isinstance(subject, Resource) else subject.name


def _finding(
    rule_id: str,
    severity: str,
    resource: Resource,
    hit: Hit,
    locator: _Locator,
    config: Config,
) -> Finding:
    file, line = locator.place(resource, hit)
    return Finding(
        file=file,
        line=line,
        rule=rule_id,
        resource=resource.uid,
        message=hit.message,
        severity=severity,
        resource_type=resource.type,
        owner=resource.owner or config.team,
        fingerprint=fingerprint(rule_id, resource.uid, hit.key),
    )


def at_or_above(findings: Iterable[Finding], level: str) -> bool:
    if level == "never":
        return False
    threshold = SEVERITY_RANK[level]
    return any(f.rank >= threshold for f in findings)


def count(findings: Iterable[Finding]) -> Mapping[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in findings:
        counts[finding.severity] += 1
    return counts
