"""Load tracking plans from `tracking_plans:` globs, choosing the importer by
each file's content: normcheck's native YAML (SPEC §5), Segment Protocols JSON
(current `rules` list and legacy `rules.events`), JSON Schema / Snowplow Iglu
self-describing schemas, and RudderStack `rudder-cli` YAML (`rudder/v0.1`,
`rudder/v1`). Every problem is one :class:`ArtifactError` naming file and line."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from normcheck._glob import compile_glob
from normcheck._yaml import YamlDoc, not_utf8, parse_yaml
from normcheck.errors import ArtifactError, long_number_line
from normcheck.tracking.model import (
    Plan,
    PlanEvent,
    PlanProperty,
    warehouse_for,
)

NATIVE_TAG = "plan/v1"
MAX_PLAN_BYTES = 20 * 1024 * 1024
MAX_PLAN_FILES = 20_000


@dataclass(frozen=True)
class _File:
    path: Path
    shown: str  # relative to the project directory
    text: str

    @cached_property
    def keys(self) -> _JsonKeys:
        return _JsonKeys(self.text)

    @cached_property
    def paths(self) -> dict[tuple[str | int, ...], int]:
        return _json_paths(self.text)

    def line_at(self, *paths: tuple[str | int, ...], default: int = 1) -> int:
        """The line of the key at the first of ``paths`` (JSON paths: keys and list
        indexes from the document's root) that the file has, else ``default``."""
        for path in paths:
            line = self.paths.get(path)
            if line is not None:
                return line
        return default


_JSON_KEY = re.compile(r'"((?:[^"\\\n]|\\.)*)"\s*:\s*"((?:[^"\\\n]|\\.)*)"')


def _unescape(literal: str) -> str:
    if "\\" not in literal:
        return literal
    try:
        return str(json.loads(f'"{literal}"'))
    except ValueError:
        return literal


_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\],:]')


def _json_paths(text: str) -> dict[tuple[str | int, ...], int]:
    """The line of every object key by its JSON path (keys and list indexes from the
    root), in one pass over the tokens: a key is found where it stands, not at the
    first key of that name anywhere in the file."""
    newlines = [m.start() for m in re.finditer("\n", text)]
    lines: dict[tuple[str | int, ...], int] = {}
    path: list[str | int] = []  # the container path; for an object, its current key
    kinds: list[str] = []  # "{" or "[" per open container
    expect_key = False
    for token in _JSON_TOKEN.finditer(text):
        kind = token.group()
        if kind == "{":
            kinds.append("{")
            path.append("")
            expect_key = True
        elif kind == "[":
            kinds.append("[")
            path.append(0)
            expect_key = False
        elif kind in "}]":
            if kinds:
                kinds.pop()
                path.pop()
            expect_key = False
        elif kind == ",":
            if kinds and kinds[-1] == "[":
                index = path[-1]
                path[-1] = index + 1 if isinstance(index, int) else 0
            expect_key = bool(kinds) and kinds[-1] == "{"
        elif kind == ":":
            expect_key = False
        elif expect_key and kinds and kinds[-1] == "{":
            path[-1] = _unescape(kind[1:-1])
            lines.setdefault(tuple(path), bisect.bisect_left(newlines, token.start()) + 1)
            expect_key = False
    return lines


class _JsonKeys:
    """The first line of each `"key": "string value"` pair of a JSON file, indexed in
    one pass (the fallback where a JSON path does not lead to a key)."""

    def __init__(self, text: str) -> None:
        newlines = [m.start() for m in re.finditer("\n", text)]
        self.pairs: dict[tuple[str, str], int] = {}
        for found in _JSON_KEY.finditer(text):
            if found.group(2) is not None:
                line = bisect.bisect_left(newlines, found.start()) + 1
                self.pairs.setdefault((_unescape(found.group(1)), _unescape(found.group(2))), line)

    def pair(self, *pairs: tuple[str, str]) -> int:
        """The line of the first `"key": "value"` of ``pairs`` that appears, else 1."""
        for pair in pairs:
            if pair in self.pairs:
                return self.pairs[pair]
        return 1


