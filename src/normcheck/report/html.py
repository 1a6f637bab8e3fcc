"""``normcheck report --format html`` (and ``check --format html``): the
scorecard as one self-contained page. No network and no external assets: the
CSS and the script are inline and pinned by a Content-Security-Policy that
allows nothing else to load. The page shows each team's traffic light, the
team x rule family grid, a bar chart of open findings per team and family
(inline SVG), a sortable table of every finding, and the docs of the rules they
name, which the table links to (``#rule-ID`` opens one). ``#sort=KEY`` or
``#sort=-KEY`` in the URL sorts the table on load."""

from __future__ import annotations

import base64
import hashlib

from normcheck import __version__
from normcheck.docs import rule_markdown
from normcheck.report import scorecard
from normcheck.report._common import (
    html_escape,
    html_text,
    plural,
    rule_anchor,
    rule_for,
    summary_line,
)
from normcheck.report.scorecard import Cell, Scorecard, TeamRow, describe
from normcheck.run import Result

LIGHT_COLORS = {"red": "#d1242f", "yellow": "#e3a008", "green": "#1f883d"}  # as in CSS
METER_COLOR = "#54aeff"  # the clean share: not a light's colour
FAMILY_COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#76b7b2",
    "#b07aa1",
    "#9c755f",
    "#ff9da7",
    "#2f4b7c",
    "#bab0ac",
    "#499894",
    "#d37295",
    "#a0cbe8",
    "#79706e",
)

CSS = """
:root { color-scheme: light; --red: #d1242f; --yellow: #e3a008; --green: #1f883d;
  --red-bg: #ffebe9; --yellow-bg: #fff8c5; --green-bg: #dafbe1; --line: #d0d7de;
  --muted: #57606a; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial,
  sans-serif; color: #1f2328; background: #f6f8fa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 40px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 14px 0 10px; }
p.summary, p.legend, footer { color: var(--muted); margin: 4px 0; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 2px 18px 14px; margin-top: 16px; }
.lights { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr));
  gap: 12px; }
.team { display: flex; gap: 14px; align-items: center; border: 1px solid var(--line);
  border-radius: 8px; padding: 12px 14px; border-left-width: 6px; }
.team.light-red { border-left-color: var(--red); }
.team.light-yellow { border-left-color: var(--yellow); }
.team.light-green { border-left-color: var(--green); }
.lamp { flex: none; width: 42px; height: 42px; border-radius: 50%; }
.light-red .lamp { background: var(--red); }
.light-yellow .lamp { background: var(--yellow); }
.light-green .lamp { background: var(--green); }
.team h3 { margin: 0; font-size: 16px; }
.team p { margin: 2px 0 0; color: var(--muted); }
.tag { display: inline-block; font-size: 11px; border: 1px solid var(--line);
  border-radius: 10px; padding: 0 7px; color: var(--muted); margin-left: 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-weight: 600; background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.cell { text-align: center; font-weight: 600; }
td.cell.light-red { background: var(--red-bg); color: #a40e26; }
td.cell.light-yellow { background: var(--yellow-bg); color: #7d4e00; }
td.cell.light-green { background: var(--green-bg); color: #116329; }
tr.total td { font-weight: 600; }
svg text { font-size: 12px; fill: #1f2328; }
th button { all: unset; cursor: pointer; white-space: nowrap; }
th button::after { content: " \\2195"; color: var(--muted); }
th[aria-sort="ascending"] button::after { content: " \\2191"; }
th[aria-sort="descending"] button::after { content: " \\2193"; }
td.sev { white-space: nowrap; font-weight: 600; }
td.rule { white-space: nowrap; }
td.where { max-width: 260px; font-size: 13px; }
td.finding { min-width: 320px; }
.resource { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
td.sev-error { color: var(--red); }
td.sev-warning { color: #9a6700; }
td.sev-info { color: #0969da; }
tr.status-suppressed td, tr.status-baselined td { color: var(--muted); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: #eff1f3; border-radius: 4px; padding: 1px 4px; }
a { color: #0969da; }
#rules details { margin: 4px 0; }
#rules pre { white-space: pre-wrap; font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas,
  monospace; background: #f6f8fa; border-radius: 6px; padding: 8px 12px; }
"""

