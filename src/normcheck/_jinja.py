"""Render a dbt model's Jinja SQL without a warehouse and without `dbt compile`.

A real jinja2 environment with dbt's context stubbed: ``ref()`` and
``source()`` return the relation names the manifest gives them, ``config()``
and ``var()`` their values, ``is_incremental()`` is false, ``execute`` is
false (as during `dbt parse`), and project and package macros are rendered
from their own definitions in the manifest, with ``adapter.dispatch`` and
``return()`` as dbt does. Anything else unknown renders as a neutral ``NULL``.
"""

from __future__ import annotations

import ast
import datetime
import itertools
import json
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jinja2
import jinja2.ext
import jinja2.sandbox
import yaml

from normcheck.sqlfacts import UNRESOLVED, MacroSource, RenderInput

PLACEHOLDER = "NULL"


class RenderError(Exception):
    """The model's Jinja could not be rendered (syntax error, compiler error)."""


class _MacroReturn(Exception):
    def __init__(self, value: object) -> None:
        super().__init__()
        self.value = value


# Whether the model being rendered asked the warehouse (`execute`, `run_query`,
# `adapter.get_columns_in_relation`, ...) or looped over a placeholder: what
# normcheck rendered without one is then not what dbt compiles, whose columns
# (a pivot over `run_query`'s values, `dbt_utils.star`) are not known.
_ASKED = [False]


def _asked() -> None:
    _ASKED[0] = True


def _asking(value: object) -> Callable[..., object]:
    def call(*args: object, **kwargs: object) -> object:
        _asked()
        return value

    return call


class _Placeholder(str):
    """The neutral `NULL` an unknown call renders as; a loop over it (the values
    an unknown macro would have returned) runs no time, and says so."""

    def __iter__(self) -> Iterator[str]:
        _asked()
        return iter(())


PLACEHOLDER_VALUE = _Placeholder(PLACEHOLDER)


class _Execute:
    """dbt's `execute`: false, as when dbt parses; a model that asks is one whose
    compiled SQL depends on the warehouse."""

    def __bool__(self) -> bool:
        _asked()
        return False

    def __str__(self) -> str:
        return "False"


class _Undefined(jinja2.ChainableUndefined):
    """Unknown names render as nothing, and calling one yields a neutral NULL."""

    def __call__(self, *args: object, **kwargs: object) -> str:  # type: ignore[override]
        return PLACEHOLDER_VALUE

    def __iter__(self) -> Iterator[object]:
        return iter(())

    def __getitem__(self, *args: object, **kwargs: object) -> _Undefined:  # type: ignore[override]
        return self

    def __bool__(self) -> bool:
        return False


class Relation(str):
    """A relation name as `ref()`/`source()` return it, with dbt's attributes."""

    database: str | None
    schema: str | None
    identifier: str

    def __new__(
        cls, text: str, identifier: str, schema: str | None = None, database: str | None = None
    ) -> Relation:
        made = super().__new__(cls, text)
        made.identifier = identifier
        made.schema = schema
        made.database = database
        return made

    @property
    def name(self) -> str:
        return self.identifier

    @property
    def table(self) -> str:
        return self.identifier

    def include(self, *args: object, **kwargs: object) -> Relation:
        return self

    def quote(self, *args: object, **kwargs: object) -> Relation:
        return self

    def render(self) -> str:
        return str(self)


class _Namespace:
    """`dbt_utils.star` and friends: a package's macros, compiled on first use."""

    def __init__(self, renderer: Renderer, package: str) -> None:
        self._renderer = renderer
        self._package = package

    def __getattr__(self, name: str) -> object:
        macro = self._renderer.macro(self._package, name)
        if macro is None:
            return _Undefined(name=f"{self._package}.{name}")
        return macro


class _Adapter:
    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer

    def dispatch(self, name: str, macro_namespace: str | None = None, **_: object) -> object:
        return self._renderer.dispatch(name, macro_namespace)

    def quote(self, value: object) -> str:
        return f'"{value}"'

    def type(self) -> str:
        return self._renderer.adapter

    def get_columns_in_relation(self, *args: object, **kwargs: object) -> list[object]:
        _asked()
        return []

    def get_relation(self, *args: object, **kwargs: object) -> None:
        _asked()  # and None: no relation, as when dbt parses

    def get_missing_columns(self, *args: object, **kwargs: object) -> list[object]:
        _asked()
        return []

    def __getattr__(self, name: str) -> object:
        return _Undefined(name=f"adapter.{name}")


