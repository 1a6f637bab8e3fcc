"""The metrics rules and `normcheck metrics` on a jaffle-shop style project with
semantic models, every metric type and a saved query, parsed by real dbt; the
semantic layer of dbt 1.6 to 2.0 manifests from the corpus."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from conftest import CORPUS, build_dbt_project
from normcheck.artifacts.manifest import decode_manifest, where_templates
from normcheck.cli import main
from normcheck.metric_tree import build_tree, render_markdown, render_text
from normcheck.project import build_project
from normcheck.run import RunOptions, run
from normcheck.semantic import Thresholds, read_thresholds
from normcheck.sql import expression_names, normalise_expression
from normcheck.testing import TIME_SPINE

COMPAT = CORPUS / "dbt" / "compat"

SEMANTIC_YML = """\
version: 2
semantic_models:
  - name: orders
    description: Orders placed in the shop, one row per order.
    model: ref('fct_orders')
    config: {group: finance}
    defaults: {agg_time_dimension: order_date}
    entities:
      - {name: order, type: primary, expr: order_id}
      - {name: customer, type: foreign, expr: customer_id}
    dimensions:
      - {name: order_date, type: time, type_params: {time_granularity: day}}
      - {name: is_completed, type: categorical}
    measures:
      - {name: revenue, agg: sum, expr: amount}
      - {name: gross_sales, agg: sum, expr: "  AMOUNT "}
      - {name: order_count, agg: count, expr: order_id}
      - {name: customers_with_orders, agg: count_distinct, expr: customer_id, create_metric: true}
  - name: customers
    model: ref('dim_customers')
    config: {group: growth}
    defaults: {agg_time_dimension: first_order_date}
    entities:
      - {name: customer, type: primary, expr: customer_id}
    dimensions:
      - {name: first_order_date, type: time, type_params: {time_granularity: day}}
    measures:
      - {name: new_customers, agg: count, expr: customer_id}

metrics:
  - name: revenue
    label: Revenue
    description: Everything customers paid for their orders.
    type: simple
    type_params: {measure: revenue}
    config:
      group: finance
      meta:
        tier: north_star
        thresholds: {green: 1000, yellow: 800, direction: higher_is_better}
  - name: sales
    label: Sales
    description: Gross sales of the shop, before refunds.
    type: simple
    type_params: {measure: gross_sales}
    config: {group: finance}
  - name: orders
    label: Orders
    description: Orders placed in the shop.
    type: simple
    type_params: {measure: order_count}
    config:
      group: growth
      meta: {tier: input, drives: revenue, thresholds: {green: 30, yellow: 20, direction: higher_is_better}}
  - name: aov
    label: Average order value
    description: Revenue per order placed.
    type: ratio
    type_params: {numerator: revenue, denominator: orders}
    config:
      group: finance
      meta:
        tier: input
        drives: [revenue]
        thresholds: {green: 50, yellow: 40, direction: lower_is_better}
  - name: aov_copy
    label: AOV (copy)
    description: Sales per order placed.
    type: ratio
    type_params: {numerator: sales, denominator: orders}
    config: {group: finance}
  - name: revenue_per_order
    label: Revenue per order
    description: Revenue per order placed, as a formula.
    type: derived
    type_params:
      expr: "Revenue  /  ORDERS"
      metrics: [{name: revenue}, {name: orders}]
    config:
      group: finance
      meta: {tier: input, drives: revenu}
  - name: net_per_order
    label: Net per order
    description: The same formula, with aliases.
    type: derived
    type_params:
      expr: rev / cnt
      metrics: [{name: revenue, alias: rev}, {name: orders, alias: cnt}]
    config: {group: finance}
  - name: broken_derived
    label: Broken derived
    description: Uses a name it does not list.
    type: derived
    type_params:
      expr: revenue - refunds
      metrics: [{name: revenue}, {name: orders}]
    config: {group: finance}
  - name: no_formula
    label: No formula
    description: A derived metric without a formula.
    type: derived
    type_params:
      metrics: [{name: revenue}]
    config: {group: finance}
  - name: completed_orders
    label: Completed orders
    description: Orders delivered and not returned.
    type: simple
    type_params: {measure: order_count}
    filter: "{{ Dimension('order__is_completed') }} = true"
    config:
      group: growth
      meta: {tier: supporting, drives: orders}
  - name: finished_orders
    label: Finished orders
    description: Orders delivered and not returned, again.
    type: simple
    type_params: {measure: order_count}
    filter: "{{Dimension('order__is_completed')}}   =   TRUE"
    config: {group: growth}
  - name: coloured_orders
    label: Coloured orders
    description: Filters on a dimension nobody defined.
    type: simple
    type_params: {measure: order_count}
    filter: "{{ Dimension('order__colour') }} = 'red'"
    config: {group: growth}
  - name: cumulative_revenue
    label: Cumulative revenue
    description: Revenue over the last seven days.
    type: cumulative
    type_params: {measure: revenue, cumulative_type_params: {window: 7 days}}
    config:
      group: finance
      meta: {tier: north star}
  - name: customer_conversion
    label: Customer to order conversion
    description: New customers who order within a week.
    type: conversion
    type_params:
      conversion_type_params:
        entity: customer
        calculation: conversion_rate
        base_measure: new_customers
        conversion_measure: order_count
        window: 7 days
    config:
      group: growth
      meta: {tier: north_star}
  - name: cust_count
    label: Customers
    description: Customers, by a non-preferred word.
    type: simple
    type_params: {measure: new_customers}
    config:
      meta: {owner: growht}
  - name: orphan_metric
    label: Orphan
    description: A metric that nobody owns.
    type: simple
    type_params: {measure: new_customers}
    filter: "{{ Entity('customer') }} is not null and {{ TimeDimension('order__order_date__month') }} > '2024-01-01'"

saved_queries:
  - name: revenue_weekly
    description: Revenue and orders by week.
    query_params:
      metrics: [revenue, orders]
      group_by: ["TimeDimension('metric_time', 'week')"]
      where: ["{{ Dimension('order__is_completed') }}"]
"""

FILES = {
    "models/fct_orders.sql": (
        "select 1 as order_id, 1 as customer_id, current_date as order_date, "
        "10.0 as amount, true as is_completed\n"
    ),
    "models/dim_customers.sql": "select 1 as customer_id, current_date as first_order_date\n",
    "models/metricflow_time_spine.sql": "select cast('2024-01-01' as date) as date_day\n",
    "models/_models.yml": """\
