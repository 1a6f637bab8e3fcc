"""Hostile inputs (issue #8): each is refused with one clear line naming the file
(exit 2, no traceback) or checked correctly, within bounded time and memory.
Also: normcheck writes nothing but what it was asked to, and opens no network
connection, not even when it runs `dbt parse`.

Big inputs are generated here, never stored: the largest is a 100 MB file that
normcheck must refuse without reading (marked BIG below)."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from conftest import REPO, build_dbt_project, dbt_parse
from normcheck import _yaml
from normcheck._regex import regex_problem
from normcheck.cli import main

SCHEMA = "https://schemas.getdbt.com/dbt/manifest/v{}.json"
TIME_LIMIT = 60.0  # seconds for one hostile run: generous for slow CI, far below a hang
MEMORY_LIMIT = 1536 * 2**20  # address space of a subprocess run (RLIMIT_AS)


def model(
    name: str,
    folder: str = "marts",
    sql: str = "select 1 as id",
    description: str = "One row per thing we sell.",
    meta: Mapping[str, object] | None = None,
    **extra: object,
) -> dict[str, object]:
    return {
        "unique_id": f"model.shop.{name}",
        "resource_type": "model",
        "package_name": "shop",
        "name": name,
        "original_file_path": f"models/{folder}/{name}.sql",
        "path": f"{folder}/{name}.sql",
        "patch_path": None,
        "config": {"enabled": True, "meta": dict(meta or {"owner": "growth"}), "group": None},
        "meta": {},
        "tags": [],
        "description": description,
        "columns": {},
        "depends_on": {"nodes": [], "macros": []},
        "raw_code": sql,
        "language": "sql",
        "checksum": {"name": "sha256", "checksum": "0"},
        **extra,
    }


def manifest(*nodes: Mapping[str, object], version: int = 12) -> dict[str, object]:
    return {
        "metadata": {
            "dbt_schema_version": SCHEMA.format(version),
            "dbt_version": "1.11.0",
            "project_name": "shop",
            "adapter_type": "duckdb",
        },
        "nodes": {str(n["unique_id"]): n for n in nodes},
        "sources": {},
        "exposures": {},
        "metrics": {},
        "semantic_models": {},
        "groups": {},
        "macros": {},
        "saved_queries": {},
    }


CLEAN = manifest(model("fct_orders"))
CONFIG = "version: 1\nextends: [normcheck:default]\nowners: {growth: {}}\n"
PLAN_CONFIG = CONFIG + "tracking_plans: ['tracking/*']\n"
PLAN = """\
normcheck: plan/v1
plan: {id: web, owner: growth}
events:
  - name: Order Completed
    description: Buyer finished payment and the order was accepted.
"""


def project(
    root: Path, files: Mapping[str, str | bytes], data: object = CLEAN, name: str = "p"
) -> Path:
    """A folder with a dbt_project.yml, ``files`` and ``data`` as target/manifest.json
    (a dict is written as JSON, bytes as they are)."""
    folder = root / name
    everything: dict[str, str | bytes] = {
        "dbt_project.yml": "name: shop\nversion: '1.0'\nprofile: shop\n",
        "target/manifest.json": data if isinstance(data, bytes) else json.dumps(data),
        **files,
    }
    for relative, content in everything.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def check(
    capsys: pytest.CaptureFixture[str], folder: Path, *args: str
) -> tuple[int, str, str, float]:
    """`normcheck check` in ``folder`` as the current directory; code, out, err, seconds."""
    previous = Path.cwd()
    os.chdir(folder)
    started = time.monotonic()
    try:
        code = main(
            [
                "check",
                "--manifest",
                "target/manifest.json",
                "--parse",
                "never",
                "--no-cache",
                "--format",
                "json",
                *args,
            ]
        )
    finally:
        os.chdir(previous)
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert elapsed < TIME_LIMIT, f"took {elapsed:.1f} s"
    return code, out, err, elapsed


def assert_refused(code: int, err: str, file: str, needle: str = "", line: int | None = None):
    """Exit 2 with exactly one line on stderr that names ``file`` (and ``line``)."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    where = file if line is None else f"{file}:{line}"
    assert lines[0].startswith(f"normcheck: error: {where}"), err
    assert needle in lines[0], err


def findings(out: str) -> list[dict[str, object]]:
    return list(json.loads(out)["findings"])


# -- YAML: code execution, billion laughs, depth --------------------------------

PYTHON_TAGS = [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/name:os.system",
    "!!python/object/apply:subprocess.check_output [['touch', '{marker}']]",
]


@pytest.mark.parametrize("tag", PYTHON_TAGS)
def test_python_tags_are_refused_in_a_config(tag, tmp_path, capsys):
    marker = tmp_path / "PWNED"
    value = tag.format(marker=marker)
    folder = project(tmp_path, {"normcheck.yml": f"version: 1\nteam: {value}\n"})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "normcheck.yml", "could not determine a constructor", line=2)
    assert not marker.exists()


@pytest.mark.parametrize("tag", PYTHON_TAGS)
def test_python_tags_are_refused_in_a_tracking_plan(tag, tmp_path, capsys):
    marker = tmp_path / "PWNED"
    plan = PLAN.replace("owner: growth}", "owner: growth}\nx: " + tag.format(marker=marker))
    folder = project(tmp_path, {"normcheck.yml": PLAN_CONFIG, "tracking/web.yml": plan})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "tracking/web.yml", "could not determine a constructor", line=3)
    assert not marker.exists()


