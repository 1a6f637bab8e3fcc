"""Keep the manifest fresh: run `dbt parse` through dbt-core's Python API
(``dbtRunner``) when the manifest is missing or older than the project files."""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import os
import re
import signal
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import FrameType

from normcheck.errors import ArtifactError, UsageError

PROJECT_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".py", ".md")
SKIP_DIRS = {"target", "dbt_packages", "dbt_modules", "logs", "node_modules", "__pycache__"}
PARSE_MODES = ("auto", "always", "never")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# the folders dbt reads, as `dbt_project.yml` names them, and their defaults
DBT_PATHS = {
    "model-paths": ["models"],
    "seed-paths": ["seeds"],
    "snapshot-paths": ["snapshots"],
    "analysis-paths": ["analyses"],
    "macro-paths": ["macros"],
    "test-paths": ["tests"],
    "function-paths": ["functions"],
    "docs-paths": [],  # by default the folders above
}
DBT_FILES = ("dbt_project.yml", "dependencies.yml", "packages.yml", "selectors.yml")


def dbt_folders(project_dir: Path) -> list[Path] | None:
    """The folders whose files dbt parses, from `dbt_project.yml` (None: it cannot
    be read, so every project file counts)."""
    from normcheck._yaml import load_yaml

    try:
        data = load_yaml(project_dir / "dbt_project.yml").data
    except ArtifactError:
        return None
    if not isinstance(data, dict):
        return None
    folders = []
    for key, default in DBT_PATHS.items():
        value = data.get(key, default)
        if not isinstance(value, list) or not all(
            isinstance(v, str) and "{{" not in v for v in value
        ):
            return None  # not a plain list of folders: every project file counts
        folders += [(project_dir / v).resolve() for v in value]
    return folders


def macro_folders(project_dir: Path) -> list[Path]:
    """The folders of the project's macros (`macro-paths`; dbt's default without a
    `dbt_project.yml`, as with `--manifest` from elsewhere); the project's own when
    `dbt_project.yml` cannot tell (a changed model is then read as a possible macro,
    which costs decoding the manifest's macros)."""
    from normcheck._yaml import load_yaml

    if not (project_dir / "dbt_project.yml").is_file():
        return [(project_dir / v).resolve() for v in DBT_PATHS["macro-paths"]]
    try:
        data = load_yaml(project_dir / "dbt_project.yml").data
    except ArtifactError:
        data = None
    value = data.get("macro-paths", DBT_PATHS["macro-paths"]) if isinstance(data, dict) else None
    if not isinstance(value, list) or not all(isinstance(v, str) and "{{" not in v for v in value):
        return [project_dir.resolve()]
    return [(project_dir / v).resolve() for v in value]


def dbt_reads(path: Path, project_dir: Path, folders: list[Path] | None) -> bool:
    """Whether dbt parses this file: a project file under one of its folders
    (normcheck's own configuration and tracking plans are not)."""
    if not path.name.endswith(PROJECT_SUFFIXES):
        return False
    full, project = path.resolve(), project_dir.resolve()
    if full.parent == project and full.name in DBT_FILES:
        return True
    if folders is None:
        return full.is_relative_to(project)
    return any(full.is_relative_to(folder) for folder in folders)


def _walk(project_dir: Path, folders: list[Path] | None) -> Iterable[tuple[str, list[str]]]:
    """Each folder dbt reads (hidden and build folders skipped) with its files."""
    for top in [project_dir] if folders is None else sorted(set(folders)):
        for root, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            # in the order of their names, not the file system's (which differs between
            # machines): the file a message names is the same everywhere
            yield root, sorted(files)


def project_files(
    project_dir: Path, folders: list[Path] | None, walked: list[Path] | None = None
) -> Iterable[Path]:
    """Files whose change can change the manifest; ``walked`` gets the folders
    walked into (not the project's own, where dbt writes its database)."""
    for name in DBT_FILES:
        yield project_dir / name
    top = str(project_dir)
    for root, files in _walk(project_dir, folders):
        if walked is not None and root != top:
            walked.append(Path(root))
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


