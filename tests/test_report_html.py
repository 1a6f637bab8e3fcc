"""The HTML scorecard in a real headless Chromium (Debian's `chromium`): open
the sample project's page, read back the DOM the browser built (after the
page's own script ran) and a screenshot, and check what rendered: the team
rows, their lights, and the lights' colours in the pixels.

scripts/test.sh installs chromium with apt-get when it is missing; these
tests skip only when no Chromium can be found. NORMCHECK_UPDATE_GOLDEN=1 also
refreshes docs/scorecard.png from the screenshot."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from lxml import html as lxml_html

from _report_support import (
    CHROMIUM_FLAGS,
    UPDATE,
    chromium,
    crop_to_content,
    read_png,
    sample_copy,
    write_png,
)
from conftest import REPO
from normcheck.cli import main
from normcheck.report import scorecard
from normcheck.report.html import CSP, LIGHT_COLORS
from normcheck.run import RunOptions, run

BROWSER = chromium()
pytestmark = pytest.mark.skipif(
    BROWSER is None,
    reason="no Chromium found (scripts/test.sh installs Debian's `chromium` with apt-get "
    "when it can; install it to run the HTML rendering tests)",
)
WINDOW = (1280, 2600)  # taller than the page: docs/scorecard.png is cropped to it


def browse(tmp: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    done = subprocess.run(
        [BROWSER, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """The sample project's scorecard, written from the copy's parent so that
    paths read `sample_project/...` as in a checkout."""
    tmp = tmp_path_factory.mktemp("html")
    sample_copy(tmp)
    target = tmp / "scorecard.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp)
        args = ["--project-dir", "sample_project", "--parse", "never", "--no-cache"]
        assert main(["report", *args, "--output", f"html:{target.name}"]) == 0
        main(["check", *args, "--format", "json", "--output", "json:findings.json"])
        card = scorecard.build(run(RunOptions(project_dir=Path("sample_project"), parse="never")))
    expected = [[t.team, t.total.light] for t in card.teams]
    (tmp / "teams.json").write_text(json.dumps(expected))
    return target


def teams_of(page: Path) -> tuple[list[str], list[str]]:
    """The teams and their lights, in the scorecard's order (red, yellow, green)."""
    expected = json.loads((page.parent / "teams.json").read_text())
    return [team for team, _ in expected], [light for _, light in expected]


def findings_of(page: Path) -> list[dict]:
    return json.loads((page.parent / "findings.json").read_text())["findings"]


