"""Property-based tests (issue #8). Hypothesis generates dbt manifests (v12 shape),
central rule sets, `normcheck.yml` files, tracking plans and model SQL, valid and
broken, and normcheck must:

- never show a traceback: the exit code is 0, 1 or 2, never 3 (a bug);
- on exit 2, print exactly one line that names the file at fault;
- give the same findings on every run, and whatever the order of its inputs: the
  manifest's nodes, the keys of every YAML mapping, the events of a plan.

Each example is a small project written to a temporary folder and checked in-process
with `main(["check", ...])`; `NORMCHECK_FUZZ_EXAMPLES` raises the number of examples
(default 60) for a longer local run."""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from normcheck.checks.registry import builtin_rules
from normcheck.cli import main
from normcheck.finding import Finding, sort_findings

EXAMPLES = int(os.environ.get("NORMCHECK_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written in the repository; failures print their reproduction
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
SCHEMA = "https://schemas.getdbt.com/dbt/manifest/v{}.json"
RULE_IDS = sorted(builtin_rules())

# -- names and texts --------------------------------------------------------------

MODEL_NAMES = [
    "fct_orders",
    "dim_customers",
    "stg_orders",
    "stg_payments",
    "int_order_items",
    "orders",
    "Orders",
    "stg-orders",
    "tmp_orders",
    "fct_orders_v2",
    "customerOrders",
    "fct_ördér",
    "dim_cust",
    "a",
]
COLUMN_NAMES = [
    "id",
    "order_id",
    "cust_id",
    "is_active",
    "active",
    "created_at",
    "created",
    "order_date",
    "orderDate",
    "total_amt",
    "Amount",
    "tmp",
    "email",
]
TEAMS = ["growth", "finance", "marketing", "unknown-team"]
DESCRIPTIONS = [
    "",
    "TODO",
    "TBD",
    "One row per order placed in the shop.",
    "Orders",
    "x",
    "A customer and what they bought, one row per customer and day.",
]
EVENT_NAMES = [
    "Order Completed",
    "order completed",
    "Order Complete",
    "Orders Completed",
    "Completed Order",
    "Checkout Started",
    "checkout_started",
    "Signed Up",
    "Product Added",
    "Product Removed",
    "Page Viewed",
    "x",
]
ALIASES = ["Order Finished", "Purchase Done", "checkout_begun"]
PROPERTY_NAMES = ["order_id", "orderId", "order id", "email", "buyer_email", "phone", "amount"]
TYPES = ["string", "integer", "number", "boolean", "string,null", "object"]

weird_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
name_of = st.one_of(st.sampled_from(MODEL_NAMES), weird_text.filter(bool))
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    weird_text,
    st.sampled_from(TEAMS),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(weird_text, inner, max_size=3),
    max_leaves=6,
)

# -- SQL --------------------------------------------------------------------------

SQL_COLUMNS = [
    "id",
    "order_id",
    "cust_id as customer_id",
    "*",
    "o.*",
    "cast(created as timestamp) as created",
    "cast(ordered as date) as order_day",
    "count(*) as n",
    "sum(amt) as total_amt",
    '"Quoted Col"',
    "case when a then 1 else 0 end as is_flag",
    "{{ var('col', 'fallback') }} as v",
]
SQL_RELATIONS = [
    "{{ ref('stg_orders') }}",
    "{{ ref('fct_orders') }}",
    "{{ ref('missing_model') }}",
    "{{ source('raw', 'orders') }}",
    "raw.orders",
    "analytics.public.orders",
    "{{ this }}",
]
SQL_FILTERS = [
    "",
    "where event_text = 'Order Completed'",
    "where event = 'order_completed'",
    "where event_text in ('Checkout Started', 'Purchase Made')",
    "where event_name = 'x'",
    "{% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}",
]
SQL_EXTRAS = [
    "",
    "{{ config(materialized='table', meta={'owner': 'growth'}) }}\n",
    "-- normcheck: ignore[naming/model-prefix] the BI tool queries this name\n",
    "-- normcheck: ignore[docs/missing-description]\n",
    "-- normcheck: ignore[no/such-rule, naming/name-case] why\n",
    "{# a comment #}\n",
    "{{ unknown_macro('x') }}\n",
    "{% set x = 1 %}\n",
]


@st.composite
def sql(draw: st.DrawFn) -> str:
    """Model SQL: mostly plausible dbt SQL, sometimes broken or random."""
    kind = draw(st.sampled_from(["select", "select", "select", "cte", "union", "broken", "text"]))
    if kind == "text":
        return draw(st.text(max_size=60))
    if kind == "broken":
        return draw(st.sampled_from(["select from where", "{{ ref( }}", "{% for %}", "select ((1"]))
    columns = draw(st.lists(st.sampled_from(SQL_COLUMNS), min_size=1, max_size=4, unique=True))
    body = (
        f"select {', '.join(columns)} from {draw(st.sampled_from(SQL_RELATIONS))} as o "
        f"{draw(st.sampled_from(SQL_FILTERS))}"
    )
    if kind == "cte":
        body = f"with base as (\n  {body}\n)\nselect * from base"
    elif kind == "union":
        body = f"{body}\nunion all\n{body}"
    return draw(st.sampled_from(SQL_EXTRAS)) + body + "\n"


# -- manifests ----------------------------------------------------------------------


@st.composite
def columns(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(COLUMN_NAMES), max_size=3, unique=True))
    return {
        name: {
            "name": name,
            "description": draw(st.sampled_from(DESCRIPTIONS)),
            "data_type": draw(st.sampled_from([None, "boolean", "timestamp", "date", "varchar"])),
            "meta": draw(st.sampled_from([{}, {"pii": True}])),
        }
        for name in names
    }


