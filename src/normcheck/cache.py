"""The warm-run cache: a run's findings, keyed by everything they depend on
(the manifest's and catalog's identity, the configuration's content, the
selected rules, today's date and normcheck's own code).

A warm run (manifest unchanged) reads a few kilobytes instead of the manifest.
It lives in the user cache directory (``NORMCHECK_CACHE_DIR``, else
``$XDG_CACHE_HOME/normcheck``, else ``~/.cache/normcheck``), never in the project."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from stat import S_ISREG
from typing import Protocol

import msgspec

from normcheck import __version__
from normcheck.config.model import LockViolation, Origin
from normcheck.finding import Finding

_CHUNK = 1 << 20


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


class CachedFinding(msgspec.Struct, frozen=True):
    file: str
    line: int
    rule: str
    resource: str
    message: str
    severity: str
    resource_type: str
    owner: str | None
    fingerprint: str
    defined_in: list[str]


class CachedRun(msgspec.Struct, frozen=True):
    findings: list[CachedFinding]
    suppressed: list[CachedFinding]
    resources: dict[str, str]
    checked: int
    rule_count: int
    stats: dict[str, int] = {}
    blocked: list[LockViolation] = []
    idle: list[Origin] = []  # overrides that matched nothing
    # the other files the evaluation read (properties YAML for lines, dbt_project.yml
    # for vars): path -> stamp when read. A run limited to some files checks only
    # those for a stale manifest: one of these changed since is read again cold
    read: dict[str, str] = {}


def cached(f: Finding, defined_in: Iterable[str]) -> CachedFinding:
    return CachedFinding(
        f.file,
        f.line,
        f.rule,
        f.resource,
        f.message,
        f.severity,
        f.resource_type,
        f.owner,
        f.fingerprint,
        list(defined_in),
    )


def finding(c: CachedFinding) -> Finding:
    return Finding(
        c.file,
        c.line,
        c.rule,
        c.resource,
        c.message,
        c.severity,
        c.resource_type,
        c.owner,
        c.fingerprint,
    )


def sql_cache_file(root: Path) -> Path:
    """Per-project cache of parsed SQL facts, keyed inside by each model's code."""
    name = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / f"sql-{name}.msgpack"


def cache_dir() -> Path:
    explicit = os.environ.get("NORMCHECK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not Path(base).is_absolute():  # the XDG spec: a relative value is ignored
        base = str(Path.home() / ".cache")
    return Path(base) / "normcheck"


def is_file(path: Path) -> bool:
    """Whether ``path`` is a regular file: only then can its identity be taken (a
    pipe's bytes, `--manifest <(zcat ...)`, are read once, and tell nothing after)."""
    try:
        return S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def stamp(path: Path) -> str:
    """A file's size, modification time and inode ("" when it cannot be read)."""
    try:
        stat = path.stat()
    except OSError:
        return ""
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"


def unchanged(read: dict[str, str]) -> bool:
    """Whether the files a stored run read are as they were then."""
    return all(stamp(Path(path)) == was for path, was in read.items())


def _file_identity(path: Path, digest: _Digest) -> None:
    """Size, mtime and inode, plus a hash of the first and last MiB."""
    try:
        stat = path.stat()
    except OSError:
        digest.update(b"missing:" + str(path).encode())
        return
    digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}".encode())
    if not S_ISREG(stat.st_mode):  # a pipe: reading would wait for a writer and take its
        digest.update(b"not a file")  # bytes from whoever reads next (see is_file())
        return
    try:
        with path.open("rb") as handle:
            digest.update(handle.read(_CHUNK))
            if stat.st_size > 2 * _CHUNK:
                handle.seek(-_CHUNK, os.SEEK_END)
                digest.update(handle.read(_CHUNK))
    except OSError:  # a folder, say: whoever reads it says what is wrong
        digest.update(b"unreadable")


# the libraries whose upgrade changes what the analysis finds: sqlglot parses the
# models' SQL, Jinja renders it (normcheck asks for `sqlglot>=30`: any later one)
ANALYSIS_LIBRARIES = ("sqlglot", "jinja2")


def _library_identity(name: str) -> str:
    """Where a library is installed and its package file's size and mtime (written
    anew by `pip install`), found without importing it (a warm run never does)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        stat = origin.stat() if origin is not None else None
    except (ImportError, ValueError, OSError):
        return f"{name}:unknown"
    if origin is None or stat is None:
        return f"{name}:missing"
    return f"{name}:{origin}:{stat.st_size}:{stat.st_mtime_ns}"


@functools.cache
def code_identity() -> str:
    """normcheck's version and the size and mtime of each of its files, the Python
    running it and the libraries of its analysis (:data:`ANALYSIS_LIBRARIES`): what
    another of them found is not reused (a sqlglot upgrade parses SQL otherwise)."""
    digest = hashlib.sha256(__version__.encode())
    digest.update(sys.version.encode())
    for name in ANALYSIS_LIBRARIES:
        digest.update(_library_identity(name).encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".yml", ".json"):
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _stored_marker(manifest: Path) -> Path | None:
    try:
        stat = manifest.stat()
        identity = f"{manifest.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"
    except OSError:
        return None
    return cache_dir() / "stored" / hashlib.sha256(identity.encode()).hexdigest()[:32]


def stored_for(manifest: Path) -> bool:
    """Whether a run was stored for this manifest as it is now: only then can a
    run find its findings here without reading the manifest."""
    marker = _stored_marker(manifest)
    return marker is not None and marker.is_file()


def note_stored(manifest: Path) -> None:
    marker = _stored_marker(manifest)
    if marker is not None:
        mark(marker)


def known_valid(content: bytes) -> Path:
    """The marker that a configuration file with this content passed schema
    validation with this code (validating needs jsonschema: ~0.1 s a run)."""
    key = hashlib.sha256(code_identity().encode() + b"\x00" + content).hexdigest()[:32]
    return cache_dir() / "valid" / key


def mark(path: Path) -> None:
    """Best effort, like the rest of the cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:
        return


def run_key(
    manifest: Path,
    catalog: Path,
    config_digest: str,
    extra: Iterable[str],
) -> str:
    digest = hashlib.sha256(code_identity().encode())
    _file_identity(manifest.resolve(), digest)
    _file_identity(catalog.resolve(), digest)
    digest.update(config_digest.encode())
    for item in extra:
        digest.update(item.encode() + b"\x00")
    # suppressions expire on a day in UTC (suppression.today): a run a day later is new
    digest.update(dt.datetime.now(dt.timezone.utc).date().isoformat().encode())
    return digest.hexdigest()[:32]


_DECODER = msgspec.json.Decoder(CachedRun)


def load(key: str) -> CachedRun | None:
    try:
        return _DECODER.decode((cache_dir() / f"{key}.json").read_bytes())
    except (OSError, ValueError, RecursionError):  # unreadable or corrupt: not used
        return None


def store(key: str, run: CachedRun) -> None:
    """Best effort: a cache that cannot be written is simply not used."""
    directory = cache_dir()
    write_replacing(directory / f"{key}.json", msgspec.json.encode(run))


def write_replacing(path: Path, data: bytes) -> None:
    """Write ``path`` whole through a temporary file beside it, best effort; the
    temporary file removed when the write fails or is interrupted (Ctrl-C, SIGTERM):
    never left in the cache folder, one more each time."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
