"""The command line as a user meets it: exit codes, stdout/stderr, formats."""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import jsonschema
import msgspec
import pytest
import yaml

from conftest import REPO, build_dbt_project
from normcheck import cli as cli_module
from normcheck.checks import registry
from normcheck.checks._api import rule
from normcheck.cli import main
from normcheck.config.loader import load_config

FILES = {
    "models/staging/stg_orders.sql": "{{ config(meta={'owner': 'growth'}) }}\nselect 1 as order_id\n",
    "models/marts/orders.sql": "select * from {{ ref('stg_orders') }}\n",
    "models/marts/_models.yml": (
        "version: 2\nmodels:\n  - name: orders\n    description: TODO\n"
        "    config:\n      meta: {owner: finance}\n"
    ),
    "normcheck.yml": (
        "version: 1\nextends: [central.yml]\nteam: growth\n"
        "rules:\n  naming/model-prefix: warning\n  governance/group-required: 'off'\n"
    ),
    "central.yml": (
        "version: 1\nextends: [normcheck:default]\nowners: {growth: {}, finance: {}}\n"
        "rules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    ),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return build_dbt_project(tmp_path_factory.mktemp("cli"), FILES)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_text_groups_by_file_and_exits_1(project, capsys, chdir):
    chdir(project)
    code, out, err = run_cli(capsys, "check")
    assert code == 1
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == "models/marts/_models.yml"
    assert "normcheck.yml" in lines
    assert any("normcheck/locked-rule" in line and "central.yml:5" in line for line in lines)
    assert any("naming/model-prefix" in line and "error" in line for line in lines), (
        "the locked severity holds"
    )
    assert lines[-1].startswith("Checked ")
    assert "2 errors" in lines[-1]


def test_check_json_is_the_spec_shape(project, capsys):
    code, out, _ = run_cli(capsys, "check", "--project-dir", str(project), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert list(data) == ["version", "findings", "summary"]
    # warnings: a placeholder and a missing description (no SQL rules in normcheck:default)
    assert data["summary"] == {"error": 2, "warning": 2, "info": 0, "suppressed": 0, "baselined": 0}
    prefix = next(f for f in data["findings"] if f["rule"] == "naming/model-prefix")
    assert list(prefix) == [
        "rule",
        "severity",
        "message",
        "resource",
        "resource_type",
        "owner",
        "file",
        "line",
        "fingerprint",
    ]
    assert prefix["resource"] == "model.shop.orders"
    assert prefix["owner"] == "finance"
    assert prefix["file"].endswith("models/marts/orders.sql")
    assert prefix["message"] == "model `orders` in layer `marts` lacks a prefix: fct_, dim_"
    placeholder = next(f for f in data["findings"] if f["rule"] == "docs/placeholder-description")
    assert placeholder["file"].endswith("models/marts/_models.yml")
    assert placeholder["line"] == 4


def test_output_is_byte_identical_across_runs(project, capsys):
    first = run_cli(capsys, "check", "--project-dir", str(project), "--format", "json")
    second = run_cli(capsys, "check", "--project-dir", str(project), "--format", "json")
    assert first == second


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(["--fail-on", "never"], 0, id="fail-on never exits 0"),
        pytest.param(["--fail-on", "warning"], 1, id="fail-on warning exits 1"),
        pytest.param(["--select", "docs"], 1, id="select a family keeps locked rules"),
        pytest.param(["--select", "docs/placeholder-description"], 1, id="select one rule"),
    ],
)
def test_fail_on_and_selection(project, capsys, args, code):
    result = run_cli(capsys, "check", "--project-dir", str(project), "--format", "json", *args)
    assert result[0] == code


def test_select_runs_only_selected_and_locked_rules(project, capsys):
    _, out, _ = run_cli(
        capsys,
        "check",
        "--project-dir",
        str(project),
        "--format",
        "json",
        "--select",
        "docs",
        "--ignore",
        "naming/model-prefix",
    )
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert rules == {
        "docs/missing-description",
        "docs/placeholder-description",
        "naming/model-prefix",
        "normcheck/locked-rule",
    }


def test_ignore_everything_but_locked(project, capsys):
    code, out, _ = run_cli(
        capsys,
        "check",
        "--project-dir",
        str(project),
        "--format",
        "json",
        "--ignore",
        "docs,naming,ownership,governance,normcheck,sql",
    )
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert rules == {"naming/model-prefix", "normcheck/locked-rule"}
    assert code == 1


def test_output_writes_more_reports_in_the_same_run(project, capsys, tmp_path):
    target = tmp_path / "report.json"
    code, out, _ = run_cli(
        capsys,
        "check",
        "--project-dir",
        str(project),
        "-q",
        "--output",
        f"json:{target}",
        "--output",
        f"text:{tmp_path / 'r.txt'}",
    )
    assert code == 1
    assert out == ""
    assert json.loads(target.read_text())["summary"]["error"] == 2
    assert (tmp_path / "r.txt").read_text().splitlines()[-1].startswith("Checked")


def test_a_report_that_cannot_be_written_whole_leaves_the_last_one(project, tmp_path):
    """A full disk (here a file size limit) while a report was written left it cut
    short, the last run's report lost; a CI step uploading it `if: always()` got a
    broken SARIF. The report is written whole or not at all."""
    import resource
    import subprocess
    import sys

    target = tmp_path / "reports" / "r.sarif"
    command = [sys.executable, "-m", "normcheck", "check", "--project-dir", str(project)]
    command += ["--parse", "never", "--no-cache", "-q", "--output", f"sarif:{target}"]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}  # this checkout's normcheck
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert first.returncode == 1, first.stderr
    before = target.read_bytes()
    assert len(before) > 4096

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, preexec_fn=small_files
    )
    assert done.returncode == 2
    assert done.stderr == f"normcheck: error: {target}: cannot write report: File too large\n"
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == ["r.sarif"]  # no temporary file left