def laughs(levels: int = 9) -> str:
    """The "billion laughs": 9 ** 9 (387 million) leaves from 10 short lines."""
    names = [f"l{i}" for i in range(levels + 1)]
    lines = [f"{names[0]}: &{names[0]} [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def run_limited(
    folder: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`normcheck check ...` in a subprocess whose address space is capped."""
    code = textwrap.dedent(
        f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))
        from normcheck.cli import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "check",
            "--manifest",
            "target/manifest.json",
            "--parse",
            "never",
            "--no-cache",
            "--format",
            "json",
            *args,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT * 2,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert time.monotonic() - started < TIME_LIMIT * 2
    return done


def test_billion_laughs_config_is_refused_in_bounded_memory(tmp_path):
    text = "version: 1\n" + laughs() + "owners: *l9\n"
    folder = project(tmp_path, {"normcheck.yml": text})
    done = run_limited(folder)
    assert_refused(done.returncode, done.stderr, "normcheck.yml", "billion laughs")


def test_billion_laughs_plan_is_refused_in_bounded_memory(tmp_path):
    plan = laughs() + "normcheck: plan/v1\nplan: {id: web}\nevents: *l9\n"
    folder = project(tmp_path, {"normcheck.yml": PLAN_CONFIG, "tracking/web.yml": plan})
    done = run_limited(folder)
    assert_refused(done.returncode, done.stderr, "tracking/web.yml", "billion laughs")


def test_billion_laughs_in_dbt_project_vars_are_ignored(tmp_path):
    """dbt_project.yml is dbt's to judge: its `vars:` are read for rendering, and an
    alias bomb there is skipped (dbt parse reports it), not expanded."""
    dbt_project = "name: shop\nversion: '1.0'\nprofile: shop\n" + laughs() + "vars: {x: *l9}\n"
    sql = "select {{ var('x', 1) }} as id"
    folder = project(
        tmp_path,
        {"normcheck.yml": RECOMMENDED, "dbt_project.yml": dbt_project},
        manifest(model("fct_x", sql=sql)),
    )
    done = run_limited(folder)
    assert done.returncode in (0, 1), done.stderr
    assert "sql/parse-error" not in {f["rule"] for f in findings(done.stdout)}


def test_a_few_aliases_are_fine(tmp_path, capsys):
    text = CONFIG + (
        "rules:\n  docs/missing-description: &strict {severity: error}\n"
        "  docs/placeholder-description: *strict\n"
    )
    folder = project(tmp_path, {"normcheck.yml": text})
    code, out, err, _ = check(capsys, folder)
    assert code == 0, err
    assert {f["rule"] for f in findings(out)} <= {"governance/group-required"}


def test_a_recursive_alias_is_refused(tmp_path, capsys):
    folder = project(tmp_path, {"normcheck.yml": "version: 1\nowners: &a {x: *a}\n"})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "normcheck.yml", "recursive YAML alias", line=2)


DEEP = 100_000


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("version: 1\nowners: " + "[" * DEEP + "]" * DEEP + "\n", 2),
        ("version: 1\nowners: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n", 2),
        ("version: 1\nowners:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 3000)), 102),
        ("version: 1\nowners:\n" + "- " * 5000 + "x\n", 3),
    ],
    ids=["flow-sequences", "flow-mappings", "block-mappings", "compact-sequences"],
)
def test_deeply_nested_config_is_refused(text, line, tmp_path, capsys):
    folder = project(tmp_path, {"normcheck.yml": text})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "normcheck.yml", "nested deeper than 100 levels", line=line)


def test_deeply_nested_plan_is_refused(tmp_path, capsys):
    plan = "normcheck: plan/v1\nplan: {id: web}\nevents: " + "[" * DEEP + "]" * DEEP + "\n"
    folder = project(tmp_path, {"normcheck.yml": PLAN_CONFIG, "tracking/web.yml": plan})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "tracking/web.yml", "nested deeper", line=3)


def test_yaml_loader_limits_in_process(tmp_path):
    """The same refusals as through the CLI, where coverage sees them."""
    with pytest.raises(_yaml.ArtifactError, match="billion laughs") as caught:
        _yaml.parse_yaml(laughs() + "top: *l9\n", "x.yml")
    assert caught.value.line == 10  # the anchor that expands the most
    with pytest.raises(_yaml.ArtifactError, match="unacceptable character") as caught:
        _yaml.parse_yaml("a: 1\nb: 2\nc: \x07\n", "x.yml")
    assert caught.value.line == 3
    with pytest.raises(_yaml.ArtifactError, match="YAML syntax error"):
        _yaml.parse_yaml("x: [" + "[1], " * 60 + "}", "x.yml")  # found while counting depth
    big = tmp_path / "big.yml"
    with big.open("wb") as handle:
        handle.truncate(_yaml.MAX_YAML_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(_yaml.ArtifactError, match="larger than 20 MiB"):
        _yaml.load_yaml(big)
    with pytest.raises(_yaml.ArtifactError, match="file not found"):
        _yaml.load_yaml(tmp_path / "missing.yml")
    with pytest.raises(_yaml.ArtifactError, match="cannot read file"):
        _yaml.load_yaml(tmp_path)
    assert _yaml.parse_yaml("", "x.yml").data is None


def test_yaml_unique_keys_allow_merge_overrides_and_refuse_keys_that_are_not_text():
    """A key a merge (`<<`) brought in may be overridden; a key YAML reads as
    something else than text (`1`, `no`) is refused, saying to quote it; a key
    written twice in one mapping is refused where it is written again."""
    merged = "base: &b {a: 1, c: 2}\nteam:\n  <<: *b\n  a: 3\n'1': y\n"
    doc = _yaml.parse_yaml(merged, "x.yml", unique_keys=True)
    assert doc.data == {"base": {"a": 1, "c": 2}, "team": {"a": 3, "c": 2}, "1": "y"}
    with pytest.raises(_yaml.ArtifactError, match=r"key `1` is a number to YAML") as caught:
        _yaml.parse_yaml(merged + "1: x\n", "x.yml", unique_keys=True)
    assert caught.value.line == 6
    assert _yaml.parse_yaml("1: x\n", "x.yml").data == {1: "x"}  # dbt's files: as YAML says
    twice = "a: 1\nteam:\n  b: [{c: 1, c: 2}]\n"
    assert _yaml.parse_yaml(twice, "x.yml").data == {"a": 1, "team": {"b": [{"c": 2}]}}
    with pytest.raises(
        _yaml.ArtifactError, match=r"duplicate key `c` \(first at line 3\)"
    ) as caught:
        _yaml.parse_yaml(twice, "x.yml", unique_keys=True)
    assert caught.value.line == 3


def test_yaml_depth_limit_is_exact():
    for depth, ok in ((99, True), (100, True), (101, False)):
        text = "a: " + "[" * (depth - 1) + "]" * (depth - 1)
        aliased = "x: &x " + "[" * (depth - 2) + "]" * (depth - 2) + "\ny: [*x]\n"
        for doc in (text, aliased):
            if ok:
                _yaml.parse_yaml(doc, "x.yml")
            else:
                with pytest.raises(_yaml.ArtifactError, match="nested deeper"):
                    _yaml.parse_yaml(doc, "x.yml")


# -- big files ----------------------------------------------------------------


def big_file(path: Path, prefix: bytes, size: int) -> None:
    """``prefix`` and then one line of ``size`` bytes, written in chunks."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = b"a" * 2**20
    with path.open("wb") as handle:
        handle.write(prefix)
        for _ in range(size // len(chunk)):
            handle.write(chunk)
        handle.write(b"\n")


BIG = 100 * 2**20  # BIG: a 100 MB line; refused from its size, never read


def test_100_mb_config_line_is_refused_without_reading_it(tmp_path):
    folder = project(tmp_path, {})
    big_file(folder / "normcheck.yml", b"version: 1\nteam: ", BIG)
    done = run_limited(folder)
    assert_refused(done.returncode, done.stderr, "normcheck.yml", "larger than 20 MiB")


def test_100_mb_plan_line_is_refused_without_reading_it(tmp_path):
    folder = project(tmp_path, {"normcheck.yml": PLAN_CONFIG})
    big_file(folder / "tracking/web.yml", b"normcheck: plan/v1\ndescription: ", BIG)
    done = run_limited(folder)
    assert_refused(done.returncode, done.stderr, "tracking/web.yml", "larger than 20 MiB")


def test_long_line_under_the_limit_is_read(tmp_path, capsys):
    team = "a" * (15 * 2**20)  # 15 MB on one line: a valid (silly) team name
    folder = project(tmp_path, {"normcheck.yml": f"version: 1\nteam: {team}\n"})
    code, out, err, _ = check(capsys, folder)
    assert code == 0, err[:300]
    assert json.loads(out)["summary"]["error"] == 0


def test_manifest_with_a_30_mb_line_is_checked_in_bounded_memory(tmp_path):
    """A 30 MB description and 30 MB of SQL on single lines (BIG): the SQL is too long
    to parse, which is a finding, and the run stays inside the memory cap."""
    huge = "word " * (6 * 2**20)
    data = manifest(
        model("fct_orders", description=huge),
        model("fct_big", sql="select 1 as id -- " + huge),
    )
    folder = project(tmp_path, {"normcheck.yml": "extends: [normcheck:recommended]\n"}, data)
    done = run_limited(folder)
    assert done.returncode in (0, 1), done.stderr
    found = {(f["rule"], f["resource"]): f["message"] for f in findings(done.stdout)}
    message = found[("sql/parse-error", "model.shop.fct_big")]
    assert "more than the 2,000,000 normcheck parses" in message


# -- YAML scalars that parse but cannot be built ----------------------------------

UNBUILDABLE = [
    ("until: 2027-02-30", "`2027-02-30` is not a valid date (day is out of range"),
    ("until: 2027-13-01", "`2027-13-01` is not a valid date (month must be in 1..12)"),
    (f"n: {'7' * 5000}", "is not a valid number (too many digits)"),
    ("n: !!int seven", "`seven` is not a valid number"),
    ("n: !!timestamp soon", "`soon` is not a valid date"),
]


@pytest.mark.parametrize(("value", "needle"), UNBUILDABLE)
def test_a_yaml_value_that_cannot_be_built_in_a_config(value, needle, tmp_path, capsys):
    """A date that does not exist, a number past Python's 4,300 digits: the YAML
    parses, building the value raised ValueError (exit 3)."""
    folder = project(tmp_path, {"normcheck.yml": CONFIG + f"x_unused:\n  {value}\n"})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "normcheck.yml", needle, line=5)


@pytest.mark.parametrize(("value", "needle"), UNBUILDABLE)
def test_a_yaml_value_that_cannot_be_built_in_a_plan(value, needle, tmp_path, capsys):
    plan = PLAN + f"    meta:\n      {value}\n"
    folder = project(tmp_path, {"normcheck.yml": PLAN_CONFIG, "tracking/web.yml": plan})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "tracking/web.yml", needle, line=7)


