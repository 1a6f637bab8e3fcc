"""Turn a rule's `## Example` / `## Use instead` sections into project files."""

from __future__ import annotations

import re

from normcheck.checks._api import Rule

_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)
_BLOCK = re.compile(r"^```(\w+) (\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def sections(rule: Rule) -> dict[str, str]:
    parts = _SECTION.split(rule.doc)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


# dbt refuses metrics without a time spine; the examples leave it out to stay short.
TIME_SPINE = {
    "models/metricflow_time_spine.sql": "select cast('2024-01-01' as date) as date_day\n",
    "models/metricflow_time_spine.yml": """\
version: 2
models:
  - name: metricflow_time_spine
    time_spine: {standard_granularity_column: date_day}
    columns: [{name: date_day, granularity: day}]
""",
}


def example_files(rule: Rule, section: str) -> dict[str, str]:
    body = sections(rule).get(section, "")
    files = {path: text for _lang, path, text in _BLOCK.findall(body)}
    if any(re.search(r"^metrics:", text, re.MULTILINE) for text in files.values()):
        files = {**TIME_SPINE, **files}
    return files