def test_a_report_goes_through_a_link_and_into_what_is_no_file(project, tmp_path, capsys):
    """Written whole through a temporary file, a report still goes to the file a
    symbolic link names (the link kept) and into what is not a file (a pipe)."""
    real = tmp_path / "real.json"
    real.write_text("old")
    real.chmod(0o640)
    (tmp_path / "link.json").symlink_to("real.json")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    read: list[bytes] = []
    import threading

    reader = threading.Thread(target=lambda: read.append(fifo.read_bytes()))
    reader.start()
    args = ["check", "--project-dir", str(project), "--parse", "never", "-q"]
    code, _, err = run_cli(
        capsys, *args, "--output", f"json:{tmp_path / 'link.json'}", "--output", f"json:{fifo}"
    )
    reader.join(timeout=60)
    assert code == 1, err
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads(real.read_text())["summary"]["error"] == 2
    assert real.stat().st_mode & 0o777 == 0o640
    assert read == [real.read_bytes()]


LONG = "a" * 300  # a name longer than any file system allows (255 bytes)


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--output", f"json:{LONG}/r.json"],
        ["check", "--config", LONG],
        ["check", "--manifest", LONG],
        ["check", "--project-dir", LONG],
        ["baseline", "--output", f"{LONG}/b.json"],
        ["report", "--output", f"html:{LONG}"],
        ["config", "--check", LONG],
    ],
    ids=lambda args: " ".join(args).replace(LONG, "LONG"),
)
def test_a_file_name_too_long_is_one_line_exit_2(project, capsys, chdir, args):
    """A path given with a name longer than the system allows was an internal
    error (exit 3, "a bug in normcheck"): `Path.exists()` and `is_file()` raise
    ENAMETOOLONG, wherever a path is looked at."""
    chdir(project)
    code, out, err = run_cli(capsys, *args)
    assert code == 2, err
    assert out == ""
    assert err.startswith("normcheck: error: ")
    assert LONG in err
    assert err.endswith((": file name too long\n", ": File name too long\n"))
    assert err.count("\n") == 1


def test_a_file_name_too_long_is_shown_as_text(project, capsys, chdir):
    """The path of a name too long was printed raw: a newline in it broke the one
    line, an escape sequence acted on the terminal (and click dropped it on a pipe),
    unlike every other error, whose quoted values are shown with escapes."""
    chdir(project)
    code, out, err = run_cli(capsys, "check", "--config", f"x\n\x1b[2J{LONG}")
    assert code == 2, err
    assert out == ""
    assert err == f"normcheck: error: x\\n\\x1b[2J{LONG}: file name too long\n"