LONG_NUMBER = "7" * 5000  # past Python's 4,300-digit limit: json.loads raises ValueError


def test_a_baseline_with_a_number_too_long_is_refused_and_kept(tmp_path, capsys, monkeypatch):
    text = '{"version": 1,\n "entries": [],\n "x": ' + LONG_NUMBER + "}\n"
    folder = project(tmp_path, {"normcheck.yml": CONFIG, "b.json": text})
    code, _, err, _ = check(capsys, folder, "--baseline", "b.json")
    assert_refused(code, err, "b.json", "a number of too many digits", line=3)
    monkeypatch.chdir(folder)
    code = main(["baseline", "--parse", "never", "--output", "b.json"])
    assert_refused(code, capsys.readouterr().err, "b.json", "too many digits", line=3)
    assert (folder / "b.json").read_text() == text


def test_a_json_plan_with_a_number_too_long_is_refused(tmp_path, capsys):
    plan = '{\n  "rules": {"events": []},\n  "x": ' + LONG_NUMBER + "\n}\n"
    folder = project(
        tmp_path, {"normcheck.yml": CONFIG + "tracking_plans: ['*.json']\n", "plan.json": plan}
    )
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "plan.json", "invalid JSON: a number of too many digits", line=3)


# -- a byte order mark (Notepad, PowerShell's Out-File) ------------------------------

BOM = "\ufeff"


def test_a_baseline_with_a_byte_order_mark_is_read_and_keeps_its_reasons(
    tmp_path, capsys, monkeypatch
):
    """It was refused ("Unexpected UTF-8 BOM (decode using utf-8-sig)"), and
    `normcheck baseline` took it for a broken file: written anew, every reason lost."""
    data = manifest(model("fct_orders", description=""))
    folder = project(tmp_path, {"normcheck.yml": CONFIG}, data)
    code, out, err, _ = check(capsys, folder)
    (finding,) = [f for f in findings(out) if f["rule"] == "docs/missing-description"]
    entry = {key: finding[key] for key in ("rule", "resource", "fingerprint")}
    entry["reason"] = "documented in the wiki"
    text = BOM + json.dumps({"version": 1, "entries": [entry]}, indent=2) + "\n"
    (folder / "b.json").write_text(text, encoding="utf-8")
    code, out, err, _ = check(capsys, folder, "--baseline", "b.json")
    assert code == 0, err
    assert finding["fingerprint"] not in {f["fingerprint"] for f in findings(out)}
    assert json.loads(out)["summary"]["baselined"] == 1
    monkeypatch.chdir(folder)
    assert main(["baseline", "--parse", "never", "--output", "b.json"]) == 0
    assert entry in json.loads((folder / "b.json").read_text())["entries"]


@pytest.mark.parametrize(
    ("encoding", "line"), [("cp1252", 8), ("utf-16", 1)], ids=["Windows-1252", "UTF-16"]
)
def test_a_baseline_in_another_encoding_is_one_clear_line(
    encoding, line, tmp_path, capsys, monkeypatch
):
    """A baseline an editor saved as Windows-1252 or UTF-16 was refused with Python's
    `cannot read baseline: 'utf-8' codec can't decode byte 0xe9 in position 156:
    invalid continuation byte` (a byte offset, no line); `normcheck baseline` keeps it."""
    entry = {"rule": "docs/missing-description", "resource": "model.shop.x", "fingerprint": "f"}
    data = {"version": 1, "entries": [{**entry, "reason": "équipe"}]}
    text = json.dumps(data, indent=2, ensure_ascii=False)
    folder = project(tmp_path, {"normcheck.yml": CONFIG, "b.json": text.encode(encoding)})
    code, _, err, _ = check(capsys, folder, "--baseline", "b.json")
    needle = "baseline is not valid UTF-8 (saved as Windows-1252, Latin-1, UTF-16?): save it"
    assert_refused(code, err, "b.json", needle, line)
    monkeypatch.chdir(folder)
    assert main(["baseline", "--parse", "never", "--output", "b.json"]) == 2
    assert (folder / "b.json").read_bytes() == text.encode(encoding), "no reason lost"


@pytest.mark.parametrize(
    ("name", "plan"),
    [
        ("web.json", json.dumps({"rules": [{"key": "Order Completed", "type": "TRACK"}]})),
        (
            "com.acme/order_completed/jsonschema/1-0-0",
            json.dumps(
                {
                    "self": {
                        "vendor": "com.acme",
                        "name": "order_completed",
                        "format": "jsonschema",
                        "version": "1-0-0",
                    },
                    "type": "object",
                    "properties": {},
                }
            ),
        ),
        ("web.yml", PLAN.replace("Order Completed", "order completed")),
    ],
)
def test_a_plan_with_a_byte_order_mark_is_read(name, plan, tmp_path, capsys):
    """A Segment export saved by PowerShell was refused with Python's own words,
    an Iglu schema (no `.json`) taken for YAML: "not a tracking plan"."""
    config = CONFIG + "tracking_plans: ['tracking/**/*']\n"
    folder = project(tmp_path, {"normcheck.yml": config, f"tracking/{name}": BOM + plan})
    code, out, err, _ = check(capsys, folder)
    assert code in (0, 1), err
    assert any(f["resource_type"] == "event" for f in findings(out)), out


@pytest.mark.parametrize("item", ['{ref: ""}', '{name: ""}'])
def test_a_plan_property_with_an_empty_ref_or_name_is_refused(item, tmp_path, capsys):
    """`ref: ""` passed the schema and crashed the loader (KeyError: 'name', exit 3)."""
    plan = PLAN + f"    properties:\n      - {item}\n"
    folder = project(tmp_path, {"normcheck.yml": PLAN_CONFIG, "tracking/web.yml": plan})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "tracking/web.yml", "should be non-empty", line=7)


