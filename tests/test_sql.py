"""SQL analysis with real sqlglot (compiled build) and real Jinja, per dialect,
on real dbt projects and on the real corpus manifests."""

from __future__ import annotations

import datetime
import gzip
import json
import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec
import pytest

from conftest import CORPUS, build_dbt_project
from normcheck import _parse_worker, analysis, cache
from normcheck._jinja import Renderer, RenderError
from normcheck._parse_worker import _raw_line, renderer_for
from normcheck.artifacts.manifest import decode_manifest, load_manifest
from normcheck.cli import main
from normcheck.project import build_project
from normcheck.sql import analyse
from normcheck.sqlfacts import (
    UNRESOLVED,
    Item,
    MacroSource,
    ParseContext,
    RenderInput,
    dialect_for,
    parse_relation,
)


def names(sql: str, dialect: str) -> list[tuple[str, str | None, str | None]] | None:
    facts = analyse(sql, dialect)
    assert facts.error is None, facts.error
    return None if facts.items is None else [(i.name, i.type, i.star) for i in facts.items]


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        pytest.param(
            "duckdb",
            "select a, b::timestamp as created, true as ok from t",
            [("a", None, None), ("created", "timestamp", None), ("ok", "boolean", None)],
            id="duckdb casts and literals",
        ),
        pytest.param(
            "duckdb",
            "with x as (select 1 as a, 2 as b) select * exclude (b) from x",
            [("a", None, None)],
            id="duckdb star exclude over a CTE",
        ),
        pytest.param(
            "snowflake",
            "select v:id::varchar as id, iff(a, 1, 0) as flag from t "
            "qualify row_number() over (partition by id order by a) = 1",
            [("id", "varchar", None), ("flag", None, None)],
            id="snowflake variant path, iff and qualify",
        ),
        pytest.param(
            "bigquery",
            "select * except (secret) from `proj.ds.users`",
            [("*", None, "proj.ds.users")],
            id="bigquery backticks and star except",
        ),
        pytest.param(
            "bigquery",
            "select safe_cast(x as date) as day from t",
            [("day", "date", None)],
            id="bigquery safe_cast",
        ),
        pytest.param(
            "postgres",
            "select distinct on (id) id, created::date as created_date from t",
            [("id", None, None), ("created_date", "date", None)],
            id="postgres distinct on and casts",
        ),
        pytest.param(
            "duckdb",
            "select a from t union all select b from u",
            [("a", None, None)],
            id="a union takes the first branch's names",
        ),
        pytest.param(
            "duckdb",
            "select count(*) from t",
            None,
            id="an unnamed expression makes the output unknown",
        ),
        *[
            pytest.param(dialect, sql, None, id=f"{dialect} names {sql} its own way")
            for dialect, sql in [
                ("duckdb", "select a, x::date from t"),
                ("snowflake", "select a, SIGNUP_TS::date from t"),
                ("snowflake", "select a, payload:plan from t"),
                ("databricks", "select a, cast(x as date) from t"),
                ("bigquery", "select a, arr[offset(0)] from t"),
                ("postgres", "select a, payload ->> 'email' from t"),
                ("duckdb", "select a, 1 from t"),
            ]
        ],
        pytest.param(
            "postgres",
            "select x::date, cast(t.Y as int), t.z from t",
            [("x", "date", None), ("y", "int", None), ("z", None, None)],
            id="postgres names a cast column after the column",
        ),
        pytest.param(
            "bigquery",
            "select s.a.b, t.c from t",
            [("b", None, None), ("c", None, None)],
            id="bigquery names a struct field after the field",
        ),
        pytest.param(
            "duckdb",
            "select t.*, u.x from t join u on t.id = u.id",
            [("*", None, "t"), ("x", None, None)],
            id="a qualified star",
        ),
        pytest.param(
            "duckdb",
            "select * from (select 1 as a) sub",
            [("a", None, None)],
            id="a star over a subquery",
        ),
        pytest.param(
            "duckdb",
            "with recursive r as (select 1 as n union all select n + 1 from r) select * from r",
            [("n", None, None)],
            id="a recursive CTE",
        ),
        pytest.param(
            "duckdb",
            "select a > 1 as big, (a is null) as gone, not a as off, a in (1, 2) as one_two, "
            "a between 1 and 2 as near, exists (select 1) as any_rows, a = b and c as both_, "
            "strptime(a, '%Y') as parsed, current_date as today, date_trunc('day', a) as day "
            "from t",
            [
                *[
                    (name, "boolean", None)
                    for name in ("big", "gone", "off", "one_two", "near", "any_rows", "both_")
                ],
                ("parsed", "timestamp", None),
                ("today", "date", None),
                ("day", None, None),  # a date or a timestamp, as the argument is
            ],
            id="duckdb predicates and date functions",
        ),
        pytest.param(
            "duckdb",
            "select case when a then true end as c1, "
            "case when a then true when b then false else null end as c2, "
            "case when a then 1 else false end as c3, case when a then x else false end as c4, "
            "case when a then current_date else current_timestamp end as c5 from t",
            [
                ("c1", "boolean", None),
                ("c2", "boolean", None),
                ("c3", None, None),
                ("c4", None, None),  # x: unknown, so the whole is not guessed
                ("c5", None, None),
            ],
            id="a CASE has a type when all its results share it",
        ),
        pytest.param(
            "snowflake",
            "select to_date(a) as d, sysdate() as s, iff(a > 1, true, false) as f, "
            "a rlike 'x' as r, a ilike 'x%' as l from t",
            [
                ("d", "date", None),
                ("s", "timestamp", None),
                ("f", "boolean", None),
                ("r", "boolean", None),
                ("l", "boolean", None),
            ],
            id="snowflake to_date, sysdate, iff and rlike",
        ),
        pytest.param(
            "bigquery",
            "select date(ts) as d, timestamp(s) as t, current_datetime() as n, "
            "starts_with(s, 'x') as sw, logical_or(b) as lo from t",
            [
                ("d", "date", None),
                ("t", "timestamp", None),
                ("n", "datetime", None),
                ("sw", "boolean", None),
                ("lo", "boolean", None),
            ],
            id="bigquery date, timestamp, current_datetime and boolean functions",
        ),
        pytest.param(
            "postgres",
            "select a ~ 'x' as r, a is not null as nn, to_date(a, 'YYYY') as d, now() as n from t",
            [
                ("r", "boolean", None),
                ("nn", "boolean", None),
                ("d", "date", None),
                ("n", "timestamp", None),
            ],
            id="postgres regex match, is not null, to_date and now",
        ),
        pytest.param(
            "duckdb",
            "with c as (select x::date as d, a > 1 as big, y from t), e as (select d from c) "
            "select e.d as day, big, s.at, y from e, c, (select now()::timestamp as at) s",
            # `big` unqualified over three sources: from which one is not known here
            [
                ("day", "date", None),
                ("big", None, None),
                ("at", "timestamp", None),
                ("y", None, None),
            ],
            id="a column passed on from a CTE or subquery keeps its type",
        ),
        pytest.param(
            "snowflake",
            "with c as (select *, x::date as d from t) select d, c.D as d2 from c",
            [("d", None, None), ("d2", None, None)],  # `t`'s columns may hold another `d`
            id="not through a CTE whose star may hide the column",
        ),
        pytest.param(
            "bigquery",
            "with c as (select safe_cast(x as timestamp) as Seen from t) select SEEN from c",
            [("SEEN", "timestamp", None)],
            id="names match as the warehouse matches them, case-blind",
        ),
        pytest.param(
            "postgres",
            'select ORDER_ID, CUSTOMER_ID as BUYER_ID, "MixedCase", "UPPER" from t',
            [
                ("order_id", None, None),
                ("buyer_id", None, None),
                ("MixedCase", None, None),
                ("UPPER", None, None),
            ],
            id="postgres stores unquoted names in lower case; quoted ones as written",
        ),
        pytest.param(
            "postgres",
            "select OrderTotal from t",
            [("OrderTotal", None, None)],
            id="a mixed-case name keeps the words it meant, for the naming rules",
        ),
        pytest.param(
            "",
            "select ORDER_ID from t",
            [("ORDER_ID", None, None)],
            id="an unknown warehouse: no guess at its folding",
        ),
        pytest.param(
            "snowflake",
            'select ORDER_ID, "Quoted" from t',
            [("order_id", None, None), ("Quoted", None, None)],
            id="snowflake folds unquoted names too (dbt's YAML spells them in lower case)",
        ),
        pytest.param(
            "snowflake",
            'select "ID" as "CUSTOMER_ID", "EMAIL", "MixedCase", "TWO WORDS" from t',
            [
                ("customer_id", None, None),
                ("email", None, None),
                ("MixedCase", None, None),
                ("TWO WORDS", None, None),
            ],
            id="snowflake: a quoted upper-case name is the unquoted one",
        ),
        pytest.param(
            "duckdb",
            "select ORDER_ID from t",
            [("ORDER_ID", None, None)],
            id="duckdb keeps a name as written",
        ),
        pytest.param(
            "duckdb",
            "select * exclude (reason) from (values (1, 'a', 'b')) as v (id, Reason, kind)",
            [("id", None, None), ("kind", None, None)],
            id="a star over a VALUES list its alias names",
        ),
        pytest.param(
            "postgres",
            'select v.* from (values (1, 2)) as v (ID, "KEEP")',
            [("id", None, None), ("KEEP", None, None)],
            id="the names a VALUES alias gives, folded unless quoted",
        ),
        pytest.param(
            "postgres",
            "select * from (values (1, 2, 3)) as v (a, b)",
            None,
            id="a VALUES alias naming fewer columns than it has: not known",
        ),
        pytest.param(
            "duckdb",
            "select * from (values (1))",
            None,
            id="a VALUES list without names: its output is not known",
        ),
        pytest.param(
            "mysql",
            "select match (a) against ('x') as score from t",
            [("score", None, None)],
            id="mysql match against is a relevance score, not a boolean",
        ),
        pytest.param(
            "duckdb",
            "with c as (select 1 as order_id, 2 as amount, 3 as x) "
            "select * exclude (x) rename (amount as order_amount) from c",
            [("order_id", None, None), ("order_amount", None, None)],
            id="a star's rename renames the column where it is",
        ),
        pytest.param(
            "snowflake",
            "select * rename (amount as AMOUNT_USD) from stg",
            [("*", None, "stg"), ("amount_usd", None, None)],
            id="a rename over a relation's star: the new name after it",
        ),
        pytest.param(
            "snowflake",
            "select * ilike '%_id' from stg",
            None,
            id="a star's ilike keeps the names that match: not known",
        ),
        pytest.param(
            "snowflake",
            "select * from stg pivot (sum(amount) for status in ('paid', 'refunded')) "
            "as p (order_id, paid_amount, refunded_amount)",
            None,
            id="a star over a pivot: not known",
        ),
        pytest.param(
            "databricks",
            "select * from (select k, v from t) unpivot (v for k in (a, b))",
            None,
            id="a star over an unpivoted subquery: not known",
        ),
        pytest.param(
            "duckdb",
            "select * from stg as s (id, customer)",
            None,
            id="a star over a table whose alias renames its columns: not known",
        ),
        pytest.param(
            "duckdb",
            "select order_id, amount from a union all by name "
            "select order_id, customer_id, AMOUNT from b",
            [("order_id", None, None), ("amount", None, None), ("customer_id", None, None)],
            id="a union by name has both sides' names",
        ),
        pytest.param(
            "duckdb",
            "select order_id from a union by name select * from b",
            None,
            id="a union by name over a star: not known",
        ),
        pytest.param(
            "bigquery",
            "select a, c from x left outer union all by name select b, a from y",
            [("a", None, None), ("c", None, None)],
            id="bigquery's left union by name has the left side's names",
        ),
        pytest.param(
            "bigquery",
            "select a, c from x full union all by name select b, a from y",
            [("a", None, None), ("c", None, None), ("b", None, None)],
            id="bigquery's full union by name has both sides' names",
        ),
        pytest.param(
            "bigquery",
            "select a, c, b from x inner union all by name select b, a from y",
            [("a", None, None), ("b", None, None)],
            id="bigquery's inner union by name has the names both sides share",
        ),
        pytest.param(
            "bigquery",
            "select a, c from x union all corresponding select c from y",
            [("c", None, None)],
            id="bigquery's corresponding is an inner union by name",
        ),
        pytest.param(
            "bigquery",
            "select a, c from x full union all by name on (a) select a from y",
            None,
            id="bigquery's union by name on a column list: not known",
        ),
    ],
)
def test_output_columns_per_dialect(dialect, sql, expected):
    assert names(sql, dialect) == expected


