"""Render a dbt model's Jinja SQL without a warehouse and without `dbt compile`.

A real jinja2 environment with dbt's context stubbed: ``ref()`` and
``source()`` return the relation names the manifest gives them, ``config()``
and ``var()`` their values, ``is_incremental()`` is false, ``execute`` is
false (as during `dbt parse`), and project and package macros are rendered
from their own definitions in the manifest, with ``adapter.dispatch`` and
``return()`` as dbt does. Anything else unknown renders as a neutral ``NULL``.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
import jinja2.ext
import jinja2.sandbox
import yaml

PLACEHOLDER = "NULL"


class RenderError(Exception):
    """The model's Jinja could not be rendered (syntax error, compiler error)."""


class _MacroReturn(Exception):
    def __init__(self, value: object) -> None:
        super().__init__()
        self.value = value


class _Undefined(jinja2.ChainableUndefined):
    """Unknown names render as nothing, and calling one yields a neutral NULL."""

    def __call__(self, *args: object, **kwargs: object) -> str:  # type: ignore[override]
        return PLACEHOLDER

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


@dataclass(frozen=True)
class MacroSource:
    package: str
    name: str
    sql: str


@dataclass(frozen=True)
class RenderInput:
    """What rendering one model needs from the manifest."""

    name: str
    package: str
    raw_code: str
    config: Mapping[str, object]
    relation: str


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
        return []

    def get_relation(self, *args: object, **kwargs: object) -> None:
        return None

    def get_missing_columns(self, *args: object, **kwargs: object) -> list[object]:
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
        self.globals: dict[str, object] = {name: self._lazy(name) for name in sorted(names)}
        for package in packages:
            if package not in self.globals:
                self.globals[package] = _Namespace(self, package)
        self.globals.update(
            adapter=_Adapter(self),
            api={"Column": _Column, "Relation": _Undefined(name="api.Relation")},
            exceptions=_Exceptions(),
            execute=False,
            flags=_Undefined(name="flags"),
            modules=_Modules,
            log=lambda *a, **k: "",
            print=lambda *a, **k: "",
            run_query=lambda *a, **k: None,
            load_result=lambda *a, **k: None,
            statement=lambda *a, **k: "",
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

    # -- macros -------------------------------------------------------------
    def _lazy(self, name: str) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            macro = self.lookup(name)
            if macro is None:
                return PLACEHOLDER
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
        """The model's SQL: by plain substitution when it only calls ref(),
        source(), config() and var() (most models; lines are kept), else by Jinja."""
        simple = self._substitute(model)
        return simple if simple is not None else self._render_jinja(model)

    def _substitute(self, model: RenderInput) -> str | None:
        code = _COMMENT.sub(_blank_lines, model.raw_code)
        if "{%" in code:
            return None

        def replace(match: re.Match[str]) -> str:
            call = match.group(1)
            if call == "config":
                return _blank_lines(match)
            args, kwargs = _literal_args(match.group(2))
            if call == "var" and args and not kwargs:
                value = self.variables.get(args[0])
                if value is None:
                    value = args[1] if len(args) > 1 else PLACEHOLDER
                return str(value)
            if call == "source" and len(args) == 2 and not kwargs:
                return self.refs.get((f"source:{args[0]}", args[1], None)) or args[1]
            if call == "ref" and 1 <= len(args) <= 2 and set(kwargs) <= {"v", "version"}:
                v = kwargs.get("v") or kwargs.get("version")
                package, name = (args[0], args[1]) if len(args) == 2 else (None, args[0])
                return self.refs.get((package, name, v)) or self.refs.get((None, name, v)) or name
            raise _NotSimple

        try:
            code = _SIMPLE_CALL.sub(replace, code)
        except _NotSimple:
            return None
        return None if "{{" in code else code

    def _render_jinja(self, model: RenderInput) -> str:
        def ref(*args: str, **kwargs: object) -> Relation:
            version = kwargs.get("version", kwargs.get("v"))
            package, name = (args[0], args[1]) if len(args) > 1 else (None, args[0])
            key = (package, name, None if version is None else str(version))
            text = self.refs.get(key) or self.refs.get((None, name, key[2])) or name
            return Relation(text, name)

        def source(source_name: str, table: str) -> Relation:
            text = self.refs.get((f"source:{source_name}", table, None)) or table
            return Relation(text, table, source_name)

        def var(name: str, default: object = None) -> object:
            if name in self.variables:
                return self.variables[name]
            return PLACEHOLDER if default is None else default

        context = {
            "ref": ref,
            "source": source,
            "var": var,
            "config": _Config(model.config),
            "this": Relation(model.relation, model.name),
            "model": {"name": model.name, "package_name": model.package, "config": model.config},
        }
        try:
            template = self.env.from_string(model.raw_code, globals=self.globals)
            return template.render(context)
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


_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_SIMPLE_CALL = re.compile(
    r"\{\{-?\s*(ref|source|config|var)\s*\(((?:[^(){}]|\([^()]*\)|\{[^{}]*\})*)\)\s*-?\}\}",
    re.DOTALL,
)
_LITERAL = re.compile(r"""\s*(?:(\w+)\s*=\s*)?(?:'([^'\\]*)'|"([^"\\]*)"|(\d+(?:\.\d+)?))\s*""")


def _literal_args(text: str) -> tuple[list[str], dict[str, str]]:
    """Positional and keyword arguments when all are string or number literals."""
    args: list[str] = []
    kwargs: dict[str, str] = {}
    if not text.strip():
        return args, kwargs
    for part in text.split(","):
        found = _LITERAL.fullmatch(part)
        if found is None:
            raise _NotSimple
        key, single, double, number = found.groups()
        value = single if single is not None else double if double is not None else number
        if key:
            kwargs[key] = value
        elif kwargs:
            raise _NotSimple
        else:
            args.append(value)
    return args, kwargs


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
