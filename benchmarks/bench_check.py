"""Benchmark ``normcheck check`` against the cost of reading the manifest, and against its peers.

For every manifest, these whole processes are timed in one run (wall clock, median of
``--runs``, three times as many samples for the sub-second warm commands, interleaved
round by round so drift hits all alike) and their peak resident set size is measured:

* ``floor``: a fresh interpreter that does ``orjson.loads(open(path, "rb").read())``
  and nothing else (interpreter start included);
* ``cold``: ``normcheck check --manifest M --project-dir D --format json -q --fail-on
  never`` with the default rule set (``normcheck:default``: metadata rules only) and a
  fresh, empty ``NORMCHECK_CACHE_DIR`` per run, so every run evaluates the whole project
  (and writes its cache);
* ``reference``: the cold command with ``--config benchmarks/normcheck-reference.yml``,
  normcheck's equivalent of the peers' reference rule set (four rules on models; no rule
  judges columns, so none are built): the peers' like-for-like comparison;
* ``warm``: the same command against a cache primed by one untimed whole-project run,
  manifest unchanged and nothing else changed;
* ``pre-commit``: the warm command plus three changed files ``P1 P2 P3``. ``P1..P3`` are
  the ``original_file_path`` of three models of the root project (``package_name ==
  metadata.project_name``), picked deterministically among models whose file defines
  nothing else; they are passed relative to ``D``;
* ``sql-cold``: the cold command with ``--config benchmarks/normcheck-recommended.yml``
  (``extends: [normcheck:recommended]``: the default set plus the rules that parse every
  model's SQL), fresh cache per run; the report gives models per second;
* ``sql-warm``: the ``sql-cold`` command against a cache primed by one untimed SQL run,
  nothing changed;
* with the SQL path, once per round: ``benchmarks/sqlglot_floor.py M``, sqlglot alone
  parsing the root project's rendered model SQL on two forked processes (the rendering
  untimed), the SQL path's floor in models per second;
* with ``--peers``: ``dbt-bouncer`` (config ``benchmarks/peers/dbt-bouncer.yml``) and
  ``dbt-score lint`` (rules ``benchmarks/peers/dbt-score/normcheck_bench_rules.py``), each
  with the reference rule set of ``<shared>/bench/README.md``: model names snake_case and
  layer prefixes, owner present, description present. They run from a separate virtual
  environment, ``benchmarks/.work/peers-venv`` (created with ``python3 -m venv`` and
  ``pip install dbt-bouncer dbt-score`` when missing), never the project's.

``D`` is an empty temporary directory (no ``normcheck.yml``; no ``catalog.json`` sits
next to the manifest) and every normcheck run has ``D`` as its working directory:
normcheck resolves the changed paths against the working directory and maps them to
resources by exact path, and its cache key includes the working directory. The
three model files are created empty in ``D`` (a path that does not exist is a usage
error, as in a checkout). dbt-bouncer runs in a scratch directory holding a copy of
its config and ``target/manifest.json`` (a symbolic link to the manifest); dbt-score runs
in ``benchmarks/peers/dbt-score`` (where it finds its ``pyproject.toml``) with
``--manifest M``.

Untimed checks before the timed rounds, reported and never hidden:

* the three-file command must report exactly the findings of the three models (and their
  columns) that the whole-project run reports;
* the warm, pre-commit and sql-warm runs must hit the primed cache (its files are not
  rewritten);
* on the synthetic manifests, whose injected violations are listed in
  ``manifest_N.truth.json``, normcheck's equivalent rules (``naming/name-case``,
  ``naming/model-prefix``, ``ownership/missing-owner``, ``docs/missing-description``, on
  models) and each peer must report exactly the injected violations of the four
  reference rules; on the real manifests their counts are listed side by side. A peer
  that fails on a manifest gets the reason in its cell, and the benchmark goes on.

Manifests: the two real ones from ``<shared>/corpus/dbt`` (ol-data-platform, tuva;
unpacked into ``benchmarks/.work/``) and synthetic ones scaled from ol-data-platform by
``<shared>/bench/synth_manifest.py`` (generated into ``benchmarks/.work/`` only if
missing; about 29 kB per model: the 20,000-model manifest is 580 MB and takes about a
minute to build, the 50,000-model one 1.45 GB, two minutes and 4 GB of memory).
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
    .venv/bin/python benchmarks/bench_check.py --peers --sizes 1000,5000,20000,50000 \\
        --profile 20000 --write benchmarks/RESULTS.md                # the full report

``--write FILE`` also writes the Markdown report and, beside it, ``scaling.png`` (time
and peak memory against model count; ``--plot PATH`` elsewhere, ``--no-plot`` none),
drawn with matplotlib from the side environment by ``benchmarks/plot_scaling.py``; the
figures behind it go to ``benchmarks/.work/bench-results.json``. ``--profile N`` samples
one extra cold run on the N-model synthetic manifest with py-spy (also from the side
environment; not part of the timings) and lists where the time goes.

Peak memory comes from GNU ``/usr/bin/time -f %M`` when available; otherwise a small
wrapper interpreter spawns the command and reads the child's ``ru_maxrss`` with
``os.wait4``. (The wrapper matters: on Linux a child's ``ru_maxrss`` includes the
high-water mark of the process that spawned it -- ``python -c pass`` spawned from a
1.5 GB parent reports 1.5 GB -- so the process that spawns the measured one must be small.)

Targets (issue #8), on the 20,000-model manifest: (a) cold normcheck, default rule set,
takes at most 0.5x the floor's wall time and 0.5x its peak memory and is at least 4x
faster than dbt-bouncer in the same run; (b) the warm run takes at most 0.1x the floor's
wall time; (c) the 50,000-model manifest completes within 24 GiB and memory grows no
faster than linearly with the model count. Issue #4: the SQL path parses at least 1,500
models/s cold on the 5,000-model manifest, and a warm SQL run with nothing changed takes
at most 1.2x the metadata-only warm run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import importlib.util
import itertools
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DEFAULT_WORK_DIR = BENCH_DIR / ".work"
DEFAULT_SHARED_DIR = REPO_DIR.parent / "shared"
PEERS_DIR = BENCH_DIR / "peers"
BOUNCER_CONFIG = PEERS_DIR / "dbt-bouncer.yml"
SCORE_DIR = PEERS_DIR / "dbt-score"
SQL_CONFIG = BENCH_DIR / "normcheck-recommended.yml"
REFERENCE_CONFIG = BENCH_DIR / "normcheck-reference.yml"
SQLGLOT_FLOOR = BENCH_DIR / "sqlglot_floor.py"
PLOT_SCRIPT = BENCH_DIR / "plot_scaling.py"
CORPUS_SUBDIR = Path("corpus", "dbt")
SYNTH_SUBPATH = Path("bench", "synth_manifest.py")
REAL_MANIFESTS = ("ol-data-platform", "tuva")
SYNTH_BASE = "ol-data-platform"
SYNTH_SEED = 7
DEFAULT_SIZES = (1000, 5000, 20000)
TARGET_SIZE = 20000  # targets (a) and (b)
LARGE_SIZE = 50000  # target (c)
SQL_TARGET_SIZE = 5000  # issue #4
COLD_TIME_TARGET = 0.5  # (a)
COLD_MEMORY_TARGET = 0.5  # (a)
BOUNCER_SPEEDUP_TARGET = 4.0  # (a)
WARM_TIME_TARGET = 0.1  # (b)
MEMORY_LIMIT_BYTES = 24 * 1024**3  # (c)
LINEAR_EXPONENT_LIMIT = 1.05  # (c): fitted exponent of peak RSS against model count
MARGINAL_GROWTH_LIMIT = 1.15  # (c): memory per added model, last interval vs the one before
SQL_RATE_TARGET = 1500.0  # issue #4, models / s
SQL_WARM_TARGET = 1.2  # issue #4, sql-warm / warm
CHANGED_FILES = 3
GNU_TIME = Path("/usr/bin/time")
DEFAULT_TIMEOUT = 3600.0
PEER_PACKAGES = {"dbt-bouncer": "dbt_bouncer", "dbt-score": "dbt_score"}

# The timed commands, in the order they run within a round and appear in the report.
FLOOR, COLD, REFERENCE, WARM, PRECOMMIT, SQL_COLD, SQL_WARM = (
    "floor",
    "cold",
    "reference",
    "warm",
    "pre-commit",
    "sql-cold",
    "sql-warm",
)
BOUNCER, SCORE = "dbt-bouncer", "dbt-score"
NORMCHECK_COMMANDS = (COLD, REFERENCE, WARM, PRECOMMIT, SQL_COLD, SQL_WARM)
CHEAP = (WARM, PRECOMMIT, SQL_WARM)  # sampled CHEAP_REPEATS times per round
CHEAP_REPEATS = 3
COMMANDS = (FLOOR, *NORMCHECK_COMMANDS, BOUNCER, SCORE)
PEERS = (BOUNCER, SCORE)

# The reference rule set (shared/bench/README.md) and what each tool calls its rules.
SNAKE, PREFIX, OWNER, DESC = (
    "naming.snake_case",
    "naming.layer_prefix",
    "owner.present",
    "docs.description",
)
REFERENCE_RULES = (SNAKE, PREFIX, OWNER, DESC)
NORMCHECK_EQUIVALENT = {
    "naming/name-case": SNAKE,
    "naming/model-prefix": PREFIX,
    "ownership/missing-owner": OWNER,
    "docs/missing-description": DESC,
}
SCORE_EQUIVALENT = {
    "normcheck_bench_rules.name_snake_case": SNAKE,
    "normcheck_bench_rules.name_layer_prefix": PREFIX,
    "normcheck_bench_rules.owner_present": OWNER,
    "normcheck_bench_rules.description_present": DESC,
}
BOUNCER_SNAKE_PATTERN = "^[a-z][a-z0-9_]*$"

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
    timed_out: bool = False


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


@dataclass(frozen=True)
class SideVenv:
    """The separate virtual environment for the peers, matplotlib and py-spy."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.root / "bin" / name

    def version(self, dist: str) -> str:
        proc = subprocess.run(
            [
                str(self.python),
                "-c",
                "import sys\nfrom importlib import metadata\nprint(metadata.version(sys.argv[1]))",
                dist,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.stdout.strip() if proc.returncode == 0 else "not installed"


@dataclass
class Row:
    label: str
    path: Path
    size_bytes: int
    picked: Picked
    meas: dict[str, Measurement]
    synth_size: int | None = None
    problems: list[str] = field(default_factory=list)  # normcheck behaviour that looked wrong
    scope_summary: str = "not checked"  # what the three-file run reported
    findings: dict[str, str] = field(default_factory=dict)  # tool -> reference-rule check
    sql_stats: str = ""  # normcheck --statistics of the SQL priming run
    sqlglot_rates: list[float] = field(default_factory=list)  # bare sqlglot parse, models/s
    load_before: float = 0.0

    @property
    def models(self) -> int | None:
        return self.picked.models

    def get(self, name: str) -> Measurement:
        return self.meas.get(name) or Measurement(error="not run")


class Runner:
    """Spawns a command and measures its wall time and peak RSS."""

    def __init__(self, method: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.method = method
        self.timeout = timeout

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

    def _spawn(
        self, cmd: Sequence[str], env: dict[str, str] | None, cwd: Path | None, stdout: int
    ) -> tuple[int, float, bytes, bytes, bool]:
        """Run ``cmd`` in its own process group; kill the whole group on timeout."""
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        timed_out = False
        try:
            out, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        wall = time.perf_counter() - start
        return proc.returncode, wall, out or b"", err or b"", timed_out

    def _run_time(
        self, argv: Sequence[str], env: dict[str, str] | None, cwd: Path | None
    ) -> Sample:
        with tempfile.NamedTemporaryFile("w+", suffix=".time", delete=False) as out:
            time_path = Path(out.name)
        try:
            cmd = [str(GNU_TIME), "-f", "%M", "-o", str(time_path), *argv]
            rc, wall, _, err, timed_out = self._spawn(cmd, env, cwd, subprocess.DEVNULL)
            lines = time_path.read_text(encoding="utf-8").split()
        finally:
            time_path.unlink(missing_ok=True)
        maxrss_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        return Sample(rc, wall, maxrss_kb * 1024, _text(err), timed_out)

    def _run_wrapper(
        self, argv: Sequence[str], env: dict[str, str] | None, cwd: Path | None
    ) -> Sample:
        cmd = [sys.executable, "-c", WRAPPER_CODE, *argv]
        rc, wall, out, err, timed_out = self._spawn(cmd, env, cwd, subprocess.PIPE)
        try:
            report = json.loads(_text(out).strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            return Sample(rc or 1, wall, 0, _text(err), timed_out)
        return Sample(
            int(report["rc"]), wall, int(report["maxrss_kb"]) * 1024, _text(err), timed_out
        )


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


def _byte_compile(snapshot_root: Path) -> None:
    """Bytecode for the copy, as ``pip install`` writes for an installed package (and
    for the peers): with PYTHONDONTWRITEBYTECODE set, every run would otherwise compile
    normcheck's modules again."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(snapshot_root / "src")],
        check=True,
        capture_output=True,
    )


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
        _byte_compile(snapshot_root)
        digest = _tree_digest(snapshot_root, CODE_PARTS)
        commit = _git_revision(rev, note_dirty=False)
        note = (
            f"`src/normcheck` and `rules/` as committed at `{rev}` ({commit}; content "
            f"{digest}), run as `python -m normcheck` with PYTHONPATH set to the copy "
            "(byte-compiled first, as an install is)"
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
    _byte_compile(snapshot_root)
    digest = _tree_digest(snapshot_root, CODE_PARTS)
    note = (
        f"a copy of the working tree's `src/normcheck` and `rules/` taken at the start "
        f"(content {digest}, {_compare_with_head(digest)}), run as `python -m normcheck` "
        "with PYTHONPATH set to the copy (byte-compiled first, as an install is)"
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


# ----------------------------------------------------------------- the side environment


def ensure_side_venv(root: Path, wanted: Sequence[str]) -> SideVenv:
    """Create ``root`` with ``python3 -m venv`` if missing and pip-install what is missing
    of ``wanted`` (distribution names; ``py-spy`` is checked by its executable)."""
    venv = SideVenv(root)
    if not venv.python.exists():
        base = shutil.which("python3") or sys.executable
        print(f"creating {root} (python3 -m venv)", file=sys.stderr)
        subprocess.run([base, "-m", "venv", str(root)], check=True)
    missing = []
    for dist in wanted:
        if dist == "py-spy":
            present = venv.bin("py-spy").exists()
        else:
            module = PEER_PACKAGES.get(dist, dist.replace("-", "_"))
            present = (
                subprocess.run(
                    [
                        str(venv.python),
                        "-c",
                        "import importlib.util, sys\n"
                        "sys.exit(importlib.util.find_spec(sys.argv[1]) is None)",
                        module,
                    ],
                    capture_output=True,
                    check=False,
                ).returncode
                == 0
            )
        if not present:
            missing.append(dist)
    if missing:
        print(f"installing into {root}: {' '.join(missing)}", file=sys.stderr)
        subprocess.run(
            [str(venv.python), "-m", "pip", "install", "--quiet", *missing],
            check=True,
            stdout=sys.stderr,
        )
    return venv


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
    if not out.exists() or not truth_path(out).exists():
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


def truth_path(manifest: Path) -> Path:
    return manifest.with_suffix(".truth.json")


def load_truth(manifest: Path) -> dict[str, set[str]] | None:
    """The injected violations of the four reference rules, if the manifest is synthetic."""
    try:
        data = json.loads(truth_path(manifest).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    violations = data.get("violations") or {}
    return {rule: set(violations.get(rule) or ()) for rule in REFERENCE_RULES}


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


# ----------------------------------------------------------------- findings


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


def normcheck_reference(findings: list[dict[str, object]]) -> dict[str, set[str]]:
    """Models flagged by normcheck's rules that match the four reference rules."""
    out: dict[str, set[str]] = {rule: set() for rule in REFERENCE_RULES}
    for f in findings:
        rule = NORMCHECK_EQUIVALENT.get(str(f.get("rule")))
        if rule is not None and f.get("resource_type") == "model":
            out[rule].add(str(f.get("resource")))
    return out


def bouncer_reference(path: Path) -> tuple[dict[str, set[str]], int] | str:
    """Models dbt-bouncer failed per reference rule, and failures it could not map."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return f"no readable output file ({exc.__class__.__name__})"
    if not isinstance(data, list):
        return "unexpected output file shape"
    out: dict[str, set[str]] = {rule: set() for rule in REFERENCE_RULES}
    unmapped = 0
    for item in data:
        if not isinstance(item, dict) or item.get("outcome") != "failed":
            continue
        check = str(item.get("check_run_id", "")).split(":", 1)[0]
        uid = str(item.get("unique_id", ""))
        if check == "check_model_names":
            snake = BOUNCER_SNAKE_PATTERN in str(item.get("failure_message", ""))
            out[SNAKE if snake else PREFIX].add(uid)
        elif check == "check_model_has_meta_keys":
            out[OWNER].add(uid)
        elif check == "check_model_description_populated":
            out[DESC].add(uid)
        else:
            unmapped += 1
    return out, unmapped


def score_reference(path: Path) -> tuple[dict[str, set[str]], int] | str:
    """Models dbt-score flagged per reference rule, and rule errors (crashed rules)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return f"no readable JSON on stdout ({exc.__class__.__name__})"
    out: dict[str, set[str]] = {rule: set() for rule in REFERENCE_RULES}
    errors = 0
    for uid, evaluable in (data.get("evaluables") or {}).items():
        for rule_name, result in (evaluable.get("results") or {}).items():
            rule = SCORE_EQUIVALENT.get(rule_name)
            if result.get("result") == "ERR":
                errors += 1
            elif rule is not None and result.get("result") == "WARN":
                out[rule].add(uid)
    return out, errors


def compare_with_truth(found: dict[str, set[str]], truth: dict[str, set[str]] | None) -> str:
    """One line: exact match with the injected violations, or what differs; counts if no truth."""
    total = sum(len(v) for v in found.values())
    counts = ", ".join(f"{rule} {len(found[rule])}" for rule in REFERENCE_RULES)
    if truth is None:
        return f"{total} finding(s) on the reference rules ({counts})"
    if total == 0:
        return "ran no reference rule: 0 findings where violations were injected"
    diffs = []
    for rule in REFERENCE_RULES:
        missing, extra = truth[rule] - found[rule], found[rule] - truth[rule]
        if missing or extra:
            diffs.append(
                f"{rule}: {len(found[rule])} found, {len(truth[rule])} injected "
                f"({len(missing)} missed, {len(extra)} extra)"
            )
    if not diffs:
        return f"exactly the {total} injected violations ({counts})"
    return f"{total} finding(s), NOT the injected ones: " + "; ".join(diffs)


def _reason(sample: Sample) -> str:
    """Why a run failed, in a few words for a table cell."""
    if sample.timed_out:
        return "timed out"
    if sample.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL):
        return "killed (SIGKILL; out of memory?)"
    lines = [
        line.strip()
        for line in sample.stderr.splitlines()
        if line.strip() and not line.startswith("Command exited with non-zero status")
    ]
    last = lines[-1] if lines else "(no stderr)"
    last = re.sub(r"\x1b\[[0-9;]*m", "", last).replace("|", "/")
    if len(last) > 120:
        last = last[:117] + "..."
    return f"exit {sample.returncode}: {last}"


# ----------------------------------------------------------------- measuring


@dataclass
class Plan:
    """How to run one timed command: argv, environment (a fresh cache per run if
    ``fresh_cache``), working directory and the exit codes that mean success."""

    argv: list[str]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    ok_codes: tuple[int, ...] = (0,)
    fresh_cache: Normcheck | None = None


def _check_cmd(normcheck: Normcheck, manifest: Path, project_dir: Path) -> list[str]:
    return [
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


def _prime_normcheck(
    runner: Runner,
    cmd: list[str],
    env: dict[str, str],
    project_dir: Path,
    out_json: Path,
    what: str,
) -> tuple[list[dict[str, object]] | None, Sample]:
    """One untimed whole-project run that fills the cache and keeps its findings."""
    sample = runner.run([*cmd, "--statistics", "--output", f"json:{out_json}"], env, project_dir)
    found = _findings(out_json)
    if sample.returncode != 0 or found is None:
        print(f"  {what} failed: {_reason(sample)}\n{sample.stderr.rstrip()}", file=sys.stderr)
        return None, sample
    return found, sample


def _statistics(stderr: str, label: str) -> str:
    """A line of normcheck's ``--statistics`` output, e.g. ``SQL parsed``."""
    for line in stderr.splitlines():
        if label in line:
            return line.split(label, 1)[1].strip()
    return ""


def _run_peer_once(
    runner: Runner, name: str, plan: Plan, out_path: Path
) -> tuple[Sample, tuple[dict[str, set[str]], int] | str]:
    """The untimed verification run of a peer: its findings, mapped to the reference rules."""
    if name == BOUNCER:
        argv = [*plan.argv, "--output-file", str(out_path), "--output-only-failures"]
        sample = runner.run(argv, plan.env, plan.cwd)
        if sample.returncode not in plan.ok_codes:
            return sample, _reason(sample)
        return sample, bouncer_reference(out_path)
    # dbt-score prints its JSON report on stdout, which the runner discards: run it plainly.
    argv = [*plan.argv, "--format", "json"]
    start = time.perf_counter()
    with out_path.open("wb") as out:
        proc = subprocess.run(
            argv, stdout=out, stderr=subprocess.PIPE, env=plan.env, cwd=plan.cwd, check=False
        )
    sample = Sample(proc.returncode, time.perf_counter() - start, 0, _text(proc.stderr))
    if proc.returncode not in plan.ok_codes:
        return sample, _reason(sample)
    return sample, score_reference(out_path)


def peer_plans(venv: SideVenv, manifest: Path, scratch: Path) -> dict[str, Plan]:
    """dbt-bouncer in a scratch project (its config + target/manifest.json linked to the
    manifest); dbt-score in benchmarks/peers/dbt-score, where its pyproject.toml is."""
    project = scratch / "bouncer-project"
    (project / "target").mkdir(parents=True, exist_ok=True)
    link = project / "target" / "manifest.json"
    link.unlink(missing_ok=True)
    link.symlink_to(manifest)
    shutil.copy(BOUNCER_CONFIG, project / BOUNCER_CONFIG.name)
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)
    bouncer = Plan(
        [str(venv.bin("dbt-bouncer")), "--config-file", BOUNCER_CONFIG.name],
        env,
        project,
        ok_codes=(0, 1),  # 1: checks failed
    )
    score = Plan(
        [str(venv.bin("dbt-score")), "lint", "--manifest", str(manifest)],
        env,
        SCORE_DIR,
        ok_codes=(0, 1),  # 1: the score is under a threshold (both are 0 in its config)
    )
    return {BOUNCER: bouncer, SCORE: score}


def measure(
    runner: Runner,
    row: Row,
    normcheck: Normcheck,
    project_dir: Path,
    runs: int,
    venv: SideVenv | None,
    sql: bool,
) -> None:
    """Prime and check (untimed), then time every command ``runs`` times, interleaved
    round by round so drift hits all alike. Fills ``row``."""
    manifest, picked = row.path, row.picked
    for changed in picked.paths:  # as in a checkout: a path that does not exist is refused
        (project_dir / changed).parent.mkdir(parents=True, exist_ok=True)
        (project_dir / changed).touch()
    truth = load_truth(manifest) if row.synth_size is not None else None
    check_cmd = _check_cmd(normcheck, manifest, project_dir)
    sql_cmd = [*check_cmd, "--config", str(SQL_CONFIG)]
    names = [FLOOR, COLD, REFERENCE, WARM, PRECOMMIT]
    if sql:
        names += [SQL_COLD, SQL_WARM]
    if venv is not None:
        names += list(PEERS)
    meas = {name: Measurement() for name in names}
    row.meas = meas
    warm_page_cache(manifest)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="normcheck-bench-")))
        warm_cache, sql_cache, out_dir = tmp / "cache", tmp / "sql-cache", tmp / "out"
        for d in (warm_cache, sql_cache, out_dir):
            d.mkdir()
        plans: dict[str, Plan] = {
            FLOOR: Plan([sys.executable, "-c", FLOOR_CODE, str(manifest)]),
            COLD: Plan(check_cmd, cwd=project_dir, fresh_cache=normcheck),
            REFERENCE: Plan(
                [*check_cmd, "--config", str(REFERENCE_CONFIG)],
                cwd=project_dir,
                fresh_cache=normcheck,
            ),
            WARM: Plan(check_cmd, _cache_env(normcheck, str(warm_cache)), project_dir),
            PRECOMMIT: Plan(
                [*check_cmd, *picked.paths], _cache_env(normcheck, str(warm_cache)), project_dir
            ),
            SQL_COLD: Plan(sql_cmd, cwd=project_dir, fresh_cache=normcheck),
            SQL_WARM: Plan(sql_cmd, _cache_env(normcheck, str(sql_cache)), project_dir),
        }
        if venv is not None:
            plans.update(peer_plans(venv, manifest, tmp))

        # Untimed: prime the cache with a whole-project run, as a developer's last
        # `normcheck check` would have, and keep its findings for comparison.
        nc_ref: dict[str, set[str]] | None = None
        full, prime = _prime_normcheck(
            runner, check_cmd, plans[WARM].env or {}, project_dir, out_dir / "full.json", "priming"
        )
        snapshots: dict[str, dict[str, int]] = {}
        if full is None:
            meas[WARM].error = meas[PRECOMMIT].error = f"priming run: {_reason(prime)}"
        else:
            snapshots[str(warm_cache)] = _cache_snapshot(warm_cache)
            if not snapshots[str(warm_cache)]:
                row.problems.append("the priming run wrote no cache file")
            nc_ref = normcheck_reference(full)
            row.findings["normcheck"] = compare_with_truth(nc_ref, truth)
            if len(picked.paths) < CHANGED_FILES:
                meas[PRECOMMIT].error = f"only {len(picked.paths)} model file(s) to pass"
            else:
                # Untimed: the three-file command once more, to check what it reports.
                scoped_json = out_dir / "scoped.json"
                scoped = runner.run(
                    [*plans[PRECOMMIT].argv, "--output", f"json:{scoped_json}"],
                    plans[PRECOMMIT].env,
                    project_dir,
                )
                found = _findings(scoped_json)
                if scoped.returncode != 0 or found is None:
                    meas[PRECOMMIT].error = _reason(scoped)
                    print(f"  3-file run failed:\n{scoped.stderr.rstrip()}", file=sys.stderr)
                else:
                    row.problems += check_scope(full, found, picked)
                    expected = sum(1 for f in full if _belongs(f, picked.uids))
                    row.scope_summary = (
                        f"{len(found)} finding(s) reported by the 3-file run, {expected} "
                        f"expected (of {len(full)} in the whole project)"
                    )
        if sql:
            sql_full, sql_prime = _prime_normcheck(
                runner,
                sql_cmd,
                plans[SQL_WARM].env or {},
                project_dir,
                out_dir / "sql.json",
                "SQL priming",
            )
            if sql_full is None:
                meas[SQL_WARM].error = f"priming run: {_reason(sql_prime)}"
            else:
                snapshots[str(sql_cache)] = _cache_snapshot(sql_cache)
                rules = Counter(
                    str(f.get("rule"))
                    for f in sql_full
                    if str(f.get("rule", "")).startswith(("sql/", "tracking/"))
                )
                parsed = _statistics(sql_prime.stderr, "SQL parsed")
                row.sql_stats = (
                    f"SQL parsed: {parsed or '?'}; {sum(rules.values())} SQL finding(s)"
                    + (f" ({', '.join(f'{k} {v}' for k, v in sorted(rules.items()))})")
                )
        for name in PEERS:
            if name not in meas:
                continue
            sample, result = _run_peer_once(runner, name, plans[name], out_dir / f"{name}.json")
            if isinstance(result, str):
                meas[name].error = result
                print(f"  {name} failed: {result}\n{sample.stderr[-2000:]}", file=sys.stderr)
                continue
            found_ref, odd = result
            summary = compare_with_truth(found_ref, truth)
            if odd:
                what = "unmapped failure(s)" if name == BOUNCER else "rule error(s)"
                summary += f"; {odd} {what}"
            if truth is None and nc_ref is not None:
                differ = sum(len(found_ref[r] ^ nc_ref[r]) for r in REFERENCE_RULES)
                summary += (
                    "; the same models as normcheck"
                    if not differ
                    else f"; {differ} (rule, model) pair(s) differ from normcheck's"
                )
            row.findings[name] = summary

        for _ in range(runs):
            for name in names:
                m = meas[name]
                plan = plans[name]
                # the warm commands take a few tenths of a second, as much as the
                # machine's jitter: more samples of them, in the same rounds
                for _ in range(CHEAP_REPEATS if name in CHEAP else 1):
                    if m.error is not None:
                        break
                    if plan.fresh_cache is not None:
                        with tempfile.TemporaryDirectory(prefix="normcheck-bench-cache-") as fresh:
                            env = _cache_env(plan.fresh_cache, fresh)
                            sample = runner.run(plan.argv, env, plan.cwd)
                    else:
                        sample = runner.run(plan.argv, plan.env, plan.cwd)
                    _record(name, m, sample, manifest, plan.ok_codes)
            if sql:
                seconds = sqlglot_floor(runner, normcheck, manifest, project_dir)
                if seconds is not None and seconds > 0 and row.models:
                    row.sqlglot_rates.append(row.models / seconds)  # per model, as normcheck's
        for cache_dir, before in snapshots.items():
            if _cache_snapshot(cache_dir) != before:
                which = "SQL " if cache_dir == str(sql_cache) else ""
                row.problems.append(
                    f"the warm {which}runs rewrote the primed cache (a cache miss: they "
                    "evaluated the whole project instead of reading the cache)"
                )
    for problem in row.problems:
        print(f"  {problem}", file=sys.stderr)