def find_plan_files(root: Path, patterns: Sequence[str]) -> list[Path]:
    """Files matching the globs (relative to ``root``), sorted; symlinked folders
    are not followed, so a link loop cannot make this run forever."""
    found: set[Path] = set()
    for pattern in patterns:
        for path in _matching(root, pattern):
            found.add(path)
            if len(found) > MAX_PLAN_FILES:
                raise ArtifactError(f"tracking_plans globs match over {MAX_PLAN_FILES} files")
    return sorted(found)


def unmatched_globs(root: Path, patterns: Sequence[str]) -> list[str]:
    """The globs that match no file (a typo, a Windows `\\`): their plans go
    unchecked without a word otherwise. Each walk stops at its first match."""
    return [p for p in patterns if next(_matching(root, p), None) is None]


def _matching(root: Path, pattern: str) -> Iterator[Path]:
    if pattern.startswith("/"):
        raise ArtifactError(f"tracking_plans glob `{pattern}` must be relative")
    base, rest = _split_glob(pattern)
    start = (root / base).resolve() if base else root.resolve()
    if not rest:
        if start.is_file():
            yield start
        return
    regex = compile_glob(rest)
    for path in _walk(start):
        if regex.match(path.relative_to(start).as_posix()):
            yield path


def _split_glob(pattern: str) -> tuple[str, str]:
    parts = pattern.split("/")
    fixed: list[str] = []
    for index, part in enumerate(parts):
        if any(c in part for c in "*?["):
            return "/".join(fixed), "/".join(parts[index:])
        fixed.append(part)
    return "/".join(fixed), ""


def _walk(start: Path) -> Iterator[Path]:
    if not start.is_dir():
        return
    stack = [start]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink() and entry.is_dir():
                continue
            if entry.is_dir():
                stack.append(entry)
            elif entry.is_file():
                yield entry


def _read(path: Path, shown: str) -> _File:
    try:
        if path.stat().st_size > MAX_PLAN_BYTES:  # before reading it all into memory
            raise ArtifactError("tracking plan is larger than 20 MiB", shown)
        raw = path.read_bytes()
    except OSError as exc:
        raise ArtifactError(f"cannot read tracking plan: {exc.strerror}", shown) from None
    if len(raw) > MAX_PLAN_BYTES:
        raise ArtifactError("tracking plan is larger than 20 MiB", shown)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem, line = not_utf8(raw, exc)
        raise ArtifactError(f"tracking plan {problem}", shown, line) from None
    # a byte order mark (PowerShell's `Out-File`, Notepad) is no part of the JSON or YAML;
    # a classic-Mac file's lone carriage returns end its lines, which are counted by `\n`
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _File(path, shown, text)


# a `\uD800`-`\uDFFF` escape not in a high-low pair (not itself escaped): half a character
_LONE_SURROGATE = re.compile(
    r"(?<!\\)(?:\\\\)*\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})(?<!\\)(?:\\\\)*\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _json(file: _File) -> object:
    try:
        data = json.loads(file.text)
        if "\\u" in file.text:  # a lone surrogate escape decodes to no character
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        return data
    except UnicodeEncodeError:
        found = _LONE_SURROGATE.search(file.text)
        line = file.text.count("\n", 0, found.start()) + 1 if found else None
        raise ArtifactError(
            "invalid JSON: a `\\uD800`-`\\uDFFF` escape without its pair is half a character, "
            "not text (a character cut in two by the tool that wrote the file?)",
            file.shown,
            line,
        ) from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"invalid JSON: {exc.msg}", file.shown, exc.lineno) from None
    except RecursionError:
        raise ArtifactError("JSON nested too deeply", file.shown) from None
    except ValueError:  # a number past Python's 4,300 digits
        raise ArtifactError(
            "invalid JSON: a number of too many digits", file.shown, long_number_line(file.text)
        ) from None


