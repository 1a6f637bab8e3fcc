"""Reading real manifests of every supported dbt version, refusing the rest clearly."""

from __future__ import annotations

import gzip
import json
import os
import threading
from pathlib import Path

import pytest

from conftest import CORPUS, build_dbt_project
from normcheck.analysis import start_workers
from normcheck.artifacts.catalog import load_catalog
from normcheck.artifacts.manifest import (
    decode_macros,
    decode_manifest,
    load_manifest,
    prefetching,
    settle_reads,
)
from normcheck.errors import ArtifactError
from normcheck.project import build_project

COMPAT = CORPUS / "dbt" / "compat"


def unpack(path: Path, tmp: Path) -> Path:
    out = tmp / path.name.removesuffix(".gz")
    out.write_bytes(gzip.decompress(path.read_bytes()))
    return out


@pytest.mark.parametrize(
    ("name", "models"),
    [
        pytest.param("jaffle_shop_duckdb-dbt_1_6", 5, id="dbt 1.6 (v10)"),
        pytest.param("jaffle_shop_duckdb-dbt_1_7", 5, id="dbt 1.7 (v11)"),
        pytest.param("dbt-bouncer-fixture-dbt_110", None, id="dbt 1.10 (v12)"),
        pytest.param("dbt-bouncer-fixture-dbt_111", None, id="dbt 1.11 (v12)"),
        pytest.param("dbt-bouncer-fixture-dbt_112", None, id="dbt 1.12 (v12)"),
        pytest.param("dbt-bouncer-fixture-dbt_20", None, id="dbt 2.0 Fusion (v12)"),
    ],
)
def test_supported_versions_load(name, models, tmp_path):
    path = unpack(COMPAT / f"{name}.manifest.json.gz", tmp_path)
    manifest = load_manifest(path)
    raw = json.loads(path.read_text())
    own = raw["metadata"]["project_name"]
    expected = sorted(
        uid
        for uid, n in raw["nodes"].items()
        if n["resource_type"] == "model"
        and n["package_name"] == own
        and n.get("config", {}).get("enabled", True)
    )
    project = build_project(manifest, None, tmp_path)
    got = sorted(r.uid for r in project.of_type("model") if project.owned(r))
    assert got == expected
    if models is not None:
        assert len(got) == models


def test_versioned_models_keep_each_version(tmp_path):
    path = unpack(COMPAT / "dbt-bouncer-fixture-dbt_111.manifest.json.gz", tmp_path)
    project = build_project(load_manifest(path), None, tmp_path)
    versions = sorted(r.uid for r in project.of_type("model") if r.name == "customers")
    assert len(versions) >= 2
    first = project.resources[versions[0]]
    assert "versions" in first.yaml_steps


def test_v7_manifest_is_refused_with_a_clear_message(tmp_path):
    path = unpack(COMPAT / "dbt-expectations-docs-dbt_1_3.manifest.json.gz", tmp_path)
    with pytest.raises(ArtifactError) as info:
        load_manifest(path, "manifest.json")
    assert "unsupported manifest schema v7" in str(info.value)
    assert str(info.value).startswith("manifest.json: ")


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        pytest.param(b"", "not a dbt manifest", id="empty file"),
        pytest.param(b"[1, 2]", "not a dbt manifest", id="not an object"),
        pytest.param(
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v99.json"}}',
            "unsupported manifest schema v99",
            id="a future version",
        ),
        pytest.param(
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},\n"nodes": {',
            "invalid JSON",
            id="truncated",
        ),
        pytest.param(
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},'
            b' "nodes": {"model.a.b": {"meta": {"green": NaN}}}}',
            "`NaN` is not JSON: dbt wrote a `.nan` or `.inf` from a YAML file",
            id="a YAML .nan dbt wrote as is",
        ),
        pytest.param(
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},'
            b' "nodes": {"model.a.b": {"meta": {"red": -Infinity}}}}',
            "`-Infinity` is not JSON",
            id="a YAML -.inf",
        ),
        pytest.param(
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": []}',
            "unexpected manifest content",
            id="wrong shape",
        ),
    ],
)
def test_broken_manifests_are_one_clear_error(data, needle):
    with pytest.raises(ArtifactError) as info:
        decode_manifest(data, "m.json")
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda node: node.pop("unique_id"),
            'Object missing required field `unique_id` - at `$.nodes["{uid}"]`',
            id="a required field missing",
        ),
        pytest.param(
            lambda node: node["depends_on"].update(nodes="oops"),
            'Expected `array`, got `str` - at `$.nodes["{uid}"].depends_on.nodes`',
            id="a field of the wrong type",
        ),
    ],
)
def test_a_broken_node_is_named_with_its_line(tmp_path, change, message):
    """A real manifest (dbt 1.7, written as dbt writes it, then indented) with one
    node broken: the error names the node and the line of its key."""
    path = unpack(COMPAT / "jaffle_shop_duckdb-dbt_1_7.manifest.json.gz", tmp_path)
    data = json.loads(path.read_bytes())
    uid = sorted(u for u in data["nodes"] if u.startswith("model."))[1]
    change(data["nodes"][uid])
    text = json.dumps(data, indent=1)
    line = text[: text.index(f'"{uid}": {{')].count("\n") + 1
    with pytest.raises(ArtifactError) as info:
        decode_manifest(text.encode(), "m.json")
    assert (info.value.line, info.value.message) == (
        line,
        "unexpected manifest content: " + message.format(uid=uid),
    )


