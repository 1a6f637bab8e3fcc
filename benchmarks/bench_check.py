"""Benchmark ``normcheck check`` against the cost of merely reading the manifest.

For every manifest, two whole processes are timed (wall clock, median of ``--runs``)
and their peak resident set size is measured:

* the *floor*: a fresh interpreter that does ``orjson.loads(open(path, "rb").read())``
  and nothing else (interpreter start included);
* ``normcheck check --manifest M --project-dir D --format json -q --fail-on never``
  with the default rule set (``D`` is an empty temporary directory, so no
  ``normcheck.yml`` is read and no ``catalog.json`` sits next to the manifest).

normcheck keeps a warm-run cache of findings. By default (``--cache cold``) every
normcheck run gets a fresh, empty ``NORMCHECK_CACHE_DIR``, so each run is a first run
(it evaluates everything and writes the cache). ``--cache off`` passes ``--no-cache``;
``--cache warm`` primes one cache per manifest with an untimed run and times cache hits.
The benchmark never touches the user's own cache directory.

Manifests: the two real ones from ``/work/shared/corpus/dbt`` (ol-data-platform, tuva;
unpacked into ``benchmarks/.work/``) and synthetic ones scaled from ol-data-platform by
``/work/shared/bench/synth_manifest.py`` (generated into ``benchmarks/.work/`` only if
missing; the 20,000-model manifest is about 580 MB and takes about a minute to build).

Run it with the project's virtual environment (it needs orjson, and uses the
``normcheck`` script next to the interpreter)::

    .venv/bin/python benchmarks/bench_check.py                      # 1000,5000,20000 models
    .venv/bin/python benchmarks/bench_check.py --sizes 1000 --runs 5
    .venv/bin/python benchmarks/bench_check.py --write benchmarks/RESULTS.md

Peak memory comes from GNU ``/usr/bin/time -f %M`` when available; otherwise a small
wrapper interpreter spawns the command and reads the child's ``ru_maxrss`` with
``os.wait4``. (The wrapper matters: on Linux a child's ``ru_maxrss`` includes the
high-water mark of the process that spawned it -- ``python -c pass`` spawned from a
1.5 GB parent reports 1.5 GB -- so the process that spawns the measured one must be small.)

The issue's target is met when, on the 20,000-model manifest, normcheck takes at most
1.0x the floor's wall time and at most 1.0x its peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
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
CORPUS_DIR = Path("/work/shared/corpus/dbt")
REAL_MANIFESTS = ("ol-data-platform", "tuva")
SYNTH_SCRIPT = Path("/work/shared/bench/synth_manifest.py")
SYNTH_BASE = "ol-data-platform"
SYNTH_SEED = 7
DEFAULT_SIZES = (1000, 5000, 20000)
TARGET_SIZE = 20000
GNU_TIME = Path("/usr/bin/time")
CACHE_MODES = ("cold", "off", "warm")
CACHE_NOTES = {
    "cold": "a fresh, empty NORMCHECK_CACHE_DIR per run (every run evaluates and writes the cache)",
    "off": "`--no-cache`",
    "warm": "a NORMCHECK_CACHE_DIR primed by one untimed run (cache hits)",
}

FLOOR_CODE = "import orjson, sys\norjson.loads(open(sys.argv[1], 'rb').read())\n"
COUNT_CODE = (
    "import orjson, sys\n"
    "nodes = orjson.loads(open(sys.argv[1], 'rb').read()).get('nodes', {})\n"
    "print(sum(1 for n in nodes.values() if n.get('resource_type') == 'model'))\n"
)
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


@dataclass
class Row:
    label: str
    path: Path
    size_bytes: int
    models: int | None
    floor: Measurement
    normcheck: Measurement
    synth_size: int | None = None


class Runner:
    """Spawns a command and measures its wall time and peak RSS."""

    def __init__(self, method: str) -> None:
        self.method = method

    @staticmethod
    def pick(requested: str) -> str:
        if requested != "auto":
            return requested
        return "time" if _gnu_time_works() else "wait4"

    def run(self, argv: Sequence[str], env: dict[str, str] | None = None) -> Sample:
        if self.method == "time":
            return self._run_time(argv, env)
        return self._run_wrapper(argv, env)

    def _run_time(self, argv: Sequence[str], env: dict[str, str] | None) -> Sample:
        with tempfile.NamedTemporaryFile("w+", suffix=".time", delete=False) as out:
            time_path = Path(out.name)
        try:
            cmd = [str(GNU_TIME), "-f", "%M", "-o", str(time_path), *argv]
            start = time.perf_counter()
            proc = subprocess.run(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False
            )
            wall = time.perf_counter() - start
            lines = time_path.read_text(encoding="utf-8").split()
        finally:
            time_path.unlink(missing_ok=True)
        maxrss_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        return Sample(proc.returncode, wall, maxrss_kb * 1024, _text(proc.stderr))

    def _run_wrapper(self, argv: Sequence[str], env: dict[str, str] | None) -> Sample:
        cmd = [sys.executable, "-c", WRAPPER_CODE, *argv]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
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


# ----------------------------------------------------------------- manifests


def unpack_real(name: str, work_dir: Path) -> Path:
    out = work_dir / f"{name}.json"
    if not out.exists():
        src = CORPUS_DIR / name / "manifest.json.gz"
        print(f"unpacking {src} -> {out}", file=sys.stderr)
        tmp = out.with_suffix(".json.tmp")
        with gzip.open(src, "rb") as fin, tmp.open("wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
        tmp.replace(out)
    return out


def ensure_synth(models: int, base: Path, work_dir: Path) -> Path:
    out = work_dir / f"manifest_{models}.json"
    if not out.exists():
        print(f"generating {out} (may take minutes)", file=sys.stderr)
        cmd = [
            sys.executable,
            str(SYNTH_SCRIPT),
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


def count_models(path: Path) -> int | None:
    """Model nodes in the manifest, counted in a child so this process stays small."""
    proc = subprocess.run(
        [sys.executable, "-c", COUNT_CODE, str(path)], capture_output=True, check=False
    )
    out = _text(proc.stdout).strip()
    return int(out) if proc.returncode == 0 and out.isdigit() else None


def warm_page_cache(path: Path) -> None:
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


# ----------------------------------------------------------------- measuring


def _cache_env(cache_dir: str) -> dict[str, str]:
    return {**os.environ, "NORMCHECK_CACHE_DIR": cache_dir}


def measure(
    runner: Runner,
    manifest: Path,
    normcheck: Path,
    project_dir: Path,
    runs: int,
    cache: str,
) -> tuple[Measurement, Measurement]:
    """Floor and normcheck runs, interleaved so drift hits both alike."""
    floor_cmd = [sys.executable, "-c", FLOOR_CODE, str(manifest)]
    check_cmd = [
        str(normcheck),
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
        *(["--no-cache"] if cache == "off" else []),
    ]
    floor, check = Measurement(), Measurement()
    warm_page_cache(manifest)
    with tempfile.TemporaryDirectory(prefix="normcheck-bench-cache-") as shared_cache:
        if cache == "warm":
            runner.run(check_cmd, _cache_env(shared_cache))
        for _ in range(runs):
            for name, meas in (("floor", floor), ("normcheck", check)):
                if meas.error is not None:
                    continue
                if name == "floor":
                    sample = runner.run(floor_cmd)
                elif cache == "warm":
                    sample = runner.run(check_cmd, _cache_env(shared_cache))
                else:
                    with tempfile.TemporaryDirectory(prefix="normcheck-bench-cache-") as fresh:
                        sample = runner.run(check_cmd, _cache_env(fresh))
                _record(name, meas, sample, manifest)
    return floor, check


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
        f"  {name:<9} run {len(meas.samples)}: {sample.wall_s:6.2f} s "
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


def _ratios(row: Row) -> tuple[float, float] | None:
    if not (row.floor.ok and row.normcheck.ok):
        return None
    return (
        row.normcheck.wall_s / row.floor.wall_s,
        row.normcheck.maxrss_bytes / row.floor.maxrss_bytes,
    )


def render_table(rows: Sequence[Row]) -> str:
    lines = [
        "| manifest | size MB | models | floor (orjson) s / MB | normcheck s / MB "
        "| ratio time | ratio memory |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratios = _ratios(row)
        rt, rm = (f"{ratios[0]:.2f}x", f"{ratios[1]:.2f}x") if ratios else ("—", "—")
        models = f"{row.models:,}" if row.models is not None else "?"
        lines.append(
            f"| {row.label} | {row.size_bytes / 1e6:.1f} | {models} | {_cell(row.floor)} "
            f"| {_cell(row.normcheck)} | {rt} | {rm} |"
        )
    return "\n".join(lines)


def target_line(rows: Sequence[Row]) -> str:
    row = next((r for r in rows if r.synth_size == TARGET_SIZE), None)
    goal = (
        f"Target ({TARGET_SIZE:,}-model manifest: normcheck <= 1.0x floor wall time "
        "and <= 1.0x floor peak memory)"
    )
    if row is None:
        return f"{goal}: not measured (add {TARGET_SIZE} to --sizes)."
    ratios = _ratios(row)
    if ratios is None:
        return f"{goal}: NOT MET — the run failed."
    time_ok, mem_ok = ratios[0] <= 1.0, ratios[1] <= 1.0
    verdict = "MET" if time_ok and mem_ok else "NOT MET"
    return (
        f"{goal}: {verdict} — time {ratios[0]:.2f}x ({'ok' if time_ok else 'over'}), "
        f"memory {ratios[1]:.2f}x ({'ok' if mem_ok else 'over'})."
    )


def render_samples(rows: Sequence[Row]) -> str:
    """Every run, so the spread behind each median is visible."""
    lines = ["| manifest | command | wall s per run | peak MB per run |", "|---|---|---|---|"]
    for row in rows:
        for name, meas in (("floor", row.floor), ("normcheck", row.normcheck)):
            walls = ", ".join(f"{s.wall_s:.2f}" for s in meas.samples) or "—"
            rss = ", ".join(_mb(s.maxrss_bytes) for s in meas.samples) or "—"
            failed = f" (then {meas.error})" if meas.error else ""
            lines.append(f"| {row.label} | {name} | {walls}{failed} | {rss} |")
    return "\n".join(lines)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"],
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
    return f"{rev}{' (src/ has uncommitted changes)' if dirty else ''}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment_lines(runs: int, method: str, cache: str) -> list[str]:
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {platform.system()} {platform.machine()}, nproc {nproc}, {_cpu_model()}",
        f"- python: {platform.python_version()} ({sys.executable})",
        f"- normcheck {_version('normcheck')} at git {_git_revision()}, "
        f"msgspec {_version('msgspec')}, orjson {_version('orjson')}",
        f"- method: median of {runs} runs per cell, wall clock of the whole process; peak RSS "
        f"via {'GNU time %M' if method == 'time' else 'os.wait4 ru_maxrss'}",
        f"- normcheck cache: {CACHE_NOTES[cache]}",
    ]


def write_report(
    path: Path,
    rows: Sequence[Row],
    table: str,
    target: str,
    runs: int,
    method: str,
    cache: str,
) -> None:
    text = "\n".join(
        [
            "# normcheck check vs. the orjson floor",
            "",
            *environment_lines(runs, method, cache),
            "",
            "Floor = a fresh interpreter doing `orjson.loads(open(path, 'rb').read())`. "
            "normcheck = `normcheck check --manifest M --project-dir <empty dir> --format json "
            "-q --fail-on never` with the default rule set.",
            "",
            table,
            "",
            target,
            "",
            "## Runs",
            "",
            render_samples(rows),
            "",
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


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
        "--normcheck",
        type=Path,
        default=Path(sys.executable).parent / "normcheck",
        help="normcheck executable (default: next to this interpreter)",
    )
    parser.add_argument("--rss", choices=("auto", "time", "wait4"), default="auto")
    parser.add_argument(
        "--cache",
        choices=CACHE_MODES,
        default="cold",
        help="normcheck's warm-run cache: fresh per run (cold, default), --no-cache (off), "
        "or primed once per manifest (warm)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if not args.normcheck.exists():
        parser.error(f"normcheck executable not found: {args.normcheck}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import orjson  # noqa: F401
    except ImportError:
        print("orjson is required: run this with the project's .venv python", file=sys.stderr)
        return 2
    work_dir: Path = args.work_dir
    work_dir.mkdir(parents=True, exist_ok=True)
    runner = Runner(Runner.pick(args.rss))

    targets: list[tuple[str, Path, int | None]] = []
    base = unpack_real(SYNTH_BASE, work_dir)
    if not args.no_real:
        targets += [(name, unpack_real(name, work_dir), None) for name in REAL_MANIFESTS]
    for n in args.sizes:
        targets.append((f"synthetic {n:,} models", ensure_synth(n, base, work_dir), n))

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="normcheck-bench-") as project_dir:
        for label, path, synth_size in targets:
            print(f"measuring {label} ({path.name}) ...", file=sys.stderr)
            floor, check = measure(
                runner, path, args.normcheck, Path(project_dir), args.runs, args.cache
            )
            rows.append(
                Row(label, path, path.stat().st_size, count_models(path), floor, check, synth_size)
            )

    table = render_table(rows)
    target = target_line(rows)
    print(table)
    print()
    print(target)
    if args.write:
        write_report(args.write, rows, table, target, args.runs, runner.method, args.cache)
        print(f"wrote {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
