"""The semantic layer as a read-only model: what each metric computes, the
semantic models and measures it reads, and the North Star hierarchy its
``meta`` declares.

One shape for every dbt version and both YAML layouts: dbt 1.6-1.11 (the
*legacy* layout: top-level ``semantic_models:`` with measures, top-level
``metrics:``) and dbt 1.12 / Fusion (the *latest* layout: ``semantic_model:``
and ``metrics:`` declared under a model, simple metrics aggregating a column
themselves). Rules and ``normcheck metrics`` read it from ``Project.semantic``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from normcheck._yaml import Step
from normcheck.artifacts.manifest import (
    AggParams,
    Input,
    InputRef,
    Manifest,
    MetricDefinition,
    NonAdditive,
    SemanticModelDefinition,
    Window,
    where_templates,
)

TIERS = ("north_star", "input", "supporting")
DIRECTIONS = ("higher_is_better", "lower_is_better")
THRESHOLD_KEYS = ("green", "yellow", "direction")

LEGACY, LATEST = "legacy", "latest"


@dataclass(frozen=True)
class Ref:
    """A measure or metric read by a metric, with the filter, alias and time
    offset that apply to that input only."""

    name: str
    alias: str | None = None
    filters: tuple[str, ...] = ()
    offset: str | None = None
    fill: str = ""  # `fill_nulls_with` / `join_to_timespine` of a measure input

    @property
    def shown(self) -> str:
        """The name the input goes by in a derived metric's ``expr``."""
        return self.alias or self.name


@dataclass(frozen=True)
class Measure:
    name: str
    semantic_model: str
    agg: str | None
    expr: str  # the column or SQL aggregated; the measure's name when not given
    agg_params: str = ""
    label: str | None = None
    time: str = ""  # the time dimension it is aggregated by (its own, else the model's)
    non_additive: str = ""  # semi-additive: `dimension window_choice by groupings`


@dataclass(frozen=True)
class Aggregation:
    """A simple metric of the latest layout: it aggregates a semantic model's column."""

    semantic_model: str | None
    agg: str | None
    expr: str | None
    agg_params: str = ""


@dataclass(frozen=True)
class Conversion:
    base: Ref | None
    conversion: Ref | None
    entity: str | None
    calculation: str | None
    window: str | None
    constant_properties: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MetricSpec:
    """What one metric computes, and its tier, drives and thresholds from ``meta``."""

    uid: str
    name: str
    package: str
    type: str
    label: str | None
    layout: str
    meta: Mapping[str, object] = field(default_factory=dict)
    filters: tuple[str, ...] = ()
    measure: Ref | None = None  # simple and cumulative (legacy layout)
    aggregation: Aggregation | None = None  # simple (latest layout)
    numerator: Ref | None = None
    denominator: Ref | None = None
    expr: str | None = None  # derived
    inputs: tuple[Ref, ...] = ()  # derived
    cumulative_metric: Ref | None = None  # cumulative over a metric (latest layout)
    window: str | None = None
    grain_to_date: str | None = None
    period_agg: str | None = None
    conversion: Conversion | None = None
    from_measure: str | None = None  # created by a measure's `create_metric: true`

    @property
    def tier(self) -> str | None:
        return _text(self.meta.get("tier"))

    @property
    def drives(self) -> tuple[str, ...]:
        """The metrics this one drives (``meta.drives``: a name or a list of names)."""
        value = self.meta.get("drives")
        if isinstance(value, str):
            return (value.strip(),) if value.strip() else ()
        if isinstance(value, list):
            return tuple(v.strip() for v in value if isinstance(v, str) and v.strip())
        return ()

    @property
    def thresholds(self) -> object:
        return self.meta.get("thresholds")

    @property
    def metric_inputs(self) -> tuple[Ref, ...]:
        """The metrics this one reads (ratio, derived, cumulative over a metric)."""
        refs = (self.numerator, self.denominator, *self.inputs, self.cumulative_metric)
        return tuple(r for r in refs if r is not None)

    @property
    def measure_inputs(self) -> tuple[Ref, ...]:
        conversion = self.conversion
        refs = (
            self.measure,
            conversion.base if conversion else None,
            conversion.conversion if conversion else None,
        )
        return tuple(r for r in refs if r is not None)


