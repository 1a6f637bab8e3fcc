"""SQL facts for a whole project: every model parsed once (in parallel on a
cold run, from the cache on a warm one), stars resolved from upstream
models and sources, and the columns the SQL produces added as resources so
the column rules judge them too."""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import signal
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import NamedTuple

import msgspec

from normcheck import cache
from normcheck._yaml import load_yaml
from normcheck.artifacts.catalog import Catalog
from normcheck.artifacts.manifest import settle_reads
from normcheck.errors import UserError
from normcheck.project import Project, Resource
from normcheck.sqlfacts import (
    Facts,
    Item,
    Job,
    ParseContext,
    RenderInput,
    WordLines,
    dialect_for,
    parse_relation,
)

PARALLEL_FROM = 200  # models; below this, forking costs more than it saves


class Column(NamedTuple):
    """An output column of a model's SQL."""

    name: str
    type: str | None
    line: int | None = None  # the rendered SQL's line that names it (or its star)
    star: bool = False  # a star brings it (from upstream): ``line`` is the star's


@dataclass(frozen=True)
class Coverage:
    models: int
    parsed: int

    @property
    def share(self) -> float:
        return self.parsed / self.models if self.models else 1.0


# warehouses that store an unquoted name in capitals, as their catalogs list it (the
# dialects sqlglot normalises to upper case; a test keeps the two the same)
UPPERCASE_WAREHOUSES = frozenset({"snowflake", "oracle", "exasol"})


@dataclass
class SqlAnalysis:
    """What rules ask about a model's SQL."""

    project: Project
    facts: Mapping[str, Facts]
    dialect: str
    by_relation: Mapping[str, str]  # normalised relation -> resource uid
    resolved: dict[str, list[Column] | None] = field(default_factory=dict)
    memo: dict[str, object] = field(default_factory=dict)  # derived facts rules share
    _documented: dict[str, AbstractSet[str]] = field(default_factory=dict)
    _known: dict[str, AbstractSet[str]] = field(default_factory=dict)
    catalog: Catalog | None = None  # the columns a star over a source or seed brings

    def of(self, uid: str) -> Facts | None:
        return self.facts.get(uid)

    def documented(self, uid: str) -> AbstractSet[str]:
        """The lowercased names of the model's columns its YAML documents (not
        those the SQL added). Worked out once (while the workers parse, see
        :meth:`PendingAnalysis.finish`): adding the SQL's columns and
        `sql/missing-column` both ask, for every model."""
        found = self._documented.get(uid)
        if found is None:
            found = self._documented[uid] = _documented_names(self.project, uid)
        return found

    def known_relations(self, model: Resource) -> AbstractSet[str]:
        """Relations the model reads through ref() and source()."""
        found = self._known.get(model.uid)
        if found is None:
            found = self._known[model.uid] = _known_relations(self.project, model)
        return found

    def output(self, uid: str) -> list[tuple[str, str | None]] | None:
        """The model's output columns with stars expanded, as (name, type), or None
        when unknown (part of the API rules and plugins use)."""
        produced = self.produced(uid)
        return None if produced is None else [(c.name, c.type) for c in produced]

    def produced(self, uid: str) -> list[Column] | None:
        """:meth:`output`, each column with the line of the rendered SQL that makes it."""
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
                out.append(Column(item.name, item.type, item.line))
                continue
            upstream = self._columns_of(item.star)
            if upstream is None:
                return None
            excluded = {e.lower() for e in item.excluded}
            out.extend(
                Column(c.name, c.type, item.line, star=True)
                for c in upstream
                if c.name.lower() not in excluded
            )
        return out

    def _columns_of(self, relation: str) -> list[Column] | None:
        uid = self.by_relation.get(relation) or self.by_relation.get(relation.rsplit(".", 1)[-1])
        if uid is None:
            return None
        resource = self.project.resources[uid]
        if resource.type == "model" and uid in self.facts:
            produced = self.produced(uid)
            if produced is not None:
                return produced
        if self.catalog is not None:
            in_catalog = self.catalog.columns_of(uid)
            if in_catalog:  # what the warehouse has
                upper = self.dialect in UPPERCASE_WAREHOUSES  # `ORDER_ID` is `order_id`
                return [
                    Column(name.lower() if upper and name.isupper() else name, data_type)
                    for name, data_type in in_catalog
                ]
        if resource.type != "model" or not resource.contract_enforced:
            # a YAML's `columns:` lists those someone documented (or tested), not all
            # a source, a seed or a model has: only an enforced contract is the whole list
            return None
        documented = [self.project.resources[c] for c in resource.columns]
        return [Column(c.name, c.data_type) for c in documented if not c.from_sql] or None

    def coverage(self) -> Coverage:
        return Coverage(len(self.facts), sum(1 for f in self.facts.values() if f.error is None))


