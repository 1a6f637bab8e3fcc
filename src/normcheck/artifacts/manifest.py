"""Typed decoding of dbt's ``manifest.json`` with msgspec.

Only the fields rules read are declared; msgspec skips the rest without
building Python objects for them, which is why reading a manifest costs less
than ``json.loads`` of it.
"""

from __future__ import annotations

import contextlib
import json
import re
import stat
import threading
from collections.abc import Collection, Iterator
from pathlib import Path

import msgspec

from normcheck.artifacts import unpacked
from normcheck.errors import ArtifactError

SUPPORTED_SCHEMAS = (10, 11, 12)
_SCHEMA_RE = re.compile(rb'"dbt_schema_version"\s*:\s*"[^"]*/manifest/v(\d+)\.json"')

Meta = dict[str, object]


def posix(path: str) -> str:
    """A manifest's file path with `/` between its folders: dbt on Windows writes
    `models\\staging\\stg_orders.sql`, which names no file elsewhere and matched no
    path from the project's folder (pre-commit's, `--since`'s, a glob's). A path
    with a `/` is POSIX's, where a backslash is a letter of a name."""
    return path.replace("\\", "/") if "\\" in path and "/" not in path else path


class Contract(msgspec.Struct, frozen=True):
    enforced: bool = False


class DependsOn(msgspec.Struct, frozen=True):
    nodes: list[str] = []


class ColumnConfig(msgspec.Struct, frozen=True):
    meta: Meta = {}


class Column(msgspec.Struct, frozen=True):
    name: str
    description: str | None = ""
    data_type: str | None = None
    meta: Meta = {}
    config: ColumnConfig | None = None


class NodeConfig(msgspec.Struct, frozen=True):
    enabled: bool = True
    meta: Meta = {}
    group: str | None = None
    tags: list[str] | str | None = None
    access: str | None = None
    materialized: str | None = None
    contract: Contract | None = None


_EMPTY = msgspec.Raw(b"{}")
_COLUMNS = msgspec.json.Decoder(dict[str, Column])
_META = msgspec.json.Decoder(Meta)
_CONFIG = msgspec.json.Decoder(NodeConfig)


class Checksum(msgspec.Struct, frozen=True):
    name: str = ""
    checksum: str = ""


class Node(msgspec.Struct, frozen=True):
    """A node of any type. Most nodes are tests, which no rule reads: their
    bulky parts stay raw bytes, decoded only for the node types rules judge."""

    unique_id: str
    resource_type: str
    package_name: str
    name: str
    original_file_path: str = ""
    path: str = ""
    patch_path: str | None = None
    description: str | None = ""
    raw_columns: msgspec.Raw = msgspec.field(name="columns", default=_EMPTY)
    raw_meta: msgspec.Raw = msgspec.field(name="meta", default=_EMPTY)
    raw_config: msgspec.Raw = msgspec.field(name="config", default=_EMPTY)
    tags: list[str] = []
    group: str | None = None
    access: str | None = None
    contract: Contract | None = None
    depends_on: DependsOn = DependsOn()
    version: str | int | float | None = None
    latest_version: str | int | float | None = None
    raw_code: str = ""
    compiled_code: str | None = None
    relation_name: str | None = None
    alias: str | None = None
    checksum: Checksum = Checksum()
    language: str | None = "sql"

    @property
    def columns(self) -> dict[str, Column]:
        return _COLUMNS.decode(self.raw_columns) if len(self.raw_columns) > 2 else {}

    @property
    def meta(self) -> Meta:
        return _META.decode(self.raw_meta) if len(self.raw_meta) > 2 else {}

    @property
    def config(self) -> NodeConfig:
        return _CONFIG.decode(self.raw_config) if len(self.raw_config) > 2 else NodeConfig()


class SourceConfig(msgspec.Struct, frozen=True):
    enabled: bool = True
    meta: Meta = {}


class Source(msgspec.Struct, frozen=True):
    unique_id: str
    package_name: str
    name: str
    source_name: str
    original_file_path: str = ""
    description: str | None = ""
    source_description: str | None = ""
    columns: dict[str, Column] = {}
    meta: Meta = {}
    source_meta: Meta = {}
    config: SourceConfig = SourceConfig()
    tags: list[str] = []
    relation_name: str | None = None


class ExposureOwner(msgspec.Struct, frozen=True):
    name: str | None = None
    email: str | None = None


