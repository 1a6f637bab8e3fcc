"""Benchmark ``normcheck check`` against the cost of merely reading the manifest.

For every manifest, three whole processes are timed in the same run (wall clock,
median of ``--runs``, interleaved round by round so drift hits all alike) and their
peak resident set size is measured:

* the *floor*: a fresh interpreter that does ``orjson.loads(open(path, "rb").read())``
  and nothing else (interpreter start included);
* normcheck *cold*: ``normcheck check --manifest M --project-dir D --format json -q
  --fail-on never`` with the default rule set and a fresh, empty
  ``NORMCHECK_CACHE_DIR`` per run, so every run evaluates the whole project (and
  writes its cache);
* normcheck *warm*, the pre-commit path: the same command plus three changed files
  ``P1 P2 P3``, against a cache primed by one untimed whole-project run. ``P1..P3``
  are the ``original_file_path`` of three models of the root project
  (``package_name == metadata.project_name``), picked deterministically among
  models whose file defines nothing else; they are passed relative to ``D``.

``D`` is an empty temporary directory (no ``normcheck.yml``; no ``catalog.json`` sits
next to the manifest) and every normcheck run has ``D`` as its working directory:
normcheck resolves the changed paths against the working directory and maps them to
resources by exact path, and its cache key includes the working directory. The
model files need not exist.

Before timing the warm path, one untimed run of the three-file command checks its
findings against the whole-project run: it must report exactly the findings of the
three models (and their columns). Anything else is reported as a bug, not hidden.
The benchmark also checks that the timed warm runs hit the primed cache (the cache
file is not rewritten). It never touches the user's own cache directory.

Manifests: the two real ones from ``<shared>/corpus/dbt`` (ol-data-platform, tuva;
unpacked into ``benchmarks/.work/``) and synthetic ones scaled from ol-data-platform by
``<shared>/bench/synth_manifest.py`` (generated into ``benchmarks/.work/`` only if
missing; the 20,000-model manifest is about 580 MB and takes about a minute to build).
``<shared>`` is the ``shared`` folder beside the repository checkout
(``REPO_DIR.parent / "shared"``); ``--shared-dir`` overrides it.

Which code runs: others may edit ``src/`` while a benchmark runs, and normcheck's cache
key includes its own files' mtimes, so by default normcheck runs from a copy of this
checkout's ``src/normcheck`` and ``rules/`` taken at the start (``python -m normcheck``
with ``PYTHONPATH`` set to the copy); the report says whether that copy equals the
committed HEAD and whether the working tree changed meanwhile. ``--rev REV`` runs the
code committed at ``REV`` instead (``git archive``), ``--live`` the working tree itself,
``--normcheck PATH`` a given executable (for instance a wheel install in CI).

Run it with the project's virtual environment (it needs orjson)::

    .venv/bin/python benchmarks/bench_check.py                      # 1000,5000,20000 models
    .venv/bin/python benchmarks/bench_check.py --sizes 1000 --runs 5
    .venv/bin/python benchmarks/bench_check.py --rev HEAD~3 --sizes 20000
    .venv/bin/python benchmarks/bench_check.py --write benchmarks/RESULTS.md

Peak memory comes from GNU ``/usr/bin/time -f %M`` when available; otherwise a small
wrapper interpreter spawns the command and reads the child's ``ru_maxrss`` with
``os.wait4``. (The wrapper matters: on Linux a child's ``ru_maxrss`` includes the
high-water mark of the process that spawned it -- ``python -c pass`` spawned from a
1.5 GB parent reports 1.5 GB -- so the process that spawns the measured one must be small.)

Targets, on the 20,000-model manifest: cold normcheck takes at most 1.0x the floor's
wall time and at most 1.0x its peak memory (issue #2); the warm three-file run takes
at most 0.15x the floor's wall time (issue #3).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DEFAULT_WORK_DIR = BENCH_DIR / ".work"
DEFAULT_SHARED_DIR = REPO_DIR.parent / "shared"
CORPUS_SUBDIR = Path("corpus", "dbt")
SYNTH_SUBPATH = Path("bench", "synth_manifest.py")
REAL_MANIFESTS = ("ol-data-platform", "tuva")
SYNTH_BASE = "ol-data-platform"
SYNTH_SEED = 7
DEFAULT_SIZES = (1000, 5000, 20000)
TARGET_SIZE = 20000
COLD_TIME_TARGET = 1.0  # issue #2
COLD_MEMORY_TARGET = 1.0  # issue #2
WARM_TIME_TARGET = 0.15  # issue #3
CHANGED_FILES = 3
GNU_TIME = Path("/usr/bin/time")

FLOOR_CODE = "import orjson, sys\norjson.loads(open(sys.argv[1], 'rb').read())\n"
# Prints {"models": <model nodes>, "picked": [[unique_id, original_file_path], ...]}:
# CHANGED_FILES root-project models whose file no other node or source claims,
# spread over the sorted unique ids (first, middle, last).
INSPECT_CODE = """\
import collections, json, orjson, sys
m = orjson.loads(open(sys.argv[1], 'rb').read())
want = int(sys.argv[2])
nodes = m.get('nodes', {})
root = (m.get('metadata') or {}).get('project_name')
claims = collections.Counter(
    n.get('original_file_path')
    for group in ('nodes', 'sources', 'exposures', 'metrics', 'semantic_models')
    for n in (m.get(group) or {}).values()
)
models = sorted(
    (n['unique_id'], n['original_file_path'])
    for n in nodes.values()
    if n.get('resource_type') == 'model' and n.get('package_name') == root
    and n.get('original_file_path') and claims[n.get('original_file_path')] == 1
)
if len(models) <= want:
    picked = models
