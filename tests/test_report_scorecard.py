"""The traffic-light scorecard: how counts become lights, the `scorecard:`
thresholds in normcheck.yml, and `normcheck report` on the real sample project."""

from __future__ import annotations

import html
import json
import re

import pytest

from _report_support import sample_copy
from normcheck.cli import main
from normcheck.config.loader import load_config
from normcheck.config.model import ScorecardThresholds, Threshold
from normcheck.errors import ConfigError
from normcheck.finding import Finding
from normcheck.report import render_scorecard, scorecard
from normcheck.report.scorecard import Counts, describe, light, resource_of
from normcheck.run import Result

DEFAULT = ScorecardThresholds()


@pytest.mark.parametrize(
    ("counts", "share", "thresholds", "expected"),
    [
        pytest.param(Counts(), 1.0, DEFAULT, "green", id="clean is green"),
        pytest.param(Counts(infos=5), 1.0, DEFAULT, "green", id="infos alone stay green"),
        pytest.param(
            Counts(suppressed=3, baselined=4),
            1.0,
            DEFAULT,
            "green",
            id="hidden findings stay green",
        ),
        pytest.param(Counts(warnings=1), 0.9, DEFAULT, "yellow", id="a warning is yellow"),
        pytest.param(Counts(errors=1, warnings=9), 0.5, DEFAULT, "red", id="an error is red"),
        pytest.param(
            Counts(errors=2),
            0.9,
            ScorecardThresholds(red=Threshold(errors=3)),
            "yellow",
            id="errors below the red threshold are still yellow",
        ),
        pytest.param(
            Counts(warnings=2),
            0.9,
            ScorecardThresholds(yellow=Threshold(warnings=3)),
            "green",
            id="warnings below the yellow threshold are green",
        ),
        pytest.param(
            Counts(warnings=1),
            0.4,
            ScorecardThresholds(red=Threshold(errors=1, clean_below=50)),
            "red",
            id="too few clean resources is red",
        ),
        pytest.param(
            Counts(infos=1),
            None,
            ScorecardThresholds(red=Threshold(clean_below=50)),
            "green",
            id="no resources: the share does not count",
        ),
        pytest.param(
            Counts(infos=10),
            1.0,
            ScorecardThresholds(yellow=Threshold(infos=10)),
            "yellow",
            id="infos can have a threshold too",
        ),
        pytest.param(
            Counts(warnings=50),
            1.0,
            ScorecardThresholds(red=Threshold(warnings=50)),
            "red",
            id="warnings can make a team red",
        ),
    ],
)
def test_light(counts, share, thresholds, expected):
    assert light(counts, share, thresholds) == expected


def test_describe_thresholds():
    assert describe(DEFAULT) == "red: 1+ errors; yellow: 1+ warnings; green: otherwise"
    custom = ScorecardThresholds(red=Threshold(errors=3, clean_below=50.5), yellow=Threshold())
    assert describe(custom) == (
        "red: 3+ errors or under 50.5% clean; yellow: never, or any error; green: otherwise"
    )


@pytest.mark.parametrize(
    ("uid", "expected"),
    [
        pytest.param("model.shop.orders", "model.shop.orders", id="a resource"),
        pytest.param("model.shop.orders.amount", "model.shop.orders", id="a column"),
        pytest.param("source.shop.raw.orders.id", "source.shop.raw.orders", id="a source column"),
        pytest.param("normcheck.yml", None, id="a configuration file"),
        pytest.param("", None, id="nothing"),
    ],
)
def test_resource_of(uid, expected):
    resources = {"model.shop.orders": "growth", "source.shop.raw.orders": "growth"}
    assert resource_of(uid, resources) == expected


def test_configured_thresholds_with_provenance(tmp_path):
    (tmp_path / "central.yml").write_text(
        "version: 1\nextends: []\nscorecard:\n  red: {errors: 5}\n  yellow: {warnings: 2}\n"
    )
    (tmp_path / "normcheck.yml").write_text(
        "version: 1\nextends: [central.yml]\nscorecard:\n  yellow: {clean_below: 90}\n"
    )
    config = load_config(tmp_path)
    # each level is replaced whole by the last file that sets it
    assert config.scorecard == ScorecardThresholds(
        red=Threshold(errors=5), yellow=Threshold(clean_below=90)
    )
    origin = config.settings_origins["scorecard.yellow"]
    assert origin.file.endswith("normcheck.yml") and origin.line == 4