class Exposure(msgspec.Struct, frozen=True):
    unique_id: str
    package_name: str
    name: str
    original_file_path: str = ""
    description: str | None = ""
    meta: Meta = {}
    config: SourceConfig = SourceConfig()
    tags: list[str] = []
    owner: ExposureOwner | None = None
    depends_on: DependsOn = DependsOn()


class GroupedConfig(msgspec.Struct, frozen=True):
    enabled: bool = True
    meta: Meta = {}
    group: str | None = None


class Metric(msgspec.Struct, frozen=True):
    unique_id: str
    package_name: str
    name: str
    original_file_path: str = ""
    description: str | None = ""
    label: str | None = None
    type: str | None = None
    meta: Meta = {}
    config: GroupedConfig = GroupedConfig()
    group: str | None = None
    tags: list[str] = []


# The semantic layer: what metrics compute. dbt 1.6-1.11 (the "legacy" YAML
# layout) aggregates measures of semantic models; dbt 1.12 and Fusion (the
# "latest" layout, metrics declared under models) put the aggregation on the
# simple metric itself (`metric_aggregation_params`). Both are read here.


class TimeWindow(msgspec.Struct, frozen=True):
    count: int = 0
    granularity: str = ""


Window = TimeWindow | str | None


class InputRef(msgspec.Struct, frozen=True):
    """A measure or metric that a metric reads, with its own filter, alias, offset."""

    name: str = ""
    filter: object = None  # where filters: their shape changed across dbt versions
    alias: str | None = None
    offset_window: Window = None
    offset_to_grain: str | None = None
    fill_nulls_with: int | float | str | None = None
    join_to_timespine: bool = False


Input = InputRef | str | None


class AggParams(msgspec.Struct, frozen=True):
    percentile: float | None = None
    use_discrete_percentile: bool = False
    use_approximate_percentile: bool = False


class AggregationParams(msgspec.Struct, frozen=True):
    semantic_model: str | None = None
    agg: str | None = None
    agg_params: AggParams | None = None
    expr: str | int | float | None = None


class ConstantProperty(msgspec.Struct, frozen=True):
    base_property: str = ""
    conversion_property: str = ""


class ConversionParams(msgspec.Struct, frozen=True):
    base_measure: Input = None
    conversion_measure: Input = None
    entity: str | None = None
    calculation: str | None = None
    window: Window = None
    constant_properties: list[ConstantProperty] | None = None


class CumulativeParams(msgspec.Struct, frozen=True):
    window: Window = None
    grain_to_date: str | None = None
    period_agg: str | None = None
    metric: Input = None


class MetricTypeParams(msgspec.Struct, frozen=True):
    measure: Input = None
    numerator: Input = None
    denominator: Input = None
    expr: str | int | float | None = None
    window: Window = None
    grain_to_date: str | None = None
    metrics: list[InputRef | str] | None = None
    conversion_type_params: ConversionParams | None = None
    cumulative_type_params: CumulativeParams | None = None
    metric_aggregation_params: AggregationParams | None = None


class MetricDefinition(Metric, frozen=True):
    """A metric with what it computes (``Metric`` keeps what every resource has)."""

    type_params: MetricTypeParams = MetricTypeParams()
    filter: object = None
    depends_on: DependsOn = DependsOn()


class NonAdditive(msgspec.Struct, frozen=True):
    """A semi-additive measure's dimension (a balance: its last day, not a sum)."""

    name: str = ""
    window_choice: str | None = None
    window_groupings: list[str] | None = None


class Measure(msgspec.Struct, frozen=True):
    name: str
    agg: str | None = None
    expr: str | int | float | None = None
    agg_params: AggParams | None = None
    create_metric: bool = False
    label: str | None = None
    agg_time_dimension: str | None = None
    non_additive_dimension: NonAdditive | None = None


class ModelDefaults(msgspec.Struct, frozen=True):
    agg_time_dimension: str | None = None


class Entity(msgspec.Struct, frozen=True):
    name: str
    type: str | None = None


class Dimension(msgspec.Struct, frozen=True):
    name: str
    type: str | None = None


class NodeRelation(msgspec.Struct, frozen=True):
    relation_name: str | None = None
    alias: str | None = None


