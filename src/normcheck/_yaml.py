"""YAML loading with line numbers (safe loader only).

A :class:`YamlDoc` holds the constructed data and the 1-based line of every
mapping key and sequence item, keyed by its path from the root, so findings
and configuration errors can point at the exact line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from normcheck.errors import ArtifactError, UserError

try:  # the libyaml build is much faster; fall back to pure Python where absent
    _Base: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader


class _Unreadable(yaml.constructor.ConstructorError):
    """A well-formed scalar whose value cannot be built: `2027-02-30` (a date that
    does not exist), a number of more digits than Python converts, `!!int x`."""


_VALUE_KINDS = {"timestamp": "date", "int": "number", "float": "number"}


class _Loader(_Base):  # type: ignore[valid-type,misc,unused-ignore]
    def construct_object(self, node: yaml.Node, deep: bool = False) -> object:
        try:
            return super().construct_object(node, deep)  # type: ignore[no-untyped-call,unused-ignore]
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            raise _Unreadable(None, None, _unreadable(node, exc), node.start_mark) from None


def _unreadable(node: yaml.Node, exc: Exception) -> str:
    value = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
    shown = value if len(value) <= 40 else f"{value[:20]}... ({len(value)} characters)"
    kind = node.tag.rsplit(":", 1)[-1]
    what = _VALUE_KINDS.get(kind, kind)
    if "integer string conversion" in str(exc):  # Python's 4,300-digit limit
        detail = " (too many digits)"
    elif isinstance(exc, ValueError) and str(exc) and "\n" not in str(exc):
        detail = f" ({exc})"  # `day is out of range for month`
    else:
        detail = ""
    return f"`{shown}` is not a valid {what}{detail}: correct it, or quote it to make it text"


PathKey = tuple[str | int, ...]
Step = str | int | tuple[str, str]

MAX_YAML_BYTES = 20 * 1024 * 1024
# Real configuration, tracking-plan and properties files nest fewer than 20 levels. A
# cap keeps hostile ones from overflowing the C stack of libyaml's composer (a crash,
# not an exception) or Python's recursion limit in what reads the data afterwards.
MAX_YAML_DEPTH = 100
# Nodes that aliases may add when the document is expanded: a "billion laughs"
# document (aliases of aliases) is refused before anything walks it.
MAX_ALIAS_EXPANSION = 100_000
_LEADING = re.compile(r"^[ ?-]*", re.MULTILINE)
_ANCHOR = re.compile(r"&[^\s,\[\]{}]")  # without one, no node is shared: no alias to check


@dataclass(frozen=True)
class YamlDoc:
    """Data of one YAML document plus the line of each key and item."""

    path: str
    data: object
    lines: Mapping[PathKey, int]

    def line(self, key: PathKey) -> int | None:
        """The line of the key at ``key``, or of its closest existing ancestor."""
        while key:
            found = self.lines.get(key)
            if found is not None:
                return found
            key = key[:-1]
        return self.lines.get(())

    def locate(self, steps: Iterable[Step]) -> int | None:
        """Follow ``steps`` (mapping keys, or ``(field, value)`` to pick the list
        item whose ``field`` equals ``value``, ``("", value)`` the text item quoting
        it) and return the deepest line found."""
        return self.line(self._follow(tuple(steps))[0])

    def locate_exact(self, steps: Iterable[Step]) -> int | None:
        """The line at the end of ``steps``, or None when they do not all exist."""
        key, complete = self._follow(tuple(steps))
        return self.line(key) if complete else None

    def _follow(self, steps: tuple[Step, ...]) -> tuple[PathKey, bool]:
        node = self.data
        key: PathKey = ()
        for step in steps:
            if isinstance(step, int):
                if not isinstance(node, list) or not 0 <= step < len(node):
                    return key, False
                key = (*key, step)
                node = node[step]
            elif isinstance(step, tuple):
                field, value = step
                index = _find_item(node, field, value) if isinstance(node, list) else None
                if index is None:
                    return key, False
                key = (*key, index)
                node = node[index]  # type: ignore[index]
            else:
                if not isinstance(node, dict) or step not in node:
                    return key, False
                key = (*key, step)
                node = node[step]
        return key, True


# `ref('name')`, `ref('package', 'name')`, either with `v=` / `version=`
_REF = re.compile(
    r"""ref\s*\(\s*(['"])([^'"]*)\1\s*(?:,\s*(['"])([^'"]*)\3\s*)?"""
    r"""(?:,\s*(?:v|version)\s*=\s*(['"]?)([^'"\s,)]+)\5\s*)?\)"""
)
REF_ITEM = "ref()"


def ref_item(name: str, package: str, version: str | None, latest: bool) -> tuple[str, str]:
    """The step to the `ref(...)` text item of a list (an exposure's `depends_on`) that
    names this model: its package's (or no package), its version (or none, for the
    ``latest`` version), not another package's model or another version of it."""
    return (REF_ITEM, json.dumps([name, package, version, latest]))


def _reference(text: str, wanted: str) -> int:
    """How well a `ref(...)` text names the model ``wanted`` (``ref_item``): 2 with its
    package, 1 without one (the root project's model of that name, in dbt), 0 not."""
    name, package, version, latest = json.loads(wanted)
    found = _REF.search(text)
    if found is None:
        return 0
    first, second, v = found.group(2), found.group(4), found.group(6)
    said_package, said_name = (first, second) if second is not None else (None, first)
    if said_name != name or said_package not in (None, package):
        return 0
    if not (v == version if v is not None else latest):
        return 0
    return 1 if said_package is None else 2


def _find_item(items: Sequence[object], field: str, value: str) -> int | None:
    """The index of the item whose ``field`` is ``value``; with no field, of the text
    item that quotes ``value`` (`ref('fct_orders')` in an exposure's `depends_on`);
    with REF_ITEM, of the `ref(...)` text naming the model ``value`` (``ref_item``),
    or else the first that quotes its name."""
    if field == REF_ITEM:
        scores = [_reference(i, value) if isinstance(i, str) else 0 for i in items]
        if any(scores):
            return scores.index(max(scores))
        field, value = "", json.loads(value)[0]
    quoted = (f"'{value}'", f'"{value}"')
    for index, item in enumerate(items):
        if isinstance(item, dict) and str(item.get(field)) == value:
            return index
        if not field and isinstance(item, str) and any(q in item for q in quoted):
            return index
    return None


def parse_yaml(
    text: str, path: str, error: type[UserError] = ArtifactError, unique_keys: bool = False
) -> YamlDoc:
    """Parse ``text`` (one document) safely; raise ``error`` with the file and
    line of a syntax error (and, with ``unique_keys``, of a key a mapping holds
    twice: YAML forbids it, and PyYAML would quietly keep the last)."""
    if _depth_bound(text) > MAX_YAML_DEPTH:
        _check_event_depth(text, path, error)  # before composing, which recurses in C
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and _ANCHOR.search(text):
            _check_graph(node, path, error)
        if node is not None and unique_keys:
            _check_unique_keys(node, path, error)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, path, error, text) from None
    finally:
        loader.dispose()
    lines: dict[PathKey, int] = {}
    if node is not None:
        _index_lines(node, (), lines, set())
    return YamlDoc(path, data, lines)


def load_yaml(
    path: Path,
    display: str | None = None,
    error: type[UserError] = ArtifactError,
    unique_keys: bool = False,
) -> YamlDoc:
    """Read and parse a YAML file; every failure is raised as ``error``."""
    shown = display or str(path)
    try:
        if path.stat().st_size > MAX_YAML_BYTES:  # before reading it all into memory
            raise error(f"file is larger than {MAX_YAML_BYTES // 2**20} MiB", shown)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error("file not found", shown) from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", shown) from None
    if len(raw) > MAX_YAML_BYTES:
        raise error(f"file is larger than {MAX_YAML_BYTES // 2**20} MiB", shown)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem, line = not_utf8(raw, exc)
        raise error(f"file {problem}", shown, line) from None
    return parse_yaml(text, shown, error, unique_keys)


def not_utf8(raw: bytes, exc: UnicodeDecodeError) -> tuple[str, int]:
    """Why a file is no UTF-8 text, and its line: UTF-16, which Windows PowerShell's
    `>` and `Out-File` write (and Notepad's "Unicode"), is said to be, with the way
    out; its bytes are no lines to count."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "is UTF-16, not UTF-8 (as Windows PowerShell's `>` writes): save it as UTF-8", 1
    return "is not valid UTF-8", raw[: exc.start].count(b"\n") + 1


def _index_lines(node: yaml.Node, key: PathKey, out: dict[PathKey, int], seen: set[int]) -> None:
    # Aliased nodes are indexed once: a billion-laughs document stays linear here.
    if id(node) in seen:
        return
    seen.add(id(node))
    out.setdefault(key, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*key, str(key_node.value))
            out[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*key, index)
            out[child] = item.start_mark.line + 1
            _index_lines(item, child, out, seen)


_KINDS = {
    "bool": "a boolean",
    "int": "a number",
    "float": "a number",
    "null": "null",
    "timestamp": "a date",
}


def _check_unique_keys(root: yaml.Node, path: str, error: type[UserError]) -> None:
    """Refuse a mapping that holds a key twice, on the composed document (before
    a merge key `<<` adds keys that the mapping may then override), and a key
    that is not text (YAML reads `no:` as false, `5:` as a number: normcheck's
    keys are names). Walks each node once, without recursion."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key_node, _ in node.value:
                if key_node.tag.endswith(":merge"):
                    continue
                line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    raise error("a key must be text, not a list or a mapping", path, line)
                if not key_node.tag.endswith(":str"):  # `no: number`, `5: warning`
                    kind = _KINDS.get(key_node.tag.rsplit(":", 1)[-1], "not text")
                    raise error(
                        f"key `{key_node.value}` is {kind} to YAML, not text: "
                        f"quote it ('{key_node.value}')",
                        path,
                        line,
                    )
                key = (key_node.tag, key_node.value)  # `1` and `"1"` are two keys
                line = key_node.start_mark.line + 1
                if key in first:
                    raise error(
                        f"duplicate key `{key_node.value}` (first at line {first[key]})",
                        path,
                        line,
                    )
                first[key] = line
        stack.extend(_children(node))


def _syntax_error(exc: yaml.YAMLError, path: str, error: type[UserError], text: str) -> UserError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        if isinstance(exc, _Unreadable):
            return error(f"YAML value error: {exc.problem}", path, line)
        problem = exc.problem or exc.context or "invalid YAML"
        if _TOO_DEEP in problem:  # PyYAML 6.0.4 (its libyaml) stops deep flow nesting itself
            return _too_deep(path, error, line)
        return error(f"YAML syntax error: {problem}", path, line)
    line = None
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return error(f"YAML error: {first}", path, line)


def _depth_bound(text: str) -> int:
    """An upper bound on the nesting depth, cheap to compute: each block level
    needs indentation or a `-`/`?` indicator at the start of its line (two levels
    per column at most), each flow level a bracket (a `[` holds at most two)."""
    leading = max(map(len, _LEADING.findall(text)), default=0)
    return 2 * leading + 2 + 2 * text.count("[") + text.count("{")


_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _check_event_depth(text: str, path: str, error: type[UserError]) -> None:
    """Count nesting on libyaml's event stream (no recursion) before composing."""
    loader = _Loader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()  # type: ignore[no-untyped-call,unused-ignore]
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    mark = event.start_mark
                    raise _too_deep(path, error, mark.line + 1 if mark else None)
            elif isinstance(event, _CLOSE):
                depth -= 1
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, path, error, text) from None
    finally:
        loader.dispose()


