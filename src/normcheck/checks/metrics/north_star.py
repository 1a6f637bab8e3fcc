from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.checks._common import backticks
from normcheck.project import Resource
from normcheck.semantic import TIERS, MetricSpec, SemanticLayer


class NorthStarOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    max_north_stars: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            description="how many North Star metrics the company agrees on",
            extra={"stricter": "lower"},
        ),
    ] = 3
    require_tier: Annotated[
        bool,
        msgspec.Meta(
            description="every metric must declare `meta.tier`", extra={"stricter": "true"}
        ),
    ] = False


@rule("metrics/north-star", severity="warning", targets=["metric"], options=NorthStarOptions)
def north_star(metric: Resource, ctx: Context[NorthStarOptions]) -> Iterator[Hit]:
    """A broken North Star hierarchy: too many stars, an input driving none, a star nothing drives.

    ## What it finds
    Metrics declare their place in the hierarchy in `config.meta` (or `meta`):
    `tier: north_star | input | supporting`, and `drives:` (a metric name, or a list)
    for the metrics they move. The rule finds

    - a `tier` other than those three (or none, with `require_tier`);
    - more North Stars than `max_north_stars` (reported on each one past the limit,
      in name order, those of installed packages counted first);
    - a North Star that no input metric drives;
    - an input metric whose `drives` is missing or names something that is not a
      North Star metric;
    - a supporting metric whose `drives` names something that is not a North Star or
      input metric (supporting metrics may leave `drives` out).

    `normcheck metrics` draws the resulting tree.

    ## Why it matters
    A North Star is only useful when everyone knows which few numbers it is and which
    levers move it. Each department's input metrics say what it does for the North
    Star; an input that drives nothing is effort nobody can connect to the goal.

    ## Example
    ```sql models/fct_orders.sql
    select 1 as order_id, 10.0 as amount, current_date as order_date
    ```
    ```yaml models/metrics.yml
    version: 2
    semantic_models:
      - name: orders
        model: ref('fct_orders')
        defaults: {agg_time_dimension: order_date}
        entities:
          - {name: order, type: primary, expr: order_id}
        dimensions:
          - {name: order_date, type: time, type_params: {time_granularity: day}}
        measures:
          - {name: revenue, agg: sum, expr: amount}
          - {name: order_count, agg: count, expr: order_id}
    metrics:
      - name: revenue
        label: Revenue
        type: simple
        type_params: {measure: revenue}
        config: {meta: {tier: north_star}}
      - name: orders
        label: Orders
        type: simple
        type_params: {measure: order_count}
        config: {meta: {tier: input, drives: revenu}}
    ```

    ## Use instead
    ```sql models/fct_orders.sql
    select 1 as order_id, 10.0 as amount, current_date as order_date
    ```
    ```yaml models/metrics.yml
    version: 2
    semantic_models:
      - name: orders
        model: ref('fct_orders')
        defaults: {agg_time_dimension: order_date}
        entities:
          - {name: order, type: primary, expr: order_id}
        dimensions:
          - {name: order_date, type: time, type_params: {time_granularity: day}}
        measures:
          - {name: revenue, agg: sum, expr: amount}
          - {name: order_count, agg: count, expr: order_id}
    metrics:
      - name: revenue
        label: Revenue
        type: simple
        type_params: {measure: revenue}
        config: {meta: {tier: north_star}}
      - name: orders
        label: Orders
        type: simple
        type_params: {measure: order_count}
        config: {meta: {tier: input, drives: revenue}}
    ```
    """
    layer = ctx.project.semantic
    spec = layer.metric_of(metric.uid)
    if spec is None:
        return
    raw = spec.meta.get("tier")
    if raw is None:
        if ctx.options.require_tier:
            yield Hit(
                f"metric `{spec.name}` has no tier: set `meta.tier` to one of {', '.join(TIERS)}",
                key="tier",
                yaml_key=("meta",),
            )
        return
    if spec.tier not in TIERS:
        yield Hit(
            f"metric `{spec.name}` has tier `{raw}`: use one of {', '.join(TIERS)}",
            key="tier",
            yaml_key=("meta", "tier"),
        )
        return
    if spec.tier == "north_star":
        yield from _north_star(spec, layer, ctx.options.max_north_stars)
    else:
        yield from _drives(spec, layer)


def _north_star(spec: MetricSpec, layer: SemanticLayer, limit: int) -> Iterator[Hit]:
    stars = layer.north_stars
    # an installed package's stars (the central ones) count first: the project's own
    # star is the one past the limit, and its own run is where that can be said
    ordered = sorted(stars, key=lambda name: (layer.metrics[name].package == spec.package, name))
    if len(stars) > limit and ordered.index(spec.name) >= limit:
        yield Hit(
            f"metric `{spec.name}` is one of {len(stars)} North Star metrics "
            f"({backticks(stars)}) where {limit} are agreed: make the others `input` or "
            "`supporting`, or raise `max_north_stars`",
            key="too-many",
            yaml_key=("meta", "tier"),
        )
    inputs = [n for n in layer.driven_by.get(spec.name, ()) if layer.metrics[n].tier == "input"]
    if not inputs:
        yield Hit(
            f"North Star metric `{spec.name}` has no input metrics: give the metrics that "
            f"move it `tier: input` and `drives: {spec.name}`",
            key="no-inputs",
            yaml_key=("meta", "tier"),
        )


def _drives(spec: MetricSpec, layer: SemanticLayer) -> Iterator[Hit]:
    allowed = ("north_star",) if spec.tier == "input" else ("north_star", "input")
    wanted = "a North Star metric" if spec.tier == "input" else "a North Star or input metric"
    if not spec.drives:
        if spec.tier == "input":
            stars = backticks(layer.north_stars) or "a North Star metric"
            yield Hit(
                f"input metric `{spec.name}` does not say which North Star it drives: set "
                f"`meta.drives` to {stars}",
                key="drives",
                yaml_key=("meta", "tier"),
            )
        return
    for target in spec.drives:
        driven = layer.metrics.get(target)
        if driven is not None and driven.tier in allowed:
            continue
        if driven is None:
            what = "is not a metric"
        else:
            what = f"has tier `{driven.tier}`" if driven.tier else "has no tier"
        yield Hit(
            f"{spec.tier} metric `{spec.name}` drives `{target}`, which {what}: name "
            f"{wanted} in `meta.drives`",
            key=f"drives:{target}",
            yaml_key=("meta", "drives"),
        )
