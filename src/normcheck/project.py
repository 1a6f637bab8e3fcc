"""The model stage: raw artifacts -> one read-only :class:`Project`.

Every resource a rule can judge (models, seeds, snapshots, sources, exposures,
metrics, semantic models, macros, groups and their columns) becomes a
:class:`Resource` with its owner resolved and the place it is declared."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import msgspec

from normcheck._yaml import Step
from normcheck.artifacts.catalog import Catalog
from normcheck.artifacts.manifest import (
    Column,
    ExposureOwner,
    Function,
    Group,
    Macro,
    Manifest,
    Meta,
    Node,
    NodeConfig,
    node_columns,
    node_parts,
    posix,
)
from normcheck.semantic import EMPTY_LAYER, SemanticLayer, build_semantic_layer
from normcheck.sqlfacts import EPHEMERAL_PREFIX, MacroSource
from normcheck.tracking.model import Plan, PlanEvent, PlanProperty

NODE_TYPES = ("model", "seed", "snapshot")
PROPERTY_SECTIONS = {
    "model": "models",
    "seed": "seeds",
    "snapshot": "snapshots",
    "macro": "macros",
    "exposure": "exposures",
    "metric": "metrics",
    "semantic_model": "semantic_models",
    "group": "groups",
}


class Resource(msgspec.Struct, frozen=True, kw_only=True):
    """One thing a rule can judge. ``file`` is where it is defined (the SQL of
    a model, the YAML of a source); ``yaml_file``/``yaml_steps`` locate its
    entry in a properties file, when it has one."""

    uid: str
    type: str
    name: str
    package: str
    file: str
    yaml_file: str | None = None
    yaml_steps: tuple[Step, ...] = ()
    description: str | None = None
    meta: Mapping[str, object] = msgspec.field(default_factory=dict)
    tags: tuple[str, ...] = ()
    group: str | None = None
    owner: str | None = None
    access: str | None = None
    contract_enforced: bool = False
    depends_on: tuple[str, ...] = ()
    data_type: str | None = None
    parent: str | None = None
    raw_code: str = ""
    columns: tuple[str, ...] = ()
    label: str | None = None
    # for SQL analysis
    compiled_code: str | None = None
    relation: str = ""  # the relation name ref()/source() render to
    version: str | None = None
    latest_version: str | None = None  # of a versioned model: the one `ref()` without `v=` reads
    source_name: str | None = None
    materialized: str | None = None
    checksum: str = ""
    language: str = "sql"
    line: int | None = None  # for resources found in SQL: the line in `file`
    ignore_lines: tuple[int, ...] = ()  # plans: each `meta.normcheck.ignore` entry's line
    from_sql: bool = False  # a column the SQL produces that no YAML documents


@dataclass(frozen=True)
class Project:
    """All resources of one dbt project, read-only."""

    name: str
    adapter: str | None
    root: Path
    resources: Mapping[str, Resource]
    groups: Mapping[str, Group]
    dbt_version: str = ""
    macros: tuple[MacroSource, ...] = ()
    plans: tuple[Plan, ...] = ()
    plan_items: Mapping[str, tuple[Plan, PlanEvent | PlanProperty]] = field(default_factory=dict)
    semantic: SemanticLayer = EMPTY_LAYER  # metrics, semantic models, measures, saved queries
    # user-defined functions (dbt 1.11+): (package, name, what `function('name')` renders to)
    functions: tuple[tuple[str, str, str], ...] = ()

    def of_type(self, *types: str) -> Iterator[Resource]:
        for resource in self.resources.values():
            if resource.type in types:
                yield resource

    def owned(self, resource: Resource) -> bool:
        """True for the root project's resources (installed packages are not judged)."""
        return resource.package == self.name


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _code(code: str) -> str:
    """A model's code as an editor shows its lines: dbt keeps the byte order mark
    a Windows editor (SSMS, Notepad) wrote at its start, which no SQL dialect
    parses, and the lone carriage returns ending a classic-Mac file's lines, which
    line numbers and suppression comments, read line by line, missed."""
    code = code.removeprefix("\ufeff")
    return code.replace("\r\n", "\n").replace("\r", "\n") if "\r" in code else code


def _merged_meta(config_meta: Meta, meta: Meta) -> Meta:
    """``config.meta`` wins over the legacy top-level ``meta``. (Both are
    freshly decoded dicts: one that is empty need not be copied.)"""
    if not config_meta:
        return meta
    if not meta:
        return config_meta
    merged = dict(meta)
    merged.update(config_meta)
    return merged