def sqlglot_floor(
    runner: Runner, normcheck: Normcheck, manifest: Path, project_dir: Path
) -> float | None:
    """Seconds sqlglot alone takes to parse the rendered SQL on two processes
    (``benchmarks/sqlglot_floor.py``, normcheck's code for the rendering)."""
    env = {**os.environ, **normcheck.env}
    done = subprocess.run(
        [sys.executable, str(SQLGLOT_FLOOR), str(manifest)],
        env=env,
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=runner.timeout,
        check=False,
    )
    try:
        return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
    except (ValueError, KeyError, IndexError):
        print(f"  sqlglot floor failed: {done.stderr[-2000:]}", file=sys.stderr)
        return None


def _record(
    name: str, meas: Measurement, sample: Sample, manifest: Path, ok_codes: tuple[int, ...]
) -> None:
    if sample.returncode not in ok_codes or sample.timed_out:
        meas.error = _reason(sample)
        print(
            f"  {name} failed on {manifest.name} ({meas.error}); "
            f"stderr:\n{sample.stderr.rstrip()[-2000:] or '(empty)'}",
            file=sys.stderr,
        )
        return
    meas.samples.append(sample)
    print(
        f"  {name:<11} run {len(meas.samples)}: {sample.wall_s:7.2f} s "
        f"{_mb(sample.maxrss_bytes):>6} MB",
        file=sys.stderr,
    )