def test_a_current_directory_removed_is_one_line_exit_2(project, capsys, chdir, tmp_path):
    """Run from a folder that no longer exists (a checkout removed it, a CI workspace
    cleaned): `Path.cwd()` raised FileNotFoundError, an internal error, exit 3."""
    gone = tmp_path / "gone"
    gone.mkdir()
    chdir(gone)
    gone.rmdir()
    code, out, err = run_cli(capsys, "check", "--project-dir", str(project), "--parse", "never")
    assert code == 2
    assert out == ""
    assert err == (
        "normcheck: error: the current directory no longer exists (removed, or replaced "
        "by a checkout): cd into the project again\n"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        pytest.param(["--format", "sarif"], True, id="sarif on the console"),
        pytest.param(["--output", "sarif:{tmp}/r.sarif"], True, id="sarif written"),
        pytest.param(["--format", "json"], False, id="no sarif"),
    ],
)
def test_a_sarif_report_over_code_scannings_limit_is_said(
    project, capsys, tmp_path, monkeypatch, args, said
):
    """GitHub code scanning refuses a run of more than 25,000 results: say so,
    and how to get under it, rather than let the upload step fail later."""
    from normcheck import cli

    findings = len(
        json.loads(run_cli(capsys, "check", "--project-dir", str(project), "--format", "json")[1])[
            "findings"
        ]
    )
    monkeypatch.setattr(cli, "SARIF_RESULT_LIMIT", findings - 1)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    _, _, err = run_cli(capsys, "check", "--project-dir", str(project), "-q", *args)
    note = f"the SARIF report holds {findings:,} results; GitHub code scanning refuses"
    assert (note in err) is said
    monkeypatch.setattr(cli, "SARIF_RESULT_LIMIT", findings)
    _, _, err = run_cli(capsys, "check", "--project-dir", str(project), "-q", *args)
    assert "GitHub code scanning refuses" not in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        pytest.param(["--output", "json"], "expected FORMAT:PATH", id="output without a path"),
        pytest.param(["--output", "pdf:x.pdf"], "unknown format `pdf`", id="unknown output format"),
        pytest.param(["--select", "naming/nope"], "unknown rule or family", id="unknown selection"),
        pytest.param(["--format", "yaml"], "Invalid value for '--format'", id="bad format choice"),
        pytest.param(["--manifest", "nope.json"], "run `dbt parse`", id="missing manifest"),
        pytest.param(["--config", "nope.yml"], "configuration file not found", id="missing config"),
        pytest.param(["--project-dir", "/nonexistent/x"], "does not exist", id="missing project"),
        pytest.param(
            ["--output", "json:dbt_project.yml/r.json"],  # under a file: no folder can be made
            "dbt_project.yml/r.json: cannot write report",
            id="unwritable report",
        ),
    ],
)
def test_user_errors_are_one_line_exit_2(project, capsys, chdir, args, needle):
    chdir(project)
    code, out, err = run_cli(capsys, "check", *args)
    assert out == ""  # not the report first, then the error
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith("normcheck: error: ")


@pytest.mark.parametrize(
    "args",
    [["config"], ["config", "--check"], ["rules"], ["explain", "naming/model-prefix"]],
    ids=" ".join,
)
def test_a_project_dir_that_does_not_exist_is_exit_2_for_every_command(tmp_path, capsys, args):
    """`config --check` (the pre-commit hook) passed and `rules`, `explain` and
    `config` showed the packaged default: a typo in --project-dir went unnoticed."""
    code, out, err = run_cli(capsys, *args, "--project-dir", str(tmp_path / "typo"))
    assert (code, out) == (2, "")
    assert err == f"normcheck: error: project directory `{tmp_path / 'typo'}` does not exist\n"


def test_broken_config_names_file_and_line(tmp_path, capsys):
    (tmp_path / "normcheck.yml").write_text("version: 1\nrules:\n  naming/model-prefix: [\n")
    code, _, err = run_cli(capsys, "check", "--project-dir", str(tmp_path))
    assert code == 2
    assert "normcheck.yml:4: YAML syntax error" in err


