"""SQL analysis with sqlglot: the only module that imports it.

Each model's SQL (``compiled_code``, else its Jinja rendered by
:mod:`normcheck._jinja`) is parsed once, in the project's dialect, into
:class:`Facts`: the output columns of the final SELECT (stars kept as
references until the project resolves them from upstream models), the
relations it reads, whether the final SELECT has a star, and the string
values compared with each column (for event names). Parse failures are facts
too, never exceptions."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import ParseError, SqlglotError, TokenError
from sqlglot.parser import Parser
from sqlglot.tokens import Tokenizer

from normcheck.sqlfacts import (
    EPHEMERAL_PREFIX,
    Facts,
    Item,
    parse_relation,
    relation_key,
    too_big,
)

# Expressions whose form alone gives their type, in every dialect: comparisons and
# other predicates, AND / OR / NOT, and the functions that make a date or a timestamp.
# Not the predicates that may be something else in a select list: `any(x)` is an
# aggregate in some dialects, MySQL's `match ... against` a relevance score.
_BOOLEAN_FORMS = (
    exp.Boolean,
    exp.Predicate,
    exp.Connector,
    exp.Not,
    exp.LogicalOr,
    exp.LogicalAnd,
    exp.StartsWith,
    exp.EndsWith,
)
_NOT_BOOLEAN = (exp.Any, exp.All, exp.Match)
_FORMS: tuple[tuple[tuple[type[exp.Expr], ...], str], ...] = (
    (
        (
            exp.CurrentTimestamp,
            exp.StrToTime,
            exp.UnixToTime,
            exp.Timestamp,
            exp.TimestampFromParts,
        ),
        "timestamp",
    ),
    ((exp.CurrentDatetime,), "datetime"),
    ((exp.CurrentDate, exp.StrToDate, exp.TsOrDsToDate, exp.Date, exp.DateFromParts), "date"),
)


def _type_of(node: exp.Expr, dialect: str) -> str | None:
    """The type of a projection when its form says it (the catalog and the YAML
    come first): a cast, a literal `true`, a comparison or other predicate, a
    function that makes a date or a timestamp, or a CASE / IF whose results all
    have one such type (NULL aside). Anything else: None, not a guess."""
    inner = node.this if isinstance(node, exp.Alias) else node
    if type(inner) is exp.Column:  # most projections: a column says nothing of its type
        return None
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if isinstance(inner, (exp.Cast, exp.TryCast)):
        return inner.to.sql(dialect=dialect or None).lower()
    if isinstance(inner, _BOOLEAN_FORMS) and not isinstance(inner, _NOT_BOOLEAN):
        return "boolean"
    for kinds, name in _FORMS:
        if isinstance(inner, kinds):
            return name
    if isinstance(inner, exp.Case):
        results = [branch.args.get("true") for branch in inner.args.get("ifs") or ()]
        return _one_type([*results, inner.args.get("default")], dialect)
    if isinstance(inner, exp.If):
        return _one_type([inner.args.get("true"), inner.args.get("false")], dialect)
    return None


def _one_type(results: list[exp.Expr | None], dialect: str) -> str | None:
    """The type all of a CASE's results share (a NULL or a missing ELSE has any)."""
    found = None
    for result in results:
        if result is None or isinstance(result, exp.Null):
            continue
        kind = _type_of(result, dialect)
        if kind is None or (found is not None and kind != found):
            return None
        found = kind
    return found


# dialects whose warehouse stores an unquoted name in one case (sqlglot's
# LOWERCASE and UPPERCASE strategies, and Redshift, which it calls case-insensitive)
_FOLDING = frozenset({NormalizationStrategy.LOWERCASE, NormalizationStrategy.UPPERCASE})


@functools.cache
def folds_case(dialect: str) -> bool:
    """Whether the dialect's warehouse folds unquoted names to one case, so that
    `ORDER_ID` is the column `order_id`, as dbt's YAML spells it (not for an
    unknown warehouse: no guess)."""
    if dialect == "redshift":
        return True
    return bool(dialect) and Dialect.get_or_raise(dialect).NORMALIZATION_STRATEGY in _FOLDING


_UNQUOTED = re.compile(r"[A-Z_][A-Z0-9_$]*")  # a name that needs no quotes