def _line_of(text: str, *needles: str) -> int:
    for needle in needles:
        index = text.find(needle)
        if index >= 0:
            return text.count("\n", 0, index) + 1
    return 1


def load_plans(root: Path, patterns: Sequence[str], shown_root: Path | None = None) -> list[Plan]:
    """Every plan the globs match, sorted by id; RudderStack files of one folder form one plan."""
    files = [_read(p, _shown(p, shown_root or root)) for p in find_plan_files(root, patterns)]
    plans: list[Plan] = []
    rudder: dict[Path, list[tuple[_File, YamlDoc]]] = {}
    iglu: dict[str, list[tuple[_File, Mapping[str, Any]]]] = {}
    for file in files:
        if file.path.suffix.lower() == ".json" or file.text.lstrip().startswith(("{", "[")):
            data = _json(file)
            layout = _IGLU_PATH.search(file.path.as_posix())
            if isinstance(data, dict) and (isinstance(data.get("self"), dict) or layout):
                self_ = data.get("self")
                described: dict[str, Any] = self_ if isinstance(self_, dict) else {}
                vendor = str(described.get("vendor") or _iglu_parts(file.path)[0])
                iglu.setdefault(vendor, []).append((file, data))
            elif isinstance(data, dict) and "rules" in data:
                plans.append(_segment(file, data))
            elif isinstance(data, dict) and data.get("normcheck") == NATIVE_TAG:
                plans.append(_native(file, parse_yaml(file.text, file.shown, unique_keys=True)))
            elif isinstance(data, dict) and "normcheck" in data:
                _unsupported(data["normcheck"], file, _line_of(file.text, '"normcheck"'))
            else:
                raise ArtifactError(
                    "not a tracking plan: expected normcheck's `normcheck: plan/v1`, a Segment "
                    "Protocols plan (`rules`) or an Iglu self-describing schema (`self`)",
                    file.shown,
                    1,
                )
            continue
        doc = parse_yaml(file.text, file.shown, unique_keys=True)
        data = doc.data
        if isinstance(data, dict) and data.get("normcheck") == NATIVE_TAG:
            plans.append(_native(file, doc))
        elif isinstance(data, dict) and str(data.get("version", "")).startswith("rudder/"):
            rudder.setdefault(file.path.parent, []).append((file, doc))
        elif isinstance(data, dict) and "normcheck" in data:
            _unsupported(data["normcheck"], file, doc.line(("normcheck",)))
        else:
            raise ArtifactError(
                "not a tracking plan: expected `normcheck: plan/v1` or a RudderStack "
                "`version: rudder/v0.1` file",
                file.shown,
                1,
            )
    for vendor, schemas in sorted(iglu.items()):
        plans.append(_iglu(vendor, schemas))
    for folder, docs in sorted(rudder.items()):
        plans.append(_rudder(folder, docs))
    _check_unique(plans)
    plans.sort(key=lambda p: p.id)
    _check_references(plans)
    return plans


def _unsupported(tag: object, file: _File, line: int | None) -> None:
    """A file that says it is a normcheck plan, of a version this normcheck does not read."""
    raise ArtifactError(
        f"unsupported plan version `normcheck: {tag}`: this normcheck reads "
        f"`normcheck: {NATIVE_TAG}`",
        file.shown,
        line or 1,
    )


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        import os

        return os.path.relpath(path, root.resolve()).replace("\\", "/")


def _check_unique(plans: Iterable[Plan]) -> None:
    seen: dict[str, Plan] = {}
    for plan in plans:
        other = seen.get(plan.id)
        if other is not None:
            raise ArtifactError(
                f"plan id `{plan.id}` is also used by {other.file}: give each plan its own id",
                plan.file,
                plan.line,
            )
        seen[plan.id] = plan


