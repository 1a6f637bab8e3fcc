"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other viewers.

One reporting descriptor per enabled rule (and any other rule with a result),
with its docs as ``fullDescription`` and ``help``; a result per open finding at
its file and line, with our fingerprint. Suppressed and baselined findings are
left out: GitHub code scanning ignores SARIF ``suppressions`` by default and
would open alerts for them."""

from __future__ import annotations

import json
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from normcheck import __version__
from normcheck.checks._api import Rule
from normcheck.config.loader import from_repository_root
from normcheck.docs import rule_markdown
from normcheck.finding import Finding
from normcheck.report._common import crashed, rule_for
from normcheck.run import Result

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "normcheck/v1"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
# GitHub code scanning's limits on a rule's texts ("SARIF support for code scanning"):
# `name` 255 characters, `shortDescription.text` and `fullDescription.text` 1024 each
NAME_LIMIT, DESCRIPTION_LIMIT = 255, 1024


def _length(text: str) -> int:
    """Characters as a JavaScript string counts them (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def bounded(text: str, limit: int) -> str:
    """``text`` if it fits ``limit``, else cut at a word and ended with an ellipsis."""
    if _length(text) <= limit:
        return text
    cut = text[: limit - 1]
    while _length(cut) > limit - 1:  # characters outside the BMP count twice
        cut = cut[:-1]
    if not text[len(cut)].isspace() and len(cut.split()) > 1:  # not inside a word
        cut = cut.rsplit(None, 1)[0]
    return cut.rstrip() + "…"


def _sections(doc: str) -> dict[str, str]:
    out: dict[str, str] = {}
    name = ""
    for line in doc.splitlines()[1:]:
        if line.startswith("## "):
            name = line[3:].strip().lower()
            continue
        out[name] = (out.get(name, "") + line + "\n").lstrip("\n")
    return {k: v.strip() for k, v in out.items()}


def _severity(rule_id: str, result: Result) -> str:
    """The rule's configured severity; for a rule that is off but on for some
    resources (an override), or unknown, the most severe of its findings."""
    configured = result.config.rules.get(rule_id)
    if configured is not None and configured.severity != "off":
        return configured.severity
    found = [f for f in result.findings if f.rule == rule_id]
    return max(found, key=lambda f: f.rank).severity if found else "warning"


def _descriptor(rule_id: str, result: Result) -> dict[str, object]:
    rule: Rule | None = rule_for(result, rule_id)
    severity = _severity(rule_id, result)
    name = bounded(rule_id.partition("/")[2] or rule_id, NAME_LIMIT)
    descriptor: dict[str, object] = {"id": rule_id, "name": name}
    # GitHub requires each text, not empty; the full one is the summary and as much
    # of what the rule finds and why it matters as fits (`help` has all the docs)
    summary = (rule.summary if rule is not None else "") or rule_id
    sections = _sections(rule.doc) if rule is not None else {}
    found = [sections.get("what it finds"), sections.get("why it matters")]
    full = bounded("\n\n".join([summary, *(s for s in found if s)]), DESCRIPTION_LIMIT)
    help_text = rule_markdown(rule) if rule is not None else f"`normcheck explain {rule_id}`"
    descriptor["shortDescription"] = {"text": bounded(summary, DESCRIPTION_LIMIT)}
    descriptor["fullDescription"] = {"text": full, "markdown": full}
    descriptor["help"] = {"text": help_text, "markdown": help_text}
    descriptor["defaultConfiguration"] = {"level": _LEVELS[severity]}
    descriptor["properties"] = {"tags": [rule_id.partition("/")[0]], "precision": "very-high"}
    return descriptor


def artifact_location(file: str) -> dict[str, object]:
    """A relative path is made relative to the checkout (``%SRCROOT%``: the git
    repository's root, wherever in it normcheck ran); an absolute one becomes a
    ``file://`` URI."""
    file = from_repository_root(file)
    if PurePosixPath(file).is_absolute():
        return {"uri": PurePosixPath(file).as_uri()}
    if PureWindowsPath(file).is_absolute():
        return {"uri": PureWindowsPath(file).as_uri()}
    posix = file.replace("\\", "/")
    return {"uri": quote(posix, safe="/"), "uriBaseId": "%SRCROOT%"}


def _result(finding: Finding, index: dict[str, int]) -> dict[str, object]:
    return {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.file),
                    "region": {"startLine": max(1, finding.line)},
                },
                "logicalLocations": [{"fullyQualifiedName": finding.resource, "kind": "resource"}],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "resource": finding.resource,
            "resourceType": finding.resource_type,
            "owner": finding.owner or "",
        },
    }


def _invocation(result: Result, index: dict[str, int]) -> dict[str, object]:
    """Whether the run succeeded and, when rules crashed, a notification naming each."""
    invocation: dict[str, object] = {"executionSuccessful": not result.crashes}
    notifications = []
    for crash in crashed(result):
        notification: dict[str, object] = {"level": "error", "message": {"text": crash.text}}
        if crash.rule is not None:
            rule: dict[str, object] = {"id": crash.rule}
            if crash.rule in index:
                rule["index"] = index[crash.rule]
            notification["associatedRule"] = rule
        notifications.append(notification)
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def render_sarif(result: Result) -> str:
    rule_ids = sorted(result.enabled_rules() | {f.rule for f in result.findings})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    payload = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "normcheck",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_descriptor(rule_id, result) for rule_id in rule_ids],
                    }
                },
                "invocations": [_invocation(result, index)],
                "results": [_result(f, index) for f in result.findings],
            }
        ],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