SCRIPT = """
(function () {
  var table = document.getElementById("findings");
  if (!table) { return; }
  var body = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  function value(row, index) {
    var cell = row.cells[index];
    var raw = cell.getAttribute("data-sort");
    return raw === null ? cell.textContent.trim().toLowerCase() : raw;
  }
  function sortBy(index, descending) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, index), y = value(b, index);
      var nx = Number(x), ny = Number(y), order;
      if (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) { order = nx - ny; }
      else { order = x < y ? -1 : x > y ? 1 : 0; }
      if (descending) { order = -order; }
      return order || Number(a.getAttribute("data-index")) - Number(b.getAttribute("data-index"));
    });
    rows.forEach(function (row) { body.appendChild(row); });
    heads.forEach(function (head, i) {
      head.setAttribute("aria-sort", i === index ? (descending ? "descending" : "ascending")
        : "none");
    });
    table.setAttribute("data-sorted", (descending ? "-" : "") + heads[index].dataset.key);
  }
  heads.forEach(function (head, index) {
    head.querySelector("button").addEventListener("click", function () {
      var descending = head.getAttribute("aria-sort") === "ascending";
      sortBy(index, descending);
      history.replaceState(null, "", "#sort=" + (descending ? "-" : "") + head.dataset.key);
    });
  });
  var wanted = /^#sort=(-?)([a-z]+)$/.exec(location.hash);
  if (wanted) {
    var index = heads.findIndex(function (head) { return head.dataset.key === wanted[2]; });
    if (index >= 0) { sortBy(index, wanted[1] === "-"); }
  }
  function openRule() {  // a rule's link opens its docs
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  window.addEventListener("hashchange", openRule);
  openRule();
})();
"""


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


CSP = f"default-src 'none'; style-src {_hash(CSS)}; script-src {_hash(SCRIPT)}; img-src data:"


def _counts_text(cell: Cell) -> str:
    c = cell.counts
    text = f"{plural(c.errors, 'error')} · {plural(c.warnings, 'warning')} · {c.infos} info"
    pairs = ((c.suppressed, "suppressed"), (c.baselined, "baselined"))
    hidden = [f"{n} {w}" for n, w in pairs if n]
    return text + (f" · {', '.join(hidden)}" if hidden else "")


def _meter(cell: Cell) -> str:
    share = cell.share
    if share is None:
        return "<p>no resources of its own</p>"
    width = round(share * 160, 1)
    return (
        f"<p>{cell.percent} clean ({cell.clean}/{cell.resources} resources) "
        f'<svg width="160" height="8" role="img" aria-label="{cell.percent} clean">'
        '<rect width="160" height="8" rx="4" fill="#eaeef2"/>'
        f'<rect width="{width:g}" height="8" rx="4" fill="{METER_COLOR}"/></svg></p>'
    )


def _team_card(team: TeamRow) -> str:
    light = team.total.light
    tag = "" if team.registered else '<span class="tag">not in the owners registry</span>'
    return (
        f'<article class="team light-{light}" data-team="{html_escape(team.team)}" '
        f'data-light="{light}">'
        f'<span class="lamp" role="img" aria-label="{light}"></span>'
        f"<div><h3>{html_escape(team.name)} {tag}</h3>"
        f"<p>{light} · {_counts_text(team.total)}</p>{_meter(team.total)}</div></article>"
    )


def _grid_cell(cell: Cell) -> str:
    c = cell.counts
    tagged = ((c.errors, "E"), (c.warnings, "W"), (c.infos, "I"), (c.baselined, "B"))
    parts = [f"{n}{t}" for n, t in tagged if n]
    label = " ".join(parts) or "✓"
    title = f"{cell.light}: {_counts_text(cell)}"
    return (
        f'<td class="cell light-{cell.light}" data-light="{cell.light}" '
        f'title="{html_escape(title)}">{label}</td>'
    )


def _grid(card: Scorecard) -> str:
    head = "".join(f"<th>{html_escape(f)}</th>" for f in card.families)
    rows = []
    for team in card.teams:
        cells = "".join(_grid_cell(team.families[f]) for f in card.families)
        rows.append(
            f'<tr data-team="{html_escape(team.team)}" data-light="{team.total.light}">'
            f"<th>{html_escape(team.name)}</th>{_grid_cell(team.total)}{cells}</tr>"
        )
    cells = "".join(_grid_cell(card.family_totals[f]) for f in card.families)
    rows.append(f'<tr class="total"><th>all teams</th>{_grid_cell(card.total)}{cells}</tr>')
    return (
        f'<table class="grid"><thead><tr><th>team</th><th>overall</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _chart(card: Scorecard) -> str:
    """Stacked bars: one per team, a segment per rule family (open findings)."""
    label_width, bar_width, row_height = 190, 720, 30
    colors = {f: FAMILY_COLORS[i % len(FAMILY_COLORS)] for i, f in enumerate(card.families)}
    most = max((t.total.counts.open for t in card.teams), default=0)
    scale = bar_width / most if most else 0.0
    parts = []
    y = 0
    for team in card.teams:
        parts.append(
            f'<g data-team="{html_escape(team.team)}"><text x="{label_width - 10}" '
            f'y="{y + 19}" text-anchor="end">{html_escape(team.name)}</text>'
        )
        x = float(label_width)
        for family in card.families:
            n = team.families[family].counts.open
            if not n:
                continue
            width = n * scale
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 6}" width="{width:.1f}" height="{row_height - 10}" '
                f'fill="{colors[family]}" data-family="{html_escape(family)}">'
                f"<title>{html_escape(team.name)} · {html_escape(family)}: "
                f"{plural(n, 'open finding')}</title></rect>"
            )
            x += width
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 19}">{team.total.counts.open}</text></g>')
        y += row_height
    legend_y = y + 14
    x = float(label_width)
    for family in card.families:
        parts.append(
            f'<rect x="{x:.1f}" y="{legend_y}" width="12" height="12" fill="{colors[family]}"/>'
            f'<text x="{x + 17:.1f}" y="{legend_y + 11}">{html_escape(family)}</text>'
        )
        x += 34 + 7.5 * len(family)
    height = legend_y + 20
    width = label_width + bar_width + 40
    if not most:
        parts.append(f'<text x="{label_width}" y="{legend_y - 4}">no open findings</text>')
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="open findings per team and rule family">{"".join(parts)}</svg>'
    )