version: 2
groups:
  - name: finance
    owner: {name: finance, email: finance@example.com}
  - name: growth
    owner: {name: growth, email: growth@example.com}
models:
  - name: metricflow_time_spine
    time_spine: {standard_granularity_column: date_day}
    columns: [{name: date_day, granularity: day}]
""",
    "models/semantic.yml": SEMANTIC_YML,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return build_dbt_project(tmp_path_factory.mktemp("metrics"), FILES)


METRICS_RULES = [
    "metrics/incomplete-definition",
    "metrics/duplicate-definition",
    "metrics/north-star",
    "metrics/traffic-light",
]


def config_for(rule: str, extra: str = "") -> str:
    return (
        "extends: []\n"
        "owners: {finance: {}, growth: {}}\n"
        "vocabulary: {preferred: {cust: customer}, banned: [tmp]}\n"
        f"rules:\n  {rule}: error\n{extra}"
    )


def findings(project: Path, config: str, tmp_path: Path, monkeypatch) -> list[tuple[str, ...]]:
    monkeypatch.chdir(project)
    path = tmp_path / "normcheck.yml"
    path.write_text(config)
    result = run(RunOptions(project_dir=Path(), config=path, parse="never"))
    assert not result.crashes, result.crashes
    return sorted((f.resource.split(".", 2)[2], f"{f.file}:{f.line}") for f in result.findings)


Y = "models/semantic.yml"
CASES = {
    "metrics/incomplete-definition": [
        ("broken_derived", f"{Y}:95"),  # `refunds` is no input
        ("broken_derived", f"{Y}:96"),  # input `orders` unused
        ("coloured_orders", f"{Y}:126"),  # Dimension('order__colour') does not exist
        ("customers_with_orders", f"{Y}:18"),  # created by its measure: label at the measure
        ("no_formula", f"{Y}:102"),  # no expr
    ],
    "metrics/duplicate-definition": [
        ("aov_copy", f"{Y}:66"),  # sales / orders == revenue / orders
        ("finished_orders", f"{Y}:114"),  # the same filter, spelled differently
        ("revenue_per_order", f"{Y}:72"),  # the same formula as net_per_order, with aliases
        ("sales", f"{Y}:41"),  # sum of `  AMOUNT ` == sum of `amount`
    ],
    "metrics/north-star": [
        ("customer_conversion", f"{Y}:149"),  # a North Star nothing drives
        ("cumulative_revenue", f"{Y}:135"),  # tier `north star`
        ("revenue_per_order", f"{Y}:81"),  # drives `revenu`
    ],
    "metrics/traffic-light": [
        ("aov", f"{Y}:65"),  # green above yellow for lower_is_better
        ("customer_conversion", f"{Y}:149"),  # a North Star without thresholds
        ("revenue_per_order", f"{Y}:81"),  # an input without thresholds
    ],
    # the rules of other families judge metrics and semantic models too
    "ownership/missing-owner": [
        ("dim_customers", "models/dim_customers.sql:1"),
        ("fct_orders", "models/fct_orders.sql:1"),
        ("metricflow_time_spine", "models/_models.yml:8"),
        ("orphan_metric", f"{Y}:157"),
    ],
    "ownership/unknown-owner": [("cust_count", f"{Y}:156")],
    "docs/missing-description": [
        ("customers", f"{Y}:19"),
        ("dim_customers", "models/dim_customers.sql:1"),
        ("fct_orders", "models/fct_orders.sql:1"),
        ("metricflow_time_spine", "models/_models.yml:8"),
    ],
    "naming/vocabulary": [("cust_count", f"{Y}:150")],
}


@pytest.mark.dbt
@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_finds_exactly_on_metrics(rule, project, tmp_path, monkeypatch):
    assert findings(project, config_for(rule), tmp_path, monkeypatch) == sorted(CASES[rule])


@pytest.mark.dbt
def test_owners_resolve_through_groups_including_metrics_a_measure_created(project):
    built = build_project(
        decode_manifest((project / "target" / "manifest.json").read_bytes(), "m"), None, project
    )
    owners = {r.uid: r.owner for r in built.of_type("metric", "semantic_model")}
    assert owners["metric.shop.revenue"] == "finance"  # config.group
    assert owners["metric.shop.orders"] == "growth"
    assert owners["semantic_model.shop.customers"] == "growth"  # a semantic model's group
    assert owners["metric.shop.customers_with_orders"] == "finance"  # its semantic model's
    assert owners["metric.shop.cust_count"] == "growht"  # meta.owner
    assert owners["metric.shop.orphan_metric"] is None


@pytest.mark.dbt
def test_name_case_judges_metrics_and_semantic_models(project, tmp_path, monkeypatch):
    extra = "    options: {pattern: '^[a-z]+$', resource_types: [metric, semantic_model]}\n"
    config = config_for("naming/name-case").replace(
        "naming/name-case: error\n", "naming/name-case:\n    severity: error\n"
    )
    got = findings(project, config + extra, tmp_path, monkeypatch)
    names = [name for name, _ in got]
    assert "customers_with_orders" in names and "revenue_per_order" in names
    assert "orders" not in names and "customers" not in names  # fits ^[a-z]+$
    assert (f"{Y}:3" in {where for _, where in got}) is False  # `orders` semantic model


@pytest.mark.dbt
def test_a_duplicate_across_files_is_reported_on_both(tmp_path, monkeypatch, capsys):
    """pre-commit on the file that brings the duplicate in shows it (in one file, a
    pair is reported once; see above)."""
    semantic = (
        "version: 2\nsemantic_models:\n  - name: orders\n    model: ref('fct_orders')\n"
        "    defaults: {agg_time_dimension: order_date}\n"
        "    entities: [{name: order, type: primary, expr: order_id}]\n"
        "    dimensions: [{name: order_date, type: time, type_params: {time_granularity: day}}]\n"
        "    measures:\n      - {name: revenue, agg: sum, expr: amount}\n"
        "      - {name: gross_sales, agg: sum, expr: AMOUNT}\n"
        "metrics:\n  - {name: sales, label: Sales, type: simple, type_params: {measure: gross_sales}}\n"
    )
    root = build_dbt_project(
        tmp_path,
        {
            **TIME_SPINE,
            "models/fct_orders.sql": "select 1 as order_id, 10.0 as amount, current_date as order_date\n",
            "models/semantic.yml": semantic,
            "models/more_metrics.yml": (
                "version: 2\nmetrics:\n"
                "  - {name: revenue, label: Revenue, type: simple, type_params: {measure: revenue}}\n"
            ),
        },
    )
    (root / "normcheck.yml").write_text(config_for("metrics/duplicate-definition"))
    monkeypatch.chdir(root)

    def duplicates(*paths: str) -> list[tuple[str, str]]:
        main(["check", "--format", "json", "--parse", "never", *paths])
        return sorted(
            (f["resource"], f"{f['file']}:{f['line']}")
            for f in json.loads(capsys.readouterr().out)["findings"]
            if f["rule"] == "metrics/duplicate-definition"
        )

    both = [
        ("metric.shop.revenue", "models/more_metrics.yml:3"),
        ("metric.shop.sales", "models/semantic.yml:12"),
    ]
    assert duplicates() == both
    assert duplicates("models/more_metrics.yml") == both[:1]
    assert duplicates("models/semantic.yml") == both[1:]


DUPLICATE_OR_NOT = """\
version: 2
semantic_models:
  - name: orders
    model: ref('fct_orders')
    defaults: {agg_time_dimension: order_date}
    entities: [{name: order, type: primary, expr: order_id}]
    dimensions:
      - {name: order_date, type: time, type_params: {time_granularity: day}}
      - {name: shipped_date, type: time, type_params: {time_granularity: day}}
      - {name: is_completed, type: categorical}
      - {name: status, type: categorical}
    measures:
      - {name: revenue, agg: sum, expr: amount}
      - {name: shipped_revenue, agg: sum, expr: amount, agg_time_dimension: shipped_date}
      - name: last_day_revenue
        agg: sum
        expr: amount
        non_additive_dimension: {name: order_date, window_choice: max}
      - {name: order_count, agg: count, expr: order_id}