def _group_owner(
    owner: ExposureOwner | None, registry: Mapping[str, Mapping[str, object]] | None = None
) -> str | None:
    """A group's or exposure's owner: its name, else its email; with an `owners:`
    registry, the team either names (`{name: Finance Team, email: f@x.io}` is
    `finance` when that is finance's email)."""
    if owner is None:
        return None
    name, email = _text(owner.name), _text(owner.email)
    for said in (name, email) if registry else ():
        team = registered_team(said, registry or {})
        if team is not None:
            return team
    return name or email


def registered_team(owner: str | None, registry: Mapping[str, Mapping[str, object]]) -> str | None:
    """The `owners:` key an owner names: the key itself, or the key whose email it
    is (`g@x.io` is `growth` when growth's email is g@x.io); None when neither."""
    if not owner:
        return None
    if owner in registry:
        return owner
    return next((key for key, team in registry.items() if team.get("email") == owner), None)


def _tags(*values: object) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list):
            out.extend(v for v in value if isinstance(v, str))
    return tuple(sorted(set(out)))


def _strip_package(patch_path: str | None) -> str | None:
    if not patch_path:
        return None
    return posix(patch_path.split("://", 1)[1] if "://" in patch_path else patch_path)


def _relation(node: Node, config: NodeConfig) -> str:
    """What `ref()` to the node renders to: an ephemeral model is no relation but a
    CTE dbt names `__dbt__cte__<alias>` (also its `{{ this }}`)."""
    if config.materialized == "ephemeral" and node.resource_type == "model":
        return f"{EPHEMERAL_PREFIX}{node.alias or node.name}"
    return node.relation_name or node.alias or node.name


def _dotted(function: Function) -> str:
    """A function's name as `function()` renders it (dbt leaves `relation_name` unset)."""
    return ".".join(p for p in (function.database, function.schema, function.alias) if p)


def _version_text(version: object) -> str | None:
    if version is None:
        return None
    if isinstance(version, float) and version.is_integer():
        return str(int(version))
    return str(version)