# ----------------------------------------------------------------- profiling


def profile_cold(
    venv: SideVenv, normcheck: Normcheck, manifest: Path, project_dir: Path, out: Path
) -> list[str]:
    """Sample one cold run with py-spy and list the normcheck functions it spent time in."""
    with tempfile.TemporaryDirectory(prefix="normcheck-bench-cache-") as fresh:
        cmd = [
            str(venv.bin("py-spy")),
            "record",
            "--nonblocking",
            "--rate",
            "100",
            "--format",
            "raw",
            "--output",
            str(out),
            "--",
            *_check_cmd(normcheck, manifest, project_dir),
        ]
        start = time.perf_counter()
        proc = subprocess.run(
            cmd,
            env=_cache_env(normcheck, fresh),
            cwd=project_dir,
            capture_output=True,
            check=False,
        )
        wall = time.perf_counter() - start
    if proc.returncode != 0 or not out.exists():
        reason = _text(proc.stderr).strip().splitlines()[-1:] or ["(no stderr)"]
        return [f"py-spy failed (exit {proc.returncode}): {reason[0]}"]
    return summarize_profile(out.read_text(encoding="utf-8"), wall, manifest)


def _frame(raw: str) -> str:
    """``func (path/file.py:12)`` -> ``func (path/file.py)``: a function, not a line."""
    return re.sub(r":\d+\)$", ")", raw.strip())