# -- rendering and parsing, in worker processes ------------------------------


def _documented_names(project: Project, uid: str) -> set[str]:
    resources = project.resources
    return {
        column.name.lower() for c in resources[uid].columns if not (column := resources[c]).from_sql
    }


def _known_relations(project: Project, model: Resource) -> set[str]:
    # the model's own relation too: `{{ this }}` in an incremental model's filter
    out = {parse_relation(model.relation)} if model.relation else set()
    for uid in model.depends_on:
        parent = project.resources.get(uid)
        if parent is not None and parent.relation:
            out.add(parse_relation(parent.relation))
    return out


def _refs(project: Project) -> dict[tuple[str | None, str, str | None], str]:
    refs: dict[tuple[str | None, str, str | None], str] = {}
    named = [
        r
        for r in project.resources.values()
        if r.type in ("model", "seed", "snapshot", "source")  # not the many columns
    ]

    # later wins the unqualified `ref('name')`: as dbt resolves it in the root project's
    # models, the root project's model before a package's of the same name, and a
    # versioned model's latest version (`latest_version:`) before its others
    def rank(r: Resource) -> tuple[bool, bool, str, str]:
        latest = r.version is None or r.version == r.latest_version
        return (r.package == project.name, latest, r.uid, r.version or "")

    for resource in sorted(named, key=rank):
        if resource.type != "source":
            for package in (resource.package, None):
                refs[(package, resource.name, resource.version)] = resource.relation
                refs[(package, resource.name, None)] = resource.relation
        elif resource.source_name:
            refs[(f"source:{resource.source_name}", resource.name, None)] = resource.relation
    # `function('name')`: the root project's function before a package's, as `ref()`
    for package, name, relation in sorted(
        project.functions, key=lambda f: (f[0] == project.name, f)
    ):
        for scope in (package, None):
            refs[(f"function:{scope or ''}", name, None)] = relation
    return refs


def project_vars(project: Project) -> dict[str, object]:
    """The `vars:` of dbt_project.yml the root project's models see (the manifest
    does not keep them): the global ones, then those scoped to the root project
    (`vars: {my_project: {...}}`), which win. A mapping under another project's
    or package's name is that one's, not a variable."""
    try:  # normcheck's loader: refuses alias bombs and deep nesting; dbt reports the rest
        data = load_yaml(project.root / "dbt_project.yml").data
    except UserError:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("vars"), dict):
        return {}
    values = data["vars"]
    name = data["name"] if isinstance(data.get("name"), str) else project.name
    packages = {name, project.name, *(m.package for m in project.macros)}
    packages.update(r.package for r in project.resources.values())
    found = {str(k): v for k, v in values.items() if not (isinstance(v, dict) and k in packages)}
    for scope in dict.fromkeys((project.name, name)):
        if isinstance(values.get(scope), dict):
            found.update({str(k): v for k, v in values[scope].items()})
    return found