def test_a_rename_takes_the_old_name_out_of_the_relations_star():
    facts = analyse("select * exclude (x) rename (amount as order_amount) from stg", "duckdb")
    assert [(i.name, i.star, i.excluded) for i in facts.items or ()] == [
        ("*", "stg", ["x", "amount"]),
        ("order_amount", None, []),
    ]


def test_tables_star_and_comparisons():
    facts = analyse(
        'with o as (select * from "db"."main"."orders") '
        "select o.id from o join raw.payments p on p.id = o.id "
        "where o.event = 'Order Completed' or o.event in ('Cart Viewed', 'Checkout Started')",
        "duckdb",
    )
    assert facts.tables == ["db.main.orders", "raw.payments"]
    assert facts.star is False
    assert facts.comparisons == {"event": ["Cart Viewed", "Checkout Started", "Order Completed"]}


@pytest.mark.parametrize("dialect", ["bigquery", "redshift"])
def test_an_array_path_of_an_enclosing_source_is_not_a_relation_read(dialect):
    """`o.line_items` in a subquery over `... as o`: the array column of `o`,
    not the relation; a two-part name in a CTE, or one whose first part is no
    enclosing source, or with a catalog, is still read."""
    facts = analyse(
        "with c as (select * from o.items)\n"
        "select (select count(*) from o.line_items) as n,\n"
        "  exists(select 1 from o.line_items as li where li.quantity > 10) as bulk,\n"
        "  (select max(x) from raw.other) as m, (select 1 from p.o.t) as q\n"
        "from db.shop.orders as o join c on true",
        dialect,
    )
    assert facts.tables == ["db.shop.orders", "o.items", "p.o.t", "raw.other"]
    assert (
        "o.line_items"
        in analyse("select (select 1 from o.line_items) as n from t o", "duckdb").tables
    )


def test_snowflakes_identifier_of_a_literal_reads_the_relation_it_names():
    facts = analyse(
        "with c as (select 1 as a)\nselect * from identifier('raw.shop.orders') o\n"
        "join identifier($name) x on true\njoin identifier('\"Raw\".s.t') y on true\n"
        "join identifier('c') z on true",
        "snowflake",
    )
    assert facts.tables == ["raw.s.t", "raw.shop.orders"]
    assert facts.table_lines == {"raw.s.t": 4, "raw.shop.orders": 2}


@pytest.mark.parametrize("dialect", ["databricks", "spark"])
def test_databricks_identifier_clause_reads_the_relation_it_names(dialect: str) -> None:
    facts = analyse(
        "with c as (select 1 as a)\nselect * from identifier('raw.shop.orders') o\n"
        "join identifier(:name) x on true\njoin IDENTIFIER('`Raw`.s.t') y on true\n"
        "join identifier('c') z on true",
        dialect,
    )
    assert facts.tables == ["raw.s.t", "raw.shop.orders"]
    assert facts.table_lines == {"raw.s.t": 4, "raw.shop.orders": 2}
    # elsewhere a function of that name is no relation read by name
    assert analyse("select * from identifier('raw.shop.orders')", "duckdb").tables == []


def test_final_star_over_an_upstream_relation_counts_but_not_over_a_named_cte():
    assert analyse("select * from upstream", "duckdb").star is True
    assert analyse("select * from (values (1)) as v (a)", "duckdb").star is False
    assert analyse("with f as (select 1 as a) select * from f", "duckdb").star is False
    assert analyse("with f as (select * from up) select * from f", "duckdb").star is True


@pytest.mark.parametrize(
    ("sql", "line", "needle"),
    [
        pytest.param(
            "select a\nfrom t\nwhere (",
            3,
            "incomplete `paren` expression",
            id="unbalanced parenthesis",
        ),
        pytest.param("select a,\n  b c d\nfrom t", 2, "Invalid expression", id="unexpected token"),
        pytest.param("", None, "no SQL statement", id="empty SQL"),
        pytest.param("select 'unterminated", None, "", id="a token error"),
    ],
)
def test_unparsable_sql_is_a_fact_not_a_crash(sql, line, needle):
    facts = analyse(sql, "duckdb")
    assert facts.error is not None
    assert needle in facts.error
    assert "sqlglot" not in facts.error
    if line is not None:
        assert facts.error_line == line


def test_items_and_tables_know_their_lines():
    """Where the select names a column (not where the word first appears), where
    a star is, and where each table is first read."""
    facts = analyse(
        "with c as (\n  select * from raw.orders\n)\nselect\n"
        "  case when n > 1 then 1 end as flag,\n  n,\n  c.*\n"
        "from c\njoin raw.customer k on k.id = c.id\njoin raw.orders o2 on true",
        "duckdb",
    )
    assert [(i.name, i.star, i.line) for i in facts.items or ()] == [
        ("flag", None, 5),
        ("n", None, 6),
        ("*", "raw.orders", 7),  # the line of `c.*`, which brings the CTE's star out
    ]
    assert facts.table_lines == {"raw.customer": 9, "raw.orders": 2}


def test_a_parse_error_is_on_the_nearest_line_of_the_model_with_its_text():
    raw = "with a as (\n  select 1 from {{ ref('x') }}\n)\n{# note #}\nselect (\n)\n"
    rendered = "with a as (\n  select 1 from x\n)\n\nselect (\n)\n"
    assert _raw_line(rendered, 6, raw) == 6  # `)` is on lines 3 and 6: the same line
    assert _raw_line(rendered, 5, raw.replace("{# note #}\n", "")) == 4  # moved up by one
    assert _raw_line(rendered, 2, raw) is None  # rendered text the model file does not have


def test_deep_nesting_is_a_fact():
    facts = analyse("select " + "(" * 3000 + "1" + ")" * 3000, "duckdb")
    assert facts.error is not None or facts.items is not None


_GOOD = (
    "with a as (select 1 as x) select x, 'y' as z from a join raw.b on a.x = b.x where b.k = 'v'"
)


def test_a_reused_parser_forgets_the_statement_before():
    """One tokenizer and parser per dialect serve every model: what a failed
    or nested statement left in them never reaches the next model's facts."""
    first = analyse(_GOOD, "duckdb")
    assert first.error is None
    assert [i.name for i in first.items or ()] == ["x", "z"]
    assert first.tables == ["raw.b"]
    for bad in ("select a\nfrom t\nwhere (", "select 'unterminated", "select (" * 3000):
        assert analyse(bad, "duckdb").error is not None
        assert analyse(_GOOD, "duckdb") == first
    # each dialect its own: BigQuery's backquoted names are not DuckDB's
    backquoted = "select `x` from `p.d.t`"
    assert analyse(backquoted, "bigquery").tables == ["p.d.t"]
    assert analyse(backquoted, "duckdb").tables != ["p.d.t"]
    assert analyse(_GOOD, "duckdb") == first


def test_a_parsed_tree_is_freed_without_the_cycle_collector():
    """The parse workers keep the collector off: each tree is taken apart once
    its facts are out, so reference counting frees it and its memory is reused
    by the next model instead of growing by 77 KB a model."""
    import gc

    analyse("select 1", "duckdb")  # sqlglot's own first-use caches built
    sql = (
        "with a as (select 1 as x, cast(y as varchar) as z from raw.t where k in ('a', 'b'))\n"
        "select x, z, t.* replace ((select 1) as q), sum(x) over (partition by z) as w\n"
        "from a join s.t t on a.x = t.x where t.e = 'v' union all select 1, 2, 3, 4, 5"
    )
    gc.collect()
    gc.disable()
    try:
        facts = analyse(sql, "duckdb")
        left = gc.collect()
    finally:
        gc.enable()
    assert facts.error is None and facts.tables == ["raw.t", "s.t"]
    assert left == 0


def test_threads_parse_with_parsers_of_their_own():
    statements = [
        f"select c{i}, cast(d as int) as e{i} from s{i}.t{i} where k = 'v{i}'" for i in range(300)
    ]
    expected = [analyse(sql, "duckdb") for sql in statements]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(analyse, statements, ["duckdb"] * len(statements))) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("duckdb", "duckdb"),
        ("sqlserver", "tsql"),
        ("SNOWFLAKE", "snowflake"),
        (None, ""),
        ("tsql", "tsql"),
        ("unknown-adapter", ""),
    ],
)
def test_dialect_for_adapter(name, expected):
    assert dialect_for(name) == expected


def test_parse_relation_normalises_quoting():
    assert parse_relation('"Memory"."main"."Orders"') == "memory.main.orders"
    assert parse_relation("`proj`.`ds`.`t`") == "proj.ds.t"
    assert parse_relation("[db].[dbo].[t]") == "db.dbo.t"
    assert parse_relation("plain") == "plain"


def renderer(macros: list[MacroSource], variables: dict[str, object] | None = None) -> Renderer:
    refs = {
        (None, "stg_orders", None): '"db"."main"."stg_orders"',
        ("source:shop", "orders", None): '"db"."raw"."orders"',
    }
    return Renderer("shop", "duckdb", macros, variables or {}, refs)


def render(code: str, macros: list[MacroSource] | None = None, **variables: object) -> str:
    model = RenderInput("m", "shop", code, {"materialized": "table"}, '"db"."main"."m"')
    return renderer(macros or [], variables).render(model)


def test_simple_models_render_by_substitution_keeping_lines():
    code = "{{ config(\n  materialized='table'\n) }}\nselect * from {{ ref('stg_orders') }}\n"
    assert render(code) == '\n\n\nselect * from "db"."main"."stg_orders"\n'
    assert render('select \'{{ var("start", "2020-01-01") }}\' as s') == "select '2020-01-01' as s"
    assert render("select {{ var('x') }} as v", x=5) == "select 5 as v"
    assert render("select * from {{ source('shop', 'orders') }} {# note #}") == (
        'select * from "db"."raw"."orders" '
    )


