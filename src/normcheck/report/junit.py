"""``--format junit``: JUnit XML, as GitLab, Jenkins and Azure Pipelines read it.

One test suite per rule family and, in it, one test case per resource the
family's enabled rules judge (a column's findings count on its model). A case
fails on an open error or warning; its infos, suppressed and baselined
findings are listed in ``system-out``. A rule that crashed on a resource is
an ``error`` of that case. No timestamps or durations: the same inputs give
the same bytes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

from normcheck.config.loader import from_repository_root
from normcheck.report._common import plugin_of, visible
from normcheck.report.scorecard import OPEN, Row, resource_of, rows
from normcheck.run import PLUGIN_CRASH, Result

_COLUMN_HOLDERS = ("model", "seed", "snapshot", "source")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Text XML 1.0 can hold: control characters shown as escapes (``\\x1b``), as
    the other reports show them; what is no character at all (half of a surrogate
    pair, U+FFFE, U+FFFF) replaced."""
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", visible(text))


@dataclass
class _Case:
    rows: list[Row] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)  # the rules (plugins) that crashed

    @property
    def failing(self) -> list[Row]:
        return [
            r for r in self.rows if r.status == OPEN and r.finding.severity in ("error", "warning")
        ]


def _judged_families(result: Result) -> Mapping[str, set[str]]:
    """resource type -> the families with a rule that ran on that type."""
    out: dict[str, set[str]] = {}
    for rule_id in sorted(result.enabled_rules()):
        rule_config = result.config.rules[rule_id]
        for target in rule_config.rule.targets:
            types = _COLUMN_HOLDERS if target == "column" else (target,)
            for kind in types:
                out.setdefault(kind, set()).add(rule_config.rule.family)
    return out


def _cases(result: Result) -> dict[str, dict[str, _Case]]:
    """family -> resource -> case."""
    cases: dict[str, dict[str, _Case]] = {}
    judged = _judged_families(result)
    for uid in result.resources:
        for family in judged.get(uid.split(".", 1)[0], ()):
            cases.setdefault(family, {}).setdefault(uid, _Case())
    for row in rows(result):
        uid = resource_of(row.finding.resource, result.resources) or row.finding.resource
        cases.setdefault(row.finding.family, {}).setdefault(uid, _Case()).rows.append(row)
    for crash in result.crashes:
        uid = resource_of(crash.resource, result.resources) or crash.resource
        family = crash.rule.split("/", 1)[0]
        case = cases.setdefault(family, {}).setdefault(uid, _Case())
        case.crashes.append(f"rule {crash.rule} raised on {crash.resource}:\n{crash.traceback}")
        plugin = plugin_of(result, crash.rule)
        if crash.rule == PLUGIN_CRASH:
            case.crashed.append(f"plugin {crash.resource} failed to import (a bug in the plugin)")
        elif plugin is not None:  # a plugin's, not normcheck's
            case.crashed.append(f"rule {crash.rule} crashed (a bug in plugin {plugin})")
        else:
            case.crashed.append("a rule crashed (a bug in normcheck)")
    return cases


def _line(row: Row) -> str:
    f = row.finding
    status = "" if row.status == OPEN else f" ({row.status})"
    return f"{f.severity}{status} {f.rule} at {from_repository_root(f.file)}:{f.line}: {f.message}"


def _testcase(family: str, uid: str, case: _Case) -> ET.Element:
    element = ET.Element("testcase", {"name": uid, "classname": f"normcheck.{family}"})
    if case.rows:
        # from the repository's root, as GitLab and CI dashboards link files
        element.set("file", from_repository_root(case.rows[0].finding.file))
    element.set("time", "0")
    failing = case.failing
    if failing:
        first = failing[0].finding
        message = first.message if len(failing) == 1 else f"{len(failing)} findings"
        failure = ET.SubElement(element, "failure", {"message": message, "type": first.rule})
        failure.text = "\n".join(_line(r) for r in failing)
    if case.crashes:
        error = ET.SubElement(element, "error", {"message": "; ".join(dict.fromkeys(case.crashed))})
        error.text = "\n\n".join(case.crashes)
    rest = [r for r in case.rows if r not in failing]
    if rest:
        ET.SubElement(element, "system-out").text = "\n".join(_line(r) for r in rest)
    return element


def render_junit(result: Result) -> str:
    root = ET.Element("testsuites", {"name": "normcheck"})
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for family, by_uid in sorted(_cases(result).items()):
        suite = ET.SubElement(root, "testsuite", {"name": f"normcheck.{family}"})
        counts = {
            "tests": len(by_uid),
            "failures": sum(1 for c in by_uid.values() if c.failing),
            "errors": sum(1 for c in by_uid.values() if c.crashes),
            "skipped": 0,
        }
        for key, value in counts.items():
            suite.set(key, str(value))
        suite.set("time", "0")
        for uid, case in sorted(by_uid.items()):
            suite.append(_testcase(family, uid, case))
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", "0")
    for element in root.iter():
        element.attrib = {k: xml_safe(v) for k, v in element.attrib.items()}
        if element.text:
            element.text = xml_safe(element.text)
    ET.indent(root, "  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
