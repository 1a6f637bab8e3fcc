"""Every rule's docs are complete, and their examples are executable:
`## Example` fires the rule on a real dbt project, `## Use instead` does not.
This uses `normcheck.testing`, the runner rule packs use for their own rules."""

from __future__ import annotations

import pytest

from normcheck.checks.registry import builtin_rules
from normcheck.testing import SECTIONS, check_examples, example_files, sections

RULES = list(builtin_rules().values())


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_docs_have_every_section(rule):
    assert rule.summary, f"{rule.id} has no summary line"
    assert tuple(sections(rule)) == SECTIONS
    assert example_files(rule, "Example"), "Example has no file block"
    assert example_files(rule, "Use instead"), "Use instead has no file block"


@pytest.mark.dbt
@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_example_fires_and_use_instead_does_not(rule, tmp_path):
    check_examples(rule, tmp_path)


def test_the_runner_fails_when_an_example_does_not_fire(tmp_path):
    from dataclasses import replace

    rule = builtin_rules()["naming/model-prefix"]
    parts = sections(rule)
    parts["Example"] = parts["Use instead"]  # an "example" that is really compliant
    doc = rule.summary + "\n" + "".join(f"\n## {title}{body}" for title, body in parts.items())
    with pytest.raises(AssertionError, match="acme/broken: its Example does not fire"):
        check_examples(replace(rule, id="acme/broken", doc=doc), tmp_path)