metrics:
  - {name: revenue, label: Revenue, type: simple, type_params: {measure: revenue}}
  - {name: orders, label: Orders, type: simple, type_params: {measure: order_count}}
  # the same sum, counted by another date / as a balance / with empty days as 0: not one
  - {name: shipped, label: Shipped, type: simple, type_params: {measure: shipped_revenue}}
  - {name: balance, label: Balance, type: simple, type_params: {measure: last_day_revenue}}
  - name: revenue_filled
    label: Revenue filled
    type: simple
    type_params: {measure: {name: revenue, fill_nulls_with: 0, join_to_timespine: true}}
  # the same computation written differently: brackets, AND, 1 week / 7 days
  - {name: aov, label: AOV, type: derived, type_params: {expr: revenue / orders, metrics: [revenue, orders]}}
  - {name: aov_b, label: AOV b, type: derived, type_params: {expr: "( revenue )/orders", metrics: [revenue, orders]}}
  - name: done_x
    label: Done x
    type: simple
    type_params: {measure: order_count}
    filter:
      - "{{ Dimension('order__is_completed') }} = true"
      - "{{ Dimension('order__status') }} = 'x'"
  - name: done_x_and
    label: Done x and
    type: simple
    type_params: {measure: order_count}
    filter: "{{ Dimension('order__status') }} = 'x' and ({{ Dimension('order__is_completed') }} = true)"
  - name: rev_week
    label: Week
    type: cumulative
    type_params: {measure: revenue, cumulative_type_params: {window: 1 week}}
  - name: seven_days
    label: Seven days
    type: cumulative
    type_params: {measure: revenue, cumulative_type_params: {window: 7 days}}
"""


def test_duplicates_are_what_computes_the_same_however_written(tmp_path, monkeypatch, capsys):
    root = build_dbt_project(
        tmp_path,
        {
            **TIME_SPINE,
            "models/fct_orders.sql": (
                "select 1 as order_id, 10.0 as amount, current_date as order_date,\n"
                "  current_date as shipped_date, true as is_completed, 'x' as status\n"
            ),
            "models/semantic.yml": DUPLICATE_OR_NOT,
        },
    )
    (root / "normcheck.yml").write_text(config_for("metrics/duplicate-definition"))
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never"])
    flagged = {
        f["resource"].rsplit(".", 1)[-1]: f["message"].split("computes the same as metric ")[1][1:]
        for f in json.loads(capsys.readouterr().out)["findings"]
        if f["rule"] == "metrics/duplicate-definition"
    }
    assert {name: other.split("`")[0] for name, other in flagged.items()} == {
        "aov_b": "aov",
        "done_x_and": "done_x",
        "seven_days": "rev_week",
    }


@pytest.mark.dbt
def test_duplicate_is_reported_once_per_pair_with_what_both_compute(project, tmp_path, monkeypatch):
    monkeypatch.chdir(project)
    path = tmp_path / "normcheck.yml"
    path.write_text(config_for("metrics/duplicate-definition"))
    result = run(RunOptions(project_dir=Path(), config=path, parse="never"))
    messages = sorted(f.message for f in result.findings)
    assert messages == [
        "metric `aov_copy` computes the same as metric `aov` (`sales` / `orders`): "
        "keep one definition and use it everywhere",
        "metric `finished_orders` computes the same as metric `completed_orders` "
        "(count(order_id) over `orders`): keep one definition and use it everywhere",
        "metric `revenue_per_order` computes the same as metric `net_per_order` "
        "(`revenue / orders`): keep one definition and use it everywhere",
        "metric `sales` computes the same as metric `revenue` (sum(amount) over `orders`): "
        "keep one definition and use it everywhere",
    ]


@pytest.mark.dbt
def test_too_many_north_stars_and_required_tiers(project, tmp_path, monkeypatch):
    extra = "    options: {max_north_stars: 1, require_tier: true}\n"
    config = config_for("metrics/north-star").replace(
        "metrics/north-star: error\n", "metrics/north-star:\n    severity: error\n"
    )
    monkeypatch.chdir(project)
    path = tmp_path / "normcheck.yml"
    path.write_text(config + extra)
    result = run(RunOptions(project_dir=Path(), config=path, parse="never"))
    by_metric = {}
    for f in result.findings:
        by_metric.setdefault(f.resource.rsplit(".", 1)[1], []).append(f.message)
    assert by_metric["revenue"] == [
        "metric `revenue` is one of 2 North Star metrics (`customer_conversion`, `revenue`) "
        "where 1 are agreed: make the others `input` or `supporting`, or raise "
        "`max_north_stars`"
    ]
    assert by_metric["sales"] == [
        "metric `sales` has no tier: set `meta.tier` to one of north_star, input, supporting"
    ]
    assert "completed_orders" not in by_metric  # supporting, drives an input metric


@pytest.mark.dbt
def test_incomplete_definition_messages(project, tmp_path, monkeypatch):
    monkeypatch.chdir(project)
    path = tmp_path / "normcheck.yml"
    path.write_text(config_for("metrics/incomplete-definition"))
    result = run(RunOptions(project_dir=Path(), config=path, parse="never"))
    assert sorted(f.message for f in result.findings) == [
        "derived metric `broken_derived` lists input `orders` that its `expr` does not use: "
        "use it in `expr` or remove it",
        "derived metric `broken_derived` uses `refunds` in its `expr`, which is none of its "
        "input metrics: list it under `type_params.metrics` (or use the input's alias)",
        "derived metric `no_formula` has no `expr`: write its formula over its input "
        "metrics, e.g. `revenue`",
        "metric `coloured_orders` filters on `Dimension('order__colour')`, which the "
        "semantic layer does not define: fix the name (`entity__dimension`)",
        "metric `customers_with_orders` has no label of its own: add `label:` to its "
        "measure `customers_with_orders` with the name people read, e.g. "
        "`Customers with orders`",
    ]


@pytest.mark.dbt
def test_semantic_layer_reads_every_metric_type_and_the_saved_query(project):
    built = build_project(
        decode_manifest((project / "target" / "manifest.json").read_bytes(), "m"), None, project
    )
    layer = built.semantic
    assert layer.metrics["aov"].numerator.name == "revenue"
    assert [r.shown for r in layer.metrics["net_per_order"].inputs] == ["rev", "cnt"]
    assert layer.metrics["cumulative_revenue"].window == "7 day"
    conversion = layer.metrics["customer_conversion"].conversion
    assert (conversion.base.name, conversion.conversion.name, conversion.entity) == (
        "new_customers",
        "order_count",
        "customer",
    )
    assert layer.metrics["completed_orders"].filters == (
        "{{ Dimension('order__is_completed') }} = true",
    )
    assert layer.metrics["customers_with_orders"].from_measure == "customers_with_orders"
    assert layer.measures["gross_sales"].expr == "AMOUNT"
    assert layer.semantic_models["orders"].model == "model.shop.fct_orders"
    assert layer.saved_queries["revenue_weekly"].metrics == ("revenue", "orders")
    assert layer.north_stars == ("customer_conversion", "revenue")
    assert layer.driven_by["revenue"] == ("aov", "orders")


TREE_TEXT = """\
Metric tree of shop: 2 North Stars, 2 input metrics driving them