def test_macros_dispatch_and_return_like_dbt():
    macros = [
        MacroSource(
            "dbt",
            "type_string",
            "{% macro type_string() %}"
            "{{ return(adapter.dispatch('type_string', 'dbt')()) }}{% endmacro %}",
        ),
        MacroSource(
            "dbt",
            "default__type_string",
            "{% macro default__type_string() %}"
            "{{ return(api.Column.translate_type('string')) }}{% endmacro %}",
        ),
        MacroSource(
            "dbt", "duckdb__type_string", "{% macro duckdb__type_string() %}varchar{% endmacro %}"
        ),
        MacroSource("shop", "cents", "{% macro cents(col) %}({{ col }} * 100){% endmacro %}"),
        MacroSource(
            "dbt_utils",
            "star",
            "{% macro star(from) %}{% if not execute %}"
            "{{ return('*') }}{% endif %}a, b{% endmacro %}",
        ),
        MacroSource("shop", "broken", "{% macro broken( %}"),
    ]
    code = (
        "{% set cols = ['a', 'b'] %}"
        "select cast(x as {{ dbt.type_string() }}) as s, {{ cents('amount') }} as c, "
        "{{ dbt_utils.star(ref('stg_orders')) }}, {{ unknown_macro(1) }} as u, "
        "{{ broken() }} as b, {{ env_var('HOME', 'h') }} as e "
        "{% if is_incremental() %}where 1 = 0{% endif %}"
        "from {{ this }}"
    )
    assert render(code, macros) == (
        "select cast(x as varchar) as s, (amount * 100) as c, *, NULL as u, NULL as b, h as e "
        'from "db"."main"."m"'
    )


def test_the_renderer_says_which_names_it_answers_itself_whatever_the_macros():
    macros = [
        MacroSource("shop", name, "{% macro " + name + "() %}x{% endmacro %}")
        for name in ("ref", "is_incremental", "env_var", "cents")
    ]
    renderer = Renderer("shop", "duckdb", macros, {}, {})
    for name in ("ref", "source", "var", "config", "this", "is_incremental", "env_var", "log"):
        assert renderer.provides(name), name
    for name in ("cents", "unknown_macro"):
        assert not renderer.provides(name), name


def test_render_errors_are_reported_not_raised_as_crashes():
    with pytest.raises(RenderError, match="Jinja syntax error at line 1"):
        render("select {% if %}")
    with pytest.raises(RenderError, match="stop here"):
        render("{{ exceptions.raise_compiler_error('stop here') }}")


def unpack(path: Path, tmp: Path) -> Path:
    out = tmp / "manifest.json"
    out.write_bytes(gzip.decompress(path.read_bytes()))
    return out


@pytest.mark.parametrize("name", ["ol-data-platform", "tuva"])
def test_corpus_coverage_is_at_least_95_percent(name, tmp_path):
    manifest = load_manifest(unpack(CORPUS / "dbt" / name / "manifest.json.gz", tmp_path))
    project = build_project(manifest, None, tmp_path)
    result = analysis.analyse_project(project, None, None)
    coverage = result.coverage()
    assert coverage.models == sum(
        1 for r in project.of_type("model") if project.owned(r) and r.language == "sql"
    )
    assert coverage.share >= 0.95, f"{coverage.parsed}/{coverage.models}"


def test_sql_facts_are_cached_per_model(tmp_path, monkeypatch):
    project_dir = build_dbt_project(
        tmp_path,
        {"models/marts/fct_a.sql": "select 1 as a\n", "models/marts/fct_b.sql": "select 2 as b\n"},
    )
    project = build_project(load_manifest(project_dir / "target/manifest.json"), None, project_dir)
    cache_file = tmp_path / "sql.msgpack"
    first = analysis.analyse_project(project, None, cache_file, workers=1)
    calls: list[str] = []
    real = _parse_worker.work

    def counted(job, dialect, renderer):
        calls.append(job[0])
        return real(job, dialect, renderer)

    monkeypatch.setattr(_parse_worker, "work", counted)
    second = analysis.analyse_project(project, None, cache_file, workers=1)
    assert calls == []
    assert second.facts == first.facts
    changed = {
        uid: (
            r
            if r.name != "fct_b"
            else type(r)(
                **{**{f: getattr(r, f) for f in r.__struct_fields__}, "raw_code": "select 3 as b\n"}
            )
        )
        for uid, r in project.resources.items()
    }
    from dataclasses import replace

    analysis.analyse_project(replace(project, resources=changed), None, cache_file, workers=1)
    assert calls == ["model.shop.fct_b"]
    # what every model's rendering reads: a macro, a relation ref() renders to, a var
    both = ["model.shop.fct_a", "model.shop.fct_b"]
    macro = type(project.macros[0])("shop", "cents", "{% macro cents(c) %}{{ c }}{% endmacro %}")
    moved = {
        uid: msgspec.structs.replace(r, relation=f'"elsewhere"."{r.name}"')
        if r.name == "fct_a"
        else r
        for uid, r in project.resources.items()
    }
    for variant in (
        replace(project, macros=(*project.macros, macro)),
        replace(project, resources=moved),
    ):
        analysis.analyse_project(project, None, cache_file, workers=1)  # the cache primed
        calls.clear()
        analysis.analyse_project(variant, None, cache_file, workers=1)
        assert sorted(calls) == both
    # normcheck's own code: another analysis may find other facts in the same SQL
    analysis.analyse_project(project, None, cache_file, workers=1)
    calls.clear()
    monkeypatch.setattr(cache, "code_identity", lambda: "another normcheck")
    analysis.analyse_project(project, None, cache_file, workers=1)
    assert sorted(calls) == both
    analysis.analyse_project(project, None, cache_file, workers=1)
    calls.clear()
    with (project_dir / "dbt_project.yml").open("a") as f:
        f.write("vars:\n  start: '2024-01-01'\n")
    analysis.analyse_project(project, None, cache_file, workers=1)
    assert sorted(calls) == both


def test_facts_cached_with_another_sqlglot_or_python_are_parsed_again(tmp_path, monkeypatch):
    """A sqlglot upgrade (`sqlglot>=30`: any later one; `pip install -U`) parses SQL
    otherwise, and another Python may too: the facts and findings the cache kept
    from before were reused, as normcheck's own code was all its key held of the
    code, until the manifest changed."""
    import importlib.util
    import sys

    project_dir = build_dbt_project(
        tmp_path,
        {"models/marts/fct_a.sql": "select 1 as a\n", "models/marts/fct_b.sql": "select 2 as b\n"},
    )
    project = build_project(load_manifest(project_dir / "target/manifest.json"), None, project_dir)
    cache_file = tmp_path / "sql.msgpack"
    calls: list[str] = []
    real = _parse_worker.work

    def counted(job, dialect, renderer):
        calls.append(job[0])
        return real(job, dialect, renderer)

    monkeypatch.setattr(_parse_worker, "work", counted)
    both = ["model.shop.fct_a", "model.shop.fct_b"]
    elsewhere = tmp_path / "site-packages" / "sqlglot" / "__init__.py"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_text("__version__ = '99.0.0'\n")
    found = importlib.util.find_spec

    def another_sqlglot(name, *args):
        if name == "sqlglot":
            return importlib.util.spec_from_file_location("sqlglot", elsewhere)
        return found(name, *args)

    upgrades = [
        lambda: monkeypatch.setattr(importlib.util, "find_spec", another_sqlglot),
        lambda: monkeypatch.setattr(sys, "version", "3.99.0 (another Python)"),
    ]
    try:
        for upgrade in upgrades:
            cache.code_identity.cache_clear()
            analysis.analyse_project(project, None, cache_file, workers=1)  # the cache primed
            calls.clear()
            upgrade()
            cache.code_identity.cache_clear()
            analysis.analyse_project(project, None, cache_file, workers=1)
            assert sorted(calls) == both
            monkeypatch.undo()
            monkeypatch.setattr(_parse_worker, "work", counted)
    finally:
        monkeypatch.undo()
        cache.code_identity.cache_clear()


def test_sql_facts_cache_holds_what_rendering_reads(tmp_path):
    """A model's Jinja may branch on its materialization or the adapter (`target.type`),
    neither in its code: facts cached for one are not reused for the other (a warm run
    reported a column of a branch no longer taken, a cold run did not)."""
    project_dir = build_dbt_project(
        tmp_path,
        {
            "models/fct_a.sql": (
                "select 1 as a\n"
                "{% if config.get('materialized') == 'table' %}, 2 as in_tables{% endif %}\n"
                "{% if target.type == 'duckdb' %}, 3 as on_duckdb{% endif %}\n"
            )
        },
    )
    project = build_project(load_manifest(project_dir / "target/manifest.json"), None, project_dir)
    cache_file = tmp_path / "sql.msgpack"

    def columns(variant, cache_file):
        facts = analysis.analyse_project(variant, "duckdb", cache_file, workers=1).facts
        return [item.name for item in facts["model.shop.fct_a"].items or ()]

    assert columns(project, cache_file) == ["a", "on_duckdb"]  # a view, on DuckDB
    as_table = replace(
        project,
        resources={
            uid: msgspec.structs.replace(r, materialized="table") if r.name == "fct_a" else r
            for uid, r in project.resources.items()
        },
    )
    assert (
        columns(as_table, cache_file) == columns(as_table, None) == ["a", "in_tables", "on_duckdb"]
    )
    assert columns(project, cache_file) == ["a", "on_duckdb"]  # cached again
    on_postgres = replace(project, adapter="postgres")  # `dialect:` set: the same dialect
    assert columns(on_postgres, cache_file) == columns(on_postgres, None) == ["a"]


SQL_PROJECT = {
    "models/staging/_sources.yml": (
        "version: 2\nsources:\n  - name: shop\n    tables:\n      - name: orders\n"
        "        columns: [{name: id}, {name: amt}, {name: created}]\n"
    ),
    "models/staging/stg_orders.sql": (
        "select id as order_id, amt, created::timestamp as created, true as paid\n"
        "from {{ source('shop', 'orders') }}\n"
    ),
    "models/staging/stg_raw.sql": "select * from {{ source('shop', 'orders') }}\n",
    "models/marts/fct_orders.sql": (
        "with o as (\n  select * from {{ ref('stg_orders') }}\n)\n"
        'select o.*, 1 as "lineCount"\nfrom o\njoin analytics.payments p on p.id = o.order_id\n'
    ),
    "models/marts/fct_stars.sql": "select * from {{ ref('stg_raw') }}\n",
    "models/marts/fct_broken.sql": (
        "-- normcheck: ignore[sql/hardcoded-relation] a reason\nselect (1 from x\n"
    ),
    "models/marts/_marts.yml": (
        "version: 2\nmodels:\n  - name: fct_orders\n    columns:\n      - name: order_id\n"
        "      - name: discount\n"
    ),
}