else:
    picked = [models[round(i * (len(models) - 1) / (want - 1))] for i in range(want)]
total = sum(1 for n in nodes.values() if n.get('resource_type') == 'model')
print(json.dumps({'models': total, 'picked': picked}))
"""
# Runs argv[1:] as a child and prints {"rc": ..., "maxrss_kb": ...} on stdout.
WRAPPER_CODE = (
    "import json, os, subprocess, sys\n"
    "proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(proc.pid, 0)\n"
    "proc.returncode = os.waitstatus_to_exitcode(status)\n"
    "print(json.dumps({'rc': proc.returncode, 'maxrss_kb': usage.ru_maxrss}))\n"
)


@dataclass(frozen=True)
class Sample:
    """One process run: exit code, wall seconds, peak RSS in bytes, captured stderr."""

    returncode: int
    wall_s: float
    maxrss_bytes: int
    stderr: str


@dataclass
class Measurement:
    """The runs of one command on one manifest; ``error`` is set if any run failed."""

    samples: list[Sample] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.samples)

    @property
    def wall_s(self) -> float:
        return statistics.median(s.wall_s for s in self.samples)

    @property
    def maxrss_bytes(self) -> float:
        return statistics.median(s.maxrss_bytes for s in self.samples)


@dataclass(frozen=True)
class Picked:
    """What the benchmark needs to know about a manifest before running normcheck."""

    models: int | None
    uids: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Normcheck:
    """How to start normcheck: the command prefix, extra environment, and a note for the report."""

    argv: tuple[str, ...]
    env: dict[str, str]
    note: str
    revision: str  # git revision of the checkout when the benchmark started
    snapshot: Path | None = None  # root of the frozen working-tree copy, if one is used
    digest: str = ""  # of the code that runs


@dataclass
class Row:
    label: str
    path: Path
    size_bytes: int
    picked: Picked
    floor: Measurement
    cold: Measurement
    warm: Measurement
    synth_size: int | None = None
    problems: list[str] = field(default_factory=list)  # normcheck behaviour that looked wrong
    scope_summary: str = "not checked"  # what the three-file run reported
    load_before: float = 0.0

    @property
    def models(self) -> int | None:
        return self.picked.models


class Runner:
    """Spawns a command and measures its wall time and peak RSS."""

    def __init__(self, method: str) -> None:
        self.method = method

    @staticmethod
    def pick(requested: str) -> str:
        if requested != "auto":
            return requested
        return "time" if _gnu_time_works() else "wait4"

    def run(
        self,
        argv: Sequence[str],
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Sample:
        if self.method == "time":
            return self._run_time(argv, env, cwd)
        return self._run_wrapper(argv, env, cwd)

    def _run_time(
        self, argv: Sequence[str], env: dict[str, str] | None, cwd: Path | None
    ) -> Sample:
        with tempfile.NamedTemporaryFile("w+", suffix=".time", delete=False) as out:
            time_path = Path(out.name)
        try:
            cmd = [str(GNU_TIME), "-f", "%M", "-o", str(time_path), *argv]
            start = time.perf_counter()
            proc = subprocess.run(
                cmd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
                cwd=cwd,
                check=False,
            )
            wall = time.perf_counter() - start
            lines = time_path.read_text(encoding="utf-8").split()
        finally:
            time_path.unlink(missing_ok=True)
        maxrss_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        return Sample(proc.returncode, wall, maxrss_kb * 1024, _text(proc.stderr))

    def _run_wrapper(
        self, argv: Sequence[str], env: dict[str, str] | None, cwd: Path | None
    ) -> Sample:
        cmd = [sys.executable, "-c", WRAPPER_CODE, *argv]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, env=env, cwd=cwd, check=False)
        wall = time.perf_counter() - start
        try:
            report = json.loads(_text(proc.stdout).strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            return Sample(proc.returncode or 1, wall, 0, _text(proc.stderr))
        return Sample(int(report["rc"]), wall, int(report["maxrss_kb"]) * 1024, _text(proc.stderr))


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def _gnu_time_works() -> bool:
    if not GNU_TIME.exists():
        return False
    with tempfile.NamedTemporaryFile(suffix=".time", delete=False) as out:
        probe = Path(out.name)
    try:
        proc = subprocess.run(
            [str(GNU_TIME), "-f", "%M", "-o", str(probe), sys.executable, "-c", "pass"],
            capture_output=True,
            check=False,
        )
        value = probe.read_text(encoding="utf-8").strip()
    except OSError:
        return False
    finally:
        probe.unlink(missing_ok=True)
    return proc.returncode == 0 and value.isdigit() and int(value) > 0


# ----------------------------------------------------------------- normcheck's code

CODE_PARTS = ("src/normcheck", "rules")


def _tree_digest(root: Path, parts: Sequence[str]) -> str:
    """Hash of the files under ``root/part`` (paths and contents; no bytecode)."""
    digest = hashlib.sha256()
    for part in parts:
        base = root / part
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\x00")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _development_package() -> Path | None:
    """``src/normcheck`` of this checkout, if that is the normcheck the interpreter imports."""
    spec = importlib.util.find_spec("normcheck")
    locations = list(spec.submodule_search_locations or ()) if spec else []
    if not locations:
        return None
    package = Path(locations[0]).resolve()
    return package if package == (REPO_DIR / "src" / "normcheck").resolve() else None


def _snapshot_env(snapshot_root: Path) -> dict[str, str]:
    path = os.pathsep.join(
        p for p in (str(snapshot_root / "src"), os.environ.get("PYTHONPATH", "")) if p
    )
    return {"PYTHONPATH": path}


def _export_revision(rev: str, snapshot_root: Path) -> None:
    """``src/normcheck`` and ``rules/`` as committed at ``rev`` (read-only git commands)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO_DIR), "archive", "--format=tar", rev, "--", *CODE_PARTS],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(snapshot_root)], input=archive.stdout, check=True)