@dataclass(frozen=True)
class SemanticModel:
    uid: str
    name: str
    package: str
    model: str | None  # the unique_id of the dbt model it is built on
    relation: str
    layout: str
    measures: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SavedQuery:
    uid: str
    name: str
    metrics: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Thresholds:
    """A metric's traffic light. ``higher_is_better``: green at or above
    ``green``, yellow at or above ``yellow``, red below it (so green >= yellow).
    ``lower_is_better``: green at or below ``green``, yellow at or below
    ``yellow``, red above it (so green <= yellow)."""

    green: float
    yellow: float
    direction: str

    @property
    def in_order(self) -> bool:
        if self.direction == "higher_is_better":
            return self.green >= self.yellow
        return self.green <= self.yellow

    @property
    def shown(self) -> str:
        op = ">=" if self.direction == "higher_is_better" else "<="
        return f"green {op} {number(self.green)}, yellow {op} {number(self.yellow)}"


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


Problem = tuple[str, str]  # (stable key, what is wrong)


def read_thresholds(value: object) -> tuple[Thresholds | None, tuple[Problem, ...]]:
    """Parse ``meta.thresholds``; each problem is a stable key and what is wrong."""
    if value is None:
        return None, ()
    if not isinstance(value, dict):
        return None, (("mapping", "`thresholds` is not a mapping of green, yellow and direction"),)
    problems: list[Problem] = [
        (f"unknown:{key}", f"`thresholds` has the unknown key `{key}`")
        for key in sorted(map(str, value))
        if key not in THRESHOLD_KEYS
    ]
    levels: dict[str, float] = {}
    for key in ("green", "yellow"):
        level = value.get(key)
        if level is None:
            problems.append((f"missing:{key}", f"`thresholds` has no `{key}`"))
        elif isinstance(level, bool) or not isinstance(level, (int, float)):
            problems.append((f"type:{key}", f"`thresholds.{key}` is `{level}`, not a number"))
        else:
            levels[key] = float(level)
    direction = value.get("direction")
    if direction is None:
        problems.append(("missing:direction", "`thresholds` has no `direction`"))
    elif direction not in DIRECTIONS:
        problems.append(
            ("direction", f"`thresholds.direction` is `{direction}`, not {' or '.join(DIRECTIONS)}")
        )
    if problems or len(levels) < 2 or not isinstance(direction, str):
        return None, tuple(problems)
    return Thresholds(levels["green"], levels["yellow"], direction), ()


@dataclass(frozen=True, eq=False)
class SemanticLayer:
    """Every metric, semantic model, measure and saved query, by name."""

    metrics: Mapping[str, MetricSpec] = field(default_factory=dict)
    semantic_models: Mapping[str, SemanticModel] = field(default_factory=dict)
    measures: Mapping[str, Measure] = field(default_factory=dict)
    saved_queries: Mapping[str, SavedQuery] = field(default_factory=dict)
    yaml_steps: Mapping[str, tuple[Step, ...]] = field(default_factory=dict)  # uid -> entry

    def metric_of(self, uid: str) -> MetricSpec | None:
        return self.by_uid.get(uid)

    @cached_property
    def by_uid(self) -> Mapping[str, MetricSpec]:
        return {m.uid: m for m in self.metrics.values()}

    @cached_property
    def entities(self) -> frozenset[str]:
        return frozenset(e for sm in self.semantic_models.values() for e in sm.entities)

    @cached_property
    def dimensions_of_entity(self) -> Mapping[str, frozenset[str]]:
        """Entity name -> the dimensions (and entities) reachable through it."""
        out: dict[str, set[str]] = {}
        for sm in self.semantic_models.values():
            for entity in sm.entities:
                out.setdefault(entity, set()).update(sm.dimensions, sm.entities)
        return {k: frozenset(v) for k, v in out.items()}

    @cached_property
    def north_stars(self) -> tuple[str, ...]:
        return tuple(sorted(n for n, m in self.metrics.items() if m.tier == "north_star"))

    @cached_property
    def driven_by(self) -> Mapping[str, tuple[str, ...]]:
        """Metric name -> the tiered metrics whose ``drives`` name it, sorted."""
        out: dict[str, list[str]] = {}
        for name, metric in sorted(self.metrics.items()):
            if metric.tier in ("input", "supporting"):
                for target in metric.drives:
                    out.setdefault(target, []).append(name)
        return {k: tuple(v) for k, v in out.items()}


EMPTY_LAYER = SemanticLayer()

_REF_RE = re.compile(r"""ref\(\s*(?:['"][^'"]*['"]\s*,\s*)?['"]([^'"]+)['"]""")


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _expr(value: str | int | float | None) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return str(value).strip() or None


def _window(value: Window) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return " ".join(value.split()) or None
    return f"{value.count} {value.granularity}" if value.granularity else None


def _agg_params(params: AggParams | None) -> str:
    if params is None or params.percentile is None:
        return ""
    kind = "discrete" if params.use_discrete_percentile else "continuous"
    approx = " approximate" if params.use_approximate_percentile else ""
    return f"p{number(params.percentile)} {kind}{approx}"