@functools.cache
def _folds_upper(dialect: str) -> bool:
    """Whether the warehouse stores an unquoted name in upper case (Snowflake)."""
    strategy = NormalizationStrategy.UPPERCASE
    return bool(dialect) and Dialect.get_or_raise(dialect).NORMALIZATION_STRATEGY is strategy


def _folded(name: str, identifier: exp.Identifier | None, upper: bool = False) -> str:
    """An output name as a folding warehouse stores it: in lower case when it is
    unquoted and written all in capitals (`ORDER_ID`, the style of upper-case
    SQL), or, where the warehouse stores unquoted names in upper case
    (``upper``), quoted so (`"ORDER_ID"`, as `dbt_utils.star` quotes them: the
    same column). A mixed-case name (`OrderTotal`) stays as written, so the naming
    rules still see the words it meant (the warehouse's `ordertotal` hides them)."""
    if not name.isupper():
        return name
    quoted = identifier is not None and bool(identifier.quoted)
    return name.lower() if not quoted or (upper and _UNQUOTED.fullmatch(name)) else name


def _identifier(node: exp.Expr) -> exp.Identifier | None:
    return node if isinstance(node, exp.Identifier) else node.find(exp.Identifier)


class _Local:
    """Output columns of one statement, resolving CTEs and subqueries."""

    def __init__(self, ctes: dict[str, exp.Expr], dialect: str) -> None:
        self.dialect = dialect
        self.folds = folds_case(dialect)
        self.upper = _folds_upper(dialect)
        self.ctes = ctes
        self.memo: dict[int, list[Item] | None] = {}
        self.types: dict[int, dict[str, str | None] | None] = {}
        self.active: set[int] = set()

    def columns(self, query: exp.Expr) -> list[Item] | None:
        key = id(query)
        if key in self.memo:
            return self.memo[key]
        if key in self.active:  # a recursive CTE: its columns are its first branch's
            return None
        self.active.add(key)
        try:
            result = self._columns(query)
        finally:
            self.active.discard(key)
        self.memo[key] = result
        return result

    def _columns(self, query: exp.Expr) -> list[Item] | None:
        while isinstance(query, exp.SetOperation) and not query.args.get("by_name"):
            query = query.left
        if isinstance(query, exp.SetOperation):
            return self._by_name(query)
        if isinstance(query, exp.Subquery):
            return self.columns(query.this)
        if not isinstance(query, exp.Select):
            return None
        sources = _sources(query)
        resolved: dict[str, dict[str, str | None] | None] = {}
        items: list[Item] = []
        for projection in query.expressions:
            if isinstance(projection, exp.Star):
                if projection.args.get("ilike") is not None:
                    return None  # Snowflake's `* ilike '%_id'`: the names that match
                excluded = [c.output_name.lower() for c in _except(projection)]
                line = _line(projection)
                over: list[Item] = []
                for source in sources.values():
                    expanded = self._expand(source, excluded, line)
                    if expanded is None:
                        return None
                    over.extend(expanded)
                items.extend(self._renamed(over, projection))
            elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                star = projection.this
                qualified = sources.get(projection.table.lower())
                if qualified is None or star.args.get("ilike") is not None:
                    return None
                excluded = [c.output_name.lower() for c in _except(star)]
                expanded = self._expand(qualified, excluded, _line(star))
                if expanded is None:
                    return None
                items.extend(self._renamed(expanded, star))
            else:
                named = projection.args.get("alias") if type(projection) is exp.Alias else None
                name = projection.output_name if named else _unaliased(projection, self.dialect)
                if not name:
                    return None  # an unnamed expression: the warehouse picks its name
                if self.folds:
                    name = _folded(name, _identifier(named or projection), self.upper)
                kind = _type_of(projection, self.dialect)
                if kind is None:
                    kind = self._passed_type(projection, sources, resolved)
                items.append(Item(name, kind, line=_line(named or projection)))
        return items

    def _by_name(self, query: exp.SetOperation) -> list[Item] | None:
        """`a union [all] by name b` (BigQuery's `full [outer]` too): a's columns,
        then those only b has; BigQuery's `left [outer]`: a's; its `inner` (and
        `corresponding`): a's that b has too. None for another form (`on (...)`,
        an INTERSECT or EXCEPT by name) or when a star hides which names the two
        share."""
        side = str(query.args.get("side") or "").lower()
        kind = str(query.args.get("kind") or "").lower()
        if (
            not isinstance(query, exp.Union)
            or query.args.get("on")
            or (side, kind) not in _BY_NAME_MODES
        ):
            return None
        left, right = self.columns(query.left), self.columns(query.right)
        if left is None or right is None or any(i.star is not None for i in (*left, *right)):
            return None
        theirs = {item.name.lower() for item in right}
        if kind == "inner":
            return [item for item in left if item.name.lower() in theirs]
        items = list(left)
        if side == "left":
            return items
        seen = {item.name.lower() for item in left}
        for item in right:
            if item.name.lower() not in seen:
                seen.add(item.name.lower())
                items.append(item)
        return items

    def _renamed(self, items: list[Item], star: exp.Expr) -> list[Item]:
        """A star's columns through its `rename (a as b)` (DuckDB, Snowflake): a
        column renamed where it is; a name the star's relations give, taken out
        of them and put, renamed, after the first."""
        renames: dict[str, Item] = {}
        for alias in star.args.get("rename") or ():
            to = alias.args.get("alias") if isinstance(alias, exp.Alias) else None
            if to is None or not alias.this.output_name:
                continue
            name = _folded(to.name, to, self.upper) if self.folds else to.name
            renames[alias.this.output_name.lower()] = Item(name, None, line=_line(to))
        if not renames:
            return items
        out: list[Item] = []
        for item in items:
            new = renames.pop(item.name.lower(), None) if item.star is None else None
            out.append(item if new is None else Item(new.name, item.type, line=new.line))
        stars = [n for n, item in enumerate(out) if item.star is not None]
        if renames and stars:
            out = [
                Item(i.name, i.type, i.star, [*i.excluded, *renames], i.line)
                if i.star is not None
                else i
                for i in out
            ]
            out[stars[0] + 1 : stars[0] + 1] = renames.values()
        return out

    def _passed_type(
        self,
        projection: exp.Expr,
        sources: dict[str, exp.Expr],
        resolved: dict[str, dict[str, str | None] | None],
    ) -> str | None:
        """The type of a column passed on from a CTE or subquery of this model, as
        that one gives it (`with c as (select x::date as d from t) select d from c`):
        qualified by its source's name, or unqualified over a single source.
        ``resolved``: each source's types, as this SELECT has looked them up."""
        column = projection.this if type(projection) is exp.Alias else projection
        if type(column) is not exp.Column or type(column.this) is not exp.Identifier:
            return None
        table = column.table
        if table:
            key = table.lower()
        elif len(sources) == 1:
            key = next(iter(sources))
        else:
            return None  # which source it comes from needs the upstream columns
        if key in resolved:
            types = resolved[key]
        else:
            types = resolved[key] = self._source_types(sources.get(key))
        return None if types is None else types.get(column.name.lower())

    def _source_types(self, source: exp.Expr | None) -> dict[str, str | None] | None:
        query = None if source is None else self._local_query(source)
        return None if query is None else self._types(query)

    def _local_query(self, source: exp.Expr) -> exp.Expr | None:
        """The query a FROM / JOIN source names inside this statement: a subquery's,
        or a CTE's; None for a relation outside it (or anything else)."""
        if isinstance(source, exp.Subquery):
            inner: exp.Expr = source.this
            return inner
        if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
            return None if source.db else self.ctes.get(source.name.lower())
        return None

    def _types(self, query: exp.Expr) -> dict[str, str | None] | None:
        """A query's output types by lowercased name (the first of a name), or None
        when a star may hide another column of the same name."""
        key = id(query)
        if key in self.types:
            return self.types[key]
        items = self.columns(query)
        found: dict[str, str | None] | None = None
        if items is not None and not any(item.star is not None for item in items):
            found = {}
            for item in items:
                found.setdefault(item.name.lower(), item.type)
        self.types[key] = found
        return found

    def _expand(self, source: exp.Expr, excluded: list[str], line: int | None) -> list[Item] | None:
        """What a star on ``line`` over ``source`` gives: a local query's columns
        (a star in it left for the upstream relation, now on this line), a
        relation's star, or the columns a VALUES list's alias names; None when
        that cannot be known."""
        if not isinstance(source, exp.Values) and _reshaped(source):
            return None
        query = self._local_query(source)
        if query is not None:
            inner = self.columns(query)
        elif isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
            key = relation_key([source.catalog, source.db, source.name])
            return [Item("*", None, key, excluded, line)]
        elif isinstance(source, exp.Values) and _named_values(source):
            alias = source.args["alias"]
            names = [
                _folded(c.name, _identifier(c), self.upper) if self.folds else c.name
                for c in alias.columns
            ]
            return [Item(n, None, line=line) for n in names if n.lower() not in excluded]
        else:
            return None
        if inner is None:
            return None
        return [
            Item(i.name, i.type, i.star, [*i.excluded, *excluded], line or i.line)
            if i.star is not None
            else i
            for i in inner
            if i.star is not None or i.name.lower() not in excluded
        ]