def choose_normcheck(
    explicit: Path | None, live: bool, rev: str | None, snapshot_root: Path
) -> Normcheck:
    """Others may edit ``src/`` while the benchmark runs: by default normcheck runs from a
    copy of ``src/normcheck`` and ``rules/`` taken at the start (same layout, so the rule
    sets are found as in the checkout), so every run measures the same code and the
    warm-run cache (whose key includes the code's mtimes) stays valid. ``rev`` takes the
    copy from a git revision instead of the working tree."""
    revision = _git_revision()
    if explicit is not None:
        return Normcheck((str(explicit),), {}, f"`{explicit}` as given", revision)
    module = (sys.executable, "-m", "normcheck")
    if rev is not None:
        _export_revision(rev, snapshot_root)
        digest = _tree_digest(snapshot_root, CODE_PARTS)
        commit = _git_revision(rev, note_dirty=False)
        note = (
            f"`src/normcheck` and `rules/` as committed at `{rev}` ({commit}; content "
            f"{digest}), run as `python -m normcheck` with PYTHONPATH set to the copy"
        )
        return Normcheck(module, _snapshot_env(snapshot_root), note, revision, None, digest)
    script = Path(sys.executable).parent / "normcheck"
    package = None if live else _development_package()
    if package is None:
        why = "the live working tree (`--live`)" if live else "not a development install"
        return Normcheck((str(script),), {}, f"`{script}` ({why}: no snapshot)", revision)
    for part in CODE_PARTS:
        source = REPO_DIR / part
        if source.is_dir():
            shutil.copytree(
                source, snapshot_root / part, ignore=shutil.ignore_patterns("__pycache__")
            )
    digest = _tree_digest(snapshot_root, CODE_PARTS)
    note = (
        f"a copy of the working tree's `src/normcheck` and `rules/` taken at the start "
        f"(content {digest}, {_compare_with_head(digest)}), run as `python -m normcheck` "
        "with PYTHONPATH set to the copy"
    )
    return Normcheck(module, _snapshot_env(snapshot_root), note, revision, snapshot_root, digest)


