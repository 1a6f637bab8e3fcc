"""The JSON Schema of normcheck.yml and rule sets, generated from the rules'
option types (``normcheck schema`` prints it; editors read it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from normcheck.checks._api import RULE_ID_PATTERN, SEVERITIES, Rule
from normcheck.sqlfacts import DIALECTS

SCHEMA_ID = "https://normcheck.dev/schema/normcheck.schema.json"

_STRINGS = {"type": "array", "items": {"type": "string"}}
_PATHS = {"type": "array", "items": {"type": "string", "minLength": 1}}  # "" names nothing


def _threshold(level: str) -> dict[str, Any]:
    def at_least(what: str) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "description": f"{level} at {what} or more"}

    return {
        "type": "object",
        "additionalProperties": False,
        "description": f"a team or rule family is {level} when any of these holds",
        "properties": {
            "errors": at_least("this many errors"),
            "warnings": at_least("this many warnings"),
            "infos": at_least("this many infos"),
            "clean_below": {
                "type": "number",
                "minimum": 0,
                "maximum": 100,
                "description": f"{level} when fewer than this percent of resources are clean",
            },
        },
    }


def _rule_setting(options_schema: Mapping[str, Any] | None) -> dict[str, Any]:
    long_form: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "severity": {"enum": list(SEVERITIES)},
            "locked": {"type": "boolean", "description": "no later file may weaken this rule"},
            "options": dict(options_schema) if options_schema else {"type": "object"},
            "description": {"type": "string"},
            "uses": {
                "type": "string",
                "description": "derive this rule from a configurable one (e.g. "
                "governance/required-meta) under the rule set's own id",
            },
        },
    }
    return {
        "if": {"type": "string"},
        "then": {"enum": list(SEVERITIES)},
        "else": long_form,
    }


def _override_rule_setting() -> dict[str, Any]:
    return {
        "if": {"type": "string"},
        "then": {"enum": list(SEVERITIES)},
        "else": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "severity": {"enum": list(SEVERITIES)},
                "options": {"type": "object"},
            },
        },
    }


def build_schema(rules: Mapping[str, Rule]) -> dict[str, Any]:
    """The whole configuration schema for the given rules."""
    option_types = sorted({r.options for r in rules.values()}, key=lambda t: t.__name__)
    refs, defs = msgspec.json.schema_components(option_types, ref_template="#/$defs/{name}")
    by_type = dict(zip(option_types, refs, strict=True))
    rule_properties = {
        rule_id: _rule_setting(by_type[rule.options]) for rule_id, rule in sorted(rules.items())
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "normcheck configuration (normcheck.yml and central rule sets)",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1, "description": "configuration format version"},
            "extends": {
                "description": "named sets (normcheck:default, an installed pack's "
                "acme:central) or files by path; later wins",
                "anyOf": [{"type": "string"}, _STRINGS],
            },
            "team": {"type": "string", "description": "default owner for unowned findings"},
            "dialect": {
                "enum": sorted({*DIALECTS, *DIALECTS.values()}),
                "description": "SQL dialect, as sqlglot or a dbt adapter names it (default: the"
                " manifest's adapter)",
            },
            "tracking_plans": {**_PATHS, "description": "globs of tracking-plan files"},
            "fail_on": {"enum": ["error", "warning", "info", "never"]},
            "baseline": {"type": "string", "description": "path of the baseline file"},
            "plugins": {
                **_PATHS,
                "description": "local Python modules with rules (paths relative to this file)",
            },
            "projects": {
                **_PATHS,
                "description": "dbt project folders checked in one run (monorepo, dbt Mesh)",
            },
            "owners": {
                "type": "object",
                "description": "registry of owning teams",
                "additionalProperties": {
                    "type": ["object", "null"],
                    "properties": {
                        "email": {"type": "string"},
                        "slack": {"type": "string"},
                        "description": {"type": "string"},
                    },
                    "additionalProperties": False,
                },
            },
            "vocabulary": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "preferred": {
                        "type": "object",
                        "description": "word -> the preferred word",
                        "additionalProperties": {"type": "string"},
                    },
                    "banned": {**_STRINGS, "description": "words no name may contain"},
                },
            },
            "scorecard": {
                "type": "object",
                "additionalProperties": False,
                "description": "traffic lights of `normcheck report` (default: red at 1 error, "
                "yellow at 1 warning); an error below the red threshold is still yellow",
                "properties": {
                    "red": _threshold("red"),
                    "yellow": _threshold("yellow"),
                    "locked": {
                        "type": "boolean",
                        "description": "central only: no later file may loosen the lights",
                    },
                },
            },
            "rules": {
                "type": "object",
                "propertyNames": {"pattern": RULE_ID_PATTERN},
                "properties": rule_properties,
                "additionalProperties": _rule_setting(None),
            },
            "overrides": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["match", "rules"],
                    "properties": {
                        "match": {
                            "type": "object",
                            "additionalProperties": False,
                            "minProperties": 1,
                            "properties": {
                                "paths": _STRINGS,
                                "tags": _STRINGS,
                                "groups": _STRINGS,
                                "owners": _STRINGS,
                            },
                        },
                        "rules": {
                            "type": "object",
                            "propertyNames": {"pattern": RULE_ID_PATTERN},
                            "additionalProperties": _override_rule_setting(),
                        },
                    },
                },
            },
        },
        "$defs": defs,
    }