def meta() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "owner": st.one_of(st.sampled_from(TEAMS), json_value),
            "tier": st.sampled_from(["gold", "silver", 1]),
            "normcheck": st.sampled_from(
                [
                    {"ignore": [{"rule": "naming/model-prefix", "reason": "legacy"}]},
                    {"ignore": [{"rule": "docs/missing-description", "until": "2000-01-01"}]},
                    {"ignore": [{"rule": "naming/name-case"}]},
                    {"ignore": "nonsense"},
                ]
            ),
            "extra": json_value,
        },
    )


@st.composite
def model(draw: st.DrawFn, others: list[str]) -> dict[str, Any]:
    name = draw(name_of)
    folder = draw(st.sampled_from(["staging", "intermediate", "marts", "legacy", "marts/finance"]))
    uid = f"model.shop.{name}"
    node: dict[str, Any] = {
        "unique_id": uid,
        "resource_type": "model",
        "package_name": draw(st.sampled_from(["shop", "shop", "shop", "other_package"])),
        "name": name,
        "original_file_path": f"models/{folder}/{name}.sql",
        "path": f"{folder}/{name}.sql",
        "patch_path": draw(st.sampled_from([None, f"shop://models/{folder}/_models.yml"])),
        "description": draw(st.sampled_from(DESCRIPTIONS) | weird_text),
        "columns": draw(columns()),
        "meta": draw(meta()),
        "config": {
            "enabled": draw(st.booleans() | st.just(True)),
            "meta": draw(meta()),
            "group": draw(st.sampled_from([None, "sales", "unknown_group"])),
            "docs": draw(json_value),
            "access": draw(st.sampled_from(["protected", "private", "public"])),
            "contract": {"enforced": draw(st.booleans())},
            "materialized": draw(st.sampled_from(["view", "table", "incremental"])),
            "tags": draw(st.sampled_from([[], ["legacy"], "legacy"])),
        },
        "tags": [],
        "depends_on": {
            "nodes": draw(st.lists(st.sampled_from(others), max_size=2)) if others else [],
            "macros": [],
        },
        "raw_code": draw(sql()),
        "language": draw(st.sampled_from(["sql", "sql", "python"])),
        "checksum": {"name": "sha256", "checksum": draw(st.text("0123456789abcdef", max_size=8))},
    }
    if draw(st.booleans()):
        node["version"] = draw(st.sampled_from([1, 2, "3"]))
    return node


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    sources = {}
    for table in draw(st.lists(st.sampled_from(["orders", "payments", "Customers"]), unique=True)):
        uid = f"source.shop.raw.{table}"
        sources[uid] = {
            "unique_id": uid,
            "resource_type": "source",
            "package_name": "shop",
            "name": table,
            "source_name": "raw",
            "original_file_path": "models/staging/_sources.yml",
            "description": draw(st.sampled_from(DESCRIPTIONS)),
            "source_description": "",
            "columns": draw(columns()),
            "meta": draw(meta()),
            "source_meta": {},
            "config": {"enabled": True, "meta": {}},
            "relation_name": f'"raw"."{table}"',
        }
    nodes: dict[str, Any] = {}
    for _ in range(draw(st.integers(0, 6))):
        node = draw(model([*nodes, *sources]))
        nodes[node["unique_id"]] = node
    exposures = {}
    if draw(st.booleans()):
        exposures["exposure.shop.dashboard"] = {
            "unique_id": "exposure.shop.dashboard",
            "resource_type": "exposure",
            "package_name": "shop",
            "name": draw(st.sampled_from(["dashboard", "Weekly Revenue"])),
            "original_file_path": "models/marts/_exposures.yml",
            "description": draw(st.sampled_from(DESCRIPTIONS)),
            "owner": draw(st.sampled_from([{"name": "growth"}, {"email": "x@y.z"}, None])),
            "depends_on": {"nodes": list(nodes)[:2]},
            "meta": {},
            "config": {"enabled": True, "meta": {}},
        }
    metrics = {}
    for index in range(draw(st.integers(0, 2))):
        uid = f"metric.shop.m{index}"
        metrics[uid] = {
            "unique_id": uid,
            "resource_type": "metric",
            "package_name": "shop",
            "name": f"m{index}",
            "label": draw(st.sampled_from([None, "Revenue"])),
            "original_file_path": "models/marts/_metrics.yml",
            "description": draw(st.sampled_from(DESCRIPTIONS)),
            "type": draw(st.sampled_from(["simple", "ratio", "derived", "cumulative", None])),
            "type_params": draw(
                st.sampled_from(
                    [
                        {"measure": {"name": "revenue"}},
                        {"numerator": "m0", "denominator": None},
                        {"metrics": [{"name": "m0"}, "m1"], "expr": "m0 / m1"},
                        {},
                    ]
                )
            ),
            "meta": draw(
                st.sampled_from(
                    [
                        {},
                        {"north_star": True, "thresholds": {"green": 1, "yellow": 2}},
                        {"drives": "m0", "thresholds": {"green": "a", "direction": "up"}},
                        {"tier": "north_star"},
                    ]
                )
            ),
            "config": {"enabled": True, "meta": {}, "group": None},
        }
    return {
        "metadata": {
            "dbt_schema_version": SCHEMA.format(draw(st.sampled_from([10, 11, 12]))),
            "dbt_version": "1.11.0",
            "project_name": "shop",
            "adapter_type": draw(st.sampled_from(["duckdb", "snowflake", "bigquery", "nosuch"])),
        },
        "nodes": nodes,
        "sources": sources,
        "exposures": exposures,
        "metrics": metrics,
        "semantic_models": {},
        "groups": {
            "group.shop.sales": {
                "unique_id": "group.shop.sales",
                "package_name": "shop",
                "name": "sales",
                "owner": {"name": "finance"},
            }
        },
        "macros": {},
        "saved_queries": {},
    }