def test_sql_rules_on_a_real_project(tmp_path, monkeypatch, capsys):
    root = build_dbt_project(tmp_path, SQL_PROJECT)
    (root / "normcheck.yml").write_text(
        "version: 1\nextends: [normcheck:recommended]\n"
        "vocabulary: {preferred: {amt: amount}}\nrules:\n"
        "  governance/group-required: 'off'\n  ownership/missing-owner: 'off'\n"
        "  docs/missing-description: 'off'\n  governance/layer-dependency: 'off'\n"
    )
    monkeypatch.chdir(root)
    code = main(["check", "--format", "json", "--parse", "never", "--statistics"])
    out, err = capsys.readouterr()
    got = sorted(
        (f["rule"], f["resource"], f"{f['file']}:{f['line']}") for f in json.loads(out)["findings"]
    )
    assert got == sorted(
        [
            ("sql/parse-error", "model.shop.fct_broken", "models/marts/fct_broken.sql:2"),
            (
                "normcheck/unused-suppression",
                "model.shop.fct_broken",
                "models/marts/fct_broken.sql:1",
            ),
            ("sql/hardcoded-relation", "model.shop.fct_orders", "models/marts/fct_orders.sql:6"),
            ("sql/missing-column", "model.shop.fct_orders.discount", "models/marts/_marts.yml:6"),
            ("sql/select-star", "model.shop.fct_orders", "models/marts/fct_orders.sql:4"),
            ("sql/select-star", "model.shop.fct_stars", "models/marts/fct_stars.sql:1"),
            # `o.*` resolves through the CTE to stg_orders' output; `*` to stg_raw's, to the source
            # on the line of the star that brings them (`o.*`)
            *[
                (
                    "sql/undocumented-column",
                    f"model.shop.fct_orders.{c}",
                    "models/marts/fct_orders.sql:4",
                )
                for c in ("amt", "created", "paid")
            ],
            (
                "sql/undocumented-column",
                "model.shop.fct_orders.lineCount",
                "models/marts/fct_orders.sql:4",
            ),
            # `*` over stg_raw, a `*` over a source whose YAML lists some columns (not
            # all the table has, as far as anyone knows): unknown, so silent
            # SQL-derived columns meet the column rules too, with types from casts and literals
            (
                "naming/column-case",
                "model.shop.fct_orders.lineCount",
                "models/marts/fct_orders.sql:4",
            ),
            (
                "naming/column-type-suffix",
                "model.shop.stg_orders.created",
                "models/staging/stg_orders.sql:1",
            ),
            (
                "naming/column-type-suffix",
                "model.shop.stg_orders.paid",
                "models/staging/stg_orders.sql:1",
            ),
            (
                "naming/column-type-suffix",
                "model.shop.fct_orders.created",
                "models/marts/fct_orders.sql:4",
            ),
            (
                "naming/column-type-suffix",
                "model.shop.fct_orders.paid",
                "models/marts/fct_orders.sql:4",
            ),
            ("naming/vocabulary", "source.shop.shop.orders.amt", "models/staging/_sources.yml:6"),
            ("naming/vocabulary", "model.shop.stg_orders.amt", "models/staging/stg_orders.sql:1"),
            ("naming/vocabulary", "model.shop.fct_orders.amt", "models/marts/fct_orders.sql:4"),
        ]
    )
    assert "SQL parsed          4 of 5 models (80.0%)" in err
    assert code == 1


def test_what_dbt_rendered_is_judged_where_the_model_file_has_it(tmp_path, monkeypatch, capsys):
    """A branch taken as dbt took it, by a variable scoped to the project; a
    source() in the other branch, which the manifest does not know, is no
    hard-coded relation; each finding on the line that makes it, not where the
    word first appears; a star over a VALUES list whose alias names its columns
    is neither a star interface nor an unknown output."""
    files = {
        "dbt_project.yml": (
            "name: shop\nversion: '1.0'\nprofile: shop\n"
            "vars:\n  use_live: true\n  shop:\n    use_live: false\n"
        ),
        "models/staging/_sources.yml": (
            "version: 2\nsources:\n  - name: shop\n    tables: [{name: orders}]\n"
        ),
        "models/staging/stg_orders.sql": (
            "select 1 as order_id, 2 as customer_id from {{ source('shop', 'orders') }}\n"
        ),
        # the project's own `use_live` (false) wins over the global one: the second branch
        "models/marts/fct_branch.sql": (
            "{% if var('use_live') %}\nselect order_id as live_id from {{ ref('stg_orders') }}\n"
            "{% else %}\nselect order_id from {{ ref('stg_orders') }}\n{% endif %}\n"
        ),
        # dbt parsed with DBT_LIVE empty; normcheck's env_var() gives the name, so it
        # takes the first branch, whose source dbt never looked up
        "models/marts/fct_env.sql": (
            "{% if env_var('DBT_LIVE') %}\nselect 1 as id from {{ source('shop', 'orders_live') }}"
            "\n{% else %}\nselect 1 as id\n{% endif %}\n"
        ),
        "models/marts/fct_lines.sql": (
            "select\n  case when order_id > 3 then 1 end as big,\n  customer_id,\n"
            "  order_id\nfrom {{ ref('stg_orders') }}\njoin raw.customer c on c.id = customer_id\n"
        ),
        "models/marts/fct_values.sql": (
            "select * from (values (1, 'a')) as overrides (order_id, reason)\n"
        ),
        "models/marts/_marts.yml": (
            "version: 2\nmodels:\n  - name: fct_lines\n    columns: [{name: big}]\n"
            "  - name: fct_branch\n    columns: [{name: order_id}]\n"
            "  - name: fct_env\n    columns: [{name: id}]\n"
            "  - name: fct_values\n    columns: [{name: order_id}, {name: reason}, "
            "{name: not_there}]\n"
        ),
    }
    monkeypatch.setenv("DBT_LIVE", "")
    root = build_dbt_project(tmp_path, files)
    monkeypatch.delenv("DBT_LIVE")
    (root / "normcheck.yml").write_text("version: 1\nextends: [normcheck:recommended]\n")
    monkeypatch.chdir(root)
    assert main(["check", "--format", "json", "--parse", "never", "--select", "sql"]) == 1
    got = sorted(
        (f["rule"], f["resource"], f["line"])
        for f in json.loads(capsys.readouterr().out)["findings"]
        if "fct_" in f["resource"]
    )
    assert got == [
        ("sql/hardcoded-relation", "model.shop.fct_lines", 6),  # not line 3, `customer_id`
        ("sql/missing-column", "model.shop.fct_values.not_there", 10),
        ("sql/undocumented-column", "model.shop.fct_lines.customer_id", 3),
        ("sql/undocumented-column", "model.shop.fct_lines.order_id", 4),  # not 2, the `when`
    ]


def test_a_select_star_is_on_the_line_of_the_final_selects_star(tmp_path, monkeypatch, capsys):
    """Not on the CTE's `select *`, nor where `select` is: the star after another column."""
    files = {
        "models/staging/stg_orders.sql": "select 1 as order_id, 2 as customer_id\n",
        "models/marts/fct_payments.sql": (
            "with orders as (\n  select * from {{ ref('stg_orders') }}\n)\n"
            "select\n  orders.order_id as id,\n  payments.*\nfrom orders\n"
            "join {{ ref('stg_orders') }} payments on payments.order_id = orders.order_id\n"
        ),
    }
    root = build_dbt_project(tmp_path, files)
    (root / "normcheck.yml").write_text("version: 1\nextends: [normcheck:recommended]\n")
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "sql/select-star"])
    got = [(f["resource"], f["line"]) for f in json.loads(capsys.readouterr().out)["findings"]]
    assert got == [("model.shop.fct_payments", 6)]


def test_a_models_yaml_owns_the_columns_its_sql_adds(tmp_path, monkeypatch, capsys):
    """pre-commit on the properties YAML alone (a commit that stops documenting a
    column) reports the model's SQL-derived columns as a check of its SQL does."""
    root = build_dbt_project(tmp_path, SQL_PROJECT)
    (root / "normcheck.yml").write_text("version: 1\nextends: [normcheck:recommended]\n")
    monkeypatch.chdir(root)

    def columns_of(path: str) -> set[str]:
        main(["check", "--format", "json", "--parse", "never", path])
        findings = json.loads(capsys.readouterr().out)["findings"]
        return {f["resource"] for f in findings if f["resource_type"] == "column"}

    by_sql = columns_of("models/marts/fct_orders.sql")
    assert "model.shop.fct_orders.lineCount" in by_sql  # from the SQL, undocumented
    assert columns_of("models/marts/_marts.yml") >= by_sql


def test_documented_columns_take_the_sql_type_when_catalog_and_yaml_are_silent(
    tmp_path, monkeypatch, capsys
):
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_payments.sql": (
                "select id, amount > 0 as paid, created_at::date as created,\n"
                "  true as settled, case when refunded then true end as refunded_flag,\n"
                "  amount > 100 as large\nfrom {{ ref('stg_payments') }}\n"
            ),
            "models/staging/stg_payments.sql": (
                "select 1 as id, 2 as amount, now() as created_at, false as refunded\n"
            ),
            "models/marts/_marts.yml": (
                "version: 2\nmodels:\n  - name: fct_payments\n    columns:\n"
                "      - name: id\n      - name: PAID\n      - name: created\n"
                "      - name: settled\n        data_type: varchar\n"
                "      - name: refunded_flag\n"
            ),
        },
    )
    (root / "normcheck.yml").write_text(
        "extends: [normcheck:recommended]\nrules:\n  sql/undocumented-column: 'off'\n"
    )
    monkeypatch.chdir(root)

    def suffix_findings(*narrowed: str) -> list[tuple[str, str, str]]:
        main(["check", "--format", "json", "--parse", "never", *narrowed])
        return sorted(
            (f["resource"], f"{f['file']}:{f['line']}", f["message"])
            for f in json.loads(capsys.readouterr().out)["findings"]
            if f["rule"] == "naming/column-type-suffix"
        )

    got = suffix_findings()
    # the rule finds the same when it is selected alone, or the SQL rules ignored: the
    # configuration turns the SQL analysis on, --select/--ignore only choose the reports
    assert suffix_findings("--select", "naming/column-type-suffix") == got
    assert suffix_findings("--ignore", "sql") == got
    yml = "models/marts/_marts.yml"
    assert got == [
        (  # documented, untyped in YAML: the SQL's type, the YAML's line (any case)
            "model.shop.fct_payments.PAID",
            f"{yml}:6",
            "boolean column `PAID` should start with is_, has_, can_, should_, was_, did_",
        ),
        (
            "model.shop.fct_payments.created",
            f"{yml}:7",
            "date column `created` should end with _date",
        ),
        # not documented: a column of the SQL's own, at its line in the model
        (
            "model.shop.fct_payments.large",
            "models/marts/fct_payments.sql:3",
            "boolean column `large` should start with is_, has_, can_, should_, was_, did_",
        ),
        (
            "model.shop.fct_payments.refunded_flag",
            f"{yml}:10",
            "boolean column `refunded_flag` should start with is_, has_, can_, should_, was_, did_",
        ),
        # stg_payments: `now()` is a function DuckDB's sqlglot leaves untyped
        (
            "model.shop.stg_payments.refunded",
            "models/staging/stg_payments.sql:1",
            "boolean column `refunded` should start with is_, has_, can_, should_, was_, did_",
        ),
    ]  # `settled`: the YAML says varchar, and the YAML comes first


def _dbt(project: Path, *args: str) -> None:
    from dbt.cli.main import dbtRunner

    flags = ["--project-dir", str(project), "--profiles-dir", str(project), "--quiet"]
    result = dbtRunner().invoke([*args, *flags])
    assert result.success, result.exception


