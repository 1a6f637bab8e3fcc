"""The explicit list of built-in rules. A test checks every rule module on
disk is listed here."""

from __future__ import annotations

from collections.abc import Mapping

from normcheck.checks._api import Rule
from normcheck.checks.docs.missing_description import missing_description
from normcheck.checks.docs.placeholder_description import placeholder_description
from normcheck.checks.governance.exposure_private_dependency import exposure_private_dependency
from normcheck.checks.governance.group_required import group_required
from normcheck.checks.governance.layer_dependency import layer_dependency
from normcheck.checks.governance.public_model_contract import public_model_contract
from normcheck.checks.naming.column_case import column_case
from normcheck.checks.naming.column_type_suffix import column_type_suffix
from normcheck.checks.naming.model_directory import model_directory
from normcheck.checks.naming.model_prefix import model_prefix
from normcheck.checks.naming.name_case import name_case
from normcheck.checks.naming.vocabulary import vocabulary
from normcheck.checks.normcheck.expired_suppression import expired_suppression
from normcheck.checks.normcheck.locked_rule import locked_rule
from normcheck.checks.normcheck.suppression_without_reason import suppression_without_reason
from normcheck.checks.normcheck.unused_suppression import unused_suppression
from normcheck.checks.ownership.missing_owner import missing_owner
from normcheck.checks.ownership.unknown_owner import unknown_owner
from normcheck.checks.sql.hardcoded_relation import hardcoded_relation
from normcheck.checks.sql.missing_column import missing_column
from normcheck.checks.sql.parse_error import parse_error
from normcheck.checks.sql.select_star import select_star
from normcheck.checks.sql.undocumented_column import undocumented_column

BUILTIN_RULES: tuple[Rule, ...] = (
    model_prefix,
    model_directory,
    name_case,
    column_case,
    column_type_suffix,
    vocabulary,
    missing_owner,
    unknown_owner,
    missing_description,
    placeholder_description,
    layer_dependency,
    public_model_contract,
    exposure_private_dependency,
    group_required,
    locked_rule,
    unused_suppression,
    suppression_without_reason,
    expired_suppression,
    parse_error,
    select_star,
    hardcoded_relation,
    undocumented_column,
    missing_column,
)

LOCKED_RULE = locked_rule.id


def builtin_rules() -> Mapping[str, Rule]:
    return {r.id: r for r in sorted(BUILTIN_RULES, key=lambda r: r.id)}
