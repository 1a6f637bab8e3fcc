"""examples/ci/*.yml are what a team copies: run the exact commands they contain
against a copy of sample_project/ in a real git repository (with an `origin`
and a pull-request branch, so `--since` works as in CI), and check what CI would
see: the exit code that gates the PR, the annotations, the summary, and SARIF
and JUnit files that validate. Only the `pip install` line is not run (the
venv already has normcheck and dbt); everything else runs as written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from _report_support import sample_copy
from conftest import REPO
from test_report_formats import validate_junit, validate_sarif

EXAMPLES = REPO / "examples" / "ci"
VENV_BIN = str(Path(sys.executable).parent)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "ci",
    "GIT_AUTHOR_EMAIL": "ci@example.com",
    "GIT_COMMITTER_NAME": "ci",
    "GIT_COMMITTER_EMAIL": "ci@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}
CLEAN_MODEL = "models/staging/stg_orders.sql"
BAD_MODEL = "models/marts/customer_cohorts.sql"  # lacks the fct_/dim_ prefix: an error


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def make_repo(tmp: Path, changed: str) -> Path:
    """The sample project at a repository's root, pushed to `origin` as `main`,
    checked out on a branch that changed ``changed``; no target/ (CI parses)."""
    work = sample_copy(tmp / "clone", parse=False)
    (work / ".gitignore").write_text("target/\nlogs/\n*.duckdb\n")
    git(work, "init", "--quiet")
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "the project")
    origin = tmp / "origin.git"
    git(tmp, "init", "--quiet", "--bare", str(origin))
    git(work, "remote", "add", "origin", str(origin))
    git(work, "push", "--quiet", "origin", "main")
    git(work, "fetch", "--quiet", "origin")
    git(work, "checkout", "--quiet", "-b", "feature")
    path = work / changed
    path.write_text(path.read_text() + "-- a change in this pull request\n")
    git(work, "commit", "--quiet", "-am", "change one model")
    return work


def shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"], **env}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def is_install(script: str) -> bool:
    return script.lstrip().startswith("pip install")


# -- GitHub Actions -----------------------------------------------------------------


def github_workflow() -> dict:
    return yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())


def run_github(repo: Path, event: str, tmp: Path) -> dict[str, object]:
    """Run the workflow's steps as the runner would: a failed step skips the
    later ones unless their `if:` says `always()`."""
    workflow = github_workflow()
    (job,) = workflow["jobs"].values()
    summary = tmp / "step_summary.md"
    summary.write_text("")
    env = {
        **{k: str(v) for k, v in job.get("env", {}).items()},
        "GITHUB_EVENT_NAME": event,
        "GITHUB_BASE_REF": "main" if event == "pull_request" else "",
        "GITHUB_STEP_SUMMARY": str(summary),
        "CI": "true",
    }
    failed = False
    ran: dict[str, object] = {"summary": summary}
    for step in job["steps"]:
        name = step.get("name", step.get("uses", ""))
        if failed and "always()" not in str(step.get("if", "")):
            ran[name] = "skipped"
            continue
        if "uses" in step:
            ran[name] = step
            continue
        script = step["run"]
        assert "${{" not in script, "use environment variables, not expressions, in `run:`"
        if is_install(script):
            # normcheck from the copy its `NORMCHECK` names (it is not on PyPI), and dbt
            assert "$NORMCHECK" in script and "dbt-core~=1.11.0" in script
            assert "normcheck @ git+" in step["env"]["NORMCHECK"]
            ran[name] = "installed"
            continue
        done = shell(script, repo, {**env, **{k: str(v) for k, v in step.get("env", {}).items()}})
        ran[name] = done
        failed = failed or done.returncode != 0
    return ran


@pytest.mark.dbt
@pytest.mark.parametrize(
    ("changed", "expected_code"),
    [
        pytest.param(BAD_MODEL, 1, id="a pull request that adds an error is failed"),
        pytest.param(CLEAN_MODEL, 0, id="a pull request that touches only clean files passes"),
    ],
)
def test_github_actions_pull_request(tmp_path, changed, expected_code):
    repo = make_repo(tmp_path, changed)
    ran = run_github(repo, "pull_request", tmp_path)
    assert ran["Install"] == "installed"
    parse = ran["Parse the dbt project"]
    assert parse.returncode == 0, parse.stdout + parse.stderr
    assert (repo / "target" / "manifest.json").is_file()
    check = ran["Check"]
    assert check.returncode == expected_code, check.stdout + check.stderr
    annotations = [line for line in check.stdout.splitlines() if line.startswith("::")]
    assert ran["SARIF of the whole project"].returncode == 0
    sarif = validate_sarif((repo / "normcheck.sarif").read_text())
    results = sarif["runs"][0]["results"]
    summary = ran["summary"].read_text()
    if expected_code:
        # only what the pull request changed: the new error, not the old debt elsewhere
        assert annotations == [
            f"::error file={changed},line=1,title=normcheck naming/model-prefix::"
            "model `customer_cohorts` in layer `marts` lacks a prefix: fct_, dim_"
        ]
        assert summary.startswith("### 🔴 normcheck: 1 error, 0 warnings, 0 info\n")
    else:
        assert annotations == []
        assert summary.startswith("### 🟢 normcheck: 0 errors, 0 warnings, 0 info\n")
    # code scanning gets the whole project either way (a PR's partial upload would
    # show every other alert as fixed)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    whole = subprocess.run(
        [f"{VENV_BIN}/normcheck", "check", "--parse", "never", "--format", "json"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert whole.stdout, whole.stderr
    assert len(results) == len(json.loads(whole.stdout)["findings"]) > 5
    assert BAD_MODEL in uris and len(uris) > 1
    assert ran["Summary"].returncode == 0
    upload = ran["Upload SARIF"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["if"] == "always()"
    assert (repo / upload["with"]["sarif_file"]).is_file()


@pytest.mark.dbt
def test_github_actions_push_checks_the_whole_project(tmp_path):
    repo = make_repo(tmp_path, CLEAN_MODEL)
    ran = run_github(repo, "push", tmp_path)
    check = ran["Check"]
    assert check.returncode == 1
    annotations = [line for line in check.stdout.splitlines() if line.startswith("::")]
    report = json.loads(
        subprocess.run(
            [f"{VENV_BIN}/normcheck", "check", "--parse", "never", "--format", "json"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    )
    assert len(annotations) == len(report["findings"]) > 5
    assert ran["summary"].read_text().startswith("### 🔴 normcheck: ")


def test_github_workflow_shape():
    workflow = github_workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as true
    assert "pull_request" in triggers
    assert workflow["permissions"]["security-events"] == "write"
    (job,) = workflow["jobs"].values()
    checkout = job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0, "--since needs the base branch"


# -- GitLab CI ----------------------------------------------------------------------


@pytest.mark.dbt
def test_gitlab_ci_merge_request(tmp_path):
    repo = make_repo(tmp_path, BAD_MODEL)
    pipeline = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())
    job = pipeline["normcheck"]
    assert any("merge_request_event" in rule["if"] for rule in job["rules"])
    script = job["script"]
    installs = [line for line in script if is_install(line)]
    assert len(installs) == 1 and "normcheck" in installs[0]
    env = {
        **{k: str(v) for k, v in job["variables"].items()},
        "CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_DEFAULT_BRANCH": "main",
    }
    # GitLab runs the script's lines in one shell that stops at the first failure
    done = shell("\n".join(line for line in script if not is_install(line)), repo, env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "customer_cohorts.sql" in done.stdout
    assert "_intermediate.yml" not in done.stdout  # old debt elsewhere is not this MR's
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    junit = repo / artifacts["reports"]["junit"]
    document = validate_junit(junit.read_text())
    assert int(document.get("failures")) == 1
    failure = document.find(".//failure")
    assert failure.get("type") == "naming/model-prefix"
    for path in artifacts["paths"]:
        assert (repo / path).is_file(), path
    validate_sarif((repo / "normcheck.sarif").read_text())
    assert (repo / "normcheck.md").read_text().startswith("### 🔴 normcheck: 1 error")
