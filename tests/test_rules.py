"""Each rule on a richer real dbt project: exact resources, files and lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import build_dbt_project
from normcheck.checks._common import model_label
from normcheck.checks.registry import BUILTIN_RULES
from normcheck.run import RunOptions, run

FILES = {
    "seeds/raw_orders.csv": "id,amount\n1,10\n",
    "models/staging/_sources.yml": """\
version: 2
sources:
  - name: shop
    config:
      meta: {owner: growth}
    tables:
      - name: orders
        description: Orders as the web shop writes them, one row per order.
      - name: Refunds
        description: Refunds as the payment provider reports them.
""",
    "models/staging/stg_orders.sql": "select * from {{ source('shop', 'orders') }}\n",
    "models/staging/stg_refunds.sql": "select * from {{ ref('fct_revenue') }}\n",
    "models/staging/_models.yml": """\
version: 2
models:
  - name: stg_orders
    description: Orders cleaned and typed, one row per order.
    config:
      meta: {owner: growth}
    columns:
      - name: order_id
        description: The order.
      - name: createdAt
        data_type: timestamp
      - name: paid
        data_type: boolean
      - name: order_date
        data_type: date
      - name: cust_amt
  - name: stg_refunds
    description: Refunds, one row per refund issued to a customer.
    config:
      meta: {owner: growht}
""",
    "models/marts/fct_revenue.sql": "{{ config(group='finance', access='public') }}\nselect * from {{ source('shop', 'orders') }}\n",
    "models/marts/dim_customers_v1.sql": "{{ config(group='finance') }}\nselect 1 as customer_id\n",
    "models/marts/dim_customers_v2.sql": "{{ config(group='finance') }}\nselect 1 as customer_id\n",
    "models/marts/_marts.yml": """\
version: 2
groups:
  - name: finance
    owner: {name: finance, email: finance@example.com}
models:
  - name: fct_revenue
    description: Revenue per order, recognised at payment.
  - name: dim_customers
    description: Customers, one row per customer across every shop.
    latest_version: 2
    versions:
      - v: 1
      - v: 2
        description: TBD
exposures:
  - name: revenue_board
    type: dashboard
    description: The board the finance team reads every Monday morning.
    owner: {name: finance, email: finance@example.com}
    depends_on:
      - ref('fct_revenue')
      - ref('dim_customers', v=2)
