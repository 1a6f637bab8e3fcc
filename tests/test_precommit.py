"""The pre-commit hooks, for real: a git repository with a dbt project installs
the hooks from this checkout, a bad commit is rejected with the finding, a good
one is accepted. Uses real pre-commit, real git and real dbt inside the hook."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DBT_PROJECT, PROFILES, REPO, write_files

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}
HOOK_FILES = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "src", "rules"]


def sh(
    cwd: Path, *args: str, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"{args} failed:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    bindir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        **GIT_ENV,
        "PRE_COMMIT_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
    }


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory, env) -> tuple[Path, str]:
    """This checkout's working tree as a git repository pre-commit can install from."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in HOOK_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, repo / name)
    sh(repo, "git", "init", "-q", "-b", "main", env=env)
    sh(repo, "git", "add", "-A", env=env)
    sh(repo, "git", "commit", "-qm", "normcheck", env=env)
    return repo, sh(repo, "git", "rev-parse", "HEAD", env=env).stdout.strip()


PRE_COMMIT_CONFIG = """\
repos:
  - repo: {repo}
    rev: {rev}
    hooks:
      - id: normcheck
        additional_dependencies: ["dbt-core~=1.11.0", "dbt-duckdb~=1.11"]
      - id: normcheck-config
"""
GOOD_MODEL = (
    "{{ config(meta={'owner': 'growth'}) }}\nselect 1 as order_id\n",
    "version: 2\nmodels:\n  - name: fct_orders\n"
    "    description: One row per order placed in the web shop.\n",
)


def test_bad_commit_rejected_good_commit_accepted(tmp_path, env, hook_repo):
    repo, rev = hook_repo
    project = tmp_path / "analytics"
    write_files(
        project,
        {
            "dbt_project.yml": DBT_PROJECT.format(name="shop"),
            "profiles.yml": PROFILES.format(name="shop"),
            ".gitignore": "target/\nlogs/\n",
            "normcheck.yml": "version: 1\nrules:\n  governance/group-required: 'off'\n",
            ".pre-commit-config.yaml": PRE_COMMIT_CONFIG.format(repo=repo, rev=rev),
            "models/marts/fct_orders.sql": GOOD_MODEL[0],
            "models/marts/_models.yml": GOOD_MODEL[1],
        },
    )
    sh(project, "git", "init", "-q", "-b", "main", env=env)
    sh(project, sys.executable, "-m", "pre_commit", "install", env=env)
    sh(project, "git", "add", "-A", env=env)
    first = sh(project, "git", "commit", "-qm", "a clean project", env=env, check=False)
    assert first.returncode == 0, first.stdout + first.stderr

    # a model without a layer prefix, no owner, no description
    (project / "models/marts/orders.sql").write_text("select 1 as order_id\n")
    sh(project, "git", "add", "-A", env=env)
    bad = sh(project, "git", "commit", "-qm", "add orders", env=env, check=False)
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0, output
    assert "naming/model-prefix" in output
    assert "model `orders` in layer `marts` lacks a prefix: fct_, dim_" in output
    assert "models/marts/orders.sql" in output
    assert "`fct_orders`" not in output, "only what the commit touches is reported"

    # fix it: the good change is accepted
    (project / "models/marts/orders.sql").unlink()
    (project / "models/marts/fct_refunds.sql").write_text(GOOD_MODEL[0])
    (project / "models/marts/_refunds.yml").write_text(
        GOOD_MODEL[1].replace("fct_orders", "fct_refunds").replace("order placed", "refund paid")
    )
    sh(project, "git", "add", "-A", env=env)
    good = sh(project, "git", "commit", "-qm", "add refunds", env=env, check=False)
    assert good.returncode == 0, good.stdout + good.stderr

    # YAML that is no rule set of normcheck's is not judged as one; a rule set the
    # configuration extends is validated wherever it lives
    write_files(
        project,
        {
            "rules/prometheus.yml": "groups:\n  - name: alerts\n",
            "central/acme.yml": "version: 1\nrules:\n  naming/model-prefix: eror\n",
            "normcheck.yml": "version: 1\nextends: [normcheck:default, central/acme.yml]\n",
        },
    )
    sh(project, "git", "add", "-A", env=env)
    central = sh(project, "git", "commit", "-qm", "central rules", env=env, check=False)
    output = central.stdout + central.stderr
    assert central.returncode != 0
    assert "central/acme.yml:3: " in output and "eror" in output
    assert "prometheus" not in output
    (project / "central/acme.yml").write_text("version: 1\nrules:\n  naming/model-prefix: error\n")
    sh(project, "git", "add", "-A", env=env)
    fixed = sh(project, "git", "commit", "-qm", "central rules", env=env, check=False)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr

    # a broken normcheck.yml is caught by the fast config hook
    (project / "normcheck.yml").write_text("version: 1\nruls: {}\n")
    sh(project, "git", "add", "-A", env=env)
    broken = sh(project, "git", "commit", "-qm", "typo", env=env, check=False)
    output = broken.stdout + broken.stderr
    assert broken.returncode != 0
    assert "normcheck.yml:2: unknown key `ruls`; did you mean `rules`?" in output


def test_the_config_hook_reads_a_rule_set_pack_given_as_a_dependency(tmp_path, env, hook_repo):
    """The README's recipe for a company's rule pack: the hook's environment gets the
    pack through `additional_dependencies`, and `extends: [acme:central]` resolves
    there, its locks holding against the team's file."""
    repo, rev = hook_repo
    project = tmp_path / "analytics"
    pack = REPO / "examples" / "rule-pack"
    write_files(
        project,
        {
            ".pre-commit-config.yaml": (
                f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n"
                f"      - id: normcheck-config\n        additional_dependencies: ['{pack}']\n"
            ),
            "normcheck.yml": "version: 1\nextends: [acme:central]\nteam: growth\n",
        },
    )
    sh(project, "git", "init", "-q", "-b", "main", env=env)
    sh(project, sys.executable, "-m", "pre_commit", "install", env=env)
    sh(project, "git", "add", "-A", env=env)
    first = sh(project, "git", "commit", "-qm", "adopt acme's norms", env=env, check=False)
    assert first.returncode == 0, first.stdout + first.stderr

    (project / "normcheck.yml").write_text(
        "version: 1\nextends: [acme:central]\nrules:\n  acme/float-column: warning\n"
    )
    sh(project, "git", "add", "-A", env=env)
    weaker = sh(project, "git", "commit", "-qm", "relax", env=env, check=False)
    output = weaker.stdout + weaker.stderr
    assert weaker.returncode != 0, output
    assert "normcheck/locked-rule" in output
    assert "locked at acme:central:11" in output
