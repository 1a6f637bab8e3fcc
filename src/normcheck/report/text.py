"""``--format text``: findings grouped by file, a summary line, colour on a TTY."""

from __future__ import annotations

import re
from itertools import groupby

import click

from normcheck.run import Result

_COLORS = {"error": "red", "warning": "yellow", "info": "blue"}
# control characters a name may hold (a newline, a carriage return, an escape
# sequence): shown as escapes, so a finding is one line and cannot rewrite the terminal;
# so are bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), which
# would reorder the rest of the line, the finding's own words included
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with its control characters written as escapes (`\\n`, `\\x1b`, `\\u202e`)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def render_text(result: Result, color: bool) -> str:
    def style(text: str, **kwargs: object) -> str:
        return click.style(text, **kwargs) if color else text  # type: ignore[arg-type]

    lines: list[str] = []
    for file, group in groupby(result.findings, key=lambda f: f.file):
        lines.append(style(printable(file), bold=True))
        for finding in group:
            level = style(f"{finding.severity:<7}", fg=_COLORS[finding.severity])
            rule = style(finding.rule, bold=True)
            lines.append(f"  {finding.line:>4}  {level}  {rule}  {printable(finding.message)}")
        lines.append("")
    summary = result.summary()
    parts = [f"{summary[k]} {k}{'s' if summary[k] != 1 else ''}" for k in ("error", "warning")]
    parts.append(f"{summary['info']} info")
    extra = []
    if summary["suppressed"]:
        extra.append(f"{summary['suppressed']} suppressed")
    if summary["baselined"]:
        extra.append(f"{summary['baselined']} baselined")
    tail = f" ({', '.join(extra)})" if extra else ""
    checked = f"Checked {result.checked} resources with {result.rule_count} rules: "
    if not result.findings:
        lines.append(checked + style("no findings", fg="green") + tail + ".")
    else:
        lines.append(checked + ", ".join(parts) + tail + ".")
    return "\n".join(lines) + "\n"