""",
    "models/legacy/old_report.sql": "{{ config(tags=['legacy']) }}\nselect 1 as x\n",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return build_dbt_project(tmp_path_factory.mktemp("rules"), FILES)


def findings(project: Path, config: str, tmp_path: Path, monkeypatch) -> list[tuple[str, ...]]:
    monkeypatch.chdir(project)
    path = tmp_path / "normcheck.yml"
    path.write_text(config)
    result = run(RunOptions(project_dir=Path(), config=path))
    return [(f.rule, f.resource, f"{f.file}:{f.line}", f.severity) for f in result.findings]


ALL_RULES = [r.id for r in BUILTIN_RULES if not r.id.startswith("normcheck/")]


def only(rule: str, severity: str = "error") -> str:
    """A configuration with every built-in rule off but ``rule``."""
    lines = ["extends: [normcheck:default]", "owners: {growth: {}, finance: {}}", "rules:"]
    lines += [f"  {r}: 'off'" for r in ALL_RULES if r != rule]
    lines.append(f"  {rule}: {severity}")
    return "\n".join(lines) + "\n"


CASES = {
    "naming/name-case": [
        ("source.shop.shop.Refunds", "models/staging/_sources.yml:9"),
    ],
    "naming/column-case": [
        ("model.shop.stg_orders.createdAt", "models/staging/_models.yml:10"),
    ],
    "naming/column-type-suffix": [
        ("model.shop.stg_orders.createdAt", "models/staging/_models.yml:10"),
        ("model.shop.stg_orders.paid", "models/staging/_models.yml:12"),
    ],
    "ownership/missing-owner": [
        ("model.shop.old_report", "models/legacy/old_report.sql:1"),
    ],
    "ownership/unknown-owner": [
        ("model.shop.stg_refunds", "models/staging/_models.yml:20"),
    ],
    "docs/missing-description": [
        ("model.shop.old_report", "models/legacy/old_report.sql:1"),
    ],
    "docs/placeholder-description": [
        ("model.shop.dim_customers.v2", "models/marts/_marts.yml:14"),
    ],
    "governance/layer-dependency": [
        ("model.shop.stg_refunds", "models/staging/stg_refunds.sql:1"),
        ("model.shop.fct_revenue", "models/marts/fct_revenue.sql:2"),
    ],
    "governance/public-model-contract": [
        ("model.shop.fct_revenue", "models/marts/_marts.yml:6"),
    ],
    "governance/exposure-private-dependency": [
        ("exposure.shop.revenue_board", "models/marts/_marts.yml:22"),  # its ref() entry
    ],
    "naming/model-prefix": [],
    "governance/group-required": [],
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_finds_exactly(rule, project, tmp_path, monkeypatch):
    got = findings(project, only(rule), tmp_path, monkeypatch)
    expected = sorted((rule, uid, where, "error") for uid, where in CASES[rule])
    assert sorted(got) == expected


def test_vocabulary_flags_preferred_and_banned_words(project, tmp_path, monkeypatch):
    config = (
        only("naming/vocabulary")
        + "vocabulary: {preferred: {cust: customer, amt: amount}, banned: [old]}\n"
    )
    got = findings(project, config, tmp_path, monkeypatch)
    assert sorted(got) == [
        ("naming/vocabulary", "model.shop.old_report", "models/legacy/old_report.sql:1", "error"),
        (
            "naming/vocabulary",
            "model.shop.stg_orders.cust_amt",
            "models/staging/_models.yml:16",
            "error",
        ),
        (
            "naming/vocabulary",
            "model.shop.stg_orders.cust_amt",
            "models/staging/_models.yml:16",
            "error",
        ),
    ]


def test_overrides_match_paths_tags_groups_owners(project, tmp_path, monkeypatch):
    config = (
        only("docs/missing-description")
        + """\
overrides:
  - match: {paths: ["models/legacy/**"]}
    rules: {docs/missing-description: info}
  - match: {groups: [finance]}
    rules: {docs/missing-description: warning}
  - match: {tags: [nomatch], owners: [finance]}
    rules: {docs/missing-description: 'off'}
  - match: {paths: ["models/marts/**"]}
    rules: {docs/missing-description: {options: {resource_types: [model, exposure], min_length: 5}}}
"""
    )
    got = findings(project, config, tmp_path, monkeypatch)
    # the override of a tag nobody uses matches nothing: reported, at its line
    idle = [g for g in got if g[0] == "normcheck/unused-override"]
    assert [(rule, place.rsplit(":", 1)[1]) for rule, _, place, _ in idle] == [
        (
            "normcheck/unused-override",
            str(config.splitlines().index("  - match: {tags: [nomatch], owners: [finance]}") + 1),
        )
    ]
    assert sorted(g for g in got if g not in idle) == [
        (
            "docs/missing-description",
            "model.shop.dim_customers.v2",
            "models/marts/_marts.yml:14",
            "warning",
        ),
        (
            "docs/missing-description",
            "model.shop.old_report",
            "models/legacy/old_report.sql:1",
            "info",
        ),
    ]


def test_override_by_tag_and_owner_can_switch_a_rule_off(project, tmp_path, monkeypatch):
    config = (
        only("docs/missing-description")
        + """\
overrides:
  - match: {tags: [legacy]}
    rules: {docs/missing-description: 'off'}
  - match: {owners: [finance]}
    rules: {docs/missing-description: 'off'}
"""
    )
    assert findings(project, config, tmp_path, monkeypatch) == []


def test_override_options_apply_per_resource(project, tmp_path, monkeypatch):
    config = (
        only("docs/missing-description", "off")
        + """\
overrides:
  - match: {paths: ["models/staging/**"]}
    rules:
      docs/missing-description: {severity: warning, options: {resource_types: [column]}}
