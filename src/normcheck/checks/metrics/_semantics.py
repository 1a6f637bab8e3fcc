"""What metrics compute, for the metrics rules: a canonical key per metric (two
metrics with one key compute the same thing) and the names filters refer to.

Expressions are normalised with sqlglot through :mod:`normcheck.sql`, imported
lazily so that loading the rule registry does not load sqlglot."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from normcheck.checks._api import Context
from normcheck.semantic import Aggregation, MetricSpec, Ref, SemanticLayer

GRAINS = frozenset(
    [
        "nanosecond",
        "microsecond",
        "millisecond",
        "second",
        "minute",
        "hour",
        "day",
        "week",
        "month",
        "quarter",
        "year",
    ]
)
_JINJA = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_CALL = re.compile(r"""\b(Dimension|TimeDimension|Entity|Metric)\(\s*['"]([^'"]+)['"]""")


def dialect_of(ctx: Context[Any]) -> str:
    """The SQL dialect: the one the SQL rules use, else the manifest's adapter's."""
    if ctx.sql is not None:
        return ctx.sql.dialect
    from normcheck.sqlfacts import dialect_for

    return dialect_for(ctx.project.adapter)


@dataclass(frozen=True)
class Computation:
    key: str  # equal keys: the same computation
    summary: str  # what it computes, for messages


@lru_cache(maxsize=8)
def computations(layer: SemanticLayer, dialect: str) -> Mapping[str, Computation]:
    """Metric name -> its computation (the layer hashes by identity)."""
    keys = _Keys(layer, dialect)
    return {name: keys.metric(name) for name in sorted(layer.metrics)}


@lru_cache(maxsize=8)
def same_as(layer: SemanticLayer, dialect: str) -> Mapping[str, tuple[str, ...]]:
    """Metric name -> the other metrics that compute the same thing, sorted."""
    groups: dict[str, list[str]] = {}
    for name, computation in computations(layer, dialect).items():
        groups.setdefault(computation.key, []).append(name)
    return {
        name: tuple(other for other in group if other != name)
        for group in groups.values()
        if len(group) > 1
        for name in group
    }


_SPAN = re.compile(r"^\s*(\d+)\s+([a-z_]+?)s?\s*$", re.IGNORECASE)


def span(window: str | None) -> str | None:
    """A window as one text per length: `1 week` is `7 day`, `2 days` is `2 day`
    (months, quarters and years vary in days: counted in their own unit)."""
    found = _SPAN.match(window or "")
    if found is None:
        return window
    count, unit = int(found.group(1)), found.group(2).lower()
    return f"{count * 7} day" if unit == "week" else f"{count} {unit}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class _Keys:
    def __init__(self, layer: SemanticLayer, dialect: str) -> None:
        from normcheck.sql import normalise_conjuncts, normalise_expression

        self.layer = layer
        self.dialect = dialect
        self.normalise = normalise_expression
        self.conjuncts = normalise_conjuncts
        self.memo: dict[str, Computation] = {}
        self.active: set[str] = set()

    def where(self, templates: Iterable[str]) -> str:
        parts = sorted({part for t in templates for part in self.filter(t)})
        return f" where {' and '.join(parts)}" if parts else ""

    def filter(self, template: str) -> list[str]:
        """A filter's conditions, each canonical: `a and b` is the filters `[a, b]`."""
        holes: dict[str, str] = {}

        def hole(found: re.Match[str]) -> str:
            name = f"nc_jinja_{len(holes)}"
            holes[name] = "".join(found.group(1).split()).lower().replace('"', "'")
            return name

        return self.conjuncts(_JINJA.sub(hole, template), self.dialect, holes)

    def measure(self, ref: Ref) -> tuple[str, str]:
        measure = self.layer.measures.get(ref.name)
        if measure is None:
            return f"measure {ref.name}{self.where(ref.filters)}", f"measure `{ref.name}`"
        key, summary = self._aggregate(
            measure.semantic_model, measure.agg, measure.expr, measure.agg_params, ref.filters
        )
        # what only this measure decides: the time it is counted by, a balance's last
        # value instead of a sum, and how empty periods are filled
        how = "".join(
            f" {word} {value}"
            for word, value in (
                ("by", measure.time),
                ("semi-additive on", measure.non_additive),
                ("with", ref.fill),
            )
            if value
        )
        return key + how, summary

    def aggregation(self, aggregation: Aggregation, name: str) -> tuple[str, str]:
        semantic_model = aggregation.semantic_model or ""
        expr = aggregation.expr or name
        return self._aggregate(semantic_model, aggregation.agg, expr, aggregation.agg_params, ())

    def _aggregate(
        self,
        semantic_model: str,
        agg: str | None,
        expr: str,
        params: str,
        filters: Iterable[str],
    ) -> tuple[str, str]:
        sm = self.layer.semantic_models.get(semantic_model)
        base = (sm.model or sm.relation) if sm is not None else semantic_model
        agg_text = (agg or "").lower() + (f"[{params}]" if params else "")
        canonical = self.normalise(expr, self.dialect)
        key = f"{agg_text}({canonical}) on {base}{self.where(filters)}"
        return key, f"{(agg or '?').lower()}({canonical}) over `{semantic_model}`"

    def metric_ref(self, ref: Ref) -> str:
        offset = f" offset {span(ref.offset)}" if ref.offset else ""
        return f"({self.metric(ref.name).key}){self.where(ref.filters)}{offset}"

    def metric(self, name: str) -> Computation:
        if name in self.memo:
            return self.memo[name]
        spec = self.layer.metrics.get(name)
        if spec is None or name in self.active:
            return Computation(f"metric {name}", f"`{name}`")
        self.active.add(name)
        try:
            found = self._metric(spec)
        finally:
            self.active.discard(name)
        self.memo[name] = found
        return found

    def _metric(self, spec: MetricSpec) -> Computation:
        where = "" if _filters_its_measure(spec) else self.where(spec.filters)
        found = self._inner(spec)
        if found is None:  # incomplete: equal to nothing else
            return Computation(f"{spec.type} {spec.uid}", f"`{spec.name}`")
        return Computation(f"{spec.type} {found.key}{where}", found.summary)

    def _inner(self, spec: MetricSpec) -> Computation | None:
        if spec.type in ("simple", "cumulative"):
            if spec.aggregation is not None:
                inner, summary = self.aggregation(spec.aggregation, spec.name)
            elif spec.measure is not None:
                measure = spec.measure
                if _filters_its_measure(spec):
                    measure = replace(measure, filters=(*measure.filters, *spec.filters))
                inner, summary = self.measure(measure)
            elif spec.cumulative_metric is not None:
                inner = self.metric_ref(spec.cumulative_metric)
                summary = f"`{spec.cumulative_metric.name}`"
            else:
                return None
            if spec.type == "simple":
                return Computation(inner, summary)
            how = f" window {span(spec.window)} to {spec.grain_to_date} by {spec.period_agg}"
            return Computation(inner + how, f"cumulative {summary}")
        if spec.type == "ratio" and spec.numerator and spec.denominator:
            num, den = spec.numerator, spec.denominator
            key = f"{self.metric_ref(num)} / {self.metric_ref(den)}"
            return Computation(key, f"`{num.name}` / `{den.name}`")
        if spec.type == "derived" and spec.expr:
            rename = {r.shown.lower(): f"input_{_digest(self.metric_ref(r))}" for r in spec.inputs}
            expr = self.normalise(spec.expr, self.dialect, rename)
            return Computation(expr, f"`{self.normalise(spec.expr, self.dialect)}`")
        conversion = spec.conversion
        if spec.type == "conversion" and conversion and conversion.base and conversion.conversion:
            base, base_summary = self.measure(conversion.base)
            converted, converted_summary = self.measure(conversion.conversion)
            key = (
                f"{conversion.calculation} of {base} to {converted} by {conversion.entity} "
                f"within {span(conversion.window)} keeping {sorted(conversion.constant_properties)}"
            )
            return Computation(key, f"conversion from {base_summary} to {converted_summary}")
        return None


def _filters_its_measure(spec: MetricSpec) -> bool:
    """A simple or cumulative metric's `filter` filters the rows of its measure, as a
    filter on the measure input does (MetricFlow applies both there): one key for both."""
    simple = spec.type in ("simple", "cumulative")
    return simple and spec.aggregation is None and spec.measure is not None


def references(templates: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(kind, name)`` of each ``Dimension('…')``, ``TimeDimension('…')``,
    ``Entity('…')`` and ``Metric('…')`` in filter templates."""
    for template in templates:
        for inner in _JINJA.findall(template):
            for kind, name in _CALL.findall(inner):
                yield kind, name.strip()


def unknown_reference(layer: SemanticLayer, kind: str, name: str) -> bool:
    """True when a filter's reference names no entity, dimension or metric.
    ``Dimension('order__status')`` is the dimension ``status`` reached through
    the entity ``order``; a trailing time grain (``__month``) is dropped from a
    dimension or time dimension, as MetricFlow does: ``metric_time__month`` and
    ``Dimension('order__order_date__month')`` are ``metric_time`` and ``order_date``;
    an entity at a grain (``order__month``) is no dimension."""
    if kind == "Metric":
        return name not in layer.metrics
    parts = [p.lower() for p in name.split("__") if p]
    if not parts:
        return True
    if kind != "Entity" and len(parts) > 1 and parts[-1] in GRAINS:
        # a time dimension at that grain, else a dimension named like a grain: known
        # when either is (an entity at a grain, `order__month`, is neither)
        return _unknown(layer, kind, parts[:-1], at_grain=True) and _unknown(layer, kind, parts)
    return _unknown(layer, kind, parts)


def _unknown(layer: SemanticLayer, kind: str, parts: list[str], at_grain: bool = False) -> bool:
    if parts[-1] == "metric_time":
        return False
    if at_grain and parts[-1] not in _dimension_names(layer):
        return True
    entities = {e.lower() for e in layer.entities}
    if any(part not in entities for part in parts[:-1]):
        return True
    if kind == "Entity":
        return parts[-1] not in entities
    if len(parts) == 1:
        known = {d.lower() for dims in layer.dimensions_of_entity.values() for d in dims}
        return parts[0] not in known
    reachable = layer.dimensions_of_entity.get(_original(parts[-2], layer), frozenset())
    return parts[-1] not in {d.lower() for d in reachable}


def _dimension_names(layer: SemanticLayer) -> frozenset[str]:
    return frozenset(d.lower() for sm in layer.semantic_models.values() for d in sm.dimensions)


def _original(entity: str, layer: SemanticLayer) -> str:
    return next((e for e in layer.entities if e.lower() == entity), entity)
