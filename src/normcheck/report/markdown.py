"""``--format markdown``: a pull-request summary, short enough for a PR comment
or ``$GITHUB_STEP_SUMMARY``: the counts by severity and by team, the top
findings (`normcheck explain RULE` gives a rule's docs), and the rest in collapsed sections.
Paths are from the repository's root, as the pull request names them."""

from __future__ import annotations

from collections.abc import Sequence

from normcheck.config.loader import from_repository_root
from normcheck.report import scorecard
from normcheck.report._common import (
    DOCS_HINT,
    LIGHT_EMOJI,
    SEVERITY_EMOJI,
    crashed,
    html_inline,
    md_cell,
    md_code,
    plural,
    stale_note,
    summary_line,
)
from normcheck.run import Result

TOP = 10
MAX_CHARS = 60_000  # a GitHub comment holds 65,536; leave room for a bot's header


def finding_rows(rows: Sequence[scorecard.Row], budget: int) -> tuple[list[str], int]:
    """Table lines for ``rows`` within ``budget`` characters, and how many were left out."""
    lines = ["| | rule | where | finding |", "|---|---|---|---|"]
    used = sum(len(line) + 1 for line in lines)
    for index, row in enumerate(rows):
        f = row.finding
        status = "" if row.status == scorecard.OPEN else f" ({row.status})"
        line = (
            f"| {SEVERITY_EMOJI[f.severity]} {f.severity}{status} "
            f"| `{f.rule}` | {md_code(f'{from_repository_root(f.file)}:{f.line}')} "
            f"| {md_cell(f.message)} |"
        )
        if used + len(line) + 1 > budget:
            return lines, len(rows) - index
        lines.append(line)
        used += len(line) + 1
    return lines, 0


def _details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _team_table(card: scorecard.Scorecard, budget: int) -> list[str]:
    """The teams with findings, as many as fit ``budget`` characters (a project whose
    owners are people has hundreds), then how many more there are."""
    teams = [t for t in card.teams if t.total.counts != scorecard.Counts()]
    if not teams:
        return []
    out = [
        "| team | | errors | warnings | infos | suppressed | baselined |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    rows = []
    for team in teams:
        c = team.total.counts
        rows.append(
            f"| {md_cell(team.name)} | {LIGHT_EMOJI[team.total.light]} "
            f"| {c.errors} | {c.warnings} | {c.infos} | {c.suppressed} | {c.baselined} |"
        )
    used = sum(len(line) + 1 for line in out)
    shown, more = fitting(rows, budget - used, "see `normcheck report`")
    return [*out, *shown, "", *more]


def fitting(rows: list[str], budget: int, see: str) -> tuple[list[str], list[str]]:
    """The team rows that fit ``budget`` characters (a project whose owners are
    people has hundreds), and lines saying how many more there are and where to
    ``see`` them (none when all fit)."""
    used = 0
    for index, row in enumerate(rows):
        used += len(row) + 1
        if used > budget:
            more = plural(len(rows) - index, "more team")
            return rows[:index], [f"… and {more}: {see}.", ""]
    return rows, []


def _more(left: int) -> list[str]:
    return ["", f"… and {left} more: see the SARIF or JSON report."] if left else []


def render_markdown(result: Result) -> str:
    card = scorecard.build(result)
    out = [f"### {LIGHT_EMOJI[card.total.light]} normcheck: {summary_line(result)}", ""]
    out += [f"Checked {result.checked} resources with {result.rule_count} rules.", ""]
    for crash in crashed(result):  # the findings are incomplete: say so first
        out += [f"⚠️ **Crashed, so these findings are incomplete:** {md_cell(crash.text)}", ""]
    out += _team_table(card, MAX_CHARS // 4)
    budget = MAX_CHARS - sum(len(line) + 1 for line in out) - 1_000
    open_rows = [r for r in card.rows if r.status == scorecard.OPEN]
    if open_rows:
        top, rest = open_rows[:TOP], open_rows[TOP:]
        lines, _ = finding_rows(top, budget // 2)
        out += [f"**Top findings** ({len(top)} of {len(open_rows)})", "", *lines, ""]
        budget -= sum(len(line) + 1 for line in lines)
        by_team: dict[str, list[scorecard.Row]] = {}
        for row in rest:
            by_team.setdefault(row.team, []).append(row)
        left_out = 0  # teams whose section does not fit at all
        ordered = sorted(by_team, key=lambda t: (t == "", t))
        for index, team in enumerate(ordered):
            mine = by_team[team]
            name = html_inline(team or scorecard.NO_OWNER)
            summary = f"{name}: {plural(len(mine), 'more finding')}"
            # room kept for the next teams' sections, if only to say how many they have
            kept = min(200 * (len(ordered) - index - 1), budget // 2)
            lines, left = finding_rows(mine, budget - kept - len(summary) - 100)
            section = _details(summary, lines + _more(left))
            cost = sum(len(line) + 1 for line in section)
            if cost > budget:
                left_out += 1
                continue
            budget -= cost
            out += section
        if left_out:
            teams = plural(left_out, "more team")
            out += [f"… and the findings of {teams}: see the SARIF or JSON report.", ""]
    hidden = [r for r in card.rows if r.status != scorecard.OPEN]
    if hidden:
        lines, left = finding_rows(hidden, max(budget, 0))
        counts = result.summary()
        what = ", ".join(f"{counts[k]} {k}" for k in ("suppressed", "baselined") if counts[k])
        out += _details(f"Not counted: {what}", lines + _more(left))
    if result.stale_baseline:  # the debt going down, where the PR shows it
        out += [stale_note(len(result.stale_baseline)) + ".", ""]
    out.append(f"<sub>{DOCS_HINT}</sub>")
    return "\n".join(out) + "\n"
