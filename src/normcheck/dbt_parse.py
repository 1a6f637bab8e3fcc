"""Keep the manifest fresh: run `dbt parse` through dbt-core's Python API
(``dbtRunner``) when the manifest is missing or older than the project files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from normcheck.errors import ArtifactError, UsageError

PROJECT_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".py", ".md")
SKIP_DIRS = {"target", "dbt_packages", "dbt_modules", "logs", "node_modules", "__pycache__"}
PARSE_MODES = ("auto", "always", "never")


def project_files(project_dir: Path) -> Iterable[Path]:
    """Files whose change can change the manifest (hidden and build folders skipped)."""
    for root, dirs, files in os.walk(project_dir):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in files:
            if name.endswith(PROJECT_SUFFIXES):
                yield Path(root) / name


def newer_file(manifest: Path, candidates: Iterable[Path]) -> Path | None:
    """The first candidate modified after the manifest, or None."""
    try:
        built = manifest.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    for path in candidates:
        try:
            if path.stat().st_mtime_ns > built:
                return path
        except OSError:
            continue
    return None


def needs_parse(
    mode: str, project_dir: Path, manifest: Path, changed: list[Path]
) -> tuple[str, bool] | None:
    """A line for the user and whether to run `dbt parse`, or None when fresh."""
    if not (project_dir / "dbt_project.yml").is_file():
        return None
    if mode == "always":
        return "running `dbt parse` (--parse always)", True
    if not manifest.is_file():
        return (f"no manifest at {manifest}: running `dbt parse`", True) if mode == "auto" else None
    newer = newer_file(manifest, changed or project_files(project_dir))
    if newer is None:
        return None
    if mode == "never":
        return f"{newer} is newer than the manifest (not re-parsed: --parse never)", False
    return f"{newer} is newer than the manifest: running `dbt parse`", True


def run_dbt_parse(project_dir: Path) -> None:
    """`dbt parse` in-process, partial parsing on, anonymous tracking off."""
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    try:
        from dbt.cli.main import dbtRunner
    except ImportError:
        raise UsageError(
            "the manifest is stale or missing and dbt-core is not installed: "
            "`pip install 'normcheck[dbt]'` (dbt-core and dbt-duckdb; or your adapter), "
            "or run `dbt parse` yourself and pass --parse never"
        ) from None
    args = ["parse", "--project-dir", str(project_dir), "--quiet"]
    if (project_dir / "profiles.yml").is_file() and "DBT_PROFILES_DIR" not in os.environ:
        args += ["--profiles-dir", str(project_dir)]
    result = dbtRunner().invoke(args)
    if not result.success:
        text = str(result.exception or "see dbt's output above")
        reason = " ".join(line.strip() for line in text.splitlines() if line.strip())
        raise ArtifactError(f"`dbt parse` failed: {reason}", str(project_dir / "dbt_project.yml"))