def test_columns_only_the_sql_produces_take_the_catalog_type_first(tmp_path, monkeypatch, capsys):
    """A real catalog (`dbt run`, `dbt docs generate` on DuckDB) types the columns no
    YAML documents as it types documented ones, before the SQL: DuckDB's `now()` is a
    function sqlglot leaves untyped, the warehouse knows it made a timestamp."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_orders.sql": (
                "select 1 as order_id, 1 as paid, current_date as shipped,\n  now() as created\n"
            ),
            "models/marts/_marts.yml": "version: 2\nmodels:\n  - name: fct_orders\n",
        },
    )
    (root / "normcheck.yml").write_text(
        "extends: [normcheck:recommended]\nrules:\n  sql/undocumented-column: 'off'\n"
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("DO_NOT_TRACK", "1")

    def suffix_findings() -> list[tuple[str, str]]:
        main(["check", "--format", "json", "--parse", "never", "--select", "naming"])
        return sorted(
            (f["resource"], f["message"])
            for f in json.loads(capsys.readouterr().out)["findings"]
            if f["rule"] == "naming/column-type-suffix"
        )

    assert suffix_findings() == [  # the SQL alone: only `shipped` is typed
        ("model.shop.fct_orders.shipped", "date column `shipped` should end with _date")
    ]
    _dbt(root, "run")
    _dbt(root, "docs", "generate")
    catalog = json.loads((root / "target" / "catalog.json").read_text())
    columns = catalog["nodes"]["model.shop.fct_orders"]["columns"]
    assert columns["created"]["type"].startswith("TIMESTAMP")
    assert suffix_findings() == [
        (
            "model.shop.fct_orders.created",
            "timestamp column `created` should end with _at",
        ),
        ("model.shop.fct_orders.shipped", "date column `shipped` should end with _date"),
    ]


def test_a_star_over_a_source_or_seed_is_known_from_the_catalog_not_its_yaml(
    tmp_path, monkeypatch, capsys
):
    """`select *` over a seed or source whose YAML lists the columns that carry
    tests was read as exactly those columns: `sql/missing-column` errors on the
    standard staging model. Only the warehouse (the catalog) or an enforced
    contract says what all the columns are."""
    root = build_dbt_project(
        tmp_path,
        {
            "seeds/raw_orders.csv": "id,amount,status\n1,10,paid\n",
            "seeds/_seeds.yml": (
                "version: 2\nseeds:\n  - name: raw_orders\n    columns:\n      - name: id\n"
            ),
            "models/marts/fct_orders.sql": "select * from {{ ref('raw_orders') }}\n",
            "models/staging/stg_contracted.sql": "select * from {{ ref('raw_orders') }}\n",
            "models/staging/_stg.yml": (
                "version: 2\nmodels:\n  - name: fct_orders\n    columns:\n"
                "      - name: id\n      - name: amount\n"
                "  - name: stg_contracted\n    config: {contract: {enforced: true}}\n"
                "    columns:\n      - {name: id, data_type: integer}\n"
                "      - {name: amount, data_type: integer}\n      - {name: status, data_type: varchar}\n"
                "  - name: fct_contracted\n    columns: [{name: id}]\n"
            ),
            "models/marts/fct_contracted.sql": "select * from {{ ref('stg_contracted') }}\n",
        },
    )
    (root / "normcheck.yml").write_text(
        "extends: [normcheck:recommended]\nrules:\n  sql/select-star: 'off'\n"
    )
    monkeypatch.chdir(root)

    def sql_findings() -> list[tuple[str, str]]:
        main(["check", "--format", "json", "--parse", "never", "--select", "sql"])
        return sorted(
            (f["rule"], f["resource"]) for f in json.loads(capsys.readouterr().out)["findings"]
        )

    # no catalog: the seed's columns are unknown; the contract is the whole list
    assert sql_findings() == [
        ("sql/undocumented-column", "model.shop.fct_contracted.amount"),
        ("sql/undocumented-column", "model.shop.fct_contracted.status"),
    ]
    _dbt(root, "seed")
    _dbt(root, "docs", "generate")
    assert sql_findings() == [  # the warehouse's columns, in its order
        ("sql/undocumented-column", "model.shop.fct_contracted.amount"),
        ("sql/undocumented-column", "model.shop.fct_contracted.status"),
        ("sql/undocumented-column", "model.shop.fct_orders.status"),
    ]


def test_this_in_an_incremental_model_is_no_hardcoded_relation(tmp_path, monkeypatch, capsys):
    """Once the table exists, dbt compiles `{{ this }}` (is_incremental() is true)
    into the model's own relation: every incremental model was an error."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_events.sql": (
                "{{ config(materialized='incremental') }}\nselect 1 as id, 2 as other_id\n"
                "{% if is_incremental() %}\nwhere id > (select max(id) from {{ this }})\n"
                "{% endif %}\n"
            ),
        },
    )
    (root / "normcheck.yml").write_text("extends: [normcheck:recommended]\n")
    monkeypatch.chdir(root)
    _dbt(root, "run")
    _dbt(root, "run")
    _dbt(root, "compile")
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    compiled = manifest["nodes"]["model.shop.fct_events"]["compiled_code"]
    assert "fct_events" in compiled.split("where", 1)[1]  # what the rule reads
    main(["check", "--format", "json", "--parse", "never", "--select", "sql"])
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "sql/hardcoded-relation" not in rules


def test_an_unqualified_ref_is_the_root_projects_model_before_a_packages(
    tmp_path, monkeypatch, capsys
):
    """dbt resolves `ref('stg_customers')` (and `source('shop', 'orders')`) in a root
    model to the root project's when an installed package has one of the same name;
    normcheck rendered the package's relation when its unique_id sorts later
    (`model.warehouse.` after `model.shop.`), an error of sql/hardcoded-relation."""
    root = build_dbt_project(
        tmp_path,
        {
            "packages.yml": "packages:\n  - local: pkgs/warehouse\n",
            "pkgs/warehouse/dbt_project.yml": (
                'name: warehouse\nversion: "1.0"\nconfig-version: 2\n'
                "models:\n  warehouse:\n    +schema: warehouse\n"
            ),
            "pkgs/warehouse/models/stg_customers.sql": "select 1 as customer_id\n",
            "pkgs/warehouse/models/_sources.yml": (
                "version: 2\nsources:\n  - name: shop\n    schema: warehouse_raw\n"
                "    tables: [{name: orders}]\n"
            ),
            "models/staging/_sources.yml": (
                "version: 2\nsources:\n  - name: shop\n    tables: [{name: orders}]\n"
            ),
            "models/staging/stg_orders.sql": "select id from {{ source('shop', 'orders') }}\n",
            "models/staging/stg_customers.sql": "select 1 as customer_id\n",
            "models/marts/dim_customers.sql": (
                "select customer_id from {{ ref('stg_customers') }}\n"
            ),
            "normcheck.yml": "extends: [normcheck:recommended]\n",
        },
        parse=False,
    )
    _dbt(root, "deps")
    _dbt(root, "parse")
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    parents = [
        manifest["nodes"][f"model.shop.{name}"]["depends_on"]["nodes"]
        for name in ("dim_customers", "stg_orders")
    ]
    assert parents == [["model.shop.stg_customers"], ["source.shop.shop.orders"]]
    assert "model.warehouse.stg_customers" in manifest["nodes"]
    assert "source.warehouse.shop.orders" in manifest["sources"]
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "sql/hardcoded-relation"])
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_a_ref_without_a_version_is_the_latest_version(tmp_path, monkeypatch, capsys):
    """dbt resolves `ref('dim_x')` to the `latest_version` (a prerelease `v: 3` is
    not it; without `latest_version:`, v10 is later than v9); normcheck rendered the
    version whose unique_id sorted last, an error of sql/hardcoded-relation."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/dim_x_v1.sql": "select 1 as x_id\n",
            "models/marts/dim_x_v2.sql": "select 1 as x_id\n",
            "models/marts/dim_x_v3.sql": "select 1 as x_id\n",
            "models/marts/dim_y_v9.sql": "select 1 as y_id\n",
            "models/marts/dim_y_v10.sql": "select 1 as y_id\n",
            "models/marts/_versions.yml": (
                "version: 2\nmodels:\n  - name: dim_x\n    latest_version: 2\n"
                "    versions: [{v: 1}, {v: 2}, {v: 3}]\n"
                "  - name: dim_y\n    versions: [{v: 9}, {v: 10}]\n"
            ),
            "models/marts/fct_x.sql": "select x_id from {{ ref('dim_x') }}\n",
            "models/marts/fct_y.sql": "select y_id from {{ ref('dim_y') }}\n",
            "normcheck.yml": "extends: [normcheck:recommended]\n",
        },
    )
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    parents = [manifest["nodes"][f"model.shop.fct_{n}"]["depends_on"]["nodes"] for n in "xy"]
    assert parents == [["model.shop.dim_x.v2"], ["model.shop.dim_y.v10"]]
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "sql/hardcoded-relation"])
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_a_model_reading_an_ephemeral_model_has_the_same_facts_compiled(
    tmp_path, monkeypatch, capsys
):
    """`dbt compile` writes an ephemeral model into each reader's compiled code as a CTE
    `__dbt__cte__int_orders` holding its SQL: the reader then read `stg_orders` by
    name (not among its parents: a sql/hardcoded-relation error), and its
    `select * from` the ephemeral model was a star over a CTE, no sql/select-star.
    It reads the ephemeral model, as its code and a run on `dbt parse` alone say."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/staging/stg_orders.sql": "select 1 as order_id, 'placed' as status\n",
            "models/intermediate/int_orders.sql": (
                "{{ config(materialized='ephemeral') }}\n"
                "select order_id, status from {{ ref('stg_orders') }}\n"
            ),
            "models/intermediate/int_open_orders.sql": (
                "{{ config(materialized='ephemeral') }}\n"
                "select * from {{ ref('int_orders') }} where status = 'placed'\n"
            ),
            "models/marts/fct_orders.sql": (
                "with orders as (select * from {{ ref('int_open_orders') }})\n"
                "select order_id from orders\n"
            ),
            "models/marts/fct_open_orders.sql": "select * from {{ ref('int_open_orders') }}\n",
            "normcheck.yml": (
                "extends: [normcheck:recommended]\n"
                "rules:\n  sql/undocumented-column: {severity: warning, options: {layers: []}}\n"
            ),
        },
        parse=False,
    )
    monkeypatch.chdir(root)

    def sql_findings() -> list[tuple[str, str, int]]:
        main(["check", "--format", "json", "--parse", "never", "--select", "sql", "--no-cache"])
        found = json.loads(capsys.readouterr().out)["findings"]
        return sorted((f["rule"], f["resource"], f["line"]) for f in found)

    _dbt(root, "parse")
    parsed = sql_findings()
    assert parsed == [
        ("sql/select-star", "model.shop.fct_open_orders", 1),
        ("sql/undocumented-column", "model.shop.fct_open_orders.order_id", 1),
        ("sql/undocumented-column", "model.shop.fct_open_orders.status", 1),
        ("sql/undocumented-column", "model.shop.fct_orders.order_id", 2),
        ("sql/undocumented-column", "model.shop.int_open_orders.order_id", 2),
        ("sql/undocumented-column", "model.shop.int_open_orders.status", 2),
        ("sql/undocumented-column", "model.shop.int_orders.order_id", 2),
        ("sql/undocumented-column", "model.shop.int_orders.status", 2),
        ("sql/undocumented-column", "model.shop.stg_orders.order_id", 1),
        ("sql/undocumented-column", "model.shop.stg_orders.status", 1),
    ]
    _dbt(root, "compile")
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert (
        "__dbt__cte__int_orders as ("
        in (manifest["nodes"]["model.shop.fct_open_orders"]["compiled_code"])
    )
    assert sql_findings() == parsed


def test_a_user_defined_function_renders_as_dbt_renders_it(tmp_path, monkeypatch, capsys):
    """dbt 1.11's `{{ function('is_positive_int') }}('12')` calls a user-defined
    function; normcheck rendered the unknown `function` as NULL, `NULL('12')`: a
    sql/parse-error on every model calling one."""
    root = build_dbt_project(
        tmp_path,
        {
            "functions/is_positive_int.sql": "a_string ~ '^[0-9]+$'\n",
            "functions/_functions.yml": (
                "functions:\n  - name: is_positive_int\n"
                "    arguments: [{name: a_string, data_type: string}]\n"
                "    returns: {data_type: boolean}\n"
            ),
            "models/marts/fct_checked.sql": (
                "select {{ function('is_positive_int') }}('12') as is_number\n"
            ),
            "models/marts/fct_trimmed.sql": (  # whitespace control: rendered by Jinja
                "select {{- ' ' ~ function('shop', 'is_positive_int') -}}('12') as is_number\n"
            ),
            "normcheck.yml": "extends: [normcheck:recommended]\n",
        },
    )
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert "function.shop.is_positive_int" in manifest["functions"]
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "sql"])
    found = json.loads(capsys.readouterr().out)["findings"]
    assert sorted((f["rule"], f["resource"]) for f in found) == [
        ("sql/undocumented-column", "model.shop.fct_checked.is_number"),
        ("sql/undocumented-column", "model.shop.fct_trimmed.is_number"),
    ]