def local_packages(project_dir: Path) -> list[Path]:
    """The dbt projects this one installs from a local folder (`packages.yml` or
    `dependencies.yml`: `- local: ../platform`), and theirs in turn: their files
    are parsed into this project's manifest too."""
    from normcheck._yaml import load_yaml

    found: list[Path] = []
    todo = [project_dir.resolve()]
    while todo:
        here = todo.pop()
        for name in ("packages.yml", "dependencies.yml"):
            try:
                data = load_yaml(here / name).data if (here / name).is_file() else None
            except ArtifactError:
                continue  # dbt reports it when it parses
            entries = data.get("packages") if isinstance(data, dict) else None
            for entry in entries if isinstance(entries, list) else ():
                local = entry.get("local") if isinstance(entry, dict) else None
                if not isinstance(local, str) or "{{" in local:
                    continue
                folder = (here / local).resolve()
                own = folder == project_dir.resolve()
                if (folder / "dbt_project.yml").is_file() and folder not in found and not own:
                    found.append(folder)
                    todo.append(folder)
    return found


def _existing_folder(folder: Path, project_dir: Path) -> Path:
    """The folder, or the nearest one above it that still exists (`git rm` of a
    folder's last file removes the folder: its parent's time tells of it), up to
    the project's."""
    top = project_dir.resolve()
    while not folder.is_dir() and folder.resolve() != top and folder.parent != folder:
        folder = folder.parent
    return folder


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
    folders = dbt_folders(project_dir)
    walked: list[Path] = []  # folders whose own change (a file added, moved or removed:
    # `git mv` and `rm` leave the files' times as they were) can change the manifest
    # a project installed from a local folder is parsed into this manifest too: its
    # change (a model made protected) changes what this project's findings are
    packages = [(package, dbt_folders(package)) for package in local_packages(project_dir)]
    if changed:
        candidates: Iterable[Path] = [
            p
            for p in changed
            if dbt_reads(p, project_dir, folders)
            or any(
                p.resolve().is_relative_to(package) and dbt_reads(p, package, its)
                for package, its in packages
            )
        ]
        walked = sorted(
            {_existing_folder(p.parent, project_dir) for p in candidates if p.name not in DBT_FILES}
        )
    else:
        candidates = itertools.chain(
            project_files(project_dir, folders, walked),
            *(project_files(package, its, walked) for package, its in packages),
        )
    newer = newer_file(manifest, candidates)
    from normcheck.config.loader import display_path  # not at import: a cycle

    if newer is not None:
        what = f"{display_path(newer.absolute())} is newer than the manifest"
    else:
        # only dbt's own folders: with `*-paths` it cannot read, others hold reports,
        # a moved target-path, ... that change after the manifest
        folder = None if folders is None else newer_file(manifest, walked)
        if folder is None:
            return None
        what = (
            f"{display_path(folder)}/ changed after the manifest (a file added, moved or removed)"
        )
    if mode == "never":
        return f"{what} (not re-parsed: --parse never)", False
    return f"{what}: running `dbt parse`", True