class _Builder:
    def __init__(
        self,
        manifest: Manifest,
        catalog: Catalog | None,
        shown: str,
        columns: bool = True,
        registry: Mapping[str, Mapping[str, object]] | None = None,
    ) -> None:
        self.shown = shown
        self.all_columns = columns
        self.manifest = manifest
        self.catalog = catalog
        self.project = manifest.metadata.project_name or _guess_root(manifest)
        self.registry = registry or {}
        # a group's owner by its name: the root project's group before an installed
        # package's of the same name (the root project's resources name their own)
        self.group_owners = {
            g.name: _group_owner(g.owner, self.registry)
            for g in sorted(manifest.groups.values(), key=self._root_last)
        }
        self.resources: dict[str, Resource] = {}
        self.semantic = EMPTY_LAYER
        # the resources whose columns are built in the second pass, with their
        # node (None for a source) and their steps in the YAML
        self.later: list[tuple[Resource, Node | None, Mapping[str, Column], tuple[Step, ...]]] = []

    def _root_last(self, group: Group) -> tuple[bool, str]:
        return (group.package_name == self.project, group.unique_id)

    def owner(self, meta: Mapping[str, object], group: str | None) -> str | None:
        return _text(meta.get("owner")) or (self.group_owners.get(group) if group else None)

    def created_metric_groups(self) -> dict[str, str]:
        """A metric made by a measure's `create_metric: true` is in the group of
        its semantic model (dbt copies the semantic model's meta, not its group)."""
        groups = {
            sm.name: sm.config.group or sm.group for sm in self.manifest.semantic_models.values()
        }
        out = {}
        for spec in self.semantic.metrics.values():
            measure = self.semantic.measures.get(spec.from_measure or "")
            group = groups.get(measure.semantic_model) if measure else None
            if group:
                out[spec.uid] = group
        return out

    def add(self, resource: Resource) -> None:
        self.resources[resource.uid] = resource

    def columns(
        self,
        parent: Resource,
        columns: Mapping[str, Column],
        steps: tuple[Step, ...],
    ) -> tuple[str, ...]:
        if parent.package != self.project:
            return ()
        types = self.catalog.column_types(parent.uid) if self.catalog else None
        file = parent.yaml_file or parent.file
        in_yaml = (*steps, "columns")
        resources = self.resources  # 300,000 columns in a big project: kept lean
        uids = []
        for column in columns.values():
            name = column.name
            uid = f"{parent.uid}.{name}"
            meta = column.meta
            if column.config is not None and column.config.meta:
                meta = _merged_meta(column.config.meta, meta)
            resources[uid] = Resource(
                uid=uid,
                type="column",
                name=name,
                package=parent.package,
                file=file,
                yaml_file=parent.yaml_file,
                yaml_steps=(*in_yaml, ("name", name)),
                description=column.description,
                meta=meta,
                group=parent.group,
                owner=parent.owner,
                data_type=(types.get(name.lower()) if types else None) or column.data_type,
                parent=parent.uid,
            )
            uids.append(uid)
        return tuple(uids)

    def node(self, node: Node) -> None:
        config, node_meta = node_parts(node, self.shown)
        if not config.enabled:
            return
        meta = _merged_meta(config.meta, node_meta)
        group = config.group or node.group
        version = _version_text(node.version)
        section = PROPERTY_SECTIONS[node.resource_type]
        steps: tuple[Step, ...] = (section, ("name", node.name))
        if version is not None:
            steps = (*steps, "versions", ("v", version))
        contract = config.contract or node.contract
        resource = Resource(
            uid=node.unique_id,
            type=node.resource_type,
            name=node.name,
            package=node.package_name,
            file=posix(node.original_file_path),
            yaml_file=_strip_package(node.patch_path),
            yaml_steps=steps,
            description=node.description,
            meta=meta,
            tags=_tags(node.tags, config.tags),
            group=group,
            owner=self.owner(meta, group),
            access=config.access or node.access,
            contract_enforced=bool(contract and contract.enforced),
            depends_on=tuple(node.depends_on.nodes),
            raw_code=_code(node.raw_code),
            compiled_code=None if node.compiled_code is None else _code(node.compiled_code),
            relation=_relation(node, config),
            version=version,
            latest_version=_version_text(node.latest_version),
            materialized=config.materialized,
            checksum=node.checksum.checksum,
            language=node.language or "sql",
        )
        self.add(resource)
        self.later.append((resource, node, {}, steps))

    def node_columns(self, node: Node) -> Mapping[str, Column]:
        if self.all_columns:
            return node_columns(node, self.shown)
        if not _may_suppress(node.raw_columns):
            return {}
        return _suppressing(node_columns(node, self.shown))

    def add_columns(self) -> None:
        """The second pass: the columns of the nodes and sources of the first."""
        for resource, node, columns, steps in self.later:
            if node is not None:
                columns = self.node_columns(node)
            self.add(_replace_columns(resource, self.columns(resource, columns, steps)))
        self.later = []

    def as_project(self, root: Path) -> Project:
        m = self.manifest
        return Project(
            name=self.project,
            adapter=m.metadata.adapter_type,
            root=root,
            resources=self.resources,
            groups={g.name: g for g in sorted(m.groups.values(), key=self._root_last)},
            dbt_version=m.metadata.dbt_version,
            macros=macro_sources(m.macros),
            semantic=self.semantic,
            functions=tuple(
                (f.package_name, f.name, f.relation_name or _dotted(f))
                for f in m.functions.values()
            ),
        )

    def build(self, root: Path, relations_ready: Callable[[Project], None] | None) -> Project:
        m = self.manifest
        for node in m.nodes.values():
            if node.resource_type in NODE_TYPES:
                self.node(node)
        for source in m.sources.values():
            if not source.config.enabled:
                continue
            # the table's own meta wins over its source's (`config.meta` holds what the
            # table inherits from the source's `config:` already)
            meta = _merged_meta(_merged_meta(source.config.meta, source.meta), source.source_meta)
            steps: tuple[Step, ...] = (
                "sources",
                ("name", source.source_name),
                "tables",
                ("name", source.name),
            )
            resource = Resource(
                uid=source.unique_id,
                type="source",
                name=source.name,
                package=source.package_name,
                file=posix(source.original_file_path),
                yaml_file=posix(source.original_file_path),
                yaml_steps=steps,
                description=source.description,
                meta=meta,
                tags=_tags(source.tags),
                owner=self.owner(meta, None),
                relation=source.relation_name or source.name,
                source_name=source.source_name,
            )
            columns = source.columns if self.all_columns else _suppressing(source.columns)
            self.add(resource)
            self.later.append((resource, None, columns, steps))
        if relations_ready is not None:
            ready = self.as_project(root)
            relations_ready(replace(ready, resources=dict(ready.resources)))
        self.add_columns()
        for exposure in m.exposures.values():
            if not exposure.config.enabled:
                continue
            meta = _merged_meta(exposure.config.meta, exposure.meta)
            self.add(
                Resource(
                    uid=exposure.unique_id,
                    type="exposure",
                    name=exposure.name,
                    package=exposure.package_name,
                    file=posix(exposure.original_file_path),
                    yaml_file=posix(exposure.original_file_path),
                    yaml_steps=("exposures", ("name", exposure.name)),
                    description=exposure.description,
                    meta=meta,
                    tags=_tags(exposure.tags),
                    owner=_text(meta.get("owner")) or _group_owner(exposure.owner, self.registry),
                    depends_on=tuple(exposure.depends_on.nodes),
                )
            )
        self.semantic = build_semantic_layer(
            m, {uid: _merged_meta(x.config.meta, x.meta) for uid, x in m.metrics.items()}
        )
        created_in = self.created_metric_groups()
        for kind, items in (("metric", m.metrics), ("semantic_model", m.semantic_models)):
            for item in items.values():
                if not item.config.enabled:
                    continue
                meta = _merged_meta(item.config.meta, item.meta)
                group = item.config.group or item.group or created_in.get(item.unique_id)
                self.add(
                    Resource(
                        uid=item.unique_id,
                        type=kind,
                        name=item.name,
                        package=item.package_name,
                        file=posix(item.original_file_path),
                        yaml_file=posix(item.original_file_path),
                        yaml_steps=self.semantic.yaml_steps.get(
                            item.unique_id, (PROPERTY_SECTIONS[kind], ("name", item.name))
                        ),
                        description=item.description,
                        meta=meta,
                        tags=_tags(item.tags),
                        group=group,
                        owner=self.owner(meta, group),
                        label=item.label,
                    )
                )
        for grp in m.groups.values():
            self.add(
                Resource(
                    uid=grp.unique_id,
                    type="group",
                    name=grp.name,
                    package=grp.package_name,
                    file=posix(grp.original_file_path),
                    yaml_file=posix(grp.original_file_path),
                    yaml_steps=("groups", ("name", grp.name)),
                    description=grp.description,
                    owner=_group_owner(grp.owner, self.registry),
                )
            )
        for macro in m.macros.values():
            if macro.package_name != self.project:
                continue  # dbt's own and installed packages' macros are never judged
            self.add(
                Resource(
                    uid=macro.unique_id,
                    type="macro",
                    name=macro.name,
                    package=macro.package_name,
                    file=posix(macro.original_file_path),
                    yaml_file=_strip_package(macro.patch_path),
                    yaml_steps=("macros", ("name", macro.name)),
                    description=macro.description,
                    meta=dict(macro.meta),
                    owner=_text(macro.meta.get("owner")),
                )
            )
        return self.as_project(root)


