"""The parse workers' side of the SQL analysis: render a model's Jinja, parse
its SQL with sqlglot, keep the facts. Imported by the workers when they start
(and by the checking process only when it parses a few models itself), so the
checking process never waits for sqlglot or jinja2 to import."""

from __future__ import annotations

import bisect
import contextlib
import os
import pickle
import re
import signal
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized

import msgspec
import sqlglot

from normcheck._jinja import Renderer, RenderError
from normcheck.artifacts.manifest import decode_macros
from normcheck.project import macro_sources
from normcheck.sql import analyse
from normcheck.sqlfacts import Facts, Job, MacroSource, ParseContext, nearest, too_big


def renderer_for(context: ParseContext) -> Renderer:
    return Renderer(
        context.root, context.adapter, list(context.macros), context.variables, context.refs
    )


def work(job: Job, dialect: str, renderer: Renderer) -> tuple[str, Facts]:
    uid, sql, model = job
    if model is not None:
        big = too_big(model.raw_code)
        if big is not None:  # not even rendered
            return uid, big
        try:
            sql = renderer.render(model)
        except RenderError as exc:
            return uid, Facts(error=f"could not render the model's Jinja: {exc}")
    facts = analyse(sql, dialect)
    if model is None:
        return uid, facts
    if facts.error is not None:
        facts = msgspec.structs.replace(
            facts, error_line=_raw_line(sql, facts.error_line, model.raw_code)
        )
        return uid, facts
    if renderer.asked:
        facts = _unsure(facts, model.raw_code)
    if sql.count("\n") != model.raw_code.count("\n"):  # a loop, a trimmed tag: lines moved
        facts = _on_raw_lines(facts, _line_map(sql, model.raw_code))
    return uid, facts


def _line_map(rendered: str, raw: str) -> Callable[[int | None], int | None]:
    """Each line of the rendered SQL to the model file's line it comes from: the
    lines whose text is on one line only of each, matched in order, anchor the
    rest, each moved as the last anchor before it (a macro's output, a loop's
    lines, lines a trimmed tag took away). Linear: difflib took 30 s on a
    32,000-line model, and 12% of a 5,000-model run."""
    ours, theirs = _stripped(rendered), _stripped(raw)
    once = _once(theirs)
    anchors: list[tuple[int, int]] = []
    for number, text in sorted((n, t) for t, n in _once(ours).items() if t in once):
        there = once[text]
        if not anchors or there > anchors[-1][1]:
            anchors.append((number, there))
    starts = [a for a, _ in anchors]
    last = max(len(theirs), 1)

    def moved(line: int | None) -> int | None:
        if line is None:
            return None
        index = bisect.bisect_right(starts, line) - 1
        if index < 0:
            return min(line, last)
        a, b = anchors[index]
        return max(1, min(line - a + b, last))

    return moved