@st.composite
def broken_manifest(draw: st.DrawFn, damage: bool) -> bytes:
    """A manifest that is not quite right: a field of the wrong type, a key missing,
    another schema version; or (``damage``) truncated, a byte replaced, not JSON."""
    data = draw(manifests())
    if damage:
        how = draw(st.sampled_from(["truncate", "flip", "random"]))
    else:
        how = draw(st.sampled_from(["wrong-type", "version", "missing-key", "node-type"]))
    if how == "version":
        data["metadata"]["dbt_schema_version"] = SCHEMA.format(draw(st.integers(0, 120)))
    elif how == "wrong-type":
        target = draw(st.sampled_from(["nodes", "sources", "metadata", "groups", "metrics"]))
        data[target] = draw(json_value)
    elif how in ("missing-key", "node-type") and data["nodes"]:
        node = next(iter(data["nodes"].values()))
        field = draw(
            st.sampled_from(
                ["unique_id", "name", "package_name", "resource_type", "config", "columns"]
            )
        )
        if how == "missing-key":
            node.pop(field)
        else:
            node[field] = draw(json_value)
    text = json.dumps(data).encode()
    if how == "truncate":
        return text[: draw(st.integers(0, len(text) - 1))]
    if how == "flip":
        index = draw(st.integers(0, len(text) - 1))
        return text[:index] + bytes([draw(st.integers(0, 255))]) + text[index + 1 :]
    if how == "random":
        return draw(st.binary(max_size=200))
    return text


# -- configuration ------------------------------------------------------------------

