"""YAML loading with line numbers (safe loader only).

A :class:`YamlDoc` holds the constructed data and the 1-based line of every
mapping key and sequence item, keyed by its path from the root, so findings
and configuration errors can point at the exact line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from normcheck.errors import ArtifactError, UserError

try:  # the libyaml build is much faster; fall back to pure Python where absent
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

PathKey = tuple[str | int, ...]
Step = str | int | tuple[str, str]

MAX_YAML_BYTES = 20 * 1024 * 1024


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
        item whose ``field`` equals ``value``) and return the deepest line found."""
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


def _find_item(items: Sequence[object], field: str, value: str) -> int | None:
    for index, item in enumerate(items):
        if isinstance(item, dict) and str(item.get(field)) == value:
            return index
    return None


def parse_yaml(text: str, path: str, error: type[UserError] = ArtifactError) -> YamlDoc:
    """Parse ``text`` (one document) safely; raise ``error`` with the file and
    line of a syntax error."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise error(f"YAML syntax error: {problem}", path, line) from None
    except yaml.YAMLError as exc:
        raise error(f"YAML error: {exc}", path) from None
    finally:
        loader.dispose()
    lines: dict[PathKey, int] = {}
    if node is not None:
        _index_lines(node, (), lines, set())
    return YamlDoc(path, data, lines)


def load_yaml(
    path: Path, display: str | None = None, error: type[UserError] = ArtifactError
) -> YamlDoc:
    """Read and parse a YAML file; every failure is raised as ``error``."""
    shown = display or str(path)
    try:
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
        line = raw[: exc.start].count(b"\n") + 1
        raise error("file is not valid UTF-8", shown, line) from None
    return parse_yaml(text, shown, error)


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
