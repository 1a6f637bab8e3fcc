"""What `normcheck init` writes: a starter normcheck.yml fitted to the folder it
runs in (the tracking plans found under ``tracking/``, the layers the model
folders already follow)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from normcheck._yaml import load_yaml
from normcheck.errors import ArtifactError

STARTER = """\
# normcheck configuration: see `normcheck config` for what it resolves to.
version: 1
extends: [normcheck:default]      # the packaged central rule set; add your central team's file
# team: my-team                   # owner of findings on resources nobody owns
# owners:                         # registry of owning teams (usually kept centrally)
#   my-team: {{email: my-team@example.com}}
# vocabulary:
#   preferred: {{amt: amount, cust: customer, qty: quantity}}
#   banned: [tmp, temp, test, new, old]
{tracking}rules:
  docs/missing-description: warning
{layers}# overrides:                      # local adaptation, matched per resource; later wins
#   - match: {{paths: ["models/legacy/**"]}}
#     rules: {{docs/missing-description: info}}
"""

_DEFAULT_LAYERS = [
    ("staging", "models/staging/**", ["stg_"]),
    ("intermediate", "models/intermediate/**", ["int_"]),
    ("marts", "models/marts/**", ["fct_", "dim_"]),
]
# where a layer usually sits in the flow, by its folder's name (others after these)
_FLOW = {
    name: rank
    for rank, names in enumerate(
        (
            ("raw", "sources", "source", "base", "staging", "stage", "stg"),
            ("intermediate", "int", "transform", "transformations", "prep"),
            ("marts", "mart", "core", "reporting", "analytics", "presentation"),
        )
    )
    for name in names
}
_OTHER = 3  # the rank of a folder of another name
_COVER = 0.8  # the prefixes named must start this share of a folder's models


def starter(folder: Path) -> str:
    """The starter configuration for a project in ``folder``."""
    globs = plan_globs(folder / "tracking")
    if globs:
        tracking = f"tracking_plans: {json.dumps(globs)}   # the plans found under tracking/\n"
    else:
        tracking = '# tracking_plans: ["tracking/**/*.yml"]   # your tracking plans, if any\n'
    seen = layers_seen(folder)
    lines = ["  # naming/model-prefix:"]
    if seen:
        lines[0] += "   # the layers your model folders follow (most of their models' prefixes)"
    lines += ["  #   severity: error", "  #   options:", "  #     layers:"]
    for name, paths, prefixes in _merged(seen) if seen else _DEFAULT_LAYERS_MERGED:
        listed = ", ".join(json.dumps(p) for p in paths)
        lines.append(
            f"  #       {_key(name)}: {{paths: [{listed}], prefixes: [{', '.join(prefixes)}]}}"
        )
    if seen and {name for name, _, _ in seen} != {name for name, _, _ in _DEFAULT_LAYERS}:
        lines.append(
            "  # governance/layer-dependency names layers too (`source_readers`, `forbidden`):"
            " give it yours"
        )
    return STARTER.format(tracking=tracking, layers="\n".join(lines) + "\n")


def _merged(
    seen: list[tuple[str, str, list[str]]],
) -> list[tuple[str, list[str], list[str]]]:
    """One layer a name: folders of one name under two model paths are one layer."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for name, path, prefixes in seen:
        paths, known = out.setdefault(name, ([], []))
        paths.append(path)
        known.extend(p for p in prefixes if p not in known)
    return [(name, paths, prefixes) for name, (paths, prefixes) in out.items()]


_DEFAULT_LAYERS_MERGED = _merged(_DEFAULT_LAYERS)
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _key(name: str) -> str:
    """A layer's name as a YAML key that reads back as that text (`2024`, `on`
    and `my layer` quoted)."""
    if _PLAIN_KEY.fullmatch(name) and name.lower() not in _YAML_WORDS:
        return name
    return json.dumps(name)


_PLAN_MARKS = (b"normcheck: plan/v1", b"rudder/v", b'"rules"', b'"self"')


def plan_globs(folder: Path) -> list[str]:
    """What `tracking_plans:` should read under ``folder``: a glob per suffix whose
    files all look like tracking plans, else those files by name (a JSON Schema or
    a CI file beside them would be refused as "not a tracking plan")."""
    if not folder.is_dir():
        return []
    out = []
    for suffix in (".yml", ".yaml", ".json"):
        files = sorted(p for p in folder.rglob(f"*{suffix}") if p.is_file())
        plans = [p for p in files if any(mark in p.read_bytes() for mark in _PLAN_MARKS)]
        if plans and len(plans) == len(files):
            out.append(f"{folder.as_posix()}/**/*{suffix}")
        else:
            out += [p.as_posix() for p in plans]
    return out


def layers_seen(project: Path) -> list[tuple[str, str, list[str]]]:
    """Each folder directly under the model paths whose models mostly share a few
    name prefixes (at least two models a prefix, together four in five of the
    folder's models): its name, its path glob and those prefixes, in the order
    data usually flows (staging, intermediate, marts, then the others)."""
    found = []
    for models in _model_paths(project):
        base = project / models
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            prefixes = _prefixes(
                [p.stem for p in folder.rglob("*") if p.suffix in (".sql", ".py") and p.is_file()]
            )
            if prefixes:
                path = f"{Path(models).as_posix().rstrip('/')}/{folder.name}/**"
                found.append((folder.name, path, prefixes))
    return sorted(found, key=lambda f: (_FLOW.get(f[0].lower(), _OTHER), f[0], f[1]))


def _prefixes(names: list[str]) -> list[str]:
    counts = Counter(n.split("_", 1)[0] + "_" for n in names if "_" in n.strip("_"))
    chosen: list[str] = []
    covered = 0
    for prefix, count in sorted(counts.items(), key=lambda c: (-c[1], c[0])):
        if count < 2 or len(chosen) == 3:
            break
        chosen.append(prefix)
        covered += count
        if covered >= _COVER * len(names):
            return chosen
    return []


def _model_paths(project: Path) -> list[str]:
    """dbt_project.yml's `model-paths` (dbt's default when absent or unreadable)."""
    try:
        data = load_yaml(project / "dbt_project.yml").data
    except ArtifactError:
        return ["models"]
    paths = data.get("model-paths") if isinstance(data, dict) else None
    if isinstance(paths, list) and all(isinstance(p, str) and "{{" not in p for p in paths):
        return paths
    return ["models"]