def test_truncated_manifest_error_names_the_line():
    data = b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},\n"nodes": {"a": tru'
    with pytest.raises(ArtifactError) as info:
        decode_manifest(data, "m.json")
    assert info.value.line == 2


def test_missing_manifest_says_how_to_make_one(tmp_path):
    with pytest.raises(ArtifactError, match="run `dbt parse`"):
        load_manifest(tmp_path / "nope.json")


def _reads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "normcheck-manifest-read"]


def test_a_manifest_read_ahead_is_used_only_while_the_file_is_unchanged(tmp_path):
    path = unpack(COMPAT / "jaffle_shop_duckdb-dbt_1_7.manifest.json.gz", tmp_path)
    data = path.read_bytes()
    expected = decode_manifest(data, "m")
    with prefetching(path):
        settle_reads()
        # the same bytes read again: whatever load_manifest returns came from the thread
        stamp = path.stat()
        with path.open("r+b") as handle:
            handle.write(b"X")  # not JSON any more
        os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
        assert load_manifest(path) == expected
    path.write_bytes(data)
    with prefetching(path):
        settle_reads()  # read whole and unchanged: changed after
        path.write_bytes(data.replace(b'"jaffle_shop"', b'"jaffle_shoq"', 1) + b" ")
        changed = load_manifest(path)
    assert changed.metadata.project_name == "jaffle_shoq", "a changed file is read again"
    with prefetching(path):
        path.unlink()
        with pytest.raises(ArtifactError, match="manifest not found"):
            load_manifest(path)
    with (
        prefetching(tmp_path / "never.json"),
        pytest.raises(ArtifactError, match="manifest not found"),
    ):
        load_manifest(tmp_path / "never.json")
    assert _reads() == []


def test_no_read_runs_when_the_parse_workers_fork(tmp_path):
    path = unpack(CORPUS / "dbt" / "ol-data-platform" / "manifest.json.gz", tmp_path)
    with prefetching(path):
        pool = start_workers(2)
        assert pool is not None
        try:
            assert _reads() == [], "forking while a thread runs may deadlock the child"
        finally:
            pool.close()
        assert load_manifest(path).metadata.project_name == "open_learning"


def test_catalog_is_optional_and_typed(tmp_path):
    assert load_catalog(tmp_path / "catalog.json") is None
    path = tmp_path / "catalog.json"
    path.write_text(
        json.dumps(
            {
                "nodes": {
                    "model.a.b": {
                        "columns": {"Active": {"name": "Active", "type": "BOOLEAN", "index": 1}}
                    }
                },
                "sources": {},
            }
        )
    )
    catalog = load_catalog(path)
    assert catalog is not None
    assert catalog.column_types("model.a.b") == {"active": "BOOLEAN"}
    assert catalog.column_types("model.a.c") == {}
    path.write_text("{")
    with pytest.raises(ArtifactError, match="invalid catalog"):
        load_catalog(path)


@pytest.mark.parametrize(
    "name",
    ["dbt-bouncer-fixture-dbt_111", "dbt-bouncer-fixture-dbt_112", "dbt-bouncer-fixture-dbt_20"],
)
def test_test_nodes_are_skipped_and_every_other_node_is_read(name, tmp_path):
    """Tests are most of a manifest's nodes and no rule reads them (nor hooks'
    operations): they stay undecoded. Every other node is there, as dbt wrote it."""
    skipped = ("test", "unit_test", "operation", "sql_operation")
    path = unpack(COMPAT / f"{name}.manifest.json.gz", tmp_path)
    raw = json.loads(path.read_text())["nodes"]
    nodes = load_manifest(path).nodes
    assert any(n["resource_type"] == "test" for n in raw.values())
    assert sorted(nodes) == sorted(u for u, n in raw.items() if n["resource_type"] not in skipped)
    for uid, node in nodes.items():
        assert (node.resource_type, node.name, node.raw_code) == (
            raw[uid]["resource_type"],
            raw[uid]["name"],
            raw[uid].get("raw_code", ""),
        )


