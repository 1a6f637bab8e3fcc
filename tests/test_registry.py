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


class _Forbidden:
    """A project or SQL analysis a subject-only rule must never read."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"a subject-only rule read `{name}` of the project")


def test_subject_only_rules_read_nothing_but_their_subject(tmp_path):
    import gzip
    import inspect

    from conftest import CORPUS
    from normcheck.artifacts.manifest import load_manifest
    from normcheck.checks._api import Context
    from normcheck.config.loader import load_config
    from normcheck.project import build_project

    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(
        gzip.decompress((CORPUS / "dbt" / "ol-data-platform" / "manifest.json.gz").read_bytes())
    )
    project = build_project(load_manifest(manifest), None, tmp_path)
    config = load_config(tmp_path)
    promised = [r for r in BUILTIN_RULES if r.subject_only]
    assert len(promised) >= 10
    called = 0
    for declared in promised:
        source = inspect.getsource(inspect.getmodule(declared.func))
        assert "ctx.project" not in source and "ctx.sql" not in source, declared.id
        rule_config = config.rules[declared.id]
        ctx = Context(
            _Forbidden(),  # type: ignore[arg-type]
            rule_config.options,
            config.vocabulary,
            config.owners,
            config.layers,
            _Forbidden(),  # type: ignore[arg-type]
        )
        for resource in project.resources.values():
            if resource.type in declared.targets:
                list(declared.func(resource, ctx))
                called += 1
    assert called > 10_000
    # and the rules that do read the project do not claim otherwise
    for reader in ("governance/layer-dependency", "tracking/pii-undeclared", "sql/select-star"):
        assert not next(r for r in BUILTIN_RULES if r.id == reader).subject_only
