"""The central team's own norms: `uses:` rules, local plugins, and a rule pack
installed through its entry point into a real virtualenv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, build_dbt_project, install_distribution
from normcheck.api import rule
from normcheck.cli import main
from normcheck.config.loader import load_config
from normcheck.errors import ConfigError
from normcheck.plugins import import_entry, may_declare_packs
from normcheck.testing import check_examples, example_files

MARTS = {
    "models/marts/fct_orders.sql": "{{ config(meta={'owner': 'growth', 'domain': 'sales', 'pii': false}) }}\nselect 1 as order_id\n",
    "models/marts/fct_refunds.sql": "{{ config(meta={'owner': 'growth', 'domain': 'refunds'}) }}\nselect 1 as refund_id\n",
    "models/staging/stg_orders.sql": "{{ config(meta={'owner': 'growth'}) }}\nselect 1 as order_id\n",
}
CENTRAL = """\
version: 1
extends: [normcheck:default]
rules:
  acme/mart-meta:
    uses: governance/required-meta
    severity: error
    locked: true
    description: Every mart says which domain it belongs to and whether it holds PII.
    options:
      match: {paths: ["models/marts/**"]}
      keys:
        domain: {enum: [sales, finance]}
        pii: {type: boolean}
"""


def test_a_derived_rule_behaves_like_a_built_in_one(tmp_path, monkeypatch, capsys):
    root = build_dbt_project(tmp_path, MARTS)
    (root / "central.yml").write_text(CENTRAL)
    (root / "normcheck.yml").write_text(
        "extends: [central.yml]\nrules:\n  acme/mart-meta: warning\n"
        "overrides:\n  - match: {tags: [x]}\n    rules: {acme/mart-meta: 'off'}\n"
    )
    monkeypatch.chdir(root)
    code = main(["check", "--format", "json", "--parse", "never", "--select", "acme"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    got = sorted((f["rule"], f["resource"], f["severity"], f["message"]) for f in findings)
    assert got == sorted(
        [
            (
                "acme/mart-meta",
                "model.shop.fct_refunds",
                "error",
                "model `fct_refunds` has `meta.domain: refunds`, which must be one of `sales`, `finance`",
            ),
            (
                "acme/mart-meta",
                "model.shop.fct_refunds",
                "error",
                "model `fct_refunds` has no `meta.pii`: add it",
            ),
            (
                "normcheck/locked-rule",
                "normcheck.yml",
                "error",
                "setting severity `warning` of locked rule `acme/mart-meta` has no effect: it was "
                "locked at central.yml:7",
            ),
            (
                "normcheck/locked-rule",
                "normcheck.yml",
                "error",
                "an override to `off` of locked rule `acme/mart-meta` has no effect: it was locked at "
                "central.yml:7",
            ),
        ]
    )
    assert code == 1
    assert main(["rules"]) == 0
    assert "acme/mart-meta  " in capsys.readouterr().out
    assert main(["explain", "acme/mart-meta"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# acme/mart-meta\n\nEvery mart says which domain")
    assert "Derived from `governance/required-meta` by the rule set at central.yml:5" in out


@pytest.mark.parametrize(
    ("rules", "line", "needle"),
    [
        pytest.param(
            "  acme/x: {uses: governance/required-mta}\n",
            3,
            "names no rule; did you mean",
            id="unknown base rule",
        ),
        pytest.param(
            "  naming/mine: {uses: governance/required-meta}\n",
            3,
            "must not use normcheck's own family",
            id="built-in family",
        ),
        pytest.param(
            "  naming/name-case: {uses: governance/required-meta}\n",
            3,
            "already names a rule",
            id="an existing id",
        ),
        pytest.param(
            "  acme/x:\n    uses: governance/required-meta\n    options: {keys: {a: {type: 3}}}\n",
            5,
            "invalid option `keys` of `acme/x`",
            id="options of the base rule's shape",
        ),
    ],
)
def test_derived_rule_errors_name_the_line(tmp_path, monkeypatch, rules, line, needle):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "normcheck.yml").write_text("version: 1\nrules:\n" + rules)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert needle in str(info.value)
    assert (info.value.file, info.value.line) == ("normcheck.yml", line)


PLUGIN = '''
from normcheck.api import Hit, rule

@rule("acme/no-legacy", severity="warning", targets=["model"])
def no_legacy(model, ctx):
    """A model named legacy.

    ## What it finds
    x
    """
    if "legacy" in model.name:
        yield Hit(f"model `{model.name}` is legacy")

@rule("acme/explodes", severity="warning", targets=["model"])
def explodes(model, ctx):
    """Raises."""
    if model.name == "stg_orders":
        raise ValueError("kaboom")
    return iter(())
'''


def test_local_plugins_run_and_failures_are_reported(tmp_path, monkeypatch, capsys):
    root = build_dbt_project(
        tmp_path, {**MARTS, "models/marts/legacy_report.sql": "select 1 as x\n"}
    )
    (root / "governance").mkdir()
    (root / "governance" / "rules.py").write_text(PLUGIN)
    (root / "governance" / "broken.py").write_text("import not_a_module_anywhere\n")
    (root / "normcheck.yml").write_text(
        "plugins: [governance/rules.py]\nrules:\n  acme/no-legacy: error\n"
    )
    monkeypatch.chdir(root)
    code = main(["check", "--format", "json", "--parse", "never", "--select", "acme"])
    out, err = capsys.readouterr()
    assert code == 1
    assert [f["resource"] for f in json.loads(out)["findings"]] == ["model.shop.legacy_report"]
    # a rule that raises: exit 3, rule and resource named, the others still reported
    (root / "normcheck.yml").write_text(
        "plugins: [governance/rules.py]\nrules:\n  acme/no-legacy: error\n  acme/explodes: error\n"
    )
    code = main(["check", "--format", "json", "--parse", "never", "--select", "acme"])
    out, err = capsys.readouterr()
    assert code == 3
    assert "rule `acme/explodes` raised on `model.shop.stg_orders`" in err
    assert json.loads(out)["findings"][0]["rule"] == "acme/no-legacy"
    # a plugin that does not import: exit 3 naming it, the other rules still run
    (root / "normcheck.yml").write_text(
        "plugins: [governance/broken.py, governance/rules.py]\n"
        "rules:\n  acme/no-legacy: error\n  acme/from-broken: error\n"
    )
    code = main(["check", "--format", "json", "--parse", "never", "--select", "acme"])
    out, err = capsys.readouterr()
    assert code == 3
    assert "plugin `" in err and "broken.py` failed to import" in err
    log = Path(err.rsplit("Traceback written to ", 1)[1].strip())
    assert "ModuleNotFoundError: No module named 'not_a_module_anywhere'" in log.read_text()
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["acme/no-legacy"]
    # the pre-commit validation, `rules`, `explain` and `config` say so too, in one
    # line, and exit 3 as `check` does, instead of passing without its rules
    for command in (
        ["config", "--check"],
        ["config"],
        ["config", "-q"],
        ["rules"],
        ["explain", "acme/no-legacy"],
        ["explain", "acme/from-broken"],
    ):
        assert main(command) == 3, command
        err = capsys.readouterr().err
        assert err.startswith(
            "normcheck: internal error: plugin `governance/broken.py` failed to import "
            "(ModuleNotFoundError: No module named 'not_a_module_anywhere'); its rules are "
            "missing. This is a bug in the plugin. Traceback written to "
        ), command
        if command[-1] == "acme/from-broken":
            assert "unknown rule `acme/from-broken`: a plugin that failed to import" in err
    # a syntax error is the file's, not a bug: exit 2 at its line, for check and config
    (root / "governance" / "broken.py").write_text("x = 1\n\ndef f(:\n")
    for command in (["check", "--parse", "never"], ["config", "--check"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err.startswith("normcheck: error: governance/broken.py:3: plugin does not compile")
    # in a module the plugin imports: that module's file and line
    (root / "governance" / "broken.py").write_text("import helpers_bad\n")
    (root / "governance" / "helpers_bad.py").write_text("x = (\n")
    monkeypatch.syspath_prepend(str(root / "governance"))
    assert main(["config", "--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("normcheck: error: governance/helpers_bad.py:1: plugin does not compile")


def test_plugin_rules_may_not_take_builtin_families(tmp_path):
    (tmp_path / "r.py").write_text(PLUGIN.replace("acme/no-legacy", "naming/no-legacy"))
    (tmp_path / "normcheck.yml").write_text("plugins: [r.py]\n")
    with pytest.raises(ConfigError, match="normcheck's own family `naming`") as refused:
        load_config(tmp_path)
    at = PLUGIN.splitlines().index('@rule("acme/no-legacy", severity="warning", targets=["model"])')
    assert (Path(refused.value.file).name, refused.value.line) == ("r.py", at + 1)
    (tmp_path / "normcheck.yml").write_text("team: x\nplugins:\n  - r.py\n  - missing.py\n")
    with pytest.raises(ConfigError, match=r"plugin `missing\.py` not found \(looked for ") as info:
        load_config(tmp_path)
    assert (Path(info.value.file).resolve(), info.value.line) == (tmp_path / "normcheck.yml", 4)


def test_sample_central_rules_use_a_declarative_and_a_python_rule():
    config = load_config(REPO / "sample_project")
    assert config.rule_sources["jaffle/mart-meta"] == "uses governance/required-meta"
    assert config.rule_sources["jaffle/mart-materialization"].endswith("governance/rules.py")
    assert config.rules["jaffle/mart-meta"].severity == "error"


PACK = REPO / "examples" / "rule-pack"


def test_the_worked_example_passes_its_own_docs_examples(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(PACK / "src"))
    module = import_entry("acme_normcheck_rules")
    check_examples(module.float_column, tmp_path)
    assert example_files(module.float_column, "Example")


def test_an_installed_pack_passes_its_own_docs_examples(tmp_path, monkeypatch):
    """A rule author installs the pack and runs its tests, as docs/writing-rules.md
    says: `check_examples` registers the rule, the entry point brings it again.
    One rule reached two ways is one rule (it was "redefines rule")."""
    from importlib.metadata import EntryPoint

    from normcheck import plugins

    monkeypatch.syspath_prepend(str(PACK / "src"))
    point = EntryPoint(name="acme", value="acme_normcheck_rules", group=plugins.GROUP)
    monkeypatch.setattr(plugins, "_entry_points", lambda: [point])
    module = import_entry("acme_normcheck_rules")
    check_examples(module.float_column, tmp_path)
    # another rule under the same id is still refused, where a rule set uses it
    other = type(module.float_column)(**{**vars(module.float_column), "func": lambda r, c: []})
    plugins.register(other)
    try:
        assert plugins.load_plugins([], {}).contested == {
            "acme/float-column": ["`registered in this process`", "`acme (acme_normcheck_rules)`"]
        }
    finally:
        plugins.unregister(other)


def test_a_rule_pack_installs_into_a_real_virtualenv_through_its_entry_point(tmp_path):
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(wheels),
            str(REPO),
            str(PACK),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *sorted(map(str, wheels.glob("*.whl")))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    project = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_payments.sql": "select 1 as payment_id, 1.5::double as amount\n",
            "models/marts/_payments.yml": "version: 2\nmodels:\n  - name: fct_payments\n"
            "    columns:\n      - name: amount\n        data_type: double\n",
            # the central rule set comes with the pack; the team tries to lower its lock
            "normcheck.yml": "extends: [acme:central]\nrules:\n  acme/float-column: warning\n",
        },
    )
    normcheck = venv / "bin" / "normcheck"
    env = {**os.environ, "NORMCHECK_CACHE_DIR": str(tmp_path / "cache")}
    listed = subprocess.run(
        [str(normcheck), "rules"], capture_output=True, text=True, check=False, cwd=project, env=env
    )
    assert "acme/float-column" in listed.stdout, listed.stderr
    checked = subprocess.run(
        [str(normcheck), "check", "--format", "json", "--parse", "never", "--select", "acme"],
        capture_output=True,
        text=True,
        check=False,
        cwd=project,
        env=env,
    )
    assert checked.returncode == 1, checked.stderr
    findings = json.loads(checked.stdout)["findings"]
    # the locked rules of the pack's set run although not selected; the team's try is refused
    assert [(f["rule"], f["severity"], f["resource"]) for f in findings] == [
        ("ownership/missing-owner", "error", "model.shop.fct_payments"),
        ("acme/float-column", "error", "model.shop.fct_payments.amount"),
        ("normcheck/locked-rule", "error", "normcheck.yml"),
    ]
    locked = findings[2]
    assert (locked["file"], locked["line"]) == ("normcheck.yml", 3)
    assert "locked at acme:central:11" in locked["message"], locked["message"]


def _python_finders_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """sys.meta_path as Python sets it up: a test that ran dbt in this process has
    left importlib_metadata's own finder there (the look then leaves it to that)."""
    from normcheck import plugins

    kept = [
        f
        for f in sys.meta_path
        if not hasattr(f, "find_distributions") or f in plugins._STANDARD_FINDERS
    ]
    monkeypatch.setattr(sys, "meta_path", kept)


