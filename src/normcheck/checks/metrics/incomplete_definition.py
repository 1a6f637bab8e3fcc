from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

import msgspec

from normcheck._yaml import Step
from normcheck.checks._api import Context, Hit, Options, rule
from normcheck.checks.metrics._semantics import dialect_of, references, unknown_reference
from normcheck.project import Resource
from normcheck.semantic import MetricSpec, Ref, SemanticLayer


class IncompleteDefinitionOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    require_label: Annotated[
        bool,
        msgspec.Meta(
            description="a metric needs a `label` that is not just its name",
            extra={"stricter": "true"},
        ),
    ] = True


@rule(
    "metrics/incomplete-definition",
    severity="error",
    targets=["metric"],
    options=IncompleteDefinitionOptions,
)
def incomplete_definition(
    metric: Resource, ctx: Context[IncompleteDefinitionOptions]
) -> Iterator[Hit]:
    """A metric missing what its type needs, or pointing at something that does not exist.

    ## What it finds
    Per metric type, what the definition needs and whether it exists:

    - **simple**: a measure that a semantic model defines (dbt 1.6-1.11), or, in the
      latest layout (metrics declared under models, dbt 1.12 and Fusion), an existing
      semantic model and an `agg`;
    - **ratio**: a numerator and a denominator that are metrics;
    - **derived**: input metrics that exist, an `expr`, every name in `expr` one of the
      inputs (or its alias), and every input used in `expr`;
    - **cumulative**: a measure (or, latest layout, a metric) that exists;
    - **conversion**: a base and a conversion measure that exist, and an entity both
      of their semantic models have;
    - **every type**: a `label` that is not just the metric's name (`require_label`), and
      filters whose `Dimension('entity__name')`, `TimeDimension(…)`, `Entity(…)` and
      `Metric(…)` name something the semantic layer defines.

    `dbt parse` refuses some of these; it lets the others through (a derived metric
    with no `expr` or one naming a metric it does not list, a filter on a dimension
    that does not exist) and MetricFlow fails only when someone queries the metric.

    ## Why it matters
    A metric is a promise that a number can be asked for by name. An incomplete one
    breaks at query time, in front of the person who asked; a label that is just
    `weekly_active_users` is what every dashboard then shows.

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
      - {name: revenue, label: Revenue, type: simple, type_params: {measure: revenue}}
      - {name: orders, label: Orders, type: simple, type_params: {measure: order_count}}
      - name: revenue_per_order
        label: Revenue per order
        type: derived
        type_params:
          expr: revenue / order_count
          metrics: [{name: revenue}, {name: orders}]
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
      - {name: revenue, label: Revenue, type: simple, type_params: {measure: revenue}}
      - {name: orders, label: Orders, type: simple, type_params: {measure: order_count}}
      - name: revenue_per_order
        label: Revenue per order
        type: derived
        type_params:
          expr: revenue / orders
          metrics: [{name: revenue}, {name: orders}]
    ```
    """
    layer = ctx.project.semantic
    spec = layer.metric_of(metric.uid)
    if spec is None:
        return
    seen: set[str] = set()
    hits = [*_label(spec, ctx.options), *_BY_TYPE.get(spec.type, _none)(spec, layer, ctx)]
    hits += _filters(spec, layer)
    for hit in hits:
        if hit.key not in seen:
            seen.add(hit.key)
            yield hit


Check = Callable[[MetricSpec, SemanticLayer, Context[IncompleteDefinitionOptions]], Iterator[Hit]]


def _none(
    spec: MetricSpec, layer: SemanticLayer, ctx: Context[IncompleteDefinitionOptions]
) -> Iterator[Hit]:
    return iter(())