# dialects that name a cast of a column (`x::date`) after the column
_CASTS_KEEP_NAMES = frozenset({"postgres", "redshift"})


def _unaliased(projection: exp.Expr, dialect: str) -> str:
    """The name a projection without an alias has in the warehouse, where that
    is known: a column's (`t.col`, BigQuery's struct field `s.a.b`) and, in
    Postgres and Redshift, a cast column's. Anything else ("") each warehouse
    names its own way: DuckDB `CAST(x AS DATE)` and `(payload ->> 'email')`,
    Snowflake `PAYLOAD:PLAN`, BigQuery `f0_`, Postgres `?column?`."""
    node = projection
    if dialect in _CASTS_KEEP_NAMES:
        while isinstance(node, exp.Cast):
            node = node.this
    return node.output_name if isinstance(node, (exp.Column, exp.Dot)) else ""


def _sources(select: exp.Select) -> dict[str, exp.Expr]:
    """A SELECT's FROM and JOIN sources by their lowercased alias (or name)."""
    out: dict[str, exp.Expr] = {}
    from_ = select.args.get("from_") or select.args.get("from")
    nodes = [from_.this] if from_ is not None else []
    nodes += [join.this for join in select.args.get("joins") or ()]
    for node in nodes:
        out[node.alias_or_name.lower()] = node
    return out


