"""Test your rules the way normcheck tests its own: real `dbt parse` on small
projects, and each rule's documented `## Example` (must fire) and
`## Use instead` (must not) executed for real.

    from normcheck.testing import check_examples, findings_of

    def test_my_rule_docs(tmp_path):
        check_examples(my_rule, tmp_path, plugins=[Path("governance/rules.py")])

Needs dbt-core and an adapter (`pip install 'normcheck[dbt]'`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from normcheck.checks._api import Rule
from normcheck.finding import Finding

DBT_PROJECT = """\
name: {name}
version: "1.0"
config-version: 2
profile: {name}
"""
PROFILES = """\
{name}:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: ":memory:"
"""
SECTIONS = ("What it finds", "Why it matters", "Example", "Use instead")

_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)
_BLOCK = re.compile(r"^```(\w+) (\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def sections(rule: Rule) -> dict[str, str]:
    """The rule doc's `## ` sections by title."""
    parts = _SECTION.split(rule.doc)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


# dbt refuses metrics without a time spine; examples leave it out to stay short.
TIME_SPINE = {
    "models/metricflow_time_spine.sql": "select cast('2024-01-01' as date) as date_day\n",
    "models/metricflow_time_spine.yml": """\
version: 2
models:
  - name: metricflow_time_spine
    time_spine: {standard_granularity_column: date_day}
    columns: [{name: date_day, granularity: day}]
""",
}


def example_files(rule: Rule, section: str) -> dict[str, str]:
    """The files of a doc section: fenced blocks whose info string is `lang path`
    (plus a time spine when the section declares metrics, which dbt requires)."""
    body = sections(rule).get(section, "")
    files = {path: text for _lang, path, text in _BLOCK.findall(body)}
    if any(re.search(r"^metrics:", text, re.MULTILINE) for text in files.values()):
        files = {**TIME_SPINE, **files}
    return files


def write_files(root: Path, files: Mapping[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def dbt_parse(project_dir: Path) -> None:
    """Real `dbt parse`, in-process through dbt-core's Python API, tracking off."""
    os.environ["DO_NOT_TRACK"] = "1"
    from dbt.cli.main import dbtRunner

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dbtRunner().invoke(
            [
                "parse",
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(project_dir),
                "--no-partial-parse",
                "--quiet",
            ]
        )
    if not result.success:
        raise RuntimeError(f"dbt parse failed in {project_dir}: {result.exception}")


def dbt_project(root: Path, files: Mapping[str, str], name: str = "shop") -> Path:
    """A DuckDB dbt project with ``files``, parsed by real dbt.

    With ``NORMCHECK_TEST_DBT_CACHE`` set to a folder, manifests are kept there by the
    hash of the inputs and the dbt version, so identical projects are parsed once."""
    project = root / name
    all_files = {
        "dbt_project.yml": DBT_PROJECT.format(name=name),
        "profiles.yml": PROFILES.format(name=name),
        **files,
    }
    write_files(project, all_files)
    cache = os.environ.get("NORMCHECK_TEST_DBT_CACHE")
    if not cache:
        dbt_parse(project)
        return project
    from importlib.metadata import version

    key = hashlib.sha256(
        json.dumps([version("dbt-core"), sorted(all_files.items())]).encode()
    ).hexdigest()[:24]
    cached = Path(cache) / key / "manifest.json"
    target = project / "target"
    target.mkdir(exist_ok=True)
    if cached.is_file():
        shutil.copyfile(cached, target / "manifest.json")
        return project
    dbt_parse(project)
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target / "manifest.json", cached)
    return project


def findings_of(
    rule_id: str, project: Path, config: Path | None = None, use_cache: bool = False
) -> list[Finding]:
    """The findings of one rule when normcheck checks ``project``."""
    from normcheck.run import RunOptions, run

    previous = Path.cwd()
    os.chdir(project)
    try:
        result = run(
            RunOptions(project_dir=Path(), config=config, parse="never", use_cache=use_cache)
        )
    finally:
        os.chdir(previous)
    return [f for f in result.findings if f.rule == rule_id]


def harness_config(
    project: Path, rule: Rule, files: Mapping[str, str], plugins: Sequence[Path] = ()
) -> Path:
    """The example's own configuration (or normcheck:default) with the rule under test
    on: the run starts from it, as it would in the project (a rule about the
    configuration a run starts from, `normcheck/unused-override`, judges it)."""
    import yaml  # only for the docs' examples

    data: dict[str, object] = {"extends": ["normcheck:default"]}
    if "normcheck.yml" in files:
        loaded = yaml.safe_load(files["normcheck.yml"])
        data = dict(loaded) if isinstance(loaded, dict) else {}
    if plugins:
        listed = data.get("plugins")
        data["plugins"] = [
            *(listed if isinstance(listed, list) else []),
            *(str(p.resolve()) for p in plugins),
        ]
    if rule.id != "normcheck/locked-rule":  # always on, and not configurable
        rules = data.get("rules")
        rules = dict(rules) if isinstance(rules, dict) else {}
        setting = rules.get(rule.id)
        if isinstance(setting, dict):  # the example's options, at the rule's severity
            rules[rule.id] = {**setting, "severity": rule.severity}
        else:
            rules[rule.id] = rule.severity
        data["rules"] = rules
    harness = project / "_normcheck_harness.yml"
    harness.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return harness


def check_examples(
    rule: Rule,
    tmp_path: Path,
    plugins: Sequence[Path] = (),
) -> None:
    """Fail unless the rule's docs have every section, its `Example` fires and its
    `Use instead` does not, each on a real dbt project built from the doc's files."""
    from normcheck.checks.registry import builtin_rules
    from normcheck.plugins import register, unregister

    if rule.id not in builtin_rules():
        register(rule)
        try:
            _check_examples(rule, tmp_path, plugins)
        finally:
            unregister(rule)
        return
    _check_examples(rule, tmp_path, plugins)


def _check_examples(rule: Rule, tmp_path: Path, plugins: Sequence[Path]) -> None:
    found_sections = list(sections(rule))
    if found_sections != list(SECTIONS):
        raise AssertionError(f"{rule.id}: doc sections {found_sections}, expected {SECTIONS}")
    for index, (section, should_fire) in enumerate((("Example", True), ("Use instead", False))):
        files = example_files(rule, section)
        if not files:
            raise AssertionError(f"{rule.id}: `{section}` has no file block")
        root = dbt_project(tmp_path / f"{index}-{section.replace(' ', '-')}", files)
        config = harness_config(root, rule, files, plugins)
        found = findings_of(rule.id, root, config)
        if should_fire and not found:
            raise AssertionError(f"{rule.id}: its Example does not fire")
        if not should_fire and found:
            raise AssertionError(f"{rule.id}: its Use instead fires: {found[0].message}")
