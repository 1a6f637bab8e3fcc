"""``run(options) -> Result``: chains the stages — load (and `dbt parse` when
stale), model, configure, evaluate, suppress, baseline, limit to changed files.

Each stage is importable and testable alone; this module only wires them."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from normcheck import baseline as baseline_mod
from normcheck import cache, suppression
from normcheck._yaml import load_yaml
from normcheck.artifacts.catalog import load_catalog
from normcheck.artifacts.manifest import drop_reads, load_manifest, prefetched, prefetching
from normcheck.checks.registry import LOCKED_RULE, UNUSED_OVERRIDE
from normcheck.config.loader import (
    display_path,
    extends_root,
    find_config,
    load_config,
    repository_root,
)
from normcheck.config.model import Config, LockViolation, Origin
from normcheck.dbt_parse import needs_parse, project_lock, run_dbt_parse
from normcheck.engine import (
    RuleCrash,
    count,
    evaluate,
    evaluate_early,
    idle_overrides,
    may_fire,
    needs_columns,
)
from normcheck.errors import UsageError
from normcheck.finding import Finding, fingerprint, sort_findings
from normcheck.project import Project, Resource
from normcheck.scope import (
    EVERYTHING,
    changed_since,
    defining_files,
    files_in,
    limit,
    scope_for,
    widened,
)

if TYPE_CHECKING:
    from normcheck.analysis import PendingAnalysis, Workers


@dataclass(frozen=True)
class RunOptions:
    project_dir: Path = Path()
    config: Path | None = None
    manifest: Path | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    paths: Sequence[Path] = ()
    since: str | None = None
    parse: str = "auto"
    baseline: Path | None = None
    use_baseline: bool = True
    use_cache: bool = True
    monorepo: Path | None = None  # a monorepo's root folder, for each of its projects
    monorepo_config: Path | None = None  # and its configuration file


@dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...]
    config: Config
    crashes: tuple[RuleCrash, ...] = ()
    checked: int = 0
    rule_count: int = 0
    rules_run: tuple[str, ...] = ()  # the rules that ran (--select / --ignore applied)
    suppressed_findings: tuple[Finding, ...] = ()
    baselined_findings: tuple[Finding, ...] = ()
    resources: Mapping[str, str] = field(default_factory=dict)  # judged uid -> owner ("" none)
    stats: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    stale_baseline: tuple[baseline_mod.Entry, ...] = ()
    baseline_path: Path | None = None
    project_dir: Path = Path()
    parts: tuple[Result, ...] = ()  # a monorepo's: one result per project, in order

    @property
    def suppressed(self) -> int:
        return len(self.suppressed_findings)

    @property
    def baselined(self) -> int:
        return len(self.baselined_findings)

    def enabled_rules(self) -> set[str]:
        """The rules that ran: as the run says, else (a result made by hand) every
        rule the configuration turns on."""
        if self.rules_run:
            return set(self.rules_run)
        return {rule_id for rule_id, rc in self.config.rules.items() if rc.severity != "off"}

    def summary(self) -> Mapping[str, int]:
        return {**count(self.findings), "suppressed": self.suppressed, "baselined": self.baselined}


def _matches_selector(rule_id: str, selectors: Sequence[str]) -> bool:
    return any(rule_id == s or rule_id.startswith(s.rstrip("/") + "/") for s in selectors)


def select_rules(config: Config, select: Sequence[str], ignore: Sequence[str]) -> list[str]:
    """Rule ids to run. Locked rules always run: the command line cannot weaken them."""
    known = set(config.rules)
    families = {r.split("/", 1)[0] for r in known}
    for selector in (*select, *ignore):
        if selector.rstrip("/") not in known | families:
            raise UsageError(f"unknown rule or family `{selector}` in --select/--ignore")
    chosen = []
    for rule_id, rule_config in config.rules.items():
        wanted = not select or _matches_selector(rule_id, select)
        if rule_config.locked or (wanted and not _matches_selector(rule_id, ignore)):
            chosen.append(rule_id)
    return chosen


def display_prefix(project_dir: Path) -> str:
    shown = display_path(project_dir.resolve())
    return "" if shown in (".", "") else shown.rstrip("/") + "/"


@dataclass(frozen=True)
class _Evaluated:
    findings: tuple[Finding, ...]
    defined_in: Mapping[str, tuple[str, ...]]  # fingerprint -> files that define its resource
    crashes: tuple[RuleCrash, ...]
    suppressed: tuple[Finding, ...]
    resources: Mapping[str, str]
    checked: int
    rule_count: int
    stats: Mapping[str, int] = field(default_factory=dict)
    blocked: tuple[LockViolation, ...] = ()  # overrides a lock held back on some resource
    idle: tuple[Origin, ...] = ()  # overrides of a configuration file that match nothing
    read: Mapping[str, str] = field(default_factory=dict)  # other files read: their stamps


SQL_TRACKING_RULES = (
    "tracking/unknown-event",
    "tracking/deprecated-event-used",
    "tracking/unused-event",
)


def sql_needed(config: Config, rule_ids: Sequence[str]) -> bool:
    """SQL is parsed when a selected rule that reads it can fire somewhere, or when
    the configuration turns the SQL analysis on (an `sql/` rule that can fire,
    selected or not) and a selected rule judges columns or reads the project: the
    columns the SQL adds are then judged as in a run of every rule, so `--select
    naming/column-type-suffix` finds what that rule finds in a full run."""
    for rule_id in rule_ids:
        if rule_id in SQL_TRACKING_RULES and not config.tracking_plans:
            continue  # nothing to cross-check without plans
        setting = config.rules.get(rule_id)
        reads_sql = rule_id.startswith("sql/") or rule_id in SQL_TRACKING_RULES
        if (reads_sql or (setting is not None and setting.rule.reads_sql)) and may_fire(
            config, rule_id
        ):
            return True
    sql_on = any(r.startswith("sql/") and may_fire(config, r) for r in config.rules)
    return sql_on and needs_columns(config, rule_ids)


_RETAINED: list[object] | None = None


def retain_for_exit() -> None:
    """Keep each run's manifest and project alive until the process exits (the
    console script ends with os._exit): freeing 300,000 objects is not free.
    Library callers and tests, which run many checks in one process, do not."""
    global _RETAINED
    _RETAINED = []


def _retain(*objects: object) -> None:
    if _RETAINED is not None:
        _RETAINED.extend(objects)
        gc.freeze()  # and the cycle collector need not walk them again


def _evaluate_project(
    project_dir: Path,
    config: Config,
    manifest_path: Path,
    rule_ids: list[str],
    use_cache: bool = True,
) -> _Evaluated:
    # Hundreds of thousands of acyclic objects are built here: the cycle
    # collector would walk them again and again for nothing.
    gc.disable()
    try:
        return _evaluate_project_now(project_dir, config, manifest_path, rule_ids, use_cache)
    finally:
        gc.enable()


def _evaluate_project_now(
    project_dir: Path, config: Config, manifest_path: Path, rule_ids: list[str], use_cache: bool
) -> _Evaluated:
    pool = None
    needs_sql = sql_needed(config, rule_ids)
    if needs_sql:
        from normcheck.analysis import start_workers

        # they get ready to parse while the manifest is decoded
        pool = start_workers(manifest=prefetched(manifest_path, keep=True))
    try:
        return _evaluate_with(
            project_dir, config, manifest_path, rule_ids, use_cache, needs_sql, pool
        )
    finally:
        if pool is not None:
            pool.close()


def _evaluate_with(
    project_dir: Path,
    config: Config,
    manifest_path: Path,
    rule_ids: list[str],
    use_cache: bool,
    needs_sql: bool,
    pool: Workers | None,
) -> _Evaluated:
    from normcheck.project import build_project  # keeps the warm path's imports small

    manifest = load_manifest(manifest_path, display_path(manifest_path.resolve()))
    catalog_path = manifest_path.parent / "catalog.json"
    catalog = load_catalog(catalog_path, display_path(catalog_path.resolve()))
    columns = needs_sql or needs_columns(config, rule_ids)
    read: dict[str, str] = {}
    if needs_sql:  # the `vars:` the models' Jinja sees, read from it
        dbt_project = project_dir.resolve() / "dbt_project.yml"
        read[str(dbt_project)] = cache.stamp(dbt_project)
    parsing: PendingAnalysis | None = None
    with contextlib.ExitStack() as stack:

        def start_parsing(relations: Project) -> None:  # models built, not yet columns
            nonlocal parsing
            from normcheck.analysis import start_analysis

            cache_file = cache.sql_cache_file(relations.root) if use_cache else None
            started = start_analysis(relations, config.dialect, cache_file, pool=pool)
            parsing = stack.enter_context(started)

        project = build_project(
            manifest,
            catalog,
            project_dir.resolve(),
            display_path(manifest_path.resolve()),
            columns=columns,
            relations_ready=start_parsing if needs_sql else None,
            owners=config.owners,
        )
        if config.tracking_plans:
            from normcheck.tracking.load import load_plans
            from normcheck.tracking.resources import with_plans

            project = with_plans(project, load_plans(project_dir, config.tracking_plans))
        prefix = display_prefix(project_dir)
        sql = None
        stats: dict[str, int] = {}
        early = None
        if parsing is not None:
            from normcheck.analysis import with_sql_columns

            # while the workers parse: the rules whose findings the SQL cannot change
            early = evaluate_early(project, config, rule_ids, prefix)
            sql = parsing.finish(project)
            project = with_sql_columns(project, sql, catalog)
            sql.project = project
            coverage = sql.coverage()
            stats = {"sql_models": coverage.models, "sql_parsed": coverage.parsed}
            if sql.dialect == "" and project.adapter:  # said once the run is over
                stats["sql_generic"] = 1
    evaluation = evaluate(project, config, rule_ids, prefix, sql, early)
    # and what else this run built: freeing it costs 10 ms on 5,000 models
    _retain(manifest, project, evaluation, sql, early, parsing, catalog)
    selected = set(rule_ids)

    def severity_of(rule_id: str, resource: Resource) -> str:
        return evaluation.severity_of(rule_id, resource) if rule_id in selected else "off"

    outcome = suppression.apply(
        evaluation.findings,
        suppression.collect(project),
        config,
        severity_of,
        evaluation.place_suppression,
        suppression.today(),
    )
    findings = sort_findings((*outcome.kept, *outcome.honesty))
    read.update(evaluation.locator.stamps)  # the properties files findings are placed in
    defined_in: dict[str, tuple[str, ...]] = {}
    under: dict[str, str] = {}
    for finding in findings:
        resource = project.resources.get(finding.resource)
        if resource is not None:
            defined_in[finding.fingerprint] = defining_files(resource, project, under)
    rule_count = sum(1 for r in rule_ids if config.rules[r].severity != "off")
    checked = 0
    resources = {}  # owner of each checked resource but columns (the scorecard's)
    team = config.team or ""
    root = project.name
    for resource in project.resources.values():
        if resource.package == root:  # project.owned(), inlined: 300,000 calls
            if resource.type != "column":
                resources[resource.uid] = resource.owner or team
            elif not columns:  # no rule that ran judges columns: none was checked
                continue
            checked += 1
    return _Evaluated(
        findings,
        defined_in,
        evaluation.crashes,
        outcome.hidden,
        resources,
        checked,
        rule_count,
        stats,
        evaluation.blocked(),
        _idle(project, config, selected),
        read,
    )


def _idle(project: Project, config: Config, selected: set[str]) -> tuple[Origin, ...]:
    """Where the overrides that match nothing are (which of them to report, the
    run decides: see :func:`_judged_overrides`)."""
    if UNUSED_OVERRIDE not in selected or config.rules[UNUSED_OVERRIDE].severity == "off":
        return ()
    return tuple(o.origin for o in idle_overrides(project, config.overrides))


def _judged_overrides(config: Config, options: RunOptions) -> set[Path]:
    """The files whose idle overrides are the run's to report: the configuration
    it runs with, and in a monorepo's run the root's (judged across its
    projects, see :func:`_idle_in_all`); not a rule set, nor, in a run inside one
    project, the monorepo's file its own extends (its overrides are for the
    other projects too)."""
    judged = {Path(f).resolve() for f in config.files[-1:]}
    if options.monorepo_config is not None:
        judged.add(options.monorepo_config.resolve())
    return judged


def _cached_or_evaluated(
    project_dir: Path,
    config: Config,
    manifest_path: Path,
    rule_ids: list[str],
    use_cache: bool,
    whole_run_cache: bool = True,
) -> _Evaluated:
    """The run's findings from the cache, else evaluated (and cached). Without
    ``whole_run_cache`` only the per-model SQL facts are cached."""
    # a manifest that is no file (a pipe) has no identity to key its findings by
    use_run_cache = use_cache and whole_run_cache and cache.is_file(manifest_path)
    key = cache.run_key(
        manifest_path,
        manifest_path.parent / "catalog.json",
        config.digest,
        [
            str(project_dir.resolve()),
            str(Path.cwd()),
            *rule_ids,
            *_plan_identity(project_dir, config),
        ],
    )
    hit = cache.load(key) if use_run_cache else None
    if hit is not None and not cache.unchanged(hit.read):
        # a file it read changed, which the manifest does not show (a run limited to
        # some files checks only those for a stale manifest): read as it is now
        hit = None
    if hit is not None:
        defined_in = {c.fingerprint: tuple(c.defined_in) for c in hit.findings if c.defined_in}
        return _Evaluated(
            findings=tuple(cache.finding(c) for c in hit.findings),
            defined_in=defined_in,
            crashes=(),
            suppressed=tuple(cache.finding(c) for c in hit.suppressed),
            resources=hit.resources,
            checked=hit.checked,
            rule_count=hit.rule_count,
            stats={**hit.stats, "cached": 1},
            blocked=tuple(hit.blocked),
            idle=tuple(hit.idle),
        )
    evaluated = _evaluate_project(project_dir, config, manifest_path, rule_ids, use_cache)
    if use_run_cache and not evaluated.crashes:
        cached = cache.CachedRun(
            findings=[
                cache.cached(f, evaluated.defined_in.get(f.fingerprint, ()))
                for f in evaluated.findings
            ],
            suppressed=[cache.cached(f, ()) for f in evaluated.suppressed],
            resources=dict(evaluated.resources),
            checked=evaluated.checked,
            rule_count=evaluated.rule_count,
            stats=dict(evaluated.stats),
            blocked=list(evaluated.blocked),
            idle=list(evaluated.idle),
            read=dict(evaluated.read),
        )
        cache.store(key, cached)
        cache.note_stored(manifest_path)
    return evaluated


def _plan_files(project_dir: Path, config: Config) -> list[Path]:
    if not config.tracking_plans:
        return []
    from normcheck.tracking.load import find_plan_files

    return find_plan_files(project_dir, config.tracking_plans)


def _unmatched_plan_notes(
    project_dir: Path, config: Config, monorepo: Path | None = None
) -> list[str]:
    if not config.tracking_plans:
        return []
    from normcheck.tracking.load import unmatched_globs

    origin = config.settings_origins.get("tracking_plans")
    where = f" ({origin})" if origin is not None else ""
    if monorepo is not None:  # each project's own folder: the others may have its plans
        where += f" in project `{os.path.relpath(project_dir, monorepo)}`"
    notes = []
    for glob in unmatched_globs(project_dir, config.tracking_plans):
        hint = ": write `/` between folders, not `\\`" if "\\" in glob else ""
        notes.append(
            f"tracking_plans glob `{glob}`{where} matches no file, so no plan of it is "
            f"checked{hint}"
        )
    return notes


def _plan_identity(project_dir: Path, config: Config) -> list[str]:
    """Tracking plans change without the manifest changing: their bytes are in the key."""
    import hashlib

    out = []
    for path in _plan_files(project_dir, config):
        try:
            out.append(f"{path}:{hashlib.sha256(path.read_bytes()).hexdigest()}")
        except OSError:
            out.append(f"{path}:unreadable")
    return out


PLUGIN_CRASH = "plugin:"


def _plugin_crashes(config: Config) -> list[RuleCrash]:
    return [RuleCrash(PLUGIN_CRASH, name, text) for name, text in config.plugin_failures]


def _config_resource(file: str, project_dir: Path, monorepo: Path | None) -> str:
    """A configuration file as a finding's resource: from its repository's root (else
    from the project), not from wherever normcheck ran, nor per project of a monorepo:
    its fingerprint, in SARIF, must be one."""
    full = Path(file).resolve()
    base = repository_root(str(full.parent)) or (monorepo or project_dir).resolve()
    try:
        return Path(os.path.relpath(full, base)).as_posix()
    except ValueError:  # another drive (Windows)
        return full.as_posix()


def _lock_findings(
    config: Config,
    violations: Iterable[LockViolation],
    project_dir: Path,
    monorepo: Path | None,
) -> list[Finding]:
    findings = []
    for v in violations:
        resource = _config_resource(v.origin.file, project_dir, monorepo)
        findings.append(
            Finding(
                file=v.origin.file,
                line=v.origin.line or 1,
                rule=LOCKED_RULE,
                resource=resource,
                message=v.message,
                severity="error",
                resource_type="config",
                owner=config.team,
                fingerprint=fingerprint(LOCKED_RULE, resource, f"{v.rule_id}:{v.key}"),
            )
        )
    return findings


def _idle_findings(
    config: Config, idle: Iterable[Origin], project_dir: Path, monorepo: Path | None
) -> list[Finding]:
    overrides = {o.origin: o for o in config.overrides}
    severity = config.rules[UNUSED_OVERRIDE].severity
    findings = []
    for origin in idle:
        override = overrides[origin]  # the cache key holds the configuration's digest
        criteria = "; ".join(
            f"{name} {', '.join(f'`{v}`' for v in values)}" for name, values in override.criteria()
        )
        resource = _config_resource(origin.file, project_dir, monorepo)
        rules = ",".join(sorted(override.rules))
        findings.append(
            Finding(
                file=origin.file,
                line=origin.line or 1,
                rule=UNUSED_OVERRIDE,
                resource=resource,
                message=f"override matches none of the project's resources ({criteria or 'any'}), "
                "so it changes nothing: fix its `match`, or remove it",
                severity=severity,
                resource_type="config",
                owner=config.team,
                # what it matches and sets, not its line: moving it keeps its fingerprint
                fingerprint=fingerprint(UNUSED_OVERRIDE, resource, f"override:{criteria}:{rules}"),
            )
        )
    return findings


def _baseline_path(options: RunOptions, config: Config, project_dir: Path) -> Path | None:
    if options.baseline is not None:
        return options.baseline
    if config.baseline:
        return project_dir / config.baseline
    return None


def _a_dbt_project(project_dir: Path) -> None:
    """Say so when the folder is no dbt project (run from `models/`, say): "manifest
    not found: run `dbt parse`" sent the user to parse a folder dbt cannot parse."""
    if (project_dir / "dbt_project.yml").is_file():
        return
    folder = project_dir.resolve()
    hint = "run normcheck in the dbt project's folder, or pass --project-dir"
    for above in folder.parents:
        if (above / "dbt_project.yml").is_file():
            hint = f"pass --project-dir {os.path.relpath(above, Path.cwd())}"
            break
    raise UsageError(
        f"no dbt_project.yml in {display_path(folder) or '.'} (and no manifest): {hint}"
    )