CENTRAL_LOCKED = (
    "version: 1\nextends: []\nscorecard:\n  locked: true\n"
    "  red: {errors: 1, clean_below: 50}\n  yellow: {warnings: 3}\n"
)


@pytest.mark.parametrize(
    ("local", "red", "yellow", "tried"),
    [
        pytest.param(
            "  red: {errors: 5, clean_below: 50}\n",
            Threshold(errors=1, clean_below=50),
            Threshold(warnings=3),
            ["red"],
            id="more errors before red",
        ),
        pytest.param(
            "  red: {errors: 1}\n",
            Threshold(errors=1, clean_below=50),
            Threshold(warnings=3),
            ["red"],
            id="a condition dropped",
        ),
        pytest.param(
            "  red: {errors: 1, clean_below: 40}\n  yellow: {warnings: 1}\n",
            Threshold(errors=1, clean_below=50),
            Threshold(warnings=1),
            ["red"],
            id="a lower clean share, and a stricter yellow kept",
        ),
        pytest.param(
            "  locked: false\n  yellow: {warnings: 9}\n",
            Threshold(errors=1, clean_below=50),
            Threshold(warnings=3),
            ["locked", "yellow"],
            id="unlocking",
        ),
        pytest.param(
            "  red: {errors: 1, clean_below: 60, warnings: 20}\n  yellow: {warnings: 3}\n",
            Threshold(errors=1, warnings=20, clean_below=60),
            Threshold(warnings=3),
            [],
            id="stricter and the same are allowed",
        ),
    ],
)
def test_a_locked_scorecard_may_only_get_stricter(tmp_path, local, red, yellow, tried):
    (tmp_path / "central.yml").write_text(CENTRAL_LOCKED)
    (tmp_path / "normcheck.yml").write_text(
        "version: 1\nextends: [central.yml]\nscorecard:\n" + local
    )
    config = load_config(tmp_path)
    assert config.scorecard == ScorecardThresholds(red=red, yellow=yellow)
    assert sorted(v.key for v in config.violations) == sorted(tried)
    for v in config.violations:
        assert v.origin.file.endswith("normcheck.yml")
        assert "the scorecard was locked at" in v.message and "central.yml:4" in v.message
        assert v.origin.line == 4 + local.splitlines().index(
            next(line for line in local.splitlines() if line.lstrip().startswith(v.key))
        )


def test_an_unlocked_scorecard_may_be_loosened(tmp_path):
    (tmp_path / "central.yml").write_text(
        "version: 1\nextends: []\nscorecard:\n  locked: false\n  red: {errors: 1}\n"
    )
    (tmp_path / "normcheck.yml").write_text(
        "version: 1\nextends: [central.yml]\nscorecard:\n  red: {errors: 9}\n"
    )
    config = load_config(tmp_path)
    assert config.violations == () and config.scorecard.red == Threshold(errors=9)


def test_scorecard_lock_in_config_output(tmp_path, monkeypatch, capsys):
    (tmp_path / "central.yml").write_text(CENTRAL_LOCKED)
    (tmp_path / "normcheck.yml").write_text("version: 1\nextends: [central.yml]\n")
    monkeypatch.chdir(tmp_path)
    assert main(["config", "--format", "json"]) == 0
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert settings["scorecard"] == {
        "red": {"errors": 1, "clean_below": 50},
        "yellow": {"warnings": 3},
        "locked": True,
    }
    assert main(["config"]) == 0
    assert "  locked        [central.yml:4]" in capsys.readouterr().out


