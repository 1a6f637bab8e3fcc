"""normcheck on real and scaled-real manifests: exact against the truth file,
silent on installed packages, stable across runs."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CORPUS, SHARED
from normcheck.cli import main
from normcheck.run import RunOptions, run

SYNTH = SHARED / "bench" / "synth_manifest.py"
OL = CORPUS / "dbt" / "ol-data-platform" / "manifest.json.gz"
TUVA = CORPUS / "dbt" / "tuva" / "manifest.json.gz"

# normcheck's equivalent of the reference rule set in shared/bench/README.md
TRUTH_CONFIG = """\
version: 1
extends: []
owners: {owners}
rules:
  naming/model-prefix:
    severity: error
    options:
      layers:
        staging: {{paths: ["models/staging/**"], prefixes: [stg_]}}
        intermediate: {{paths: ["models/intermediate/**"], prefixes: [int_]}}
        marts: {{paths: ["models/marts/**", "models/mart/**"], prefixes: [fct_, dim_]}}
  naming/name-case: {{severity: error, options: {{resource_types: [model]}}}}
  ownership/missing-owner: {{severity: error, options: {{resource_types: [model]}}}}
  ownership/unknown-owner: error
  docs/missing-description:
    severity: warning
    options: {{resource_types: [model], min_length: 4, null_values: [none, "null", n/a]}}
"""
RULE_OF = {
    "naming.snake_case": "naming/name-case",
    "naming.layer_prefix": "naming/model-prefix",
    "owner.present": "ownership/missing-owner",
    "owner.known": "ownership/unknown-owner",
    "docs.description": "docs/missing-description",
}


def unpack(path: Path, out: Path) -> Path:
    out.write_bytes(gzip.decompress(path.read_bytes()))
    return out


@pytest.fixture(scope="module")
def ol_manifest(tmp_path_factory) -> Path:
    return unpack(OL, tmp_path_factory.mktemp("ol") / "manifest.json")


@pytest.mark.parametrize("models", [1000, 2500])
def test_equivalent_rules_find_exactly_the_truth(models, ol_manifest, tmp_path):
    out = tmp_path / "manifest.json"
    subprocess.run(
        [
            sys.executable,
            str(SYNTH),
            "gen",
            "--base",
            str(ol_manifest),
            "--models",
            str(models),
            "--out",
            str(out),
            "--seed",
            "11",
        ],
        check=True,
        capture_output=True,
    )
    truth = json.loads(out.with_suffix(".truth.json").read_text())
    config = tmp_path / "normcheck.yml"
    config.write_text(TRUTH_CONFIG.format(owners=json.dumps(dict.fromkeys(truth["owner_pool"]))))
    result = run(RunOptions(project_dir=tmp_path, config=config, manifest=out))
    for reference, rule_id in RULE_OF.items():
        found = sorted({f.resource for f in result.findings if f.rule == rule_id})
        assert found == sorted(truth["violations"][reference]), rule_id
        assert found, f"{rule_id}: the truth file injected none"


@pytest.mark.parametrize("source", [OL, TUVA], ids=["ol-data-platform", "tuva"])
def test_real_manifest_no_crash_no_package_findings_stable(source, tmp_path, capsys):
    manifest = unpack(source, tmp_path / "manifest.json")
    raw = json.loads(manifest.read_text())
    root = raw["metadata"]["project_name"]
    outputs = []
    for _ in range(2):
        code = main(
            [
                "check",
                "--project-dir",
                str(tmp_path),
                "--manifest",
                str(manifest),
                "--format",
                "json",
            ]
        )
        captured = capsys.readouterr()
        assert code in (0, 1), captured.err
        assert captured.err == ""
        outputs.append(captured.out)
    assert outputs[0] == outputs[1]
    findings = json.loads(outputs[0])["findings"]
    assert findings, "real projects carry real debt"
    for finding in findings:
        assert finding["resource"].split(".")[1] == root, finding
    assert findings == sorted(
        findings, key=lambda f: (f["file"], f["line"], f["rule"], f["resource"], f["message"])
    )


@pytest.mark.parametrize("source", [OL, TUVA], ids=["ol-data-platform", "tuva"])
def test_rules_that_judge_no_columns_find_the_same_without_building_them(
    source, tmp_path, monkeypatch, capsys
):
    from normcheck import project as project_module
    from normcheck import run as run_module

    manifest = unpack(source, tmp_path / "manifest.json")
    built: list[tuple[bool, int]] = []
    real_build = project_module.build_project

    def spy(*args, **kwargs):
        project = real_build(*args, **kwargs)
        columns = sum(1 for r in project.resources.values() if r.type == "column")
        built.append((kwargs.get("columns", True), columns))
        return project

    monkeypatch.setattr(project_module, "build_project", spy)
    args = ["check", "--no-cache", "--project-dir", str(tmp_path), "--manifest", str(manifest)]
    select = "naming/name-case,naming/model-prefix,naming/model-directory,"
    select += "ownership/missing-owner,ownership/unknown-owner,docs/missing-description"
    args += ["--format", "json", "--select", select]
    outputs = []
    for forced in (False, True):
        if forced:
            monkeypatch.setattr(run_module, "needs_columns", lambda config, rule_ids: True)
        code = main(args)
        captured = capsys.readouterr()
        assert code in (0, 1), captured.err
        outputs.append(captured.out)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["findings"]
    (skipped, fewer), (full, columns) = built
    assert (skipped, full) == (False, True)
    assert fewer == 0  # no suppressions in these projects' columns
    assert columns > (1_000 if source == OL else -1)
    # the default set judges columns: they are built
    main(args[:-2])
    capsys.readouterr()
    assert built[-1][0] is True
