"""The resolved configuration: values with the file and line that set them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from normcheck.checks._api import Layer, Options, Rule, Vocabulary


@dataclass(frozen=True, order=True)
class Origin:
    """Where a value was set: a configuration file and line, or a default."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


DEFAULT_ORIGIN = Origin("(default)")


@dataclass(frozen=True)
class RuleConfig:
    """One rule's effective settings before per-resource overrides."""

    rule: Rule
    severity: str
    severity_origin: Origin
    locked: bool
    locked_origin: Origin | None
    options: Options
    raw_options: Mapping[str, object]
    option_origins: Mapping[str, Origin]

    @property
    def id(self) -> str:
        return self.rule.id


@dataclass(frozen=True)
class OverrideRule:
    severity: str | None
    options: Mapping[str, object] | None
    origin: Origin
    # a locked rule's override from outside the lock's files: it may only make the
    # rule stricter on each resource it matches (see engine._Settings.resolve)
    guarded: bool = False
    where: Mapping[str, Origin] = field(default_factory=dict)  # "severity", "options"
    key: str = ""  # a guarded override's place in its file (`o2`), for its fingerprint


@dataclass(frozen=True)
class Override:
    """A local adaptation that applies to resources matching all of its criteria."""

    origin: Origin
    paths: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    rules: Mapping[str, OverrideRule] = field(default_factory=dict)

    def criteria(self) -> list[tuple[str, tuple[str, ...]]]:
        """What it matches on, by name, those given only."""
        given = [
            ("paths", self.paths),
            ("tags", self.tags),
            ("groups", self.groups),
            ("owners", self.owners),
        ]
        return [(name, values) for name, values in given if values]


@dataclass(frozen=True)
class LockViolation:
    """An attempt to weaken a locked rule; reported as ``normcheck/locked-rule``."""

    rule_id: str
    origin: Origin
    message: str
    key: str


@dataclass(frozen=True)
class Threshold:
    """When a traffic light is reached: any condition set here that holds."""

    errors: int | None = None  # at least this many errors
    warnings: int | None = None  # at least this many warnings
    infos: int | None = None  # at least this many infos
    clean_below: float | None = None  # fewer than this percent of resources clean


@dataclass(frozen=True)
class ScorecardThresholds:
    """`scorecard:` in normcheck.yml: the thresholds of `normcheck report`'s lights.
    Red when a red threshold is reached; else yellow when a yellow one is, or
    on any error; else green."""

    red: Threshold = Threshold(errors=1)
    yellow: Threshold = Threshold(warnings=1)


@dataclass(frozen=True)
class Config:
    files: tuple[str, ...]
    rules: Mapping[str, RuleConfig]
    overrides: tuple[Override, ...] = ()
    violations: tuple[LockViolation, ...] = ()
    team: str | None = None
    dialect: str | None = None
    tracking_plans: tuple[str, ...] = ()
    fail_on: str = "error"
    baseline: str | None = None
    owners: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    settings_origins: Mapping[str, Origin] = field(default_factory=dict)
    layers: tuple[Layer, ...] = ()
    paths: tuple[Path, ...] = ()  # the configuration files and plugins read, absolute
    digest: str = ""  # of their content, for the cache key
    projects: tuple[Path, ...] = ()  # absolute project folders (monorepo)
    plugin_failures: tuple[tuple[str, str], ...] = ()  # (plugin, traceback)
    rule_sources: Mapping[str, str] = field(default_factory=dict)  # rule id -> plugin or uses
    scorecard: ScorecardThresholds = ScorecardThresholds()
    # the locked rules whose errors fail a run whatever `fail_on` says: it was set
    # outside the files that lock them (a team's `fail_on: never`)
    fail_on_outranked: frozenset[str] = frozenset()

    @property
    def locked_rules(self) -> frozenset[str]:
        """The rules a rule set locks (never weakened, never baselined)."""
        return frozenset(rule_id for rule_id, setting in self.rules.items() if setting.locked)