def test_the_look_for_packs_finds_a_declared_group_and_is_unsure_of_zips(tmp_path, monkeypatch):
    """Without a distribution naming `normcheck.rules`, importlib.metadata is not
    asked (the real-virtualenv test above shows an installed pack is found)."""
    _python_finders_only(monkeypatch)
    site = tmp_path / "site"
    other = site / "other-1.0.dist-info"
    other.mkdir(parents=True)
    (other / "entry_points.txt").write_text("[console_scripts]\nother = other:main\n")
    (site / "plain-2.0.dist-info").mkdir()  # no entry points at all
    (site / "old.egg-info").write_text("Metadata-Version: 1.0\n")  # a file, not a folder
    assert not may_declare_packs([str(site), str(tmp_path / "missing")])
    pack = site / "Acme_Rules-0.1.DIST-INFO"  # names are compared case-insensitively
    pack.mkdir()
    (pack / "entry_points.txt").write_text("[normcheck.rules]\nacme = acme_rules\n")
    assert may_declare_packs([str(site)])
    archive = tmp_path / "packages.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))
    assert may_declare_packs([str(archive)])
    assert may_declare_packs([str(tmp_path / "thing.egg")])


def test_a_finder_of_distributions_of_its_own_leaves_the_answer_to_importlib(monkeypatch):
    class Finder:
        @staticmethod
        def find_distributions(*args: object, **kwargs: object) -> list[object]:
            return []

    _python_finders_only(monkeypatch)
    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    assert may_declare_packs([])
    monkeypatch.setattr(sys, "meta_path", sys.meta_path[1:])
    assert not may_declare_packs([])