def _named_values(values: exp.Values) -> bool:
    """A VALUES list whose alias names each of its columns (`as t (a, b)`): a
    shorter list leaves the others to the warehouse's naming."""
    alias = values.args.get("alias")
    rows = values.expressions
    if alias is None or not alias.columns or not rows:
        return False
    first = rows[0]
    width = len(first.expressions) if isinstance(first, exp.Tuple) else 1
    return len(alias.columns) == width


def _reshaped(source: exp.Expr) -> bool:
    """A FROM / JOIN source whose columns are not those of what it names: a PIVOT
    or UNPIVOT on it, or an alias that names its columns (`from x as s (id, name)`)."""
    alias = source.args.get("alias")
    named = isinstance(alias, exp.TableAlias) and bool(alias.columns)
    return named or bool(source.args.get("pivots"))


def _line(node: exp.Expr) -> int | None:
    """The line of the rendered SQL where a node's name is (its first identifier's)."""
    line = node.meta.get("line")
    if line is None:
        identifier = _identifier(node)
        line = None if identifier is None else identifier.meta.get("line")
    return line if isinstance(line, int) else None


def _except(star: exp.Expr) -> list[exp.Expr]:
    found = star.args.get("except_") or star.args.get("except") or []
    return list(found) if isinstance(found, list) else []


_WALKED = (exp.CTE, exp.Table, exp.EQ, exp.NEQ, exp.In, exp.Like, exp.ILike)
# Nodes that hold none of the walked kinds: the walk does not go into them.
# Identifiers are most of a tree (a 200-token model has about 60 of its 160 nodes).
# They hold no nodes either, so need no taking apart (see _tear_down).
_BARREN = frozenset({exp.Identifier, exp.Literal, exp.DataType, exp.Var, exp.Null})


