"""The report stage: a :class:`~normcheck.run.Result` -> text in one format.

``FORMATS`` are what ``normcheck check --format`` and ``--output`` write;
``SCORECARD_FORMATS`` are those of ``normcheck report``."""

from __future__ import annotations

from collections.abc import Callable

from normcheck.report.github import render_github
from normcheck.report.html import render_html
from normcheck.report.json import render_json
from normcheck.report.junit import render_junit
from normcheck.report.markdown import render_markdown
from normcheck.report.sarif import render_sarif
from normcheck.report.scorecard_markdown import render_card_markdown
from normcheck.report.scorecard_text import render_card_text
from normcheck.report.text import render_text
from normcheck.run import Result

Renderer = Callable[[Result, bool], str]

FORMATS: dict[str, Renderer] = {
    "text": render_text,
    "json": lambda result, color: render_json(result),
    "github": lambda result, color: render_github(result),
    "sarif": lambda result, color: render_sarif(result),
    "junit": lambda result, color: render_junit(result),
    "markdown": lambda result, color: render_markdown(result),
    "html": lambda result, color: render_html(result),
}

SCORECARD_FORMATS: dict[str, Renderer] = {
    "text": render_card_text,
    "markdown": lambda result, color: render_card_markdown(result),
    "html": lambda result, color: render_html(result),
}


def render(result: Result, fmt: str, color: bool = False) -> str:
    return FORMATS[fmt](result, color)


def render_scorecard(result: Result, fmt: str, color: bool = False) -> str:
    return SCORECARD_FORMATS[fmt](result, color)