# -- invalid UTF-8 ------------------------------------------------------------------


def test_invalid_utf8_config(tmp_path, capsys):
    folder = project(tmp_path, {"normcheck.yml": b"version: 1\n\nteam: gr\xffowth\n"})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "normcheck.yml", "not valid UTF-8", line=3)


@pytest.mark.parametrize("name", ["web.yml", "web.json"])
def test_invalid_utf8_plan(name, tmp_path, capsys):
    folder = project(
        tmp_path,
        {"normcheck.yml": PLAN_CONFIG, f"tracking/{name}": PLAN.encode() + b"# \xc3\x28\n"},
    )
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, f"tracking/{name}", "not valid UTF-8", line=6)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
@pytest.mark.parametrize(
    ("name", "config"),
    [("normcheck.yml", ""), ("tracking/web.yml", PLAN_CONFIG)],
    ids=["config", "plan"],
)
def test_a_utf16_file_is_said_to_be_utf16(encoding, name, config, tmp_path, capsys):
    """Windows PowerShell's `>` and `Out-File` write UTF-16: such a file was "not valid
    UTF-8" at line 1, which its author, who typed plain text, could not act on."""
    text = (PLAN if name.startswith("tracking") else PLAN_CONFIG).encode(encoding)
    if encoding == "utf-16-be":
        text = b"\xfe\xff" + text
    files = {name: text} if not config else {"normcheck.yml": config, name: text}
    folder = project(tmp_path, files)
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, name, "is UTF-16, not UTF-8 (as Windows PowerShell", line=1)
    assert err.endswith(": save it as UTF-8\n")


def test_invalid_utf8_manifest_string(tmp_path, capsys):
    data = json.dumps(CLEAN, indent=1).encode().replace(b"fct_orders.sql", b"fct_\xff.sql", 1)
    folder = project(tmp_path, {}, data)
    code, _, err, _ = check(capsys, folder)
    line = data[: data.index(b"\xff")].count(b"\n") + 1
    assert_refused(code, err, "target/manifest.json", "not valid UTF-8", line=line)


def test_invalid_utf8_inside_a_node_config(tmp_path, capsys):
    """Node configs are decoded lazily: the bad byte is found later, still exit 2."""
    data = json.dumps(CLEAN).encode().replace(b'"owner": "growth"', b'"owner": "gr\xffowth"')
    folder = project(tmp_path, {}, data)
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "target/manifest.json", "`model.shop.fct_orders` holds text")


def test_invalid_utf8_catalog(tmp_path, capsys):
    folder = project(tmp_path, {"target/catalog.json": b'{"nodes": {"\xff": 1}}'})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "target/catalog.json", "invalid catalog")


def test_a_folder_named_like_a_file_normcheck_reads_or_writes(tmp_path, capsys, monkeypatch):
    folder = project(tmp_path, {})
    (folder / "target" / "catalog.json").mkdir()
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "target/catalog.json", "cannot read catalog")
    (folder / "normcheck.yml").mkdir()
    monkeypatch.chdir(folder)
    code = main(["init"])
    assert_refused(code, capsys.readouterr().err, "normcheck.yml", "cannot write the file")


def test_corrupt_cache_files_are_ignored(tmp_path, capsys, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("NORMCHECK_CACHE_DIR", str(cache))
    folder = project(tmp_path, {"normcheck.yml": "extends: [normcheck:recommended]\n"})
    monkeypatch.chdir(folder)
    assert main(["check", "--parse", "never", "--format", "json"]) == 0
    first = capsys.readouterr().out
    files = [p for p in cache.rglob("*") if p.is_file()]
    # findings, SQL facts, the marks that normcheck.yml passed validation and that a
    # run was stored for this manifest
    assert sorted(p.suffix for p in files) == ["", "", ".json", ".msgpack"]
    for path in files:
        path.write_bytes(b'{"findings": ["\xff\xfe' + b"[" * 5000)
    assert main(["check", "--parse", "never", "--format", "json"]) == 0
    assert capsys.readouterr().out == first


# -- manifests: NaN, duplicate keys, versions, depth ---------------------------------


def test_manifest_with_nan_is_refused(tmp_path, capsys):
    data = json.dumps(manifest(model("fct_orders", meta={"owner": "growth", "x": float("nan")})))
    assert "NaN" in data
    folder = project(tmp_path, {}, data.encode())
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "target/manifest.json:1", "`NaN` is not JSON: dbt wrote a `.nan`")


def test_manifest_with_duplicate_keys_reads_the_last_like_json_loads(tmp_path, capsys):
    """JSON leaves duplicate names undefined; normcheck reads the last, as Python's
    json (and so dbt) does. Here: a node listed twice, and `nodes` itself twice."""
    first = json.dumps(model("orders", description=""))  # read, it would be undocumented
    second = json.dumps(model("orders", description="One row per order placed."))
    text = json.dumps(manifest())[:-1]
    text = text.replace(
        '"nodes": {}', f'"nodes": {{"model.shop.orders": {first}, "model.shop.orders": {second}}}'
    )
    twice = text + ', "nodes": {"model.shop.fct_a": ' + json.dumps(model("fct_a")) + "}}"
    text += "}"
    assert json.loads(text)["nodes"]["model.shop.orders"]["description"].startswith("One row")
    folder = project(tmp_path, {}, text.encode())
    code, out, err, _ = check(capsys, folder)
    assert code == 1, err
    got = sorted(f["rule"] for f in findings(out) if f["resource"] == "model.shop.orders")
    assert got == ["governance/group-required", "naming/model-prefix"]
    folder = project(tmp_path, {}, twice.encode(), name="twice")
    code, out, err, _ = check(capsys, folder)
    assert {f["resource"] for f in findings(out)} == {"model.shop.fct_a"}


@pytest.mark.parametrize("version", [9, 99])
def test_manifest_of_unsupported_version_is_refused(version, tmp_path, capsys):
    folder = project(tmp_path, {}, manifest(model("fct_orders"), version=version))
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "target/manifest.json", f"unsupported manifest schema v{version}")
    assert "v10, v11, v12" in err


def test_deeply_nested_manifest_is_refused(tmp_path, capsys):
    text = json.dumps(CLEAN)[:-1] + ', "x": ' + "[" * DEEP + "]" * DEEP + "}"
    folder = project(tmp_path, {}, text.encode())
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "target/manifest.json", "nested too deeply")


def test_deep_meta_inside_the_decoder_limit_is_checked(tmp_path, capsys):
    deep: object = "x"
    for _ in range(800):  # msgspec stops near 1,000 levels, less the caller's stack
        deep = [deep]
    data = manifest(model("fct_orders", meta={"owner": "growth", "deep": deep}))
    config = CONFIG + (
        "rules:\n  governance/required-meta:\n    severity: error\n"
        "    options: {keys: {deep: {type: string}}}\n"
    )
    folder = project(tmp_path, {"normcheck.yml": config}, data)
    code, out, err, _ = check(capsys, folder)
    assert code == 1, err
    assert "governance/required-meta" in {f["rule"] for f in findings(out)}