def _non_additive(value: NonAdditive | None) -> str:
    if value is None or not value.name:
        return ""
    groupings = ",".join(sorted(g.lower() for g in value.window_groupings or ()))
    return f"{value.name.lower()} {(value.window_choice or 'min').lower()} by [{groupings}]"


def _ref(value: Input) -> Ref | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Ref(value.strip()) if value.strip() else None
    if not value.name:
        return None
    offset = _window(value.offset_window)
    if offset is None and value.offset_to_grain:
        offset = f"to {value.offset_to_grain}"
    fill = " ".join(
        part
        for part in (
            "" if value.fill_nulls_with is None else f"nulls as {value.fill_nulls_with}",
            "on the time spine" if value.join_to_timespine else "",
        )
        if part
    )
    return Ref(value.name, _text(value.alias), where_templates(value.filter), offset, fill)


def _refs(values: list[InputRef | str] | None) -> tuple[Ref, ...]:
    return tuple(r for r in map(_ref, values or ()) if r is not None)


def _metric(item: MetricDefinition, meta: Mapping[str, object]) -> MetricSpec:
    params = item.type_params
    aggregation = params.metric_aggregation_params
    cumulative = params.cumulative_type_params
    conversion = params.conversion_type_params
    return MetricSpec(
        uid=item.unique_id,
        name=item.name,
        package=item.package_name,
        type=(item.type or "").lower(),
        label=item.label,
        layout=LATEST if aggregation is not None else LEGACY,
        meta=meta,
        filters=where_templates(item.filter),
        measure=_ref(params.measure),
        aggregation=(
            Aggregation(
                aggregation.semantic_model,
                aggregation.agg,
                _expr(aggregation.expr) or _expr(params.expr),
                _agg_params(aggregation.agg_params),
            )
            if aggregation is not None
            else None
        ),
        numerator=_ref(params.numerator),
        denominator=_ref(params.denominator),
        expr=_expr(params.expr) if (item.type or "").lower() == "derived" else None,
        inputs=_refs(params.metrics) if (item.type or "").lower() == "derived" else (),
        cumulative_metric=_ref(cumulative.metric) if cumulative else None,
        window=_window(cumulative.window if cumulative else None) or _window(params.window),
        grain_to_date=(cumulative.grain_to_date if cumulative else None) or params.grain_to_date,
        period_agg=cumulative.period_agg if cumulative else None,
        conversion=(
            Conversion(
                _ref(conversion.base_measure),
                _ref(conversion.conversion_measure),
                _text(conversion.entity),
                _text(conversion.calculation),
                _window(conversion.window),
                tuple(
                    (c.base_property, c.conversion_property)
                    for c in conversion.constant_properties or ()
                ),
            )
            if conversion is not None
            else None
        ),
    )


def _model_uid(item: SemanticModelDefinition) -> str | None:
    return next((n for n in item.depends_on.nodes if n.startswith("model.")), None)