class SemanticModelDefinition(Metric, frozen=True):
    model: str | None = None
    node_relation: NodeRelation | None = None
    defaults: ModelDefaults | None = None
    measures: list[Measure] = []
    entities: list[Entity] = []
    dimensions: list[Dimension] = []
    primary_entity: str | None = None
    depends_on: DependsOn = DependsOn()


class QueryParams(msgspec.Struct, frozen=True):
    metrics: list[str] = []
    group_by: list[str] = []
    where: object = None


class SavedQuery(msgspec.Struct, frozen=True):
    unique_id: str
    package_name: str
    name: str
    original_file_path: str = ""
    description: str | None = ""
    label: str | None = None
    query_params: QueryParams = QueryParams()
    config: GroupedConfig = GroupedConfig()


def where_templates(value: object) -> tuple[str, ...]:
    """The SQL templates of a metric filter, whatever its manifest shape: dbt 1.6
    wrote ``{"where_sql_template": ...}``, later versions ``{"where_filters": [...]}``."""
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, list):
        return tuple(t for item in value for t in where_templates(item))
    if isinstance(value, dict):
        if "where_filters" in value:
            return where_templates(value["where_filters"])
        return where_templates(value.get("where_sql_template"))
    return ()


class Group(msgspec.Struct, frozen=True):
    unique_id: str
    package_name: str
    name: str
    original_file_path: str = ""
    owner: ExposureOwner | None = None
    description: str | None = ""


class Macro(msgspec.Struct, frozen=True):
    unique_id: str
    package_name: str
    name: str
    original_file_path: str = ""
    patch_path: str | None = None
    description: str | None = ""
    meta: Meta = {}
    macro_sql: str = ""


class Metadata(msgspec.Struct, frozen=True):
    dbt_schema_version: str = ""
    dbt_version: str = ""
    project_name: str | None = None
    adapter_type: str | None = None


class Function(msgspec.Struct, frozen=True):
    """A user-defined function (dbt 1.11+), which a model calls by `function('name')`."""

    unique_id: str
    package_name: str
    name: str
    database: str | None = None
    schema: str | None = None
    alias: str | None = None
    relation_name: str | None = None


class Manifest(msgspec.Struct, frozen=True):
    metadata: Metadata
    nodes: dict[str, Node] = {}
    sources: dict[str, Source] = {}
    exposures: dict[str, Exposure] = {}
    metrics: dict[str, MetricDefinition] = {}
    semantic_models: dict[str, SemanticModelDefinition] = {}
    groups: dict[str, Group] = {}
    macros: dict[str, Macro] = {}
    saved_queries: dict[str, SavedQuery] = {}
    functions: dict[str, Function] = {}


class MacroCalls(msgspec.Struct, frozen=True):
    macros: list[str] = []  # the unique ids of the macros a node or macro calls


class _CallsMacros(msgspec.Struct, frozen=True):
    depends_on: MacroCalls = MacroCalls()


class CallingMacro(Macro, frozen=True):
    depends_on: MacroCalls = MacroCalls()


class MacrosOnly(msgspec.Struct, frozen=True):
    """A manifest's metadata and macros, the rest skipped (see ``decode_macros``)."""

    metadata: Metadata
    macros: dict[str, CallingMacro] = {}
    nodes: dict[str, msgspec.Raw] = {}

    def called_by_models(self) -> list[CallingMacro]:
        """The macros the models call, as dbt recorded them, and the macros those
        call, each once, in the order of first call."""
        seen: dict[str, CallingMacro] = {}
        waiting = [
            uid
            for key, raw in self.nodes.items()
            if key.startswith("model.")
            for uid in _CALLS.decode(raw).depends_on.macros
        ]
        waiting.reverse()
        while waiting:
            uid = waiting.pop()
            macro = self.macros.get(uid)
            if macro is None or uid in seen:
                continue
            seen[uid] = macro
            waiting.extend(reversed(macro.depends_on.macros))
        return list(seen.values())

    def calling(self, macro_files: Collection[str]) -> set[str]:
        """The unique ids of the nodes (not tests) that call a macro of this project
        defined in one of ``macro_files`` (paths from the project's folder), directly
        or through other macros."""
        project = self.metadata.project_name
        called = {
            uid
            for uid, macro in self.macros.items()
            if posix(macro.original_file_path) in macro_files
            and (project is None or macro.package_name == project)
        }
        callers: dict[str, list[str]] = {}
        for uid, macro in self.macros.items():
            for callee in macro.depends_on.macros:
                callers.setdefault(callee, []).append(uid)
        waiting = list(called)
        while waiting:  # the macros that call a changed one, at any depth
            for caller in callers.get(waiting.pop(), ()):
                if caller not in called:
                    called.add(caller)
                    waiting.append(caller)
        if not called:
            return set()
        return {
            uid
            for uid, raw in self.nodes.items()
            if not uid.startswith(_SKIPPED_NODES)
            and called.intersection(_CALLS.decode(raw).depends_on.macros)
        }