"""
    )
    got = findings(project, config, tmp_path, monkeypatch)
    assert sorted(uid for _, uid, _, _ in got) == [
        "model.shop.stg_orders.createdAt",
        "model.shop.stg_orders.cust_amt",
        "model.shop.stg_orders.order_date",
        "model.shop.stg_orders.paid",
    ]


def test_custom_layers_drive_prefix_directory_and_dependency_rules(project, tmp_path, monkeypatch):
    config = (
        only("naming/model-directory").replace("  naming/model-prefix: 'off'\n", "")
        + """\
  naming/model-prefix:
    severity: error
    options:
      layers:
        legacy: {paths: ["models/legacy/**"], prefixes: [legacy_]}
        staging: {paths: ["models/staging/**"], prefixes: [stg_]}
        marts: {paths: ["models/marts/**"], prefixes: [fct_, dim_]}
"""
    )
    got = findings(project, config, tmp_path, monkeypatch)
    assert sorted(got) == [
        ("naming/model-prefix", "model.shop.old_report", "models/legacy/old_report.sql:1", "error"),
    ]


def test_model_directory_flags_a_prefix_outside_its_folder(tmp_path, monkeypatch):
    project = build_dbt_project(
        tmp_path / "p",
        {
            "models/stg_misplaced.sql": "select 1 as id\n",
            "models/marts/int_x.sql": "select 1 as id\n",
        },
    )
    got = findings(project, only("naming/model-directory"), tmp_path, monkeypatch)
    assert sorted(got) == [
        ("naming/model-directory", "model.shop.int_x", "models/marts/int_x.sql:1", "error"),
        (
            "naming/model-directory",
            "model.shop.stg_misplaced",
            "models/stg_misplaced.sql:1",
            "error",
        ),
    ]


def test_catalog_types_win_over_yaml(project, tmp_path, monkeypatch):
    catalog = project / "target" / "catalog.json"
    catalog.write_text(
        json.dumps(
            {
                "nodes": {
                    "model.shop.stg_orders": {
                        "columns": {
                            "ORDER_ID": {"name": "ORDER_ID", "type": "BOOLEAN"},
                            "paid": {"name": "paid", "type": "VARCHAR"},
                        }
                    }
                },
                "sources": {},
            }
        )
    )
    try:
        got = findings(project, only("naming/column-type-suffix"), tmp_path, monkeypatch)
    finally:
        catalog.unlink()
    assert sorted(uid for _, uid, _, _ in got) == [
        "model.shop.stg_orders.createdAt",
        "model.shop.stg_orders.order_id",
    ]


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("orders", "TODO: write this", "contains `TODO`"),
        ("orders", "One row per order. tbd and fixme", "contains `FIXME`"),  # the first, sorted
        ("orders", "todos are not a placeholder word here", None),  # whole words only
        ("orderItems", "Order items", "only repeats the name"),
        ("orderItems", "Order items, one per row", None),
        ("orders", "Orders table", "has fewer than 3 words"),
        ("orders", "  ...  ", None),  # no words: docs/missing-description's business
    ],
)
def test_placeholder_reasons(name, text, reason):
    from normcheck.checks.docs.placeholder_description import (
        PlaceholderOptions,
        placeholder_reason,
    )

    assert placeholder_reason(name, text, PlaceholderOptions()) == reason
    odd = PlaceholderOptions(placeholders=["n/a", "Draft"])  # n/a is never one token
    assert placeholder_reason("orders", "Draft: n/a for now, sorry", odd) == "contains `DRAFT`"


def test_layer_of_is_the_first_matching_layer_for_any_sequence_of_layers():
    from normcheck.checks import _common
    from normcheck.checks._api import Layer
    from normcheck.project import Resource

    def model(file: str) -> Resource:
        return Resource(uid=f"model.p.{file}", type="model", name="m", package="p", file=file)

    staging = Layer("staging", ("models/staging",), ("stg_",))
    marts = Layer("marts", ("models/marts/**",), ("fct_",))
    for layers in ([staging, marts], (staging, marts)):  # a list, or a tuple (remembered)
        assert _common.layer_of(model("models/staging/a.sql"), layers) is staging
        assert _common.layer_of(model("models/marts/x/b.sql"), layers) is marts
        assert _common.layer_of(model("models/other/c.sql"), layers) is None
    # many rule sets in one process: the memory of answers stays bounded
    for index in range(100):
        _common.layer_of(model("models/staging/a.sql"), (Layer(f"l{index}", ("models",), ()),))
    assert len(_common._LAYER_MEMO) <= 64
    assert _common.layer_of(model("models/staging/a.sql"), (marts, staging)) is staging


def test_messages_name_a_models_version_and_foreign_project(project, tmp_path, monkeypatch):
    """`dim_customers` v1 and v2 are two models: a message names which one."""
    monkeypatch.chdir(project)
    path = tmp_path / "normcheck.yml"
    path.write_text(only("governance/exposure-private-dependency"))
    result = run(RunOptions(project_dir=Path(), config=path))
    (finding,) = result.findings
    assert "depends on protected model `dim_customers v2`:" in finding.message
    model = next(r for r in result_project(project).of_type("model") if r.name == "fct_revenue")
    assert model_label(model) == "fct_revenue"
    assert model_label(model, "shop") == "fct_revenue"
    assert model_label(model, "other_project") == "shop.fct_revenue"


VERSIONED = """\
version: 2
models:
  - name: fct_sessions
    description: TODO
    latest_version: 2
    columns:
      - name: session_id
      - name: old_col
    versions:
      - v: 1
        columns:
          - include: all
      - v: 2
        description: One row per web session, stitched from the events.
        columns:
          - include: all
            exclude: [old_col]
          - name: started_at