def build_semantic_layer(
    manifest: Manifest, metas: Mapping[str, Mapping[str, object]]
) -> SemanticLayer:
    """The semantic layer of a manifest; ``metas`` holds each metric's merged meta."""
    latest_models = {
        m.type_params.metric_aggregation_params.semantic_model
        for m in manifest.metrics.values()
        if m.type_params.metric_aggregation_params is not None
    }
    semantic_models: dict[str, SemanticModel] = {}
    measures: dict[str, Measure] = {}
    model_names: dict[str, str] = {}  # semantic model -> the dbt model it is declared under
    steps: dict[str, tuple[Step, ...]] = {}
    for item in manifest.semantic_models.values():
        if not item.config.enabled:
            continue
        model = _model_uid(item)
        node = manifest.nodes.get(model) if model else None
        found = _REF_RE.search(item.model or "")
        model_name = node.name if node is not None else (found.group(1) if found else None)
        if model_name:
            model_names[item.name] = model_name
        layout = LATEST if item.name in latest_models else LEGACY
        relation = item.node_relation.relation_name if item.node_relation else None
        semantic_models[item.name] = SemanticModel(
            uid=item.unique_id,
            name=item.name,
            package=item.package_name,
            model=model,
            relation=relation or model or item.name,
            layout=layout,
            measures=tuple(m.name for m in item.measures),
            entities=tuple(
                sorted({e.name for e in item.entities} | {item.primary_entity or ""} - {""})
            ),
            dimensions=tuple(d.name for d in item.dimensions),
        )
        if layout == LATEST and model_name:
            steps[item.unique_id] = ("models", ("name", model_name), "semantic_model")
        else:
            steps[item.unique_id] = ("semantic_models", ("name", item.name))
        for measure in item.measures:
            measures.setdefault(
                measure.name,
                Measure(
                    measure.name,
                    item.name,
                    measure.agg,
                    _expr(measure.expr) or measure.name,
                    _agg_params(measure.agg_params),
                    measure.label,
                    time=(
                        measure.agg_time_dimension
                        or (item.defaults.agg_time_dimension if item.defaults else None)
                        or ""
                    ).lower(),
                    non_additive=_non_additive(measure.non_additive_dimension),
                ),
            )
    metrics: dict[str, MetricSpec] = {}
    for metric in manifest.metrics.values():
        if not metric.config.enabled:
            continue
        spec = _metric(metric, metas.get(metric.unique_id, {}))
        source = _source_measure(manifest, metric, spec, measures)
        if source is not None:
            spec = replace(spec, from_measure=source.name)
            steps[metric.unique_id] = (
                "semantic_models",
                ("name", source.semantic_model),
                "measures",
                ("name", source.name),
            )
        else:
            home = _home_model(spec, semantic_models, model_names)
            steps[metric.unique_id] = (
                ("models", ("name", home), "metrics", ("name", metric.name))
                if home
                else ("metrics", ("name", metric.name))
            )
        metrics[metric.name] = spec
    saved = {
        q.name: SavedQuery(
            q.unique_id,
            q.name,
            tuple(q.query_params.metrics),
            tuple(q.query_params.group_by),
            where_templates(q.query_params.where),
        )
        for q in manifest.saved_queries.values()
        if q.config.enabled
    }
    _infer_latest_homes(metrics, semantic_models, measures, model_names, steps)
    return SemanticLayer(metrics, semantic_models, measures, saved, steps)


def _source_measure(
    manifest: Manifest,
    metric: MetricDefinition,
    spec: MetricSpec,
    measures: Mapping[str, Measure],
) -> Measure | None:
    """The measure whose `create_metric: true` made this metric, if one did (dbt
    writes the measure's `expr` on such a metric, and may reset `create_metric`)."""
    measure = measures.get(spec.measure.name) if spec.measure else None
    if spec.type != "simple" or spec.layout != LEGACY or measure is None:
        return None
    if measure.name != metric.name:
        return None
    if metric.type_params.expr is not None:
        return measure
    for item in manifest.semantic_models.values():
        if item.name == measure.semantic_model:
            return (
                measure
                if any(m.name == measure.name and m.create_metric for m in item.measures)
                else None
            )
    return None


def _home_model(
    spec: MetricSpec,
    semantic_models: Mapping[str, SemanticModel],
    model_names: Mapping[str, str],
) -> str | None:
    """The model a latest-layout simple metric is declared under."""
    if spec.aggregation is None or spec.aggregation.semantic_model is None:
        return None
    if spec.aggregation.semantic_model not in semantic_models:
        return None
    return model_names.get(spec.aggregation.semantic_model)


def _infer_latest_homes(
    metrics: Mapping[str, MetricSpec],
    semantic_models: Mapping[str, SemanticModel],
    measures: Mapping[str, Measure],
    model_names: Mapping[str, str],
    steps: dict[str, tuple[Step, ...]],
) -> None:
    """In the latest layout, a ratio, derived or cumulative metric usually sits
    under the model all its inputs come from; when they come from several, it is
    a top-level `metrics:` entry. The manifest does not say which, so guess."""
    if not any(m.layout == LATEST for m in metrics.values()):
        return
    for spec in metrics.values():
        if spec.layout == LATEST or spec.from_measure:
            continue
        models = _source_models(spec, metrics, measures, set())
        if len(models) == 1:
            (semantic_model,) = models
            home = model_names.get(semantic_model)
            if home and semantic_models[semantic_model].layout == LATEST:
                steps[spec.uid] = ("models", ("name", home), "metrics", ("name", spec.name))


def _source_models(
    spec: MetricSpec,
    metrics: Mapping[str, MetricSpec],
    measures: Mapping[str, Measure],
    seen: set[str],
) -> set[str]:
    if spec.name in seen:
        return set()
    seen.add(spec.name)
    found: set[str] = set()
    if spec.aggregation is not None and spec.aggregation.semantic_model:
        found.add(spec.aggregation.semantic_model)
    for ref in spec.measure_inputs:
        measure = measures.get(ref.name)
        if measure is not None:
            found.add(measure.semantic_model)
    for ref in spec.metric_inputs:
        upstream = metrics.get(ref.name)
        if upstream is not None:
            found |= _source_models(upstream, metrics, measures, seen)
    return found
