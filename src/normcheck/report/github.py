"""``--format github``: GitHub Actions workflow commands, one annotation per
finding (``::error file=…,line=…,title=…::message``), shown on the pull
request's diff and in the run's summary."""

from __future__ import annotations

from normcheck.config.loader import from_repository_root
from normcheck.report._common import crashed, summary_line, visible
from normcheck.run import Result

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """A command's message: ``%``, CR and LF are percent-encoded; other control
    characters are shown as escapes (``\\x1b``), as the text report shows them."""
    return visible(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value: like the message, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: Result) -> str:
    lines = []
    for finding in result.findings:
        properties = ",".join(
            f"{key}={escape_property(value)}"
            for key, value in (
                ("file", from_repository_root(finding.file)),  # as the PR's diff names it
                ("line", str(max(1, finding.line))),
                ("title", f"normcheck {finding.rule}"),
            )
        )
        lines.append(
            f"::{_COMMANDS[finding.severity]} {properties}::{escape_data(finding.message)}"
        )
    for crash in crashed(result):  # the findings are incomplete: an error of the run
        title = escape_property(f"normcheck {crash.rule or 'plugin'} crashed")
        lines.append(f"::error title={title}::{escape_data(crash.text)}")
    lines.append(f"normcheck: {summary_line(result)}")
    return "\n".join(lines) + "\n"