def _humanised(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def _label(spec: MetricSpec, options: IncompleteDefinitionOptions) -> Iterator[Hit]:
    label = (spec.label or "").strip()
    if not options.require_label or (label and label != spec.name):
        return
    where = f"its measure `{spec.from_measure}`" if spec.from_measure else "it"
    yield Hit(
        f"metric `{spec.name}` has no label of its own: add `label:` to {where} with the "
        f"name people read, e.g. `{_humanised(spec.name)}`",
        key="label",
        yaml_key=("label",),
    )


def _measure(spec: MetricSpec, ref: Ref | None, layer: SemanticLayer, role: str) -> Iterator[Hit]:
    if ref is None:
        yield Hit(
            f"{spec.type} metric `{spec.name}` names no {role}: set `type_params.{role}` "
            "to a measure of a semantic model",
            key=role,
            yaml_key=("type_params",),
        )
    elif ref.name not in layer.measures:
        yield Hit(
            f"metric `{spec.name}` reads measure `{ref.name}`, which no semantic model "
            "defines: add it to a semantic model's `measures:` or fix the name",
            key=f"{role}:{ref.name}",
            yaml_key=("type_params", role),
        )


def _metric(spec: MetricSpec, ref: Ref | None, layer: SemanticLayer, role: str) -> Iterator[Hit]:
    if ref is None:
        yield Hit(
            f"{spec.type} metric `{spec.name}` has no {role}: set `type_params.{role}` to a metric",
            key=role,
            yaml_key=("type_params",),
        )
    elif ref.name not in layer.metrics:
        shown = "input metric" if role == "metrics" else role
        yield Hit(
            f"{spec.type} metric `{spec.name}` has {shown} `{ref.name}`, which is not a "
            "metric: define it or fix the name",
            key=f"{role}:{ref.name}",
            yaml_key=("type_params", role),
        )


def _simple(
    spec: MetricSpec, layer: SemanticLayer, ctx: Context[IncompleteDefinitionOptions]
) -> Iterator[Hit]:
    aggregation = spec.aggregation
    if aggregation is None:
        yield from _measure(spec, spec.measure, layer, "measure")
        return
    if aggregation.semantic_model not in layer.semantic_models:
        shown = f" `{aggregation.semantic_model}`" if aggregation.semantic_model else ""
        yield Hit(
            f"metric `{spec.name}` aggregates semantic model{shown}, which does not exist: "
            "declare the metric under a model that has a `semantic_model:`",
            key="semantic_model",
        )
    if not aggregation.agg:
        yield Hit(
            f"metric `{spec.name}` has no `agg`: say how it aggregates (sum, count, …)",
            key="agg",
        )


def _ratio(
    spec: MetricSpec, layer: SemanticLayer, ctx: Context[IncompleteDefinitionOptions]
) -> Iterator[Hit]:
    yield from _metric(spec, spec.numerator, layer, "numerator")
    yield from _metric(spec, spec.denominator, layer, "denominator")


def _derived(
    spec: MetricSpec, layer: SemanticLayer, ctx: Context[IncompleteDefinitionOptions]
) -> Iterator[Hit]:
    if not spec.inputs:
        yield Hit(
            f"derived metric `{spec.name}` lists no input metrics: add them under "
            "`type_params.metrics`",
            key="metrics",
            yaml_key=("type_params",),
        )
    for ref in spec.inputs:
        yield from _metric(spec, ref, layer, "metrics")
    if not spec.expr:
        example = " / ".join(r.shown for r in spec.inputs[:2]) or "a / b"
        yield Hit(
            f"derived metric `{spec.name}` has no `expr`: write its formula over its input "
            f"metrics, e.g. `{example}`",
            key="expr",
            yaml_key=("type_params",),
        )
        return
    from normcheck.sql import expression_names

    names = expression_names(spec.expr, dialect_of(ctx))
    if names is None:
        yield Hit(
            f"derived metric `{spec.name}` has an `expr` that does not parse as SQL: `{spec.expr}`",
            key="expr-syntax",
            yaml_key=("type_params", "expr"),
        )
        return
    inputs = {r.shown.lower(): r for r in spec.inputs}
    for name in names:
        if name not in inputs:
            yield Hit(
                f"derived metric `{spec.name}` uses `{name}` in its `expr`, which is none of "
                f"its input metrics: list it under `type_params.metrics` (or use the input's "
                "alias)",
                key=f"expr:{name}",
                yaml_key=("type_params", "expr"),
            )
    for shown in sorted(set(inputs) - set(names)):
        yield Hit(
            f"derived metric `{spec.name}` lists input `{shown}` that its `expr` does not "
            "use: use it in `expr` or remove it",
            key=f"unused:{shown}",
            yaml_key=("type_params", "metrics"),
        )


def _cumulative(
    spec: MetricSpec, layer: SemanticLayer, ctx: Context[IncompleteDefinitionOptions]
) -> Iterator[Hit]:
    if spec.aggregation is not None:
        yield from _simple(spec, layer, ctx)
    elif spec.cumulative_metric is not None:
        yield from _metric(spec, spec.cumulative_metric, layer, "metric")
    else:
        yield from _measure(spec, spec.measure, layer, "measure")


def _conversion(
    spec: MetricSpec, layer: SemanticLayer, ctx: Context[IncompleteDefinitionOptions]
) -> Iterator[Hit]:
    conversion = spec.conversion
    if conversion is None:
        yield Hit(
            f"conversion metric `{spec.name}` has no `conversion_type_params`: set "
            "`base_measure`, `conversion_measure` and `entity`",
            key="conversion_type_params",
            yaml_key=("type_params",),
        )
        return
    for role, ref in (
        ("base_measure", conversion.base),
        ("conversion_measure", conversion.conversion),
    ):
        yield from _measure(spec, ref, layer, role)
    if not conversion.entity:
        yield Hit(
            f"conversion metric `{spec.name}` has no `entity`: name the entity that links "
            "a base event to its conversion",
            key="entity",
            yaml_key=("type_params", "conversion_type_params"),
        )
        return
    for ref in (conversion.base, conversion.conversion):
        measure = layer.measures.get(ref.name) if ref else None
        model = layer.semantic_models.get(measure.semantic_model) if measure else None
        if model is not None and conversion.entity not in model.entities:
            yield Hit(
                f"conversion metric `{spec.name}` joins on entity `{conversion.entity}`, which "
                f"semantic model `{model.name}` does not have: use an entity of both "
                "semantic models",
                key=f"entity:{model.name}",
                yaml_key=("type_params", "conversion_type_params", "entity"),
            )


_BY_TYPE: dict[str, Check] = {
    "simple": _simple,
    "ratio": _ratio,
    "derived": _derived,
    "cumulative": _cumulative,
    "conversion": _conversion,
}


def _filters(spec: MetricSpec, layer: SemanticLayer) -> list[Hit]:
    # each reference at the filter that names it first: the metric's own, else its input's
    where: dict[tuple[str, str], tuple[Step, ...]] = {}
    for templates, place in _filter_places(spec):
        for found in references(templates):
            where.setdefault(found, place)
    hits = []
    for kind, name in sorted(where):
        if not unknown_reference(layer, kind, name):
            continue
        fix = "fix the name (`entity__dimension`)" if "Dimension" in kind else "fix the name"
        hits.append(
            Hit(
                f"metric `{spec.name}` filters on `{kind}('{name}')`, which the semantic "
                f"layer does not define: {fix}",
                key=f"filter:{kind}:{name}",
                yaml_key=where[kind, name],
            )
        )
    return hits


def _filter_places(spec: MetricSpec) -> Iterator[tuple[tuple[str, ...], tuple[Step, ...]]]:
    """Each filter of the metric and of its inputs, with the YAML key it is written at."""
    yield spec.filters, ("filter",)
    conversion = spec.conversion
    inputs: list[tuple[Ref | None, tuple[Step, ...]]] = [
        (spec.measure, ("type_params", "measure")),
        (spec.numerator, ("type_params", "numerator")),
        (spec.denominator, ("type_params", "denominator")),
        *((ref, ("type_params", "metrics", i)) for i, ref in enumerate(spec.inputs)),
        (spec.cumulative_metric, ("type_params", "cumulative_type_params", "metric")),
    ]
    if conversion is not None:
        params = ("type_params", "conversion_type_params")
        inputs += [
            (conversion.base, (*params, "base_measure")),
            (conversion.conversion, (*params, "conversion_measure")),
        ]
    for ref, place in inputs:
        if ref is not None:
            yield ref.filters, (*place, "filter")