def test_default_thresholds_without_configuration(tmp_path):
    assert load_config(tmp_path).scorecard == DEFAULT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "scorecard:\n  red: {error: 1}\n",
            "unknown key `error` in `scorecard.red`; did you mean `errors`?",
            id="a misspelt key",
        ),
        pytest.param(
            "scorecard:\n  orange: {errors: 1}\n",
            "unknown key `orange` in `scorecard`",
            id="an unknown light",
        ),
        pytest.param(
            "scorecard:\n  red: {errors: 0}\n",
            "invalid value at `scorecard.red.errors`",
            id="zero errors",
        ),
        pytest.param(
            "scorecard:\n  yellow: {clean_below: 101}\n",
            "invalid value at `scorecard.yellow.clean_below`",
            id="more than 100 percent",
        ),
        pytest.param(
            "scorecard:\n  yellow: {warnings: many}\n",
            "invalid value at `scorecard.yellow.warnings`",
            id="not a number",
        ),
    ],
)
def test_invalid_thresholds_are_config_errors(tmp_path, text, message):
    (tmp_path / "normcheck.yml").write_text("version: 1\nextends: []\n" + text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{tmp_path / 'normcheck.yml'}:")


def finding(rule: str, resource: str, severity: str, owner: str | None) -> Finding:
    return Finding(
        "models/x.sql", 1, rule, resource, "m", severity, "model", owner, rule + resource
    )


def test_an_owner_given_by_email_is_its_team_and_no_owner_is_no_unknown_team(tmp_path):
    """`meta.owner: g@x.io`, growth's registered email, counts for growth (the
    unknown-owner rule already takes it as growth); resources nobody owns are
    their own row, not a team missing from the registry."""
    (tmp_path / "normcheck.yml").write_text(
        "version: 1\nextends: []\nowners: {growth: {email: g@x.io}, finance: {}}\n"
    )
    resources = {"model.s.a": "growth", "model.s.b": "g@x.io", "model.s.c": ""}
    findings = (
        finding("docs/missing-description", "model.s.b", "warning", "g@x.io"),
        finding("ownership/missing-owner", "model.s.c", "error", None),
    )
    result = Result(findings=findings, config=load_config(tmp_path), resources=resources)
    card = scorecard.build(result)
    teams = {team.team: team for team in card.teams}
    assert set(teams) == {"growth", ""}
    assert teams["growth"].total.counts.warnings == 1
    assert (teams["growth"].total.resources, teams["growth"].total.clean) == (2, 1)
    assert teams[""].registered
    text = render_scorecard(result, "text", False)
    assert "not in the owners registry" not in text


def test_counts_and_clean_share_per_team_and_family(tmp_path):
    (tmp_path / "normcheck.yml").write_text("version: 1\nextends: []\n")
    config = load_config(tmp_path)
    resources = {
        "model.s.a": "growth",
        "model.s.b": "growth",
        "model.s.c": "finance",
        "model.s.d": "",
    }
    result = Result(
        findings=(
            finding("naming/model-prefix", "model.s.a", "error", "growth"),
            finding("naming/column-case", "model.s.a.col", "warning", "growth"),
            finding("docs/missing-description", "model.s.b", "info", "growth"),
            finding("ownership/missing-owner", "model.s.d", "error", None),
        ),
        config=config,
        suppressed_findings=(
            finding("docs/missing-description", "model.s.c", "warning", "finance"),
        ),
        baselined_findings=(finding("naming/model-prefix", "model.s.c", "error", "finance"),),
        resources=resources,
        rules_run=("naming/model-prefix", "normcheck/unused-suppression"),
    )
    card = scorecard.build(result)
    assert [t.team for t in card.teams] == ["growth", "", "finance"]
    growth, nobody, finance = card.teams
    assert growth.total.counts == Counts(errors=1, warnings=1, infos=1)
    assert (growth.total.clean, growth.total.resources, growth.total.percent) == (1, 2, "50%")
    assert growth.families["naming"].counts == Counts(errors=1, warnings=1)
    assert growth.families["docs"].light == "green"  # an info
    assert growth.families["docs"].clean == 2
    assert nobody.name == "(no owner)" and nobody.total.light == "red"
    assert finance.total.counts == Counts(suppressed=1, baselined=1)
    assert finance.total.light == "green" and finance.total.percent == "100%"
    assert card.families == ("docs", "naming", "normcheck", "ownership")
    assert card.total.counts == Counts(errors=2, warnings=1, infos=1, suppressed=1, baselined=1)
    assert (card.total.clean, card.total.resources) == (2, 4)
    assert card.lights() == {"red": 2, "yellow": 0, "green": 1}
    assert [r.status for r in card.rows] == ["open"] * 4 + ["suppressed", "baselined"]
    assert card.rows[0].finding.severity == "error"


def test_a_team_with_findings_but_no_resources(tmp_path):
    (tmp_path / "normcheck.yml").write_text("version: 1\nextends: []\n")
    result = Result(
        findings=(finding("normcheck/locked-rule", "normcheck.yml", "error", "platform"),),
        config=load_config(tmp_path),
    )
    (team,) = scorecard.build(result).teams
    assert team.total.share is None and team.total.percent == "n/a"
    assert team.registered  # no owners registry: nobody is unknown


# -- the sample project --------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return sample_copy(tmp_path_factory.mktemp("sample"))


def test_sample_project_report_shows_red_yellow_and_green(sample, monkeypatch, capsys):
    monkeypatch.chdir(sample.parent)
    assert (
        main(["report", "--project-dir", "sample_project", "--parse", "never", "--no-cache"]) == 0
    )
    out, _ = capsys.readouterr()
    table = out.split("\n\n")[1].splitlines()[1:-1]  # the team rows, without `all teams`
    lights = {line.split()[0]: line.split()[1] for line in table}
    # the sample project's deliberate state (sample_project/README.md)
    assert lights["growth"] == "red" and lights["growth-analytics"] == "red"
    assert lights["marketing"] == "yellow" and lights["finance"] == "green"
    assert {"red", "yellow", "green"} <= set(lights.values())
    assert "growth-analytics  red" in out and "not in the owners registry" in out


def test_sample_project_report_in_markdown(sample, monkeypatch, capsys):
    monkeypatch.chdir(sample.parent)
    code = main(
        ["report", "--project-dir", "sample_project", "--parse", "never", "--format", "markdown"]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    assert out.startswith("# normcheck scorecard\n\n🔴 2 red · 🟡 1 yellow · 🟢 1 green — ")
    assert "| finance | 🟢 green | 0 | 0 | 0 | 0 | 0 | 100% (" in out
    assert "| growth-analytics (not in the owners registry) | 🔴 red |" in out


def test_check_json_and_scorecard_agree(sample, monkeypatch, capsys):
    monkeypatch.chdir(sample.parent)
    main(["check", "--project-dir", "sample_project", "--parse", "never", "--format", "json"])
    report = json.loads(capsys.readouterr()[0])
    by_owner: dict[str, int] = {}
    for f in report["findings"]:
        if f["severity"] == "error":
            by_owner[f["owner"]] = by_owner.get(f["owner"], 0) + 1
    main(["report", "--project-dir", "sample_project", "--parse", "never", "--format", "markdown"])
    out = capsys.readouterr()[0]
    for owner, errors in by_owner.items():
        assert f"| {owner}" in out
        row = next(
            line for line in out.splitlines() if line.startswith((f"| {owner} ", f"| {owner} ("))
        )
        assert row.split("|")[3].strip() == str(errors)


def test_a_team_without_resources_in_every_format(tmp_path):
    from normcheck.report import render, render_scorecard

    (tmp_path / "normcheck.yml").write_text("version: 1\nextends: []\n")
    result = Result(
        findings=(finding("normcheck/locked-rule", "normcheck.yml", "error", "platform"),),
        config=load_config(tmp_path),
    )
    assert "no resources of its own" in render(result, "html")
    assert "| platform | 🔴 red | 1 | 0 | 0 | 0 | 0 | n/a |" in render_scorecard(result, "markdown")
    text = render_scorecard(result, "text")
    assert text.startswith("normcheck scorecard: 1 team, 0 resources; 1 red,")
    assert "platform   red         1         0      0           0          0    n/a" in text


def test_scorecard_markdown_says_what_it_left_out(tmp_path, monkeypatch):
    from normcheck.report import scorecard_markdown

    (tmp_path / "normcheck.yml").write_text("version: 1\nextends: []\n")
    many = tuple(
        finding("naming/model-prefix", f"model.s.m{i:04}", "error", "growth") for i in range(400)
    )
    result = Result(findings=many, config=load_config(tmp_path))
    monkeypatch.setattr(scorecard_markdown, "MAX_CHARS", 8_000)
    text = scorecard_markdown.render_card_markdown(result)
    assert "… and " in text and "more: see `normcheck check --format json`." in text
    assert len(text) < 9_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a `b|c` d|e", "a `b\\|c` d\\|e", id="pipes in and out of code"),
        pytest.param("<b> & `<b>`", "&lt;b&gt; &amp; `<b>`", id="HTML outside code only"),
        pytest.param("an `unpaired backtick", "an \\`unpaired backtick", id="an unpaired backtick"),
        pytest.param("two\nlines", "two lines", id="one line"),
    ],
)
def test_markdown_cell_escaping(text, expected):
    from normcheck.report._common import md_cell

    assert md_cell(text) == expected