def test_deeply_nested_json_plan_is_refused(tmp_path, capsys):
    plan = '{"rules": ' + "[" * DEEP + "]" * DEEP + "}"
    folder = project(tmp_path, {"normcheck.yml": PLAN_CONFIG, "tracking/web.json": plan})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "tracking/web.json", "nested too deeply")


# -- symlink loops and `extends` outside the repository ----------------------------


def test_symlink_loops_in_tracking_plan_globs(tmp_path, capsys):
    folder = project(
        tmp_path, {"normcheck.yml": CONFIG + "tracking_plans: ['tracking/**/*.yml']\n"}
    )
    (folder / "tracking").mkdir()
    (folder / "tracking/web.yml").write_text(PLAN + "  - name: order_done\n")  # a finding
    (folder / "tracking/up").symlink_to("..")  # a loop through the parent
    (folder / "tracking/self").symlink_to("self")  # a link to itself
    (folder / "tracking/a").symlink_to("b")  # two links to each other
    (folder / "tracking/b").symlink_to("a")
    code, out, err, _ = check(capsys, folder)
    assert code in (0, 1), err
    plan_files = {f["file"] for f in findings(out) if f["resource"].startswith("event.")}
    assert plan_files == {"tracking/web.yml"}, "the plan is read once, through no link"
    # a glob whose fixed part goes through a loop names the link
    (folder / "normcheck.yml").write_text(CONFIG + "tracking_plans: ['tracking/self/*.yml']\n")
    code, _, err, _ = check(capsys, folder)
    assert code in (0, 2), err
    if code == 2:  # Python < 3.13 raises on resolving the loop
        assert_refused(code, err, str(folder / "tracking/self"), "symbolic link loop")


def test_extends_through_a_symlink_loop(tmp_path, capsys):
    folder = project(tmp_path, {"normcheck.yml": "version: 1\nextends: [gov/loop.yml]\n"})
    (folder / "gov").mkdir()
    (folder / "gov/loop.yml").symlink_to("loop.yml")
    code, _, err, _ = check(capsys, folder)
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "loop" in err


def test_extends_itself_is_a_cycle_at_its_line(tmp_path, capsys):
    folder = project(tmp_path, {"normcheck.yml": "version: 1\nextends:\n  - normcheck.yml\n"})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "normcheck.yml", "`extends` cycle", line=3)


@pytest.mark.parametrize(
    "target", ["../central.yml", "/etc/passwd", "sub/../../central.yml", "link/central.yml"]
)
def test_extends_outside_the_repository_is_refused(target, tmp_path, capsys):
    """Decision: `extends` reads files inside the git repository that holds the root
    configuration (its folder when there is none), never elsewhere on the machine;
    packaged `normcheck:` sets are always allowed."""
    (tmp_path / "central.yml").write_text("version: 1\nteam: central\n")
    folder = project(tmp_path, {"normcheck.yml": f"version: 1\nextends: [{target}]\n"})
    (folder / "sub").mkdir()
    (folder / "link").symlink_to(tmp_path)
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "normcheck.yml", "is outside the current folder", line=2)


def test_extends_anywhere_inside_the_repository_is_fine(tmp_path, capsys):
    (tmp_path / ".git").mkdir()
    (tmp_path / "governance").mkdir()
    (tmp_path / "governance/central.yml").write_text(
        "version: 1\nextends: [normcheck:default]\nteam: central\nowners: {growth: {}}\n"
    )
    folder = project(tmp_path, {"normcheck.yml": "extends: [../governance/central.yml]\n"})
    code, _, err, _ = check(capsys, folder)
    assert code == 0, err
    (tmp_path / "governance/central.yml").write_text("version: 1\nextends: [../../x.yml]\n")
    code, _, err, _ = check(capsys, folder)
    # run in the project, inside the repository: the files beside it are shown with `..`
    shown = "../governance/central.yml"
    assert_refused(code, err, shown, "is outside `..`, the git repository", line=2)


# -- regular expressions in rule options -----------------------------------------

EXPONENTIAL = [
    "(a+)+$",
    "(a*)*$",
    "(a+)*$",
    r"^(\w+\s?)+$",
    r"^([a-z]+[-_]?)+$",
    "(.*a){20}",
    "(x+x+)+y",
    r"(\d+|\d+\.\d+)+$",
    "(?i)(a+A)+$",
    "x(?:(a+)+)y",  # inside a group
    "(?=(a+)+b)",  # inside a lookahead
    "(x)?(?(1)(a+)+$|b)",  # inside a conditional
    "[^ab]+(-[^ab]+)*$",  # `-` is not a or b: the rounds can split anywhere
    "([^_]+_?)+$",
    "(a|a)*$",  # parsed `a(?:|)`: two empty branches, each round matched two ways
    "(ab|ab)+$",
    "(x(?:|))+y",
]
SAFE = [
    "^[a-z][a-z0-9_]*$",
    "^[a-z]+(_[a-z0-9]+)*$",
    "^([A-Z][a-z0-9]+)+$",
    "^[A-Z][a-z]+( [A-Z][a-z]+)*$",
    r"^(\w+ )+\w+$",
    "^(stg|int|fct|dim)_[a-z0-9_]+$",
    "(?>a+)+$",
    "email|phone|ip_address",
    "(ab)*c",
    "[^-]+(-[^-]+)*$",
    r"[\w-]+(\.[\w-]+)*$",
    "(?=a)b",
    "(x)?(?(1)y|z)",
    "(a|b)*$",
    "(?:fct|dim)_(?:[a-z]+|)",  # an empty branch, but not repeated
]


def test_regex_problem_names_invalid_patterns():
    assert "not a valid regular expression" in (regex_problem("((") or "")
    assert "not a valid regular expression" in (regex_problem("(" * 5000 + ")" * 5000) or "")


@pytest.mark.parametrize("pattern", EXPONENTIAL)
def test_exponential_patterns_are_refused(pattern):
    assert regex_problem(pattern) is not None


@pytest.mark.parametrize("pattern", SAFE)
def test_common_patterns_are_accepted(pattern):
    assert regex_problem(pattern) is None


@pytest.mark.parametrize(
    ("options", "line"),
    [
        ("naming/name-case:\n    options: {pattern: '(a+)+$'}\n", 6),
        ("naming/column-case:\n    options:\n      pattern: '(a*)*$'\n", 7),
        ("tracking/pii-undeclared:\n    options: {patterns: [email, '(x+x+)+y']}\n", 6),
        (
            "governance/required-meta:\n    severity: error\n    options:\n"
            "      keys: {owner: {regex: '^(\\w+\\s?)+$'}}\n",
            8,
        ),
        (
            "acme/meta:\n    uses: governance/required-meta\n    options:\n"
            "      keys: {team: {regex: '(a|aa)+(b+)+$'}}\n",
            8,
        ),
    ],
    ids=["name-case", "column-case", "pii", "required-meta", "derived-rule"],
)
def test_catastrophic_regex_option_is_a_config_error(options, line, tmp_path, capsys):
    name = "a" * 5000 + "!"
    data = manifest(model(name, meta={"owner": name, "team": name}))
    config = CONFIG + "rules:\n  " + options
    folder = project(tmp_path, {"normcheck.yml": config}, data)
    code, _, err, elapsed = check(capsys, folder)
    assert_refused(code, err, "normcheck.yml", "can take exponential time", line=line)
    assert elapsed < 5


