from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.checks._common import code_line, layer_of
from normcheck.project import Resource


class LayerDependencyOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    source_readers: Annotated[
        list[str],
        msgspec.Meta(
            description="layers whose models may read sources directly", extra={"stricter": "fewer"}
        ),
    ] = msgspec.field(default_factory=lambda: ["staging"])
    forbidden: Annotated[
        dict[str, list[str]],
        msgspec.Meta(
            description="layer -> layers its models may not read",
            extra={"stricter": "more-per-key"},
        ),
    ] = msgspec.field(
        default_factory=lambda: {"staging": ["intermediate", "marts"], "intermediate": ["marts"]}
    )


@rule(
    "governance/layer-dependency",
    severity="error",
    targets=["model"],
    options=LayerDependencyOptions,
)
def layer_dependency(model: Resource, ctx: Context[LayerDependencyOptions]) -> Iterator[Hit]:
    """A model that reads a layer it may not: only staging reads sources; staging never reads marts.

    ## What it finds
    A model in a layer that reads a source directly although its layer is not in
    `source_readers`, or that reads a model of a layer listed under `forbidden` for its
    own layer. Layers come from the `layers` option of `naming/model-prefix`.

    ## Why it matters
    Layers only protect consumers when dependencies flow one way: sources into staging,
    staging into marts. A mart reading raw sources bypasses every cleaning step.

    ## Example
    ```yaml models/staging/_sources.yml
    version: 2
    sources:
      - name: shop
        tables: [{name: orders}]
    ```
    ```sql models/marts/fct_orders.sql
    select * from {{ source('shop', 'orders') }}
    ```

    ## Use instead
    ```yaml models/staging/_sources.yml
    version: 2
    sources:
      - name: shop
        tables: [{name: orders}]
    ```
    ```sql models/staging/stg_orders.sql
    select * from {{ source('shop', 'orders') }}
    ```
    ```sql models/marts/fct_orders.sql
    select * from {{ ref('stg_orders') }}
    ```
    """
    layer = layer_of(model, ctx.layers)
    if layer is None:
        return
    options = ctx.options
    forbidden = set(options.forbidden.get(layer.name, ()))
    for uid in sorted(set(model.depends_on)):
        parent = ctx.project.resources.get(uid)
        if parent is None or parent.package != model.package:
            continue  # another project's public model (dbt Mesh) or a package's: not ours
        if parent.type == "source":
            if layer.name in options.source_readers:
                continue
            readers = ", ".join(options.source_readers) or "no layer"
            yield Hit(
                f"model `{model.name}` in layer `{layer.name}` reads source "
                f"`{parent.uid.split('.', 2)[2]}` directly: only {readers} may read sources; "
                "read it through a staging model",
                key=uid,
                where="file",
                line=_read_at(model.raw_code, parent),
            )
        elif parent.type == "model":
            parent_layer = layer_of(parent, ctx.layers)
            if parent_layer is None or parent_layer.name not in forbidden:
                continue
            yield Hit(
                f"model `{model.name}` in layer `{layer.name}` reads `{parent.name}` of layer "
                f"`{parent_layer.name}`, which it may not: depend on an earlier layer",
                key=uid,
                where="file",
                line=_read_at(model.raw_code, parent),
            )


# `ref('name')`, `ref('package', 'name')`, `source('shop', 'orders')` (`dbt.ref(...)` in
# Python): one pattern for every parent, compiled once (not one per finding)
_CALL = re.compile(r"""\b(ref|source)\s*\(\s*['"]([^'"]*)['"]\s*(?:,\s*['"]([^'"]*)['"]\s*)?""")
_VERSION = re.compile(r""",\s*(?:v|version)\s*=\s*['"]?([\w.]+)""")


def _reads(call: re.Match[str], parent: Resource) -> bool:
    kind, first, second = call.group(1), call.group(2), call.group(3)
    if parent.type == "source":
        return kind == "source" and (first, second) == (parent.source_name or "", parent.name)
    if kind != "ref":
        return False
    return (first, second) == (parent.package, parent.name) or (
        second is None and first == parent.name
    )


def _read_at(code: str, parent: Resource) -> int | None:
    """The line of the `source('shop', 'orders')` / `ref('stg_orders')` (a version's
    `v=`, a package's name first; `dbt.ref(...)` in Python) that reads ``parent``,
    not of the first mention of its name (an import CTE `with orders as (` above it);
    else of that first mention."""
    if parent.name not in code:
        return code_line(code, parent.name)
    calls = [call for call in _CALL.finditer(code) if _reads(call, parent)]
    if parent.version is not None:
        versioned = []
        for call in calls:
            said = _VERSION.match(code, call.end())  # right after the name
            if said is not None and said.group(1) == parent.version:
                versioned.append(call)
        calls = versioned or calls
    if not calls:
        return code_line(code, parent.name)
    return code.count("\n", 0, calls[0].start()) + 1