SEVERITIES = ["error", "warning", "info", "off", False]
BAD_SEVERITIES = ["bogus", 3, None]
OPTIONS: dict[str, list[Any]] = {
    "naming/model-prefix": [
        {
            "layers": {
                "staging": {"paths": ["models/staging/**"], "prefixes": ["stg_"]},
                "marts": {"paths": ["models/marts/**"], "prefixes": ["fct_", "dim_"]},
            }
        },
    ],
    "naming/name-case": [
        {"case": "camelCase"},
        {"pattern": "^[a-z]+(_[a-z0-9]+)*$"},
        {"resource_types": ["model", "source"]},
    ],
    "naming/column-case": [{"case": "SCREAMING_SNAKE_CASE"}, {"pattern": "^[a-z_]+$"}],
    "naming/event-name": [{"convention": "snake_case"}, {"past_tense": False}],
    "docs/missing-description": [{"resource_types": ["model", "column", "event", "property"]}],
    "docs/placeholder-description": [{"min_words": 3}, {"placeholders": ["todo", "tbd"]}],
    "governance/required-meta": [
        {"keys": {"owner": {"enum": ["growth", "finance"]}}},
        {"keys": {"tier": {"regex": "^(gold|silver)$", "type": "string"}}},
    ],
    "sql/select-star": [{"layers": ["marts", "staging"]}],
    "tracking/pii-undeclared": [{"patterns": ["email", "phone"]}, {"formats": ["email"]}],
    "tracking/duplicate-event": [{"synonyms": [["order", "purchase"]]}],
    "metrics/north-star": [{"max_north_stars": 1}],
}
BAD_OPTIONS: dict[str, list[Any]] = {
    "naming/model-prefix": [{"layers": "marts"}],
    "naming/name-case": [{"pattern": "(a+)+$"}, {"pattern": "(("}, {"case": "nope"}],
    "naming/event-name": [{"x": 1}],
    "docs/missing-description": [{"min_length": "x"}],
    "governance/required-meta": [{"keys": {"tier": {"type": "nope"}}}],
    "tracking/pii-undeclared": [{"patterns": ["email", "(x+)+y"]}],
}
DERIVED = {
    "acme/mart-meta": {
        "uses": "governance/required-meta",
        "severity": "warning",
        "options": {"keys": {"owner": {}}, "match": {"paths": ["models/marts/**"]}},
    }
}


OVERRIDE_PATHS = ["models/legacy/**", "models/marts", "**/*.sql"]


def pick(valid: bool, good: list[Any], bad: list[Any]) -> st.SearchStrategy[Any]:
    """One of ``good``, or when ``valid`` is false sometimes one of ``bad``."""
    if valid or not bad:
        return st.sampled_from(good)
    return st.sampled_from(good) | st.sampled_from(bad)


@st.composite
def rule_setting(draw: st.DrawFn, rule_id: str, central: bool, valid: bool) -> Any:
    severity = pick(valid, SEVERITIES, BAD_SEVERITIES)
    if draw(st.booleans()):
        return draw(severity)
    setting: dict[str, Any] = {}
    if draw(st.booleans()):
        setting["severity"] = draw(severity)
    if draw(st.booleans()) and (central or draw(st.booleans())):
        setting["locked"] = draw(st.booleans())
    if (rule_id in OPTIONS or not valid) and draw(st.booleans()):
        options = pick(valid, OPTIONS.get(rule_id, [{}]), BAD_OPTIONS.get(rule_id, [{"x": 1}]))
        setting["options"] = draw(options)
    return setting