# searched in the bytes in place (no copy); two plain searches are several times
# faster than one alternation (`normcheck|\\u`) over 64 MB of columns at 20k models
_NAMED = re.compile(rb"normcheck")
_ESCAPED = re.compile(rb"\\u")


def _may_suppress(raw: msgspec.Raw) -> bool:
    """Whether a node's undecoded columns may hold a suppression (a `normcheck`
    meta key, perhaps written with escapes): they are then decoded, and the
    columns that do are built even when no rule judges columns, so that their
    suppressions are still checked for honesty."""
    return len(raw) > 2 and (_NAMED.search(raw) is not None or _ESCAPED.search(raw) is not None)


def _suppressing(columns: Mapping[str, Column]) -> dict[str, Column]:
    return {
        key: column
        for key, column in columns.items()
        if "normcheck" in column.meta
        or (column.config is not None and "normcheck" in column.config.meta)
    }


def _replace_columns(resource: Resource, columns: tuple[str, ...]) -> Resource:
    return msgspec.structs.replace(resource, columns=columns) if columns else resource


def macro_sources(macros: Mapping[str, Macro]) -> tuple[MacroSource, ...]:
    """The macros a model's Jinja may call, in the manifest's order."""
    return tuple(
        MacroSource(macro.package_name, macro.name, macro.macro_sql)
        for macro in macros.values()
        if macro.macro_sql
    )


def _guess_root(manifest: Manifest) -> str:
    counts: dict[str, int] = {}
    for node in manifest.nodes.values():
        if node.resource_type == "model":
            counts[node.package_name] = counts.get(node.package_name, 0) + 1
    return max(sorted(counts), key=lambda k: counts[k]) if counts else ""


def build_project(
    manifest: Manifest,
    catalog: Catalog | None,
    root: Path,
    shown: str = "manifest.json",
    columns: bool = True,
    relations_ready: Callable[[Project], None] | None = None,
    owners: Mapping[str, Mapping[str, object]] | None = None,
) -> Project:
    """The project of a manifest. ``columns=False``: no rule that runs judges
    columns, so column resources are built only where a suppression may hide in
    their meta (the project is then smaller, its findings the same).
    ``relations_ready`` is called with the project as far as it is built once
    its models, seeds, snapshots and sources are (without their columns and the
    rest): all that rendering and parsing their SQL needs, which can start then.
    ``owners``: the configuration's registry, which a group's owner given by name
    and email is resolved against."""
    return _Builder(manifest, catalog, shown, columns, owners).build(root, relations_ready)