def _compare_with_head(digest: str) -> str:
    with tempfile.TemporaryDirectory(prefix="normcheck-bench-head-") as tmp:
        try:
            _export_revision("HEAD", Path(tmp))
        except (OSError, subprocess.CalledProcessError):
            return "not compared with HEAD"
        head = _tree_digest(Path(tmp), CODE_PARTS)
    rev = _git_revision(note_dirty=False)
    if head == digest:
        return f"identical to the code committed at {rev}"
    return f"differs from the code committed at {rev} ({head})"


def code_drift(normcheck: Normcheck) -> str | None:
    """Whether the working tree's code differs from the snapshot at the end of the run."""
    if normcheck.snapshot is None:
        return None
    live = _tree_digest(REPO_DIR, CODE_PARTS)
    if live == normcheck.digest:
        return "the working tree's code still matched the snapshot at the end"
    return (
        f"the working tree's code changed during the run (now {live}); "
        "these numbers are for the snapshot"
    )


# ----------------------------------------------------------------- manifests


def unpack_real(name: str, work_dir: Path, shared_dir: Path) -> Path:
    out = work_dir / f"{name}.json"
    if not out.exists():
        src = shared_dir / CORPUS_SUBDIR / name / "manifest.json.gz"
        print(f"unpacking {src} -> {out}", file=sys.stderr)
        tmp = out.with_suffix(".json.tmp")
        with gzip.open(src, "rb") as fin, tmp.open("wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
        tmp.replace(out)
    return out


def ensure_synth(models: int, base: Path, work_dir: Path, shared_dir: Path) -> Path:
    out = work_dir / f"manifest_{models}.json"
    if not out.exists():
        print(f"generating {out} (may take minutes)", file=sys.stderr)
        cmd = [
            sys.executable,
            str(shared_dir / SYNTH_SUBPATH),
            "gen",
            "--base",
            str(base),
            "--models",
            str(models),
            "--out",
            str(out),
            "--seed",
            str(SYNTH_SEED),
        ]
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    return out


def inspect_manifest(path: Path) -> Picked:
    """Model count and the changed files, worked out in a child so this process stays small."""
    proc = subprocess.run(
        [sys.executable, "-c", INSPECT_CODE, str(path), str(CHANGED_FILES)],
        capture_output=True,
        check=False,
    )
    try:
        data = json.loads(_text(proc.stdout))
    except json.JSONDecodeError:
        print(f"  could not inspect {path.name}:\n{_text(proc.stderr)}", file=sys.stderr)
        return Picked(None)
    picked = [tuple(p) for p in data["picked"]]
    return Picked(
        int(data["models"]),
        tuple(uid for uid, _ in picked),
        tuple(file for _, file in picked),
    )


def warm_page_cache(path: Path) -> None:
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


# ----------------------------------------------------------------- measuring


def _cache_env(normcheck: Normcheck, cache_dir: str) -> dict[str, str]:
    return {**os.environ, **normcheck.env, "NORMCHECK_CACHE_DIR": cache_dir}


def _cache_snapshot(cache_dir: str) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in Path(cache_dir).iterdir()}