metric                    tier        owner    thresholds                    status
customer_conversion       North Star  growth   -                             yellow  metrics/north-star, metrics/traffic-light
revenue                   North Star  finance  green >= 1000, yellow >= 800  green
├── aov                   input       finance  green <= 50, yellow <= 40     yellow  metrics/traffic-light
└── orders                input       growth   green >= 30, yellow >= 20     green
    └── completed_orders  supporting  growth   -                             green

Not attached to a North Star:
revenue_per_order         input       finance  -                             yellow  metrics/duplicate-definition, metrics/north-star, metrics/traffic-light

Without a tier: aov_copy, broken_derived, coloured_orders, cumulative_revenue, cust_count, customers_with_orders, finished_orders, net_per_order, no_formula, orphan_metric, sales
"""


@pytest.mark.dbt
def test_metrics_command_prints_the_tree(project, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(project)
    config = tmp_path / "normcheck.yml"
    config.write_text(
        "extends: [normcheck:default]\nowners: {finance: {}, growth: {}}\n"
        "rules: {docs/placeholder-description: 'off'}\n"
    )
    code = main(["metrics", "--parse", "never", "--no-color", "--config", str(config)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out == TREE_TEXT
    code = main(["metrics", "--parse", "never", "--format", "markdown", "--config", str(config)])
    markdown, _ = capsys.readouterr()
    assert code == 0
    assert markdown.startswith("## Metric tree: shop\n\n```mermaid\ngraph BT\n")
    assert '  m0["<b>customer_conversion</b><br/>Customer to order conversion<br/>' in markdown
    assert "  m3 --> m1\n" in markdown  # orders --> revenue
    assert "  class m1,m3,m4 green\n" in markdown
    assert (
        "| `aov` | Average order value | input | `revenue` | finance | green ≤ 50, yellow ≤ 40 "
        "| 🟡 yellow (`metrics/traffic-light`) |"
    ) in markdown
    assert markdown.endswith("sales`.\n")


def test_thresholds_are_read_strictly():
    assert read_thresholds(None) == (None, ())
    assert read_thresholds({"green": 10, "yellow": 5, "direction": "higher_is_better"}) == (
        Thresholds(10.0, 5.0, "higher_is_better"),
        (),
    )
    _, problems = read_thresholds({"green": "high", "red": 1, "direction": "up", "yellow": True})
    assert [key for key, _ in problems] == ["unknown:red", "type:green", "type:yellow", "direction"]
    assert read_thresholds([1, 2])[1][0][0] == "mapping"
    assert read_thresholds({})[1] == (
        ("missing:green", "`thresholds` has no `green`"),
        ("missing:yellow", "`thresholds` has no `yellow`"),
        ("missing:direction", "`thresholds` has no `direction`"),
    )
    lower = Thresholds(0.02, 0.05, "lower_is_better")
    assert lower.in_order and lower.shown == "green <= 0.02, yellow <= 0.05"
    assert Thresholds(5, 5, "higher_is_better").in_order  # no yellow band is allowed
    assert not Thresholds(4, 5, "higher_is_better").in_order


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, (), id="no filter"),
        pytest.param({"where_sql_template": "a = 1"}, ("a = 1",), id="dbt 1.6 shape"),
        pytest.param(
            {"where_filters": [{"where_sql_template": "a = 1"}, {"where_sql_template": "b"}]},
            ("a = 1", "b"),
            id="dbt 1.7 and later",
        ),
        pytest.param(["a = 1", " "], ("a = 1",), id="a list of templates"),
    ],
)
def test_filters_are_read_in_every_manifest_shape(value, expected):
    assert where_templates(value) == expected


def test_expressions_normalise_whitespace_case_and_names():
    assert normalise_expression("Revenue  /\n ORDERS") == normalise_expression("revenue / orders")
    assert normalise_expression("a / b", rename={"a": "x"}) == '"x" / b'
    assert normalise_expression("((( broken") == "((( broken"
    assert expression_names("coalesce(revenue, 0) / nullif(Orders, 0)") == ("orders", "revenue")
    assert expression_names("(((") is None


def _compat(name: str, tmp_path: Path) -> Path:
    target = tmp_path / "target"
    target.mkdir(parents=True, exist_ok=True)
    path = target / "manifest.json"
    path.write_bytes(gzip.decompress((COMPAT / f"{name}.manifest.json.gz").read_bytes()))
    return path


LATEST_YML = """\
version: 2
models:
  - name: orders
    description: Orders.
    semantic_model: {enabled: true}
    agg_time_dimension: order_date
    columns:
      - name: order_date
        granularity: day
    metrics:
      - name: total_order_amount
        type: simple
        agg: sum
        expr: amount
