from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck._glob import match_any
from normcheck.checks._api import Context, Hit, Options, ResourceType, rule
from normcheck.checks._common import Regex, code_line, layer_of
from normcheck.project import Resource

META_TYPES = ("string", "boolean", "integer", "number", "list", "mapping")
_PYTHON = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "list": (list,),
    "mapping": (dict,),
}


class KeySpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    enum: Annotated[
        list[str | int | float | bool] | None, msgspec.Meta(description="allowed values")
    ] = None
    regex: Annotated[Regex | None, msgspec.Meta(description="a pattern string values match")] = None
    type: Annotated[
        str | None,
        msgspec.Meta(description="the value's type", extra_json_schema={"enum": list(META_TYPES)}),
    ] = None


class Scope(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    paths: list[str] = msgspec.field(default_factory=list)
    tags: list[str] = msgspec.field(default_factory=list)
    groups: list[str] = msgspec.field(default_factory=list)
    layers: list[str] = msgspec.field(default_factory=list)


class RequiredMetaOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    resource_types: Annotated[
        list[ResourceType],
        msgspec.Meta(
            description="resource types that must carry the keys", extra={"stricter": "more"}
        ),
    ] = msgspec.field(default_factory=lambda: ["model"])
    match: Annotated[
        Scope, msgspec.Meta(description="only resources matching all of paths/tags/groups/layers")
    ] = msgspec.field(default_factory=Scope)
    keys: Annotated[
        dict[str, KeySpec],
        msgspec.Meta(
            description="required `meta` keys, each with optional enum, regex, type",
            extra={"stricter": "more-per-key"},
        ),
    ] = msgspec.field(default_factory=dict)


def _in_scope(resource: Resource, ctx: Context[RequiredMetaOptions]) -> bool:
    scope = ctx.options.match
    if scope.paths and not match_any(resource.file, scope.paths):
        return False
    if scope.tags and not set(scope.tags) & set(resource.tags):
        return False
    if scope.groups and resource.group not in scope.groups:
        return False
    if scope.layers:
        layer = layer_of(resource, ctx.layers)
        return layer is not None and layer.name in scope.layers
    return True


def _problem(value: object, spec: KeySpec) -> str | None:
    if spec.type and not (
        isinstance(value, _PYTHON[spec.type])
        and not (spec.type in ("integer", "number") and isinstance(value, bool))
    ):
        return f"must be a {spec.type}"
    if spec.enum is not None and value not in spec.enum:
        return "must be one of " + ", ".join(f"`{v}`" for v in spec.enum)
    if spec.regex and not (isinstance(value, str) and re.search(spec.regex, value)):
        return f"must match `{spec.regex}`"
    return None


@rule(
    "governance/required-meta",
    severity="error",
    targets=[
        "model",
        "seed",
        "snapshot",
        "source",
        "exposure",
        "metric",
        "semantic_model",
        "event",
    ],
    options=RequiredMetaOptions,
    subject_only=True,
)
def required_meta(resource: Resource, ctx: Context[RequiredMetaOptions]) -> Iterator[Hit]:
    """A resource lacking a required `meta` key, or with a value outside its enum, regex or type.

    ## What it finds
    For the `resource_types` in scope (`match`: paths, tags, groups, layers), each key of
    `keys` missing from `config.meta` / `meta`, or present with a value of the wrong `type`,
    outside its `enum`, or not matching its `regex`. Central teams derive their own rules
    from it with `uses:` (for example `acme/mart-meta`), each with its own options.

    ## Why it matters
    Metadata is how the rest of the company finds, governs and pays for data: a mart
    without `domain` or `pii` cannot be routed, classified or secured.

    ## Example
    ```yaml normcheck.yml
    rules:
      governance/required-meta:
        options: {keys: {domain: {enum: [sales, finance]}}}
    ```
    ```sql models/marts/fct_orders.sql
    {{ config(meta={"owner": "growth", "domain": "marketing"}) }}
    select 1 as order_id
    ```

    ## Use instead
    ```yaml normcheck.yml
    rules:
      governance/required-meta:
        options: {keys: {domain: {enum: [sales, finance]}}}
    ```
    ```sql models/marts/fct_orders.sql
    {{ config(meta={"owner": "growth", "domain": "sales"}) }}
    select 1 as order_id
    ```
    """
    options = ctx.options
    if resource.type not in options.resource_types or not _in_scope(resource, ctx):
        return
    kind = resource.type.replace("_", " ")
    for key, spec in sorted(options.keys.items()):
        if key not in resource.meta:
            yield Hit(
                f"{kind} `{resource.name}` has no `meta.{key}`: add it",
                key=f"missing:{key}",
                yaml_key=("meta",),
            )
            continue
        problem = _problem(resource.meta[key], spec)
        if problem is not None:
            yield Hit(
                f"{kind} `{resource.name}` has `meta.{key}: {resource.meta[key]}`, which {problem}",
                key=f"invalid:{key}",
                yaml_key=("meta", key),
                line=code_line(resource.raw_code, key),
            )