def summarize_profile(raw: str, wall: float, manifest: Path) -> list[str]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    children: dict[str, Counter[str]] = {}
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";") if f.strip()]
        for frame in dict.fromkeys(frames):
            inclusive[frame] += n
        for parent, child in itertools.pairwise(frames):
            if parent != child:
                children.setdefault(parent, Counter())[child] += n
        if frames:
            own[frames[-1]] += n
    if not total:
        return ["py-spy recorded no samples."]

    def pct(n: int) -> str:
        return f"{100 * n / total:.1f}%"

    lines = [
        f"One extra cold run on `{manifest.name}` under `py-spy record --nonblocking --rate "
        f"100` (not part of the timings above): {wall:.1f} s wall with py-spy, {total} samples.",
        "",
        "| normcheck function (inclusive; wrappers that pass nearly all on are left out) "
        "| share of samples |",
        "|---|---:|",
    ]

    def passes_through(frame: str) -> bool:
        """A wrapper: one callee accounts for nearly all of its samples."""
        callees = children.get(frame)
        return bool(callees) and max(callees.values()) >= 0.95 * inclusive[frame]

    shown = [
        (frame, n)
        for frame, n in inclusive.most_common()
        if "normcheck/" in frame and not passes_through(frame) and n >= 0.01 * total
    ][:14]
    lines += [f"| `{frame}` | {pct(n)} |" for frame, n in shown]
    lines += ["", "| function (self time) | share of samples |", "|---|---:|"]
    lines += [f"| `{frame or '(unknown)'}` | {pct(n)} |" for frame, n in own.most_common(10)]
    return lines


