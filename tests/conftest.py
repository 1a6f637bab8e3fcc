"""Shared fixtures: real dbt projects parsed by real dbt-core (DuckDB)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"

os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
# manifests of identical test projects are parsed by real dbt once, then reused
os.environ.setdefault("NORMCHECK_TEST_DBT_CACHE", str(REPO / ".pytest_cache" / "normcheck-dbt"))

from normcheck import testing  # noqa: E402 - after the environment is set
from normcheck.testing import DBT_PROJECT, PROFILES  # noqa: E402
from normcheck.testing import dbt_parse as dbt_parse  # noqa: E402 - re-exported for tests

ProjectFactory = Callable[..., Path]


write_files = testing.write_files


def install_distribution(
    site: Path, name: str, version: str, entry_points: str, files: Mapping[str, str]
) -> None:
    """An installed distribution as pip lays it out in site-packages: ``files`` (its
    modules), and a dist-info naming it with ``entry_points`` (entry_points.txt)."""
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    write_files(
        site,
        {
            **files,
            f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
            f"{info}/entry_points.txt": entry_points,
        },
    )


def build_dbt_project(
    tmp: Path, files: Mapping[str, str], name: str = "shop", parse: bool = True
) -> Path:
    """A dbt project with ``files``, parsed with real dbt (normcheck.testing)."""
    if not parse:
        project = tmp / name
        write_files(
            project,
            {
                "dbt_project.yml": DBT_PROJECT.format(name=name),
                "profiles.yml": PROFILES.format(name=name),
                **files,
            },
        )
        return project
    return testing.dbt_project(tmp, files, name)


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
