"""``--format text``: findings grouped by file, a summary line, colour on a TTY."""

from __future__ import annotations

from itertools import groupby

import click

from normcheck.report._common import printable
from normcheck.run import Result

_COLORS = {"error": "red", "warning": "yellow", "info": "blue"}


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
