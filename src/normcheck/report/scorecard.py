"""The traffic-light scorecard: per owning team and per rule family, the counts
of errors, warnings, infos, suppressed and baselined findings, the share of
the team's resources that are clean, and a light (red, yellow, green).

A resource is *clean* when no open error or warning is left on it (infos are
advice; suppressed and baselined findings are counted, not held against it).
A column's findings count against the model or source that holds it. The
lights follow ``scorecard:`` in normcheck.yml: red when a red threshold is
reached; otherwise yellow when a yellow one is, or on any error; otherwise
green."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from normcheck.config.model import ScorecardThresholds, Threshold
from normcheck.finding import Finding
from normcheck.project import registered_team
from normcheck.run import Result

LIGHTS = ("red", "yellow", "green")
NO_OWNER = "(no owner)"
OPEN, SUPPRESSED, BASELINED = "open", "suppressed", "baselined"


@dataclass(frozen=True)
class Counts:
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    suppressed: int = 0
    baselined: int = 0

    @property
    def open(self) -> int:
        return self.errors + self.warnings + self.infos


@dataclass(frozen=True)
class Cell:
    """One team (or all of them) and one rule family (or all of them)."""

    counts: Counts
    resources: int  # the team's resources (columns roll up to their model)
    clean: int  # of those, the ones with no open error or warning here
    light: str

    @property
    def share(self) -> float | None:
        """The share of clean resources, 0..1; None when there are no resources."""
        return self.clean / self.resources if self.resources else None

    @property
    def percent(self) -> str:
        share = self.share
        return "n/a" if share is None else f"{share:.0%}"


@dataclass(frozen=True)
class TeamRow:
    team: str  # "" for findings and resources nobody owns
    registered: bool  # in the `owners:` registry (True when there is no registry)
    total: Cell
    families: Mapping[str, Cell]

    @property
    def name(self) -> str:
        return self.team or NO_OWNER


@dataclass(frozen=True)
class Row:
    """A finding with its team and whether it is open, suppressed or baselined."""

    finding: Finding
    status: str
    team: str


@dataclass(frozen=True)
class Scorecard:
    teams: tuple[TeamRow, ...]  # red first, then yellow, then green; by name within
    families: tuple[str, ...]
    total: Cell
    family_totals: Mapping[str, Cell]
    thresholds: ScorecardThresholds
    rows: tuple[Row, ...]  # every finding: open by severity, then suppressed, baselined

    def lights(self) -> Mapping[str, int]:
        """How many teams are red, yellow and green."""
        found = Counter(t.total.light for t in self.teams)
        return {light: found[light] for light in LIGHTS}


def _reached(counts: Counts, share: float | None, level: Threshold) -> bool:
    return (
        (level.errors is not None and counts.errors >= level.errors)
        or (level.warnings is not None and counts.warnings >= level.warnings)
        or (level.infos is not None and counts.infos >= level.infos)
        or (level.clean_below is not None and share is not None and share * 100 < level.clean_below)
    )


def light(counts: Counts, share: float | None, thresholds: ScorecardThresholds) -> str:
    if _reached(counts, share, thresholds.red):
        return "red"
    if counts.errors or _reached(counts, share, thresholds.yellow):
        return "yellow"
    return "green"


def describe(thresholds: ScorecardThresholds) -> str:
    """The thresholds in one line, e.g. ``red: 1+ errors; yellow: 1+ warnings``."""

    def level(t: Threshold) -> str:
        parts = [
            f"{n}+ {what}"
            for n, what in ((t.errors, "errors"), (t.warnings, "warnings"), (t.infos, "infos"))
            if n is not None
        ]
        if t.clean_below is not None:
            parts.append(f"under {t.clean_below:g}% clean")
        return " or ".join(parts) or "never"

    # an error never leaves a cell green: said where red needs more than one
    errors = "" if thresholds.red.errors == 1 else ", or any error"
    yellow = level(thresholds.yellow) + errors
    return f"red: {level(thresholds.red)}; yellow: {yellow}; green: otherwise"


def resource_of(uid: str, resources: Mapping[str, str]) -> str | None:
    """The judged resource a finding is about: itself, or the model or source
    that holds a column (``model.shop.orders.amount`` -> ``model.shop.orders``)."""
    while uid:
        if uid in resources:
            return uid
        uid, dot, _ = uid.rpartition(".")
        if not dot:
            return None
    return None


class _Tally:
    """Mutable counters while the findings are read once; frozen into cells."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str]] = Counter()  # (team, family, kind)
        self.unclean: dict[tuple[str, str], set[str]] = {}  # (team, family) -> resources

    def add(self, row: Row, resources: Mapping[str, str]) -> None:
        finding = row.finding
        kind = finding.severity if row.status == OPEN else row.status
        for family in (finding.family, ""):
            self.counts[(row.team, family, kind)] += 1
        if row.status != OPEN or finding.severity not in ("error", "warning"):
            return
        uid = resource_of(finding.resource, resources)
        if uid is not None:
            owner = resources[uid]
            for family in (finding.family, ""):
                self.unclean.setdefault((owner, family), set()).add(uid)

    def cell(
        self, teams: Iterable[str], family: str, sizes: Mapping[str, int], t: ScorecardThresholds
    ) -> Cell:
        members = tuple(teams)

        def total(kind: str) -> int:
            return sum(self.counts[(team, family, kind)] for team in members)

        counts = Counts(
            errors=total("error"),
            warnings=total("warning"),
            infos=total("info"),
            suppressed=total(SUPPRESSED),
            baselined=total(BASELINED),
        )
        size = sum(sizes.get(team, 0) for team in members)
        unclean = sum(len(self.unclean.get((team, family), ())) for team in members)
        share = (size - unclean) / size if size else None
        return Cell(counts, size, size - unclean, light(counts, share, t))


