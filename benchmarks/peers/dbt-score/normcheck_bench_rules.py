"""dbt-score rules equivalent to the reference rule set of ``shared/bench/README.md``.

Model names snake_case and layer prefixes, owner present, description present; the
definitions follow ``synth_manifest.py``'s reference implementation. Loaded by dbt-score
(``rule_namespaces`` in this directory's ``pyproject.toml``), never by normcheck.

No ``from __future__ import annotations`` here: dbt-score reads the argument annotation
at run time to tell model rules from source rules.
"""

import re

from dbt_score import Model, RuleViolation, rule

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
LAYER_PREFIXES = {
    "staging": ("stg_",),
    "intermediate": ("int_",),
    "marts": ("fct_", "dim_"),
    "mart": ("fct_", "dim_"),
}
PLACEHOLDERS = ("none", "null", "n/a")


@rule
def name_snake_case(model: Model) -> RuleViolation | None:
    """A model's name is snake_case."""
    if not SNAKE_CASE.match(model.name):
        return RuleViolation(message=f"Model name {model.name!r} is not snake_case.")
    return None


@rule
def name_layer_prefix(model: Model) -> RuleViolation | None:
    """A model's name carries the prefix of the first layer directory in its path."""
    path = model.original_file_path.replace("\\", "/")
    for part in path.split("/")[:-1]:
        if part in LAYER_PREFIXES:
            prefixes = LAYER_PREFIXES[part]
            if not model.name.startswith(prefixes):
                return RuleViolation(message=f"Model in {part}/ lacks a prefix {prefixes}.")
            return None
    return None


@rule
def owner_present(model: Model) -> RuleViolation | None:
    """A model has a non-empty ``meta.owner`` (or ``config.meta.owner``)."""
    owner = model.meta.get("owner") or (model.config.get("meta") or {}).get("owner")
    if not (isinstance(owner, str) and owner.strip()):
        return RuleViolation(message="Model lacks an owner.")
    return None


@rule
def description_present(model: Model) -> RuleViolation | None:
    """A model's description has at least 4 characters and is no placeholder."""
    description = (model.description or "").strip()
    if len(description) < 4 or description.lower() in PLACEHOLDERS:
        return RuleViolation(message="Model lacks a description.")
    return None
