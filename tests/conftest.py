"""Shared fixtures: real dbt projects parsed by real dbt-core (DuckDB)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
CACHE_DIR = REPO / ".pytest_cache" / "normcheck-dbt"

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

ProjectFactory = Callable[..., Path]


def _dbt_version() -> str:
    from importlib.metadata import version

    return version("dbt-core")


def dbt_parse(project_dir: Path) -> None:
    """Run real `dbt parse` in-process through dbt-core's Python API."""
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


def write_files(root: Path, files: Mapping[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def build_dbt_project(
    tmp: Path, files: Mapping[str, str], name: str = "shop", parse: bool = True
) -> Path:
    """Write a dbt project with ``files`` and parse it with real dbt.

    Manifests are cached under .pytest_cache by the hash of the inputs and the
    dbt version, so repeated local runs skip identical parses; CI starts cold.
    """
    all_files = {
        "dbt_project.yml": DBT_PROJECT.format(name=name),
        "profiles.yml": PROFILES.format(name=name),
        **files,
    }
    project = tmp / name
    project.mkdir(parents=True, exist_ok=True)
    write_files(project, all_files)
    if not parse:
        return project
    key = hashlib.sha256(
        json.dumps([_dbt_version(), sorted(all_files.items())]).encode()
    ).hexdigest()[:24]
    cached = CACHE_DIR / key / "manifest.json"
    target = project / "target"
    target.mkdir(exist_ok=True)
    if cached.is_file():
        shutil.copyfile(cached, target / "manifest.json")
        return project
    dbt_parse(project)
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target / "manifest.json", cached)
    return project


@pytest.fixture
def dbt_project(tmp_path: Path) -> ProjectFactory:
    counter = iter(range(1000))

    def make(files: Mapping[str, str], name: str = "shop", parse: bool = True) -> Path:
        return build_dbt_project(tmp_path / f"p{next(counter)}", files, name, parse)

    return make


@pytest.fixture
def chdir(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    def go(path: Path) -> None:
        monkeypatch.chdir(path)

    return go


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test gets its own warm-run cache, so no test sees another's results."""
    monkeypatch.setenv("NORMCHECK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
