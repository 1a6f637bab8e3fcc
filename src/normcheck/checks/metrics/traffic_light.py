from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.project import Resource
from normcheck.semantic import TIERS, number, read_thresholds


class TrafficLightOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    tiers: Annotated[
        list[str],
        msgspec.Meta(
            description="tiers whose metrics must declare thresholds",
            extra_json_schema={"items": {"enum": list(TIERS)}},
        ),
    ] = msgspec.field(default_factory=lambda: ["north_star", "input"])


TIER_NAMES = {"north_star": "North Star", "input": "input", "supporting": "supporting"}


@rule("metrics/traffic-light", severity="warning", targets=["metric"], options=TrafficLightOptions)
def traffic_light(metric: Resource, ctx: Context[TrafficLightOptions]) -> Iterator[Hit]:
    """A North Star or input metric without thresholds, or with thresholds out of order.

    ## What it finds
    A metric of the configured `tiers` (North Star and input metrics by default) with
    no `meta.thresholds`, and any metric whose thresholds are not exactly
    `{green: <number>, yellow: <number>, direction: higher_is_better | lower_is_better}`
    or are out of order for their direction. The reading is:

    - `higher_is_better`: green at or above `green`, yellow at or above `yellow`,
      red below `yellow`; so `green` must be at least `yellow`;
    - `lower_is_better`: green at or below `green`, yellow at or below `yellow`,
      red above `yellow`; so `green` must be at most `yellow`.

    Equal values are allowed (a metric with no yellow band). Thresholds are read from
    `config.meta` first, then `meta`.

    ## Why it matters
    "Is 4% churn good?" should have one answer across the company. Thresholds next to
    the definition make green, yellow and red the same reading on every dashboard
    and in `normcheck metrics`.

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
    metrics:
      - name: revenue
        label: Revenue
        type: simple
        type_params: {measure: revenue}
        config:
          meta:
            tier: north_star
            thresholds: {green: 8000, yellow: 10000, direction: higher_is_better}
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
    metrics:
      - name: revenue
        label: Revenue
        type: simple
        type_params: {measure: revenue}
        config:
          meta:
            tier: north_star
            thresholds: {green: 10000, yellow: 8000, direction: higher_is_better}
    ```
    """
    spec = ctx.project.semantic.metric_of(metric.uid)
    if spec is None:
        return
    value = spec.thresholds
    if value is None:
        if spec.tier in ctx.options.tiers:
            yield Hit(
                f"{TIER_NAMES[spec.tier or '']} metric `{spec.name}` has no thresholds: add "
                "`meta.thresholds: {green: …, yellow: …, direction: higher_is_better}` "
                "(or `lower_is_better`) so everyone reads it the same",
                key="missing",
                yaml_key=("meta", "tier"),
            )
        return
    thresholds, problems = read_thresholds(value)
    for key, problem in problems:
        yield Hit(
            f"metric `{spec.name}`: {problem}: write `{{green: <number>, yellow: <number>, "
            "direction: higher_is_better | lower_is_better}`",
            key=key,
            yaml_key=("meta", "thresholds"),
        )
    if thresholds is None or thresholds.in_order:
        return
    if thresholds.direction == "higher_is_better":
        wrong, must = "below", "at least"
    else:
        wrong, must = "above", "at most"
    yield Hit(
        f"metric `{spec.name}` has thresholds out of order: green `{number(thresholds.green)}` is "
        f"{wrong} yellow `{number(thresholds.yellow)}`, but with `{thresholds.direction}` green "
        f"must be {must} yellow: swap them, or change `direction`",
        key="order",
        yaml_key=("meta", "thresholds"),
    )
