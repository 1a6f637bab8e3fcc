"""The public API for rule packs: the same decorator and types normcheck's own
rules use. See docs/writing-rules.md.

    from normcheck.api import Context, Hit, Options, Resource, rule
"""

from __future__ import annotations

from normcheck.checks._api import PROJECT, Context, Hit, NoOptions, Options, Rule, rule
from normcheck.checks._common import code_line, layer_of, words
from normcheck.project import Project, Resource

__all__ = [
    "PROJECT",
    "Context",
    "Hit",
    "NoOptions",
    "Options",
    "Project",
    "Resource",
    "Rule",
    "code_line",
    "layer_of",
    "rule",
    "words",
]
