from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.checks._common import layer_of
from normcheck.project import Resource


class LayerOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    paths: Annotated[list[str], msgspec.Meta(description="globs of the layer's model files")]
    prefixes: Annotated[list[str], msgspec.Meta(description="allowed name prefixes")]


DEFAULT_LAYERS = {
    "staging": LayerOptions(paths=["models/staging/**"], prefixes=["stg_"]),
    "intermediate": LayerOptions(paths=["models/intermediate/**"], prefixes=["int_"]),
    "marts": LayerOptions(paths=["models/marts/**"], prefixes=["fct_", "dim_"]),
}


class ModelPrefixOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    layers: Annotated[
        dict[str, LayerOptions],
        msgspec.Meta(
            description="layer name -> its folders and name prefixes; the first layer whose "
            "paths match a model decides (also used by naming/model-directory and "
            "governance/layer-dependency)",
            extra={"stricter": "narrower-layers"},
        ),
    ] = msgspec.field(default_factory=lambda: dict(DEFAULT_LAYERS))


@rule(
    "naming/model-prefix",
    severity="error",
    targets=["model"],
    options=ModelPrefixOptions,
    subject_only=True,
)
def model_prefix(model: Resource, ctx: Context[ModelPrefixOptions]) -> Iterator[Hit]:
    """A model whose name lacks the prefix of the layer its folder puts it in.

    ## What it finds
    A model in a layer folder (for example `models/marts/`) whose name does not start
    with one of that layer's prefixes (`fct_`, `dim_`). Models outside every layer's
    folders are not judged.

    ## Why it matters
    The prefix tells every reader, in every query and BI tool, which layer a relation
    belongs to and therefore how far it can be trusted and who may build on it.

    ## Example
    ```sql models/marts/orders.sql
    select 1 as order_id
    ```

    ## Use instead
    ```sql models/marts/fct_orders.sql
    select 1 as order_id
    ```
    """
    layer = layer_of(model, ctx.layers)
    if layer is None or model.name.startswith(layer.prefixes):
        return
    prefixes = ", ".join(layer.prefixes)
    yield Hit(
        f"model `{model.name}` in layer `{layer.name}` lacks a prefix: {prefixes}",
        where="file",
        line=1,
    )