# -- native ---------------------------------------------------------------------


def _native(file: _File, doc: YamlDoc) -> Plan:
    from normcheck.tracking.schema import validate_plan

    validate_plan(doc)
    data = doc.data
    assert isinstance(data, dict)  # validated above
    header = data["plan"]
    for name, spec in (data.get("properties") or {}).items():
        _check_type(spec or {}, file, doc.line(("properties", name, "type")))
    for index, spec in enumerate(data.get("events") or ()):
        for p_index, prop in enumerate(spec.get("properties") or ()):
            _check_type(prop, file, doc.line(("events", index, "properties", p_index, "type")))
        for a_index, alias in enumerate(spec.get("aliases") or ()):
            if alias == spec["name"]:
                raise ArtifactError(
                    f"event `{alias}` lists its own name in `aliases`: drop it",
                    file.shown,
                    doc.line(("events", index, "aliases", a_index)),
                )
    shared = {
        name: _native_property(name, spec or {}, doc, ("properties", name))
        for name, spec in (data.get("properties") or {}).items()
    }
    events = []
    event_lines: dict[str, int] = {}
    for index, spec in enumerate(data.get("events") or ()):
        _once(event_lines, "event", spec["name"], doc.line(("events", index)) or 1, file)
        props = []
        prop_lines: dict[str, int] = {}
        for p_index, prop in enumerate(spec.get("properties") or ()):
            line = doc.line(("events", index, "properties", p_index)) or 1
            _once(
                prop_lines, "property", prop["ref"] if "ref" in prop else prop["name"], line, file
            )
            if "ref" in prop:
                target = shared.get(prop["ref"])
                if target is None:
                    raise ArtifactError(
                        f"property ref `{prop['ref']}` is not in the plan's `properties:`",
                        file.shown,
                        line,
                    )
                required = bool(prop.get("required"))
                props.append(replace(target, line=line, required=required, shared=True))
            else:
                path = ("events", index, "properties", p_index)
                props.append(_native_property(prop["name"], prop, doc, path))
        events.append(
            PlanEvent(
                name=spec["name"],
                line=doc.line(("events", index)) or 1,
                description=spec.get("description"),
                owner=spec.get("owner"),
                status=spec.get("status", "active"),
                aliases=tuple(spec.get("aliases") or ()),
                replaced_by=spec.get("replaced_by"),
                properties=tuple(props),
                ignore=_ignores(spec),
                ignore_lines=_ignore_lines(doc, ("events", index), spec),
            )
        )
    warehouse = header.get("warehouse") or {}
    return Plan(
        id=str(header["id"]),
        file=file.shown,
        format="native",
        warehouse=warehouse_for(str(warehouse.get("profile", "segment")), warehouse),
        owner=header.get("owner"),
        events=tuple(events),
        properties=tuple(shared.values()),
        line=doc.line(("plan",)) or 1,
        files=(file.shown,),
    )


JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")


def _check_type(spec: Mapping[str, Any], file: _File, line: int | None) -> None:
    """A property's `type` names JSON Schema types: a typo is an error, not a type
    that silently matches nothing."""
    import difflib

    kind = spec.get("type")
    parts = kind.split(",") if isinstance(kind, str) else kind if isinstance(kind, list) else []
    for part in parts:
        word = str(part).strip()
        if word and word not in JSON_TYPES:
            close = difflib.get_close_matches(word.lower(), JSON_TYPES, n=1)
            hint = f"did you mean `{close[0]}`?" if close else "use one of " + ", ".join(JSON_TYPES)
            raise ArtifactError(f"unknown property type `{word}`: {hint}", file.shown, line)