# dbt's files whose change can change any resource of the project
PROJECT_WIDE = ("dbt_project.yml", "packages.yml", "dependencies.yml")


def _parse_alone(
    options: RunOptions,
    project_dir: Path,
    manifest_path: Path,
    changed: list[Path],
    notes: list[str],
) -> None:
    """`dbt parse`, while no other normcheck run parses the project or reads its
    manifest; not again when another run's made it fresh while this one waited."""
    with project_lock(project_dir, exclusive=True):
        if options.parse == "auto" and not needs_parse("auto", project_dir, manifest_path, changed):
            notes[-1] = notes[-1].replace("running `dbt parse`", "parsed by another normcheck run")
            return
        drop_reads()  # dbt writes it anew
        run_dbt_parse(project_dir)


def run_project(options: RunOptions, project_dir: Path, config: Config) -> Result:
    """One dbt project: every stage, in order."""
    notes: list[str] = []
    manifest_path = options.manifest or project_dir / "target" / "manifest.json"
    if options.manifest is None and not manifest_path.is_file():
        _a_dbt_project(project_dir)
    changed = files_in([Path(p) for p in options.paths])
    if options.since is not None:
        changed += changed_since(options.since, project_dir)
    whole_run_cache = True
    # a changed configuration (normcheck's, or dbt's project files, whose `+access`,
    # `+meta`, `vars` reach every model) re-checks the whole project: then the whole
    # project's files tell whether the manifest is fresh, not only the files passed
    project_wide = [*config.paths, *(project_dir / name for name in PROJECT_WIDE)]
    configs = {path.resolve() for path in project_wide}
    if any(path.resolve() in configs for path in changed):
        changed_for_parse: list[Path] = []
    else:
        changed_for_parse = changed
    rule_ids = select_rules(config, options.select, options.ignore)
    with contextlib.ExitStack() as locked:
        if options.manifest is None:
            freshness = needs_parse(options.parse, project_dir, manifest_path, changed_for_parse)
            if freshness is not None:
                notes.append(freshness[0])
                if freshness[1]:
                    _parse_alone(options, project_dir, manifest_path, changed_for_parse, notes)
                else:
                    # files changed after the manifest (--parse never): the lines read from
                    # them may have moved, which the run's cache key cannot see
                    whole_run_cache = False
            # read while no other normcheck run's `dbt parse` writes it (dbt writes it in
            # place: a run reading meanwhile found it cut short, "invalid JSON")
            locked.enter_context(project_lock(project_dir, exclusive=False))
        elif needs_parse("never", project_dir, manifest_path, changed_for_parse) is not None:
            whole_run_cache = False  # the same with a manifest given (--manifest), said or not
        evaluated = _cached_or_evaluated(
            project_dir, config, manifest_path, rule_ids, options.use_cache, whole_run_cache
        )
    if evaluated.stats.get("sql_generic"):
        notes.append(
            "sqlglot has no dialect for this project's adapter: its SQL is parsed as generic "
            "SQL; set `dialect:` in normcheck.yml to the nearest one"
        )
    notes += _unmatched_plan_notes(project_dir, config, options.monorepo)
    judged = _judged_overrides(config, options)
    idle = [o for o in evaluated.idle if Path(o.file).resolve() in judged]
    violations = (*config.violations, *evaluated.blocked)
    findings = [
        *evaluated.findings,
        *_lock_findings(config, violations, project_dir, options.monorepo),
        *_idle_findings(config, idle, project_dir, options.monorepo),
    ]
    baselined: tuple[Finding, ...] = ()
    stale: tuple[baseline_mod.Entry, ...] = ()
    path = _baseline_path(options, config, project_dir) if options.use_baseline else None
    if path is not None:
        shown = display_path(path.resolve())
        entries = baseline_mod.load(path, shown)
        outcome = baseline_mod.apply(findings, entries, config.locked_rules)
        findings = list(outcome.kept)
        baselined, stale = outcome.hidden, outcome.stale
        findings += [
            Finding(
                shown,
                e.line,
                LOCKED_RULE,
                e.resource,
                f"baseline entry for locked rule `{e.rule}` has no effect: fix the finding "
                "(the entry is then stale: `normcheck baseline --prune` drops it)",
                "error",
                "baseline",
                finding.owner,  # the finding's team's, as the finding
                fingerprint(LOCKED_RULE, e.resource, f"baseline:{e.fingerprint}"),
            )
            for e, finding in outcome.locked
        ]
    rules_run = tuple(r for r in rule_ids if config.rules[r].severity != "off")
    # an entry of a rule that did not run (`--select`, `--ignore`, `off`) is not known
    # stale; one of a rule that no longer exists is (none of its plugins failed to load)
    ran = set(rules_run)
    gone = set() if config.plugin_failures else {e.rule for e in stale} - set(config.rules)
    stale = tuple(e for e in stale if e.rule in ran or e.rule in gone)
    scope = EVERYTHING
    if options.paths or options.since is not None:
        scope = scope_for(changed, project_wide)
        if not scope.everything:
            scope = widened(scope, project_dir, manifest_path, _plan_files(project_dir, config))
        if not scope.everything:
            stale = ()  # only a whole-project run can tell that an entry no longer matches
    defined_in = evaluated.defined_in
    return Result(
        findings=sort_findings(limit(findings, defined_in, scope)),
        config=config,
        crashes=(*_plugin_crashes(config), *evaluated.crashes),
        checked=evaluated.checked,
        rule_count=evaluated.rule_count,
        rules_run=rules_run,
        suppressed_findings=limit(evaluated.suppressed, defined_in, scope),
        baselined_findings=limit(baselined, defined_in, scope),
        resources=evaluated.resources,
        stats=evaluated.stats,
        notes=tuple(notes),
        stale_baseline=stale,
        baseline_path=path,
        project_dir=project_dir,
    )