WAREHOUSE_JINJA = {
    "macros/star.sql": (
        # dbt_utils.star's way: `*` when dbt only parses, the column list at run time
        "{% macro star(from, except=[]) %}\n{%- if not execute -%}{% do return('*') %}"
        "{%- endif -%}\n{%- for c in adapter.get_columns_in_relation(from) -%}"
        "{{ c.name }}{{ ',' if not loop.last }}{%- endfor -%}\n{% endmacro %}\n"
    ),
    "models/staging/stg_orders.sql": (
        "select 1 as order_id, 'card' as payment_method, 10 as amount, 'x' as status\n"
    ),
    "models/marts/fct_pivot.sql": (  # dbt's own run_query example
        "{% set results = run_query('select distinct payment_method from x') %}\n"
        "{% if execute %}{% set methods = results.columns[0].values() %}"
        "{% else %}{% set methods = [] %}{% endif %}\n"
        "select order_id,\n{% for m in methods %}sum(amount) as {{ m }}_amount,{% endfor %}\n"
        "  sum(amount) as total_amount\nfrom {{ ref('stg_orders') }} group by 1\n"
    ),
    "models/marts/fct_star.sql": (
        "select {{ star(from=ref('stg_orders'), except=['payment_method']) }}\n"
        "from {{ ref('stg_orders') }}\n"
    ),
    "models/marts/fct_header.sql": (
        "{% call set_sql_header(config) %}\ncreate temporary macro add_one(x) as x + 1;\n"
        "{% endcall %}\nselect order_id from {{ ref('stg_orders') }}\n"
    ),
    "models/marts/fct_loop.sql": (
        "select order_id,\n{% for s in not_a_macro('status') %}1 as {{ s }}_count,{% endfor %}\n"
        "  1 as n\nfrom {{ ref('stg_orders') }}\n"
    ),
    "models/marts/fct_relation.sql": (
        "{% set rel = adapter.get_relation(database='db', schema='raw', identifier='t') %}\n"
        "select order_id from {{ ref('stg_orders') }}\n"
        "{% if rel is none %}union all select order_id from {{ rel }}{% endif %}\n"
    ),
    "models/marts/_marts.yml": (
        "version: 2\nmodels:\n  - name: fct_pivot\n    columns:\n"
        "      - {name: order_id}\n      - {name: card_amount}\n      - {name: total_amount}\n"
        "  - name: fct_star\n    columns:\n"
        "      - {name: order_id}\n      - {name: amount}\n      - {name: status}\n"
        + "".join(
            f"  - name: fct_star{n}\n    columns:\n      - {{name: order_id}}\n" for n in (2, 3, 4)
        )
    ),
    # the same call in three models: each asks (its text was memoised after the first)
    **{
        f"models/marts/fct_star{n}.sql": "select {{ star('stg_orders') }}\n"
        "from {{ ref('stg_orders') }}\n"
        for n in (2, 3, 4)
    },
    "models/marts/fct_counted.sql": (  # the file's only star is count's
        "select {{ star('stg_orders') }}, count(*) over () as n\nfrom {{ ref('stg_orders') }}\n"
    ),
    "macros/set_sql_header.sql": (
        "{% macro set_sql_header(config) -%}\n  {{ config.set('sql_header', caller()) }}\n"
        "{%- endmacro %}\n"
    ),
}


def test_jinja_that_asks_the_warehouse_leaves_the_columns_unknown(tmp_path, monkeypatch, capsys):
    """Rendered without a warehouse, `run_query`'s pivot has no columns and
    `dbt_utils.star` is `*`: missing-column errors, a select-star and the excluded
    column undocumented. `config.set` (set_sql_header) rendered `NULL`, a loop over
    an unknown macro's value looped over its letters, and `get_relation()`'s None
    was a relation `none` read by name."""
    root = build_dbt_project(tmp_path, WAREHOUSE_JINJA)
    (root / "normcheck.yml").write_text("extends: [normcheck:recommended]\n")
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "sql,naming"])
    found = json.loads(capsys.readouterr().out)["findings"]
    marts = sorted(
        (f["rule"], f["resource"]) for f in found if f["file"].startswith("models/marts/fct_")
    )
    # the model with a SQL header parses and is judged like any other; the others,
    # whose columns only the warehouse knows, are not
    assert marts == [("sql/undocumented-column", "model.shop.fct_header.order_id")], marts


def test_columns_are_on_their_lines_when_jinja_trims_lines_away(tmp_path, monkeypatch, capsys):
    """`{#- ... -#}` and `{%- set ... -%}` trim the lines they stand on: the rendered
    final select was 9 lines up, and each column was put at the nearest line with
    its name, in the CTE (lines 13 and 14)."""
    model = (
        "{#-\n  A comment\n  over several lines\n  that Jinja trims\n-#}\n"
        "{%- set cols = [\n    'order_id',\n    'customer_id',\n] -%}\n"
        "with base as (\n    select\n        order_id,\n        customer_id,\n"
        "        amount\n    from {{ ref('stg_orders') }}\n)\n"
        "select\n    order_id,\n    customer_id,\n    amount\nfrom base\n"
    )
    assert model.splitlines()[18] == "    customer_id,"  # line 19
    root = build_dbt_project(
        tmp_path,
        {
            "models/staging/stg_orders.sql": "select 1 as order_id, 2 as customer_id, 3 as amount\n",
            "models/marts/fct_orders.sql": model,
            "models/marts/_marts.yml": (
                "version: 2\nmodels:\n  - name: fct_orders\n    columns: [{name: order_id}]\n"
            ),
        },
    )
    (root / "normcheck.yml").write_text("extends: [normcheck:recommended]\n")
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "sql"])
    found = json.loads(capsys.readouterr().out)["findings"]
    assert sorted((f["resource"], f["line"]) for f in found) == [
        ("model.shop.fct_orders.amount", 20),
        ("model.shop.fct_orders.customer_id", 19),
    ]


def test_an_adapter_sqlglot_has_no_dialect_for_is_said(tmp_path, monkeypatch, capsys):
    """A Vertica project's SQL was parsed as generic SQL without a word."""
    root = build_dbt_project(tmp_path, {"models/marts/fct_a.sql": "select 1 as a_id\n"})
    (root / "normcheck.yml").write_text("extends: [normcheck:recommended]\n")
    monkeypatch.chdir(root)
    manifest = root / "target" / "manifest.json"
    main(["check", "--parse", "never", "-q"])
    assert "no dialect" not in capsys.readouterr().err
    data = json.loads(manifest.read_text())
    data["metadata"]["adapter_type"] = "vertica"
    manifest.write_text(json.dumps(data))
    for _ in range(2):  # the warm run too
        main(["check", "--parse", "never", "-q"])
        assert "sqlglot has no dialect for this project's adapter" in capsys.readouterr().err
    (root / "normcheck.yml").write_text("extends: [normcheck:recommended]\ndialect: postgres\n")
    main(["check", "--parse", "never", "-q"])
    assert "no dialect" not in capsys.readouterr().err


def test_items_are_compact_structs():
    item = Item("a", "int")
    assert (item.name, item.type, item.star, item.excluded) == ("a", "int", None, [])


@pytest.mark.parametrize(
    ("dialect", "parses"),
    [
        pytest.param("bigquery", True, id="bigquery reads backticks and safe_cast"),
        pytest.param("BigQuery", True, id="named in any case, as dbt's docs write it"),
        pytest.param("postgres", False, id="postgres does not"),
    ],
)
def test_the_configured_dialect_decides_what_parses(tmp_path, monkeypatch, capsys, dialect, parses):
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_a.sql": "{{ config(meta={'owner': 'x'}) }}\n"
            "select safe_cast(x as int64) as a from `proj.ds.t`\n",
        },
    )
    (root / "normcheck.yml").write_text(
        f"extends: [normcheck:recommended]\ndialect: {dialect}\n"
        "rules:\n  sql/hardcoded-relation: 'off'\n"
    )
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "sql"])
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert ("sql/parse-error" not in rules) is parses


def test_jinja_free_path_covers_macros_sets_and_incremental_blocks_keeping_lines():
    macros = [
        MacroSource("shop", "cents", "{% macro cents(col) %}({{ col }} * 100){% endmacro %}"),
        MacroSource(
            "shop", "pick", "{% macro pick(cols, sep=', ') %}{{ cols | join(sep) }}{% endmacro %}"
        ),
        MacroSource("dbt_utils", "star", "{% macro star(rel) %}a, b{% endmacro %}"),
    ]
    shop = renderer(macros)
    code = (
        "{% set kinds = ('a', 'b') %}\n"
        "select {{ cents('amount') }} as c, {{ pick(['x', 'y'], sep=' + ') }} as s,\n"
        "  {{ dbt_utils.star('t') }}, '{{ env_var('HOME', 'h') }}' as e\n"
        "from {{ this }}\n"
        "{% if is_incremental() %}\nwhere kind in {{ kinds }}\n{% else %}\nwhere true\n{% endif %}\n"
        "{% if not is_incremental() %} limit {{ var('n', 10) }} {% endif %}"
    )
    model = RenderInput("m", "shop", code, {}, '"db"."main"."m"')
    fast = shop._substitute(model)
    assert fast == (
        "\nselect (amount * 100) as c, x + y as s,\n  a, b, 'h' as e\n"
        'from "db"."main"."m"\n\n\n\nwhere true\n\n limit 10 '
    )
    # the same SQL as real Jinja, up to whitespace
    assert fast.split() == shop._render_jinja(model).split()
    # `~` joins as text; a string may span lines
    joined = RenderInput(
        "m",
        "shop",
        "select {{ cents('a' ~ var('n', 1) ~ \"'\") }},\n{{ cents('x\n+ y') }}",
        {},
        "m",
    )
    assert shop._substitute(joined) == "select (a1' * 100),\n(x\n+ y * 100)"
    assert shop._substitute(joined) == shop._render_jinja(joined)
    # escapes mean what Jinja makes of them; an unknown one is kept, silently
    escaped = RenderInput("m", "shop", r"select {{ cents('split(x, \'/\')') }} as c", {}, "m")
    assert shop._substitute(escaped) == "select (split(x, '/') * 100) as c"


@pytest.mark.parametrize(
    "code",
    [
        "{% for c in ['a'] %}{{ c }}{% endfor %}",  # a loop
        "{{ ref('stg_orders') | upper }}",  # a filter
        "{{ unknown_macro('x') }}",  # not a macro of the project
        "{{ cents(some_name) }}",  # a name, not a literal
        "{{ cents(**{'col': 'x'}) }}",  # unpacked keywords
        "{{ target.schema }}",  # an attribute
        "{{ cents('a' + 'b') }}",  # an operator but `~`
        "{{ cents('a' ~ 'b' + 'c') }}",  # `~` next to another operator
        "{{ cents('a' ~ x) }}",  # a name
        "{{ cents('a\\\nb') }}",  # a backslash ending a line in a string
        "{{ cents('a\rb' ~ 'c') }}",  # a carriage return, which Jinja reads as a line break
        "{% if is_incremental() %}{% if x %}1{% endif %}{% endif %}",  # nested blocks
        "select {{- ref('stg_orders') }}",  # whitespace control: Jinja trims
        "{%- set x = 1 -%} {{ x }}",
    ],
)
def test_anything_else_is_left_to_jinja(code):
    shop = renderer([MacroSource("shop", "cents", "{% macro cents(c) %}{{ c }}{% endmacro %}")])
    assert shop._substitute(RenderInput("m", "shop", code, {}, "m")) is None


