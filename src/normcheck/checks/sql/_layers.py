"""The layers option shared by the SQL rules that apply to some layers only."""

from __future__ import annotations

from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Options
from normcheck.checks._common import layer_of
from normcheck.project import Resource


class LayerScopedOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    layers: Annotated[
        list[str],
        msgspec.Meta(description="layers (of naming/model-prefix) the rule applies to; [] = all"),
    ] = msgspec.field(default_factory=lambda: ["marts"])


def in_scope(model: Resource, ctx: Context[LayerScopedOptions]) -> bool:
    if not ctx.options.layers:
        return True
    layer = layer_of(model, ctx.layers)
    return layer is not None and layer.name in ctx.options.layers