def _breadth_first(
    tree: exp.Expr, kinds: tuple[type[exp.Expr], ...], visited: list[exp.Expr] | None = None
) -> list[exp.Expr]:
    """The nodes of these kinds in ``tree.find_all(*kinds)``'s order (breadth
    first, arguments in order), a level at a time with plain loops instead of
    sqlglot's generator, and without going into nodes that cannot hold them
    (``_BARREN``; ``kinds`` must be none of those), nor into a column of a plain
    name (a third of the nodes left; not `t.* replace ((select ...) as c)`, a
    column whose star holds a query). ``visited`` gets every node but the
    barren ones: those the walk went into, and those columns."""
    found: list[exp.Expr] = []
    level = [tree]
    expr, column, identifier = exp.Expr, exp.Column, exp.Identifier
    names = [] if visited is None else visited
    while level:
        if visited is not None:
            visited.extend(level)
        below: list[exp.Expr] = []
        for node in level:
            if isinstance(node, kinds):
                found.append(node)
            for value in node.args.values():
                if type(value) is list:
                    for child in value:
                        kind = type(child)
                        if kind is column and type(child.this) is identifier:
                            names.append(child)
                        elif kind not in _BARREN and isinstance(child, expr):
                            below.append(child)
                elif isinstance(value, expr):
                    kind = type(value)
                    if kind is column and type(value.this) is identifier:
                        names.append(value)
                    elif kind not in _BARREN:
                        below.append(value)
        level = below
    return found


class _Walk:
    """What one walk over the tree finds: CTEs, tables read, and the string
    values compared with each column (for event names)."""

    def __init__(self, tree: exp.Expr, dialect: str) -> None:
        self.ctes: dict[str, exp.Expr] = {}
        self.nodes: list[exp.Expr] = []  # every node walked into
        tables: list[exp.Table] = []
        found: dict[str, set[str]] = {}
        blind: dict[str, set[str]] = {}  # compared whatever the case
        # `lower(column) = 'Mixed Case'`: never equal; (function, literal) per column
        never: dict[str, set[tuple[str, str]]] = {}

        def note(column: exp.Expr, value: exp.Expr, case_blind: bool = False) -> None:
            fold = None
            if type(column) in (exp.Lower, exp.Upper):  # `lower(event_text) = '...'`
                fold = "lower" if type(column) is exp.Lower else "upper"
                column, case_blind = column.this, True
            if (
                isinstance(column, exp.Column)
                and isinstance(value, exp.Literal)
                and value.is_string
            ):
                text = value.this
                if fold is not None and getattr(text, fold)() != text:
                    never.setdefault(column.name.lower(), set()).add((fold, text))
                    return
                into = blind if case_blind else found
                into.setdefault(column.name.lower(), set()).add(text)

        for node in _breadth_first(tree, _WALKED, self.nodes):
            if isinstance(node, exp.Table):
                tables.append(node)
            elif isinstance(node, exp.CTE):
                self.ctes.setdefault(node.alias_or_name.lower(), node.this)
            elif isinstance(node, exp.In):
                for value in node.expressions:
                    note(node.this, value)
            elif isinstance(node, (exp.Like, exp.ILike)):
                pattern = node.expression
                if isinstance(pattern, exp.Literal) and "%" not in pattern.this:  # one value
                    note(node.this, pattern, isinstance(node, exp.ILike))
            else:
                note(node.this, node.expression)
                note(node.expression, node.this)
        self.comparisons = {k: sorted(v) for k, v in sorted(found.items())}
        self.case_blind = {k: sorted(v) for k, v in sorted(blind.items())}
        self.never = {k: sorted(v) for k, v in sorted(never.items())}
        lines: dict[str, int] = {}
        for table in tables:
            read = self._read(table, dialect)
            if read is None:
                continue
            key, named = read
            line = named.meta.get("line")
            line = line if isinstance(line, int) else 0  # 0: not known
            known = lines.get(key, 0)
            if key not in lines or (line and (not known or line < known)):  # the first line
                lines[key] = line
        self.tables = sorted(lines)
        self.table_lines = {k: v for k, v in sorted(lines.items()) if v}

    def _read(self, table: exp.Table, dialect: str) -> tuple[str, exp.Expr] | None:
        """The relation a table in the tree reads (its normalised name) and the
        node that names it; None for a CTE, an array path, or a name not written
        out (a function's result, Snowflake's `identifier($name)`)."""
        this = table.this
        text: exp.Expr | None = None
        if isinstance(this, exp.DynamicIdentifier):  # Snowflake's `identifier('raw.shop.t')`
            text = this.this
        elif dialect in _IDENTIFIER_CLAUSE and _identifier_clause(this):
            text = this.expressions[0]  # Databricks' `identifier('raw.shop.t')`
        if text is not None:
            if not isinstance(text, exp.Literal) or not text.is_string:
                return None
            key = parse_relation(text.this)
            return (key, text) if key and key not in self.ctes else None
        if not isinstance(this, exp.Identifier) or not table.name:
            return None
        if not table.db and table.name.lower() in self.ctes:
            return None
        if dialect in _ARRAY_PATHS and _array_path(table):
            return None
        return relation_key([table.catalog, table.db, table.name]), this