@pytest.fixture(scope="module")
def screenshot(page) -> Path:
    png = page.parent / "scorecard.png"
    browse(
        page.parent,
        page.as_uri(),
        f"--screenshot={png}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    )
    assert png.is_file()
    if UPDATE:
        width, _, rows = read_png(png)
        write_png(REPO / "docs" / "scorecard.png", width, crop_to_content(rows))
    return png


def test_the_browser_renders_every_team_with_its_light(page):
    dom = browse(page.parent, page.as_uri() + "#sort=team", "--dump-dom").stdout
    tree = lxml_html.fromstring(dom)
    teams, lights = teams_of(page)
    # the sample project's deliberate state (sample_project/README.md)
    light_of = dict(zip(teams, lights, strict=True))
    assert light_of["growth"] == "red" and light_of["growth-analytics"] == "red"
    assert light_of["marketing"] == "yellow" and light_of["finance"] == "green"
    cards = tree.xpath("//article[contains(@class, 'team')]")
    assert [c.get("data-team") for c in cards] == teams
    assert [c.get("data-light") for c in cards] == lights
    by_team = {c.get("data-team"): c.text_content() for c in cards}
    assert "not in the owners registry" in by_team["growth-analytics"]
    assert "not in the owners registry" not in by_team["growth"]
    assert "100% clean" in by_team["finance"]
    rows = tree.xpath("//table[contains(@class, 'grid')]/tbody/tr[@data-team]")
    assert [(r.get("data-team"), r.get("data-light")) for r in rows] == list(
        zip(teams, lights, strict=True)
    )
    families = [
        th.text_content() for th in tree.xpath("//table[contains(@class, 'grid')]//thead/tr/th")
    ]
    assert families[:3] == ["team", "overall", "docs"]
    bars = tree.xpath("//svg[contains(@class, 'chart')]/g[@data-team]")
    assert [b.get("data-team") for b in bars] == teams
    assert tree.xpath("//svg[contains(@class, 'chart')]//rect[@data-family='naming']")
    # the page's script ran under its Content-Security-Policy and sorted by team
    table = tree.get_element_by_id("findings")
    assert table.get("data-sorted") == "team"
    teams = [r.get("data-team") for r in table.xpath("./tbody/tr")]
    assert teams == sorted(teams) and len(teams) == len(findings_of(page))
    links = table.xpath(".//td[contains(@class, 'rule')]/a/@href")
    assert "#rule-naming-model-prefix" in links
    # every link leads to its rule's docs in the page itself, closed until followed
    docs = {d.get("id"): d for d in tree.xpath("//section[@id='rules']/details")}
    assert {link[1:] for link in links} == set(docs)
    assert "naming/model-prefix" in docs["rule-naming-model-prefix"].text_content()
    assert "## What it finds" in docs["rule-naming-model-prefix"].text_content()
    assert not any(d.get("open") is not None for d in docs.values())


def test_a_rule_link_opens_its_docs(page):
    dom = browse(page.parent, page.as_uri() + "#rule-naming-model-prefix", "--dump-dom").stdout
    tree = lxml_html.fromstring(dom)
    opened = tree.xpath("//section[@id='rules']/details[@open]")
    assert [d.get("id") for d in opened] == ["rule-naming-model-prefix"]


def test_an_unknown_sort_key_leaves_the_table_as_it_came(page):
    dom = browse(page.parent, page.as_uri() + "#sort=-nope", "--dump-dom").stdout
    table = lxml_html.fromstring(dom).get_element_by_id("findings")
    assert table.get("data-sorted") is None
    rows = table.xpath("./tbody/tr")
    assert [r.get("data-index") for r in rows] == [str(i) for i in range(len(rows))]
    assert rows[0].xpath("./td")[0].text_content() == "error"


def test_sorted_by_where_descending(page):
    dom = browse(page.parent, page.as_uri() + "#sort=-where", "--dump-dom").stdout
    table = lxml_html.fromstring(dom).get_element_by_id("findings")
    assert table.get("data-sorted") == "-where"
    heads = {th.get("data-key"): th.get("aria-sort") for th in table.xpath(".//th")}
    assert heads["where"] == "descending" and heads["team"] == "none"
    places = [td.text_content() for td in table.xpath("./tbody/tr/td[contains(@class, 'where')]")]
    expected = sorted(findings_of(page), key=lambda f: (f["file"], f["line"]), reverse=True)
    assert places == [f"{f['file']}:{f['line']}" for f in expected]
    assert places[0].startswith("sample_project/normcheck.yml:")


def _pixels(png: Path, hex_color: str, tolerance: int = 4) -> list[tuple[int, int]]:
    width, _, rows = read_png(png)
    target = bytes.fromhex(hex_color.lstrip("#"))
    found = []
    for y, row in enumerate(rows):
        for x in range(width):
            r, g, b = row[3 * x : 3 * x + 3]
            if max(abs(r - target[0]), abs(g - target[1]), abs(b - target[2])) <= tolerance:
                found.append((x, y))
    return found


def test_the_screenshot_shows_the_lights_in_their_colours(screenshot):
    width, height, _ = read_png(screenshot)
    assert (width, height) == WINDOW
    red, yellow, green = (_pixels(screenshot, LIGHT_COLORS[k]) for k in ("red", "yellow", "green"))
    # a lamp is a 42px disc (~1,380 pixels); each team card also has a coloured edge
    assert len(yellow) > 1500 and len(green) > 1500 and len(red) > 3000
    # in the band of the team cards, the colours stand in the teams' order, left to right
    top = min(y for _, y in green)
    bottom = max(y for _, y in green)
    band = [[x for x, y in pixels if top <= y <= bottom] for pixels in (red, yellow, green)]
    assert all(band)
    assert min(band[0]) < min(band[1]) < min(band[2])
    assert top < height // 4, "the traffic lights are at the top of the page"


def test_the_page_needs_no_network(page):
    text = page.read_text(encoding="utf-8")
    tree = lxml_html.fromstring(text)
    assert not tree.xpath("//link | //img | //script[@src] | //iframe | //object")
    assert not tree.xpath("//*[@style]"), "inline style attributes would need 'unsafe-inline'"
    policy = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert policy == [CSP] and CSP.startswith("default-src 'none';")
    for href in tree.xpath("//a/@href"):
        assert not href.startswith(("http:", "https:", "//")), href