"""


@pytest.mark.parametrize(
    ("manifest", "layout", "findings"),
    [
        pytest.param("jaffle_shop_duckdb-dbt_1_6", None, [], id="dbt 1.6: no semantic layer"),
        pytest.param("jaffle_shop_duckdb-dbt_1_7", None, [], id="dbt 1.7: no semantic layer"),
        pytest.param("dbt-bouncer-fixture-dbt_110", "legacy", [], id="dbt 1.10: semantic model"),
        pytest.param("dbt-bouncer-fixture-dbt_111", "legacy", [], id="dbt 1.11: semantic model"),
        pytest.param(
            "dbt-bouncer-fixture-dbt_112",
            "latest",
            [("metric.dbt_bouncer_test_project.total_order_amount", 11)],
            id="dbt 1.12: metrics under models",
        ),
        pytest.param(
            "dbt-bouncer-fixture-dbt_20",
            "latest",
            [("metric.dbt_bouncer_test_project.total_order_amount", 11)],
            id="dbt Fusion 2.0: metrics under models",
        ),
    ],
)
def test_corpus_manifests_of_every_layout(manifest, layout, findings, tmp_path, capsys):
    path = _compat(manifest, tmp_path)
    yml = tmp_path / "models" / "marts" / "finance" / "_finance__models.yml"
    yml.parent.mkdir(parents=True)
    yml.write_text(LATEST_YML)  # where the latest layout declares the metric
    config = tmp_path / "normcheck.yml"
    config.write_text("extends: [normcheck:default]\n")
    result = run(RunOptions(project_dir=tmp_path, config=config, manifest=path, select=["metrics"]))
    assert not result.crashes
    got = [(f.resource, f.line) for f in result.findings]
    assert got == findings
    for f in result.findings:  # a label that is just the name, at the metric under its model
        assert f.rule == "metrics/incomplete-definition" and "no label of its own" in f.message
    built = build_project(decode_manifest(path.read_bytes(), "m"), None, tmp_path)
    layouts = {sm.layout for sm in built.semantic.semantic_models.values()}
    assert layouts == ({layout} if layout else set())
    tree = build_tree(built, result.findings)
    assert render_text([tree]).startswith(
        f"Metric tree of {built.name}: no metrics"
        if not built.semantic.metrics
        else f"Metric tree of {built.name}: 0 North Stars"
    )
    assert render_markdown([tree]).startswith(f"## Metric tree: {built.name}\n")
    code = main(["metrics", "--project-dir", str(tmp_path), "--manifest", str(path), "--no-cache"])
    assert code == 0, capsys.readouterr().err


def test_the_latest_layout_locates_metrics_under_their_model(tmp_path):
    path = _compat("dbt-bouncer-fixture-dbt_20", tmp_path)
    built = build_project(decode_manifest(path.read_bytes(), "m"), None, tmp_path)
    metric = built.resources["metric.dbt_bouncer_test_project.total_order_amount"]
    assert metric.yaml_steps == (
        "models",
        ("name", "orders"),
        "metrics",
        ("name", "total_order_amount"),
    )
    semantic_model = built.resources["semantic_model.dbt_bouncer_test_project.orders"]
    assert semantic_model.yaml_steps == ("models", ("name", "orders"), "semantic_model")
    spec = built.semantic.metrics["total_order_amount"]
    assert (spec.aggregation.semantic_model, spec.aggregation.agg, spec.aggregation.expr) == (
        "orders",
        "sum",
        "amount",
    )


def _mutated(project: Path, tmp_path: Path, change) -> Path:
    """The real manifest of the fixture, changed the way a dbt version (or tool)
    that validates less would write it; rules must judge it, not crash."""
    import json

    data = json.loads((project / "target" / "manifest.json").read_text())
    change(data["metrics"], data["semantic_models"])
    path = tmp_path / "target" / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def _break(metrics: dict, semantic_models: dict) -> None:
    def params(name: str) -> dict:
        return metrics[f"metric.shop.{name}"]["type_params"]

    params("sales")["measure"] = {"name": "gross_sale"}
    params("aov")["denominator"] = None
    params("aov_copy")["numerator"] = {"name": "salez"}
    params("revenue_per_order")["metrics"].append({"name": "refunds"})
    params("net_per_order")["expr"] = "rev / (cnt"
    params("cumulative_revenue")["measure"] = None
    conversion = params("customer_conversion")["conversion_type_params"]
    conversion["entity"] = "order"
    params("orders")["measure"] = None
    params("orders")["metric_aggregation_params"] = {"semantic_model": "order_facts", "agg": None}
    params("cust_count")["measure"] = None
    params("cust_count")["cumulative_type_params"] = {"metric": {"name": "revenue"}}
    metrics["metric.shop.cust_count"]["type"] = "cumulative"
    params("orphan_metric").clear()
    metrics["metric.shop.orphan_metric"]["type"] = "conversion"
    params("completed_orders")["measure"] = None


@pytest.mark.dbt
def test_what_dbt_1_11_refuses_is_still_judged(project, tmp_path):
    path = _mutated(project, tmp_path, _break)
    config = tmp_path / "normcheck.yml"
    config.write_text(config_for("metrics/incomplete-definition"))
    result = run(RunOptions(project_dir=project, config=config, manifest=path, parse="never"))
    assert not result.crashes
    got = sorted(f.message.split(":")[0] for f in result.findings)
    assert got == [
        "conversion metric `customer_conversion` joins on entity `order`, which semantic model "
        "`customers` does not have",
        "conversion metric `orphan_metric` has no `conversion_type_params`",
        "cumulative metric `cumulative_revenue` names no measure",
        "derived metric `broken_derived` lists input `orders` that its `expr` does not use",
        "derived metric `broken_derived` uses `refunds` in its `expr`, which is none of its "
        "input metrics",
        "derived metric `net_per_order` has an `expr` that does not parse as SQL",
        "derived metric `no_formula` has no `expr`",
        "derived metric `revenue_per_order` has input metric `refunds`, which is not a metric",
        "derived metric `revenue_per_order` lists input `refunds` that its `expr` does not use",
        "metric `coloured_orders` filters on `Dimension('order__colour')`, which the semantic "
        "layer does not define",
        "metric `customers_with_orders` has no label of its own",
        "metric `orders` aggregates semantic model `order_facts`, which does not exist",
        "metric `orders` has no `agg`",
        "metric `sales` reads measure `gross_sale`, which no semantic model defines",
        "ratio metric `aov_copy` has numerator `salez`, which is not a metric",
        "ratio metric `aov` has no denominator",
        "simple metric `completed_orders` names no measure",
    ]
    assert {f.file.rsplit("/", 1)[-1] for f in result.findings} == {"semantic.yml"}
    # what the tree and the other metrics rules make of it
    for rule in ("metrics/duplicate-definition", "metrics/north-star", "metrics/traffic-light"):
        config.write_text(config_for(rule))
        other = run(RunOptions(project_dir=project, config=config, manifest=path, parse="never"))
        assert not other.crashes, rule
    built = build_project(decode_manifest(path.read_bytes(), "m"), None, project)
    assert "orders" in render_text([build_tree(built, result.findings)])


def test_latest_layout_metrics_over_one_model_sit_under_it(tmp_path):
    import json

    path = _compat("dbt-bouncer-fixture-dbt_20", tmp_path)
    data = json.loads(path.read_text())
    simple = data["metrics"]["metric.dbt_bouncer_test_project.total_order_amount"]
    derived = json.loads(json.dumps(simple))
    derived.update(
        unique_id="metric.dbt_bouncer_test_project.doubled_amount",
        name="doubled_amount",
        type="derived",
    )
    derived["type_params"].update(
        metric_aggregation_params=None,
        expr="total_order_amount * 2",
        metrics=[{"name": "total_order_amount"}],
    )
    data["metrics"][derived["unique_id"]] = derived
    path.write_text(json.dumps(data))
    built = build_project(decode_manifest(path.read_bytes(), "m"), None, tmp_path)
    assert built.resources[derived["unique_id"]].yaml_steps == (
        "models",
        ("name", "orders"),
        "metrics",
        ("name", "doubled_amount"),
    )


def _retier(metrics: dict, semantic_models: dict) -> None:
    def meta(name: str, **values) -> None:
        for where in (metrics[f"metric.shop.{name}"]["config"], metrics[f"metric.shop.{name}"]):
            where["meta"] = {**where.get("meta", {}), **values}

    meta("orders", drives=None)
    meta("completed_orders", drives=["orders", "sales"])
    meta("aov", thresholds={"green": "high", "red": 1, "direction": "up", "yellow": 2})
    meta("revenue", thresholds=[1, 2])


@pytest.mark.dbt
@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        pytest.param(
            "metrics/north-star",
            [
                "input metric `orders` does not say which North Star it drives: set "
                "`meta.drives` to `customer_conversion`, `revenue`",
                "input metric `revenue_per_order` drives `revenu`, which is not a metric: name "
                "a North Star metric in `meta.drives`",
                "metric `cumulative_revenue` has tier `north star`: use one of north_star, "
                "input, supporting",
                "North Star metric `customer_conversion` has no input metrics: give the metrics "
                "that move it `tier: input` and `drives: customer_conversion`",
                "supporting metric `completed_orders` drives `sales`, which has no tier: "
                "name a North Star or input metric in `meta.drives`",
            ],
            id="hierarchy",
        ),
        pytest.param(
            "metrics/traffic-light",
            [
                "input metric `revenue_per_order` has no thresholds: add `meta.thresholds: "
                "{green: …, yellow: …, direction: higher_is_better}` (or `lower_is_better`) "
                "so everyone reads it the same",
                "metric `aov`: `thresholds.direction` is `up`, not higher_is_better or "
                "lower_is_better: write `{green: <number>, yellow: <number>, direction: "
                "higher_is_better | lower_is_better}`",
                "metric `aov`: `thresholds.green` is `high`, not a number: write `{green: "
                "<number>, yellow: <number>, direction: higher_is_better | lower_is_better}`",
                "metric `aov`: `thresholds` has the unknown key `red`: write `{green: <number>, "
                "yellow: <number>, direction: higher_is_better | lower_is_better}`",
                "metric `revenue`: `thresholds` is not a mapping of green, yellow and "
                "direction: write `{green: <number>, yellow: <number>, direction: "
                "higher_is_better | lower_is_better}`",
                "North Star metric `customer_conversion` has no thresholds: add "
                "`meta.thresholds: {green: …, yellow: …, direction: higher_is_better}` (or "
                "`lower_is_better`) so everyone reads it the same",
            ],
            id="thresholds",
        ),
    ],
)
def test_hierarchy_and_threshold_problems_are_named(rule, expected, project, tmp_path):
    path = _mutated(project, tmp_path, _retier)
    config = tmp_path / "normcheck.yml"
    config.write_text(config_for(rule))
    result = run(RunOptions(project_dir=project, config=config, manifest=path, parse="never"))
    assert sorted(f.message for f in result.findings) == sorted(expected)


def test_filter_references_resolve_through_entities():
    from normcheck.checks.metrics._semantics import references, unknown_reference
    from normcheck.semantic import MetricSpec, SemanticLayer, SemanticModel

    layer = SemanticLayer(
        metrics={
            "revenue": MetricSpec("metric.p.revenue", "revenue", "p", "simple", "R", "legacy")
        },
        semantic_models={
            "orders": SemanticModel(
                "sm.p.orders",
                "orders",
                "p",
                None,
                "orders",
                "legacy",
                entities=("order", "customer"),
                dimensions=("status", "order_date"),
            ),
            "customers": SemanticModel(
                "sm.p.customers",
                "customers",
                "p",
                None,
                "customers",
                "legacy",
                entities=("customer",),
                dimensions=("region",),
            ),
        },
    )
    template = (
        "{{ Dimension('order__status') }} = 'x' and {{ Metric('revenu', group_by=['order']) }}"
        " and {{ TimeDimension('order__order_date__month') }} and {{ Entity('shopper') }}"
    )
    assert sorted(references([template, "no templates"])) == [
        ("Dimension", "order__status"),
        ("Entity", "shopper"),
        ("Metric", "revenu"),
        ("TimeDimension", "order__order_date__month"),
    ]
    unknown = {
        (kind, name)
        for kind, name in [
            ("Dimension", "order__status"),
            ("Dimension", "customer__region"),
            ("Dimension", "customer__order__status"),
            ("Dimension", "region"),
            ("Dimension", "metric_time"),
            ("TimeDimension", "order__order_date__month"),
            ("Entity", "customer"),
            ("Metric", "revenue"),
            ("Dimension", "order__region"),  # not reachable through `order`
            ("Dimension", "shopper__status"),
            ("Dimension", "colour"),
            ("Entity", "shopper"),
            ("Metric", "revenu"),
            ("Dimension", "__"),
        ]
        if unknown_reference(layer, kind, name)
    }
    assert unknown == {
        ("Dimension", "order__region"),
        ("Dimension", "shopper__status"),
        ("Dimension", "colour"),
        ("Entity", "shopper"),
        ("Metric", "revenu"),
        ("Dimension", "__"),
    }


# What dbt 1.11 accepts in the metrics YAML, beyond the fixture above: parsed by real
# dbt, so each case is one a user can write today.
DBT_1_11_YML = """\
version: 2
semantic_models:
  - name: orders
    description: Orders placed in the shop, one row per order.
    model: ref('fct_orders')
    config: {group: finance}
    defaults: {agg_time_dimension: order_date}
    entities:
      - {name: order, type: primary, expr: order_id}
      - {name: customer, type: foreign, expr: customer_id}
    dimensions:
      - {name: order_date, type: time, type_params: {time_granularity: day}}
      - {name: channel, type: categorical}
    measures:
      - {name: revenue, agg: sum, expr: amount}
