"""Every report format, byte for byte against golden files, on a real dbt project
(the `teams` project in _report_support.py) and on a result full of characters
that need escaping. SARIF validates against the official 2.1.0 schema and JUnit
against tests/schemas/junit.xsd. Regenerate: NORMCHECK_UPDATE_GOLDEN=1 pytest."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

from _report_support import SCHEMAS, assert_golden, teams_project
from normcheck.cli import main
from normcheck.engine import RuleCrash
from normcheck.finding import Finding
from normcheck.report import FORMATS, SCORECARD_FORMATS, render, render_scorecard
from normcheck.report.github import escape_data, escape_property
from normcheck.report.markdown import MAX_CHARS, render_markdown
from normcheck.report.sarif import artifact_location
from normcheck.run import Result, RunOptions, run

EXTENSIONS = {
    "text": "txt",
    "json": "json",
    "github": "txt",
    "sarif": "sarif",
    "junit": "xml",
    "markdown": "md",
    "html": "html",
}


@pytest.fixture(scope="module")
def teams(tmp_path_factory) -> Path:
    return teams_project(tmp_path_factory.mktemp("teams"))


@pytest.fixture
def teams_result(teams, monkeypatch) -> Result:
    monkeypatch.chdir(teams)  # paths are shown relative to the current directory
    return run(RunOptions(project_dir=Path(), use_cache=False))


def sarif_validator() -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def validate_sarif(text: str) -> dict:
    data = json.loads(text)
    errors = sorted(sarif_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    return data


def validate_junit(text: str) -> etree._Element:
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "junit.xsd")))
    document = etree.fromstring(text.encode("utf-8"))
    assert schema.validate(document), schema.error_log
    for suite in document.iter("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("errors")) == sum(1 for c in cases if c.find("error") is not None)
    for key in ("tests", "failures", "errors"):
        assert int(document.get(key)) == sum(int(s.get(key)) for s in document.iter("testsuite"))
    return document


# -- the teams project: every format --------------------------------------------------


def test_teams_project_has_what_the_goldens_are_about(teams_result):
    summary = teams_result.summary()
    assert summary == {"error": 4, "warning": 1, "info": 1, "suppressed": 1, "baselined": 1}
    owners = {f.owner for f in teams_result.findings}
    assert owners == {"growth", "growth-old", "marketing", "platform"}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_check_format_matches_its_golden_file(teams_result, fmt):
    text = render(teams_result, fmt)
    assert_golden(f"teams.{fmt}.{EXTENSIONS[fmt]}", text)
    assert render(teams_result, fmt) == text, "rendering twice gives other bytes"


@pytest.mark.parametrize("fmt", sorted(SCORECARD_FORMATS))
def test_scorecard_format_matches_its_golden_file(teams_result, fmt):
    text = render_scorecard(teams_result, fmt)
    assert_golden(f"teams.scorecard.{EXTENSIONS[fmt]}", text)


def test_colored_scorecard_only_adds_colour(teams_result):
    plain = render_scorecard(teams_result, "text")
    colored = render_scorecard(teams_result, "text", color=True)
    assert colored != plain
    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == plain


def test_sarif_is_valid_and_points_at_the_exact_lines(teams_result):
    data = validate_sarif(render(teams_result, "sarif"))
    (sarif_run,) = data["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted({r["id"] for r in rules})
    prefix = next(r for r in rules if r["id"] == "naming/model-prefix")
    assert prefix["defaultConfiguration"] == {"level": "error"}
    assert prefix["help"]["markdown"].startswith("# naming/model-prefix\n")
    assert "## Use instead" in prefix["help"]["markdown"]
    assert "folder" in prefix["fullDescription"]["text"]
    # every enabled rule, whether or not it found something
    assert [r["id"] for r in rules] == [
        "docs/missing-description",
        "naming/model-prefix",
        "naming/vocabulary",
        "normcheck/locked-rule",
        "ownership/missing-owner",
        "ownership/unknown-owner",
    ]
    results = sarif_run["results"]
    by_rule = {r["ruleId"]: r for r in results}
    vocabulary = by_rule["naming/vocabulary"]
    location = vocabulary["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "models/marts/_marts.yml",
        "uriBaseId": "%SRCROOT%",
    }
    marts = Path("models/marts/_marts.yml").read_text().splitlines()
    assert marts[location["region"]["startLine"] - 1].strip() == "- name: spend_amt"
    assert vocabulary["level"] == "warning"
    info = by_rule["docs/missing-description"]
    assert info["level"] == "note"
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    fingerprints = [r["partialFingerprints"]["normcheck/v1"] for r in results]
    # only open findings: code scanning would open alerts for suppressed ones
    assert fingerprints == [f.fingerprint for f in teams_result.findings]
    assert all("suppressions" not in r for r in results)


def test_junit_is_valid_with_one_case_per_resource_and_family(teams_result):
    document = validate_junit(render(teams_result, "junit"))
    suites = {s.get("name"): s for s in document.iter("testsuite")}
    assert sorted(suites) == [
        "normcheck.docs",
        "normcheck.naming",
        "normcheck.normcheck",
        "normcheck.ownership",
    ]
    naming = {c.get("name"): c for c in suites["normcheck.naming"].iter("testcase")}
    assert "model.shop.fct_revenue" in naming  # judged and clean: a passing case
    assert naming["model.shop.fct_revenue"].find("failure") is None
    failure = naming["model.shop.orders"].find("failure")
    assert failure.get("type") == "naming/model-prefix"
    # the column's vocabulary finding counts on its model
    assert naming["model.shop.dim_campaigns"].find("failure") is not None
    docs = {c.get("name"): c for c in suites["normcheck.docs"].iter("testcase")}
    legacy = docs["model.shop.fct_legacy"]
    assert legacy.find("failure") is None  # an info does not fail
    assert "info docs/missing-description" in legacy.find("system-out").text
    assert "(suppressed)" in docs["model.shop.fct_sessions"].find("system-out").text
    assert "(baselined)" in docs["model.shop.dim_channels"].find("system-out").text
    locked = suites["normcheck.normcheck"].find("testcase")
    assert locked.get("name") == "normcheck.yml"
    assert document.get("failures") == "5"


def test_github_annotations_have_one_line_per_finding(teams_result):
    lines = render(teams_result, "github").splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == len(teams_result.findings)
    assert commands[0].startswith(
        "::warning file=models/marts/_marts.yml,line=18,title=normcheck naming/vocabulary::"
    )
    assert any(c.startswith("::notice ") for c in commands)
    assert lines[-1] == "normcheck: 4 errors, 1 warning, 1 info (1 suppressed, 1 baselined)"


def test_markdown_summary_points_to_rule_docs_and_fits_a_comment(teams_result):
    text = render(teams_result, "markdown")
    assert text.startswith("### 🔴 normcheck: 4 errors, 1 warning, 1 info")
    # no link into a repository the reader may not have: normcheck explains its rules
    assert "| `naming/model-prefix` |" in text
    assert "](" not in text
    assert text.endswith(
        "<sub>What each rule finds and how to fix it: `normcheck explain RULE`.</sub>\n"
    )
    assert "| growth | 🔴 |" in text
    assert "<summary>Not counted: 1 suppressed, 1 baselined</summary>" in text
    assert len(text) < MAX_CHARS


# -- the CLI: --format and --output ---------------------------------------------------


def test_junit_and_sarif_show_only_the_rules_that_ran(teams, monkeypatch):
    """`--select` / `--ignore`: no passing test cases, no rule descriptors, for
    rules that did not run (a dashboard would show them green)."""
    monkeypatch.chdir(teams)
    result = run(
        RunOptions(
            project_dir=Path(), use_cache=False, select=("naming",), ignore=("naming/vocabulary",)
        )
    )
    ran = set(result.rules_run)
    # normcheck's own rules (locks, suppressions) run whatever is selected
    assert {r.split("/")[0] for r in ran} == {"naming", "normcheck"}
    assert "naming/model-prefix" in ran and "naming/vocabulary" not in ran
    suites = {s.get("name") for s in validate_junit(render(result, "junit")).iter("testsuite")}
    # normcheck/locked-rule: a finding of the configuration, whatever is selected
    assert suites == {"normcheck.naming", "normcheck.normcheck"}
    driver = validate_sarif(render(result, "sarif"))["runs"][0]["tool"]["driver"]
    described = {d["id"] for d in driver["rules"]}
    assert described == ran | {f.rule for f in result.findings}
    assert "docs/missing-description" not in described


def test_check_writes_every_format_in_one_run(teams, monkeypatch, capsys):
    monkeypatch.chdir(teams)
    outputs = [f"--output={fmt}:out/report.{fmt}" for fmt in sorted(FORMATS)]
    (teams / "out").mkdir(exist_ok=True)
    code = main(["check", "--parse", "never", "--format", "sarif", *outputs])
    out, _ = capsys.readouterr()
    assert code == 1
    validate_sarif(out)
    assert Path("out/report.sarif").read_text() == out
    validate_junit(Path("out/report.junit").read_text())
    assert Path("out/report.html").read_text().startswith("<!DOCTYPE html>")


def test_report_command_exits_0_and_writes_outputs(teams, monkeypatch, capsys):
    monkeypatch.chdir(teams)
    code = main(
        ["report", "--parse", "never", "--output", "html:card.html", "--output", "markdown:card.md"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("normcheck scorecard: 5 teams")
    assert Path("card.md").read_text().startswith("# normcheck scorecard\n")
    assert "<title>normcheck scorecard</title>" in Path("card.html").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--output", "sarif:x.sarif"],
            "unknown format `sarif`; use text, markdown, html",
            id="report writes only scorecard formats",
        ),
        pytest.param(["--output", "html"], "expected FORMAT:PATH", id="an output needs a path"),
        pytest.param(
            ["--output", "html:normcheck.yml/card.html"],
            "cannot write report",
            id="an unwritable output is a user error",
        ),
        pytest.param(
            ["--select", "nope"],
            "unknown rule or family `nope`",
            id="an unknown selector is a user error",
        ),
    ],
)
def test_report_command_user_errors(teams, monkeypatch, capsys, args, message):
    monkeypatch.chdir(teams)
    assert main(["report", "--parse", "never", *args]) == 2
    _, err = capsys.readouterr()
    assert message in err
    assert "Traceback" not in err


def test_no_report_is_written_over_what_the_run_read(teams, monkeypatch, capsys):
    """`--output json:normcheck.yml` (or the manifest) would lose the input: refused
    before any report is written, the first output too."""
    monkeypatch.chdir(teams)
    properties = sorted(Path("models").rglob("*.yml"))[0].as_posix()  # read for its lines
    config = Path("normcheck.yml").read_text()  # the module's project: put back after
    (teams / "tracking").mkdir()
    Path("tracking/web.yml").write_text("normcheck: plan/v1\nplan: {id: web, owner: growth}\n")
    Path("normcheck.yml").write_text(config + 'tracking_plans: ["tracking/*.yml"]\n')
    try:
        _refuses_each(
            ("normcheck.yml", "target/manifest.json", properties, "tracking/web.yml"), capsys
        )
    finally:
        Path("normcheck.yml").write_text(config)
        shutil.rmtree(teams / "tracking")


def _refuses_each(targets, capsys):
    for target in targets:
        before = Path(target).read_bytes()
        args = ["--output", "json:first.json", "--output", f"json:{target}"]
        code = main(["check", "--parse", "never", "-q", *args])
        err = capsys.readouterr().err
        assert code == 2
        assert err == (
            f"normcheck: error: {target}: is an input of this run: "
            "refusing to write a report over it\n"
        )
        assert Path(target).read_bytes() == before
        assert not Path("first.json").exists()


def test_two_reports_are_not_written_to_one_file(teams, monkeypatch, capsys):
    """`--output sarif:r.out --output json:./r.out` wrote the SARIF, then the JSON over
    it: the upload step found JSON where it expected SARIF, and nothing said why."""
    monkeypatch.chdir(teams)
    args = ["--output", "sarif:out/r.out", "--output", "json:out/../out/r.out"]
    assert main(["check", "--parse", "never", "-q", *args]) == 2
    assert capsys.readouterr().err == (
        "normcheck: error: out/../out/r.out: named by two --output options (sarif and json): "
        "give each report a file of its own\n"
    )
    assert not Path("out/r.out").exists()


def test_output_folders_are_made_as_needed(teams, monkeypatch, capsys):
    """CI writes reports into a folder of their own, which need not exist yet."""
    monkeypatch.chdir(teams)
    assert main(["report", "--parse", "never", "--output", "html:out/cards/card.html"]) == 0
    assert main(["check", "--parse", "never", "-q", "--output", "sarif:out/n.sarif"]) == 1
    capsys.readouterr()
    assert "<title>normcheck scorecard</title>" in Path("out/cards/card.html").read_text()
    assert json.loads(Path("out/n.sarif").read_text())["version"] == "2.1.0"


# -- escaping: a result full of characters that mean something ------------------------

NASTY = "50% of `a|b`,\nthen: <b>x</b> & y\x07"


@pytest.fixture
def tricky(tmp_path) -> Result:
    (tmp_path / "normcheck.yml").write_text("version: 1\nextends: []\nteam: 'data, platform'\n")
    from normcheck.config.loader import load_config

    config = load_config(tmp_path)
    error = Finding(
        "models/a b,c:d%.sql",
        3,
        "naming/model-prefix",
        "model.shop.a",
        NASTY,
        "error",
        "model",
        "data, platform",
        "f1",
    )
    custom = Finding(
        "/abs/dir/x.yml",
        0,
        "acme/custom-rule",
        "model.shop.b.amount",
        "custom: `x`",
        "warning",
        "column",
        None,
        "f2",
    )
    hidden = Finding(
        "models/b.sql",
        1,
        "naming/name-case",
        "model.shop.b",
        "b, suppressed",
        "error",
        "model",
        None,
        "f3",
    )
    crash = RuleCrash(
        "naming/name-case", "model.shop.a", "Traceback (most recent call last):\nValueError: boom"
    )
    return Result(
        findings=(error, custom),
        config=config,
        crashes=(crash,),
        checked=3,
        rule_count=2,
        suppressed_findings=(hidden,),
        resources={"model.shop.a": "data, platform", "model.shop.b": ""},
    )


def test_the_console_report_shows_control_characters_as_escapes(tricky):
    """A name holding a newline, a carriage return or an escape sequence (an
    event name in a plan) keeps its finding on one line and cannot move the
    cursor or clear the terminal."""
    nasty = "event `Line One\nline two\r\x1b[2J\x1b[31mred` is not Title Case"
    first = replace(tricky.findings[0], message=nasty, file="plans/a\x1bb.yml")
    text = render(replace(tricky, findings=(first,)), "text")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)
    assert "plans/a\\x1bb.yml\n" in text
    assert "`Line One\\nline two\\r\\x1b[2J\\x1b[31mred` is not Title Case\n" in text
    assert len(text.splitlines()) == 4  # the file, the finding, a blank line, the summary


@pytest.mark.parametrize("fmt", ["github", "markdown", "html"])
def test_control_characters_are_shown_as_escapes_in_every_console_format(
    tricky, fmt, monkeypatch, capsys
):
    """An escape sequence in a name (an event in a plan, an owner in meta) reaches
    neither the terminal nor the CI log raw, keeps the HTML page valid (a control
    character is a parse error), and is not silently dropped: click strips ANSI
    sequences from what it prints to a pipe, so stdout differed from --output."""
    nasty = "event `a\x1b[2Jb\x07c\x85d` is not Title Case"
    first = replace(tricky.findings[0], message=nasty, owner="te\x1bam")
    result = replace(tricky, findings=(first,), crashes=())
    text = render(result, fmt)
    assert not re.search(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]", text)
    assert "a\\x1b[2Jb\\x07c\\x85d" in text
    if fmt != "github":  # Markdown escapes the backslash of the escape, as text
        assert ("te\\\\x1bam" if fmt == "markdown" else "te\\x1bam") in text
    monkeypatch.setattr("normcheck.cli.run", lambda options: result)
    main(["check", "--format", fmt, "--no-color"])
    assert capsys.readouterr().out == text


def test_junit_shows_control_characters_as_the_other_reports_do(tricky):
    """XML 1.0 cannot hold most control characters: JUnit replaced them with U+FFFD,
    so `\\x1b[2J` in an event's name read `\ufffd[2J`, where every other report
    shows `\\x1b[2J`. Only what is no character (half a surrogate pair) is replaced."""
    nasty = "event `a\x1b[2Jb\x0bc\ud800d` is not Title Case"
    first = replace(tricky.findings[0], message=nasty)
    document = validate_junit(render(replace(tricky, findings=(first,), crashes=()), "junit"))
    failure = document.find(".//failure")
    assert failure.get("message") == "event `a\\x1b[2Jb\\x0bc\ufffdd` is not Title Case"


@pytest.mark.parametrize("fmt", ["text", "github", "markdown", "html"])
def test_a_bidi_override_in_a_name_cannot_reorder_the_report(tricky, fmt):
    """An event named with a right-to-left override (U+202E, "Trojan Source") and no
    closing pop reversed the rest of the line: the finding's own words read backwards.
    Overrides and isolates are shown as escapes, as control characters are; a name's
    right-to-left letters (and marks) are left as they are."""
    nasty = "event `Order \u202edetelpmoC \u2067x` is not Title Case: rename it (שלום \u200f)"
    first = replace(tricky.findings[0], message=nasty, owner="te\u202eam")
    result = replace(tricky, findings=(first,), crashes=())
    text = render(result, fmt)
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", text)
    assert "\\u202edetelpmoC \\u2067x" in text
    assert "שלום \u200f" in text


@pytest.mark.parametrize("scorecard", [False, True])
def test_markdown_shows_names_as_written_never_as_markdown(tricky, scorecard):
    """An owner or a name is anyone's to write in a pull request: in the summary a
    CI posts there, `![x](url)` must not become an image, `[x](url)` a link, `**x**`
    bold, nor lose the backslash of `a\\|b` (table cells and `<summary>` alike)."""
    from markdown_it import MarkdownIt

    team = "![x](https://evil.example/p.png) **b** a\\|b"
    message = "odd ` tick [click](https://evil.example) _x_ ~~y~~ a\\|b"
    first = replace(tricky.findings[0], message=message, owner=team)
    # the team's section holds its findings after the top ten
    findings = (first,) * 11 if not scorecard else (first,)
    result = replace(tricky, findings=findings, crashes=(), suppressed_findings=())
    text = render_scorecard(result, "markdown") if scorecard else render(result, "markdown")
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)
    assert "<img" not in html and "<a " not in html
    assert "<strong>b</strong>" not in html and "<em>x</em>" not in html and "<s>" not in html
    assert "![x](https://evil.example/p.png) **b** a\\|b" in html  # cells and <summary>
    assert html.count("![x](https://evil.example/p.png) **b** a\\|b") >= 2
    assert "odd ` tick [click](https://evil.example) _x_ ~~y~~ a\\|b" in html


@pytest.mark.parametrize("scorecard", [False, True])
def test_markdown_never_mentions_an_owner(tricky, scorecard):
    """An owner named as a GitHub team (`@acme/growth`) would be notified each time
    a CI posts the summary to a pull request: GitHub makes no mention in code."""
    from markdown_it import MarkdownIt

    message = "model `x` has owner @acme/growth, mail growth@acme.example"
    first = replace(tricky.findings[0], message=message, owner="@acme/growth")
    findings = (first,) * 11 if not scorecard else (first,)
    result = replace(tricky, findings=findings, crashes=(), suppressed_findings=())
    text = render_scorecard(result, "markdown") if scorecard else render(result, "markdown")
    html = MarkdownIt("commonmark").enable(["table"]).render(text)
    assert "<code>@acme/growth</code>" in html
    outside_code = re.sub(r"<code>.*?</code>", "", html)
    assert "@acme/growth" not in outside_code
    if not scorecard:
        assert "growth@acme.example" in outside_code  # an address is no mention


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"text", "json"}))
def test_escaping_matches_its_golden_file(tricky, fmt):
    assert_golden(f"escaping.{fmt}.{EXTENSIONS[fmt]}", render(tricky, fmt))


@pytest.mark.parametrize("fmt", sorted(SCORECARD_FORMATS))
def test_escaping_in_the_scorecard_matches_its_golden_file(tricky, fmt):
    assert_golden(f"escaping.scorecard.{EXTENSIONS[fmt]}", render_scorecard(tricky, fmt))


def test_escaped_formats_stay_valid(tricky):
    data = validate_sarif(render(tricky, "sarif"))
    results = data["runs"][0]["results"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "models/a%20b%2Cc%3Ad%25.sql"
    )
    assert results[0]["message"]["text"] == NASTY
    assert data["runs"][0]["invocations"] == [
        {
            "executionSuccessful": False,
            "toolExecutionNotifications": [
                {
                    "level": "error",
                    "message": {
                        "text": "rule `naming/name-case` raised on `model.shop.a`: ValueError: boom"
                    },
                    "associatedRule": {"id": "naming/name-case"},
                }
            ],
        }
    ]
    document = validate_junit(render(tricky, "junit"))
    assert document.find(".//error") is not None  # the crash
    html = render(tricky, "html")
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_github_command_escaping():
    assert escape_property("a,b:c%d\r\ne") == "a%2Cb%3Ac%25d%0D%0Ae"
    assert escape_data("a,b:c%d\ne") == "a,b:c%25d%0Ae"
    # `%` first: a literal "%0A" in a message stays text, never a line break
    assert escape_data("100%0A") == "100%250A"


def test_github_annotations_never_break_a_line(tricky):
    lines = render(tricky, "github").splitlines()
    assert len(lines) == 4  # two annotations, the crash and the summary
    assert lines[0] == (
        "::error file=models/a b%2Cc%3Ad%25.sql,line=3,title=normcheck naming/model-prefix"
        "::50%25 of `a|b`,%0Athen: <b>x</b> & y\\x07"
    )
    assert lines[1].startswith("::warning file=/abs/dir/x.yml,line=1,")


def test_sarif_rule_texts_are_within_github_limits(tricky):
    """GitHub code scanning requires each rule's shortDescription, fullDescription
    and help, not empty, and limits the descriptions to 1024 characters (UTF-16
    units) and the name to 255: three built-in rules' full descriptions ran over."""
    from normcheck.checks.registry import builtin_rules

    rule_ids = [*sorted(builtin_rules()), "acme/custom-rule"]
    findings = tuple(replace(tricky.findings[1], rule=r, fingerprint=r) for r in rule_ids)
    data = validate_sarif(render(replace(tricky, findings=findings, crashes=()), "sarif"))
    descriptors = data["runs"][0]["tool"]["driver"]["rules"]
    assert {d["id"] for d in descriptors} >= set(rule_ids)

    def length(text: str) -> int:
        return len(text.encode("utf-16-le")) // 2

    for descriptor in descriptors:
        for key in ("shortDescription", "fullDescription", "help"):
            assert descriptor[key]["text"].strip(), (descriptor["id"], key)
        assert length(descriptor["shortDescription"]["text"]) <= 1024, descriptor["id"]
        assert length(descriptor["fullDescription"]["text"]) <= 1024, descriptor["id"]
        assert length(descriptor["name"]) <= 255, descriptor["id"]
    full = {d["id"]: d["fullDescription"]["text"] for d in descriptors}
    assert full["tracking/unknown-event"].endswith("…")  # cut at a word, said so
    assert full["naming/model-prefix"].startswith(builtin_rules()["naming/model-prefix"].summary)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("hello world foo", 12, "hello world…"),
        ("hello world", 10, "hello…"),
        ("a" * 10, 5, "aaaa…"),
        ("🚀" * 5, 5, "🚀🚀…"),  # two UTF-16 units each
    ],
)
def test_sarif_bounded_text(text, limit, expected):
    from normcheck.report.sarif import bounded

    assert bounded(text, limit) == expected


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        pytest.param(
            "models/x.sql", {"uri": "models/x.sql", "uriBaseId": "%SRCROOT%"}, id="relative"
        ),
        pytest.param("/abs/x y.sql", {"uri": "file:///abs/x%20y.sql"}, id="absolute posix"),
        pytest.param("C:\\dbt\\x.sql", {"uri": "file:///C:/dbt/x.sql"}, id="absolute windows"),
        pytest.param(
            "models\\x.sql",
            {"uri": "models/x.sql", "uriBaseId": "%SRCROOT%"},
            id="windows separators",
        ),
    ],
)
def test_sarif_artifact_locations(file, expected):
    assert artifact_location(file) == expected


