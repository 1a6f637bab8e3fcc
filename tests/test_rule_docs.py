"""Every rule's docs are complete, and their examples are executable:
`## Example` fires the rule on a real dbt project, `## Use instead` does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from _docs_examples import example_files, sections
from normcheck.checks.registry import builtin_rules
from normcheck.run import RunOptions, run

RULES = list(builtin_rules().values())
REQUIRED = ["What it finds", "Why it matters", "Example", "Use instead"]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_docs_have_every_section(rule):
    assert rule.summary, f"{rule.id} has no summary line"
    assert list(sections(rule)) == REQUIRED
    assert example_files(rule, "Example"), "Example has no file block"
    assert example_files(rule, "Use instead"), "Use instead has no file block"


def _findings_of(rule_id: str, project: Path, config: Path | None) -> list[str]:
    result = run(RunOptions(project_dir=project, config=config))
    return [f"{f.file}:{f.line} {f.message}" for f in result.findings if f.rule == rule_id]


@pytest.mark.dbt
@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_example_fires_and_use_instead_does_not(rule, dbt_project, chdir):
    for section, should_fire in (("Example", True), ("Use instead", False)):
        files = example_files(rule, section)
        project = dbt_project(files)
        chdir(project)
        # the example's own configuration (or the default), with the rule under test on
        base = "normcheck.yml" if "normcheck.yml" in files else "normcheck:default"
        harness = project / "_harness.yml"
        if rule.id != "normcheck/locked-rule":
            harness.write_text(f"extends: [{base}]\nrules:\n  {rule.id}: {rule.severity}\n")
        else:
            harness = project / "normcheck.yml"
        found = _findings_of(rule.id, Path(), harness)
        if should_fire:
            assert found, f"{rule.id}: its Example does not fire"
        else:
            assert not found, f"{rule.id}: its Use instead fires: {found}"