def _stripped(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def _once(lines: list[str]) -> dict[str, int]:
    """The lines (1-based) whose text no other line has (blank lines aside)."""
    seen: dict[str, int] = {}
    twice: set[str] = set()
    for number, text in enumerate(lines, 1):
        if text in seen:
            twice.add(text)
        elif text:
            seen[text] = number
    return {text: number for text, number in seen.items() if text not in twice}


def _on_raw_lines(facts: Facts, moved: Callable[[int | None], int | None]) -> Facts:
    items = facts.items
    if items is not None:
        items = [msgspec.structs.replace(item, line=moved(item.line)) for item in items]
    table_lines = {}
    for table, line in facts.table_lines.items():
        table_lines[table] = moved(line) or line
    return msgspec.structs.replace(facts, items=items, table_lines=table_lines)


# a star the file writes, not `count(*)`
_STAR = re.compile(r"(?<!\()\s*\*(?!\s*\))")


def _unsure(facts: Facts, raw: str) -> Facts:
    """The facts of a model whose Jinja asked the warehouse (`execute`,
    `run_query`, `dbt_utils.star`): its columns are unknown; a star is the
    model's own only when its file has one (`dbt_utils.star` renders `*` here,
    a column list in dbt); a relation `adapter.get_relation()` gave as None is
    none read by name."""
    tables = [t for t in facts.tables if t.rsplit(".", 1)[-1] != "none"]
    return msgspec.structs.replace(
        facts,
        items=None,
        star=facts.star and _STAR.search(raw) is not None,
        tables=tables,
        table_lines={k: v for k, v in facts.table_lines.items() if k in tables},
    )


def _raw_line(rendered: str, line: int | None, raw: str) -> int | None:
    """Map a line of the rendered SQL back to the model file: of the lines with
    the same text, the nearest (rendering keeps most lines where they were; a
    line such as `)` is on many)."""
    if line is None:
        return None
    lines = rendered.splitlines()
    if not 0 < line <= len(lines):
        return None
    text = lines[line - 1].strip()
    if not text:
        return None
    found = [number for number, there in enumerate(raw.splitlines(), 1) if text in there]
    return nearest(found, line)


# -- in the worker processes ----------------------------------------------------


class _Ahead:
    """What the first worker prepares from the manifest's bytes (read before it
    was forked) while the checking process decodes them too: a renderer of the
    project's macros, with those the models call compiled (as dbt recorded the
    calls, in its manifest), then the root project's others one by one until
    the jobs come. The workers it forks inherit them, so each macro a model
    calls is compiled once, not once a worker (0.17 s of each worker's 2.9 s
    on 5k models, when only the root's were compiled and not all in time)."""

    def __init__(self, manifest: bytes, jobs_in: Connection, inbox: list[_Received]) -> None:
        found = decode_macros(manifest)
        self.root = found.metadata.project_name or ""
        self.adapter = found.metadata.adapter_type or ""
        self.macros = macro_sources(found.macros)
        self.renderer = Renderer(self.root, self.adapter, list(self.macros), {}, {})
        for called in found.called_by_models():  # each worker would compile these
            if not inbox and jobs_in.poll():
                # taken at once: the checking process goes on instead of waiting
                # (on a full pipe) for these macros to compile
                inbox.append(_receive(jobs_in))
            if not self.renderer.provides(called.name):  # ref, source, ...: not called
                self.renderer.macro(called.package_name, called.name)
        for source in self.macros:
            if source.package != self.root:
                continue
            if inbox or jobs_in.poll():
                break  # the jobs are here: the rest when a model calls them
            self.renderer.macro(self.root, source.name)

    def renderer_for(self, context: ParseContext) -> Renderer:
        """This renderer when the context is of the same macros, else a new one."""
        if (context.root, context.adapter, context.macros) != (
            self.root,
            self.adapter,
            self.macros,
        ):
            return renderer_for(context)
        self.renderer.refs = context.refs
        self.renderer.variables = context.variables
        return self.renderer


def _ahead(manifest: bytes | None, jobs_in: Connection, inbox: list[_Received]) -> _Ahead | None:
    if manifest is None:
        return None
    try:
        return _Ahead(manifest, jobs_in, inbox)
    except Exception:  # the checking process decodes the manifest and reports its errors
        return None


def serve(
    theirs: list[Connection],
    jobs_in: Connection,
    results_out: list[Connection],
    taken: Synchronized[int],
    manifest: bytes | None = None,
) -> None:
    """The first worker, started before the manifest is decoded: import and warm
    up sqlglot and Jinja while the checking process decodes it (with its bytes,
    when they were read ahead: compile the root project's macros), receive the
    project's context and every job (msgpack), then fork the other workers (which inherit
    all of that) and parse with them. Each worker takes the next share of the
    jobs from the shared counter ``taken``, so a slower core takes fewer, and
    sends its facts back on its own connection when there are no more shares:
    ``R`` + msgpack, then an empty message (or ``E`` + a traceback if it failed).
    ``theirs``: the checking process's ends of the pipes, closed here so that
    a worker writing to a checking process that is gone gets an error."""
    with contextlib.suppress(OSError):  # the checking process may have done it first
        os.setpgid(0, 0)  # a group of its own, with the workers it forks: stopped at once
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not a handler inherited from a caller
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the checking process's to handle
    for connection in theirs:
        connection.close()
    warm()
    inbox: list[_Received] = []  # what was sent, when it came while preparing
    ahead = _ahead(manifest, jobs_in, inbox)
    if not inbox:
        try:
            inbox.append(_receive(jobs_in))
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            # the check ended before it needed us, or while it sent the jobs (killed:
            # the message cut short): nothing to parse, and no traceback to print
            return
    context, step, jobs = inbox[0]
    dialect = context.dialect
    renderer = renderer_for(context) if ahead is None else ahead.renderer_for(context)
    analyse("select 1", dialect)  # its classes, tokenizer and parser built once, for all
    children = []
    for index in range(1, len(results_out)):
        pid = os.fork()
        if pid == 0:  # another worker, with everything this one has
            try:
                _only(results_out, index)
                _parse_shares(results_out[index], jobs, step, taken, dialect, renderer)
            finally:
                os._exit(0)
        children.append(pid)
    _only(results_out, 0)
    _parse_shares(results_out[0], jobs, step, taken, dialect, renderer)
    for pid in children:
        os.waitpid(pid, 0)


_Received = tuple[ParseContext, int, list[Job]]


def _receive(jobs_in: Connection) -> _Received:
    """The project's context, the share size and every job, as
    :func:`normcheck.analysis.send_jobs` sends them."""
    dialect, root, adapter, macros, refs, step = _CONTEXT.decode(jobs_in.recv_bytes())
    variables = jobs_in.recv()  # pickled: any YAML value (a date stays a date)
    jobs = _JOBS.decode(jobs_in.recv_bytes())
    return ParseContext(dialect, root, adapter, macros, variables, refs), step, jobs


def _only(connections: list[Connection], keep: int) -> None:
    for index, connection in enumerate(connections):
        if index != keep:
            connection.close()


def _parse_shares(
    out: Connection,
    jobs: list[Job],
    step: int,
    taken: Synchronized[int],
    dialect: str,
    renderer: Renderer,
) -> None:
    facts: list[tuple[str, Facts]] = []
    try:
        while True:
            with taken.get_lock():
                share = taken.value
                taken.value = share + 1
            start = share * step
            if start >= len(jobs):
                break
            facts.extend(work(job, dialect, renderer) for job in jobs[start : start + step])
        # all at the end: the checking process reads none before it has run the early
        # rules, and a worker blocked on a full pipe (64 KiB) meanwhile would parse nothing
        out.send_bytes(b"R" + _ENCODER.encode(facts))
        out.send_bytes(b"")
    except BrokenPipeError:  # the check ended without waiting for us
        return
    except BaseException:
        try:
            out.send_bytes(b"E" + traceback.format_exc().encode())
        except OSError:  # nobody to tell
            return


_ENCODER = msgspec.msgpack.Encoder()
_JOBS = msgspec.msgpack.Decoder(list[Job])
# the context but its variables, and the share size (see analysis.Workers.parse)
_CONTEXT = msgspec.msgpack.Decoder(
    tuple[
        str, str, str, tuple[MacroSource, ...], dict[tuple[str | None, str, str | None], str], int
    ]
)


def warm() -> None:
    """sqlglot's tokenizer and parser ready before any model comes."""
    sqlglot.parse("select a from b where c = 'd'")