def test_a_rule_that_raises_is_an_internal_error_with_a_traceback_file(
    project, capsys, monkeypatch
):
    @rule("naming/model-prefix", severity="error", targets=["model"])
    def broken(model, ctx):
        """Broken."""
        raise ZeroDivisionError("boom")

    rules = tuple(broken if r.id == broken.id else r for r in registry.BUILTIN_RULES)
    monkeypatch.setattr(registry, "BUILTIN_RULES", rules)
    code, out, err = run_cli(capsys, "check", "--project-dir", str(project), "--format", "json")
    assert code == 3
    assert "rule `naming/model-prefix` raised on `model.shop." in err
    log = Path(err.rsplit("Traceback written to ", 1)[1].strip())
    assert "ZeroDivisionError: boom" in log.read_text()
    log.unlink()
    findings = json.loads(out)["findings"]
    assert any(f["rule"] == "docs/placeholder-description" for f in findings), "others still ran"


def test_an_unexpected_exception_is_exit_3(project, capsys, monkeypatch):
    def explode(options):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(cli_module, "run", explode)
    code, _, err = run_cli(capsys, "check", "--project-dir", str(project))
    assert code == 3
    assert "internal error (a bug in normcheck)" in err
    log = Path(err.rsplit("traceback written to ", 1)[1].strip())
    assert "RuntimeError: unexpected" in log.read_text()
    log.unlink()


def test_a_crash_naming_half_a_character_still_writes_its_log(project, capsys, monkeypatch):
    """An exception quoting a lone surrogate (a name from a JSON file) could not be
    written as UTF-8: the log held the log writer's own traceback, not the crash."""

    def explode(options):
        raise RuntimeError("unexpected \ud800 here")

    monkeypatch.setattr(cli_module, "run", explode)
    code, _, err = run_cli(capsys, "check", "--project-dir", str(project))
    assert code == 3
    log = Path(err.rsplit("traceback written to ", 1)[1].strip())
    assert "RuntimeError: unexpected \\ud800 here" in log.read_text(encoding="utf-8")
    log.unlink()


def test_an_error_quoting_an_escape_sequence_shows_it(tmp_path, capsys):
    """A configuration error quotes the value it refuses: an escape sequence in it
    was printed raw (a terminal ran it), and on a pipe click dropped it, so the
    line read `unknown packaged rule set `normcheck:recommended`: use one of ...,
    normcheck:recommended`."""
    (tmp_path / "normcheck.yml").write_text(
        'version: 1\nextends: ["normcheck:rec\\e[2Jommended"]\n', encoding="utf-8"
    )
    code, _, err = run_cli(capsys, "config", "--project-dir", str(tmp_path))
    assert code == 2
    assert "unknown packaged rule set `normcheck:rec\\x1b[2Jommended`" in err
    assert "\x1b" not in err


def test_a_crash_whose_traceback_cannot_be_written_is_still_one_line_exit_3(
    project, capsys, monkeypatch
):
    """No crash log to be had (a full disk, no writable temporary folder): writing it
    raised in the crash's own handling, and Python printed both tracebacks and exited
    1, the exit code of findings. It is still one line, exit 3, saying it was not
    written."""
    import errno
    import tempfile

    def explode(options):
        raise RuntimeError("unexpected")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cli_module, "run", explode)
    monkeypatch.setattr(tempfile, "mkstemp", full)
    code, _, err = run_cli(capsys, "check", "--project-dir", str(project))
    assert code == 3
    assert err == (
        "normcheck: internal error (a bug in normcheck); traceback not written "
        "(No space left on device)\n"
    )


def test_rules_lists_every_rule(capsys):
    code, out, _ = run_cli(capsys, "rules")
    assert code == 0
    ids = [line.split()[0] for line in out.splitlines()[1:]]  # below the header
    assert ids == sorted(registry.builtin_rules())
    assert "naming/model-prefix" in ids


def test_explain_prints_the_docs(capsys):
    code, out, _ = run_cli(capsys, "explain", "naming/model-prefix")
    assert code == 0
    for heading in (
        "## What it finds",
        "## Why it matters",
        "## Example",
        "## Use instead",
        "## Options",
    ):
        assert heading in out
    assert "`layers`" in out


def test_explain_unknown_rule(capsys):
    code, _, err = run_cli(capsys, "explain", "naming/model-prefx")
    assert code == 2
    assert "did you mean `naming/model-prefix`" in err