"""


def test_a_versions_findings_on_what_the_model_says_are_at_the_models_lines(tmp_path, monkeypatch):
    """A version takes the model's top-level columns (`include: all`) and description:
    their findings pointed at the version's `columns:` or `- v: 1` entry, where
    nothing names them, not at the lines that say them."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_sessions_v1.sql": "select 1 as session_id, 2 as old_col\n",
            "models/marts/fct_sessions_v2.sql": (
                "select 1 as session_id, current_timestamp as started_at\n"
            ),
            "models/marts/_sessions.yml": VERSIONED,
        },
    )
    lines = VERSIONED.splitlines()
    config = only("docs/missing-description").replace(
        "docs/missing-description: error",
        "docs/missing-description: {severity: error, options: {resource_types: [column]}}",
    )
    config = config.replace(
        "docs/placeholder-description: 'off'", "docs/placeholder-description: error"
    )
    got = findings(root, config, tmp_path, monkeypatch)
    uid = "model.shop.fct_sessions"
    where = "models/marts/_sessions.yml:{}".format
    assert sorted(got) == [
        ("docs/missing-description", f"{uid}.v1.old_col", where(lines.index("      - name: old_col") + 1), "error"),
        ("docs/missing-description", f"{uid}.v1.session_id", where(lines.index("      - name: session_id") + 1), "error"),
        ("docs/missing-description", f"{uid}.v2.session_id", where(lines.index("      - name: session_id") + 1), "error"),
        ("docs/missing-description", f"{uid}.v2.started_at", where(lines.index("          - name: started_at") + 1), "error"),
        ("docs/placeholder-description", f"{uid}.v1", where(lines.index("    description: TODO") + 1), "error"),
    ]  # fmt: skip


SUPPRESSED = """\
version: 2
models:
  - name: fct_sessions
    description: One row per web session, stitched from the events.
    config:
      meta:
        normcheck:
          ignore:
            - {rule: docs/missing-description, reason: model b}
            - {rule: docs/placeholder-description, reason: model c}
    versions:
      - v: 1
      - v: 2
        config:
          meta:
            normcheck:
              ignore:
                - {rule: docs/placeholder-description, reason: version a}
"""


