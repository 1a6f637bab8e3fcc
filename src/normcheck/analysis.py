"""SQL facts for a whole project: every model parsed once (in parallel on a
cold run, from the cache on a warm one), stars resolved from upstream
models and sources, and the columns the SQL produces added as resources so
the column rules judge them too."""

from __future__ import annotations

import bisect
import hashlib
import multiprocessing
import multiprocessing.pool
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

import msgspec

from normcheck import __version__
from normcheck._jinja import MacroSource as JinjaMacro
from normcheck._jinja import Renderer, RenderError, RenderInput
from normcheck._yaml import load_yaml
from normcheck.errors import UserError
from normcheck.project import Project, Resource
from normcheck.sql import Facts, Item, analyse, dialect_for, parse_relation, too_big

PARALLEL_FROM = 200  # models; below this, forking costs more than it saves

Column = tuple[str, str | None]


@dataclass(frozen=True)
class Coverage:
    models: int
    parsed: int

    @property
    def share(self) -> float:
        return self.parsed / self.models if self.models else 1.0


@dataclass
class SqlAnalysis:
    """What rules ask about a model's SQL."""

    project: Project
    facts: Mapping[str, Facts]
    dialect: str
    by_relation: Mapping[str, str]  # normalised relation -> resource uid
    resolved: dict[str, list[Column] | None] = field(default_factory=dict)
    memo: dict[str, object] = field(default_factory=dict)  # derived facts rules share

    def of(self, uid: str) -> Facts | None:
        return self.facts.get(uid)

    def known_relations(self, model: Resource) -> set[str]:
        """Relations the model reads through ref() and source()."""
        out = set()
        for uid in model.depends_on:
            parent = self.project.resources.get(uid)
            if parent is not None and parent.relation:
                out.add(parse_relation(parent.relation))
        return out

    def output(self, uid: str) -> list[Column] | None:
        """The model's output columns with stars expanded, or None when unknown."""
        if uid in self.resolved:
            return self.resolved[uid]
        self.resolved[uid] = None  # a cycle resolves to "unknown"
        facts = self.facts.get(uid)
        result = None if facts is None or facts.items is None else self._expand(facts.items)
        self.resolved[uid] = result
        return result

    def _expand(self, items: Iterable[Item]) -> list[Column] | None:
        out: list[Column] = []
        for item in items:
            if item.star is None:
                out.append((item.name, item.type))
                continue
            upstream = self._columns_of(item.star)
            if upstream is None:
                return None
            excluded = {e.lower() for e in item.excluded}
            out.extend(c for c in upstream if c[0].lower() not in excluded)
        return out

    def _columns_of(self, relation: str) -> list[Column] | None:
        uid = self.by_relation.get(relation) or self.by_relation.get(relation.rsplit(".", 1)[-1])
        if uid is None:
            return None
        resource = self.project.resources[uid]
        if resource.type == "model" and uid in self.facts:
            produced = self.output(uid)
            if produced is not None:
                return produced
        documented = [self.project.resources[c] for c in resource.columns]
        if not documented:
            return None
        return [(c.name, c.data_type) for c in documented if not c.from_sql]

    def coverage(self) -> Coverage:
        return Coverage(len(self.facts), sum(1 for f in self.facts.values() if f.error is None))


# -- rendering and parsing, possibly in worker processes ----------------------

_STATE: dict[str, object] = {}


def _work(job: tuple[str, str, RenderInput | None]) -> tuple[str, Facts]:
    uid, sql, model = job
    dialect = str(_STATE["dialect"])
    if model is not None:
        big = too_big(model.raw_code)
        if big is not None:  # not even rendered
            return uid, big
        renderer = cast(Renderer, _STATE["renderer"])
        try:
            sql = renderer.render(model)
        except RenderError as exc:
            return uid, Facts(error=f"could not render the model's Jinja: {exc}")
    facts = analyse(sql, dialect)
    if facts.error is not None and model is not None:
        facts = msgspec.structs.replace(
            facts, error_line=_raw_line(sql, facts.error_line, model.raw_code)
        )
    return uid, facts


def _raw_line(rendered: str, line: int | None, raw: str) -> int | None:
    """Map a line of the rendered SQL back to the model file, where the text matches."""
    if line is None:
        return None
    lines = rendered.splitlines()
    if not 0 < line <= len(lines):
        return None
    text = lines[line - 1].strip()
    if not text:
        return None
    for number, raw_line in enumerate(raw.splitlines(), 1):
        if text in raw_line:
            return number
    return None


def _refs(project: Project) -> dict[tuple[str | None, str, str | None], str]:
    refs: dict[tuple[str | None, str, str | None], str] = {}
    named = [
        r
        for r in project.resources.values()
        if r.type in ("model", "seed", "snapshot", "source")  # not the many columns
    ]
    for resource in sorted(named, key=lambda r: (r.uid, r.version or "")):
        if resource.type != "source":
            for package in (resource.package, None):
                refs[(package, resource.name, resource.version)] = resource.relation
                refs[(package, resource.name, None)] = resource.relation
        elif resource.source_name:
            refs[(f"source:{resource.source_name}", resource.name, None)] = resource.relation
    return refs