# ----------------------------------------------------------------- reporting


def _mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:.0f}"


def _cell(meas: Measurement) -> str:
    if not meas.ok:
        return f"FAILED ({meas.error})" if meas.error != "not run" else "—"
    return f"{meas.wall_s:.2f} s / {_mb(meas.maxrss_bytes)} MB"


def _time_ratio(meas: Measurement, base: Measurement) -> float | None:
    return meas.wall_s / base.wall_s if meas.ok and base.ok else None


def _memory_ratio(meas: Measurement, base: Measurement) -> float | None:
    return meas.maxrss_bytes / base.maxrss_bytes if meas.ok and base.ok else None


def _x(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}x"


def _rate(row: Row, name: str) -> float | None:
    m = row.get(name)
    return row.models / m.wall_s if m.ok and row.models else None


def _models(row: Row) -> str:
    return f"{row.models:,}" if row.models is not None else "?"


def render_table(rows: Sequence[Row]) -> str:
    lines = [
        "| manifest | size MB | models | floor | normcheck cold | cold, reference rules "
        "| warm | pre-commit (3 files) | SQL cold | SQL models/s | SQL warm | dbt-bouncer "
        "| dbt-score |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        rate = _rate(row, SQL_COLD)
        lines.append(
            f"| {row.label} | {row.size_bytes / 1e6:.1f} | {_models(row)} "
            f"| {_cell(row.get(FLOOR))} | {_cell(row.get(COLD))} | {_cell(row.get(REFERENCE))} "
            f"| {_cell(row.get(WARM))} "
            f"| {_cell(row.get(PRECOMMIT))} | {_cell(row.get(SQL_COLD))} "
            f"| {'—' if rate is None else f'{rate:,.0f}'} | {_cell(row.get(SQL_WARM))} "
            f"| {_cell(row.get(BOUNCER))} | {_cell(row.get(SCORE))} |"
        )
    return "\n".join(lines)


def render_ratios(rows: Sequence[Row]) -> str:
    lines = [
        "| manifest | cold/floor time | cold/floor memory | warm/floor time "
        "| pre-commit/floor time | SQL cold/cold time | SQL warm/warm time "
        "| dbt-bouncer/cold time (speedup) | dbt-bouncer/reference-rules time (speedup) "
        "| dbt-score/cold time (speedup) | dbt-score/reference-rules time (speedup) "
        "| dbt-bouncer/cold memory | dbt-bouncer/floor time |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        floor, cold = row.get(FLOOR), row.get(COLD)
        lines.append(
            f"| {row.label} | {_x(_time_ratio(cold, floor))} "
            f"| {_x(_memory_ratio(cold, floor))} | {_x(_time_ratio(row.get(WARM), floor))} "
            f"| {_x(_time_ratio(row.get(PRECOMMIT), floor))} "
            f"| {_x(_time_ratio(row.get(SQL_COLD), cold))} "
            f"| {_x(_time_ratio(row.get(SQL_WARM), row.get(WARM)))} "
            f"| {_x(_time_ratio(row.get(BOUNCER), cold))} "
            f"| {_x(_time_ratio(row.get(BOUNCER), row.get(REFERENCE)))} "
            f"| {_x(_time_ratio(row.get(SCORE), cold))} "
            f"| {_x(_time_ratio(row.get(SCORE), row.get(REFERENCE)))} "
            f"| {_x(_memory_ratio(row.get(BOUNCER), cold))} "
            f"| {_x(_time_ratio(row.get(BOUNCER), floor))} |"
        )
    return "\n".join(lines)


def _verdict(ratio: float | None, limit: float, at_least: bool = False) -> str:
    if ratio is None:
        return "not measured"
    ok = ratio >= limit if at_least else ratio <= limit
    return f"{ratio:.2f}x ({'ok' if ok else 'short' if at_least else 'over'})"


def _met(flag: bool | None) -> str:
    return "not measured" if flag is None else "MET" if flag else "NOT MET"


def _all_ok(*checks: tuple[float | None, float, bool]) -> bool | None:
    """``checks`` of (value, limit, at_least): None if any is missing."""
    if any(value is None for value, _, _ in checks):
        return None
    return all(
        (value >= limit) if at_least else (value <= limit)
        for value, limit, at_least in checks
        if value is not None
    )


def _synth(rows: Sequence[Row], size: int) -> Row | None:
    return next((r for r in rows if r.synth_size == size), None)


def memory_fit(rows: Sequence[Row], name: str = COLD) -> tuple[float | None, list[str]]:
    """Exponent b of peak RSS ~ a * models^b (least squares in log space, synthetic
    manifests) and a table of memory per model."""
    points = sorted(
        (r.synth_size, r.get(name).maxrss_bytes)
        for r in rows
        if r.synth_size is not None and r.get(name).ok
    )
    lines = [
        "| models | floor MB | normcheck cold MB | cold MB per 1,000 models "
        "| added MB per 1,000 added models | warm MB | dbt-bouncer MB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    previous: tuple[int, float] | None = None
    for size, rss in points:
        row = _synth(rows, size)
        assert row is not None
        marginal = (
            f"{(rss - previous[1]) / 1e6 / ((size - previous[0]) / 1000):.1f}"
            if previous is not None
            else "—"
        )
        floor, warm, bouncer = row.get(FLOOR), row.get(WARM), row.get(BOUNCER)
        lines.append(
            f"| {size:,} | {_mb(floor.maxrss_bytes) if floor.ok else '—'} | {_mb(rss)} "
            f"| {rss / 1e6 / (size / 1000):.1f} | {marginal} "
            f"| {_mb(warm.maxrss_bytes) if warm.ok else '—'} "
            f"| {_mb(bouncer.maxrss_bytes) if bouncer.ok else '—'} |"
        )
        previous = (size, rss)
    if len(points) < 2:
        return None, lines
    xs = [math.log(size) for size, _ in points]
    ys = [math.log(rss) for _, rss in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    return slope, lines


def _marginal_growth(rows: Sequence[Row]) -> float | None:
    """Memory per added model in the last interval of synthetic sizes over the interval
    before it: above 1, each added model costs more than the ones before."""
    points = sorted(
        (r.synth_size, r.get(COLD).maxrss_bytes)
        for r in rows
        if r.synth_size is not None and r.get(COLD).ok
    )
    if len(points) < 3:
        return None
    (n0, m0), (n1, m1), (n2, m2) = points[-3:]
    before = (m1 - m0) / (n1 - n0)
    last = (m2 - m1) / (n2 - n1)
    return last / before if before > 0 else None


def target_lines(rows: Sequence[Row]) -> list[str]:
    lines = []
    row = _synth(rows, TARGET_SIZE)
    goal_a = (
        f"Target (a), issue #8 ({TARGET_SIZE:,} models, cold, default rule set without SQL: "
        f"<= {COLD_TIME_TARGET:.1f}x floor wall time, <= {COLD_MEMORY_TARGET:.1f}x floor peak "
        f"memory, >= {BOUNCER_SPEEDUP_TARGET:.0f}x faster than dbt-bouncer in the same run)"
    )
    goal_b = (
        f"Target (b), issue #8 ({TARGET_SIZE:,} models, warm, nothing changed: "
        f"<= {WARM_TIME_TARGET:.1f}x floor wall time)"
    )
    if row is None:
        lines += [f"{goal_a}: not measured (add {TARGET_SIZE} to --sizes).", ""]
        lines += [f"{goal_b}: not measured.", ""]
    else:
        floor, cold = row.get(FLOOR), row.get(COLD)
        t, m = _time_ratio(cold, floor), _memory_ratio(cold, floor)
        # the peers run the reference rule set: the like-for-like speedup is over
        # normcheck's equivalent of it ("equivalent rule sets", issue #8); the speedup
        # over normcheck's whole default set (five times the rules, columns too) is
        # given beside it and must be read as the harder test
        speedup = _time_ratio(row.get(BOUNCER), row.get(REFERENCE))
        default_speedup = _time_ratio(row.get(BOUNCER), cold)
        met = _all_ok(
            (t, COLD_TIME_TARGET, False),
            (m, COLD_MEMORY_TARGET, False),
            (speedup, BOUNCER_SPEEDUP_TARGET, True),
        )
        bouncer_note = (
            f"dbt-bouncer takes {_verdict(speedup, BOUNCER_SPEEDUP_TARGET, at_least=True)} "
            "the time of normcheck with the same reference rules; with normcheck's whole "
            f"default set it takes {_verdict(default_speedup, BOUNCER_SPEEDUP_TARGET, True)} "
            "normcheck's time"
            if speedup is not None and default_speedup is not None
            else f"dbt-bouncer not measured ({row.get(BOUNCER).error or 'use --peers'})"
        )
        lines += [
            f"{goal_a}: **{_met(met)}** — time {_verdict(t, COLD_TIME_TARGET)}, memory "
            f"{_verdict(m, COLD_MEMORY_TARGET)}, {bouncer_note}.",
            "",
        ]
        w = _time_ratio(row.get(WARM), floor)
        p = _time_ratio(row.get(PRECOMMIT), floor)
        warm_met = None if w is None else (w <= WARM_TIME_TARGET and not row.problems)
        note = " — but its output or cache use is wrong, see below" if row.problems else ""
        lines += [
            f"{goal_b}: **{_met(warm_met)}** — time {_verdict(w, WARM_TIME_TARGET)}{note}. "
            f"(Pre-commit, 3 changed files, warm: {_verdict(p, WARM_TIME_TARGET)}.)",
            "",
        ]
    large = _synth(rows, LARGE_SIZE)
    goal_c = (
        f"Target (c), issue #8 ({LARGE_SIZE:,} models completes within "
        f"{MEMORY_LIMIT_BYTES / 1024**3:.0f} GiB; memory grows no faster than linearly: fitted "
        f"exponent of cold peak RSS against models <= {LINEAR_EXPONENT_LIMIT}, and the memory "
        f"per added model in the last size interval <= {MARGINAL_GROWTH_LIMIT}x the interval "
        "before)"
    )
    exponent, _ = memory_fit(rows)
    growth = _marginal_growth(rows)
    if large is None:
        lines += [f"{goal_c}: not measured (add {LARGE_SIZE} to --sizes).", ""]
    else:
        runs = [large.get(n) for n in NORMCHECK_COMMANDS if n in large.meas]
        failed = [n for n in NORMCHECK_COMMANDS if n in large.meas and not large.get(n).ok]
        peak = max((max(s.maxrss_bytes for s in m.samples) for m in runs if m.samples), default=0)
        fits = not failed and 0 < peak <= MEMORY_LIMIT_BYTES
        met = (
            None
            if exponent is None or growth is None
            else fits and exponent <= LINEAR_EXPONENT_LIMIT and growth <= MARGINAL_GROWTH_LIMIT
        )
        completes = (
            f"every normcheck run completed, highest peak {peak / 1024**3:.2f} GiB"
            if not failed
            else f"FAILED: {', '.join(f'{n} ({large.get(n).error})' for n in failed)}"
        )
        lines += [
            f"{goal_c}: **{_met(met)}** — {completes}; exponent "
            f"{'—' if exponent is None else f'{exponent:.2f}'}, last interval "
            f"{'—' if growth is None else f'{growth:.2f}x'} the one before (table below).",
            "",
        ]
    sql_row = _synth(rows, SQL_TARGET_SIZE)
    goal_sql = (
        f"Target, issue #4 ({SQL_TARGET_SIZE:,} models, SQL path `normcheck:recommended`: cold "
        f">= {SQL_RATE_TARGET:,.0f} models/s, whole process; warm SQL run with nothing "
        f"changed <= {SQL_WARM_TARGET}x the metadata-only warm run)"
    )
    if sql_row is None:
        lines.append(f"{goal_sql}: not measured (add {SQL_TARGET_SIZE} to --sizes).")
    else:
        rate = _rate(sql_row, SQL_COLD)
        ratio = _time_ratio(sql_row.get(SQL_WARM), sql_row.get(WARM))
        met = _all_ok((rate, SQL_RATE_TARGET, True), (ratio, SQL_WARM_TARGET, False))
        rate_text = (
            "not measured"
            if rate is None
            else f"{rate:,.0f} models/s ({'ok' if rate >= SQL_RATE_TARGET else 'short'})"
        )
        floor = _sqlglot(sql_row)
        lines.append(
            f"{goal_sql}: **{_met(met)}** — cold {rate_text}, warm "
            f"{_verdict(ratio, SQL_WARM_TARGET)}. For scale: sqlglot alone, parsing the same "
            f"models' rendered SQL on two processes and nothing else, manages {floor} models/s "
            "in this run (`benchmarks/sqlglot_floor.py`)."
        )
    return lines


def sql_lines(rows: Sequence[Row]) -> list[str]:
    lines = [
        "| manifest | models | SQL cold s | models/s (whole process) "
        "| models/s over the metadata-only cold run | sqlglot alone, 2 processes: models/s "
        "| SQL warm / warm | what the SQL run did |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        sql_cold, cold = row.get(SQL_COLD), row.get(COLD)
        rate = _rate(row, SQL_COLD)
        extra = (
            f"{row.models / (sql_cold.wall_s - cold.wall_s):,.0f}"
            if sql_cold.ok and cold.ok and row.models and sql_cold.wall_s > cold.wall_s
            else "—"
        )
        lines.append(
            f"| {row.label} | {_models(row)} "
            f"| {f'{sql_cold.wall_s:.2f}' if sql_cold.ok else _cell(sql_cold)} "
            f"| {'—' if rate is None else f'{rate:,.0f}'} | {extra} | {_sqlglot(row)} "
            f"| {_x(_time_ratio(row.get(SQL_WARM), row.get(WARM)))} | {row.sql_stats or '—'} |"
        )
    return lines


def _sqlglot(row: Row) -> str:
    rates = row.sqlglot_rates
    return f"{statistics.median(rates):,.0f}" if rates else "—"


def findings_lines(rows: Sequence[Row]) -> list[str]:
    lines = [
        "| manifest | normcheck (default set, equivalent rules on models) | dbt-bouncer "
        "| dbt-score |",
        "|---|---|---|---|",
    ]
    for row in rows:
        cells = []
        for tool in ("normcheck", BOUNCER, SCORE):
            if tool in row.findings:
                cells.append(row.findings[tool])
            elif tool in row.meas and row.meas[tool].error:
                cells.append(f"FAILED ({row.meas[tool].error})")
            else:
                cells.append("—")
        lines.append(f"| {row.label} | {' | '.join(cells)} |")
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
        for name, meas in row.meas.items():
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


def _memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return "RAM unknown"


def _load() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def _load_text(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in load)


@dataclass(frozen=True)
class Context:
    """What the report says about the run itself."""

    argv: Sequence[str]
    runs: int
    method: str
    load_start: tuple[float, float, float]
    normcheck: Normcheck
    peers: dict[str, str]  # distribution -> version, empty without --peers
    started: str
    elapsed_s: float = 0.0


def environment_lines(ctx: Context) -> list[str]:
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    peers = (
        ", ".join(f"{dist} {version}" for dist, version in ctx.peers.items())
        + " (separate venv `benchmarks/.work/peers-venv`)"
        if ctx.peers
        else "not run (no `--peers`)"
    )
    return [
        f"- date: {ctx.started} (the run took {ctx.elapsed_s / 60:.0f} min)",
        f"- command: `{shlex.join(ctx.argv)}`",
        f"- machine: {platform.system()} {platform.machine()}, nproc {nproc}, {_cpu_model()}, "
        f"{_memory_total()}",
        f"- load average (1 / 5 / 15 min): {_load_text(ctx.load_start)} at the start, "
        f"{_load_text(_load())} at the end (the machine may be shared with other work; the "
        "1-minute load before each manifest is in the last table)",
        f"- python: {platform.python_version()} ({sys.executable})",
        f"- normcheck {_version('normcheck')}, git {ctx.normcheck.revision} when the run "
        f"started, msgspec {_version('msgspec')}, orjson {_version('orjson')}, sqlglot "
        f"{_version('sqlglot')}",
        f"- normcheck code: {ctx.normcheck.note}"
        + (f"; {drift}" if (drift := code_drift(ctx.normcheck)) else ""),
        f"- peers: {peers}",
        f"- method: median of {ctx.runs} runs per cell ({ctx.runs * CHEAP_REPEATS} for the "
        "warm, pre-commit and SQL warm commands, which take tenths of a second), all "
        "commands interleaved round by "
        f"round, wall clock of the whole process; peak RSS via "
        f"{'GNU time %M' if ctx.method == 'time' else 'os.wait4 ru_maxrss'}",
    ]


def build_report(rows: Sequence[Row], ctx: Context, profile: Sequence[str]) -> str:
    exponent, memory_table = memory_fit(rows)
    sections = [
        "# normcheck check vs. the orjson floor and its peers",
        "",
        *environment_lines(ctx),
        "",
        "- floor: a fresh interpreter doing `orjson.loads(open(path, 'rb').read())`.",
        "- normcheck cold: `normcheck check --manifest M --project-dir D --format json -q "
        "--fail-on never` with the default rule set (`normcheck:default`, metadata rules only; "
        "`D` an empty directory and the working directory) and a fresh, empty "
        "`NORMCHECK_CACHE_DIR` per run.",
        "- cold, reference rules: the cold command with `--config "
        "benchmarks/normcheck-reference.yml`, normcheck's equivalent of the peers' reference "
        "rule set (the same four checks, on models; no rule judges columns, so normcheck "
        "builds none): the like-for-like comparison with the peers.",
        "- warm: the same command, manifest unchanged, cache primed by one untimed "
        "whole-project run.",
        f"- pre-commit: the warm command plus {CHANGED_FILES} model files of the root project "
        "as relative paths.",
        "- SQL cold / SQL warm: the cold / warm command with `--config "
        "benchmarks/normcheck-recommended.yml` (`extends: [normcheck:recommended]`: the rules "
        "that parse each model's SQL are on); SQL warm's cache was primed by one untimed SQL "
        "run.",
        "- dbt-bouncer / dbt-score: the reference rule set of `shared/bench/README.md` (model "
        "names snake_case and layer prefixes, owner present, description present): "
        "`benchmarks/peers/dbt-bouncer.yml`, `benchmarks/peers/dbt-score/`. Compared with "
        "normcheck cold, whose default set is about 20 metadata rules over every resource "
        "and column, the comparison favours them; compared with the reference-rules run, it "
        "is like for like.",
        "",
        "## Figures (wall time / peak RSS, median)",
        "",
        render_table(rows),
        "",
        "## Ratios",
        "",
        "Speedup columns: the peer's wall time over normcheck's, cold with the default set or "
        "with the reference rules (above 1: normcheck is faster).",
        "",
        render_ratios(rows),
        "",
        "## Targets",
        "",
        *target_lines(rows),
        "",
        "## Memory against model count (synthetic manifests)",
        "",
        f"Fitted exponent b of cold peak RSS ~ a * models^b over the synthetic sizes: "
        f"{'—' if exponent is None else f'{exponent:.2f}'} (1.0 is linear; the fixed cost of "
        "the interpreter pulls it below 1, so the added cost per added model is the sharper "
        "test).",
        "",
        *memory_table,
        "",
        "## The SQL path",
        "",
        "Models per second are per model in the manifest, package models included (tuva: "
        "15 of its 737 models are SQL models of the root project, the only ones parsed). "
        "sqlglot alone: `benchmarks/sqlglot_floor.py`, the root project's models rendered "
        "as normcheck renders them (untimed), then only `sqlglot.parse` of each, on two "
        "forked processes, once per round (median): no SQL path parses faster.",
        "",
        *sql_lines(rows),
        "",
        "## Did every tool run the rules?",
        "",
        "On the synthetic manifests, compared with the injected violations of the four "
        "reference rules (`manifest_N.truth.json`); on the real ones, the counts. normcheck's "
        "equivalents: `naming/name-case`, `naming/model-prefix`, `ownership/missing-owner`, "
        "`docs/missing-description` (model findings of the priming run).",
        "",
        *findings_lines(rows),
        "",
        "## The three changed files",
        "",
        "Each 3-file run's findings compared with the whole-project run's findings for "
        "those models (and their columns).",
        "",
        *scope_lines(rows),
        "",
    ]
    if profile:
        sections += ["## Where the time goes (cold, py-spy)", "", *profile, ""]
    sections += ["## Runs", "", render_samples(rows), ""]
    return "\n".join(sections)


def plot_data(rows: Sequence[Row], ctx: Context) -> dict[str, object]:
    """Every median of the synthetic manifests, for plot_scaling.py and later comparison."""
    series: dict[str, list[list[float]]] = {}
    for row in sorted((r for r in rows if r.synth_size), key=lambda r: r.synth_size or 0):
        for name, meas in row.meas.items():
            if meas.ok and row.models:
                series.setdefault(name, []).append(
                    [row.models, meas.wall_s, meas.maxrss_bytes / 1e6]
                )
    real = {
        row.label: {name: [m.wall_s, m.maxrss_bytes / 1e6] for name, m in row.meas.items() if m.ok}
        for row in rows
        if not row.synth_size
    }
    return {
        "title": f"normcheck check vs. orjson floor and peers — {ctx.started[:10]}, "
        f"{platform.machine()}, nproc {os.cpu_count()}, median of {ctx.runs}",
        "series": series,
        "real": real,
    }


def write_plot(venv: SideVenv, data_path: Path, out: Path) -> None:
    proc = subprocess.run(
        [str(venv.python), str(PLOT_SCRIPT), str(data_path), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        print(f"plotting failed:\n{proc.stderr}", file=sys.stderr)
    else:
        print(f"wrote {out}", file=sys.stderr)


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
    parser.add_argument(
        "--peers",
        action="store_true",
        help="also time dbt-bouncer and dbt-score (installed into --side-venv if missing)",
    )
    parser.add_argument("--no-sql", action="store_true", help="skip the SQL path")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="profile one cold run on the N-model synthetic manifest with py-spy",
    )
    parser.add_argument("--write", type=Path, help="also write the report to this Markdown file")
    parser.add_argument(
        "--plot",
        type=Path,
        help="write the scaling plot here (default with --write: scaling.png beside it)",
    )
    parser.add_argument("--no-plot", action="store_true", help="no plot")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument(
        "--side-venv",
        type=Path,
        help="virtual environment for the peers, matplotlib and py-spy "
        "(default: WORK_DIR/peers-venv)",
    )
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
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds before a run is killed and its cell marked (default {DEFAULT_TIMEOUT:.0f})",
    )
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
    if args.profile is not None and args.profile not in args.sizes:
        parser.error("--profile N needs N among --sizes")
    args.work_dir = args.work_dir.absolute()
    args.shared_dir = args.shared_dir.absolute()
    args.side_venv = (args.side_venv or args.work_dir / "peers-venv").absolute()
    if args.plot is None and args.write is not None and not args.no_plot:
        args.plot = args.write.parent / "scaling.png"
    if args.no_plot:
        args.plot = None
    return args


def _shown(path: str) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def _targets(args: argparse.Namespace) -> Iterator[tuple[str, Path, int | None]]:
    base = unpack_real(SYNTH_BASE, args.work_dir, args.shared_dir)
    if not args.no_real:
        for name in REAL_MANIFESTS:
            yield name, unpack_real(name, args.work_dir, args.shared_dir), None
    for n in args.sizes:
        path = ensure_synth(n, base, args.work_dir, args.shared_dir)
        yield f"synthetic {n:,} models", path, n


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import orjson  # noqa: F401
    except ImportError:
        print("orjson is required: run this with the project's .venv python", file=sys.stderr)
        return 2
    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    load_start = _load()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    runner = Runner(Runner.pick(args.rss), args.timeout)
    wanted = [
        *(PEER_PACKAGES if args.peers else ()),
        *(("matplotlib",) if args.plot else ()),
        *(("py-spy",) if args.profile else ()),
    ]
    venv = ensure_side_venv(args.side_venv, wanted) if wanted else None
    peers = {dist: venv.version(dist) for dist in PEER_PACKAGES} if venv and args.peers else {}
    targets = list(_targets(args))  # generate what is missing before timing anything

    rows: list[Row] = []
    profile: list[str] = []
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
            row = Row(
                label,
                path,
                path.stat().st_size,
                inspect_manifest(path),
                {},
                synth_size,
                load_before=load_before,
            )
            measure(
                runner,
                row,
                normcheck,
                project_dir,
                args.runs,
                venv if args.peers else None,
                not args.no_sql,
            )
            rows.append(row)
        if args.profile is not None and venv is not None:
            path = next(p for _, p, n in targets if n == args.profile)
            print(f"profiling a cold run on {path.name} ...", file=sys.stderr)
            profile = profile_cold(
                venv, normcheck, path, project_dir, args.work_dir / "profile-cold.txt"
            )
        ctx = Context(
            [_shown(sys.executable), *sys.argv] if argv is None else ["bench_check.py", *argv],
            args.runs,
            runner.method,
            load_start,
            normcheck,
            peers,
            started,
            time.perf_counter() - t0,
        )
        report = build_report(rows, ctx, profile)
        data_path = args.work_dir / "bench-results.json"
        data_path.write_text(json.dumps(plot_data(rows, ctx), indent=1), encoding="utf-8")
    print(report)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(report, encoding="utf-8")
        print(f"wrote {args.write}", file=sys.stderr)
    if args.plot and venv is not None:
        write_plot(venv, data_path, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