metrics:
  - name: revenue
    label: Revenue
    description: Everything customers paid for their orders.
    type: simple
    type_params: {measure: {name: revenue, fill_nulls_with: 0, join_to_timespine: true}}
    config: {group: finance}
  - name: recent_revenue
    label: Recent revenue
    description: Revenue since 2024, filtered with a time grain in the names.
    type: simple
    type_params: {measure: revenue}
    filter:
      - "{{ TimeDimension('metric_time__month') }} >= '2024-01-01'"
      - "{{ Dimension('metric_time__year') }} >= '2024-01-01'"
      - "{{ Dimension('order__order_date__month') }} >= '2024-01-01'"
      - "{{ TimeDimension('order__order_date', 'week') }} >= '2024-01-01'"
      - "{{ Dimension('order__colour__month') }} is not null"
    config: {group: finance}
  - name: web_revenue
    label: Web revenue
    description: Revenue from the web shop, the filter on the measure.
    type: simple
    type_params:
      measure: {name: revenue, filter: "{{ Dimension('order__channel') }} = 'web'"}
    config: {group: finance}
  - name: web_sales
    label: Web sales
    description: Revenue from the web shop, the filter on the metric.
    type: simple
    type_params: {measure: revenue}
    filter: "{{ Dimension('order__channel') }}  =  'web'"
    config: {group: finance}
  - name: web_sales_to_date
    label: Web sales to date
    description: Web revenue since the start of the month, the filter on the metric.
    type: cumulative
    type_params: {measure: revenue, cumulative_type_params: {grain_to_date: month}}
    filter: "{{ Dimension('order__channel') }} = 'web'"
    config: {group: finance}
  - name: web_revenue_to_date
    label: Web revenue to date
    description: Web revenue since the start of the month, the filter on the measure.
    type: cumulative
    type_params:
      measure: {name: revenue, filter: "{{ Dimension('order__channel') }} = 'web'"}
      cumulative_type_params: {grain_to_date: month}
    config: {group: finance}
  - name: web_share
    label: Web share
    description: Share of the revenue paid in the web shop.
    type: ratio
    type_params:
      numerator:
        name: revenue
        alias: web_rev
        filter: "{{ Dimension('order__chanel') }} = 'web'"
      denominator: revenue
    filter: "{{ Dimension('order__channel') }} is not null"
    config: {group: finance}
