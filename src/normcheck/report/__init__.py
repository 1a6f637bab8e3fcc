"""The report stage: a :class:`~normcheck.run.Result` -> text in one format."""

from __future__ import annotations

from collections.abc import Callable

from normcheck.report.json import render_json
from normcheck.report.text import render_text
from normcheck.run import Result

Renderer = Callable[[Result, bool], str]

FORMATS: dict[str, Renderer] = {
    "text": render_text,
    "json": lambda result, color: render_json(result),
}


def render(result: Result, fmt: str, color: bool = False) -> str:
    return FORMATS[fmt](result, color)