def test_catastrophic_regex_in_an_override_is_a_config_error(tmp_path, capsys):
    config = CONFIG + (
        "overrides:\n  - match: {paths: ['models/**']}\n"
        "    rules:\n      naming/name-case: {options: {pattern: '(a+)+$'}}\n"
    )
    folder = project(tmp_path, {"normcheck.yml": config}, manifest(model("a" * 60 + "!")))
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "normcheck.yml", "can take exponential time", line=7)


def test_invalid_regex_in_a_derived_rule_is_a_config_error(tmp_path, capsys):
    config = CONFIG + (
        "rules:\n  acme/meta:\n    uses: governance/required-meta\n"
        "    options: {keys: {team: {regex: '(('}}}\n"
    )
    folder = project(tmp_path, {"normcheck.yml": config})
    code, _, err, _ = check(capsys, folder)
    assert_refused(code, err, "normcheck.yml", "not a valid regular expression", line=7)


def test_safe_pattern_on_a_very_long_name_is_fast(tmp_path, capsys):
    name = "a" * 200_000 + "!"
    config = CONFIG + "rules:\n  naming/name-case: {options: {pattern: '^[a-z]+(_[a-z]+)*$'}}\n"
    folder = project(tmp_path, {"normcheck.yml": config}, manifest(model(name)))
    code, out, err, elapsed = check(capsys, folder)
    assert code == 1, err
    assert "naming/name-case" in {f["rule"] for f in findings(out)}
    assert elapsed < 20


# -- SQL: a megabyte, and hostile Jinja --------------------------------------------

RECOMMENDED = "extends: [normcheck:recommended]\nowners: {growth: {}}\n"


def megabyte_sql() -> dict[str, str]:
    columns = 60_000
    return {
        "wide-select": "select "
        + ", ".join(f"col_{i} as c_{i}" for i in range(columns))
        + " from {{ ref('stg_x') }}",
        "long-union": " union all ".join(
            f"select {i} as id, 'x' as name from {{{{ ref('stg_x') }}}}" for i in range(25_000)
        ),
        "long-in-list": "select id from {{ ref('stg_x') }} where id in ("
        + ", ".join(str(i) for i in range(150_000))
        + ")",
        "long-case": "select case "
        + " ".join(f"when a = {i} then {i}" for i in range(40_000))
        + " end as x from {{ ref('stg_x') }}",
        "deep-parentheses": "select " + "(" * 500_000 + "1" + ")" * 500_000 + " as x",
        "unclosed-suppressions": "select 1 as id\n" + "--normcheck:ignore[" * 55_000,
        "string-literal": "select '" + "x" * 1_000_000 + "' as s",
    }


@pytest.mark.parametrize("shape", list(megabyte_sql()))
def test_a_megabyte_of_sql_finishes_in_bounded_time(shape, tmp_path, capsys):
    sql = megabyte_sql()[shape]
    assert len(sql) >= 10**6
    stg = model("stg_x", folder="staging", sql="select 1 as id")
    data = manifest(model("fct_big", sql=sql), stg)
    folder = project(tmp_path, {"normcheck.yml": RECOMMENDED}, data)
    code, out, err, _ = check(capsys, folder)
    assert code in (0, 1), err
    rules = {f["rule"] for f in findings(out) if f["resource"].startswith("model.shop.fct_big")}
    if shape == "deep-parentheses":
        assert "sql/parse-error" in rules
    else:
        assert "sql/parse-error" not in rules
    if shape == "wide-select":
        columns = [f for f in findings(out) if f["rule"] == "sql/undocumented-column"]
        assert len(columns) == 60_000
        assert {f["line"] for f in columns} == {1}


def test_sql_over_the_limit_is_a_parse_error_finding(tmp_path, capsys):
    sql = "select " + ", ".join(f"c_{i}" for i in range(400_000)) + " from t"
    data = manifest(model("fct_big", sql=sql))
    folder = project(tmp_path, {"normcheck.yml": RECOMMENDED}, data)
    code, out, err, elapsed = check(capsys, folder)
    assert code in (0, 1), err
    [error] = [f for f in findings(out) if f["rule"] == "sql/parse-error"]
    assert "more than the 2,000,000 normcheck parses" in error["message"]
    assert elapsed < 10


@pytest.mark.parametrize(
    "payload",
    [
        "{{ cycler.__init__.__globals__.os.system('touch MARKER') }}",
        "{% set x = joiner.__init__.__globals__.os.popen('touch MARKER').read() %}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ modules.re.__builtins__['__import__']('os').system('touch MARKER') }}",
    ],
)
def test_model_jinja_cannot_reach_python(payload, tmp_path, capsys):
    marker = tmp_path / "PWNED"
    sql = payload.replace("MARKER", str(marker)) + "\nselect 1 as id"
    folder = project(tmp_path, {"normcheck.yml": RECOMMENDED}, manifest(model("fct_x", sql=sql)))
    code, _, err, _ = check(capsys, folder)
    assert code in (0, 1), err
    assert not marker.exists(), "a model's Jinja ran Python: the renderer must be sandboxed"


def test_many_suppression_lines_are_linear(tmp_path, capsys):
    sql = "select 1 as id\n" + "-- normcheck: ignore[naming/name-case] legacy\n" * 30_000
    data = manifest(model("fct_x", sql=sql))
    folder = project(tmp_path, {"normcheck.yml": RECOMMENDED}, data)
    code, _, err, elapsed = check(capsys, folder)
    assert code in (0, 1), err
    assert elapsed < 20


def test_big_segment_plan_loads_in_linear_time(tmp_path, capsys):
    events = [
        {
            "key": f"Item {i} Viewed",
            "type": "TRACK",
            "jsonSchema": {
                "properties": {
                    "properties": {
                        "properties": {f"prop_{i}_{j}": {"type": "string"} for j in range(3)}
                    }
                }
            },
        }
        for i in range(8_000)
    ]
    plan = json.dumps({"rules": events}, indent=2)  # 3.6 MB, 8,000 events
    folder = project(tmp_path, {"normcheck.yml": PLAN_CONFIG, "tracking/web.json": plan})
    code, out, err, elapsed = check(capsys, folder)
    assert code in (0, 1), err
    assert elapsed < 30
    lines = plan.splitlines()
    for finding in findings(out)[:50]:
        if finding["resource"].startswith("event."):
            name = finding["resource"].split(".", 2)[2]
            assert f'"key": "{name}"' in lines[finding["line"] - 1]


# -- writes: only what was asked ----------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple[str, bytes, int]]:
    """Every file, folder and link under ``root``: kind, bytes (or target), mtime."""
    out: dict[str, tuple[str, bytes, int]] = {}
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[relative] = ("link", str(path.readlink()).encode(), stat.st_mtime_ns)
        elif path.is_dir():
            out[relative] = ("dir", b"", stat.st_mtime_ns)
        else:
            out[relative] = ("file", path.read_bytes(), stat.st_mtime_ns)
    return out


WRITE_FILES = {
    "models/staging/stg_orders.sql": "{{ config(meta={'owner': 'growth'}) }}\nselect 1 as order_id\n",
    "models/marts/orders.sql": "-- normcheck: ignore[docs/missing-description]\nselect * from {{ ref('stg_orders') }}\n",
    "models/marts/_marts.yml": "version: 2\nmodels:\n  - name: orders\n    description: TODO\n",
    "normcheck.yml": (
        "extends: [normcheck:recommended]\nteam: growth\nowners: {growth: {}}\n"
        "tracking_plans: ['tracking/*.yml']\nbaseline: .normcheck-baseline.json\n"
    ),
    "tracking/web.yml": PLAN,
    ".normcheck-baseline.json": '{"version": 1, "entries": []}\n',
}
FORMATS = ["text", "json", "github", "sarif", "junit", "markdown", "html"]