def team_of(owner: str, registry: Mapping[str, Mapping[str, object]]) -> str:
    """The team an owner names in the registry, else the owner as written."""
    return registered_team(owner, registry) or owner


def rows(result: Result) -> tuple[Row, ...]:
    """Every finding of the result with its status and team: the open ones as
    sorted by severity (errors first), then the suppressed, then the baselined."""
    registry = result.config.owners

    def row(finding: Finding, status: str) -> Row:
        return Row(finding, status, team_of(finding.owner or "", registry))

    out = [row(f, OPEN) for f in sorted(result.findings, key=lambda f: (-f.rank, f))]
    out += [row(f, SUPPRESSED) for f in sorted(result.suppressed_findings)]
    out += [row(f, BASELINED) for f in sorted(result.baselined_findings)]
    return tuple(out)


def build(result: Result) -> Scorecard:
    config = result.config
    thresholds = config.scorecard
    all_rows = rows(result)
    resources = {uid: team_of(owner, config.owners) for uid, owner in result.resources.items()}
    tally = _Tally()
    for row in all_rows:
        tally.add(row, resources)
    sizes = Counter(resources.values())
    # the families of the rules that ran (not those `--select` / `--ignore` left out,
    # which would read green)
    families = sorted(
        {config.rules[r].rule.family for r in result.enabled_rules() if r in config.rules}
        | {row.finding.family for row in all_rows}
    )
    team_names = set(sizes) | {row.team for row in all_rows}
    teams = [
        TeamRow(
            team=team,
            registered=not config.owners or not team or team in config.owners,
            total=tally.cell((team,), "", sizes, thresholds),
            families={f: tally.cell((team,), f, sizes, thresholds) for f in families},
        )
        for team in team_names
    ]
    teams.sort(key=lambda t: (LIGHTS.index(t.total.light), t.team == "", t.team))
    return Scorecard(
        teams=tuple(teams),
        families=tuple(families),
        total=tally.cell(team_names, "", sizes, thresholds),
        family_totals={f: tally.cell(team_names, f, sizes, thresholds) for f in families},
        thresholds=thresholds,
        rows=all_rows,
    )
