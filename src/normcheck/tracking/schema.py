"""The JSON Schema of normcheck's native tracking-plan format (SPEC §5)."""

from __future__ import annotations

import json
from typing import Any

from normcheck._yaml import YamlDoc
from normcheck.errors import ArtifactError, schema_problem
from normcheck.tracking.model import PROFILES, STATUSES

_IGNORE = {
    "type": "object",
    "properties": {
        "normcheck": {
            "type": "object",
            "properties": {"ignore": {"type": "array", "items": {"type": "object"}}},
        }
    },
}
_PII = {
    "description": "absent: not reviewed; `none`; or {category: ...}",
    "anyOf": [
        {"const": "none"},
        {
            "type": "object",
            "required": ["category"],
            "additionalProperties": False,
            "properties": {"category": {"type": "string"}},
        },
    ],
}
_PROPERTY_FIELDS: dict[str, Any] = {
    "type": {
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        "description": "string, integer, number, boolean, object, array (or several)",
    },
    "description": {"type": "string"},
    "enum": {"type": "array"},
    "format": {"type": "string"},
    "pii": _PII,
    "required": {"type": "boolean"},
    "meta": _IGNORE,
}


def plan_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://normcheck.dev/schema/plan.schema.json",
        "title": "normcheck tracking plan (normcheck: plan/v1)",
        "type": "object",
        "additionalProperties": False,
        "required": ["normcheck", "plan"],
        "properties": {
            "normcheck": {"const": "plan/v1"},
            "plan": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
                    "owner": {"type": "string"},
                    "description": {"type": "string"},
                    "warehouse": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "profile": {"enum": list(PROFILES)},
                            "event_column": {"type": "string"},
                            "slug_column": {"type": "string"},
                            "event_tables": {"type": "boolean"},
                            "source": {"type": "string"},
                        },
                    },
                },
            },
            "properties": {
                "type": "object",
                "description": "the shared catalogue: one definition per property",
                "additionalProperties": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "properties": _PROPERTY_FIELDS,
                },
            },
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "description": {"type": "string"},
                        "owner": {"type": "string"},
                        "status": {"enum": list(STATUSES)},
                        "aliases": {"type": "array", "items": {"type": "string"}},
                        "replaced_by": {"type": "string"},
                        "meta": _IGNORE,
                        "properties": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "ref": {"type": "string", "minLength": 1},
                                    "name": {"type": "string", "minLength": 1},
                                    **_PROPERTY_FIELDS,
                                },
                                "oneOf": [{"required": ["ref"]}, {"required": ["name"]}],
                                # the rest of a shared property is its catalogue entry's
                                "if": {"required": ["ref"]},
                                "then": {"propertyNames": {"enum": ["ref", "required"]}},
                            },
                        },
                    },
                },
            },
        },
    }


def validate_plan(doc: YamlDoc) -> None:
    """Raise the first schema error as one line with the plan file and line."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(plan_schema())
    errors = sorted(
        validator.iter_errors(doc.data),
        key=lambda e: (doc.line(tuple(e.absolute_path)) or 0, -len(e.absolute_path)),
    )
    if not errors:
        return
    error = errors[0]
    path = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "top level"
    line = doc.line(path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = (
            set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
        )
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            line = doc.line((*path, extra[0])) or line
            raise ArtifactError(f"unknown key `{extra[0]}` in `{where}`", doc.path, line)
    if "propertyNames" in error.schema_path and isinstance(error.instance, str):
        line = doc.line((*path, error.instance)) or line
        raise ArtifactError(
            f"`{error.instance}` in `{where}`: an item with `ref` takes only `required`;"
            " the rest belongs to the property's entry in the plan's `properties:`",
            doc.path,
            line,
        )
    if path and path[-1] == "pii" and not isinstance(error.instance, dict):
        shown = error.instance if isinstance(error.instance, str) else json.dumps(error.instance)
        yaml_note = (
            " (YAML reads yes, no, on, off, true and false as booleans)"
            if isinstance(error.instance, bool)
            else ""
        )
        raise ArtifactError(
            f"`{where}` is `{shown}`{yaml_note}: `pii` takes `none` (reviewed, not "
            "personal) or `{category: ...}`, or is left out (not reviewed)",
            doc.path,
            line,
        )
    raise ArtifactError(f"invalid plan at `{where}`: {schema_problem(error)}", doc.path, line)