def test_config_shows_provenance(project, capsys, chdir):
    chdir(project)
    code, out, _ = run_cli(capsys, "config")
    assert code == 0
    assert "naming/model-prefix  error  [central.yml:5]  locked [central.yml:5]" in out
    assert "team            growth  [normcheck.yml:3]" in out
    assert "[normcheck.yml:5] setting severity `warning` of locked rule" in out
    code, out, _ = run_cli(capsys, "config", "--format", "json")
    data = json.loads(out)
    assert data["files"] == ["normcheck:default", "central.yml", "normcheck.yml"]
    prefix = data["rules"]["naming/model-prefix"]
    assert prefix["severity_from"] == "central.yml:5"
    assert prefix["options"]["layers"]["from"] == "(default)"
    assert data["rules"]["governance/group-required"]["severity"] == "off"


def test_schema_is_valid_and_accepts_the_shipped_rule_sets(capsys):
    code, out, _ = run_cli(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    from normcheck.config.loader import rulesets_dir

    for path in rulesets_dir().glob("*.yml"):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_init_writes_a_starter_that_resolves(tmp_path, capsys, chdir):
    chdir(tmp_path)
    (tmp_path / "dbt_project.yml").write_text("name: shop\n")
    code, out, err = run_cli(capsys, "init")
    assert (code, err) == (0, "")
    assert "wrote normcheck.yml" in out
    assert '# tracking_plans: ["tracking/**/*.yml"]' in (tmp_path / "normcheck.yml").read_text()
    code, out, _ = run_cli(capsys, "config", "--format", "json")
    assert code == 0
    assert json.loads(out)["files"] == ["normcheck:default", "normcheck.yml"]
    before = (tmp_path / "normcheck.yml").read_text()
    code, _, err = run_cli(capsys, "init")
    assert code == 2
    assert "already exists" in err
    assert (tmp_path / "normcheck.yml").read_text() == before
    (tmp_path / "normcheck.yml").write_text("x")
    assert run_cli(capsys, "init", "--force")[0] == 0
    assert (tmp_path / "normcheck.yml").read_text() == before


def test_init_cut_short_by_a_full_disk_leaves_no_configuration(tmp_path):
    """`normcheck init` on a full disk (here a file size limit) left a truncated
    normcheck.yml: the retry said it "already exists", and `check` read what was
    left of it as the project's configuration. It writes the file whole or not at all."""
    import resource
    import subprocess
    import sys

    (tmp_path / "dbt_project.yml").write_text("name: shop\nversion: '1.0'\nprofile: shop\n")
    command = [sys.executable, "-m", "normcheck", "init"]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}  # this checkout's normcheck

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (256, 256))

    done = subprocess.run(
        command,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=small_files,
    )
    assert done.returncode == 2
    assert done.stderr == "normcheck: error: normcheck.yml: cannot write the file: File too large\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dbt_project.yml"]
    again = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert again.returncode == 0, again.stderr
    assert len((tmp_path / "normcheck.yml").read_text()) > 256


def test_init_writes_the_layers_the_model_folders_follow(tmp_path, capsys, chdir):
    """The commented `layers:` example is the project's own folders and prefixes
    (where most of a folder's models share them), in the order data flows; once
    uncommented, it resolves to exactly those layers."""
    chdir(tmp_path)
    (tmp_path / "dbt_project.yml").write_text("name: shop\nmodel-paths: [transform, old]\n")
    models = {
        "transform/core": ["fct_a", "fct_b", "dim_a", "dim_b", "misc"],  # 4 of 5: enough
        "transform/base/crm": ["base_a", "base_b"],  # nested: counted for base/
        "transform/base": ["base_c"],
        "transform/scratch": ["a", "b", "c_d"],  # no shared prefix
        "transform/one": ["x_a"],  # one model is no convention
        "old/base": ["src_a", "src_b"],  # a second folder of that name: the same layer
        "old/2024": ["rpt_a", "rpt_b"],  # a name YAML would read as a number
    }
    for folder, names in models.items():
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        for name in names:
            (tmp_path / folder / f"{name}.sql").write_text("select 1 as a")
    assert run_cli(capsys, "init")[0] == 0
    text = (tmp_path / "normcheck.yml").read_text()
    assert "# the layers your model folders follow" in text
    assert "# governance/layer-dependency names layers too" in text
    enabled = text.replace("  # naming/model-prefix:", "  naming/model-prefix:")
    enabled = re.sub(r"(?m)^  #   ", "    ", enabled)
    (tmp_path / "normcheck.yml").write_text(enabled)
    options = load_config(tmp_path).rules["naming/model-prefix"].options
    layers = msgspec.to_builtins(options)["layers"]
    assert layers == {
        "base": {"paths": ["old/base/**", "transform/base/**"], "prefixes": ["src_", "base_"]},
        "core": {"paths": ["transform/core/**"], "prefixes": ["dim_", "fct_"]},
        "2024": {"paths": ["old/2024/**"], "prefixes": ["rpt_"]},
    }
    assert list(layers) == ["base", "core", "2024"]