def test_a_versions_suppressions_from_the_model_are_at_the_models_lines(tmp_path, monkeypatch):
    """dbt puts a version's own `meta.normcheck.ignore` entries before the model's:
    the model's second entry is v2's third, and each is reported at its own line."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_sessions_v1.sql": "select 1 as session_id\n",
            "models/marts/fct_sessions_v2.sql": "select 1 as session_id\n",
            "models/marts/_sessions.yml": SUPPRESSED,
        },
    )
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    ignored = manifest["nodes"]["model.shop.fct_sessions.v2"]["config"]["meta"]["normcheck"]
    assert [i["reason"] for i in ignored["ignore"]] == ["version a", "model b", "model c"]
    lines = SUPPRESSED.splitlines()
    at = {
        reason: f"models/marts/_sessions.yml:{n + 1}"
        for n, line in enumerate(lines)
        for reason in ("model b", "model c", "version a")
        if f"reason: {reason}}}" in line
    }
    config = only("docs/missing-description", "warning")
    config = config.replace(
        "docs/placeholder-description: 'off'", "docs/placeholder-description: warning"
    )
    got = findings(root, config, tmp_path, monkeypatch)
    unused = sorted(
        (uid, where) for rule, uid, where, _ in got if rule.endswith("unused-suppression")
    )
    uid = "model.shop.fct_sessions"
    assert unused == sorted([
        (f"{uid}.v1", at["model b"]),
        (f"{uid}.v1", at["model c"]),
        (f"{uid}.v2", at["version a"]),
        (f"{uid}.v2", at["model b"]),
        (f"{uid}.v2", at["model c"]),
    ])  # fmt: skip


def test_name_case_points_at_a_macros_own_line_and_a_yaml_snapshots_entry(tmp_path, monkeypatch):
    """A file of several macros put each one's finding at line 1; a snapshot declared
    in YAML (dbt 1.9+) at line 1 of the YAML, not at its entry."""
    macros = "{% macro cents() %}1{% endmacro %}\n\n\n{%- macro toDollars(x) %}\n{{ x }}\n{% endmacro %}\n"
    snapshots = (
        "version: 2\nsnapshots:\n  - name: orders_history\n    relation: ref('stg_orders')\n"
        "    config: {unique_key: id, strategy: check, check_cols: all}\n"
        "  - name: orders__history\n    relation: ref('stg_orders')\n"
        "    config: {unique_key: id, strategy: check, check_cols: all}\n"
    )
    root = build_dbt_project(
        tmp_path,
        {
            "macros/money.sql": macros,
            "snapshots/_snapshots.yml": snapshots,
            "models/staging/stg_orders.sql": "select 1 as id\n",
        },
    )
    config = only("naming/name-case").replace(
        "naming/name-case: error",
        "naming/name-case: {severity: error, options: {pattern: '^[a-z]+(_[a-z]+)*$'}}",
    )
    got = findings(root, config, tmp_path, monkeypatch)
    assert sorted(got) == [
        ("naming/name-case", "macro.shop.toDollars", "macros/money.sql:4", "error"),
        ("naming/name-case", "snapshot.shop.orders__history", "snapshots/_snapshots.yml:6", "error"),
    ]  # fmt: skip


def test_an_exposures_dependency_is_placed_at_the_ref_naming_that_model(tmp_path, monkeypatch):
    """`ref('dim_customers', v=2)` and `ref("dim_customers", v=1)`, or `ref('stg_customers')`
    and `ref('warehouse', 'stg_customers')`: each model's finding was placed at the
    first entry quoting its name, whichever version or package that one names."""
    from dbt.cli.main import dbtRunner

    exposures = """\
version: 2
exposures:
  - name: board
    type: dashboard
    owner: {name: finance}
    depends_on:
      - ref('dim_customers', v=2)
      - ref("dim_customers", v=1)
      - ref('stg_customers')
      - ref('warehouse', 'stg_customers')
      - ref('dim_customers')