# (side, kind) of the `union ... by name` forms whose columns are known
_BY_NAME_MODES = frozenset(
    {("", ""), ("full", ""), ("full", "outer"), ("left", ""), ("left", "outer"), ("", "inner")}
)


# dialects whose `identifier('name')` clause reads the relation a string names
# (sqlglot gives Snowflake's its own node, these a function call)
_IDENTIFIER_CLAUSE = frozenset({"databricks", "spark"})


def _identifier_clause(node: exp.Expr) -> bool:
    return (
        isinstance(node, exp.Anonymous)
        and node.name.lower() == "identifier"
        and len(node.expressions) == 1
    )


# dialects where `from o.items` in a subquery reads the array column `items` of
# the enclosing query's source `o` (BigQuery's implicit UNNEST, Redshift's PartiQL)
_ARRAY_PATHS = frozenset({"bigquery", "redshift"})


def _array_path(table: exp.Table) -> bool:
    """Whether a two-part table name starts with the name or alias of a FROM /
    JOIN source of an enclosing query (`(select count(*) from o.line_items)`
    over `from orders as o`): an array path, not the relation `o.line_items`.
    Not above a CTE: the query it is in does not enclose it."""
    if not table.db or table.catalog:
        return False
    first = table.db.lower()
    node = table.parent
    inner = True  # the query the table is itself a source of
    while node is not None and not isinstance(node, exp.CTE):
        if isinstance(node, exp.Select):
            if not inner and first in _sources(node):
                return True
            inner = False
        node = node.parent
    return False


def _final_has_star(tree: exp.Expr) -> bool:
    query = tree
    while isinstance(query, (exp.Union, exp.Intersect, exp.Except)):
        query = query.left
    if not isinstance(query, exp.Select):
        return False
    return any(
        isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
        for p in query.expressions
    )


def _drop_injected_ctes(tree: exp.Expr) -> None:
    """Take out the CTEs `dbt compile` injects for the ephemeral models a model reads
    (`with __dbt__cte__int_orders as (...)`): the model reads each as the relation
    `ref()` renders it to, as its code says, not the ephemeral model's own parents
    (read through it) or the columns of its SELECT (a star over it is over a model)."""
    with_ = tree.args.get("with_")
    if not isinstance(with_, exp.With):
        return
    for cte in list(with_.expressions):
        if isinstance(cte, exp.CTE) and cte.alias_or_name.startswith(EPHEMERAL_PREFIX):
            cte.pop()
    if not with_.expressions:
        with_.pop()