def _findings(path: Path) -> list[dict[str, object]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    findings = data.get("findings") if isinstance(data, dict) else None
    return findings if isinstance(findings, list) else None


def _belongs(finding: dict[str, object], uids: Sequence[str]) -> bool:
    """A finding on one of the models, or on one of their columns (``<model uid>.<column>``)."""
    resource = str(finding.get("resource", ""))
    if resource in uids:
        return True
    return finding.get("resource_type") == "column" and any(
        resource.startswith(uid + ".") for uid in uids
    )


def _key(finding: dict[str, object]) -> str:
    return f"{finding.get('rule')} on {finding.get('resource')}"


def check_scope(
    full: list[dict[str, object]], scoped: list[dict[str, object]], picked: Picked
) -> list[str]:
    """Problems with the three-file run's findings, compared with the whole-project run's."""
    problems = []
    others = [f for f in scoped if not _belongs(f, picked.uids)]
    if others:
        shown = "; ".join(_key(f) for f in others[:5])
        more = f" (and {len(others) - 5} more)" if len(others) > 5 else ""
        problems.append(
            f"BUG: the {len(picked.paths)}-file run reported {len(others)} finding(s) for "
            f"resources outside the changed files: {shown}{more}"
        )
    expected = {json.dumps(f, sort_keys=True) for f in full if _belongs(f, picked.uids)}
    got = {json.dumps(f, sort_keys=True) for f in scoped if _belongs(f, picked.uids)}
    missing = [json.loads(f) for f in sorted(expected - got)]
    if missing:
        shown = "; ".join(_key(f) for f in missing[:5])
        problems.append(
            f"BUG: the {len(picked.paths)}-file run missed {len(missing)} finding(s) that the "
            f"whole-project run reports for those models: {shown}"
        )
    extra = [json.loads(f) for f in sorted(got - expected)]
    if extra:
        shown = "; ".join(_key(f) for f in extra[:5])
        problems.append(
            f"BUG: the {len(picked.paths)}-file run reported {len(extra)} finding(s) for those "
            f"models that differ from the whole-project run's: {shown}"
        )
    return problems


def measure(
    runner: Runner,
    manifest: Path,
    normcheck: Normcheck,
    project_dir: Path,
    runs: int,
    picked: Picked,
) -> tuple[Measurement, Measurement, Measurement, list[str], str]:
    """Floor, cold and warm runs, interleaved so drift hits all alike.

    Returns the three measurements, the problems seen in normcheck's behaviour and a
    one-line summary of the three-file run's findings."""
    floor_cmd = [sys.executable, "-c", FLOOR_CODE, str(manifest)]
    check_cmd = [
        *normcheck.argv,
        "check",
        "--manifest",
        str(manifest),
        "--project-dir",
        str(project_dir),
        "--format",
        "json",
        "-q",
        "--fail-on",
        "never",
    ]
    warm_cmd = [*check_cmd, *picked.paths]
    floor, cold, warm = Measurement(), Measurement(), Measurement()
    problems: list[str] = []
    summary = "not checked"
    warm_page_cache(manifest)
    with (
        tempfile.TemporaryDirectory(prefix="normcheck-bench-cache-") as warm_cache,
        tempfile.TemporaryDirectory(prefix="normcheck-bench-out-") as out_dir,
    ):
        snapshot: dict[str, int] | None = None
        if len(picked.paths) < CHANGED_FILES:
            warm.error = f"only {len(picked.paths)} model file(s) to pass"
        else:
            full_json, scoped_json = Path(out_dir, "full.json"), Path(out_dir, "scoped.json")
            # Untimed: prime the cache with a whole-project run, as a developer's last
            # `normcheck check` would have, and keep its findings for comparison.
            prime = runner.run(
                [*check_cmd, "--output", f"json:{full_json}"],
                _cache_env(normcheck, warm_cache),
                project_dir,
            )
            snapshot = _cache_snapshot(warm_cache)
            # Untimed: the three-file command once more, to check what it reports.
            scoped = runner.run(
                [*warm_cmd, "--output", f"json:{scoped_json}"],
                _cache_env(normcheck, warm_cache),
                project_dir,
            )
            full, found = _findings(full_json), _findings(scoped_json)
            if prime.returncode != 0 or full is None:
                warm.error = f"priming run: exit {prime.returncode}"
                print(f"  priming run failed; stderr:\n{prime.stderr.rstrip()}", file=sys.stderr)
            elif scoped.returncode != 0 or found is None:
                warm.error = f"exit {scoped.returncode}"
                print(f"  3-file run failed; stderr:\n{scoped.stderr.rstrip()}", file=sys.stderr)
            else:
                if not snapshot:
                    problems.append("the priming run wrote no cache file")
                problems += check_scope(full, found, picked)
                expected = sum(1 for f in full if _belongs(f, picked.uids))
                summary = (
                    f"{len(found)} finding(s) reported by the 3-file run, {expected} expected "
                    f"(of {len(full)} in the whole project)"
                )
        for _ in range(runs):
            for name, meas in (("floor", floor), ("cold", cold), ("warm", warm)):
                if meas.error is not None:
                    continue
                if name == "floor":
                    sample = runner.run(floor_cmd)
                elif name == "warm":
                    sample = runner.run(warm_cmd, _cache_env(normcheck, warm_cache), project_dir)
                else:
                    with tempfile.TemporaryDirectory(prefix="normcheck-bench-cache-") as fresh:
                        sample = runner.run(check_cmd, _cache_env(normcheck, fresh), project_dir)
                _record(name, meas, sample, manifest)
        if snapshot and warm.ok and _cache_snapshot(warm_cache) != snapshot:
            problems.append(
                "the warm runs rewrote the primed cache (a cache miss: they evaluated the "
                "whole project instead of reading the cache)"
            )
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return floor, cold, warm, problems, summary


def _record(name: str, meas: Measurement, sample: Sample, manifest: Path) -> None:
    if sample.returncode != 0:
        meas.error = f"exit {sample.returncode}"
        print(
            f"  {name} failed on {manifest.name} with exit code {sample.returncode}; "
            f"stderr:\n{sample.stderr.rstrip() or '(empty)'}",
            file=sys.stderr,
        )
        return
    meas.samples.append(sample)
    print(
        f"  {name:<5} run {len(meas.samples)}: {sample.wall_s:6.2f} s "
        f"{_mb(sample.maxrss_bytes):>6} MB",
        file=sys.stderr,
    )


# ----------------------------------------------------------------- reporting


def _mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:.0f}"