"""
    root = build_dbt_project(
        tmp_path,
        {
            "packages.yml": "packages:\n  - local: pkgs/warehouse\n",
            "pkgs/warehouse/dbt_project.yml": (
                'name: warehouse\nversion: "1.0"\nconfig-version: 2\n'
                "models:\n  warehouse:\n    +schema: warehouse\n"
            ),
            "pkgs/warehouse/models/stg_customers.sql": "select 1 as customer_id\n",
            "models/staging/stg_customers.sql": "select 1 as customer_id\n",
            "models/marts/dim_customers_v1.sql": "select 1 as customer_id\n",
            "models/marts/dim_customers_v2.sql": "select 1 as customer_id\n",
            "models/marts/dim_customers_v3.sql": "select 1 as customer_id\n",
            "models/marts/_marts.yml": (
                "version: 2\nmodels:\n  - name: dim_customers\n    latest_version: 2\n"
                "    versions: [{v: 1}, {v: 2}, {v: 3}]\n"
            ),
            "models/_exposures.yml": exposures,
        },
        parse=False,
    )
    for command in ("deps", "parse"):
        flags = ["--project-dir", str(root), "--profiles-dir", str(root), "--quiet"]
        assert dbtRunner().invoke([command, *flags]).success
    monkeypatch.chdir(root)
    config = tmp_path / "normcheck.yml"
    config.write_text(only("governance/exposure-private-dependency"))
    result = run(RunOptions(project_dir=Path(), config=config))
    got = sorted((f.line, f.message.split("`")[3]) for f in result.findings)
    lines = exposures.splitlines()
    assert got == [
        (lines.index("      - ref('dim_customers', v=2)") + 1, "dim_customers v2"),
        (lines.index('      - ref("dim_customers", v=1)') + 1, "dim_customers v1"),
        (lines.index("      - ref('stg_customers')") + 1, "stg_customers"),
        (lines.index("      - ref('warehouse', 'stg_customers')") + 1, "warehouse.stg_customers"),
    ]


def test_a_models_group_owner_is_its_projects_group_not_a_packages_of_that_name(
    tmp_path, monkeypatch
):
    """An installed package with a group of the same name (`finance`) gave every model of
    the root project's group the package's owner: an ownership/unknown-owner error each."""
    from dbt.cli.main import dbtRunner

    root = build_dbt_project(
        tmp_path,
        {
            "packages.yml": "packages:\n  - local: pkgs/warehouse\n",
            "pkgs/warehouse/dbt_project.yml": 'name: warehouse\nversion: "1.0"\nconfig-version: 2\n',
            "pkgs/warehouse/models/_groups.yml": (
                "version: 2\ngroups:\n  - name: finance\n    owner: {name: platform_team}\n"
            ),
            "models/_groups.yml": (
                "version: 2\ngroups:\n  - name: finance\n    owner: {name: finance}\n"
            ),
            "models/marts/fct_revenue.sql": "{{ config(group='finance') }}\nselect 1 as id\n",
        },
        parse=False,
    )
    for command in ("deps", "parse"):
        flags = ["--project-dir", str(root), "--profiles-dir", str(root), "--quiet"]
        assert dbtRunner().invoke([command, *flags]).success
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert sorted(manifest["groups"]) == ["group.shop.finance", "group.warehouse.finance"]
    for rule in ("ownership/unknown-owner", "ownership/missing-owner"):
        assert findings(root, only(rule), tmp_path, monkeypatch) == []


def test_layer_dependency_points_at_the_call_that_reads_the_parent(tmp_path, monkeypatch):
    """dbt's import CTEs name a CTE after what it reads (`with orders as (` above
    `source('shop', 'orders')`): the finding pointed at the first mention of the name,
    and a version's at its model's first `ref()`, not at the one reading it."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/staging/_sources.yml": (
                "version: 2\nsources:\n  - name: shop\n    tables: [{name: orders}]\n"
            ),
            "models/marts/fct_orders.sql": (
                "with orders as (\n\n    select * from {{ source('shop', 'orders') }}\n\n)\n"
                "select * from orders\n"
            ),
            "models/marts/dim_accounts_v1.sql": "select 1 as account_id\n",
            "models/marts/dim_accounts_v2.sql": "select 1 as account_id\n",
            "models/marts/_accounts.yml": (
                "version: 2\nmodels:\n  - name: dim_accounts\n    latest_version: 1\n"
                "    versions: [{v: 1}, {v: 2}]\n"
            ),
            "models/intermediate/int_accounts.sql": (
                "with dim_accounts as (select * from {{ ref('dim_accounts', v=1) }}),\n"
                "next_accounts as (select * from {{ ref('dim_accounts', v=2) }})\n"
                "select * from dim_accounts\n"
            ),
        },
    )
    got = findings(root, only("governance/layer-dependency"), tmp_path, monkeypatch)
    assert sorted((uid, where) for _, uid, where, _ in got) == [
        ("model.shop.fct_orders", "models/marts/fct_orders.sql:3"),
        ("model.shop.int_accounts", "models/intermediate/int_accounts.sql:1"),
        ("model.shop.int_accounts", "models/intermediate/int_accounts.sql:2"),
    ]


