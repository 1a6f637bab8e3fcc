"""``normcheck report`` in the terminal: the teams' lights and counts, then a
team x rule family grid of lights."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

import click

from normcheck.report import scorecard
from normcheck.report._common import plural, printable
from normcheck.report.scorecard import Cell, Scorecard, describe
from normcheck.run import Result

Style = Callable[[str, str], str]  # (padded text, light or "") -> text


def _counts(cell: Cell) -> str:
    c = cell.counts
    tagged = ((c.errors, "e"), (c.warnings, "w"), (c.infos, "i"), (c.baselined, "b"))
    return " ".join(f"{n}{tag}" for n, tag in tagged if n)


def _clean(cell: Cell) -> str:
    return "n/a" if cell.share is None else f"{cell.percent} ({cell.clean}/{cell.resources})"


def width(text: str) -> int:
    """The columns ``text`` takes in a terminal: two for a wide character (CJK, most
    emoji), none for a combining mark or a format character, one for the rest."""
    return sum(
        0
        if unicodedata.combining(char) or unicodedata.category(char) in ("Me", "Cf")
        else 2
        if unicodedata.east_asian_width(char) in ("W", "F")
        else 1
        for char in text
    )


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[tuple[str, str]]],
    style: Style,
    right: frozenset[int] = frozenset(),
) -> str:
    """Aligned columns (those in ``right`` flush right); a cell is (text, light)."""
    widths = [max(width(h), *(width(r[i][0]) for r in rows)) for i, h in enumerate(header)]

    def fmt(text: str, index: int, light: str = "") -> str:
        pad = " " * (widths[index] - width(text))
        if index in right:
            return style(pad + text, light)
        return style(text, light) + pad  # padding unstyled

    lines = ["  ".join(fmt(h, i) for i, h in enumerate(header))]
    for row in rows:
        lines.append("  ".join(fmt(text, i, light) for i, (text, light) in enumerate(row)))
    return "\n".join(line.rstrip() for line in lines)


def render_card_text(result: Result, color: bool) -> str:
    card = scorecard.build(result)

    def style(text: str, light: str) -> str:
        if not color or not light:
            return text
        return click.style(text, fg=light, bold=True)

    return _render(card, style)


def _render(card: Scorecard, style: Style) -> str:
    lights = card.lights()
    resources = card.total.resources
    head = (
        f"normcheck scorecard: {plural(len(card.teams), 'team')}, "
        f"{plural(resources, 'resource')}; "
        f"{lights['red']} red, {lights['yellow']} yellow, {lights['green']} green"
    )
    header = ["team", "light", "errors", "warnings", "infos", "suppressed", "baselined", "clean"]
    rows: list[list[tuple[str, str]]] = []
    for team in (*card.teams, None):
        name = printable(team.name) if team else "all teams"
        cell = team.total if team else card.total
        c = cell.counts
        row = [(name, ""), (cell.light, cell.light)]
        row += [(str(n), "") for n in (c.errors, c.warnings, c.infos, c.suppressed, c.baselined)]
        row.append((_clean(cell), ""))
        if team and not team.registered:
            row.append(("not in the owners registry", ""))
        rows.append(row)
    width = max(len(r) for r in rows)
    rows = [r + [("", "")] * (width - len(r)) for r in rows]
    header += [""] * (width - len(header))
    grid_rows: list[list[tuple[str, str]]] = []
    for team in (*card.teams, None):
        name = printable(team.name) if team else "all teams"
        cells = team.families if team else card.family_totals
        grid_rows.append(
            [(name, "")]
            + [
                (f"{cells[f].light} {_counts(cells[f])}".strip(), cells[f].light)
                for f in card.families
            ]
        )
    parts = [
        head,
        f"lights: {describe(card.thresholds)}",
        "",
        table(header, rows, style, frozenset(range(2, 8))),
        "",
        table(["by rule family", *card.families], grid_rows, style),
        "",
        "e = errors, w = warnings, i = infos, b = baselined (accepted debt, not in the light); "
        "clean = resources with no open error or warning",
    ]
    return "\n".join(parts) + "\n"
