"""Turn a rule's `## Example` / `## Use instead` sections into project files."""

from __future__ import annotations

import re

from normcheck.checks._api import Rule

_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)
_BLOCK = re.compile(r"^```(\w+) (\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def sections(rule: Rule) -> dict[str, str]:
    parts = _SECTION.split(rule.doc)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def example_files(rule: Rule, section: str) -> dict[str, str]:
    body = sections(rule).get(section, "")
    return {path: text for _lang, path, text in _BLOCK.findall(body)}
