from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.checks.metrics._semantics import computations, dialect_of, same_as
from normcheck.project import Resource


@rule("metrics/duplicate-definition", severity="warning", targets=["metric"])
def duplicate_definition(metric: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """Two metrics that compute the same thing under different names.

    ## What it finds
    A metric whose computation equals another's: the same type, the same measure or
    aggregated expression over the same dbt model, the same aggregation, the same
    filters, windows and inputs. Expressions and filters are compared after sqlglot
    normalises their whitespace and case; a ratio or derived metric compares what its
    inputs compute, not their names, and a derived metric's `expr` is compared with
    its inputs in place of their names or aliases; a simple or cumulative metric's
    `filter` is the same as that filter on its measure input (MetricFlow applies both
    to the measure's rows). A pair in one file is reported once,
    on the metric whose name sorts last; a pair across files on both, so a check of
    either file shows it (and on the project's own metric only, when the other comes
    from an installed package).

    ## Why it matters
    Two names for one number drift apart: one gets a filter fixed, the other does
    not, and two teams report different revenue in the same meeting.

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
          - {name: gross_sales, agg: sum, expr: "  AMOUNT "}
    metrics:
      - {name: revenue, label: Revenue, type: simple, type_params: {measure: revenue}}
      - {name: sales, label: Sales, type: simple, type_params: {measure: gross_sales}}
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
      - {name: revenue, label: Revenue, type: simple, type_params: {measure: revenue}}
    ```
    """
    layer = ctx.project.semantic
    spec = layer.metric_of(metric.uid)
    if spec is None:
        return
    dialect = dialect_of(ctx)
    summary = computations(layer, dialect)[spec.name].summary
    for name in same_as(layer, dialect).get(spec.name, ()):
        other = layer.metrics[name]
        if (
            other.package == ctx.project.name
            and name > spec.name
            and _same_file(ctx, other.uid, metric)
        ):
            continue  # the pair is reported on the other metric
        yield Hit(
            f"metric `{spec.name}` computes the same as metric `{name}` ({summary}): "
            "keep one definition and use it everywhere",
            key=name,
        )


def _same_file(ctx: Context[NoOptions], uid: str, metric: Resource) -> bool:
    other = ctx.project.resources.get(uid)
    return other is not None and (other.yaml_file or other.file) == (
        metric.yaml_file or metric.file
    )