_COLUMNS = (
    ("severity", "severity"),
    ("status", "status"),
    ("team", "team"),
    ("rule", "rule"),
    ("where", "where"),
    ("finding", "finding"),
)


def _breakable(path: str) -> str:
    """A path that wraps after its slashes rather than inside a name."""
    return "/<wbr>".join(html_escape(part) for part in path.split("/"))


def _anchors(card: Scorecard) -> dict[str, str]:
    """Each rule a finding names -> the id of its docs in the page, one id per rule:
    `acme/mart.meta` and `acme/mart-meta` both read `rule-acme-mart-meta` (the later
    in order gets a number), so neither page nor link is ambiguous."""
    out: dict[str, str] = {}
    for rule_id in sorted({row.finding.rule for row in card.rows}):
        anchor, n = rule_anchor(rule_id), 1
        while anchor in out.values():
            n += 1
            anchor = f"{rule_anchor(rule_id)}-{n}"
        out[rule_id] = anchor
    return out


def _findings(card: Scorecard) -> str:
    head = "".join(
        f'<th data-key="{key}" aria-sort="none"><button type="button">{title}</button></th>'
        for key, title in _COLUMNS
    )
    anchors = _anchors(card)
    rows = []
    for index, row in enumerate(card.rows):
        f = row.finding
        where = f"{f.file}\t{f.line:09d}"  # sorts by file, then line
        rows.append(
            f'<tr data-index="{index}" data-team="{html_escape(row.team)}" '
            f'data-rule="{html_escape(f.rule)}" class="status-{row.status}">'
            f'<td class="sev sev-{f.severity}" data-sort="{f.rank}">{f.severity}</td>'
            f"<td>{row.status}</td>"
            f"<td>{html_escape(row.team or scorecard.NO_OWNER)}</td>"
            f'<td class="rule"><a href="#{anchors[f.rule]}">{html_escape(f.rule)}</a></td>'
            f'<td class="where" data-sort="{html_escape(where)}">{_breakable(f.file)}:{f.line}</td>'
            f'<td class="finding">{html_text(f.message)}'
            f'<div class="resource">{html_escape(f.resource)}</div></td></tr>'
        )
    if not rows:
        return "<p>No findings.</p>"
    return (
        f'<table id="findings"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _rules(result: Result, card: Scorecard) -> str:
    """The docs of each rule a finding names, in the page itself (it links to them)."""
    out = []
    anchors = _anchors(card)
    for rule_id in sorted(anchors):
        rule = rule_for(result, rule_id)
        text = rule_markdown(rule) if rule is not None else f"# {rule_id}\n"
        summary = rule.summary if rule is not None else ""
        out.append(
            f'<details id="{anchors[rule_id]}"><summary><code>{html_escape(rule_id)}</code> '
            f"{html_text(summary)}</summary><pre>{html_escape(text)}</pre></details>"
        )
    return "\n".join(out) or "<p>No findings, so no rules to explain.</p>"


def render_html(result: Result) -> str:
    card = scorecard.build(result)
    lights = card.lights()
    counts = " · ".join(f"{lights[k]} {k}" for k in scorecard.LIGHTS)
    cards = "\n".join(_team_card(t) for t in card.teams) or "<p>No teams.</p>"
    body = f"""<main>
<header>
<h1>normcheck scorecard</h1>
<p class="summary">{plural(len(card.teams), "team")}: {counts}.
{result.checked} resources checked with {result.rule_count} rules: {summary_line(result)}.</p>
</header>
<section id="teams">
<h2>Teams</h2>
<div class="lights">
{cards}
</div>
<p class="legend">Lights: {html_escape(describe(card.thresholds))}. Clean: no open error or
warning (infos are advice; suppressed and baselined findings are counted apart).</p>
</section>
<section id="families">
<h2>By rule family</h2>
{_grid(card)}
<p class="legend">E = errors, W = warnings, I = infos, B = baselined (accepted debt, not in
the light); ✓ = nothing open nor baselined.</p>
</section>
<section id="chart">
<h2>Open findings per team and rule family</h2>
{_chart(card)}
</section>
<section id="findings-section">
<h2>Findings</h2>
{_findings(card)}
</section>
<section id="rules">
<h2>Rules</h2>
{_rules(result, card)}
</section>
<footer>normcheck {html_escape(__version__)} · what each rule finds and how to fix it: the rules
above, or <code>normcheck explain RULE</code></footer>
</main>"""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>normcheck scorecard</title>
<style>{CSS}</style>
</head>
<body>
{body}
<script>{SCRIPT}</script>
</body>
</html>
"""