@pytest.fixture
def real_trees(tmp_path, monkeypatch):
    """A project parsed by real dbt, and the sample project (parsed, with its Python
    plugin)."""
    built = build_dbt_project(tmp_path / "built", WRITE_FILES)
    sample = tmp_path / "sample" / "sample_project"
    shutil.copytree(
        REPO / "sample_project",
        sample,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb*", "__pycache__"),
    )
    dbt_parse(sample)
    return [built, sample]


def test_check_writes_nothing_in_the_project(real_trees, tmp_path, capsys, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("NORMCHECK_CACHE_DIR", str(cache))
    reports = tmp_path / "reports"
    reports.mkdir()
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as in a user's shell
    for folder in real_trees:
        before = snapshot(folder)
        monkeypatch.chdir(folder)
        time.sleep(0.01)  # a write would show in the mtime
        runs = [["check", "--format", fmt] for fmt in FORMATS]
        runs += [
            ["check", "--no-cache", "--format", "json"],
            ["check", "--parse", "never", "-q", "--output", f"sarif:{reports}/r.sarif"],
            ["check", "models/marts/_marts.yml", "--format", "json"],
            ["report", "--format", "html"],
            ["metrics", "--format", "markdown"],
            ["config", "--format", "json"],
            ["rules"],
            ["explain", "naming/model-prefix"],
            ["schema"],
        ]
        for args in runs:
            code = main(args)
            _, err = capsys.readouterr()
            assert code in (0, 1), (args, err)
            assert "running `dbt parse`" not in err, "the manifest was fresh"
        assert snapshot(folder) == before, f"normcheck wrote in {folder}"
    assert sorted(p.name for p in reports.iterdir()) == ["r.sarif"]
    assert any(cache.iterdir()), "the cache lives in NORMCHECK_CACHE_DIR"


def test_baseline_writes_only_the_baseline(real_trees, tmp_path, capsys, monkeypatch):
    folder = real_trees[0]
    monkeypatch.chdir(folder)
    before = snapshot(folder)
    time.sleep(0.01)
    assert main(["baseline"]) == 0
    after = snapshot(folder)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed == {".normcheck-baseline.json"}


# -- network: none, even when dbt parses ---------------------------------------------

SITECUSTOMIZE = '''
"""Blocks every network socket of this Python, recording each attempt."""
import os
import socket

_LOG = os.environ["NORMCHECK_NETWORK_LOG"]
_LOCAL = {getattr(socket, "AF_UNIX", None)}


def _refuse(what, *args):
    with open(_LOG, "a", encoding="utf-8") as handle:
        handle.write(f"{what} {args!r}\\n")
    raise OSError(f"network blocked by the test: {what} {args!r}")


def _guard(name):
    real = getattr(socket.socket, name)

    def guarded(self, *args, **kwargs):
        if self.family in _LOCAL:
            return real(self, *args, **kwargs)
        return _refuse(f"socket.{name}", *args)

    setattr(socket.socket, name, guarded)


for _name in ("connect", "connect_ex", "sendto", "sendmsg"):
    _guard(_name)
socket.create_connection = lambda *a, **k: _refuse("create_connection", *a)
socket.getaddrinfo = lambda *a, **k: _refuse("getaddrinfo", *a)
socket.gethostbyname = lambda *a, **k: _refuse("gethostbyname", *a)
socket.gethostbyname_ex = lambda *a, **k: _refuse("gethostbyname_ex", *a)
'''


def offline_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    site = tmp_path / "offline_site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "network.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DO_NOT_TRACK", "DBT_SEND_ANONYMOUS_USAGE_STATS", "PYTHONPATH")
    }  # normcheck itself must turn dbt's tracking off
    env["PYTHONPATH"] = str(site)
    env["NORMCHECK_NETWORK_LOG"] = str(log)
    return env, log


def test_the_network_guard_works(tmp_path):
    env, log = offline_env(tmp_path)
    probe = "import socket\ntry:\n    socket.create_connection(('example.com', 80), 1)\nexcept OSError as e:\n    print(e)\n"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert "network blocked by the test" in done.stdout
    assert "create_connection" in log.read_text()