@st.composite
def config(
    draw: st.DrawFn, valid: bool, central: bool = False, with_plans: bool = False
) -> dict[str, Any]:
    """A `normcheck.yml` (or, ``central``, the rule set it extends)."""
    out: dict[str, Any] = {"version": 1}
    good = [None, "[]", "normcheck:default", "normcheck:recommended"]
    if not central:
        good += ["central.yml", "central.yml"]
    choice = draw(pick(valid, good, ["missing.yml", "normcheck:nope", "normcheck.yml"]))
    if choice == "[]":
        out["extends"] = []
    elif choice is not None:
        out["extends"] = [choice] if draw(st.booleans()) else choice
    optional = {
        "team": pick(valid, ["growth", "finance"], ["", 42, None, ["x"]]),
        "dialect": pick(valid, ["duckdb", "snowflake", "bigquery", "postgres"], ["nosuch"]),
        "fail_on": pick(valid, ["error", "warning", "info", "never"], ["bogus"]),
        "owners": st.dictionaries(
            st.sampled_from(TEAMS),
            pick(valid, [None, {}, {"email": "x@y.z"}], [{"email": 3}, "x"]),
            max_size=3,
        ),
        "vocabulary": st.fixed_dictionaries(
            {},
            optional={
                "preferred": st.dictionaries(
                    st.sampled_from(["amt", "cust", "qty", "client"]),
                    st.sampled_from(["amount", "customer", "quantity"]),
                    max_size=3,
                ),
                "banned": st.lists(st.sampled_from(["tmp", "temp", "test", "old"]), max_size=3),
            },
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            out[key] = draw(strategy)
    if not valid and draw(st.integers(0, 3)) == 0:
        out[draw(st.sampled_from(["unknown_key", "rule", "override"]))] = draw(json_value)
    known = [r for r in RULE_IDS if r != "normcheck/locked-rule"]
    rule_ids = draw(
        st.lists(
            pick(valid, known, ["naming/nope", "not a rule", "normcheck/locked-rule"]),
            max_size=6,
        )
    )
    if rule_ids:
        out["rules"] = {r: draw(rule_setting(r, central, valid)) for r in rule_ids}
    if central and draw(st.booleans()):
        out.setdefault("rules", {}).update(DERIVED)
    if draw(st.booleans()):
        out["overrides"] = [
            {
                "match": draw(
                    st.fixed_dictionaries(
                        {"paths": st.lists(st.sampled_from(OVERRIDE_PATHS), max_size=2)}
                        if valid
                        else {},
                        optional={
                            **(
                                {}
                                if valid
                                else {"paths": st.lists(st.sampled_from(OVERRIDE_PATHS))}
                            ),
                            "tags": st.just(["legacy"]),
                            "groups": st.just(["sales"]),
                            "owners": st.lists(st.sampled_from(TEAMS), max_size=2),
                        },
                    )
                ),
                "rules": {
                    r: draw(st.sampled_from(SEVERITIES))
                    for r in draw(st.lists(st.sampled_from(known), max_size=2))
                },
            }
            for _ in range(draw(st.integers(1, 2)))
        ]
    if with_plans:
        out["tracking_plans"] = ["tracking/*"]
    return out


# -- tracking plans --------------------------------------------------------------------


@st.composite
def plan_property(draw: st.DrawFn, valid: bool) -> dict[str, Any]:
    return draw(
        st.fixed_dictionaries(
            {"name": st.sampled_from(PROPERTY_NAMES)},
            optional={
                "type": pick(valid, TYPES, [3, None]),
                "description": st.sampled_from(DESCRIPTIONS),
                "pii": pick(valid, ["none", {"category": "contact"}], [None, "yes"]),
                "format": st.sampled_from(["email", "date-time"]),
                "enum": st.lists(st.sampled_from(["a", "b", 1]), max_size=2),
                "required": st.booleans(),
            },
        )
    )


@st.composite
def plan(draw: st.DrawFn, plan_id: str, valid: bool) -> dict[str, Any]:
    """A native tracking plan; invalid ones have a wrong value somewhere."""
    names = draw(st.lists(st.sampled_from(EVENT_NAMES), max_size=6, unique=True))
    shared = draw(st.lists(st.sampled_from(PROPERTY_NAMES), max_size=3, unique=True))
    events = []
    for name in names:
        event: dict[str, Any] = {"name": name}
        extras = {
            "description": st.sampled_from(DESCRIPTIONS),
            "owner": st.sampled_from(TEAMS),
            "status": pick(valid, ["proposed", "active", "deprecated"], ["bogus"]),
            # an alias that is another event's name, or a `replaced_by` naming no event,
            # is an error: valid plans alias other names and replace by their own events
            "aliases": st.lists(st.sampled_from(EVENT_NAMES if not valid else ALIASES), max_size=2),
            "replaced_by": st.sampled_from(names if valid else EVENT_NAMES),
        }
        for key, strategy in extras.items():
            if draw(st.booleans()):
                event[key] = draw(strategy)
        props: list[dict[str, Any]] = []
        for _ in range(draw(st.integers(0, 2))):
            if shared and draw(st.booleans()):
                ref = draw(pick(valid, shared, ["not_in_catalogue"]))
                props.append({"ref": ref, "required": draw(st.booleans())})
            else:
                props.append(draw(plan_property(valid)))
        if props:
            event["properties"] = props
        events.append(event)
    out: dict[str, Any] = {
        "normcheck": "plan/v1",
        "plan": {
            "id": plan_id if valid else draw(st.sampled_from([plan_id, "", "has space"])),
            "owner": draw(st.sampled_from(TEAMS)),
            "warehouse": draw(
                st.sampled_from(
                    [
                        {"profile": "segment"},
                        {"profile": "segment", "event_column": "event_text"},
                        {"profile": "snowplow"},
                        {"profile": "rudderstack"},
                        {"profile": "custom", "event_column": "event_name"},
                    ]
                )
            ),
        },
        "events": events,
    }
    if shared:
        out["properties"] = {
            name: {k: v for k, v in draw(plan_property(valid)).items() if k != "name"}
            for name in shared
        }
    return out


@st.composite
def broken_text(draw: st.DrawFn, valid: str) -> bytes:
    """A valid document damaged: cut short, a byte replaced, junk appended, or random."""
    data = valid.encode()
    how = draw(st.sampled_from(["truncate", "flip", "append", "random", "latin1"]))
    if how == "truncate" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "flip" and data:
        index = draw(st.integers(0, len(data) - 1))
        return data[:index] + bytes([draw(st.integers(0, 255))]) + data[index + 1 :]
    if how == "append":
        return data + draw(st.sampled_from([b"\n: :", b"\n- x", b"\n\t!", b"\n&a [*a]", b"\xff"]))
    if how == "latin1":
        return "team: grün\n".encode("latin-1") + data
    return draw(st.binary(max_size=80))


# -- the project on disk and the run --------------------------------------------------


def dump(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


Files = dict[str, bytes]


@st.composite
def projects(draw: st.DrawFn, broken: bool) -> Files:
    """The files of one project: manifest, configs and plans. A broken project has
    wrong values in one of them, or one file damaged."""
    how = draw(st.sampled_from(["values", "bytes"])) if broken else None
    bad = draw(st.sampled_from(["normcheck.yml", "central.yml", "plans", "manifest"]))
    if how != "values":
        bad = None
    plan_ids = draw(st.lists(st.sampled_from(["web", "app"]), max_size=2, unique=bad != "plans"))
    files: Files = {}
    if bad == "manifest":
        files["target/manifest.json"] = draw(broken_manifest(damage=False))
    else:
        files["target/manifest.json"] = json.dumps(draw(manifests())).encode()
    local = config(bad != "normcheck.yml", with_plans=bool(plan_ids))
    files["normcheck.yml"] = dump(draw(local)).encode()
    files["central.yml"] = dump(draw(config(bad != "central.yml", central=True))).encode()
    for index, plan_id in enumerate(plan_ids):
        files[f"tracking/plan{index}.yml"] = dump(draw(plan(plan_id, bad != "plans"))).encode()
    if how == "bytes":
        victim = draw(st.sampled_from(sorted(files)))
        if victim == "target/manifest.json":
            files[victim] = draw(broken_manifest(damage=True))
        else:
            files[victim] = draw(broken_text(files[victim].decode()))
    return files


def write(folder: Path, files: Files) -> None:
    for relative, data in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (folder / "dbt_project.yml").write_text("name: shop\nversion: '1'\nprofile: shop\n")


def run(
    capsys: pytest.CaptureFixture[str], folder: Path, fmt: str = "json"
) -> tuple[int, str, str]:
    previous = Path.cwd()
    os.chdir(folder)
    try:
        code = main(
            [
                "check",
                "--manifest",
                "target/manifest.json",
                "--parse",
                "never",
                "--no-cache",
                "--format",
                fmt,
            ]
        )
    finally:
        os.chdir(previous)
    out, err = capsys.readouterr()
    return code, out, err


def crash_log(err: str) -> str:
    found = re.search(r"written to (\S+)", err)
    if found is None or not Path(found.group(1)).is_file():
        return err
    return Path(found.group(1)).read_text(encoding="utf-8")


def _kind(err: str) -> str:
    """The error's file and the start of its message, for the statistics."""
    text = err.removeprefix("normcheck: error: ")
    where, _, message = text.partition(": ")
    return f"{re.sub(r':[0-9]+$', '', where)}: {' '.join(message.split()[:3])}"


def assert_outcome(code: int, out: str, err: str, files: Files, fmt: str = "json") -> None:
    """Exit 0/1 with a report, or exit 2 with one line naming a file; nothing else."""
    event(f"exit {code}" + (f": {_kind(err)}" if code == 2 else ""))
    assert code != 3, f"internal error:\n{crash_log(err)}"
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err and "Traceback" not in out
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("normcheck: error: "), err
        named = {Path(f).name for f in files} | {"dbt_project.yml"}
        assert any(name in lines[0] for name in named), f"names no file: {err}"
        assert out == ""
    elif fmt == "json":
        report = json.loads(out)
        assert set(report) == {"version", "findings", "summary"}
        assert all(f["rule"] and f["file"] and f["line"] >= 1 for f in report["findings"])


# -- the properties ---------------------------------------------------------------------


@FUZZ
@given(files=projects(broken=False), fmt=st.sampled_from(["json", "text", "sarif", "junit"]))
def test_valid_inputs_never_crash(files, fmt, capsys):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write(folder, files)
        code, out, err = run(capsys, folder, fmt)
        assert_outcome(code, out, err, files, fmt)


@FUZZ
@given(files=projects(broken=True))
def test_broken_inputs_are_one_clear_error(files, capsys):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write(folder, files)
        code, out, err = run(capsys, folder)
        assert_outcome(code, out, err, files)


def shuffled(data: Any, rng: random.Random) -> Any:
    """``data`` with the keys of every mapping in another order (lists keep theirs:
    `extends` and `overrides` are ordered on purpose)."""
    if isinstance(data, dict):
        items = list(data.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(data, list):
        return [shuffled(v, rng) for v in data]
    return data


def reorder(files: Files, rng: random.Random) -> Files:
    out: Files = {}
    for relative, data in files.items():
        if relative.endswith(".json"):
            out[relative] = json.dumps(shuffled(json.loads(data), rng)).encode()
            continue
        loaded = yaml.safe_load(data)
        if relative.startswith("tracking/") and isinstance(loaded.get("events"), list):
            rng.shuffle(loaded["events"])
        out[relative] = dump(shuffled(loaded, rng)).encode()
    return out


_LINE_REF = re.compile(r"(\.ya?ml|\.sql|\.json):\d+")


def normalised(out: str) -> list[tuple[str, ...]]:
    """Findings without their line: reordering a YAML file moves its lines."""
    return sorted(
        (
            f["rule"],
            f["severity"],
            f["resource"],
            f["file"],
            f["fingerprint"],
            _LINE_REF.sub(r"\1:N", f["message"]),
        )
        for f in json.loads(out)["findings"]
    )


@FUZZ
@given(files=projects(broken=False), seed=st.integers(0, 2**32 - 1))
def test_findings_are_deterministic_whatever_the_input_order(files, seed, capsys):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write(folder, files)
        first = run(capsys, folder)
        assert_outcome(*first, files)
        assert run(capsys, folder) == first, "two runs on the same input differ"
        if first[0] == 2:
            return
        manifest_only = dict(files)
        manifest_only["target/manifest.json"] = reorder(
            {"target/manifest.json": files["target/manifest.json"]}, random.Random(seed)
        )["target/manifest.json"]
        write(folder, manifest_only)
        code, out, err = run(capsys, folder)
        assert (code, out) == first[:2], "the manifest's node order changed the report"
        write(folder, reorder(files, random.Random(seed)))
        code, out, err = run(capsys, folder)
        assert code == first[0], err
        assert normalised(out) == normalised(first[1]), "input order changed the findings"


@pytest.mark.parametrize("fmt", ["text", "github", "markdown", "html"])
def test_every_format_renders_generated_findings(fmt, capsys):
    """One fixed, finding-rich example through every console format."""

    @settings(FUZZ, max_examples=max(5, EXAMPLES // 10))
    @given(files=projects(broken=False))
    def inner(files: Files) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write(folder, files)
            code, out, err = run(capsys, folder, fmt)
            assert_outcome(code, out, err, files, fmt)

    inner()


# -- the Jinja-free rendering path says what Jinja says ------------------------------

_MACROS = [
    ("shop", "cents", "{% macro cents(c) %}({{ c }} * 100){% endmacro %}"),
    ("shop", "pick", "{% macro pick(cols, sep=', ') %}{{ cols | join(sep) }}{% endmacro %}"),
    ("shop", "ret", "{% macro ret(x) %}{{ return(x ~ '!') }}{% endmacro %}"),
    ("shop", "boom", "{% macro boom() %}{{ exceptions.raise_compiler_error('no') }}{% endmacro %}"),
    ("dbt_utils", "star", "{% macro star(rel, except=[]) %}a, b{% endmacro %}"),
]
_FRAGMENTS = [
    "select",
    " a,",
    " from ",
    "\n",
    "  ",
    "'text'",
    "x = 1",
    "{{ ref('stg_orders') }}",
    "{{ ref('shop', 'stg_orders') }}",
    "{{ ref('unknown_model') }}",
    "{{ source('shop', 'orders') }}",
    '{{ source( "shop" ,"orders" ) }}',
    '{{ cents("") }}',
    "{{ cents('a\rb') }}",
    "{% set cents = 'shadowed' %}",
    "{{ var('start', '2020-01-01') }}",
    "{{ var('n') }}",
    "{{ var('missing') }}",
    "{{ env_var('HOME', 'h') }}",
    "{{ this }}",
    "{{ config(materialized='table', tags=['a', 'b']) }}",
    "{{ config(\n  meta={'owner': 'growth'}\n) }}",
    "{{ cents('amount') }}",
    "{{ cents(cents('a')) }}",
    "{{ cents(this) }}",
    "{{ cents(ref('stg_orders')) }}",
    "{{ cents('a' ~ var('n')) }}",
    "{{ cents(\"q'\" ~ 1 ~ 'z') }}",
    "{{ cents(this ~ '_x') }}",
    "{{ cents('a' ~ 'b' + 'c') }}",
    "{{ cents('x\n+ y') }}",
    "{{ cents('a\\\nb') }}",
    "{{ pick(['x', 'y'], sep=' | ') }}",
    "{{ pick(('x',)) }}",
    "{{ ret('a') }}",
    "{{ boom() }}",
    "{{ dbt_utils.star('t', except=['b']) }}",
    "{{ dbt_utils.nothing_here('t') }}",
    "{{ cents('split(x, \\'/\\')') }}",
    "{{ cents('\\d+') }}",
    "{# a comment {{ ref('x') }} #}",
    "{% set k = ('a', 'b') %}",
    "{% set k = {'a': [1, 2.5, none, true]} %}",
    "{{ k }}",
    "{{ true }}",
    "{{ 'lit' }}",
    "{{ 1.5 }}",
    "{{ -3 }}",
    "{% if is_incremental() %} where 1 {% else %} where 2 {% endif %}",
    "{% if not is_incremental() %}\n limit 1\n{% endif %}",
    "{% if is_incremental() %} and {{ this }}.x > 0 {% endif %}",
    "{{ ref('stg_orders') | upper }}",
    "{{- ref('stg_orders') -}}",
    "{% for c in ['a'] %}{{ c }}{% endfor %}",
]


@FUZZ
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=12))
def test_the_jinja_free_path_renders_what_jinja_renders(fragments):
    from normcheck._jinja import Renderer, RenderError
    from normcheck.sqlfacts import MacroSource, RenderInput

    shop = Renderer(
        "shop",
        "duckdb",
        [MacroSource(*m) for m in _MACROS],
        {"n": 5},
        {
            (None, "stg_orders", None): '"db"."main"."stg_orders"',
            ("shop", "stg_orders", None): '"db"."main"."stg_orders"',
            ("source:shop", "orders", None): '"db"."raw"."orders"',
        },
    )
    model = RenderInput("m", "shop", "".join(fragments), {"materialized": "table"}, '"db"."m"')
    try:
        fast: str | RenderError | None = shop._substitute(model)
    except RenderError as exc:
        fast = exc
    event("Jinja-free" if isinstance(fast, str) else "left to Jinja or an error")
    try:
        jinja: str | RenderError = shop._render_jinja(model)
    except RenderError as exc:
        jinja = exc
    assert not isinstance(fast, RenderError)  # errors are Jinja's to report
    if isinstance(fast, str):
        assert isinstance(jinja, str), jinja
        # the same text up to whitespace (a tag becomes blank lines, to keep line numbers)
        assert "".join(fast.split()) == "".join(jinja.split())
        assert fast.count("\n") == model.raw_code.count("\n")


_FINDINGS = st.lists(
    st.builds(
        Finding,
        file=st.sampled_from(["a.sql", "b.yml", "models/c.sql"]),
        line=st.integers(1, 3),
        rule=st.sampled_from(["naming/name-case", "docs/missing-description"]),
        resource=st.sampled_from(["model.p.a", "model.p.b"]),
        message=st.sampled_from(["x", "y"]),
        severity=st.sampled_from(["error", "warning", "info"]),
        resource_type=st.just("model"),
        owner=st.sampled_from(["data", "growth"]),
        fingerprint=st.text("0123456789abcdef", min_size=1, max_size=3),
    ),
    max_size=30,
    unique_by=lambda f: f.fingerprint,
)


@given(_FINDINGS)
def test_sort_findings_is_the_order_of_findings(findings):
    assert sort_findings(findings) == tuple(sorted(findings))
    unowned = [replace(f, owner=None) if f.owner == "data" else f for f in findings]
    # no owner sorts as an empty one (sorted() fails comparing None with a name)
    assert sort_findings(unowned) == tuple(
        sorted(unowned, key=lambda f: replace(f, owner=f.owner or ""))
    )