def project_vars(root: Path) -> dict[str, object]:
    """Global `vars:` of dbt_project.yml (the manifest does not keep them)."""
    try:  # normcheck's loader: refuses alias bombs and deep nesting; dbt reports the rest
        data = load_yaml(root / "dbt_project.yml").data
    except UserError:
        return {}
    values = data.get("vars") if isinstance(data, dict) else None
    if not isinstance(values, dict):
        return {}
    return {str(k): v for k, v in values.items() if not isinstance(v, dict)}


def _fingerprint(resource: Resource, dialect: str, context: str) -> str:
    digest = hashlib.sha256()
    for part in (
        __version__,
        dialect,
        context,
        resource.uid,
        resource.compiled_code or "",
        resource.raw_code,
    ):
        digest.update(part.encode() + b"\x00")
    return digest.hexdigest()[:24]


_CACHE_DECODER = msgspec.msgpack.Decoder(dict[str, Facts])


def sql_models(project: Project) -> list[Resource]:
    """The root project's SQL models: what the SQL path parses."""
    return [
        r
        for r in project.resources.values()
        if r.type == "model" and project.owned(r) and r.language == "sql"
    ]


def renderer_for(
    project: Project,
    refs: Mapping[tuple[str | None, str, str | None], str] | None = None,
    variables: Mapping[str, object] | None = None,
) -> Renderer:
    """The project's Jinja renderer (``refs`` and ``variables`` when already known)."""
    return Renderer(
        project.name,
        project.adapter or "",
        [JinjaMacro(m.package, m.name, m.sql) for m in project.macros],
        project_vars(project.root) if variables is None else variables,
        _refs(project) if refs is None else refs,
    )


def render_input(model: Resource) -> RenderInput:
    """What rendering a model's Jinja needs from it."""
    return RenderInput(
        name=model.name,
        package=model.package,
        raw_code=model.raw_code,
        config={"materialized": model.materialized},
        relation=model.relation,
    )


def analyse_project(
    project: Project,
    dialect_setting: str | None,
    cache_file: Path | None,
    workers: int | None = None,
) -> SqlAnalysis:
    """Parse every SQL model of the root project once."""
    with start_analysis(project, dialect_setting, cache_file, workers) as pending:
        return pending.finish()


def start_analysis(
    project: Project,
    dialect_setting: str | None,
    cache_file: Path | None,
    workers: int | None = None,
) -> PendingAnalysis:
    """Start parsing the project's SQL models (cached ones are not parsed
    again); ``finish()`` of what it returns waits for the facts, so the caller
    can do other work while the workers parse. Use it as a context manager: the
    workers stop when the block ends."""
    return PendingAnalysis(project, dialect_setting, cache_file, workers)


class PendingAnalysis:
    def __init__(
        self,
        project: Project,
        dialect_setting: str | None,
        cache_file: Path | None,
        workers: int | None,
    ) -> None:
        self.project = project
        self.cache_file = cache_file
        self.dialect = dialect = dialect_for(dialect_setting or project.adapter)
        self.models = models = sql_models(project)
        self.refs = refs = _refs(project)
        self.variables = variables = project_vars(project.root)
        cached: dict[str, Facts] = {}
        if cache_file is not None:
            try:
                cached = _CACHE_DECODER.decode(cache_file.read_bytes())
            except (OSError, ValueError, RecursionError):  # unreadable or corrupt: not used
                cached = {}
        self.keys = _keys(project, models, dialect, refs, variables) if cached else {}
        self.facts: dict[str, Facts] = {}
        self.jobs: list[tuple[str, str, RenderInput | None]] = []
        for model in models:
            hit = cached.get(self.keys[model.uid]) if cached else None
            if hit is not None:
                self.facts[model.uid] = hit
            elif model.compiled_code:
                self.jobs.append((model.uid, model.compiled_code, None))
            else:
                self.jobs.append((model.uid, "", render_input(model)))
        self.parsing: _Parsing | None = None
        if self.jobs:
            try:
                _STATE["dialect"] = dialect
                _STATE["renderer"] = renderer_for(project, refs, variables)
                _STATE["jobs"] = self.jobs
                self.parsing = _Parsing(self.jobs, workers)
            except BaseException:
                self.close()
                raise

    def __enter__(self) -> PendingAnalysis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (at once if their facts were not asked for)."""
        if self.parsing is not None:
            self.parsing.close()
            self.parsing = None
        _STATE.clear()

    def finish(self) -> SqlAnalysis:
        """Wait for the facts of every model, store them in the cache."""
        project, cache_file, models = self.project, self.cache_file, self.models
        keys = self.keys
        # while the workers parse: the rest of what the analysis needs
        if cache_file is not None and not keys:
            keys = _keys(project, models, self.dialect, self.refs, self.variables)
        by_relation: dict[str, str] = {}
        relations = [
            r
            for r in project.resources.values()
            if r.relation and r.type in ("model", "seed", "snapshot", "source")
        ]
        for resource in sorted(relations, key=lambda r: r.uid, reverse=True):
            key = parse_relation(resource.relation)
            by_relation[key] = resource.uid
            by_relation.setdefault(key.rsplit(".", 1)[-1], resource.uid)
        facts = self.facts
        if self.parsing is not None:
            facts.update(self.parsing.results())
        self.close()
        if self.jobs and cache_file is not None:
            _store(cache_file, {keys[uid]: f for uid, f in facts.items()})
        return SqlAnalysis(project, dict(sorted(facts.items())), self.dialect, by_relation)


def _keys(
    project: Project,
    models: list[Resource],
    dialect: str,
    refs: Mapping[tuple[str | None, str, str | None], str],
    variables: Mapping[str, object],
) -> dict[str, str]:
    """Each model's cache key: its SQL and everything its rendering reads."""
    context = hashlib.sha256(
        repr(
            (
                sorted(refs.items(), key=str),
                sorted(variables.items(), key=str),
                [(m.package, m.name, m.sql) for m in project.macros],
            )
        ).encode()
    ).hexdigest()
    return {m.uid: _fingerprint(m, dialect, context) for m in models}


