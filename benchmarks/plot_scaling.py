"""Draw ``scaling.png`` from the figures ``bench_check.py`` saved (``bench-results.json``).

Wall time and peak memory against model count (synthetic manifests, log-log axes) for
the orjson floor, normcheck (cold, warm, pre-commit, SQL cold) and the peers. It needs
matplotlib, so ``bench_check.py`` runs it with the side environment's interpreter::

    benchmarks/.work/peers-venv/bin/python benchmarks/plot_scaling.py \\
        benchmarks/.work/bench-results.json benchmarks/scaling.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

# name in bench-results.json -> (legend label, colour, line style, marker)
STYLES = {
    "floor": ("orjson floor (read the manifest)", "black", "--", "o"),
    "cold": ("normcheck cold (default rules)", "tab:blue", "-", "o"),
    "reference": ("normcheck cold (the peers' reference rules)", "tab:blue", "--", "x"),
    "warm": ("normcheck warm (nothing changed)", "tab:blue", ":", "s"),
    "pre-commit": ("normcheck pre-commit (3 files, warm)", "tab:cyan", ":", "^"),
    "sql-cold": ("normcheck SQL cold (recommended)", "tab:purple", "-.", "D"),
    "dbt-bouncer": ("dbt-bouncer", "tab:orange", "-", "v"),
    "dbt-score": ("dbt-score", "tab:green", "-", "P"),
}


def _thousands(value: float, _pos: int) -> str:
    return f"{value / 1000:g}k" if value >= 1000 else f"{value:g}"


def _plain(value: float, _pos: int) -> str:
    return f"{value:g}"


def main(data_path: str, out_path: str) -> int:
    data = json.loads(Path(data_path).read_text(encoding="utf-8"))
    series = data.get("series") or {}
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(13, 5.6), constrained_layout=True)
    for name, (label, colour, style, marker) in STYLES.items():
        points = series.get(name)
        if not points:
            continue
        models = [p[0] for p in points]
        ax_time.plot(
            models, [p[1] for p in points], style, color=colour, marker=marker, label=label
        )
        alpha = 0.6 if name in ("warm", "pre-commit") else 1.0  # tiny and flat: keep them light
        ax_mem.plot(
            models,
            [p[2] for p in points],
            style,
            color=colour,
            marker=marker,
            label=label,
            alpha=alpha,
        )
    for ax, ylabel, title in (
        (ax_time, "wall time, whole process (s)", "Time"),
        (ax_mem, "peak RSS (MB)", "Peak memory"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("models in the manifest (synthetic, about 29 kB per model)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(_plain))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.grid(True, which="major", alpha=0.4)
        ax.grid(True, which="minor", alpha=0.15)
    sizes = sorted({p[0] for points in series.values() for p in points})
    if sizes:
        for ax in (ax_time, ax_mem):
            ax.set_xticks(sizes)
            ax.set_xticks([], minor=True)
    ax_time.legend(fontsize=8, loc="upper left")
    fig.suptitle(data.get("title", "normcheck scaling"), fontsize=11)
    fig.savefig(out_path, dpi=110)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
