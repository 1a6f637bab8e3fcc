"""The report stage: a :class:`~normcheck.run.Result` -> text in one format.

``FORMATS`` are what ``normcheck check --format`` and ``--output`` write;
``SCORECARD_FORMATS`` are those of ``normcheck report``. Each format's module
is imported when a report in it is written: a run writes one or two of seven,
and importing them all (XML, HTML, scorecards) cost every run about 15 ms."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from normcheck.run import Result

Renderer = Callable[["Result", bool], str]


def _renderer(module: str, function: str, color: bool = False) -> Renderer:
    """``normcheck.report.<module>.<function>``, imported on the first call;
    ``color``: it takes the color flag after the result."""

    def render(result: Result, with_color: bool) -> str:
        found = getattr(importlib.import_module(f"normcheck.report.{module}"), function)
        return str(found(result, with_color) if color else found(result))

    return render


FORMATS: dict[str, Renderer] = {
    "text": _renderer("text", "render_text", color=True),
    "json": _renderer("json", "render_json"),
    "github": _renderer("github", "render_github"),
    "sarif": _renderer("sarif", "render_sarif"),
    "junit": _renderer("junit", "render_junit"),
    "markdown": _renderer("markdown", "render_markdown"),
    "html": _renderer("html", "render_html"),
}

SCORECARD_FORMATS: dict[str, Renderer] = {
    "text": _renderer("scorecard_text", "render_card_text", color=True),
    "markdown": _renderer("scorecard_markdown", "render_card_markdown"),
    "html": FORMATS["html"],
}


def render(result: Result, fmt: str, color: bool = False) -> str:
    return FORMATS[fmt](result, color)


def render_scorecard(result: Result, fmt: str, color: bool = False) -> str:
    return SCORECARD_FORMATS[fmt](result, color)