def _cell(meas: Measurement) -> str:
    if not meas.ok:
        return f"FAILED ({meas.error})"
    return f"{meas.wall_s:.2f} s / {_mb(meas.maxrss_bytes)} MB"


def _time_ratio(meas: Measurement, floor: Measurement) -> float | None:
    return meas.wall_s / floor.wall_s if meas.ok and floor.ok else None


def _memory_ratio(meas: Measurement, floor: Measurement) -> float | None:
    return meas.maxrss_bytes / floor.maxrss_bytes if meas.ok and floor.ok else None


def _x(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}x"


def render_table(rows: Sequence[Row]) -> str:
    lines = [
        "| manifest | size MB | models | floor s / MB | cold s / MB | cold/floor time "
        "| cold/floor memory | warm-3-files s / MB | warm/floor time |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        models = f"{row.models:,}" if row.models is not None else "?"
        lines.append(
            f"| {row.label} | {row.size_bytes / 1e6:.1f} | {models} | {_cell(row.floor)} "
            f"| {_cell(row.cold)} | {_x(_time_ratio(row.cold, row.floor))} "
            f"| {_x(_memory_ratio(row.cold, row.floor))} | {_cell(row.warm)} "
            f"| {_x(_time_ratio(row.warm, row.floor))} |"
        )
    return "\n".join(lines)


def _verdict(ratio: float | None, limit: float) -> str:
    if ratio is None:
        return "not measured (the run failed)"
    return f"{ratio:.2f}x ({'ok' if ratio <= limit else 'over'})"


def target_lines(rows: Sequence[Row]) -> list[str]:
    row = next((r for r in rows if r.synth_size == TARGET_SIZE), None)
    cold_goal = (
        f"Target, issue #2 ({TARGET_SIZE:,}-model manifest, cold: <= {COLD_TIME_TARGET:.1f}x "
        f"floor wall time and <= {COLD_MEMORY_TARGET:.1f}x floor peak memory)"
    )
    warm_goal = (
        f"Target, issue #3 ({TARGET_SIZE:,}-model manifest, warm, {CHANGED_FILES} changed "
        f"files: <= {WARM_TIME_TARGET:.2f}x floor wall time)"
    )
    if row is None:
        missing = f"not measured (add {TARGET_SIZE} to --sizes)."
        return [f"{cold_goal}: {missing}", f"{warm_goal}: {missing}"]
    cold_t = _time_ratio(row.cold, row.floor)
    cold_m = _memory_ratio(row.cold, row.floor)
    warm_t = _time_ratio(row.warm, row.floor)
    cold_met = (
        cold_t is not None
        and cold_m is not None
        and cold_t <= COLD_TIME_TARGET
        and cold_m <= COLD_MEMORY_TARGET
    )
    warm_met = warm_t is not None and warm_t <= WARM_TIME_TARGET and not row.problems
    warm_note = " — but its output is wrong, see below" if row.problems else ""
    return [
        f"{cold_goal}: {'MET' if cold_met else 'NOT MET'} — time "
        f"{_verdict(cold_t, COLD_TIME_TARGET)}, memory {_verdict(cold_m, COLD_MEMORY_TARGET)}.",
        f"{warm_goal}: {'MET' if warm_met else 'NOT MET'} — time "
        f"{_verdict(warm_t, WARM_TIME_TARGET)}{warm_note}.",
    ]


def throughput_lines(rows: Sequence[Row]) -> list[str]:
    lines = ["| manifest | models | cold models / s |", "|---|---:|---:|"]
    for row in rows:
        rate = f"{row.models / row.cold.wall_s:,.0f}" if row.cold.ok and row.models else "—"
        models = f"{row.models:,}" if row.models is not None else "?"
        lines.append(f"| {row.label} | {models} | {rate} |")
    return lines


def scope_lines(rows: Sequence[Row]) -> list[str]:
    lines = []
    for row in rows:
        files = ", ".join(f"`{p}`" for p in row.picked.paths) or "(none)"
        lines.append(f"- {row.label}: {files} — {row.scope_summary}.")
        lines += [f"  - {problem}" for problem in row.problems]
    return lines


def render_samples(rows: Sequence[Row]) -> str:
    """Every run, so the spread behind each median is visible."""
    lines = [
        "| manifest | load (1 min) before | command | wall s per run | peak MB per run |",
        "|---|---:|---|---|---|",
    ]
    for row in rows:
        for name, meas in (("floor", row.floor), ("cold", row.cold), ("warm", row.warm)):
            walls = ", ".join(f"{s.wall_s:.2f}" for s in meas.samples) or "—"
            rss = ", ".join(_mb(s.maxrss_bytes) for s in meas.samples) or "—"
            failed = f" (then {meas.error})" if meas.error else ""
            lines.append(
                f"| {row.label} | {row.load_before:.2f} | {name} | {walls}{failed} | {rss} |"
            )
    return "\n".join(lines)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_revision(ref: str = "HEAD", *, note_dirty: bool = True) -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO_DIR), "rev-parse", "--short", f"{ref}^{{commit}}"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_DIR), "status", "--porcelain", "--", "src"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev}{' (src/ has uncommitted changes)' if dirty and note_dirty else ''}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _load() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def _load_text(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in load)