_TOO_DEEP = "exceeded maximum nesting depth"


def _too_deep(path: str, error: type[UserError], line: int | None) -> UserError:
    return error(f"YAML nested deeper than {MAX_YAML_DEPTH} levels", path, line)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_graph(root: yaml.Node, path: str, error: type[UserError]) -> None:
    """Refuse a composed document whose aliases make it recursive, expand it past
    MAX_ALIAS_EXPANSION extra nodes ("billion laughs") or nest it too deeply.
    Walks each distinct node once, without recursion."""
    size: dict[int, int] = {}  # expanded node count below and including a node
    height: dict[int, int] = {}
    open_: set[int] = set()  # on the current path
    shared: dict[int, yaml.Node] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            nested = max((height[id(c)] for c in children), default=0)
            height[key] = nested + 1 if isinstance(node, yaml.CollectionNode) else 0
            continue
        if key in size:
            shared[key] = node
            continue
        open_.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_:
                raise error(
                    "recursive YAML alias: a collection contains itself",
                    path,
                    child.start_mark.line + 1,
                )
            stack.append((child, False))
    extra = size[id(root)] - len(size)
    if extra > MAX_ALIAS_EXPANSION:
        biggest = max(shared.values(), key=lambda n: size[id(n)])
        raise error(
            f"YAML aliases expand the document by over {MAX_ALIAS_EXPANSION:,} nodes "
            f'(a "billion laughs" document; this anchor alone is {size[id(biggest)]:,}): '
            "write the values out, or alias less",
            path,
            biggest.start_mark.line + 1,
        )
    if height[id(root)] > MAX_YAML_DEPTH:
        node, level = root, 1
        while level <= MAX_YAML_DEPTH:  # follow the deepest path to name its line
            node = max(_children(node), key=lambda c: height[id(c)])
            level += 1
        raise _too_deep(path, error, node.start_mark.line + 1)