def run(options: RunOptions) -> Result:
    """Check one project, or every project a monorepo's `projects:` lists (a project
    directory that does not exist: :func:`load_config` says so)."""
    with prefetching(_read_ahead(options)):
        config = load_config(options.project_dir, options.config)
        if not config.projects:
            return run_project(options, options.project_dir, config)
    if options.manifest is not None:
        raise UsageError(
            "--manifest names one project's manifest, but the configuration lists "
            "`projects:`, each checked with its own target/manifest.json: check one "
            "project with --project-dir PROJECT --manifest PATH"
        )
    results = []
    root_config = options.config or find_config(options.project_dir)
    for folder, config_file, project_config in project_configs(config, root_config):
        sub = replace(
            options,
            project_dir=folder,
            manifest=None,
            config=config_file,
            monorepo=options.project_dir,
            monorepo_config=root_config,
        )
        results.append(run_project(sub, folder, project_config))
    return combine(config, results)


def project_configs(
    config: Config, root_config: Path | None
) -> Iterator[tuple[Path, Path | None, Config]]:
    """Each project a monorepo's `projects:` lists: its folder, the configuration file
    it runs with (its own, else the monorepo's) and that configuration loaded."""
    # a project's own config may extend the monorepo's, up to the root config's repository
    within = extends_root(root_config) if root_config is not None else None
    for folder in config.projects:
        if not (folder / "dbt_project.yml").is_file():
            if not folder.exists():
                what = "which does not exist"
            elif folder.is_dir():
                what = "which holds no dbt_project.yml: not a dbt project"
            else:
                what = "a file, not a project folder"
            raise UsageError(
                f"`projects:` lists `{display_path(folder)}`, {what}",
                None if root_config is None else display_path(root_config.resolve()),
            )
        config_file = find_config(folder) or root_config
        loaded = load_config(folder, config_file, within)
        if config_file is not None and config_file != root_config:
            loaded = _keeps_the_locks(config, loaded, config_file)
        yield folder, config_file, loaded