def environment_lines(
    runs: int, method: str, load_start: tuple[float, float, float], normcheck: Normcheck
) -> list[str]:
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {platform.system()} {platform.machine()}, nproc {nproc}, {_cpu_model()}",
        f"- load average (1 / 5 / 15 min): {_load_text(load_start)} at the start, "
        f"{_load_text(_load())} at the end (the machine may be shared with other work)",
        f"- python: {platform.python_version()} ({sys.executable})",
        f"- normcheck {_version('normcheck')}, git {normcheck.revision} when the run started, "
        f"msgspec {_version('msgspec')}, orjson {_version('orjson')}",
        f"- normcheck code: {normcheck.note}"
        + (f"; {drift}" if (drift := code_drift(normcheck)) else ""),
        f"- method: median of {runs} runs per cell, floor / cold / warm interleaved round by "
        f"round, wall clock of the whole process; peak RSS via "
        f"{'GNU time %M' if method == 'time' else 'os.wait4 ru_maxrss'}",
    ]


def build_report(
    rows: Sequence[Row],
    runs: int,
    method: str,
    load_start: tuple[float, float, float],
    normcheck: Normcheck,
) -> str:
    return "\n".join(
        [
            "# normcheck check vs. the orjson floor",
            "",
            *environment_lines(runs, method, load_start, normcheck),
            "",
            "- floor: a fresh interpreter doing `orjson.loads(open(path, 'rb').read())`.",
            "- cold: `normcheck check --manifest M --project-dir D --format json -q "
            "--fail-on never` (default rule set, `D` an empty directory and the working "
            "directory), with a fresh, empty `NORMCHECK_CACHE_DIR` per run.",
            f"- warm-3-files (pre-commit): the same command plus {CHANGED_FILES} model files "
            "of the root project as relative paths, with a cache primed by one untimed "
            "whole-project run.",
            "",
            render_table(rows),
            "",
            *target_lines(rows),
            "",
            "## Cold throughput",
            "",
            *throughput_lines(rows),
            "",
            "## The three changed files",
            "",
            "Each 3-file run's findings compared with the whole-project run's findings for "
            "those models (and their columns).",
            "",
            *scope_lines(rows),
            "",
            "## Runs",
            "",
            render_samples(rows),
            "",
        ]
    )


