"""The rule registry, the packaged rule set and the generated files agree."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import yaml

import normcheck.checks
from conftest import REPO
from normcheck.checks._api import Rule, rule
from normcheck.checks.registry import BUILTIN_RULES, builtin_rules
from normcheck.config.loader import rulesets_dir


def _rule_modules() -> list[str]:
    out = []
    for info in pkgutil.walk_packages(normcheck.checks.__path__, "normcheck.checks."):
        leaf = info.name.rsplit(".", 1)[-1]
        if not info.ispkg and not leaf.startswith("_") and leaf != "registry":
            out.append(info.name)
    return sorted(out)


def test_every_rule_module_on_disk_is_registered():
    registered = {r.func.__module__ for r in BUILTIN_RULES}
    modules = _rule_modules()
    assert modules, "no rule modules found"
    assert sorted(registered) == modules
    for name in modules:
        module = importlib.import_module(name)
        assert any(isinstance(v, Rule) for v in vars(module).values()), name


def test_rule_ids_are_unique_and_named_for_the_bad_pattern():
    ids = [r.id for r in BUILTIN_RULES]
    assert len(ids) == len(set(ids))
    for rule_id in ids:
        name = rule_id.split("/", 1)[1]
        assert not name.startswith(("use-", "prefer-", "avoid-", "require-")), rule_id


def test_module_file_names_follow_rule_ids():
    for r in BUILTIN_RULES:
        family, name = r.id.split("/")
        assert r.func.__module__ == f"normcheck.checks.{family}.{name.replace('-', '_')}"


def test_default_rule_set_lists_every_rule_at_its_default_severity():
    data = yaml.safe_load((rulesets_dir() / "default.yml").read_text())
    recommended = yaml.safe_load((rulesets_dir() / "recommended.yml").read_text())
    expected = {r.id: r.severity for r in BUILTIN_RULES if r.id != "normcheck/locked-rule"}
    # rules that read SQL are off by default and on, at their severity, in recommended
    configurable = {"governance/required-meta"}  # does nothing until keys are configured
    sql_readers = {r for r, severity in data["rules"].items() if severity == "off"} - configurable
    assert sql_readers == set(recommended["rules"])
    assert data["rules"]["governance/required-meta"] == "off"
    data["rules"]["governance/required-meta"] = "error"
    assert all(r.startswith(("sql/", "tracking/")) for r in sql_readers)
    assert {**data["rules"], **recommended["rules"]} == expected


def test_generated_files_are_up_to_date():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_decorator_refuses_bad_declarations():
    import pytest

    def body(resource, ctx):
        return iter(())

    with pytest.raises(ValueError, match="severity"):
        rule("a/b", severity="fatal", targets=["model"])(body)
    with pytest.raises(ValueError, match="family/name"):
        rule("ab", severity="error", targets=["model"])(body)
    with pytest.raises(ValueError, match="unknown target"):
        rule("a/b", severity="error", targets=["table"])(body)
    made = rule("a/b", severity="info", targets=["model"])(body)
    assert (made.family, made.summary, made.targets) == ("a", "", ("model",))


def test_builtin_rules_are_sorted_by_id():
    assert list(builtin_rules()) == sorted(builtin_rules())