def _check_references(plans: Iterable[Plan]) -> None:
    """`replaced_by` names an event of some plan; an alias is not the name of another
    event that is still in use (which of the two would the name mean?)."""
    names: dict[str, tuple[Plan, PlanEvent]] = {}
    known: set[str] = set()
    for plan in plans:
        for event in plan.events:
            known.add(event.name)
            known.update(event.aliases)
            if event.status != "deprecated":
                names.setdefault(event.name, (plan, event))
    for plan in plans:
        for event in plan.events:
            shown = event.file or plan.file
            if event.replaced_by is not None and event.replaced_by not in known:
                raise ArtifactError(
                    f"event `{event.name}` has `replaced_by: {event.replaced_by}`, which no "
                    "tracking plan defines: name the event that replaces it",
                    shown,
                    event.line,
                )
            for alias in event.aliases:
                found = names.get(alias)
                if found is not None and found[1] is not event:
                    other_plan, other = found
                    raise ArtifactError(
                        f"event `{event.name}` lists alias `{alias}`, the name of event "
                        f"`{other.name}` ({other.file or other_plan.file}:{other.line}): drop "
                        f"the alias, or deprecate `{other.name}` with `replaced_by: {event.name}`",
                        shown,
                        event.line,
                    )


def _ignores(spec: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    meta = spec.get("meta")
    block = meta.get("normcheck") if isinstance(meta, dict) else None
    entries = block.get("ignore") if isinstance(block, dict) else None
    return tuple(entries) if isinstance(entries, list) else ()


def _pii(value: object) -> str | None:
    if value is None:
        return None
    if value == "none":
        return "none"
    if isinstance(value, dict):
        return str(value.get("category") or "personal")
    return str(value)


def _ignore_lines(
    doc: YamlDoc, path: tuple[str | int, ...], spec: Mapping[str, Any]
) -> tuple[int, ...]:
    """The line of each `meta.normcheck.ignore` entry at ``path`` (a suppression's
    findings are told at the entry, as in a model's YAML)."""
    at = (*path, "meta", "normcheck", "ignore")
    return tuple(doc.line((*at, i)) or 1 for i in range(len(_ignores(spec))))


def _native_property(
    name: str, spec: Mapping[str, Any], doc: YamlDoc, path: tuple[str | int, ...]
) -> PlanProperty:
    kind = spec.get("type")
    return PlanProperty(
        name=name,
        line=doc.line(path) or 1,
        ignore_lines=_ignore_lines(doc, path, spec),
        type=_types(kind),
        enum=tuple(str(v) for v in spec.get("enum") or ()),
        format=_str(spec.get("format")),
        description=_str(spec.get("description")),
        pii=_pii(spec.get("pii")),
        required=bool(spec.get("required")),
        ignore=_ignores(spec),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _types(kind: object) -> tuple[str, ...]:
    if isinstance(kind, str):
        parts = [k.strip() for k in kind.split(",")]
    elif isinstance(kind, list):
        parts = [str(k) for k in kind]
    else:
        return ()
    return tuple(sorted(p for p in parts if p and p != "null"))


# -- Segment Protocols ----------------------------------------------------------


def _schema_properties(schema: object) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """A Segment event's properties: inside the track envelope when there is one;
    with the JSON path from the schema to them."""
    if not isinstance(schema, dict):
        return {}, ()
    props = schema.get("properties")
    if not isinstance(props, dict):
        return {}, ()
    inner = props.get("properties")
    if isinstance(inner, dict) and ("context" in props or "traits" in props or len(props) == 1):
        nested = inner.get("properties")
        if isinstance(nested, dict):
            return nested, ("properties", "properties", "properties")
        return {}, ()
    return props, ("properties",)


def _json_property(
    name: str,
    spec: object,
    required: Sequence[str],
    line: int,
    file: _File | None = None,
    at: tuple[str | int, ...] = (),
) -> PlanProperty:
    """A JSON Schema property; with ``file`` and its JSON path ``at``, its nested
    properties too (an object's, or an array's items'), each at its own line."""
    spec = spec if isinstance(spec, dict) else {}
    return PlanProperty(
        name=name,
        line=line,
        type=_types(spec.get("type")),
        enum=tuple(str(v) for v in spec.get("enum") or () if v is not None),
        format=_str(spec.get("format")),
        description=_str(spec.get("description")) or None,
        pii=_pii(spec.get("pii")),
        required=name in required,
        nested=_nested(name, spec, line, file, at) if file is not None else (),
    )


_MAX_NESTING = 16


def _nested(
    name: str, spec: Mapping[str, Any], line: int, file: _File, at: tuple[str | int, ...]
) -> tuple[PlanProperty, ...]:
    if len(at) > _MAX_NESTING * 3:
        return ()
    items = spec.get("items")
    if isinstance(items, dict) and isinstance(items.get("properties"), dict):
        spec, at = items, (*at, "items")
    props = spec.get("properties")
    if not isinstance(props, dict):
        return ()
    listed = spec.get("required")
    required = [str(r) for r in listed] if isinstance(listed, list) else []
    return tuple(
        _json_property(
            f"{name}.{key}",
            sub,
            [f"{name}.{r}" for r in required],
            file.line_at((*at, "properties", key), default=line),
            file,
            (*at, "properties", key),
        )
        for key, sub in sorted(props.items())
    )


def _once(first: dict[str, int], kind: str, name: str, line: int, file: _File) -> None:
    """Refuse a second definition of one name: which of the two would be meant?"""
    if name in first:
        raise ArtifactError(
            f"{kind} `{name}` is defined twice (first at line {first[name]}): keep one",
            file.shown,
            line,
        )
    first[name] = line


def _listed(value: object, where: str, shown: str, line: int | None = None) -> list[Any]:
    """A plan's list (absent: empty); anything else is an error, not a crash or,
    for text, its characters iterated one by one."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ArtifactError(f"`{where}` must be a list", shown, line)
    return value


def _segment(file: _File, data: Mapping[str, Any]) -> Plan:
    rules = data["rules"]
    events = []
    # (the rule, its name, its schema, the JSON path to the rule, its name key, its schema key)
    items: list[tuple[dict[str, Any], object, object, tuple[str | int, ...], str, str]]
    if isinstance(rules, dict):  # the legacy shape: rules.events
        items = [
            (e, e.get("name"), e.get("rules"), ("rules", "events", i), "name", "rules")
            for i, e in enumerate(_listed(rules.get("events"), "rules.events", file.shown))
            if isinstance(e, dict)
        ]
    elif isinstance(rules, list):
        items = [
            (r, r.get("key"), r.get("jsonSchema"), ("rules", i), "key", "jsonSchema")
            for i, r in enumerate(rules)
            if isinstance(r, dict) and str(r.get("type", "TRACK")).upper() == "TRACK"
        ]
    else:
        raise ArtifactError("Segment plan `rules` must be a list or {events: [...]}", file.shown)
    for raw, name, schema, at, name_key, schema_key in items:
        if not isinstance(name, str):
            raise ArtifactError(
                "Segment event without a name",
                file.shown,
                file.line_at((*at, schema_key), default=_line_of(file.text, json.dumps(raw)[:40])),
            )
        line = file.line_at((*at, name_key), default=file.keys.pair(("key", name), ("name", name)))
        props, inside = _schema_properties(schema)
        required = _required(schema)
        deprecated = str(raw.get("deprecatedAt") or "0001").startswith("0001") is False
        events.append(
            PlanEvent(
                name=name,
                line=line,
                description=_str(raw.get("description"))
                or (_str(schema.get("description")) if isinstance(schema, dict) else None),
                status="deprecated" if deprecated else "active",
                properties=tuple(
                    _json_property(
                        p,
                        spec,
                        required,
                        file.line_at((*at, schema_key, *inside, p), default=line),
                        file,
                        (*at, schema_key, *inside, p),
                    )
                    for p, spec in sorted(props.items())
                ),
            )
        )
    from normcheck.tracking.names import slug

    plan_id = str(data.get("slug") or slug(file.path.stem) or data.get("id"))
    return Plan(
        id=plan_id,
        file=file.shown,
        format="segment",
        warehouse=warehouse_for("segment"),
        events=tuple(events),
        files=(file.shown,),
    )


def _required(schema: object) -> list[str]:
    if not isinstance(schema, dict):
        return []
    props = schema.get("properties")
    inner = props.get("properties") if isinstance(props, dict) else None
    for candidate in (inner, schema):
        if isinstance(candidate, dict) and isinstance(candidate.get("required"), list):
            return [str(r) for r in candidate["required"]]
    return []


# -- Iglu -----------------------------------------------------------------------

_VERSION = re.compile(r"^(\d+)-(\d+)-(\d+)$")
_IGLU_PATH = re.compile(r"/[^/]+/[^/]+/(jsonschema|avro|thrift|protobuf)/\d+-\d+-\d+$")


def _iglu_parts(path: Path) -> tuple[str, str, str, str]:
    """vendor, name, format, version from an Iglu path `vendor/name/format/M-R-A`."""
    parts = [*path.parts[-4:]]
    parts = ["", "", "", ""][: 4 - len(parts)] + parts
    return parts[0], parts[1], parts[2], parts[3]


def _version_key(version: str) -> tuple[int, ...]:
    found = _VERSION.match(version)
    return tuple(int(x) for x in found.groups()) if found else (0, 0, 0)


def _iglu(vendor: str, schemas: list[tuple[_File, Mapping[str, Any]]]) -> Plan:
    latest: dict[str, tuple[tuple[int, ...], _File, Mapping[str, Any]]] = {}
    skipped = 0
    for file, data in schemas:
        described = data.get("self")
        meta = described if isinstance(described, dict) else {}
        fmt = str(meta.get("format") or _iglu_parts(file.path)[2])
        if fmt != "jsonschema":
            skipped += 1
            continue
        name = str(meta.get("name") or _iglu_parts(file.path)[1])
        version = str(meta.get("version") or _iglu_parts(file.path)[3])
        key = _version_key(version)
        if name not in latest or key > latest[name][0]:
            latest[name] = (key, file, data)
    events = []
    for name, (_, file, data) in sorted(latest.items()):
        line = file.line_at(("self", "name"), ("self",), ("name",))
        props = data.get("properties")
        listed = data.get("required")
        required: list[Any] = listed if isinstance(listed, list) else []
        events.append(
            PlanEvent(
                name=name,
                line=line,
                file=file.shown,
                description=_str(data.get("description")),
                properties=tuple(
                    _json_property(
                        p,
                        spec,
                        [str(r) for r in required],
                        file.line_at(("properties", p), default=line),
                        file,
                        ("properties", p),
                    )
                    for p, spec in sorted(props.items())
                )
                if isinstance(props, dict)
                else (),
            )
        )
    files = tuple(sorted(f.shown for f, _ in schemas))
    return Plan(
        id=vendor,
        file=files[0] if files else vendor,
        format="iglu",
        warehouse=warehouse_for("snowplow"),
        events=tuple(events),
        skipped=skipped,
        files=files,
    )


# -- RudderStack ----------------------------------------------------------------

_REF = re.compile(r"^#/?(?P<kind>[\w-]+)[/:](?:(?P<group>[\w.-]+)/)?(?P<id>[\w.-]+)$")


def _rudder(folder: Path, docs: list[tuple[_File, YamlDoc]]) -> Plan:
    events: dict[str, tuple[_File, int, Mapping[str, Any]]] = {}
    properties: dict[str, tuple[_File, int, Mapping[str, Any]]] = {}
    plans: list[tuple[_File, YamlDoc, Mapping[str, Any]]] = []
    for file, doc in docs:
        data = doc.data
        assert isinstance(data, dict)
        kind = data.get("kind")
        spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        if kind == "events":
            listed = _listed(spec.get("events"), "spec.events", file.shown, doc.line(("spec",)))
            for index, event in enumerate(listed):
                if isinstance(event, dict) and "id" in event:
                    events[str(event["id"])] = (
                        file,
                        doc.line(("spec", "events", index)) or 1,
                        event,
                    )
        elif kind == "properties":
            where = doc.line(("spec",))
            for index, prop in enumerate(
                _listed(spec.get("properties"), "spec.properties", file.shown, where)
            ):
                if isinstance(prop, dict) and "id" in prop:
                    properties[str(prop["id"])] = (
                        file,
                        doc.line(("spec", "properties", index)) or 1,
                        prop,
                    )
        elif kind in ("tp", "tracking-plan", "tracking-plans"):
            plans.append((file, doc, spec))
        elif kind not in ("categories", "custom-types"):
            raise ArtifactError(
                f"unknown RudderStack kind `{kind}`", file.shown, doc.line(("kind",))
            )

    def resolve(ref: object, table: Mapping[str, Any], file: _File, line: int) -> str:
        found = _REF.match(str(ref or ""))
        if found is None or found.group("id") not in table:
            raise ArtifactError(f"unresolved RudderStack reference `{ref}`", file.shown, line)
        return found.group("id")

    attached: dict[str, list[PlanProperty]] = {}
    plan_id = None
    for file, doc, spec in plans:
        plan_id = plan_id or str(spec.get("id") or file.path.stem)
        listed = _listed(spec.get("rules"), "spec.rules", file.shown, doc.line(("spec",)))
        for r_index, rule in enumerate(listed):
            if not isinstance(rule, dict) or "event" not in rule:
                continue
            line = doc.line(("spec", "rules", r_index)) or 1
            event = rule["event"]
            ref = event.get("$ref") if isinstance(event, dict) else event
            event_id = resolve(ref, events, file, line)
            props = _listed(rule.get("properties"), "properties", file.shown, line)
            for p_index, prop in enumerate(props):
                p_line = doc.line(("spec", "rules", r_index, "properties", p_index)) or line
                prop_ref = prop.get("$ref") if isinstance(prop, dict) else prop
                prop_id = resolve(prop_ref, properties, file, p_line)
                _, _, spec_p = properties[prop_id]
                required = bool(prop.get("required")) if isinstance(prop, dict) else False
                used = replace(_rudder_property(spec_p, file.shown, p_line, required), shared=True)
                attached.setdefault(event_id, []).append(used)
    plan_events = []
    for event_id, (file, line, spec) in sorted(events.items()):
        if str(spec.get("event_type", "track")) != "track":
            continue
        plan_events.append(
            PlanEvent(
                name=str(spec.get("name") or event_id),
                line=line,
                file=file.shown,
                description=_str(spec.get("description")),
                properties=tuple(attached.get(event_id, ())),
            )
        )
    shared = tuple(
        _rudder_property(spec, file.shown, line, False)
        for _, (file, line, spec) in sorted(properties.items())
    )
    first = sorted(f.shown for f, _ in docs)
    return Plan(
        id=plan_id or folder.name,
        file=first[0],
        format="rudderstack",
        warehouse=warehouse_for("rudderstack"),
        events=tuple(plan_events),
        properties=shared,
        files=tuple(first),
    )


def _rudder_property(
    spec: Mapping[str, Any], shown: str, line: int, required: bool
) -> PlanProperty:
    config = spec.get("propConfig") or spec.get("config") or {}
    enum = config.get("enum") if isinstance(config, dict) else None
    return PlanProperty(
        name=str(spec.get("name") or spec.get("id")),
        line=line,
        file=shown,
        type=_types(spec.get("type")),
        enum=tuple(str(v) for v in enum or ()) if isinstance(enum, list) else (),
        format=_str(config.get("format")) if isinstance(config, dict) else None,
        description=_str(spec.get("description")),
        required=required,
    )
