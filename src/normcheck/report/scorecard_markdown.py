"""``normcheck report --format markdown``: the scorecard for a wiki page, an
issue or a README: the teams' lights and counts, the team x rule family grid,
and each team's findings in a collapsed section."""

from __future__ import annotations

from collections import Counter

from normcheck.report import scorecard
from normcheck.report._common import DOCS_HINT, LIGHT_EMOJI, html_inline, md_cell, plural
from normcheck.report.markdown import finding_rows, fitting
from normcheck.report.scorecard import Cell, describe
from normcheck.run import Result

MAX_CHARS = 60_000  # as `check`'s: a GitHub issue or comment holds 65,536


def _light(cell: Cell) -> str:
    return f"{LIGHT_EMOJI[cell.light]} {cell.light}"


def _clean(cell: Cell) -> str:
    if cell.share is None:
        return cell.percent
    return f"{cell.percent} ({cell.clean}/{cell.resources})"


def _grid_cell(cell: Cell) -> str:
    c = cell.counts
    counted = ((c.errors, "error"), (c.warnings, "warning"), (c.infos, "info"))
    parts = [plural(n, word) for n, word in counted if n]
    if c.baselined:  # accepted debt: not in the light, but there
        parts.append(f"{c.baselined} baselined")
    return " ".join([LIGHT_EMOJI[cell.light], ", ".join(parts)]).strip()


def render_card_markdown(result: Result) -> str:
    card = scorecard.build(result)
    lights = card.lights()
    out = [
        "# normcheck scorecard",
        "",
        " · ".join(f"{LIGHT_EMOJI[k]} {lights[k]} {k}" for k in scorecard.LIGHTS)
        + f" — {plural(len(card.teams), 'team')}, {plural(card.total.resources, 'resource')}",
        "",
        "| team | light | errors | warnings | infos | suppressed | baselined | clean |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    team_rows = []
    for team in card.teams:
        c = team.total.counts
        name = md_cell(team.name)
        if not team.registered:
            name += " (not in the owners registry)"
        team_rows.append(
            f"| {name} | {_light(team.total)} | {c.errors} | {c.warnings} | {c.infos} "
            f"| {c.suppressed} | {c.baselined} | {_clean(team.total)} |"
        )
    shown, more = fitting(team_rows, MAX_CHARS // 5, "see `normcheck report --format html`")
    c = card.total.counts
    out += shown
    out.append(
        f"| **all teams** | {_light(card.total)} | {c.errors} | {c.warnings} | {c.infos} "
        f"| {c.suppressed} | {c.baselined} | {_clean(card.total)} |"
    )
    out += ["", *more, f"Lights: {describe(card.thresholds)}. Clean: no open error or warning."]
    out += ["", "## By rule family", ""]
    out.append("| team | " + " | ".join(card.families) + " |")
    out.append("|---|" + "---|" * len(card.families))
    grid_rows = []
    for team in card.teams:
        cells = " | ".join(_grid_cell(team.families[f]) for f in card.families)
        grid_rows.append(f"| {md_cell(team.name)} | {cells} |")
    shown, more = fitting(grid_rows, MAX_CHARS // 5, "see `normcheck report --format html`")
    cells = " | ".join(_grid_cell(card.family_totals[f]) for f in card.families)
    out += [*shown, f"| **all teams** | {cells} |", "", *more]
    out += ["## Findings", ""]
    budget = MAX_CHARS - sum(len(line) + 1 for line in out) - 1_000
    if not card.rows:
        out += ["No findings.", ""]
    left_out = 0  # teams whose findings did not fit at all
    for team in card.teams:
        mine = [r for r in card.rows if r.team == team.team]
        if not mine:
            continue
        # accepted debt by rule, not finding by finding (a legacy project's thousands)
        listed = [r for r in mine if r.status != scorecard.BASELINED]
        debt = Counter(r.finding.rule for r in mine if r.status == scorecard.BASELINED)
        lines, left = finding_rows(listed, budget - 500) if listed else ([], 0)
        if left:
            lines += ["", f"… and {left} more: see `normcheck check --format json`."]
        if debt:
            lines += ["", "Baselined (accepted debt):", "", "| rule | findings |", "|---|---:|"]
            lines += [f"| `{rule}` | {n} |" for rule, n in sorted(debt.items())]
        summary = f"{LIGHT_EMOJI[team.total.light]} {html_inline(team.name)}: "
        summary += plural(len(mine), "finding")
        section = ["<details>", f"<summary>{summary}</summary>", "", *lines, "", "</details>", ""]
        cost = sum(len(line) + 1 for line in section)
        if cost > budget or (listed and left == len(listed)):  # not even one finding's row
            left_out += 1
            continue
        budget -= cost
        out += section
    if left_out:
        teams = plural(left_out, "more team")
        out += [f"… and the findings of {teams}: see `normcheck check --format json`.", ""]
    out.append(DOCS_HINT)
    return "\n".join(out) + "\n"