"""

DBT_1_11_FILES = {
    **{k: v for k, v in FILES.items() if k != "models/semantic.yml"},
    "models/semantic.yml": DBT_1_11_YML,
}


@pytest.fixture(scope="module")
def dbt_1_11(tmp_path_factory) -> Path:
    return build_dbt_project(tmp_path_factory.mktemp("dbt_1_11"), DBT_1_11_FILES)


def _messages(project: Path, rule: str, tmp_path: Path) -> list[str]:
    config = tmp_path / "normcheck.yml"
    config.write_text(config_for(rule))
    result = run(RunOptions(project_dir=project, config=config, parse="never"))
    assert not result.crashes, result.crashes
    return sorted(f"{f.line}: {f.message}" for f in result.findings if f.rule == rule)


@pytest.mark.dbt
def test_a_filter_may_name_a_time_grain_after_a_dimension(dbt_1_11, tmp_path):
    # MetricFlow reads `metric_time__month` and `order__order_date__month` (in a
    # `Dimension` too) as the dimension at that grain, and dbt 1.11 parses them; a
    # dimension that does not exist is still one, at a grain or not
    assert _messages(dbt_1_11, "metrics/incomplete-definition", tmp_path)[0] == (
        "28: metric `recent_revenue` filters on `Dimension('order__colour__month')`, which "
        "the semantic layer does not define: fix the name (`entity__dimension`)"
    )


@pytest.mark.dbt
def test_a_metric_filter_and_a_filter_on_its_measure_are_one_computation(dbt_1_11, tmp_path):
    # MetricFlow applies a simple or cumulative metric's `filter` to the rows of its
    # measure, as it does a filter on the measure input: the two spellings are one metric
    assert _messages(dbt_1_11, "metrics/duplicate-definition", tmp_path) == [
        "42: metric `web_sales` computes the same as metric `web_revenue` (sum(amount) over "
        "`orders`): keep one definition and use it everywhere",
        "49: metric `web_sales_to_date` computes the same as metric `web_revenue_to_date` "
        "(cumulative sum(amount) over `orders`): keep one definition and use it everywhere",
    ]


@pytest.mark.dbt
def test_a_filter_on_an_input_is_reported_at_that_input(dbt_1_11, tmp_path):
    # the metric has a `filter:` of its own, and the wrong name is in its numerator's
    assert _messages(dbt_1_11, "metrics/incomplete-definition", tmp_path)[1:] == [
        "72: metric `web_share` filters on `Dimension('order__chanel')`, which the semantic "
        "layer does not define: fix the name (`entity__dimension`)"
    ]


PACKAGE_YML = """\
version: 2
semantic_models:
  - name: orders
    description: Orders placed in the shop, one row per order.
    model: ref('fct_orders')
    defaults: {agg_time_dimension: order_date}
    entities:
      - {name: order, type: primary, expr: order_id}
    dimensions:
      - {name: order_date, type: time, type_params: {time_granularity: day}}
    measures:
      - {name: revenue, agg: sum, expr: amount}
      - {name: refunded, agg: sum, expr: refund}