@pytest.mark.parametrize(
    "name",
    [
        "``<img src=x onerror=alert(1)><b>bold</b>",
        "`<b>x</b>",
        "a``b<i>c</i>",
        "x` <b>y</b> `z",
        "<script>alert(1)</script> | clicked",
        "`",
        "``",
    ],
)
def test_a_name_cannot_leave_its_code_span_in_markdown(name):
    """Rendered by a real CommonMark parser (with GFM tables), a message quoting
    any name stays one cell, with no HTML of its own; a file path is one code
    span holding exactly the path."""
    from markdown_it import MarkdownIt

    from normcheck.report._common import md_cell, md_code

    message = f"event `{name}` is not Title Case `Object Action`: rename it"
    where = f"models/R&D <x> `{name}`.sql:3"
    table = f"| what | where |\n|---|---|\n| {md_cell(message)} | {md_code(where)} |\n"
    rendered = MarkdownIt("commonmark").enable("table").render(table)
    row = rendered.split("<tbody>")[1]
    assert row.count("<td>") == 2, rendered
    tags = set(re.findall(r"</?([a-z]+)", row))
    assert tags <= {"tr", "td", "code", "tbody", "table"}, rendered
    spans = re.findall(r"<code>(.*?)</code>", row.split("</td>")[1])
    assert [html.unescape(s) for s in spans] == [where], rendered