def analyse(sql: str, dialect: str) -> Facts:
    """Parse one model's SQL and extract its facts; a parse error is a fact."""
    big = too_big(sql)
    if big is not None:
        return big
    try:
        statements = [s for s in _parse(sql, dialect) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        line = first.get("line")
        description = _readable(str(first.get("description") or exc).splitlines()[0])
        return Facts(error=description, error_line=line if isinstance(line, int) else None)
    except (TokenError, SqlglotError) as exc:
        return Facts(error=_readable(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__)
    except RecursionError:
        return Facts(error="the SQL is nested too deeply to parse")
    if not statements:
        return Facts(error="no SQL statement")
    tree = statements[-1]
    _drop_injected_ctes(tree)
    walk = _Walk(tree, dialect)
    local = _Local(walk.ctes, dialect)
    items = local.columns(tree) if isinstance(tree, exp.Query) else None
    # `select * from final` over a CTE that names its columns is dbt style, not a star
    # interface: only a star that reaches an upstream relation (or cannot be resolved) counts
    star = _final_has_star(tree) and (items is None or any(i.star for i in items))
    facts = Facts(
        items=items,
        tables=walk.tables,
        table_lines=walk.table_lines,
        star=star,
        comparisons=walk.comparisons,
        case_blind=walk.case_blind,
        never=walk.never,
    )
    _tear_down(walk.nodes)
    return facts


_MISSING = re.compile(r"Required keyword: '[^']*' missing for <class '(?:[\w.]*\.)?(\w+)'>")


def _readable(message: str) -> str:
    """A parse error's message without sqlglot's internals: `Required keyword:
    'this' missing for <class 'sqlglot.expressions.core.Paren'>` (SQL that stops
    in the middle of an expression) is an incomplete `paren` expression."""
    return _MISSING.sub(lambda found: f"incomplete `{found[1].lower()}` expression", message)


def _tear_down(nodes: list[exp.Expr]) -> None:
    """Free a tree now, by reference counting: each node knows its parent, and
    the parse workers keep the cycle collector off (it would walk every tree
    again), so a tree left whole stays in memory, 77 KB a model. Emptying the
    arguments of the nodes walked into (identifiers, literals and the like
    hold no nodes but nested types) breaks the cycles; the next model reuses
    the memory instead of new pages. Facts hold only text."""
    for node in nodes:
        node.args.clear()


class _Parsers(threading.local):
    """A tokenizer and a parser per dialect, made once per thread: each resets
    itself for the next statement, and ``sqlglot.parse`` would make both (and
    look the dialect up) again for each model, about a tenth of the parse."""

    def __init__(self) -> None:
        self.by_dialect: dict[str, tuple[Tokenizer, Parser]] = {}


_PARSERS = _Parsers()


def _parse(sql: str, dialect: str) -> list[exp.Expr | None]:
    pair = _PARSERS.by_dialect.get(dialect)
    if pair is None:
        read = Dialect.get_or_raise(dialect or None)
        pair = _PARSERS.by_dialect[dialect] = (read.tokenizer(), read.parser())
    tokenizer, parser = pair
    return parser.parse(tokenizer.tokenize(sql), sql)


def _expression(expr: str, dialect: str) -> exp.Expr | None:
    try:
        return sqlglot.parse_one(expr, read=dialect or None)
    except (SqlglotError, RecursionError):
        return None


def normalise_expression(
    expr: str, dialect: str = "", rename: Mapping[str, str] | None = None
) -> str:
    """Canonical text of a SQL expression (a metric's or measure's ``expr``, a
    filter): whitespace and keyword case as sqlglot writes them, unquoted
    identifiers lower-cased, and column references renamed through ``rename``
    (keys in lower case). Text sqlglot cannot parse comes back with its
    whitespace collapsed and lower-cased, so equal texts still compare equal."""
    return normalise_conjuncts(expr, dialect, rename, split=False)[0]


def normalise_conjuncts(
    expr: str,
    dialect: str = "",
    rename: Mapping[str, str] | None = None,
    split: bool = True,
) -> list[str]:
    """:func:`normalise_expression` of each condition of a top-level `AND`
    (`a and b` and the filters `[a, b]` are one filter), brackets around a
    single name or value dropped (`( revenue ) / orders` is `revenue / orders`)."""
    tree = _expression(expr, dialect)
    if tree is None:
        return [" ".join(expr.split()).lower()]
    mapping = rename or {}

    def canonical(node: exp.Expr) -> exp.Expr:
        # the node put in a node's place is not visited again: both changes at once
        while isinstance(node, exp.Paren) and isinstance(
            node.this, (exp.Column, exp.Literal, exp.Paren)
        ):
            node = node.this
        if mapping and isinstance(node, exp.Column) and not node.table:
            new = mapping.get(node.name.lower())
            if new is not None:
                return exp.column(exp.to_identifier(new, quoted=True))
        return node

    tree = tree.transform(canonical)
    parts = _conditions(tree) if split else [tree]
    return [part.sql(dialect=dialect or None, normalize=True) for part in parts]


def _conditions(tree: exp.Expr) -> list[exp.Expr]:
    """The conditions a top-level `AND` joins, through brackets: `a and (b and c)`."""
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if not isinstance(tree, exp.And):
        return [tree]
    return [part for side in (tree.this, tree.expression) for part in _conditions(side)]


def expression_names(expr: str, dialect: str = "") -> tuple[str, ...] | None:
    """The unqualified column names an expression refers to (lower case, sorted,
    each once), e.g. the input metrics of a derived metric; None if it does not parse."""
    tree = _expression(expr, dialect)
    if tree is None:
        return None
    return tuple(sorted({c.name.lower() for c in tree.find_all(exp.Column) if c.name}))