metrics:
  - name: revenue
    label: Revenue
    description: Everything customers paid for their orders.
    type: simple
    type_params: {measure: revenue}
    config:
      meta:
        owner: finance
        tier: north_star
        thresholds: {green: 800, yellow: 1000, direction: higher_is_better}
"""

TEAM_YML = """\
version: 2
metrics:
  - name: refunds
    label: Refunds
    description: Money paid back to customers for their orders.
    type: simple
    type_params: {measure: refunded}
    config:
      meta:
        owner: growth
        tier: input
        drives: revenue
        thresholds: {green: 10, yellow: 20, direction: lower_is_better}
"""


def _team_project(tmp_path: Path, team_yml: str) -> Path:
    """A team's dbt project over the package `shop` (installed in `dbt_packages/`)."""
    package = "dbt_packages/shop/"
    return build_dbt_project(
        tmp_path,
        {
            f"{package}dbt_project.yml": 'name: shop\nversion: "1.0"\nconfig-version: 2\n',
            f"{package}models/fct_orders.sql": (
                "select 1 as order_id, current_date as order_date, 10.0 as amount, 1.0 as refund\n"
            ),
            f"{package}models/semantic.yml": PACKAGE_YML,
            **TIME_SPINE,
            "models/metrics.yml": team_yml,
        },
        name="team",
    )


@pytest.mark.dbt
def test_a_metric_of_an_installed_package_has_no_light_of_this_run(tmp_path, capsys):
    # the central North Star comes from a package, a team's input metric drives it; the
    # package's metrics are judged in the package's own project, so the team's tree must
    # not show the star green (its thresholds are out of order: yellow there)
    project = _team_project(tmp_path, TEAM_YML)
    config = project / "normcheck.yml"
    config.write_text("extends: [normcheck:default]\nowners: {finance: {}, growth: {}}\n")
    args = ["metrics", "--project-dir", str(project), "--parse", "never", "--no-color"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "\n".join(line.rstrip() for line in out.splitlines()[2:5]) == (
        "metric       tier        owner    thresholds                    status\n"
        "revenue      North Star  finance  green >= 800, yellow >= 1000  "
        "-  from package shop, judged there\n"
        "└── refunds  input       growth   green <= 10, yellow <= 20     green"
    )
    assert main([*args, "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert (
        "| `revenue` | Revenue | North Star |  | finance | green ≥ 800, yellow ≥ 1000 "
        "| ⚪ from package `shop`, judged there |"
    ) in markdown
    assert "  class m1 green\n" in markdown and "class m0" not in markdown


@pytest.mark.dbt
def test_a_north_star_past_the_limit_is_the_projects_own(tmp_path):
    # the package brings the agreed North Star; a team adding one of its own (`arr` sorts
    # before `revenue`) goes past `max_north_stars: 1`: said on the team's star, as the
    # package's is not judged in the team's run
    star = """\
  - name: arr
    label: Annual recurring revenue
    description: Revenue the team expects to recur each year.
    type: simple
    type_params: {measure: revenue}
    config: {meta: {owner: growth, tier: north_star}}
"""
    project = _team_project(tmp_path, TEAM_YML + star)
    config = tmp_path / "normcheck.yml"
    config.write_text(
        config_for("metrics/north-star", "    options: {max_north_stars: 1}\n").replace(
            "  metrics/north-star: error\n", "  metrics/north-star:\n    severity: error\n"
        )
    )
    result = run(RunOptions(project_dir=project, config=config, parse="never"))
    assert sorted((f.resource, f.message.split(":")[0]) for f in result.findings) == [
        ("metric.team.arr", "North Star metric `arr` has no input metrics"),
        (
            "metric.team.arr",
            "metric `arr` is one of 2 North Star metrics (`arr`, `revenue`) where 1 are agreed",
        ),
    ]


def test_an_entity_at_a_time_grain_is_no_dimension():
    """`Dimension('order__month')` (no dimension `month`) was reported as unknown, then
    taken for the entity `order` at a grain once grains were dropped from dimensions."""
    from normcheck.checks.metrics._semantics import unknown_reference
    from normcheck.semantic import SemanticLayer, SemanticModel

    def model(name: str, entities: tuple[str, ...], dimensions: tuple[str, ...]):
        return SemanticModel(
            f"sm.p.{name}", name, "p", None, name, "legacy", (), entities, dimensions
        )

    layer = SemanticLayer(
        metrics={},
        semantic_models={
            "orders": model("orders", ("order", "customer"), ("status", "order_date")),
            "customers": model("customers", ("customer",), ("year",)),
        },
    )
    unknown = {
        (kind, name): unknown_reference(layer, kind, name)
        for kind in ("Dimension", "TimeDimension")
        for name in ("order__month", "order__year", "order__order_date__month", "customer__year")
    }
    assert unknown == {
        **{(kind, "order__month"): True for kind in ("Dimension", "TimeDimension")},
        **{(kind, "order__year"): True for kind in ("Dimension", "TimeDimension")},
        **{(kind, "order__order_date__month"): False for kind in ("Dimension", "TimeDimension")},
        # a categorical dimension named like a grain, as before
        **{(kind, "customer__year"): False for kind in ("Dimension", "TimeDimension")},
    }


def test_the_markdown_tree_shows_labels_and_owners_as_written():
    """A label or owner is anyone's YAML: in the Markdown a CI posts, `**x**` is not
    bold, `<b>` no HTML, and an owner `@acme/growth` no mention notifying the team."""
    from markdown_it import MarkdownIt

    from normcheck.metric_tree import MetricTree, Node

    star = Node(
        name="revenue",
        uid="metric.shop.revenue",
        label="**Net** <b>revenue</b> | gross",
        tier="north_star",
        drives=(),
        owner="@acme/growth",
        thresholds="green >= 60, yellow >= 45",
        light="green",
        rules=(),
    )
    html = (
        MarkdownIt("commonmark")
        .enable(["table"])
        .render(render_markdown([MetricTree("shop", (star,), (), ())]))
    )
    assert "**Net** &lt;b&gt;revenue&lt;/b&gt; | gross</td>" in html
    assert "<code>@acme/growth</code>" in html
    assert "<strong>" not in html and "<b>revenue" not in html