def test_a_report_of_some_rules_shows_only_their_families(sample, monkeypatch, capsys):
    """`report --ignore docs,sql` showed the docs and sql columns green for every
    team, though those rules never ran."""
    monkeypatch.chdir(sample.parent)
    args = ["report", "--project-dir", "sample_project", "--parse", "never", "--no-cache"]
    main(args)
    families = capsys.readouterr()[0].split("by rule family", 1)[1].splitlines()[0].split()
    assert {"docs", "naming", "ownership"} <= set(families)
    main([*args, "--ignore", "docs,metrics,ownership"])  # the central set locks ownership
    fewer = capsys.readouterr()[0].split("by rule family", 1)[1].splitlines()[0].split()
    assert fewer == [f for f in families if f not in ("docs", "metrics")]


def test_the_markdown_scorecard_keeps_to_its_size_with_many_teams(tmp_path):
    """Each team's section header and baselined table were not counted: 60 teams
    gave 119,249 characters where 60,000 was promised."""
    from normcheck.report import scorecard_markdown

    (tmp_path / "normcheck.yml").write_text("version: 1\nextends: []\n")
    teams = [f"team-{t:02}" for t in range(60)]
    open_findings = tuple(
        finding("naming/model-prefix", f"model.s.{t}_{i}", "error", t)
        for t in teams
        for i in range(40)
    )
    baselined = tuple(
        finding(f"acme/rule-{r}", f"model.s.{t}_{r}", "warning", t)
        for t in teams
        for r in range(30)
    )
    result = Result(
        findings=open_findings, baselined_findings=baselined, config=load_config(tmp_path)
    )
    text = scorecard_markdown.render_card_markdown(result)
    assert len(text) <= scorecard_markdown.MAX_CHARS
    assert "… and the findings of " in text and "more teams: see" in text
    assert text.count("<details>") == text.count("</details>") > 0


def test_the_terminal_scorecard_aligns_wide_and_combining_names(tmp_path):
    """Columns were padded by len(): a Japanese team name (two columns a character),
    an emoji or a combining accent pushed or pulled the rest of its row."""
    from normcheck.report.scorecard_text import width

    (tmp_path / "normcheck.yml").write_text("version: 1\nextends: []\n")
    owners = ["データ基盤", "growth", "cafe\u0301", "🚀 rockets"]
    findings = tuple(
        Finding(
            f"m{i}.sql", 1, "naming/model-prefix", f"model.s.m{i}", "x", "error", "model", o, "f"
        )
        for i, o in enumerate(owners)
    )
    resources = {f.resource: f.owner or "" for f in findings}
    result = Result(findings=findings, config=load_config(tmp_path), resources=resources)
    lines = render_scorecard(result, "text").splitlines()
    for table in (lines[3:9], lines[10:16]):  # the team table, the family grid
        starts = {width(line[: line.index("red")]) for line in table[1:]}
        assert len(starts) == 1, "\n".join(table)
    assert (width("データ"), width("e\u0301"), width("🚀"), width("a\u200db")) == (6, 1, 2, 2)