class _Config:
    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = values

    def __call__(self, *args: object, **kwargs: object) -> str:
        return ""

    def get(self, key: str, default: object = None) -> object:
        return self._values.get(key, default)

    def require(self, key: str) -> object:
        return self._values.get(key)

    def set(self, *args: object, **kwargs: object) -> str:  # `set_sql_header`'s
        return ""


class _Column:
    @staticmethod
    def translate_type(name: str) -> str:
        return name

    @staticmethod
    def string_type(size: int = 0) -> str:
        return "varchar"

    @staticmethod
    def numeric_type(dtype: str, precision: object = None, scale: object = None) -> str:
        return str(dtype)


class _Exceptions:
    @staticmethod
    def raise_compiler_error(message: object = "", *args: object) -> None:
        raise RenderError(str(message))

    @staticmethod
    def warn(*args: object, **kwargs: object) -> str:
        return ""

    def __getattr__(self, name: str) -> Callable[..., str]:
        return self.warn


def _return(value: object = "") -> None:
    raise _MacroReturn(value)


def _as_bool(value: object) -> bool:
    return (
        str(value).strip().lower() in ("true", "1", "yes")
        if isinstance(value, str)
        else bool(value)
    )


class _Modules:
    datetime = datetime
    re = re
    itertools = itertools