def first_few(names: Sequence[str], shown: int = 3) -> str:
    """The first names in backticks, and how many more: "`a`, `b`, `c` and 2 more"."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(f"`{name}`" for name in names[:shown]) + more


def _keeps_the_locks(root: Config, project: Config, config_file: Path) -> Config:
    """A project's own configuration that leaves out rules the monorepo's locks (it
    extends neither the monorepo's nor the rule set that locks them): reported as
    `normcheck/locked-rule` at its `extends`, since those locks do not hold there."""
    lost = sorted(root.locked_rules - project.locked_rules - {LOCKED_RULE})
    if not lost:
        return project
    shown = display_path(config_file.resolve())
    line = load_yaml(config_file).line(("extends",)) or 1
    named = first_few(lost)
    violation = LockViolation(
        "projects",
        Origin(shown, line),
        f"this project's configuration does not extend the monorepo's, so the rules it "
        f"locks do not hold here ({named}): extend it, or the rule set that locks them",
        "projects",
    )
    return replace(project, violations=(*project.violations, violation))


def _read_ahead(options: RunOptions) -> Path | None:
    """The manifest to read while the configuration loads (about 0.1 s of a
    5,000-model run): unless a run stored for it as it is now may be reused
    (a warm run never reads it) or `dbt parse` is sure to write it anew."""
    if options.manifest is None and options.parse == "always":
        return None
    manifest = options.manifest or options.project_dir / "target" / "manifest.json"
    if options.use_cache and cache.stored_for(manifest):
        return None
    return manifest


def combine(config: Config, results: Sequence[Result]) -> Result:
    # the reports look rules up in the combined result's configuration: the rules of
    # each project's own (a plugin only a project's file lists) too
    rules = dict(config.rules)
    sources = dict(config.rule_sources)
    for result in results:
        for rule_id, rule_config in result.config.rules.items():
            rules.setdefault(rule_id, rule_config)
        for rule_id, source in result.config.rule_sources.items():
            sources.setdefault(rule_id, source)
    config = replace(config, rules=rules, rule_sources=sources)
    seen: dict[str, Finding] = {}
    idle = _idle_in_all(results)
    for result in results:
        for finding in result.findings:
            if finding.rule == UNUSED_OVERRIDE and (finding.file, finding.line) not in idle:
                continue
            seen.setdefault(f"{finding.fingerprint}:{finding.file}", finding)
    return Result(
        findings=sort_findings(seen.values()),
        config=config,
        crashes=tuple(c for r in results for c in r.crashes),
        checked=sum(r.checked for r in results),
        rule_count=max((r.rule_count for r in results), default=0),
        rules_run=tuple(sorted({rule for r in results for rule in r.rules_run})),
        suppressed_findings=tuple(f for r in results for f in r.suppressed_findings),
        baselined_findings=tuple(f for r in results for f in r.baselined_findings),
        resources={k: v for r in results for k, v in r.resources.items()},
        stats={
            key: sum(r.stats.get(key, 0) for r in results)
            for key in sorted({k for r in results for k in r.stats})
        },
        notes=tuple(dict.fromkeys(n for r in results for n in r.notes)),  # each once
        stale_baseline=_stale_in_all(results),
        parts=tuple(results),
    )


def _idle_in_all(results: Sequence[Result]) -> set[tuple[str, int]]:
    """The overrides (file, line) that match nothing in every project whose
    configuration holds them: a monorepo's `normcheck.yml` may have an override
    for one project's folder, which the others do not have."""
    reported: dict[tuple[str, int], int] = {}
    for result in results:
        for finding in result.findings:
            if finding.rule == UNUSED_OVERRIDE:
                place = (finding.file, finding.line)
                reported[place] = reported.get(place, 0) + 1
    return {
        (file, line)
        for (file, line), count in reported.items()
        if count == sum(1 for r in results if file in r.config.files)
    }


def _stale_in_all(results: Sequence[Result]) -> tuple[baseline_mod.Entry, ...]:
    """The entries no project matched: one baseline file given to every project
    (`--baseline`) holds each project's debt, which the others do not match."""
    by_file: dict[Path, list[set[baseline_mod.Entry]]] = {}
    for result in results:
        if result.baseline_path is not None:
            stale = set(result.stale_baseline)
            by_file.setdefault(result.baseline_path.resolve(), []).append(stale)
    return tuple(sorted(e for sets in by_file.values() for e in set.intersection(*sets)))
