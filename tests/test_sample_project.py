"""The sample project parses with real dbt, and the output the READMEs show is
exactly what normcheck prints on it today."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, dbt_parse
from normcheck.cli import main


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    shutil.copytree(
        REPO / "sample_project",
        root / "sample_project",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb*"),
    )
    dbt_parse(root / "sample_project")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)  # a repository, as users have
    return root


def demo_block(readme: Path) -> str:
    text = readme.read_text(encoding="utf-8")
    found = re.search(r"```\n(sample_project/models/.*?)```\n", text, re.DOTALL)
    assert found, f"{readme} has no demo output block"
    return found.group(1)


@pytest.mark.parametrize("readme", ["README.md", "sample_project/README.md"])
def test_readme_demo_output_is_current(sample, readme, monkeypatch, capsys):
    monkeypatch.chdir(sample)
    code = main(["check", "--project-dir", "sample_project", "--no-color", "--parse", "never"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert out == demo_block(REPO / readme)


def test_readme_config_and_json_examples_are_current(sample, monkeypatch, capsys):
    """The README's `normcheck config` lines are lines of the real output (file:line
    included), and its JSON example's summary is the real one."""
    readme = (REPO / "README.md").read_text()
    monkeypatch.chdir(sample)
    main(["config", "--project-dir", "sample_project"])
    real = capsys.readouterr().out.splitlines()
    block = readme.split("`normcheck config` shows the result with provenance")[1]
    shown = block.split("```")[1].strip("\n").splitlines()
    assert shown and all(line in real for line in shown), shown
    main(["check", "--project-dir", "sample_project", "--parse", "never", "--format", "json"])
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert f' "summary": {json.dumps(summary)}}}' in readme


def _on_a_terminal(cwd: Path, env: dict[str, str], *args: str) -> bytes:
    """What normcheck writes to a real (pseudo-)terminal."""
    ours, theirs = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "normcheck", *args], cwd=cwd, env=env, stdout=theirs
    ) as process:
        os.close(theirs)
        chunks = []
        while True:
            try:
                chunk = os.read(ours, 65536)
            except OSError:  # the terminal closed: all was read
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(ours)
    assert process.returncode in (0, 1)
    return b"".join(chunks)


@pytest.mark.parametrize("command", ["check", "report"])
def test_colour_on_a_terminal_unless_no_color(sample, command):
    args = (command, "--project-dir", "sample_project", "--parse", "never")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert b"\x1b[" in _on_a_terminal(sample, env, *args)
    assert b"\x1b[" not in _on_a_terminal(sample, {**env, "NO_COLOR": "1"}, *args)
    assert b"\x1b[" not in _on_a_terminal(sample, env, *args, "--no-color")


def test_a_changed_plugin_rechecks_everything(sample, monkeypatch, capsys):
    """The central rule set's Python rules are configuration too: pre-commit on
    governance/rules.py alone reports what a whole check does."""
    monkeypatch.chdir(sample / "sample_project")
    assert main(["check", "--format", "json", "--parse", "never"]) == 1
    everything = capsys.readouterr().out
    assert main(["check", "--format", "json", "--parse", "never", "governance/rules.py"]) == 1
    assert capsys.readouterr().out == everything


def test_paths_and_fingerprints_from_another_folder(sample, monkeypatch, capsys):
    """Run from inside the project (`--project-dir ..`, in a git repository), files
    are shown relative to the working folder (`../`), not absolute; fingerprints, the
    locked-rule finding's too, are the same as from the project itself."""

    def report(*args: str) -> list[dict[str, object]]:
        main(["check", "--format", "json", "--parse", "never", *args])
        findings: list[dict[str, object]] = json.loads(capsys.readouterr().out)["findings"]
        return findings

    monkeypatch.chdir(sample / "sample_project")
    here = report()
    monkeypatch.chdir(sample / "sample_project" / "models")
    inside = report("--project-dir", "..")
    assert [f["fingerprint"] for f in inside] == [f["fingerprint"] for f in here]
    assert [f["file"] for f in inside] == [f"../{f['file']}" for f in here]
    assert any(f["rule"] == "normcheck/locked-rule" for f in inside)


def tree_block(readme: Path) -> str:
    text = readme.read_text(encoding="utf-8")
    found = re.search(r"```\n(Metric tree of jaffle_norms.*?)```\n", text, re.DOTALL)
    assert found, f"{readme} has no metric tree block"
    return found.group(1)


@pytest.mark.parametrize("readme", ["README.md", "sample_project/README.md"])
def test_readme_metric_tree_is_current(sample, readme, monkeypatch, capsys):
    monkeypatch.chdir(sample)
    code = main(["metrics", "--project-dir", "sample_project", "--no-color", "--parse", "never"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert out == tree_block(REPO / readme)


def test_sample_metric_tree_in_markdown(sample, monkeypatch, capsys):
    monkeypatch.chdir(sample)
    code = main(["metrics", "--project-dir", "sample_project", "--format", "markdown"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert out.startswith("## Metric tree: jaffle_norms\n\n```mermaid\ngraph BT\n")
    assert "  class m1 yellow\n" in out  # acquired_customers, the deliberate finding
    assert "| `revenue` | Revenue | North Star |  | finance | green ≥ 60, yellow ≥ 45 |" in out


def test_dbt_build_passes_on_the_sample_project(tmp_path):
    """Seeds load, models build and every data test passes, on DuckDB, offline."""
    from dbt.cli.main import dbtRunner

    project = tmp_path / "sample_project"
    shutil.copytree(
        REPO / "sample_project",
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb*"),
    )
    result = dbtRunner().invoke(
        ["build", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet"]
    )
    assert result.success, result.exception
    assert (project / "target" / "sample.duckdb").is_file()