def _fingerprint(resource: Resource, dialect: str, context: str) -> str:
    """A model's key: its code and what rendering it reads of it (render_input:
    `config.get('materialized')`, `{{ this }}`), in the project's context."""
    digest = hashlib.sha256()
    for part in (
        dialect,
        context,
        resource.uid,
        resource.compiled_code or "",
        resource.raw_code,
        resource.materialized or "",
        resource.relation,
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


def context_for(
    project: Project,
    dialect: str,
    refs: Mapping[tuple[str | None, str, str | None], str] | None = None,
    variables: Mapping[str, object] | None = None,
) -> ParseContext:
    """What rendering and parsing the project's models takes (``refs`` and
    ``variables`` when already known)."""
    return ParseContext(
        dialect,
        project.name,
        project.adapter or "",
        project.macros,
        project_vars(project) if variables is None else variables,
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
    pool: Workers | None = None,
) -> PendingAnalysis:
    """Start parsing the project's SQL models (cached ones are not parsed
    again) on ``pool`` (started early) or on workers started now; ``finish()``
    of what it returns waits for the facts, so the caller can do other work
    meanwhile. Use it as a context manager: the workers stop when it ends."""
    return PendingAnalysis(project, dialect_setting, cache_file, workers, pool)


class PendingAnalysis:
    def __init__(
        self,
        project: Project,
        dialect_setting: str | None,
        cache_file: Path | None,
        workers: int | None,
        pool: Workers | None,
    ) -> None:
        self.project = project
        self.cache_file = cache_file
        self.pool = pool
        self.dialect = dialect = dialect_for(dialect_setting or project.adapter)
        self.models = models = sql_models(project)
        self.refs = refs = _refs(project)
        self.variables = variables = project_vars(project)
        cached: dict[str, Facts] = {}
        if cache_file is not None:
            try:
                cached = _CACHE_DECODER.decode(cache_file.read_bytes())
            except (OSError, ValueError, RecursionError):  # unreadable or corrupt: not used
                cached = {}
        self.keys = _keys(project, models, dialect, refs, variables) if cached else {}
        self.facts: dict[str, Facts] = {}
        self.jobs: list[Job] = []
        for model in models:
            hit = cached.get(self.keys[model.uid]) if cached else None
            if hit is not None:
                self.facts[model.uid] = hit
            elif model.compiled_code:
                self.jobs.append((model.uid, model.compiled_code, None))
            else:
                self.jobs.append((model.uid, "", render_input(model)))
        self.context = context_for(project, dialect, refs, variables)
        count = _worker_count(workers)
        if len(self.jobs) < PARALLEL_FROM or not Workers.available(count):
            self.close()  # parsed here, when the facts are asked for
            return
        try:
            if self.pool is None:
                self.pool = Workers(count)
            self.pool.parse(self.context, self.jobs)
        except OSError:  # no process or shared memory to be had (a full /dev/shm): here
            self.close()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> PendingAnalysis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (at once if their facts were not asked for)."""
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def finish(self, project: Project | None = None) -> SqlAnalysis:
        """Wait for the facts of every model, store them in the cache. ``project``:
        the whole project, when the analysis started on it half built (its models
        and sources without their columns, see ``build_project``)."""
        project = project or self.project
        cache_file, models = self.cache_file, self.models
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
        # what the rules will ask of each model and its YAML, not of its SQL
        resources = project.resources
        documented: dict[str, AbstractSet[str]] = {}
        known: dict[str, AbstractSet[str]] = {}
        for model in models:
            documented[model.uid] = _documented_names(project, model.uid)
            known[model.uid] = _known_relations(project, resources[model.uid])
        facts = self.facts
        if self.pool is not None:
            facts.update(self.pool.results())
            self.close()
        elif self.jobs:  # a few: here
            from normcheck._parse_worker import renderer_for, work

            renderer = renderer_for(self.context)
            facts.update(work(job, self.dialect, renderer) for job in self.jobs)
        if self.jobs and cache_file is not None:
            _store(cache_file, {keys[uid]: f for uid, f in facts.items()})
        facts = dict(sorted(facts.items()))
        return SqlAnalysis(
            project, facts, self.dialect, by_relation, _documented=documented, _known=known
        )


def _keys(
    project: Project,
    models: list[Resource],
    dialect: str,
    refs: Mapping[tuple[str | None, str, str | None], str],
    variables: Mapping[str, object],
) -> dict[str, str]:
    """Each model's cache key: its SQL and everything its rendering reads."""
    # refs come in one order whatever the manifest's (see _refs); msgpack, not repr:
    # 13,000 refs and 650 KB of macros at 5k models, hashed while the workers parse
    digest = hashlib.sha256(
        msgspec.msgpack.encode(
            [list(refs.items()), [(m.package, m.name, m.sql) for m in project.macros]]
        )
    )
    digest.update(repr(sorted(variables.items(), key=str)).encode())  # any YAML value
    # the rendering's `target.type` and adapter macros (`dialect:` may be set apart)
    digest.update(f"{project.name}\x00{project.adapter or ''}".encode())
    # and normcheck's own code (its version, each file's size and mtime), as for the
    # findings: facts a changed analysis would find otherwise are not reused
    digest.update(cache.code_identity().encode())
    context = digest.hexdigest()
    return {m.uid: _fingerprint(m, dialect, context) for m in models}


_RESULTS = msgspec.msgpack.Decoder(list[tuple[str, Facts]])
_TO_WORKERS = msgspec.msgpack.Encoder()  # the context head and the jobs


def _serve(*args: object) -> None:
    """The first worker's life (:func:`normcheck._parse_worker.serve`); imported
    there, in the worker, so this process never imports sqlglot for it."""
    from normcheck import _parse_worker

    _parse_worker.serve(*args)  # type: ignore[arg-type]


class Workers:
    """Forked parse workers. The first is started before the manifest is read
    and warms up sqlglot and Jinja meanwhile; once the jobs are known it forks
    the others from itself, so they start warm too and share the jobs it was
    sent once. While they parse the caller goes on; ``results()`` waits."""

    def __init__(self, count: int, manifest: bytes | None = None) -> None:
        settle_reads()  # no thread may run when forking
        context = multiprocessing.get_context("fork")
        self.count = count
        self.taken = context.Value("q", 0)
        self.jobs_out: Connection | None = None
        pipes = [context.Pipe(duplex=False) for _ in range(count)]
        jobs_in, jobs_out = context.Pipe(duplex=False)
        ours = [jobs_out, *(r for r, _ in pipes)]  # the worker closes its copies of these
        self.process = context.Process(
            target=_serve,
            args=(ours, jobs_in, [w for _, w in pipes], self.taken, manifest),
            daemon=True,
        )
        self.process.start()
        pid = self.process.pid
        assert pid is not None  # started
        self.pid = pid
        with contextlib.suppress(OSError):  # the worker does it too: whoever comes first
            os.setpgid(pid, pid)
        self.finished = False
        jobs_in.close()
        for _, writer in pipes:
            writer.close()
        self.jobs_out = jobs_out
        self.readers = [r for r, _ in pipes]

    @staticmethod
    def available(count: int) -> bool:
        return count > 1 and "fork" in multiprocessing.get_all_start_methods()

    def parse(self, context: ParseContext, jobs: list[Job]) -> None:
        """Send the jobs, in small shares (26 models a share on 5k models with two
        workers, about 25 ms of parsing): the last one finishing late costs little."""
        assert self.jobs_out is not None
        send_jobs(self.jobs_out, context, jobs, max(1, len(jobs) // (self.count * 96)))
        self.jobs_out.close()
        self.jobs_out = None

    def results(self) -> list[tuple[str, Facts]]:
        out: list[tuple[str, Facts]] = []
        waiting = list(self.readers)
        while waiting:
            for reader in wait(waiting):
                assert isinstance(reader, Connection)
                try:
                    message = reader.recv_bytes()
                except EOFError:
                    raise RuntimeError("a SQL parse worker stopped unexpectedly") from None
                if not message:
                    waiting.remove(reader)
                elif message[:1] == b"E":
                    raise RuntimeError(f"a SQL parse worker failed:\n{message[1:].decode()}")
                else:
                    out.extend(_RESULTS.decode(message[1:]))
        self.finished = True
        return out

    def close(self) -> None:
        """Stop the workers: when they have not finished, all of them at once (one
        killed alone could hold the lock of the share counter the others wait on)."""
        if self.jobs_out is not None:
            self.jobs_out.close()
            self.jobs_out = None
        for reader in self.readers:
            reader.close()
        self.readers = []
        if not self.finished:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:  # not yet a group of its own, so no workers of its own either
                self.process.kill()
            self.finished = True
        self.process.join(timeout=0)


def send_jobs(out: Connection, context: ParseContext, jobs: list[Job], step: int) -> None:
    """The context, the share size ``step`` and the jobs, as the first worker
    receives them (:func:`normcheck._parse_worker.serve`)."""
    # msgpack: a third of pickle's time both ways; the variables, any YAML value, pickled
    head = (context.dialect, context.root, context.adapter, context.macros, context.refs, step)
    out.send_bytes(_TO_WORKERS.encode(head))
    out.send(context.variables)
    out.send_bytes(_TO_WORKERS.encode(jobs))


def start_workers(count: int | None = None, manifest: bytes | None = None) -> Workers | None:
    """Parse workers for a cold run, started now (None: one core, or no fork);
    ``manifest``: its bytes, when already read (the first worker inherits them)."""
    count = _worker_count(count)
    if not Workers.available(count):
        return None
    try:
        return Workers(count, manifest)
    except OSError:  # no process or shared memory to be had (a full /dev/shm): parsed here
        return None


def _worker_count(asked: int | None) -> int:
    return asked if asked is not None else min(os.cpu_count() or 1, 4)


def _store(path: Path, facts: dict[str, Facts]) -> None:
    cache.write_replacing(path, msgspec.msgpack.encode(facts))


def with_sql_columns(
    project: Project, analysis: SqlAnalysis, catalog: Catalog | None = None
) -> Project:
    """The project plus a column resource for each column the SQL produces that
    no YAML documents, so the column rules judge those names too (typed by the
    catalog when it has the column, else by the SQL), and the type the SQL gives
    a documented column whose catalog and YAML give none."""
    resources = dict(project.resources)
    analysis.catalog = catalog
    for uid in analysis.facts:
        model = resources[uid]
        produced = analysis.produced(uid)
        if not produced:
            continue
        in_catalog = catalog.column_types(uid) if catalog is not None else {}
        documented = analysis.documented(uid)
        words = WordLines(model.raw_code)
        added = []
        seen = set()
        typed: dict[str, str] = {}  # documented columns' types, as the SQL gives them
        for name, data_type, line, star in produced:
            lower = name.lower()
            if lower in documented:
                if data_type is not None:
                    typed.setdefault(lower, data_type)
                continue
            if lower in seen or name == "*":
                continue
            seen.add(lower)
            column = Resource(
                uid=f"{uid}.{name}",
                type="column",
                name=name,
                package=model.package,
                file=model.file,
                group=model.group,
                owner=model.owner,
                data_type=in_catalog.get(lower) or data_type,
                parent=uid,
                line=(star and words.line_near("*", line)) or words.line_near(name, line),
                from_sql=True,
            )
            resources[column.uid] = column
            added.append(column.uid)
        if typed:
            _type_documented(resources, model, typed)
        if added:
            resources[uid] = msgspec.structs.replace(model, columns=(*model.columns, *added))
    return replace(project, resources=resources)


def _type_documented(
    resources: dict[str, Resource], model: Resource, typed: dict[str, str]
) -> None:
    """Give a documented column the type the SQL gives it, when neither the catalog
    nor the YAML does (`is_paid` documented without `data_type`, `amount > 0 as paid`)."""
    for uid in model.columns:
        column = resources[uid]
        data_type = typed.get(column.name.lower())
        if data_type is not None and not column.data_type and not column.from_sql:
            resources[uid] = msgspec.structs.replace(column, data_type=data_type)