_RESULTS = msgspec.msgpack.Decoder(list[tuple[str, Facts]])
_RESULT_ENCODER = msgspec.msgpack.Encoder()


def _chunk(bounds: tuple[int, int]) -> bytes:
    """A worker's share: jobs[start:end] of the list it inherited when forked
    (only two integers travel to it), its facts back as one msgpack message."""
    jobs = cast("list[tuple[str, str, RenderInput | None]]", _STATE["jobs"])
    return _RESULT_ENCODER.encode([_work(jobs[i]) for i in range(*bounds)])


class _Parsing:
    """The jobs, parsed by forked workers while the caller goes on (or, for a
    few jobs or one core, in this process when the results are asked for)."""

    def __init__(self, jobs: list[tuple[str, str, RenderInput | None]], workers: int | None):
        self.jobs = jobs
        self.pool: multiprocessing.pool.Pool | None = None
        count = workers if workers is not None else min(os.cpu_count() or 1, 4)
        if (
            count > 1
            and len(jobs) >= PARALLEL_FROM
            and "fork" in multiprocessing.get_all_start_methods()
        ):
            self.pool = multiprocessing.get_context("fork").Pool(count)
            # small shares: the last one finishing late costs little
            step = max(1, len(jobs) // (count * 24))
            shares = [(a, min(a + step, len(jobs))) for a in range(0, len(jobs), step)]
            self.pending = self.pool.imap_unordered(_chunk, shares)

    def results(self) -> list[tuple[str, Facts]]:
        if self.pool is None:
            return [_work(job) for job in self.jobs]
        out: list[tuple[str, Facts]] = []
        for message in self.pending:
            out.extend(_RESULTS.decode(message))
        return out

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()


def _store(path: Path, facts: dict[str, Facts]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(msgspec.msgpack.encode(facts))
        tmp.replace(path)
    except OSError:
        return


_WORD = re.compile(r"[A-Za-z0-9_]+")


def with_sql_columns(project: Project, analysis: SqlAnalysis) -> Project:
    """The project plus a column resource for each column the SQL produces that
    no YAML documents, so the column rules judge those names too."""
    resources = dict(project.resources)
    for uid in analysis.facts:
        model = resources[uid]
        produced = analysis.output(uid)
        if not produced:
            continue
        documented = {resources[c].name.lower() for c in model.columns}
        words = _WordLines(model.raw_code)
        added = []
        for name, data_type in produced:
            if name.lower() in documented or name == "*":
                continue
            documented.add(name.lower())
            column = Resource(
                uid=f"{uid}.{name}",
                type="column",
                name=name,
                package=model.package,
                file=model.file,
                group=model.group,
                owner=model.owner,
                data_type=data_type,
                parent=uid,
                line=words.line_of(name),
                from_sql=True,
            )
            resources[column.uid] = column
            added.append(column.uid)
        if added:
            resources[uid] = msgspec.structs.replace(model, columns=(*model.columns, *added))
    return replace(project, resources=resources)


class _WordLines:
    """The line of a word's first whole-word occurrence (case-insensitive) in
    ``code``. The words are indexed once per model: searching the code again for
    each of its columns is quadratic, minutes on a 1 MB model with 60,000 columns."""

    def __init__(self, code: str) -> None:
        self.code = code
        self._first: dict[str, int] | None = None
        self._newlines: list[int] = []

    def line_of(self, word: str) -> int | None:
        if self._first is None:
            first: dict[str, int] = {}
            for word_found in _WORD.finditer(self.code):
                first.setdefault(word_found.group().lower(), word_found.start())
            self._first = first
            self._newlines = [m.start() for m in re.finditer("\n", self.code)]
        if _WORD.fullmatch(word):
            at = self._first.get(word.lower())
        else:  # a quoted name with other characters: search for it
            pattern = rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])"
            found = re.search(pattern, self.code, re.IGNORECASE)
            at = None if found is None else found.start()
        return None if at is None else bisect.bisect_left(self._newlines, at) + 1