class Renderer:
    """One per project: holds the macro sources and the shared Jinja globals."""

    def __init__(
        self,
        root_package: str,
        adapter: str,
        macros: list[MacroSource],
        variables: Mapping[str, object],
        refs: Mapping[tuple[str | None, str, str | None], str],
    ) -> None:
        self.root = root_package
        self.refs = refs
        self.adapter = adapter or "default"
        self.sources: dict[tuple[str, str], str] = {(m.package, m.name): m.sql for m in macros}
        self.compiled: dict[tuple[str, str], object] = {}
        self.variables = variables
        # Sandboxed, as dbt's own environment is: a model's Jinja must not reach
        # Python internals (`cycler.__init__.__globals__.os`) when normcheck renders it.
        self.env = jinja2.sandbox.SandboxedEnvironment(
            undefined=_Undefined,
            extensions=[jinja2.ext.do, jinja2.ext.loopcontrols],
            autoescape=False,
        )
        self.env.filters.update(
            as_bool=_as_bool,
            as_native=lambda v: v,
            as_number=lambda v: v,
            as_text=str,
        )
        packages = sorted({m.package for m in macros})
        internal = [
            p for p in packages if p == "dbt" or (p.startswith("dbt_") and p[4:] == self.adapter)
        ]
        self.search = [root_package, *internal]
        names = {m.name for m in macros if m.package in self.search}
        self._macros = {name: self._lazy(name) for name in sorted(names)}
        self.globals: dict[str, object] = dict(self._macros)
        self._done: dict[str, str] = {}  # `{{ call(literals) }}` text -> its output
        for package in packages:
            if package not in self.globals:
                self.globals[package] = _Namespace(self, package)
        self.globals.update(
            adapter=_Adapter(self),
            api={"Column": _Column, "Relation": _Undefined(name="api.Relation")},
            exceptions=_Exceptions(),
            execute=_Execute(),
            flags=_Undefined(name="flags"),
            modules=_Modules,
            log=lambda *a, **k: "",
            print=lambda *a, **k: "",
            run_query=_asking(None),
            load_result=_asking(None),
            statement=_asking(""),
            tojson=lambda v, **k: json.dumps(v, sort_keys=True, default=str),
            fromjson=lambda v, default=None: _safe(json.loads, v, default),
            toyaml=lambda v, **k: yaml.safe_dump(v, sort_keys=True),
            fromyaml=lambda v, default=None: _safe(yaml.safe_load, v, default),
            zip=zip,
            set=set,
            local_md5=lambda v: "0" * 32,
            dbt_version="1.11.0",
            invocation_id="00000000-0000-0000-0000-000000000000",
            run_started_at=datetime.datetime(2000, 1, 1),
            graph={"nodes": {}, "sources": {}, "macros": {}, "exposures": {}, "metrics": {}},
            is_incremental=lambda: False,
            should_full_refresh=lambda: False,
            env_var=lambda name, default=None: name if default is None else default,
            target=_Target(self.adapter),
            **{"return": _return},
        )
        # what `{{ name(literals) }}` may call without Jinja: the model context's
        # ref/source/function/var (they depend only on their arguments), macros, env_var
        context = self._context(RenderInput("", root_package, "", {}, ""))
        self._context_names = frozenset(context)
        self._callables: dict[str, object] = {
            **{name: self.globals[name] for name in names},
            "env_var": self.globals["env_var"],
            **{name: context[name] for name in ("ref", "source", "function", "var")},
        }

    def provides(self, name: str) -> bool:
        """Whether a model calling ``name()`` gets normcheck's own (``ref``,
        ``is_incremental``, ...), not a macro of that name."""
        own = self.globals.get(name)
        return name in self._context_names or (
            own is not None and own is not self._macros.get(name)
        )

    # -- macros -------------------------------------------------------------
    def _lazy(self, name: str) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            macro = self.lookup(name)
            if macro is None:
                return PLACEHOLDER_VALUE
            return macro(*args, **kwargs)  # type: ignore[operator]

        return call

    def lookup(self, name: str) -> object | None:
        for package in self.search:
            macro = self.macro(package, name)
            if macro is not None:
                return macro
        return None

    def macro(self, package: str, name: str) -> object | None:
        key = (package, name)
        if key in self.compiled:
            return self.compiled[key]
        sql = self.sources.get(key)
        if sql is None:
            return None
        try:
            module = self.env.from_string(sql, globals=self.globals).module
            jinja_macro = getattr(module, name)
        except Exception:  # a macro we cannot compile renders as a placeholder
            self.compiled[key] = None
            return None

        def call(*args: object, **kwargs: object) -> object:
            try:
                return jinja_macro(*args, **kwargs)
            except _MacroReturn as returned:
                return returned.value

        self.compiled[key] = call
        return call

    def dispatch(self, name: str, namespace: str | None) -> object:
        packages = [self.root, *([namespace] if namespace else []), *self.search[1:]]
        for prefix in (f"{self.adapter}__", "default__"):
            for package in packages:
                macro = self.macro(package, prefix + name)
                if macro is not None:
                    return macro
        return _Undefined(name=name)

    # -- models -------------------------------------------------------------
    def render(self, model: RenderInput) -> str:
        """The model's SQL: without compiling a template when its Jinja is only
        expressions that call ref(), source(), config(), var(), env_var() or a
        macro with literal arguments, plus `{% if is_incremental() %}` blocks (most
        models; lines are kept), else by compiling the model's template."""
        _ASKED[0] = False
        simple = self._substitute(model)
        return simple if simple is not None else self._render_jinja(model)

    @property
    def asked(self) -> bool:
        """Whether the last model rendered asked the warehouse (see ``_ASKED``)."""
        return _ASKED[0]

    def _substitute(self, model: RenderInput) -> str | None:
        code = model.raw_code
        if "{#" in code:
            code = _COMMENT.sub(_blank_lines, code)
        if any(mark in code for mark in _WHITESPACE_CONTROL):  # Jinja trims: Jinja renders
            return None
        if "{%" in code:
            code = _INCREMENTAL_IF.sub(_not_incremental, code)
            if any(tag != "set" for tag in _TAG.findall(code)):
                return None
        if "{" not in code:
            return code
        local: dict[str, object] = {}  # `{% set name = literal %}`, in template order

        def replace(match: re.Match[str]) -> str:
            if match.group(2) is not None:
                local[match.group(2)] = _literal(_parse(match.group(3)))
                return _blank_lines(match)
            return self._expression(match, model, local)

        try:
            code = _TOKEN.sub(replace, code)
        except (_NotSimple, RenderError):  # Jinja says what it says (a syntax error first)
            return None
        return None if "{{" in code or "{%" in code else code

    def _expression(
        self, match: re.Match[str], model: RenderInput, local: Mapping[str, object]
    ) -> str:
        """One `{{ ... }}` evaluated without Jinja, or _NotSimple. What only
        calls with literal arguments gives the same text wherever it is: it is
        evaluated once per renderer."""
        text = match.group(1).strip()
        done = None if local else self._done.get(text)
        if done is not None:
            return done
        plain = _PLAIN_CALL.fullmatch(text)
        name = plain.group("name") if plain is not None else ""
        target = None if name in local or name == "config" else self._callables.get(name)
        before, _ASKED[0] = _ASKED[0], False  # what this expression asks, apart
        try:
            value, same_everywhere = self._evaluated(text, plain, target, match, model, local)
        finally:
            asked, _ASKED[0] = _ASKED[0], before or _ASKED[0]
        if same_everywhere and not asked:  # asked the warehouse: asks it again next time
            self._done[text] = value
        return value

    def _evaluated(
        self,
        text: str,
        plain: re.Match[str] | None,
        target: object,
        match: re.Match[str],
        model: RenderInput,
        local: Mapping[str, object],
    ) -> tuple[str, bool]:
        """One expression's text, and whether it is the same wherever it is."""
        if plain is not None and target is not None:  # `ref('orders')`: not parsed as Python
            strings = _STRING.findall(plain.group("args") or "")
            return str(_call(target, [a or b for a, b in strings], {})), True
        tree = _parse(text)
        if (
            isinstance(tree, ast.Call)
            and isinstance(tree.func, ast.Name)
            and tree.func.id == "config"
            and "config" not in local
        ):
            return _blank_lines(match), False
        uses_model = [False]  # `this` or a `{% set %}` name: not the same everywhere
        return str(self._value(tree, model, local, uses_model)), not uses_model[0]

    def _value(
        self,
        node: ast.expr,
        model: RenderInput,
        local: Mapping[str, object],
        uses_model: list[bool],
    ) -> object:
        """A literal, a `{% set %}` name, `this`, or a call of ref/source/var/
        env_var/a macro whose arguments are such values."""
        if isinstance(node, ast.Name) and node.id in local:
            uses_model[0] = True
            return local[node.id]
        if isinstance(node, ast.Name) and node.id == "this":
            uses_model[0] = True
            return Relation(model.relation, model.name)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # `~` (_as_python)
            left = self._value(node.left, model, local, uses_model)
            return f"{left}{self._value(node.right, model, local, uses_model)}"
        if not isinstance(node, ast.Call):
            return _literal(node)
        function = node.func
        target: object
        if isinstance(function, ast.Name) and function.id not in local:
            target = self._callables.get(function.id)
        elif (
            isinstance(function, ast.Attribute)
            and isinstance(function.value, ast.Name)
            and not function.attr.startswith("_")
            and isinstance(self.globals.get(function.value.id), _Namespace)
        ):
            target = getattr(self.globals[function.value.id], function.attr)
        else:
            raise _NotSimple
        args = [self._value(arg, model, local, uses_model) for arg in node.args]
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise _NotSimple
            kwargs[keyword.arg] = self._value(keyword.value, model, local, uses_model)
        return _call(target, args, kwargs)

    def _context(self, model: RenderInput) -> dict[str, object]:
        def ref(*args: str, **kwargs: object) -> Relation:
            version = kwargs.get("version", kwargs.get("v"))
            package, name = (args[0], args[1]) if len(args) > 1 else (None, args[0])
            key = (package, name, None if version is None else str(version))
            text = self.refs.get(key) or self.refs.get((None, name, key[2]))
            return Relation(text or f"{UNRESOLVED}.{name}", name)

        def source(source_name: str, table: str) -> Relation:
            text = self.refs.get((f"source:{source_name}", table, None))
            return Relation(text or f"{UNRESOLVED}.{table}", table, source_name)

        def function(*args: str) -> str:  # a user-defined function (dbt 1.11+)
            package, name = (args[0], args[1]) if len(args) > 1 else ("", args[0])
            return self.refs.get((f"function:{package}", name, None)) or name

        def var(name: str, default: object = None) -> object:
            if name in self.variables:
                return self.variables[name]
            return PLACEHOLDER_VALUE if default is None else default

        return {
            "ref": ref,
            "source": source,
            "function": function,
            "var": var,
            "config": _Config(model.config),
            "this": Relation(model.relation, model.name),
            "model": {"name": model.name, "package_name": model.package, "config": model.config},
        }

    def _render_jinja(self, model: RenderInput) -> str:
        try:
            template = self.env.from_string(model.raw_code, globals=self.globals)
            return template.render(self._context(model))
        except _MacroReturn as returned:
            return str(returned.value)
        except RenderError:
            raise
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"Jinja syntax error at line {exc.lineno}: {exc.message}") from None
        except Exception as exc:
            raise RenderError(f"Jinja could not render: {type(exc).__name__}: {exc}") from None


