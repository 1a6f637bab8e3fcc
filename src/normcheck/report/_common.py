"""Small pieces the report formats share: rule-doc pointers, escaping, plurals."""

from __future__ import annotations

import html
import re

from normcheck.checks._api import Rule
from normcheck.checks.registry import builtin_rules
from normcheck.run import Result

# where a report sends its reader for a rule's docs: normcheck itself, which every
# reader of a report can run (a link into normcheck's repository would break in theirs)
DOCS_HINT = "What each rule finds and how to fix it: `normcheck explain RULE`."
LIGHT_EMOJI = {"red": "🔴", "yellow": "🟡", "green": "🟢"}
SEVERITY_EMOJI = {"error": "🔴", "warning": "🟡", "info": "🔵"}

_CODE = re.compile(r"`([^`]+)`")


def rule_anchor(rule_id: str) -> str:
    """The id of a rule's docs in the self-contained HTML page."""
    return "rule-" + re.sub(r"[^a-z0-9_-]+", "-", rule_id.lower())


def rule_for(result: Result, rule_id: str) -> Rule | None:
    configured = result.config.rules.get(rule_id)
    return configured.rule if configured is not None else builtin_rules().get(rule_id)


def plural(n: int, word: str) -> str:
    if word == "info":
        return f"{n} info"
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(result: Result) -> str:
    """``4 errors, 3 warnings, 1 info (2 suppressed, 1 baselined)``."""
    summary = result.summary()
    text = ", ".join(plural(summary[k], k) for k in ("error", "warning", "info"))
    extra = [f"{summary[k]} {k}" for k in ("suppressed", "baselined") if summary[k]]
    return text + (f" ({', '.join(extra)})" if extra else "")


def one_line(text: str) -> str:
    return " ".join(text.split())


def md_cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped, `names` as code
    spans that hold whatever the name holds, and outside them no raw HTML."""
    parts = one_line(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: treat it as text
        parts = [one_line(text).replace("`", "'")]
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            # an empty pair: two backticks in the name itself
            out.append(md_code(part or "``"))
        elif part or 0 < index < len(parts) - 1:
            # between two code spans, at least a space: `a``b` would be one span
            out.append(html.escape(part, quote=False).replace("|", "\\|") or " ")
    return "".join(out)


def md_code(text: str) -> str:
    """A Markdown code span of ``text`` as it is, in a table cell: fenced by one
    backtick more than its longest run of them (CommonMark closes a span only
    with a run as long as the one that opened it), pipes escaped."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    escaped = text.replace("|", "\\|")
    return f"{fence}{pad}{escaped}{pad}{fence}"


def html_text(text: str) -> str:
    """Escaped HTML, with `backticked` names as <code>."""
    escaped = html.escape(text, quote=True)
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escaped)


def stale_note(n: int) -> str:
    """What to say of ``n`` baseline entries no finding matched any more."""
    entries = "entry no longer matches" if n == 1 else "entries no longer match"
    return (
        f"{n} baseline {entries} (fixed, renamed or removed): run "
        f"`normcheck baseline --prune` to drop {'it' if n == 1 else 'them'}"
    )