class _DocBlock(msgspec.Struct, frozen=True):
    package_name: str = ""
    original_file_path: str = ""
    block_contents: str = ""


class _Described(msgspec.Struct, frozen=True):
    description: str | None = ""
    columns: dict[str, _Description] = {}


class _Description(msgspec.Struct, frozen=True):
    description: str | None = ""


class _GroupConfig(msgspec.Struct, frozen=True):
    group: str | None = None


class _Grouped(msgspec.Struct, frozen=True):
    config: _GroupConfig = _GroupConfig()
    group: str | None = None  # before dbt 1.8, also at the top level


class ChangeScope(MacrosOnly, frozen=True):
    """What tells which resources a changed file affects besides those it defines:
    the macros (and who calls them), the doc blocks and what carries a description,
    the groups; decoded in one pass over the manifest (each pass is most of the
    cost: 0.13 s on 5,000 models, all of them together 0.15 s)."""

    docs: dict[str, _DocBlock] = {}
    groups: dict[str, Group] = {}
    sources: dict[str, _Described] = {}
    exposures: dict[str, _Described] = {}

    def describing(self, doc_files: Collection[str]) -> set[str]:
        """The unique ids of the resources whose description, or a column's, holds
        a doc block of this project written in one of ``doc_files`` (`{{ doc() }}`
        leaves only the block's text in the manifest)."""
        project = self.metadata.project_name
        blocks = {
            doc.block_contents.strip()
            for doc in self.docs.values()
            if posix(doc.original_file_path) in doc_files
            and (project is None or doc.package_name == project)
        }
        blocks.discard("")
        if not blocks:
            return set()
        described = [
            (uid, _DESCRIBED.decode(raw))
            for uid, raw in self.nodes.items()
            if not uid.startswith(_SKIPPED_NODES)
        ]
        found = set()
        for uid, item in (*described, *self.sources.items(), *self.exposures.items()):
            texts = [item.description or "", *(c.description or "" for c in item.columns.values())]
            if any(block in text for text in texts if text for block in blocks):
                found.add(uid)
        return found

    def members(self, files: Collection[str]) -> set[str]:
        """The unique ids of the nodes in a group of this project that one of
        ``files`` declares: its owner is theirs (a changed group owner changes
        their findings)."""
        project = self.metadata.project_name
        names = {
            g.name
            for g in self.groups.values()
            if posix(g.original_file_path) in files
            and (project is None or g.package_name == project)
        }
        if not names:
            return set()
        found = set()
        for uid, raw in self.nodes.items():
            if uid.startswith(_SKIPPED_NODES):
                continue
            node = _GROUPED.decode(raw)
            if (node.config.group or node.group) in names:
                found.add(uid)
        return found


def decode_scope(data: bytes) -> ChangeScope:
    return _SCOPE.decode(data)


def decode_macros(data: bytes) -> MacrosOnly:
    """The metadata and macros of manifest bytes, decoded as :func:`decode_manifest`
    decodes them (no error message: the caller decodes the whole for that)."""
    return _MACROS.decode(data)


class _Envelope(Manifest, frozen=True):
    """The manifest with its nodes still raw: most nodes are tests (115,000 of
    135,000 in a 20,000-model project), which no rule reads; building them would
    be most of the decoding time."""

    nodes: dict[str, msgspec.Raw] = {}  # type: ignore[assignment]


_DECODER = msgspec.json.Decoder(_Envelope)
_MACROS = msgspec.json.Decoder(MacrosOnly)
_CALLS = msgspec.json.Decoder(_CallsMacros)
_SCOPE = msgspec.json.Decoder(ChangeScope)
_DESCRIBED = msgspec.json.Decoder(_Described)
_GROUPED = msgspec.json.Decoder(_Grouped)
_NODE = msgspec.json.Decoder(Node)
# unique ids start with the resource type: these nodes are never decoded
_SKIPPED_NODES = ("test.", "unit_test.", "operation.", "sql_operation.")