@pytest.mark.parametrize("escaped", [False, True], ids=["plain", "key written with escapes"])
def test_without_column_rules_only_columns_with_suppressions_are_built(escaped, tmp_path):
    from normcheck import suppression

    raw = json.loads(
        unpack(COMPAT / "dbt-bouncer-fixture-dbt_111.manifest.json.gz", tmp_path).read_text()
    )
    own = raw["metadata"]["project_name"]
    model = next(
        n
        for n in raw["nodes"].values()
        if n["resource_type"] == "model" and n["columns"] and n["package_name"] == own
    )
    source = next(s for s in raw["sources"].values() if s["package_name"] == own)
    ignore = {"ignore": [{"rule": "naming/column-case", "reason": "legacy"}]}
    first = next(iter(model["columns"].values()))
    first["meta"] = {"normcheck": ignore}
    source["columns"] = {"id": {"name": "id", "config": {"meta": {"normcheck": ignore}}}}
    text = json.dumps(raw)
    if escaped:
        text = text.replace('"normcheck"', '"\\u006eormcheck"')
        assert '"normcheck"' not in text
    manifest = decode_manifest(text.encode(), "manifest.json")
    full = build_project(manifest, None, tmp_path)
    lean = build_project(manifest, None, tmp_path, columns=False)
    columns = sorted(r.uid for r in lean.resources.values() if r.type == "column")
    assert columns == sorted([f"{model['unique_id']}.{first['name']}", f"{source['unique_id']}.id"])
    assert sum(1 for r in full.resources.values() if r.type == "column") > len(columns)
    assert [(s.rule, s.resource.uid) for s in suppression.collect(lean)] == [
        (s.rule, s.resource.uid) for s in suppression.collect(full)
    ]
    non_columns = {uid for uid, r in full.resources.items() if r.type != "column"}
    assert non_columns == {uid for uid, r in lean.resources.items() if r.type != "column"}


def test_the_macros_the_models_call_are_found_through_other_macros_each_once():
    def macro(name: str, *calls: str) -> dict[str, object]:
        return {
            "unique_id": f"macro.p.{name}",
            "package_name": "p",
            "name": name,
            "macro_sql": f"{{% macro {name}() %}}{{% endmacro %}}",
            "depends_on": {"macros": [f"macro.p.{c}" for c in calls]},
        }

    macros = [macro("a", "b", "gone"), macro("b", "a", "c"), macro("c"), macro("d"), macro("e")]
    data = {
        "metadata": {"project_name": "p"},
        "macros": {m["unique_id"]: m for m in macros},
        "nodes": {
            "model.p.one": {"depends_on": {"macros": ["macro.p.e", "macro.p.a"]}},
            "model.p.two": {"depends_on": {"macros": ["macro.p.c"]}},
            "test.p.t": {"depends_on": {"macros": ["macro.p.d"]}},  # not a model's
            "model.p.three": {},
        },
    }
    found = decode_macros(json.dumps(data).encode())
    assert [m.name for m in found.called_by_models()] == ["e", "a", "b", "c"]


def test_a_source_tables_own_meta_wins_over_its_sources(tmp_path):
    """dbt resolves a table's `config.meta` over its source's: the table's owner is
    the table's, whether the source sets it under `meta:` or `config: {meta:}`."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/_sources.yml": """\
version: 2
sources:
  - name: legacy
    meta: {owner: platform}
    tables:
      - name: events
        config: {meta: {owner: finance}}
      - name: sessions
  - name: modern
    config: {meta: {owner: platform}}
    tables:
      - name: events
        config: {meta: {owner: finance}}
      - name: sessions
""",
            "models/x.sql": "select 1 as id\n",
        },
    )
    project = build_project(load_manifest(root / "target" / "manifest.json"), None, root)
    owners = {r.uid: r.owner for r in project.of_type("source")}
    assert owners == {
        "source.shop.legacy.events": "finance",
        "source.shop.legacy.sessions": "platform",
        "source.shop.modern.events": "finance",
        "source.shop.modern.sessions": "platform",
    }


def test_a_gzip_catalog_is_read_as_the_plain_one(tmp_path):
    path = tmp_path / "catalog.json"
    catalog = {"nodes": {"model.a.b": {"columns": {"Id": {"name": "Id", "type": "INT"}}}}}
    path.write_bytes(gzip.compress(json.dumps(catalog).encode()))
    found = load_catalog(path)
    assert found is not None
    assert found.column_types("model.a.b") == {"id": "INT"}
    path.write_bytes(b"\x1f\x8b" + b"\x00" * 20)
    with pytest.raises(ArtifactError, match=r"catalog\.json: gzip file that does not decompress"):
        load_catalog(path)


def test_a_broken_catalog_is_named_with_its_line(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text('{"nodes": {\n "model.a.b": {"columns": {}},\n "x": {"columns": {,}}}}\n')
    with pytest.raises(ArtifactError) as info:
        load_catalog(path, "target/catalog.json")
    assert (info.value.file, info.value.line) == ("target/catalog.json", 3)
    assert "(byte" not in info.value.message