def unlined(items):
    return None if items is None else [msgspec.structs.replace(i, line=None) for i in items]


def test_jinja_free_path_gives_the_facts_real_jinja_gives_on_the_corpus(tmp_path):
    manifest = load_manifest(
        unpack(CORPUS / "dbt" / "ol-data-platform" / "manifest.json.gz", tmp_path)
    )
    project = build_project(manifest, None, tmp_path)
    shop = renderer_for(analysis.context_for(project, ""))
    dialect = dialect_for(project.adapter)
    compared = 0
    for model in analysis.sql_models(project):
        given = analysis.render_input(model)
        fast = shop._substitute(given)
        if fast is None:
            continue
        compared += 1
        fast_facts, jinja_facts = (
            analyse(fast, dialect),
            analyse(shop._render_jinja(given), dialect),
        )
        assert fast_facts.error == jinja_facts.error, model.uid
        # lines aside: Jinja drops a `{# #}` comment's lines, the fast path keeps them
        # blank; both are mapped back to the model file by their text
        assert (unlined(fast_facts.items), fast_facts.tables, fast_facts.comparisons) == (
            unlined(jinja_facts.items),
            jinja_facts.tables,
            jinja_facts.comparisons,
        ), model.uid
    assert compared >= 600  # of 669 models: the path most models take


def test_jinja_free_path_nests_calls_and_keeps_this_per_model():
    shop = renderer(
        [MacroSource("shop", "cents", "{% macro cents(c) %}({{ c }} * 100){% endmacro %}")]
    )
    code = "select {{ cents(cents('amount')) }} as c, {{ cents(this) }} as t, {{ cents(ref('stg_orders')) }}"
    first = RenderInput("a", "shop", code, {}, '"db"."main"."a"')
    second = RenderInput("b", "shop", code, {}, '"db"."main"."b"')
    assert shop._substitute(first) == (
        'select ((amount * 100) * 100) as c, ("db"."main"."a" * 100) as t, '
        '("db"."main"."stg_orders" * 100)'
    )
    assert shop._substitute(second) is not None
    assert '("db"."main"."b" * 100) as t' in shop._substitute(second)
    assert shop._substitute(first).split() == shop._render_jinja(first).split()


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        (
            "bigquery",
            "select o.* replace ((select max(x) from raw.other where status = 'paid') as c) "
            "from analytics.orders o",
        ),
        (
            "duckdb",
            "select o.* replace ((select max(x) from raw.other where status = 'paid') as c) "
            "from analytics.orders o",
        ),
        ("duckdb", "select cast(x as struct(a int)) as s from raw.other where status = 'paid'"),
    ],
)
def test_the_walk_goes_into_what_may_hold_a_query(dialect, sql):
    import sqlglot

    from normcheck.sql import _WALKED, _breadth_first

    tree = sqlglot.parse_one(sql, read=dialect)
    assert [id(n) for n in _breadth_first(tree, _WALKED)] == [
        id(n) for n in tree.find_all(*_WALKED)
    ]
    facts = analyse(sql, dialect)
    assert "raw.other" in facts.tables
    assert facts.comparisons == {"status": ["paid"]}


@pytest.mark.parametrize("name", ["ol-data-platform", "tuva"])
def test_the_level_walk_finds_what_find_all_finds_in_its_order(name, tmp_path):
    import sqlglot

    from normcheck.sql import _BARREN, _WALKED, _breadth_first

    assert not _BARREN & set(_WALKED)  # the walk does not go into nodes it must find

    project = build_project(
        load_manifest(unpack(CORPUS / "dbt" / name / "manifest.json.gz", tmp_path)), None, tmp_path
    )
    shop = renderer_for(analysis.context_for(project, ""))
    compared = 0
    for model in analysis.sql_models(project):
        try:
            code = model.compiled_code or shop.render(analysis.render_input(model))
            trees = sqlglot.parse(code, read=dialect_for(project.adapter) or None)
        except (RenderError, sqlglot.errors.SqlglotError):
            continue
        for tree in filter(None, trees):
            expected = list(tree.find_all(*_WALKED))
            found = _breadth_first(tree, _WALKED)
            assert [id(n) for n in found] == [id(n) for n in expected], model.uid
            compared += 1
    assert compared >= 15


SUBJECT_ONLY_PLUGIN = '''
from normcheck.checks._api import NoOptions, rule


@rule("acme/explodes-on-models", severity="error", targets=["model"], subject_only=True)
def explodes(model, ctx):
    """A rule that raises on every model."""
    raise ValueError(model.name)
    yield
'''


def test_subject_only_rules_run_during_the_parse_and_find_what_they_find_after_it(
    tmp_path, monkeypatch, capsys
):
    from normcheck import run as run_module

    root = build_dbt_project(tmp_path, SQL_PROJECT)
    (root / "rules.py").write_text(SUBJECT_ONLY_PLUGIN)
    (root / "normcheck.yml").write_text(
        "version: 1\nextends: [normcheck:recommended]\nplugins: [rules.py]\n"
        "vocabulary: {preferred: {amt: amount}}\nrules:\n  acme/explodes-on-models: error\n"
    )
    monkeypatch.chdir(root)
    args = ["check", "--format", "json", "--parse", "never", "--no-cache"]
    early_calls: list[int] = []
    real_early = run_module.evaluate_early

    def counted(*args, **kwargs):
        early_calls.append(1)
        return real_early(*args, **kwargs)

    monkeypatch.setattr(run_module, "evaluate_early", counted)
    outputs = []
    for early in (True, False):
        if not early:  # everything after the parse, in one pass
            monkeypatch.setattr(run_module, "evaluate_early", lambda *a, **k: None)
        code = main(args)
        out, err = capsys.readouterr()
        assert code == 3  # the plugin's crashes
        outputs.append((out, err.split("Traceback written to")[0]))  # not the log's name
    assert early_calls == [1]
    assert outputs[0] == outputs[1]
    findings = json.loads(outputs[0][0])["findings"]
    # a model the analysis changes (its SQL columns added) is judged once, early or not...
    described = [f["resource"] for f in findings if f["rule"] == "docs/missing-description"]
    assert described.count("model.shop.fct_orders") == 1
    # ...and the columns only the SQL shows are judged by the subject-only column rules
    assert ("naming/column-case", "model.shop.fct_orders.lineCount") in {
        (f["rule"], f["resource"]) for f in findings
    }
    # one crash per model, whether its first judgement stood or was made again
    assert "5 crash(es)" in outputs[0][1]


@pytest.fixture(scope="module")
def ol_project(tmp_path_factory):
    out = tmp_path_factory.mktemp("ol")
    manifest = load_manifest(unpack(CORPUS / "dbt" / "ol-data-platform" / "manifest.json.gz", out))
    return build_project(manifest, None, out)


def test_the_late_pass_finds_the_changes_since_the_early_one_as_a_full_sort_does(ol_project):
    """What the late pass runs on (the root resources by type) and what it judges
    again (the changed ones): taken from the early pass and the changes when the
    project is the early one with resources replaced in place and others added
    at the end, as the SQL analysis leaves it; sorted again otherwise."""
    from normcheck import engine

    def full(early: engine.Early, project: Any) -> tuple[dict, dict]:
        by_type = engine._by_type(project)
        before = early.project.resources
        changed = {k: [r for r in v if before.get(r.uid) is not r] for k, v in by_type.items()}
        return by_type, {k: v for k, v in changed.items() if v}

    def since(early: engine.Early, project: Any) -> tuple[dict, dict]:
        by_type, changed = engine._since(early, project)
        return by_type, {k: v for k, v in changed.items() if v}

    early = engine.Early(ol_project, (), (), None, engine._by_type(ol_project))  # type: ignore[arg-type]
    resources = dict(ol_project.resources)
    models = [r for r in resources.values() if r.type == "model" and ol_project.owned(r)]
    for model in models[::50]:
        added = msgspec.structs.replace(model, uid=f"{model.uid}.from_sql", type="column")
        resources[added.uid] = added
        resources[model.uid] = msgspec.structs.replace(model, columns=(*model.columns, added.uid))
    resources["seed.shop.extra"] = msgspec.structs.replace(
        models[0], uid="seed.shop.extra", type="seed"
    )
    after = replace(ol_project, resources=resources)
    by_type, changed = since(early, after)
    expected_by_type, expected_changed = full(early, after)
    assert by_type == expected_by_type
    assert [r.uid for r in by_type["model"]] == [r.uid for r in expected_by_type["model"]]
    assert changed == expected_changed
    assert len(changed["model"]) == len(models[::50]) and changed["seed"]
    shuffled = replace(ol_project, resources=dict(reversed(list(resources.items()))))
    assert since(early, shuffled) == full(early, shuffled)
    assert since(early, shuffled)[0]["model"][0].uid == models[-1].uid
    fewer = dict(ol_project.resources)
    del fewer[models[1].uid]
    assert since(early, replace(ol_project, resources=fewer)) == full(
        early, replace(ol_project, resources=fewer)
    )


def test_workers_started_early_parse_what_one_process_parses(ol_project):
    pool = analysis.start_workers(2)
    assert pool is not None
    parallel = analysis.start_analysis(ol_project, None, None, pool=pool)
    with parallel:
        assert parallel.pool is pool  # 658 models: parsed by the workers
        shared = parallel.finish()
    assert not pool.process.is_alive() or pool.readers == []
    alone = analysis.analyse_project(ol_project, None, None, workers=1)
    assert shared.facts == alone.facts
    assert shared.coverage() == alone.coverage()
    # what the rules ask of each model's YAML and refs was worked out while waiting
    models = analysis.sql_models(ol_project)
    assert set(shared._documented) == set(shared._known) == {m.uid for m in models}
    fresh = analysis.SqlAnalysis(ol_project, shared.facts, shared.dialect, shared.by_relation)
    for model in models:
        assert shared.documented(model.uid) == fresh.documented(model.uid)
        assert shared.known_relations(model) == fresh.known_relations(model)
    assert any(fresh.documented(m.uid) for m in models)
    assert any(fresh.known_relations(m) for m in models)


def test_the_parse_starts_on_the_half_built_project_and_finds_what_the_whole_gives(tmp_path):
    """The SQL is sent to the workers once models, seeds, snapshots and sources
    are built, before their columns and the rest: the jobs, the context and
    the facts are those of the whole project, and so is the project."""
    manifest = load_manifest(
        unpack(CORPUS / "dbt" / "ol-data-platform" / "manifest.json.gz", tmp_path)
    )
    halves = []
    whole = build_project(manifest, None, tmp_path, relations_ready=halves.append)
    assert len(halves) == 1
    half = halves[0]
    assert build_project(manifest, None, tmp_path).resources == whole.resources
    relations = {
        u for u, r in whole.resources.items() if r.type in ("model", "seed", "snapshot", "source")
    }
    assert set(half.resources) == relations
    assert any(whole.resources[u].columns for u in relations)
    for uid, resource in half.resources.items():
        assert resource == msgspec.structs.replace(whole.resources[uid], columns=())
    assert half.macros == whole.macros
    with analysis.start_analysis(half, None, None, workers=1) as early:
        facts = early.finish(whole)
    with analysis.start_analysis(whole, None, None, workers=1) as late:
        assert (early.jobs, early.context) == (late.jobs, late.context)
        assert facts.facts == late.finish().facts
    assert facts.project is whole
    assert any(facts.output(m.uid) for m in analysis.sql_models(whole))
    # output() is plugin API: (name, type) pairs, as rules have unpacked them; the
    # lines are produced()'s
    for model in analysis.sql_models(whole):
        pairs, produced = facts.output(model.uid), facts.produced(model.uid)
        assert (pairs is None) == (produced is None)
        if produced is not None:
            assert pairs == [(c.name, c.type) for c in produced]
            assert all(type(pair) is tuple and len(pair) == 2 for pair in pairs)