def test_markdown_summary_stays_short_with_many_findings(tricky):
    many = tuple(
        Finding(
            f"models/m{i:05}.sql",
            1,
            "naming/model-prefix",
            f"model.shop.m{i:05}",
            "model `m` in layer `marts` lacks a prefix: fct_, dim_ " + "x" * 80,
            "error" if i % 3 else "warning",
            "model",
            f"team{i % 4}",
            f"fp{i}",
        )
        for i in range(3000)
    )
    result = Result(findings=many, config=tricky.config, suppressed_findings=many[:500])
    text = render_markdown(result)
    assert len(text) < MAX_CHARS
    assert "**Top findings** (10 of 3000)" in text
    assert "more: see the SARIF or JSON report." in text
    assert text.count("<details>") == text.count("</details>") == 5


@pytest.mark.parametrize("scorecard", [False, True])
def test_markdown_stays_short_with_many_teams(tricky, scorecard):
    """Owners that are people (hundreds of them): the team table, the grid and a
    section per team were not budgeted, so the summary meant for a pull-request
    comment (65,536 characters at most) ran to 167,000 with 600 owners, the
    scorecard to 80,000."""
    from markdown_it import MarkdownIt

    many = tuple(
        Finding(
            f"models/m{i:05}.sql",
            1,
            "naming/model-prefix",
            f"model.shop.m{i:05}",
            "model `m` in layer `marts` lacks a prefix: fct_, dim_",
            "error",
            "model",
            f"firstname.lastname{i % 600}@example.com",
            f"fp{i}",
        )
        for i in range(3000)
    )
    resources = {f.resource: f.owner or "" for f in many}
    result = Result(findings=many, config=tricky.config, resources=resources)
    text = render_scorecard(result, "markdown") if scorecard else render_markdown(result)
    assert len(text) < MAX_CHARS
    assert re.search(r"… and \d+ more teams", text)
    assert text.count("<details>") == text.count("</details>") > 1
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    widths: list[set[int]] = []
    for token in tokens:
        if token.type == "table_open":
            widths.append(set())
        elif token.type == "tr_open":
            cells = 0
        elif token.type in ("th_open", "td_open"):
            cells += 1
        elif token.type == "tr_close":
            widths[-1].add(cells)
    assert widths and all(len(w) == 1 for w in widths)  # every table whole