def test_version_and_help(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0
    assert out.startswith("normcheck, version ")
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    assert "check" in out


def test_a_broken_properties_file_is_a_user_error(tmp_path, capsys):
    project = build_dbt_project(tmp_path, FILES)
    (project / "models/marts/_models.yml").write_text("version: 2\nmodels:\n  - name: [\n")
    code, _, err = run_cli(
        capsys, "check", "--project-dir", str(project), "--parse", "never", "--no-cache"
    )
    assert code == 2
    assert "models/marts/_models.yml:4: YAML syntax error" in err
    assert err.count("\n") == 1


def test_the_console_script_flushes_its_output_and_keeps_the_exit_code(project, capsys, chdir):
    """`python -m normcheck` ends with os._exit (no freeing of the run's objects):
    what it wrote is flushed first, and the exit code is the CLI's."""
    import subprocess
    import sys

    chdir(project)
    args = ["check", "--format", "json"]
    done = subprocess.run(
        [sys.executable, "-m", "normcheck", *args],
        capture_output=True,
        check=False,
        cwd=project,
    )
    code, out, _ = run_cli(capsys, *args)
    assert (done.returncode, done.stdout.decode()) == (code, out) == (1, out)
    assert json.loads(out)["summary"]["error"] == 2
    # a reader that stops early: no traceback, no "Exception ignored" noise
    rules = subprocess.Popen(
        [sys.executable, "-m", "normcheck", "rules"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert rules.stdout is not None and rules.stderr is not None
    rules.stdout.read(10)
    rules.stdout.close()
    assert rules.stderr.read() == b""
    assert rules.wait() in (0, 1, 2)


def test_the_console_script_runs_exit_handlers_before_it_exits(tmp_path):
    """The quick exit still does what normal exit does besides freeing objects:
    exit handlers run (dbt's, a plugin's), and only then does the process end."""
    import subprocess
    import sys

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "normcheck.yml").write_text("version: 1\nplugins: [farewell.py]\n")
    (folder / "farewell.py").write_text(
        "import atexit\nfrom pathlib import Path\n\n"
        "atexit.register(lambda: Path('said-goodbye').write_text('yes'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "normcheck", "config", "--check"],
        cwd=folder,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (folder / "said-goodbye").read_text() == "yes"


@pytest.mark.parametrize("command", [["config", "--check"], ["check", "--parse", "never"]])
def test_ctrl_c_is_an_interruption_exit_130_not_an_input_error(tmp_path, command):
    """Ctrl-C (here a plugin's SIGINT to its own process, as it loads) exits 130, as
    a shell reports a command it stopped, with one line: not 2, the exit code of a
    usage, configuration or input error, with `aborted`."""
    import signal
    import subprocess
    import sys

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "normcheck.yml").write_text("version: 1\nplugins: [stop.py]\n")
    (folder / "stop.py").write_text(f"import os\nos.kill(os.getpid(), {int(signal.SIGINT)})\n")
    done = subprocess.run(
        [sys.executable, "-m", "normcheck", *command],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},  # this checkout's normcheck
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 130
    assert done.stderr.strip() == "normcheck: interrupted"
    assert done.stdout == ""


def test_config_check_without_files_validates_each_monorepo_project(tmp_path, capsys, chdir):
    chdir(tmp_path)
    assert main(["config", "--check"]) == 0  # nothing here: said, not silently passed
    assert "no normcheck.yml in .: nothing to validate" in capsys.readouterr().err
    (tmp_path / "normcheck.yml").write_text("version: 1\nprojects: [shop, crm]\n")
    assert main(["config", "--check"]) == 2
    assert "`projects:` lists `shop`, which does not exist" in capsys.readouterr().err
    for name in ("shop", "crm"):
        (tmp_path / name).mkdir()
    assert main(["config", "--check"]) == 2
    assert (
        "`projects:` lists `shop`, which holds no dbt_project.yml: not a dbt project"
        in capsys.readouterr().err
    )
    for name in ("shop", "crm"):
        (tmp_path / name / "dbt_project.yml").write_text(f"name: {name}\n")
    (tmp_path / "shop" / "normcheck.yml").write_text("version: 1\nteam: shop\n")
    chdir(tmp_path)
    assert main(["config", "--check"]) == 0
    (tmp_path / "crm" / "normcheck.yml").write_text("version: 1\nteem: crm\n")
    code = main(["config", "--check"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "crm/normcheck.yml:2: unknown key `teem`" in err


def test_the_packaged_rule_sets_validate_as_files(capsys):
    """`config --check rules/default.yml` (a central team copying it): it was
    said to extend itself, the default every other file extends."""
    from normcheck.config.loader import rulesets_dir

    for path in sorted(rulesets_dir().glob("*.yml")):
        assert run_cli(capsys, "config", "--check", str(path)) == (0, "", ""), path


def test_config_check_fails_on_an_attempt_to_weaken_a_locked_rule(tmp_path, capsys, chdir):
    """The pre-commit `normcheck-config` hook passed a file that `check` fails on."""
    chdir(tmp_path)
    (tmp_path / "central.yml").write_text(
        "extends: []\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    (tmp_path / "normcheck.yml").write_text(
        "extends: [central.yml]\nrules:\n  naming/model-prefix: warning\n"
    )
    code, out, err = run_cli(capsys, "config", "--check")
    assert (code, err) == (1, "")
    assert out == (
        "normcheck.yml:3: error normcheck/locked-rule setting severity `warning` of locked "
        "rule `naming/model-prefix` has no effect: it was locked at central.yml:3\n"
    )
    assert run_cli(capsys, "config", "--check", "-q") == (1, "", "")
    assert run_cli(capsys, "config", "--check", "central.yml") == (0, "", "")


def test_config_shows_layers_in_the_order_they_are_matched(tmp_path, capsys, chdir):
    """The first layer whose paths match is a model's: `config` must not sort them."""
    chdir(tmp_path)
    (tmp_path / "normcheck.yml").write_text(
        "rules:\n  naming/model-prefix:\n    options:\n      layers:\n"
        "        wide: {paths: ['models/**'], prefixes: [x_]}\n"
        "        alpha: {paths: ['models/a/**'], prefixes: [a_]}\n"
    )
    code, out, _ = run_cli(capsys, "config", "--format", "json")
    layers = json.loads(out)["rules"]["naming/model-prefix"]["options"]["layers"]["value"]
    assert (code, list(layers)) == (0, ["wide", "alpha"])
    _, out, _ = run_cli(capsys, "config")
    (line,) = [line for line in out.splitlines() if "layers = " in line and "wide" in line]
    assert line.index('"wide"') < line.index('"alpha"')


def test_rules_shows_each_rules_severity_here_beside_its_default(tmp_path, capsys, chdir):
    """A rule no rule set turns on is off, whatever its default: `rules` says so (a
    plugin's rule listed at its default severity looked as if it ran)."""
    chdir(tmp_path)
    (tmp_path / "normcheck.yml").write_text(
        "extends: []\nrules:\n  docs/missing-description: error\n"
    )
    code, out, _ = run_cli(capsys, "rules")
    rows = {line.split()[0]: line.split()[1:4] for line in out.splitlines()}
    assert code == 0 and rows["rule"] == ["family", "default", "here"]
    assert rows["docs/missing-description"] == ["docs", "warning", "error"]
    assert rows["naming/model-prefix"] == ["naming", "error", "off"]


def test_config_files_without_check_are_a_usage_error(tmp_path, capsys, chdir):
    """`normcheck config other.yml` showed normcheck.yml's configuration, not the
    file's, and passed: FILES are read only by --check."""
    chdir(tmp_path)
    (tmp_path / "other.yml").write_text("version: 1\n")
    code, out, err = run_cli(capsys, "config", "other.yml")
    assert (code, out) == (2, "")
    assert err == (
        "normcheck: error: FILES are validated with --check; to see one file's resolved "
        "configuration, pass --config FILE\n"
    )


def test_a_relative_xdg_cache_home_is_ignored(monkeypatch, tmp_path):
    from normcheck import cache

    monkeypatch.delenv("NORMCHECK_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # would put the cache in the project
    assert cache.cache_dir() == tmp_path / ".cache" / "normcheck"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "normcheck"


def test_init_looks_at_the_folder(tmp_path, capsys, chdir):
    """No dbt project here: said (the file is still written). Tracking plans under
    tracking/: the starter reads them, or the tracking rules would check nothing."""
    chdir(tmp_path)
    (tmp_path / "tracking" / "web").mkdir(parents=True)
    (tmp_path / "tracking" / "web" / "plan.yml").write_text("normcheck: plan/v1\nplan: {id: web}\n")
    (tmp_path / "tracking" / "segment.json").write_text('{"rules": []}')
    (tmp_path / "tracking" / "common.schema.json").write_text('{"type": "object"}')
    code, _, err = run_cli(capsys, "init")
    assert code == 0
    assert err.startswith("normcheck: no dbt_project.yml here: run `normcheck init` in the dbt")
    text = (tmp_path / "normcheck.yml").read_text()
    # every YAML file there is a plan: a glob; JSON beside a plain JSON Schema: by name
    assert 'tracking_plans: ["tracking/**/*.yml", "tracking/segment.json"]' in text
    config = load_config(tmp_path)
    assert config.tracking_plans == ("tracking/**/*.yml", "tracking/segment.json")


def test_the_common_options_q_and_no_color_are_taken_by_every_command_that_prints(
    project, capsys, tmp_path
):
    """SPEC §3 lists `--no-color` and `-q` as common options: `baseline`, `config`
    and `rules` refused them (`report` refused `-q`), which breaks a wrapper that
    passes them to every command."""
    where = ["--project-dir", str(project)]
    code, out, err = run_cli(capsys, "rules", "--no-color", *where)
    assert (code, err) == (0, "")
    assert out == run_cli(capsys, "rules", *where)[1]
    code, out, err = run_cli(capsys, "config", "--no-color", *where)
    assert (code, err) == (0, "")
    assert out == run_cli(capsys, "config", *where)[1]
    assert run_cli(capsys, "config", "-q", "--no-color", *where) == (0, "", "")
    target = tmp_path / "baseline.json"
    args = ["baseline", "-q", "--no-color", "--parse", "never", "--output", str(target)]
    assert run_cli(capsys, *args, *where) == (0, "", "")
    assert json.loads(target.read_text())
    page = tmp_path / "scorecard.md"
    args = ["report", "-q", "--parse", "never", "--output", f"markdown:{page}"]
    assert run_cli(capsys, *args, *where) == (0, "", "")
    assert page.read_text().startswith("#")


def test_a_folder_that_is_no_dbt_project_is_said_to_be_one(project, capsys, chdir, tmp_path):
    """Run from `models/marts` without --project-dir, normcheck said
    "target/manifest.json: manifest not found: run `dbt parse`", which dbt cannot
    do there either."""
    chdir(project / "models" / "marts")
    assert run_cli(capsys, "check") == (
        2,
        "",
        "normcheck: error: no dbt_project.yml in . (and no manifest): pass --project-dir ../..\n",
    )
    chdir(tmp_path)
    code, out, err = run_cli(capsys, "report", "--project-dir", str(project / "models"))
    assert (code, out) == (2, "")
    assert err.endswith(f"pass --project-dir {os.path.relpath(project, tmp_path)}\n")
    (tmp_path / "empty").mkdir()
    assert run_cli(capsys, "baseline", "--project-dir", "empty") == (
        2,
        "",
        "normcheck: error: no dbt_project.yml in empty (and no manifest): "
        "run normcheck in the dbt project's folder, or pass --project-dir\n",
    )


def test_a_gzip_manifest_is_read_as_the_plain_one(project, capsys, tmp_path):
    plain = project / "target" / "manifest.json"
    packed = tmp_path / "manifest.json.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    args = ["check", "--project-dir", str(project), "--format", "json", "--fail-on", "never"]
    expected = run_cli(capsys, *args, "--manifest", str(plain))
    assert run_cli(capsys, *args, "--manifest", str(packed)) == expected
    assert json.loads(expected[1])["findings"], "the run found something to compare"
    packed.write_bytes(packed.read_bytes()[:-40])  # cut short: the gzip stream ends early
    code, out, err = run_cli(capsys, *args, "--manifest", str(packed))
    assert (code, out) == (2, "")
    assert err.startswith(f"normcheck: error: {packed}: gzip file that does not decompress: ")
    assert err.count("\n") == 1