class _NodeError(Exception):
    """A node that does not decode: its id and msgspec's complaint."""

    def __init__(self, uid: str, error: msgspec.ValidationError) -> None:
        super().__init__(uid)
        self.uid = uid
        self.error = error

    def message(self) -> str:
        """msgspec's message, with its path (within the node) from the manifest's root."""
        text = str(self.error)
        where = f"`$.nodes[{json.dumps(self.uid)}]"
        if " - at `$" in text:
            return text.replace(" - at `$", f" - at {where}", 1)
        return f"{text} - at {where}`"


def _decode(data: bytes) -> Manifest:
    envelope = _DECODER.decode(data)
    nodes = {}
    for uid, raw in envelope.nodes.items():
        if uid.startswith(_SKIPPED_NODES):
            continue
        try:
            nodes[uid] = _NODE.decode(raw)
        except msgspec.ValidationError as exc:  # named: the envelope's path stops at `nodes`
            raise _NodeError(uid, exc) from None
    fields = {name: getattr(envelope, name) for name in Manifest.__struct_fields__}
    return Manifest(**{**fields, "nodes": nodes})


def schema_version(data: bytes, shown: str) -> int:
    """The manifest schema version, read from the metadata at the file's head."""
    found = _SCHEMA_RE.search(data, 0, 1 << 16)
    if found is None:
        raise ArtifactError(
            "not a dbt manifest: no metadata.dbt_schema_version "
            "(expected target/manifest.json written by `dbt parse`)",
            shown,
        )
    return int(found.group(1))


def decode_manifest(data: bytes, shown: str) -> Manifest:
    """Decode manifest bytes; every problem becomes one :class:`ArtifactError`."""
    version = schema_version(data, shown)
    if version not in SUPPORTED_SCHEMAS:
        supported = ", ".join(f"v{v}" for v in SUPPORTED_SCHEMAS)
        raise ArtifactError(
            f"unsupported manifest schema v{version}; normcheck reads {supported} "
            "(dbt 1.6 and later): re-run `dbt parse` with a supported dbt version",
            shown,
        )
    try:
        return _decode(data)
    except _NodeError as exc:
        line = _key_line(data, exc.uid)
        raise ArtifactError(f"unexpected manifest content: {exc.message()}", shown, line) from None
    except msgspec.ValidationError as exc:
        raise ArtifactError(f"unexpected manifest content: {exc}", shown) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        if _not_utf8(exc):  # msgspec checks the UTF-8 of each string it builds
            raise ArtifactError(
                "file is not valid UTF-8: re-run `dbt parse`", shown, _utf8_error_line(data)
            ) from None
        raise ArtifactError(_decode_error(exc, data), shown, json_error_line(exc, data)) from None
    except RecursionError:
        raise ArtifactError(
            "JSON nested too deeply (dbt never writes that): re-run `dbt parse`", shown
        ) from None


def _key_line(data: bytes, key: str) -> int | None:
    """The line where ``"key":`` first stands in the JSON (dbt writes one line)."""
    found = re.search(re.escape(json.dumps(key).encode()) + rb"\s*:", data)
    return None if found is None else data.count(b"\n", 0, found.start()) + 1


def _not_utf8(exc: Exception) -> bool:
    """Whether msgspec refused a string's bytes: a UnicodeDecodeError up to msgspec
    0.22, a DecodeError saying so from 0.23 on."""
    return isinstance(exc, UnicodeDecodeError) or "UTF-8" in str(exc)


def _utf8_error_line(data: bytes) -> int | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    return None


def node_parts(node: Node, shown: str) -> tuple[NodeConfig, Meta]:
    """Decode a node's config and meta (kept raw until a rule needs them)."""
    with _decoding(node, shown):
        return node.config, node.meta


def node_columns(node: Node, shown: str) -> dict[str, Column]:
    """Decode a node's columns (kept raw until a rule needs them)."""
    with _decoding(node, shown):
        return node.columns


@contextlib.contextmanager
def _decoding(node: Node, shown: str) -> Iterator[None]:
    try:
        yield
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
        if _not_utf8(exc):  # the raw parts were skipped, not checked, by the first pass
            raise ArtifactError(
                f"`{node.unique_id}` holds text that is not valid UTF-8: re-run `dbt parse`", shown
            ) from None
        raise ArtifactError(f"unexpected content in `{node.unique_id}`: {exc}", shown) from None