def test_no_findings(tricky):
    empty = Result(findings=(), config=tricky.config, resources={"model.shop.a": "growth"})
    assert render(empty, "github") == "normcheck: 0 errors, 0 warnings, 0 info\n"
    markdown = render(empty, "markdown")
    assert markdown.startswith("### 🟢 normcheck: 0 errors, 0 warnings, 0 info\n")
    assert "Top findings" not in markdown
    assert "<p>No findings.</p>" in render(empty, "html")
    assert "No findings." in render_scorecard(empty, "markdown")
    validate_sarif(render(empty, "sarif"))
    validate_junit(render(empty, "junit"))


def test_html_rule_docs_have_one_id_per_rule(tricky):
    """`acme/mart.meta` and `acme/mart-meta` both made `rule-acme-mart-meta`: two
    elements with one id (an invalid page), and both rules' links opened the first's
    docs."""
    from lxml import html as lxml_html

    ids = ("acme/mart-meta", "acme/mart.meta", "acme/mart-meta-2")
    findings = tuple(replace(tricky.findings[1], rule=r, fingerprint=r) for r in ids)
    result = replace(tricky, findings=findings, crashes=(), suppressed_findings=())
    page = lxml_html.fromstring(render(result, "html"))
    every_id = [e.get("id") for e in page.iter() if e.get("id")]
    assert len(every_id) == len(set(every_id))
    links = page.xpath("//td[@class='rule']/a")
    assert len(links) == 3
    for link in links:
        target = page.get_element_by_id(link.get("href")[1:])
        assert target.findtext("summary/code") == link.text_content()


def test_two_reports_may_go_where_no_file_is_written(teams, monkeypatch, capsys):
    """`/dev/null` (a CI's `${SARIF_OUT:-/dev/null}`), a terminal or a pipe holds no
    report one could be written over: two `--output` options naming it were refused
    as if they named one file."""
    monkeypatch.chdir(teams)
    args = ["--output", "sarif:/dev/null", "--output", "json:/dev/null"]
    assert main(["check", "--parse", "never", "-q", *args]) == 1  # the findings
    assert capsys.readouterr().err == ""