@contextlib.contextmanager
def project_lock(project_dir: Path, exclusive: bool) -> Iterator[None]:
    """The project's lock among normcheck runs: ``exclusive`` to run `dbt parse`,
    shared to read the manifest. A lock on the project's folder itself (`flock`),
    so nothing is written in it; none where there is no `flock` (Windows) or the
    folder cannot be locked (some network file systems): as before."""
    try:
        import fcntl

        fd = os.open(project_dir, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # and the lock with it


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
    # dbt's log lines (errors only, with --quiet) are kept off stdout, which is the
    # report's (`--format json`, `-q`): a failure is told in one line, from them
    said = io.StringIO()
    # dbt's console logger holds the stdout of when it was set up (dbt's import, or the
    # last run): an error before a run sets up its own (an unreadable dbt_project.yml)
    # went there, into the report
    for handler in logging.getLogger("stdout_log").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = said  # not setStream(), which flushes the old (perhaps closed)
    with contextlib.redirect_stdout(said), _noting_interrupts() as came:
        result = dbtRunner().invoke(args)
    if came or isinstance(result.exception, KeyboardInterrupt):
        # Ctrl-C while dbt parsed: dbt catches the KeyboardInterrupt, and tells it as
        # its failure (its traceback for a reason) or a field's "invalid value" (a
        # library of dbt's caught it as one); the user's interruption, not the project's
        raise KeyboardInterrupt
    if not result.success:
        if isinstance(result.exception, UnicodeDecodeError):
            found = _not_utf8(project_dir)
            if found is not None:
                from normcheck.config.loader import display_path  # not at import: a cycle

                raise ArtifactError(
                    "`dbt parse` failed: the file is not valid UTF-8, the only encoding dbt "
                    "reads (saved as Windows-1252, Latin-1, UTF-16?): save it as UTF-8",
                    display_path(found[0].absolute()),
                    found[1],
                )
        raise ArtifactError(
            f"`dbt parse` failed: {_reason(result.exception, said.getvalue())}",
            str(project_dir / "dbt_project.yml"),
        )


@contextlib.contextmanager
def _noting_interrupts() -> Iterator[list[int]]:
    """The signals whose Python handler (Ctrl-C's) ran meanwhile: each still runs as
    before, and raises what it raised, which dbt may catch."""
    came: list[int] = []
    previous: dict[int, Callable[[int, FrameType | None], object]] = {}

    def note(signum: int, frame: FrameType | None) -> None:
        came.append(signum)
        previous[signum](signum, frame)

    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(signum)
            if callable(handler):
                previous[signum] = handler
                signal.signal(signum, note)
    except ValueError:  # not the main thread (a library caller's): signals are not ours
        pass
    try:
        yield came
    finally:
        for number, before in previous.items():
            signal.signal(number, before)


def _not_utf8(project_dir: Path) -> tuple[Path, int] | None:
    """The first file dbt reads as text that is not UTF-8, and the line where it
    stops being so (dbt's error names neither: `'utf-8' codec can't decode byte
    0xe9 in position 88`)."""
    folders = dbt_folders(project_dir)
    files = itertools.chain(
        [project_dir / "profiles.yml"],
        project_files(project_dir, folders),
        *(project_files(package, dbt_folders(package)) for package in local_packages(project_dir)),
    )
    for path in files:
        if path.suffix == ".csv":  # a seed's bytes are only hashed by `dbt parse`
            continue
        try:
            data = path.read_bytes()
            data.decode("utf-8")
        except OSError:
            continue
        except UnicodeDecodeError as exc:
            return path, data[: exc.start].count(b"\n") + 1
    return None


_LOG_TIME = re.compile(r"^\d\d:\d\d:\d\d\s+")
_TRACEBACK = "Traceback (most recent call last):"


def _reason(exception: BaseException | None, logged: str) -> str:
    """dbt's exception in one line, with the error lines it logged that say why
    (`Semantic Manifest validation failed.` alone names no metric)."""
    said = str(exception or "")
    lines = [_LOG_TIME.sub("", line.strip()) for line in _ANSI.sub("", logged).splitlines()]
    if _TRACEBACK in lines:  # dbt logs its stack trace of an unexpected error (a log file
        # it cannot write): not a reason, and no longer one line
        lines = lines[: lines.index(_TRACEBACK)]
    why = [
        line
        for line in lines
        if line
        and line not in said
        and line != "Encountered an error:"
        and not line.startswith("Error uploading artifacts")  # dbt's own trouble, not the user's
    ]
    words = [" ".join(said.split()), *why] if said else why
    return " ".join(w for w in words if w) or "no message from dbt"