def test_a_derived_rules_default_severity_is_its_rule_sets(tmp_path, capsys, monkeypatch):
    """`explain` and `rules` gave a derived rule the severity of the rule it uses."""
    (tmp_path / "normcheck.yml").write_text(
        "extends: []\nrules:\n  acme/staging-names:\n    uses: naming/name-case\n"
        "    severity: 'off'\n    options: {pattern: '^stg_[a-z]+$'}\n"
        "overrides:\n  - match: {paths: ['models/staging/**']}\n"
        "    rules: {acme/staging-names: warning}\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["explain", "acme/staging-names"]) == 0
    assert "Default severity: **off**." in capsys.readouterr().out
    assert main(["rules"]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("acme/")]
    assert line.split()[:4] == ["acme/staging-names", "acme", "off", "off"]


EXITS = '''
import sys
from normcheck.api import Hit, rule

@rule("acme/exits", severity="warning", targets=["model"])
def exits(model, ctx):
    """Exits."""
    if model.name == "fct_orders":
        sys.exit(0)
    return iter(())
'''


def test_a_plugin_calling_sys_exit_is_its_crash_not_the_exit_code(tmp_path, monkeypatch, capsys):
    """`sys.exit(0)` in a rule or at import ended the run with exit 0, nothing said."""
    root = build_dbt_project(
        tmp_path, {**MARTS, "models/marts/legacy_report.sql": "select 1 as x\n"}
    )
    (root / "exits.py").write_text(EXITS)
    (root / "rules.py").write_text(PLUGIN)
    (root / "at_import.py").write_text(
        'import argparse\nargparse.ArgumentParser().parse_args(["--x"])\n'
    )
    (root / "normcheck.yml").write_text(
        "plugins: [exits.py, rules.py]\nrules:\n  acme/exits: error\n  acme/no-legacy: error\n"
    )
    monkeypatch.chdir(root)
    code = main(["check", "--format", "json", "--parse", "never", "--select", "acme"])
    out, err = capsys.readouterr()
    assert code == 3
    assert "rule `acme/exits` raised on `model.shop.fct_orders`" in err
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["acme/no-legacy"]
    (root / "normcheck.yml").write_text(
        "plugins: [at_import.py, rules.py]\nrules:\n  acme/no-legacy: error\n"
    )
    code = main(["check", "--format", "json", "--parse", "never", "--select", "acme"])
    out, err = capsys.readouterr()
    assert code == 3
    assert "plugin `at_import.py` failed to import" in err
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["acme/no-legacy"]


BAD_HITS = '''
from normcheck.api import Hit, rule

@rule("acme/no-message", severity="warning", targets=["model"])
def no_message(model, ctx):
    """A Hit whose message is None (a missing description)."""
    if model.name == "fct_orders":
        yield Hit(model.description or None)

@rule("acme/number", severity="warning", targets=["model"])
def number(model, ctx):
    """A Hit whose message is a number."""
    yield Hit(42)

@rule("acme/text", severity="warning", targets=["model"])
def text(model, ctx):
    """A string, not a Hit."""
    yield "oops"

@rule("acme/bad-line", severity="warning", targets=["model"])
def bad_line(model, ctx):
    """A line that is no line."""
    yield Hit("x", where="file", line=-3)

@rule("acme/none", severity="warning", targets=["model"])
def none(model, ctx):
    """Returns None."""
'''


@pytest.mark.parametrize(
    ("rule_id", "wrong"),
    [
        ("acme/no-message", "yielded a Hit with `message` None (NoneType), not a string"),
        ("acme/number", "yielded a Hit with `message` 42 (int), not a string"),
        ("acme/text", "yielded 'oops' (str): a rule yields"),
        ("acme/bad-line", "yielded a Hit with `line` -3 (int), not a line number"),
        ("acme/none", "returned None: a rule yields"),
    ],
)
def test_a_bad_hit_is_a_crash_of_its_rule(tmp_path, monkeypatch, capsys, rule_id, wrong):
    """It was copied into a finding and broke sorting or a report later: exit 3 as
    "a bug in normcheck", no findings of any rule."""
    root = build_dbt_project(
        tmp_path, {**MARTS, "models/marts/legacy_report.sql": "select 1 as x\n"}
    )
    (root / "bad.py").write_text(BAD_HITS)
    (root / "rules.py").write_text(PLUGIN)
    (root / "normcheck.yml").write_text(
        f"plugins: [bad.py, rules.py]\nrules:\n  {rule_id}: error\n  acme/no-legacy: error\n"
    )
    monkeypatch.chdir(root)
    for fmt in ("json", "text", "sarif"):
        code = main(["check", "--format", fmt, "--parse", "never", "--select", "acme"])
        out, err = capsys.readouterr()
        assert code == 3, err
        assert f"rule `{rule_id}` raised on `model.shop." in err
        assert "legacy_report" in out  # the other rule's finding
    log = Path(err.rsplit("Traceback written to ", 1)[1].strip()).read_text()
    assert f"rule `{rule_id}` {wrong}" in log


OPTIONED = '''
from typing import Annotated
import msgspec
from normcheck.api import Options, rule

class GroupOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    groups: list[str] = msgspec.field(default_factory=list)

class Required(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    threshold: int

@rule("acme/grouped", severity="warning", targets=["model"], options=GroupOptions)
def grouped(model, ctx):
    """Grouped."""
    return iter(())

@rule("acme/required", severity="warning", targets=["model"], options=Required)
def required(model, ctx):
    """Needs a threshold."""
    return iter(())
'''
OPTIONED_CENTRAL = """\
version: 1
plugins: [rules.py]
rules:
  acme/grouped: {severity: error, options: {groups: [finance]}}
  acme/meta:
    uses: governance/required-meta
    options: {keys: {domain: {}}}
  acme/required: error
"""


@pytest.mark.parametrize(
    ("team", "line", "message"),
    [
        pytest.param(
            "  acme/grouped: {options: {grups: [finance]}}\n",
            4,
            "unknown option `grups` of `acme/grouped`; did you mean `groups`?",
            id="a plugin rule's option",
        ),
        pytest.param(
            "  acme/meta:\n    options: {kyes: {pii: {}}}\n",
            5,
            "unknown option `kyes` of `acme/meta`; did you mean `keys`?",
            id="a derived rule's option",
        ),
        pytest.param(
            "overrides:\n  - match: {tags: [x]}\n    rules:\n"
            "      acme/grouped: {options: {grups: []}}\n",
            6,
            "unknown option `grups` of `acme/grouped`; did you mean `groups`?",
            id="in an override",
        ),
    ],
)
def test_option_mistakes_of_plugin_and_derived_rules_name_their_line(
    tmp_path, monkeypatch, team, line, message
):
    """They were reported at the central file's line (or "(default)"), no hint."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gov").mkdir()
    (tmp_path / "gov" / "rules.py").write_text(OPTIONED)
    (tmp_path / "gov" / "central.yml").write_text(
        OPTIONED_CENTRAL.replace("acme/required: error", "acme/required: {options: {threshold: 1}}")
    )
    rules = "" if team.startswith("overrides") else "rules:\n"
    (tmp_path / "normcheck.yml").write_text(f"extends: [gov/central.yml]\nteam: x\n{rules}{team}")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert (info.value.file, info.value.line, info.value.message) == (
        "normcheck.yml",
        line,
        message,
    )


def test_a_required_option_left_out_is_reported_where_the_rule_is_turned_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gov").mkdir()
    (tmp_path / "gov" / "rules.py").write_text(OPTIONED)
    (tmp_path / "gov" / "central.yml").write_text(OPTIONED_CENTRAL)
    (tmp_path / "normcheck.yml").write_text("extends: [gov/central.yml]\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert (info.value.file, info.value.line) == ("gov/central.yml", 8)
    assert "object missing required field `threshold`" in info.value.message


def test_the_warm_run_key_changes_with_the_plugins_code(tmp_path, monkeypatch):
    """It held a pack's name and version only, and a local plugin's own file: an
    edited helper module or editable install gave the cached, stale findings."""
    from importlib.metadata import EntryPoint

    from normcheck import plugins

    monkeypatch.chdir(tmp_path)
    (tmp_path / "gov").mkdir()
    (tmp_path / "gov" / "rules.py").write_text(PLUGIN)
    (tmp_path / "gov" / "helper.py").write_text("MSG = 'v1'\n")
    (tmp_path / "normcheck.yml").write_text("plugins: [gov/rules.py]\n")
    before = load_config(tmp_path).digest
    (tmp_path / "gov" / "helper.py").write_text("MSG = 'v2'\n")
    assert load_config(tmp_path).digest != before
    # an installed pack (an editable install, say) whose code changes, not its version
    site = tmp_path / "site"
    (site / "tiny_pack").mkdir(parents=True)
    (site / "tiny_pack" / "__init__.py").write_text("from tiny_pack.rules import no_legacy\n")
    (site / "tiny_pack" / "rules.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(site))
    point = EntryPoint(name="tiny", value="tiny_pack", group=plugins.GROUP)
    monkeypatch.setattr(plugins, "_entry_points", lambda: [point])
    before = plugins.load_plugins([], {}).digest
    assert plugins.load_plugins([], {}).digest == before
    (site / "tiny_pack" / "rules.py").write_text(PLUGIN + "\n# edited\n")
    assert plugins.load_plugins([], {}).digest != before


CRASHING = '''
from normcheck.api import Hit, rule

@rule("acme/crash", severity="warning", targets=["model"])
def crash(model, ctx):
    """Raises on every model."""
    raise RuntimeError("crash " + "bug")

@rule("acme/other-crash", severity="warning", targets=["model"])
def other_crash(model, ctx):
    """Raises on one."""
    if model.name == "stg_orders":
        raise KeyError("other")
    return iter(())
'''


def test_rule_crashes_are_in_the_reports_people_read(tmp_path, monkeypatch, capsys):
    """JSON, Markdown, GitHub and SARIF said nothing of a crash, JUnit blamed normcheck
    for a plugin's bug, and stderr named only the first crashed rule."""
    from test_report_formats import validate_junit, validate_sarif

    root = build_dbt_project(
        tmp_path, {**MARTS, "models/marts/legacy_report.sql": "select 1 as x\n"}
    )
    (root / "gov").mkdir()
    (root / "gov" / "crash.py").write_text(CRASHING)
    (root / "gov" / "rules.py").write_text(PLUGIN)
    (root / "normcheck.yml").write_text(
        "plugins: [gov/crash.py, gov/rules.py]\nrules:\n  acme/crash: error\n"
        "  acme/other-crash: error\n  acme/no-legacy: error\n"
    )
    monkeypatch.chdir(root)
    reports = {}
    for fmt in ("json", "markdown", "github", "sarif", "junit"):
        assert main(["check", "--format", fmt, "--parse", "never", "--select", "acme"]) == 3
        reports[fmt], err = capsys.readouterr()
    first = (
        "rule `acme/crash` raised on `model.shop.fct_orders` and 3 more: RuntimeError: crash bug"
    )
    other = "rule `acme/other-crash` raised on `model.shop.stg_orders`: KeyError: 'other'"
    assert err.splitlines()[:2] == [
        f"normcheck: internal error: {first} (plugin `gov/crash.py`)",
        f"normcheck: internal error: {other} (plugin `gov/crash.py`)",
    ]
    assert err.splitlines()[2].startswith("normcheck: 5 crash(es); this is a bug in the rule")
    assert json.loads(reports["json"])["crashes"] == [
        {
            "rule": "acme/crash",
            "plugin": "gov/crash.py",
            "resource": "model.shop.fct_orders",
            "message": "RuntimeError: crash bug",
            "count": 4,
        },
        {
            "rule": "acme/other-crash",
            "plugin": "gov/crash.py",
            "resource": "model.shop.stg_orders",
            "message": "KeyError: 'other'",
            "count": 1,
        },
    ]
    assert "legacy_report" in reports["json"]
    assert f"⚠️ **Crashed, so these findings are incomplete:** {first}" in reports["markdown"]
    assert f"::error title=normcheck acme/crash crashed::{first}" in reports["github"]
    notes = validate_sarif(reports["sarif"])["runs"][0]["invocations"][0]
    assert [n["associatedRule"]["id"] for n in notes["toolExecutionNotifications"]] == [
        "acme/crash",
        "acme/other-crash",
    ]
    errors = validate_junit(reports["junit"]).findall(".//error")
    assert {e.get("message") for e in errors} == {
        "rule acme/crash crashed (a bug in plugin gov/crash.py)",
        "rule acme/crash crashed (a bug in plugin gov/crash.py); "
        "rule acme/other-crash crashed (a bug in plugin gov/crash.py)",
    }
    # the same bytes again
    assert main(["check", "--format", "json", "--parse", "never", "--select", "acme"]) == 3
    assert capsys.readouterr().out == reports["json"]


def test_two_packs_defining_one_rule_fail_only_where_it_is_used(tmp_path, monkeypatch, capsys):
    """Two installed packs with one rule id made every command fail in every project
    of the environment, naming entry points rather than what to uninstall."""
    site = tmp_path / "site"
    for module in ("acme_rules", "acme2_rules"):
        install_distribution(
            site,
            module.replace("_", "-"),
            "0.1.0",
            f"[normcheck.rules]\n{module} = {module}\n",
            {f"{module}/__init__.py": PLUGIN},
        )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "normcheck.yml").write_text("rules:\n  naming/model-prefix: error\n")
    assert main(["rules"]) == 0
    assert "acme/no-legacy" not in capsys.readouterr().out
    load_config(tmp_path)
    (tmp_path / "normcheck.yml").write_text("team: x\nrules:\n  acme/no-legacy: error\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert (info.value.file, info.value.line) == ("normcheck.yml", 3)
    assert info.value.message == (
        "rule `acme/no-legacy` is defined by more than one plugin "
        "(`acme2_rules (acme2_rules)` of acme2-rules 0.1.0, "
        "`acme_rules (acme_rules)` of acme-rules 0.1.0): uninstall or remove all but one"
    )


def test_a_monorepo_projects_own_plugin_is_named_in_the_combined_reports(
    tmp_path, monkeypatch, capsys
):
    """A plugin only a project's own file lists: the monorepo's run looked its rules
    up in the root's configuration: JUnit failed (KeyError, exit 3 on a clean run),
    and a crash of its rule was blamed on normcheck."""
    build_dbt_project(tmp_path, MARTS, name="shop")
    crm = build_dbt_project(tmp_path, MARTS, name="crm")
    (crm / "gov").mkdir()
    (crm / "gov" / "rules.py").write_text(PLUGIN)
    (crm / "normcheck.yml").write_text(
        "extends: [../normcheck.yml]\nplugins: [gov/rules.py]\nrules:\n  acme/no-legacy: error\n"
    )
    (tmp_path / "normcheck.yml").write_text("version: 1\nprojects: [shop, crm]\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--format", "junit", "--parse", "never"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    assert "<testsuite" in out
    (crm / "gov" / "rules.py").write_text(CRASHING.replace("acme/crash", "acme/no-legacy"))
    assert main(["check", "--format", "json", "--parse", "never"]) == 3
    out, err = capsys.readouterr()
    assert [c["plugin"] for c in json.loads(out)["crashes"]] == ["crm/gov/rules.py"]
    assert "(plugin `crm/gov/rules.py`)" in err


WIDE = '''
from normcheck.api import Hit, rule

@rule("acme/wide-model", severity="warning", targets=["model"], reads_sql=READS)
def wide_model(model, ctx):
    """A model whose SQL makes more than one column."""
    made = None if ctx.sql is None else ctx.sql.output(model.uid)
    if made is not None and len(made) > 1:
        yield Hit(f"model `{model.name}` makes {len(made)} columns")
'''


@pytest.mark.parametrize("reads", [True, False])
def test_a_plugin_rule_asking_for_the_sql_gets_it_with_no_sql_rule_on(
    reads, tmp_path, monkeypatch, capsys
):
    """`ctx.sql` was None for a plugin unless one of normcheck's `sql/` rules was on."""
    files = {
        "models/marts/fct_orders.sql": "select 1 as order_id, 2 as amount\n",
        "models/marts/fct_refunds.sql": "select 1 as refund_id\n",
        "gov/rules.py": WIDE.replace("READS", str(reads)),
        "normcheck.yml": "extends: []\nplugins: [gov/rules.py]\nrules:\n  acme/wide-model: error\n",
    }
    project = build_dbt_project(tmp_path, files)
    monkeypatch.chdir(project)
    code = main(["check", "--format", "json", "--parse", "never", "--no-cache"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    if reads:
        assert code == 1
        assert [(f["rule"], f["message"]) for f in findings] == [
            ("acme/wide-model", "model `fct_orders` makes 2 columns")
        ]
    else:
        assert (code, findings) == (0, [])


def test_a_rule_cannot_both_read_the_sql_and_promise_to_read_only_its_subject():
    with pytest.raises(ValueError, match="is not subject_only"):
        rule("acme/x", severity="error", targets=["model"], reads_sql=True, subject_only=True)


@pytest.mark.parametrize("rule_id", ["Acme/float-column", "acme/float column", "acme", "acme/"])
def test_a_rule_id_no_rule_set_could_configure_is_refused_where_it_is_declared(rule_id):
    with pytest.raises(ValueError, match="must be family/name in lowercase letters"):
        rule(rule_id, severity="error", targets=["model"])


BESIDE = '''
from normcheck.api import Hit, rule
from helpers import WORD

@rule("RULE_ID", severity="warning", targets=["model"])
def flag(model, ctx):
    """A model named with the helper's word."""
    if WORD in model.name:
        yield Hit(f"model `{model.name}` has `{WORD}`")
'''


def test_a_local_plugin_imports_the_modules_beside_it(tmp_path, monkeypatch, capsys):
    """`from helpers import X` beside a plugin failed (ModuleNotFoundError, exit 3);
    two plugin folders may each have a `helpers` of their own."""
    files = {
        **MARTS,
        "gov/rules.py": BESIDE.replace("RULE_ID", "acme/orders"),
        "gov/helpers.py": "WORD = 'orders'\n",
        "team/rules.py": BESIDE.replace("RULE_ID", "acme/refunds"),
        "team/helpers.py": "WORD = 'refunds'\n",
        "normcheck.yml": "extends: []\nplugins: [gov/rules.py, team/rules.py]\n"
        "rules:\n  acme/orders: error\n  acme/refunds: error\n",
    }
    project = build_dbt_project(tmp_path, files)
    monkeypatch.chdir(project)
    path_before = list(sys.path)
    code = main(["check", "--format", "json", "--parse", "never", "--no-cache"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert sorted((f["rule"], f["message"]) for f in findings) == [
        ("acme/orders", "model `fct_orders` has `orders`"),
        ("acme/orders", "model `stg_orders` has `orders`"),
        ("acme/refunds", "model `fct_refunds` has `refunds`"),
    ]
    assert sys.path == path_before
    assert "helpers" not in sys.modules
    assert not list(project.rglob("__pycache__")), "nothing written in the project"


def test_a_pack_rule_in_a_builtin_family_fails_only_where_it_is_used(tmp_path, monkeypatch):
    """An installed pack defining `naming/...` made every command of every project in
    the environment fail, those that never use the rule too."""
    site = tmp_path / "site"
    install_distribution(
        site,
        "bad-rules",
        "0.1.0",
        "[normcheck.rules]\nbad = bad_rules\n",
        {"bad_rules/__init__.py": PLUGIN.replace("acme/explodes", "naming/shouty")},
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "normcheck.yml").write_text("rules:\n  acme/no-legacy: error\n")
    assert load_config(tmp_path).rules["acme/no-legacy"].severity == "error"
    (tmp_path / "normcheck.yml").write_text(
        "rules:\n  acme/no-legacy: error\n  naming/shouty: error\n"
    )
    with pytest.raises(ConfigError) as info_:
        load_config(tmp_path)
    assert (info_.value.file, info_.value.line) == ("normcheck.yml", 3)
    assert info_.value.message == (
        "plugin `bad (bad_rules)` of bad-rules 0.1.0 defines `naming/shouty` in normcheck's own "
        "family `naming`: give your rules a namespace of your own (e.g. acme/...)"
    )


def test_a_library_below_a_plugins_folder_stays_imported(tmp_path, monkeypatch):
    """A plugin at the project's root: the libraries it imports from the project's
    own `.venv` are below its folder but not beside it. They were dropped from
    `sys.modules`, so normcheck and the next plugin imported a second copy."""
    site = tmp_path / ".venv" / "lib" / "site-packages"
    (site / "fakelib").mkdir(parents=True)
    (site / "fakelib" / "__init__.py").write_text("class Marker:\n    pass\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "fakelib", raising=False)
    (tmp_path / "rules.py").write_text("import fakelib\nimport helpers\n" + PLUGIN)
    (tmp_path / "helpers.py").write_text("WORD = 'x'\n")
    (tmp_path / "normcheck.yml").write_text("plugins: [rules.py]\n")
    load_config(tmp_path)
    assert "fakelib" in sys.modules, "a library of the project's virtualenv was forgotten"
    assert "helpers" not in sys.modules, "the module beside the plugin is forgotten"