# ----------------------------------------------------------------- main


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers: {value!r}") from exc
    if any(n <= 0 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="runs per cell (median; default 3)")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=list(DEFAULT_SIZES),
        help="synthetic model counts, comma-separated (default 1000,5000,20000; '' for none)",
    )
    parser.add_argument("--no-real", action="store_true", help="skip the two real manifests")
    parser.add_argument("--write", type=Path, help="also write the report to this Markdown file")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument(
        "--shared-dir",
        type=Path,
        default=DEFAULT_SHARED_DIR,
        help="folder with corpus/dbt and bench/synth_manifest.py "
        "(default: `shared` beside the repository checkout)",
    )
    parser.add_argument(
        "--normcheck",
        type=Path,
        help="normcheck executable to run as is (default: a snapshot of this checkout's "
        "src/normcheck, else the normcheck script next to this interpreter)",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="run the working tree's code, not a snapshot taken at the start",
    )
    parser.add_argument(
        "--rev",
        help="run normcheck's code as committed at this git revision (via `git archive`)",
    )
    parser.add_argument("--rss", choices=("auto", "time", "wait4"), default="auto")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if sum(x is not None and x is not False for x in (args.normcheck, args.live, args.rev)) > 1:
        parser.error("--normcheck, --live and --rev exclude each other")
    if args.normcheck is not None:
        if not args.normcheck.exists():
            parser.error(f"normcheck executable not found: {args.normcheck}")
        # normcheck runs with the project directory as its working directory.
        args.normcheck = args.normcheck.absolute()
    args.work_dir = args.work_dir.absolute()
    args.shared_dir = args.shared_dir.absolute()
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import orjson  # noqa: F401
    except ImportError:
        print("orjson is required: run this with the project's .venv python", file=sys.stderr)
        return 2
    load_start = _load()
    work_dir: Path = args.work_dir
    work_dir.mkdir(parents=True, exist_ok=True)
    runner = Runner(Runner.pick(args.rss))

    targets: list[tuple[str, Path, int | None]] = []
    base = unpack_real(SYNTH_BASE, work_dir, args.shared_dir)
    if not args.no_real:
        targets += [
            (name, unpack_real(name, work_dir, args.shared_dir), None) for name in REAL_MANIFESTS
        ]
    for n in args.sizes:
        targets.append(
            (f"synthetic {n:,} models", ensure_synth(n, base, work_dir, args.shared_dir), n)
        )

    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(prefix="normcheck-bench-") as tmp,
        tempfile.TemporaryDirectory(prefix="normcheck-bench-code-") as code,
    ):
        project_dir = Path(tmp).resolve()
        normcheck = choose_normcheck(args.normcheck, args.live, args.rev, Path(code))
        print(f"normcheck: {normcheck.note}", file=sys.stderr)
        for label, path, synth_size in targets:
            load_before = _load()[0]
            print(f"measuring {label} ({path.name}), load {load_before:.2f} ...", file=sys.stderr)
            picked = inspect_manifest(path)
            floor, cold, warm, problems, summary = measure(
                runner, path, normcheck, project_dir, args.runs, picked
            )
            rows.append(
                Row(
                    label,
                    path,
                    path.stat().st_size,
                    picked,
                    floor,
                    cold,
                    warm,
                    synth_size,
                    problems=problems,
                    scope_summary=summary,
                    load_before=load_before,
                )
            )

        report = build_report(rows, args.runs, runner.method, load_start, normcheck)
    print(report)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(report, encoding="utf-8")
        print(f"wrote {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