@pytest.mark.parametrize(
    ("how", "message"),
    [("raises", "a SQL parse worker failed"), ("dies", "a SQL parse worker stopped")],
)
def test_a_worker_that_fails_is_an_internal_error_not_a_hang(ol_project, monkeypatch, how, message):
    import os

    real = _parse_worker.work
    victim = analysis.sql_models(ol_project)[300].uid

    def failing(job, dialect, renderer):
        if job[0] == victim:
            if how == "dies":
                os._exit(1)
            raise ValueError(f"cannot parse {victim}")
        return real(job, dialect, renderer)

    monkeypatch.setattr(_parse_worker, "work", failing)  # the workers fork with it
    with pytest.raises(RuntimeError, match=message) as caught:
        analysis.analyse_project(ol_project, None, None, workers=2)
    if how == "raises":
        assert f"ValueError: cannot parse {victim}" in str(caught.value)


def test_workers_not_needed_stop_without_being_sent_anything(tmp_path):
    pool = analysis.start_workers(2)
    assert pool is not None
    pool.close()
    pool.process.join(timeout=10)
    assert pool.process.exitcode is not None  # ended, not left waiting


def _ol_bytes() -> bytes:
    return gzip.decompress((CORPUS / "dbt" / "ol-data-platform" / "manifest.json.gz").read_bytes())


def _called_by_models(manifest: dict[str, Any]) -> set[tuple[str, str]]:
    """The macros dbt says the models call, directly or through other macros."""
    macros = manifest["macros"]
    waiting = [
        uid
        for key, node in manifest["nodes"].items()
        if key.startswith("model.")
        for uid in node["depends_on"]["macros"]
    ]
    seen = set()
    while waiting:
        uid = waiting.pop()
        if uid in macros and uid not in seen:
            seen.add(uid)
            waiting.extend(macros[uid]["depends_on"]["macros"])
    return {(macros[uid]["package_name"], macros[uid]["name"]) for uid in seen}


def test_the_first_worker_compiles_the_root_macros_while_the_manifest_is_decoded(tmp_path):
    """Given the manifest's bytes, the first worker compiles the macros the
    models call (when the jobs come first, only those), then the root project's
    others until the jobs come; its renderer then renders every model as one
    made for the context does. A context of other macros gets a new renderer."""
    data = _ol_bytes()
    project = build_project(decode_manifest(data, "m"), None, tmp_path)
    context = analysis.context_for(project, "duckdb")
    reader, writer = multiprocessing.Pipe(duplex=False)
    ahead = _parse_worker._Ahead(data, reader, inbox := [])
    assert inbox == []  # nothing was sent
    root = {m.name for m in project.macros if m.package == project.name}
    assert len(root) > 100
    assert {name for package, name in ahead.renderer.compiled if package == project.name} == root
    renderer = ahead.renderer_for(context)
    assert renderer is ahead.renderer
    fresh = renderer_for(context)
    for model in analysis.sql_models(project):
        given = analysis.render_input(model)
        try:
            expected: object = fresh.render(given)
        except RenderError as exc:
            expected = str(exc)
        try:
            got: object = renderer.render(given)
        except RenderError as exc:
            got = str(exc)
        assert got == expected, model.uid
    other = replace(context, macros=context.macros[1:])
    assert ahead.renderer_for(other) is not ahead.renderer
    jobs = [(m.uid, "", analysis.render_input(m)) for m in analysis.sql_models(project)[:3]]
    # more than a pipe holds (the macros): the sender waits until the worker takes it
    sender = threading.Thread(target=analysis.send_jobs, args=(writer, context, jobs, 7))
    sender.start()
    called = _called_by_models(json.loads(data))
    assert ("dbt_utils", "default__generate_surrogate_key") in called  # through a macro
    jobs_first = _parse_worker._Ahead(data, reader, inbox)
    sender.join(timeout=30)
    assert not sender.is_alive()
    assert inbox == [(context, 7, jobs)], "taken as they came"
    # but those normcheck's renderer answers itself, whatever a project defines
    own = {
        ("open_learning", "ref"),
        ("open_learning", "source"),
        ("dbt", "is_incremental"),
        ("dbt", "should_full_refresh"),
        ("dbt", "statement"),
    }
    assert own < called
    assert set(jobs_first.renderer.compiled) == called - own, "jobs first: only the called ones"
    assert _parse_worker._ahead(b'{"nodes": ', reader, []) is None


def test_workers_given_the_manifest_bytes_parse_what_one_process_parses(tmp_path):
    data = _ol_bytes()
    project = build_project(decode_manifest(data, "m"), None, tmp_path)
    pool = analysis.start_workers(2, manifest=data)
    assert pool is not None
    with analysis.start_analysis(project, None, None, pool=pool) as parallel:
        assert parallel.pool is pool
        shared = parallel.finish()
    assert shared.facts == analysis.analyse_project(project, None, None, workers=1).facts


def test_documented_columns_are_compared_case_blind_and_only_from_the_yaml(
    tmp_path, monkeypatch, capsys
):
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_a.sql": "select 1 as order_id, 2 as amount, 3 as Gone_Too\n",
            "models/marts/_marts.yml": (
                "version: 2\nmodels:\n  - name: fct_a\n    columns:\n"
                "      - name: ORDER_ID\n      - name: gone\n      - name: gone_too\n"
            ),
        },
    )
    (root / "normcheck.yml").write_text("version: 1\nextends: [normcheck:recommended]\n")
    monkeypatch.chdir(root)
    code = main(["check", "--format", "json", "--parse", "never", "--select", "sql"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert sorted((f["rule"], f["resource"]) for f in findings) == [
        ("sql/missing-column", "model.shop.fct_a.gone"),
        ("sql/undocumented-column", "model.shop.fct_a.amount"),
    ]
    assert "`amount`" in next(f["message"] for f in findings if "undocumented" in f["rule"])


@pytest.mark.parametrize("sent", [b"", b"\x00\x00\x01\x00half"], ids=["nothing", "half"])
def test_a_worker_whose_checking_process_is_killed_says_nothing(capfd, sent):
    """The checking process killed (SIGKILL, out of memory) before or while it sent
    the jobs: the first worker ends quietly, without a traceback on the user's
    terminal ("OSError: got end of file during message")."""
    import os

    pool = analysis.start_workers(2)
    assert pool is not None and pool.jobs_out is not None
    os.write(pool.jobs_out.fileno(), sent)  # a message's length, then less than that
    pool.jobs_out.close()
    pool.jobs_out = None
    pool.process.join(timeout=60)
    assert pool.process.exitcode == 0
    pool.finished = True
    pool.close()
    assert capfd.readouterr().err == ""


def test_parse_workers_that_cannot_start_leave_the_parse_to_the_checking_process(
    ol_project, monkeypatch
):
    """No process or shared memory to be had (a full /dev/shm, a process limit): the
    workers' start raised OSError, an internal error, exit 3. The models are parsed
    by the checking process instead, as on one core."""
    import errno

    alone = analysis.analyse_project(ol_project, None, None, workers=1)

    def unavailable(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(analysis.Workers, "__init__", unavailable)
    assert analysis.start_workers(2) is None
    parallel = analysis.start_analysis(ol_project, None, None, workers=2)
    with parallel:
        assert parallel.pool is None
        facts = parallel.finish()
    assert facts.facts == alone.facts


def test_the_workers_get_the_variables_as_dbt_project_yml_gives_them():
    """The context travels in msgpack but its variables, which are pickled: a
    YAML date stays a date (msgpack would make it text)."""
    pool = analysis.start_workers(2)
    assert pool is not None
    context = ParseContext("duckdb", "shop", "duckdb", (), {"start": datetime.date(2024, 5, 1)}, {})
    code = "select 1 as from_{{ var('start').year }} from {{ ref('orders') }}"
    try:
        pool.parse(context, [("model.shop.a", "", RenderInput("a", "shop", code, {}, "a"))])
        facts = dict(pool.results())
    finally:
        pool.close()
    assert facts["model.shop.a"].error is None
    assert [item.name for item in facts["model.shop.a"].items or ()] == ["from_2024"]
    # no relation for `orders` in the context: the ref renders to the unresolved schema
    assert facts["model.shop.a"].tables == [f"{UNRESOLVED}.orders"]


@pytest.mark.parametrize(
    ("config", "selected", "parses"),
    [
        pytest.param("", ["naming/column-type-suffix"], False, id="default: SQL rules off"),
        pytest.param(
            "extends: [normcheck:recommended]\n",
            ["naming/column-type-suffix"],
            True,
            id="recommended: a column rule alone sees the SQL's columns",
        ),
        pytest.param(
            "extends: [normcheck:recommended]\n",
            ["ownership/missing-owner"],
            False,
            id="recommended: a rule judging models by themselves needs no SQL",
        ),
        pytest.param(
            "extends: [normcheck:recommended]\nrules:\n  naming/column-type-suffix: 'off'\n"
            "  naming/column-case: 'off'\n  naming/vocabulary: 'off'\n"
            "  docs/missing-description: 'off'\n  docs/placeholder-description: 'off'\n"
            "  normcheck/unused-suppression: 'off'\n",
            ["naming/column-type-suffix", "docs/missing-description"],
            False,
            id="recommended: selected rules that are off",
        ),
        pytest.param(
            "rules:\n  sql/select-star: warning\n",
            ["sql/select-star"],
            True,
            id="an SQL rule selected and on",
        ),
    ],
)
def test_sql_is_parsed_when_a_selected_rule_may_see_what_it_adds(
    tmp_path, config, selected, parses
):
    from normcheck.config.loader import load_config
    from normcheck.run import sql_needed

    (tmp_path / "normcheck.yml").write_text(f"version: 1\n{config}")
    assert sql_needed(load_config(tmp_path), selected) is parses


def test_the_checking_process_knows_the_upper_case_warehouses_sqlglot_knows() -> None:
    """analysis.py lists them by hand (the checking process never imports sqlglot):
    the list must be the dialects sqlglot normalises to upper case."""
    from sqlglot.dialects import DIALECTS
    from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

    upper = NormalizationStrategy.UPPERCASE
    found = {
        name.lower()
        for name in DIALECTS
        if Dialect.get_or_raise(name.lower()).NORMALIZATION_STRATEGY is upper
    }
    assert found == analysis.UPPERCASE_WAREHOUSES


def test_a_model_file_with_a_byte_order_mark_is_parsed(tmp_path, monkeypatch, capsys):
    """SSMS and Notepad save SQL with a UTF-8 byte order mark, which dbt keeps in
    `raw_code`: no model that had one parsed (`sql/parse-error`, or silence), so
    the rules lost every column its SQL produces."""
    files = {
        "models/marts/fct_orders.sql": "\ufeffselect 1 as order_id,\n  true as paid\n",
        "models/marts/_models.yml": (
            "version: 2\nmodels:\n  - name: fct_orders\n    columns:\n      - name: order_id\n"
        ),
    }
    root = build_dbt_project(tmp_path, files)
    (root / "normcheck.yml").write_text("version: 1\nextends: [normcheck:recommended]\n")
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "sql,naming"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule"], f["resource"], f["line"]) for f in findings] == [
        ("naming/column-type-suffix", "model.shop.fct_orders.paid", 2),
        ("sql/undocumented-column", "model.shop.fct_orders.paid", 2),
    ]