def result_project(root: Path):
    from normcheck.artifacts.manifest import load_manifest
    from normcheck.project import build_project

    return build_project(load_manifest(root / "target" / "manifest.json"), None, root)


def test_name_case_examples_keep_the_letters_of_the_name(tmp_path, monkeypatch):
    """The snake_case example dropped non-ASCII letters (`fct_café` -> `fct_caf`).
    Names stay ASCII (an unquoted identifier in most warehouses): an accented letter
    is spelled without its accent, and a name with letters ASCII cannot spell gets
    no example that would drop them."""
    names = ["fct_café", "fct_Crème_Brûlée", "dim_straße", "fct_заказы"]
    root = build_dbt_project(
        tmp_path, {f"models/marts/{name}.sql": "select 1 as id\n" for name in names}
    )
    monkeypatch.chdir(root)
    config = tmp_path / "only.yml"
    config.write_text(only("naming/name-case"))
    result = run(RunOptions(project_dir=Path(), config=config))
    messages = sorted(f.message for f in result.findings)
    assert messages == [
        "model `dim_straße` is not snake_case: rename it (for example `dim_strasse`)",
        "model `fct_Crème_Brûlée` is not snake_case: rename it (for example `fct_creme_brulee`)",
        "model `fct_café` is not snake_case: rename it (for example `fct_cafe`)",
        "model `fct_заказы` is not snake_case: rename it with ASCII letters, digits and `_`",
    ]


def test_layer_dependency_compiles_no_pattern_per_finding(monkeypatch):
    """`_read_at` runs once per finding: a pattern built from each parent's name was
    compiled anew past the `re` module's cache (512), a compile per finding on a large
    project. It reads the calls with patterns compiled once."""
    import re

    from normcheck.checks.governance import layer_dependency as module
    from normcheck.project import Resource

    compiled: list[object] = []
    real = re._compile  # type: ignore[attr-defined]

    def counting(*args: object, **kwargs: object) -> object:
        compiled.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(re, "_compile", counting)
    for i in range(600):
        parent = Resource(
            uid=f"source.shop.shop.orders_{i}",
            type="source",
            name=f"orders_{i}",
            package="shop",
            file="models/_sources.yml",
            source_name="shop",
        )
        code = f"with orders_{i} as (\n  select * from {{{{ source('shop', 'orders_{i}') }}}}\n)\n"
        assert module._read_at(code, parent) == 2
    assert compiled == []


def test_macro_findings_placed_without_a_pattern_per_finding(tmp_path, monkeypatch):
    """A macro's finding is placed at its `{% macro name(` line: a pattern built from
    each macro's name was compiled per finding (past the `re` module's cache of 512,
    anew each time). The file's macros are found with one pattern, once per file."""
    import re

    from normcheck.engine import _Locator
    from normcheck.project import Resource

    names = [f"macro_{i}" for i in range(600)]
    (tmp_path / "macros").mkdir()
    (tmp_path / "macros" / "all.sql").write_text(
        "".join(f"{{% macro {n}(x) %}}\n  {{{{ x }}}}\n{{% endmacro %}}\n" for n in names)
    )
    locator = _Locator(tmp_path, "")
    compiled: list[object] = []
    real = re._compile  # type: ignore[attr-defined]

    def counting(*args: object, **kwargs: object) -> object:
        compiled.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(re, "_compile", counting)
    for i, name in enumerate(names):
        macro = Resource(
            uid=f"macro.shop.{name}",
            type="macro",
            name=name,
            package="shop",
            file="macros/all.sql",
        )
        assert locator.macro_line(macro) == 3 * i + 1
    assert compiled == []