class _NotSimple(Exception):
    pass


def _call(target: object, args: list[object], kwargs: dict[str, object]) -> object:
    if not callable(target):
        raise _NotSimple
    try:
        return target(*args, **kwargs)
    except RenderError:
        raise
    except Exception:  # Jinja reports it the way it always does
        raise _NotSimple from None


# `name('text', "text")`: a call with string arguments that hold no escapes and no
# line breaks (Jinja reads a lone carriage return as a newline), the same in Jinja and
# Python: most `{{ }}` of a dbt project (ref, source, macros)
_STRING = re.compile(r"'([^'\\\r\n]*)'|" + r'"([^"\\\r\n]*)"')
_PLAIN_CALL = re.compile(
    rf"(?P<name>[A-Za-z_]\w*)\(\s*"
    rf"(?P<args>(?:{_STRING.pattern})(?:\s*,\s*(?:{_STRING.pattern}))*)?\s*\)"
)


_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_INCREMENTAL_IF = re.compile(
    r"\{%-?\s*if\s+(not\s+)?is_incremental\(\)\s*-?%\}((?:(?!\{%).)*?)"
    r"(?:(\{%-?\s*else\s*-?%\})((?:(?!\{%).)*?))?\{%-?\s*endif\s*-?%\}",
    re.DOTALL,
)
_TAG = re.compile(r"\{%-?\s*(\w+)")
_WHITESPACE_CONTROL = ("{{-", "-}}", "{%-", "-%}")
# a Jinja string literal, as Jinja's lexer reads one: escapes, line breaks
_JINJA_STRING = r"'(?:[^'\\]|\\.)*'|" + r'"(?:[^"\\]|\\.)*"'
_TOKEN = re.compile(
    rf"""\{{\{{-?((?:[^{{}}'"]|{_JINJA_STRING}|\{{[^{{}}]*\}})*?)-?\}}\}}"""
    rf"""|\{{%-?\s*set\s+([A-Za-z_]\w*)\s*=((?:[^{{}}%'"]|{_JINJA_STRING}|\{{[^{{}}]*\}})*?)-?%\}}""",
    re.DOTALL,
)
# what _parse rewrites: strings (Python's cannot hold a line break), `~` and `|`
_REWRITTEN = re.compile(rf"{_JINJA_STRING}|[~|]", re.DOTALL)
_CONSTANTS = {
    "true": True,
    "false": False,
    "none": None,
    "True": True,
    "False": False,
    "None": None,
}


