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
from normcheck.checks.governance.required_meta import required_meta
from normcheck.checks.metrics.duplicate_definition import duplicate_definition
from normcheck.checks.metrics.incomplete_definition import incomplete_definition
from normcheck.checks.metrics.north_star import north_star
from normcheck.checks.metrics.traffic_light import traffic_light
from normcheck.checks.naming.column_case import column_case
from normcheck.checks.naming.column_type_suffix import column_type_suffix
from normcheck.checks.naming.event_name import event_name
from normcheck.checks.naming.model_directory import model_directory
from normcheck.checks.naming.model_prefix import model_prefix
from normcheck.checks.naming.name_case import name_case
from normcheck.checks.naming.property_name import property_name
from normcheck.checks.naming.vocabulary import vocabulary
from normcheck.checks.normcheck.expired_suppression import expired_suppression
from normcheck.checks.normcheck.locked_rule import locked_rule
from normcheck.checks.normcheck.suppression_without_reason import suppression_without_reason
from normcheck.checks.normcheck.unused_override import unused_override
from normcheck.checks.normcheck.unused_suppression import unused_suppression
from normcheck.checks.ownership.missing_owner import missing_owner
from normcheck.checks.ownership.unknown_owner import unknown_owner
from normcheck.checks.sql.hardcoded_relation import hardcoded_relation
from normcheck.checks.sql.missing_column import missing_column
from normcheck.checks.sql.parse_error import parse_error
from normcheck.checks.sql.select_star import select_star
from normcheck.checks.sql.undocumented_column import undocumented_column
from normcheck.checks.tracking.deprecated_event_used import deprecated_event_used
from normcheck.checks.tracking.duplicate_event import duplicate_event
from normcheck.checks.tracking.duplicate_property import duplicate_property
from normcheck.checks.tracking.pii_undeclared import pii_undeclared
from normcheck.checks.tracking.property_type_conflict import property_type_conflict
from normcheck.checks.tracking.unknown_event import unknown_event
from normcheck.checks.tracking.unused_event import unused_event

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
    required_meta,
    locked_rule,
    unused_suppression,
    suppression_without_reason,
    expired_suppression,
    unused_override,
    parse_error,
    select_star,
    hardcoded_relation,
    undocumented_column,
    missing_column,
    incomplete_definition,
    duplicate_definition,
    north_star,
    traffic_light,
    event_name,
    property_name,
    duplicate_event,
    duplicate_property,
    property_type_conflict,
    pii_undeclared,
    unknown_event,
    deprecated_event_used,
    unused_event,
)

LOCKED_RULE = locked_rule.id
UNUSED_OVERRIDE = unused_override.id


def builtin_rules() -> Mapping[str, Rule]:
    return {r.id: r for r in sorted(BUILTIN_RULES, key=lambda r: r.id)}
