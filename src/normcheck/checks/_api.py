"""What a rule is: metadata plus a small function that yields :class:`Hit`\\ s.

Rule packs use the same decorator and types (re-exported as ``normcheck.api``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, get_args

import msgspec

from normcheck._yaml import Step
from normcheck.project import Project, Resource

if TYPE_CHECKING:
    from normcheck.analysis import SqlAnalysis

RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*$"
SEVERITIES = ("off", "info", "warning", "error")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
ResourceType = Literal[
    "model",
    "seed",
    "snapshot",
    "source",
    "exposure",
    "metric",
    "semantic_model",
    "macro",
    "group",
    "column",
    "event",
    "property",
]
RESOURCE_TYPES: tuple[str, ...] = get_args(ResourceType)
PROJECT = "project"

OptionsT = TypeVar("OptionsT")


class Options(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base class of rule options. Annotate fields with ``msgspec.Meta(description=...)``:
    the JSON Schema and the docs' options section are generated from them."""


class NoOptions(Options, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


# How an option of a locked rule may change and keep the rule as strict (a locked rule
# may only be strengthened): ``msgspec.Meta(extra={"stricter": WAY})`` on the option.
# An option without one may not change at all under a lock.
def _more_per_key(new: Any, old: Any) -> bool:
    """A mapping: every key kept, each list value with the same items or more."""
    return all(
        key in new
        and (
            new[key] == old[key] or (isinstance(old[key], list) and set(new[key]) >= set(old[key]))
        )
        for key in old
    )


def _narrower_layers(new: Any, old: Any) -> bool:
    """`layers`: the same layers in the same order (the first that matches decides),
    each over the same paths, allowing the same prefixes or fewer (in any order)."""
    return list(new) == list(old) and all(
        set(new[name].get("paths", ())) == set(old[name].get("paths", ()))
        and set(new[name].get("prefixes", ())) <= set(old[name].get("prefixes", ()))
        for name in old
    )


_STRICTER: dict[str, Callable[[Any, Any], bool]] = {
    "more": lambda new, old: set(new) >= set(old),  # a list: more items judge more
    # words compared case-blind: `TODO` is `todo`
    "more-words": lambda new, old: {w.lower() for w in new} >= {w.lower() for w in old},
    "more-per-key": _more_per_key,  # e.g. more layers each layer may not read
    "narrower-layers": _narrower_layers,
    "fewer": lambda new, old: set(new) <= set(old),  # a list of what is allowed
    "higher": lambda new, old: bool(new >= old),
    "lower": lambda new, old: bool(new <= old),
    "true": lambda new, old: new is True or new == old,  # a requirement switched on
}


def stricter_or_same(options: type[Options], key: str, new: object, old: object) -> bool:
    """Whether ``new`` keeps option ``key`` at least as strict as ``old`` (raw values
    from the configuration; ``old`` is the default when no earlier file set it)."""
    if new == old:
        return True
    way = option_meta(options, key).get("stricter")
    compare = _STRICTER.get(str(way))
    if compare is None:
        return False
    try:
        return compare(new, old)
    except TypeError:  # not comparable (e.g. an unhashable item): not provably stricter
        return False


def option_meta(options: type[Options], key: str) -> dict[str, Any]:
    """The ``extra`` of option ``key``'s ``msgspec.Meta``."""
    import msgspec.inspect  # only when a locked rule's option changes

    info = msgspec.inspect.type_info(options)
    for found in info.fields if isinstance(info, msgspec.inspect.StructType) else ():
        if found.encode_name == key and isinstance(found.type, msgspec.inspect.Metadata):
            return dict(found.type.extra or {})
    return {}


def option_default(options: type[Options], key: str) -> object:
    """The default of option ``key``, as the configuration would write it."""
    try:
        return msgspec.to_builtins(getattr(options(), key, None))
    except TypeError:  # the options have required fields: no default to compare with
        return None


@dataclass(frozen=True)
class Hit:
    """One problem a rule found. The engine adds severity, owner, place and
    fingerprint. ``key`` tells two hits on one resource apart in the
    fingerprint; it must not contain line numbers or message wording."""

    message: str
    key: str = ""
    yaml_key: tuple[Step, ...] = ()
    where: str = "auto"  # "auto": the YAML entry when there is one; "file": the resource's file
    line: int | None = None  # a line in the resource's own file (SQL)
    resource: Resource | None = None  # for project-wide rules: the resource the hit is about


@dataclass(frozen=True)
class Vocabulary:
    preferred: Mapping[str, str] = field(default_factory=dict)
    banned: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layer:
    name: str
    paths: tuple[str, ...]
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class Context(Generic[OptionsT]):
    """What a rule sees besides the resource: the project, its options, and
    the shared norms of the resolved configuration."""

    project: Project
    options: OptionsT
    vocabulary: Vocabulary
    owners: Mapping[str, Mapping[str, object]]
    layers: tuple[Layer, ...]
    sql: SqlAnalysis | None = None  # present when a sql/ rule runs


RuleFunc = Callable[[Any, Context[Any]], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    targets: tuple[str, ...]
    options: type[Options]
    func: RuleFunc
    doc: str
    fixable: bool = False
    subject_only: bool = False
    reads_sql: bool = False  # a plugin's: the models' SQL is parsed for it (``ctx.sql``)

    @property
    def family(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0].strip() if self.doc.strip() else ""

    def default_options(self) -> Options:
        return self.options()


def rule(
    id: str,
    *,
    severity: str,
    targets: Iterable[str],
    options: type[Options] = NoOptions,
    subject_only: bool = False,
    reads_sql: bool = False,
) -> Callable[[RuleFunc], Rule]:
    """Declare a rule. The function's docstring is its user documentation
    (first line: the summary; then ``## What it finds``, ``## Why it matters``,
    ``## Example``, ``## Use instead``).

    ``subject_only=True`` promises that the rule reads nothing but the resource
    it is given, its options and the shared norms (``ctx.vocabulary``,
    ``ctx.owners``, ``ctx.layers``): never ``ctx.project`` nor ``ctx.sql``. When
    every rule that runs keeps that promise and none judges columns, normcheck
    does not build the project's column resources (most of a big project). With
    the SQL rules on, such rules run while the SQL is being parsed, and again
    afterwards only on the resources the analysis added or changed.

    ``reads_sql=True`` asks for the SQL analysis (``ctx.sql``) whenever the rule
    runs, as normcheck's own ``sql/`` rules do; without it ``ctx.sql`` is None
    unless one of those is on."""
    if severity not in SEVERITIES[1:]:
        raise ValueError(f"rule {id}: severity must be info, warning or error")
    if re.fullmatch(RULE_ID_PATTERN, id) is None:  # else no rule set could configure it
        raise ValueError(
            f"rule id `{id}` must be family/name in lowercase letters, digits, `_`, `.` and `-`"
        )
    if reads_sql and subject_only:
        raise ValueError(f"rule {id}: a rule that reads the SQL (ctx.sql) is not subject_only")
    target_tuple = tuple(targets)
    for target in target_tuple:
        if target not in (*RESOURCE_TYPES, PROJECT):
            raise ValueError(f"rule {id}: unknown target `{target}`")

    def wrap(func: RuleFunc) -> Rule:
        return Rule(
            id=id,
            severity=severity,
            targets=target_tuple,
            options=options,
            func=func,
            doc=inspect.cleandoc(func.__doc__ or ""),
            subject_only=subject_only,
            reads_sql=reads_sql,
        )

    return wrap