def _not_incremental(match: re.Match[str]) -> str:
    """The branch of `{% if [not] is_incremental() %}` taken on a full build
    (is_incremental() is false), every other line kept as a blank line."""
    negated = match.group(1) is not None
    keep = 2 if negated else 4
    if match.group(keep) is None:
        return _blank_lines(match)
    start, end = match.span(keep)
    whole_start, whole_end = match.span()
    text = match.string
    return (
        "\n" * text.count("\n", whole_start, start)
        + match.group(keep)
        + "\n" * text.count("\n", end, whole_end)
    )


def _parse(text: str) -> ast.expr:
    """A Jinja expression's tree as Python reads it; _NotSimple when it is not
    Python too. Known string escapes mean the same in both (Jinja decodes them
    with the unicode-escape codec); an unknown one (`\\d`), which Jinja refuses
    and Python only warns of, is left to Jinja. `~`, `|` and strings across
    lines are rewritten first (_as_python)."""
    if "~" in text or "|" in text or "\n" in text:
        text = _REWRITTEN.sub(_as_python, text)
    try:
        if "\\" not in text:
            return ast.parse(text.strip(), mode="eval").body
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError, Warning):
        raise _NotSimple from None


def _as_python(match: re.Match[str]) -> str:
    """Jinja's `a ~ b` (join as text) as `a | b`, which _value reads back as a
    join (Python's `|` binds more loosely than `~`, so `~` next to any other
    operator stays Jinja's: _value takes no other); a string across lines with
    its line breaks escaped (the same value in both). A filter (`|`), a carriage
    return (Jinja reads it as a line break) or a backslash ending a line: _NotSimple."""
    found = match.group(0)
    if found == "~":
        return "|"
    if found == "|" or "\r" in found or "\\\n" in found:
        raise _NotSimple
    return found.replace("\n", "\\n")


def _literal(node: ast.expr) -> object:
    """A Jinja literal argument (string, number, boolean, none, list, tuple, dict)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float)):
        return node.value
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.List):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        keys = [_literal(k) for k in node.keys if k is not None]
        try:
            return {k: _literal(v) for k, v in zip(keys, node.values, strict=True)}
        except TypeError:  # an unhashable key
            raise _NotSimple from None
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
    ):
        return -node.operand.value
    raise _NotSimple


def _blank_lines(match: re.Match[str]) -> str:
    return "\n" * match.group(0).count("\n")


class _Target:
    def __init__(self, adapter: str) -> None:
        self.type = adapter
        self.name = "dev"
        self.schema = "main"
        self.database = "db"
        self.profile_name = "default"
        self.threads = 1

    def get(self, key: str, default: object = None) -> object:
        return getattr(self, key, default)


def _safe(load: Callable[[str], Any], text: object, default: object) -> object:
    try:
        return load(str(text))
    except Exception:
        return default