def _identity(path: str) -> tuple[int, int, int, int]:
    found = Path(path).stat()
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


class _Read(threading.Thread):
    """A file's bytes, read on a thread: reading releases the GIL, so the
    checking process loads its configuration meanwhile. ``data`` is None when
    the file could not be read; ``identity`` is the file's before the read
    (the bytes are used only while it is the file's still)."""

    def __init__(self, path: str, identity: tuple[int, int, int, int]) -> None:
        super().__init__(name="normcheck-manifest-read", daemon=True)
        self.path = path
        self.identity = identity
        self.data: bytes | None = None

    def run(self) -> None:
        with contextlib.suppress(OSError, ArtifactError):  # load_manifest reads it again, says why
            self.data = unpacked(Path(self.path).read_bytes(), self.path)


_READS: dict[str, _Read] = {}


@contextlib.contextmanager
def prefetching(path: Path | None) -> Iterator[None]:
    """Read ``path`` on a thread while the block runs; :func:`load_manifest`
    of the same file, unchanged since, takes those bytes instead of reading it.
    The thread is waited for when the block ends. None: nothing read."""
    if path is not None:
        with contextlib.suppress(OSError):  # missing: load_manifest reports it, if asked
            key = str(path.resolve())
            if stat.S_ISREG(Path(key).stat().st_mode):
                # not a pipe (`mkfifo`): opened on a thread, it would wait for a writer
                # where nothing can stop it (each Ctrl-C met the thread's join again)
                reader = _Read(key, _identity(key))
                _READS[key] = reader
                reader.start()
    try:
        yield
    finally:
        drop_reads()


def settle_reads() -> None:
    """Wait for the reads under way (before forking: no thread may be running)."""
    for reader in list(_READS.values()):
        reader.join()


def drop_reads() -> None:
    """Wait for the reads under way and forget what they read."""
    settle_reads()
    _READS.clear()


def prefetched(path: Path, keep: bool = False) -> bytes | None:
    """The bytes of ``path`` read ahead (see :func:`prefetching`), if the file is
    still as it was; they are forgotten unless ``keep``."""
    key = str(path.resolve())
    reader = _READS.get(key) if keep else _READS.pop(key, None)
    if reader is None:
        return None
    reader.join()
    try:
        unchanged = _identity(key) == reader.identity
    except OSError:
        return None
    return reader.data if unchanged else None


def load_manifest(path: Path, shown: str | None = None) -> Manifest:
    shown = shown or str(path)
    try:
        data = prefetched(path) or unpacked(path.read_bytes(), shown)
    except FileNotFoundError:
        raise ArtifactError(
            "manifest not found: run `dbt parse` in the project first, or pass --manifest",
            shown,
        ) from None
    except OSError as exc:
        raise ArtifactError(f"cannot read manifest: {exc.strerror}", shown) from None
    return decode_manifest(data, shown)


_BYTE_RE = re.compile(r"\(byte (\d+)\)")


def json_error_line(exc: Exception, data: bytes) -> int | None:
    """The line of the JSON error msgspec reports at a byte (the last line when
    the file is cut short)."""
    found = _BYTE_RE.search(str(exc))
    if found is not None:
        return data.count(b"\n", 0, int(found.group(1))) + 1
    if "truncated" in str(exc) and data:
        return data.count(b"\n") + 1
    return None


def _decode_error(exc: Exception, data: bytes) -> str:
    text = _BYTE_RE.sub("", str(exc)).strip()
    if not data.strip():
        return "file is empty: re-run `dbt parse`"
    found = _BYTE_RE.search(str(exc))
    at = int(found.group(1)) if found else -1
    if at > 0 and data[at - 1 : at] == b"-":  # the sign of `-Infinity`
        at -= 1
    if at >= 0 and data[at : at + 9].lstrip(b"-").startswith((b"NaN", b"Infinity")):
        # dbt writes a YAML `.nan` / `.inf` as is, which JSON has no word for
        word = data[at : at + 9].split(b",")[0].split(b"}")[0].split(b"]")[0].decode()
        return (
            f"`{word.strip()}` is not JSON: dbt wrote a `.nan` or `.inf` from a YAML file "
            "(a `meta` value, say) as is; give it a number or text there and re-run `dbt parse`"
        )
    return f"invalid JSON ({text}): the file is truncated or not JSON; re-run `dbt parse`"