@pytest.mark.dbt
def test_no_network_connection_even_when_dbt_parses(tmp_path):
    env, log = offline_env(tmp_path)
    folder = tmp_path / "sample_project"
    shutil.copytree(
        REPO / "sample_project",
        folder,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb*", "__pycache__"),
    )
    env["NORMCHECK_CACHE_DIR"] = str(tmp_path / "cache")
    command = [sys.executable, "-m", "normcheck", "check", "--format", "json"]
    for extra in (["--parse", "always"], ["--parse", "auto"], ["--parse", "never", "--no-cache"]):
        done = subprocess.run(
            [*command, *extra],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        assert json.loads(done.stdout)["summary"]["error"] > 0
        if extra[1] == "always":
            assert "running `dbt parse`" in done.stderr
            assert (folder / "target/manifest.json").is_file()
    assert not log.exists(), log.read_text()


def _gone(pid: int) -> bool:
    """The process has ended (a zombie, not yet reaped by whoever inherited it, too)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or not Path("/proc/self/stat").is_file(),
    reason="parse workers need two cores; /proc tells whether a process lives",
)
def test_sigterm_stops_the_parse_workers_with_the_run(tmp_path):
    """SIGTERM (a cancelled CI job, `timeout`) killed the checking process at once:
    its parse workers, in a process group of their own, parsed on, orphaned (and a
    worker still receiving its jobs printed a traceback). It unwinds the run as
    Ctrl-C does: the workers are stopped, one line, exit 143 (128 + SIGTERM). Here
    the first worker sends the SIGTERM itself, then would sleep for an hour."""
    import signal

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "normcheck.yml").write_text(
        "version: 1\nextends: [normcheck:recommended]\nplugins: [stop.py]\n"
    )
    (folder / "stop.py").write_text(
        textwrap.dedent(
            f"""\
            import os
            import time
            from pathlib import Path

            from normcheck import _parse_worker

            def warm():  # in the first worker, forked from the checking process
                Path("worker").write_text(str(os.getpid()))
                os.kill(os.getppid(), {int(signal.SIGTERM)})
                time.sleep(3600)

            _parse_worker.warm = warm
            """
        )
    )
    manifest = REPO.parent / "shared" / "corpus" / "dbt" / "ol-data-platform" / "manifest.json.gz"
    command = [sys.executable, "-m", "normcheck", "check", "--manifest", str(manifest)]
    # to files, not pipes: a worker left behind holds a pipe open (a CI step that
    # reads the output waits for it), and this test would wait too
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("w") as stdout, err.open("w") as stderr:
        code = subprocess.Popen(
            [*command, "--no-cache"],
            cwd=folder,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},  # this checkout's normcheck
            stdout=stdout,
            stderr=stderr,
        ).wait(timeout=300)
    worker = int((folder / "worker").read_text())
    try:
        deadline = time.monotonic() + 30
        while not _gone(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(worker), "the parse worker outlived the run"
    finally:
        with contextlib.suppress(OSError):
            os.killpg(worker, signal.SIGKILL)
    assert code == 128 + signal.SIGTERM, err.read_text()
    assert err.read_text().strip() == "normcheck: terminated"
    assert out.read_text() == ""


def _normcheck(
    folder: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`normcheck check --parse never ARGS` in a process of its own, in ``folder``."""
    return subprocess.run(
        [sys.executable, "-m", "normcheck", "check", "--parse", "never", *args],
        cwd=folder,
        # this checkout's normcheck
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_manifest_from_a_named_pipe_is_read_once(tmp_path):
    """`--manifest` a named pipe (`mkfifo`, fed by another program): read on a
    thread ahead, then opened again for the run's cache key, which waited for a
    second writer for ever. A pipe is read once, and its findings are not cached
    (a pipe has no identity to key them by)."""
    folder = project(tmp_path, {"normcheck.yml": CONFIG})
    data = (folder / "target" / "manifest.json").read_bytes()
    expected = _normcheck(folder, "--manifest", "target/manifest.json", "--no-cache")
    assert expected.returncode == 0, expected.stderr
    assert "Checked 1 resources" in expected.stdout
    pipe = tmp_path / "manifest.pipe"
    os.mkfifo(pipe)

    def feed() -> None:
        with contextlib.suppress(OSError), pipe.open("wb") as handle:
            handle.write(data)

    cache = {"NORMCHECK_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(2):  # cold, then with whatever the first stored
        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        try:
            done = _normcheck(folder, "--manifest", str(pipe), env=cache)
        finally:
            # a writer still waiting for a reader (the run failed first): let it go
            with contextlib.suppress(OSError):
                os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))
            writer.join(timeout=60)
        assert (done.returncode, done.stdout, done.stderr) == (
            expected.returncode,
            expected.stdout,
            expected.stderr,
        )


def _waiting_on_a_pipe(pid: int) -> bool:
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            if (task / "wchan").read_text() == "wait_for_partner":
                return True
    return False


@pytest.mark.skipif(not Path("/proc/self/wchan").is_file(), reason="Linux: /proc tells waits")
def test_one_ctrl_c_stops_a_run_waiting_on_a_pipe_nobody_writes(tmp_path):
    """`--manifest` a named pipe nobody writes: the run waits, as `cat` would, but
    one Ctrl-C ended it only when the wait was not on the read-ahead thread, whose
    join at the end waited again (a second Ctrl-C was needed)."""
    import signal

    folder = project(tmp_path, {"normcheck.yml": CONFIG})
    pipe = tmp_path / "manifest.pipe"
    os.mkfifo(pipe)
    running = subprocess.Popen(
        [sys.executable, "-m", "normcheck", "check", "--manifest", str(pipe), "--no-cache"],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},  # this checkout's normcheck
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _waiting_on_a_pipe(running.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _waiting_on_a_pipe(running.pid)
        running.send_signal(signal.SIGINT)
        assert running.wait(timeout=30) == 130
        assert running.stderr is not None
        assert running.stderr.read().strip() == "normcheck: interrupted"
    finally:
        running.kill()
        running.wait()


def _waiting_for_a_lock(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return "lock" in Path(f"/proc/{pid}/wchan").read_text()
    return False


@pytest.mark.skipif(not Path("/proc/self/wchan").is_file(), reason="Linux: /proc tells waits")
def test_a_run_reads_no_manifest_another_runs_dbt_parse_is_writing(tmp_path):
    """Two runs at once on one project (a pre-commit hook and an editor's, a full
    run and one of a few files), one running `dbt parse`: dbt writes the manifest in
    place, and the other read it cut short ("invalid JSON", exit 2). A run reads
    the manifest while no other normcheck run's `dbt parse` writes it: here this
    test holds the project's lock as that run would, the manifest half-written."""
    import fcntl

    folder = project(tmp_path, {"normcheck.yml": CONFIG})
    manifest = folder / "target" / "manifest.json"
    whole = manifest.read_bytes()
    expected = _normcheck(folder, "--no-cache")
    assert expected.returncode == 0, expected.stderr
    lock = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run's `dbt parse`, writing
        manifest.write_bytes(whole[: len(whole) // 2])
        running = subprocess.Popen(
            [sys.executable, "-m", "normcheck", "check", "--parse", "never", "--no-cache"],
            cwd=folder,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},  # this checkout's normcheck
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while running.poll() is None and not _waiting_for_a_lock(running.pid):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        manifest.write_bytes(whole)  # written whole: the parse is done
    finally:
        os.close(lock)
    out, err = running.communicate(timeout=120)
    assert (running.returncode, out, err) == (0, expected.stdout, expected.stderr)


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError], ids=["interrupted", "failed"])
def test_an_interrupted_cache_write_leaves_no_temporary_file(tmp_path, monkeypatch, stop):
    """Ctrl-C (or SIGTERM, which unwinds as it does) between writing a cache entry's
    temporary file and renaming it left the file in the cache folder, one more each
    time (megabytes of SQL facts on a large project). It is removed; a failed write
    is still no error (the cache is best effort), an interruption still one."""
    from normcheck import cache

    monkeypatch.setenv("NORMCHECK_CACHE_DIR", str(tmp_path / "cache"))

    def replace(self, target):
        raise stop

    monkeypatch.setattr(Path, "replace", replace)
    run = cache.CachedRun(findings=[], suppressed=[], resources={}, checked=0, rule_count=0)
    if stop is KeyboardInterrupt:
        with pytest.raises(KeyboardInterrupt):
            cache.store("k" * 32, run)
    else:
        cache.store("k" * 32, run)
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_baseline_with_a_byte_order_mark_is_refused_at_the_right_line(tmp_path):
    """`utf-8-sig` gives a decoding error's offset past the mark, 3 bytes short: a byte
    that is no UTF-8 at the start of a line was said to be on the line above."""
    from normcheck import baseline as baseline_mod
    from normcheck.errors import ArtifactError

    path = tmp_path / "b.json"
    path.write_bytes(b'\xef\xbb\xbf{\n  "version": 1,\n\xe9\n}\n')
    with pytest.raises(ArtifactError) as caught:
        baseline_mod.load(path, "b.json")
    assert caught.value.line == 3


def test_a_manifest_from_a_named_pipe_with_a_changed_yaml_is_read_once(tmp_path):
    """A check of changed files (pre-commit) with a changed YAML, doc or macro file
    read the manifest again to widen the scope: from a named pipe that waited for a
    second writer for ever. The pipe is read once."""
    folder = project(tmp_path, {"normcheck.yml": CONFIG, "models/_models.yml": "version: 2\n"})
    data = (folder / "target" / "manifest.json").read_bytes()
    shown = "models/_models.yml"
    pipe = tmp_path / "manifest.pipe"
    os.mkfifo(pipe)

    def feed() -> None:
        with contextlib.suppress(OSError), pipe.open("wb") as handle:
            handle.write(data)

    args = ["--manifest", str(pipe), shown]
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "normcheck", "check", "--parse", "never", "--no-cache", *args],
            cwd=folder,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
            capture_output=True,
            text=True,
            check=False,
            timeout=20,
        )
    finally:
        with contextlib.suppress(OSError):
            os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(timeout=60)
    assert done.returncode in (0, 1), done.stderr
