"""The floor of normcheck's SQL path: sqlglot alone, parsing every model's SQL.

    python benchmarks/sqlglot_floor.py MANIFEST

Renders each SQL model of the root project as normcheck does (untimed), then times
only ``sqlglot.parse`` of all of them in the manifest's dialect, on two forked
processes as normcheck uses (the pool is started and warmed before the clock
starts) and, as in normcheck's workers, with Python's cycle collector off (on, it
walks the inherited manifest again and again and doubles the time). Prints one
JSON line: ``models``, ``seconds``, ``rate`` (models per second). No SQL path can
beat this rate without parsing less; bench_check.py puts it beside normcheck's.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import sys
import time
from pathlib import Path

import sqlglot

from normcheck import analysis
from normcheck._jinja import RenderError
from normcheck._parse_worker import renderer_for
from normcheck.artifacts.manifest import load_manifest
from normcheck.project import build_project
from normcheck.sqlfacts import dialect_for

WORKERS = 2
_SQL: list[str] = []
_DIALECT: list[str] = [""]


def _parse(index: int) -> int:
    try:
        sqlglot.parse(_SQL[index], read=_DIALECT[0] or None)
    except Exception:  # a parse error is work done too
        return 1
    return 0


def main(path: str) -> None:
    project = build_project(load_manifest(Path(path)), None, Path.cwd())
    renderer = renderer_for(analysis.context_for(project, ""))
    models = analysis.sql_models(project)
    for model in models:
        if model.compiled_code:
            _SQL.append(model.compiled_code)
            continue
        try:
            _SQL.append(renderer.render(analysis.render_input(model)))
        except RenderError:
            continue
    _DIALECT[0] = dialect_for(project.adapter)
    gc.disable()  # normcheck's workers inherit it off, too
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        pool.map(_parse, range(min(len(_SQL), WORKERS * 2)))  # started and warm
        start = time.perf_counter()
        pool.map(_parse, range(len(_SQL)), chunksize=max(1, len(_SQL) // (WORKERS * 8)))
        seconds = time.perf_counter() - start
    rate = len(models) / seconds if seconds > 0 else 0.0
    print(json.dumps({"models": len(models), "seconds": round(seconds, 3), "rate": rate}))


if __name__ == "__main__":
    main(sys.argv[1])
