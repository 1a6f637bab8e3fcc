"""``run(options) -> Result``: chains load, model, configure, evaluate.

Each stage is importable and testable alone; this module only wires them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from normcheck.artifacts.catalog import load_catalog
from normcheck.artifacts.manifest import load_manifest
from normcheck.config.loader import display_path, load_config
from normcheck.config.model import Config
from normcheck.engine import RuleCrash, count, evaluate
from normcheck.errors import UsageError
from normcheck.finding import Finding
from normcheck.project import Project, build_project


@dataclass(frozen=True)
class RunOptions:
    project_dir: Path = Path()
    config: Path | None = None
    manifest: Path | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()


@dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...]
    config: Config
    project: Project
    crashes: tuple[RuleCrash, ...] = ()
    checked: int = 0
    rule_count: int = 0
    suppressed: int = 0
    baselined: int = 0
    notes: tuple[str, ...] = field(default=())

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
        if rule_config.locked or (
            (not select or _matches_selector(rule_id, select))
            and not _matches_selector(rule_id, ignore)
        ):
            chosen.append(rule_id)
    return chosen


def display_prefix(project_dir: Path) -> str:
    shown = display_path(project_dir.resolve())
    return "" if shown in (".", "") else shown.rstrip("/") + "/"


def run(options: RunOptions) -> Result:
    project_dir = options.project_dir
    if not project_dir.is_dir():
        raise UsageError(f"project directory `{project_dir}` does not exist")
    config = load_config(project_dir, options.config)
    manifest_path = options.manifest or project_dir / "target" / "manifest.json"
    manifest = load_manifest(manifest_path, display_path(manifest_path.resolve()))
    catalog_path = manifest_path.parent / "catalog.json"
    catalog = load_catalog(catalog_path, display_path(catalog_path.resolve()))
    project = build_project(manifest, catalog, project_dir.resolve())
    rule_ids = select_rules(config, options.select, options.ignore)
    evaluation = evaluate(project, config, rule_ids, display_prefix(project_dir))
    checked = sum(1 for r in project.resources.values() if project.owned(r))
    return Result(
        findings=evaluation.findings,
        config=config,
        project=project,
        crashes=evaluation.crashes,
        checked=checked,
        rule_count=sum(1 for r in rule_ids if config.rules[r].severity != "off"),
    )
