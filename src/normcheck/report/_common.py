"""Small pieces the report formats share: rule-doc pointers, escaping, plurals."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from normcheck.checks._api import Rule
from normcheck.checks.registry import builtin_rules
from normcheck.run import PLUGIN_CRASH, Result

# where a report sends its reader for a rule's docs: normcheck itself, which every
# reader of a report can run (a link into normcheck's repository would break in theirs)
DOCS_HINT = "What each rule finds and how to fix it: `normcheck explain RULE`."
LIGHT_EMOJI = {"red": "🔴", "yellow": "🟡", "green": "🟢"}
SEVERITY_EMOJI = {"error": "🔴", "warning": "🟡", "info": "🔵"}

_CODE = re.compile(r"`([^`]+)`")
# what could start Markdown inline syntax (emphasis, a link or image, strikethrough,
# a code span, an escape) or end a table cell
_MD_SPECIAL = re.compile(r"[\\`*_\[\]!~|]")
# control characters: an escape sequence in a name must neither act on the terminal
# a report is printed to, nor make an HTML page invalid, nor be dropped by click; and
# bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), which would
# reorder the report's own words. `visible` leaves tab, newline and carriage return
# (which each format handles its own way); `printable` (one line) escapes them too.
_BIDI = r"\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _BIDI + "]")
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f" + _BIDI + "]")


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


def _escape(found: re.Match[str]) -> str:
    return repr(found.group())[1:-1]


def visible(text: str) -> str:
    """``text`` with its control characters but tab, LF and CR written as escapes
    (``\\x1b``), as the text report shows them."""
    return _CONTROL.sub(_escape, text)


def printable(text: str) -> str:
    """``text`` with its control characters written as escapes (`\\n`, `\\x1b`, `\\u202e`)."""
    return _CONTROL_ALL.sub(_escape, text)


def one_line(text: str) -> str:
    return " ".join(text.split())


def md_cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped, `names` as code
    spans that hold whatever the name holds, and outside them no raw HTML and no
    Markdown: a name's ``*``, ``_``, ``[…](…)`` or ``\\`` is text, not emphasis, a
    link or an image (an owner is anyone's to write in a pull request)."""
    text = visible(text)
    parts = one_line(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: treat it all as text
        parts = [one_line(text)]
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            # an empty pair: two backticks in the name itself
            out.append(md_code(part or "``"))
        elif part or 0 < index < len(parts) - 1:
            # between two code spans, at least a space: `a``b` would be one span
            out.append(_md_plain(part) or " ")
    return "".join(out)


# what GitHub turns into a mention of a person or team (`@octocat`, `@acme/growth`),
# which notifies them each time a report is posted; not inside a code span
_MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9._-]+)?")


def _mentions_apart(text: str, plain: Callable[[str], str], code: Callable[[str], str]) -> str:
    """``text`` through ``plain``, but each mention through ``code``."""
    out, start = [], 0
    for found in _MENTION.finditer(text):
        out += [plain(text[start : found.start()]), code(found.group())]
        start = found.end()
    return "".join([*out, plain(text[start:])])


def _md_plain(text: str) -> str:
    """Text outside code spans: Markdown escaped, a mention as a code span (an
    owner named `@acme/growth` must not notify the team on every pull request)."""
    return _mentions_apart(text, md_text, md_code)


def md_text(text: str) -> str:
    """``text`` as Markdown inline text: HTML escaped, and every character that
    could start Markdown (or end a table cell) backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\g<0>", html.escape(text, quote=False))


def html_inline(text: str) -> str:
    """Text for one line of raw HTML in Markdown (``<summary>``, where Markdown is
    not read): HTML escaped, control characters shown as escapes."""

    def escaped(part: str) -> str:
        return html.escape(part, quote=False)

    # as in table cells: no mention
    return _mentions_apart(
        one_line(visible(text)), escaped, lambda mention: f"<code>{escaped(mention)}</code>"
    )


def md_code(text: str) -> str:
    """A Markdown code span of ``text`` as it is, in a table cell: fenced by one
    backtick more than its longest run of them (CommonMark closes a span only
    with a run as long as the one that opened it), pipes escaped."""
    text = one_line(visible(text))
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    escaped = text.replace("|", "\\|")
    return f"{fence}{pad}{escaped}{pad}{fence}"


def html_escape(text: str) -> str:
    """Escaped HTML (quotes too), control characters shown as escapes: raw, they
    make the page invalid (a parse error)."""
    return html.escape(visible(text), quote=True)


def html_text(text: str) -> str:
    """Escaped HTML, with `backticked` names as <code>."""
    escaped = html_escape(text)
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escaped)


def stale_note(n: int) -> str:
    """What to say of ``n`` baseline entries no finding matched any more."""
    entries = "entry no longer matches" if n == 1 else "entries no longer match"
    return (
        f"{n} baseline {entries} (fixed, renamed or removed): run "
        f"`normcheck baseline --prune` to drop {'it' if n == 1 else 'them'}"
    )


@dataclass(frozen=True)
class Crashed:
    """The crashes of one rule (or a plugin that failed to import), as reports name
    them: the first resource it raised on, its error's last line, how many times."""

    rule: str | None  # None: a plugin that failed to import
    plugin: str | None  # the plugin the rule comes from (None: one of normcheck's own)
    resource: str | None
    error: str
    count: int

    @property
    def text(self) -> str:
        """``rule `x/y` raised on `model.a` and 2 more: ValueError: no (plugin `gov/r.py`)``."""
        if self.rule is None:
            return f"plugin `{self.plugin}` failed to import; its rules did not run: {self.error}"
        more = f" and {self.count - 1} more" if self.count > 1 else ""
        source = f" (plugin `{self.plugin}`)" if self.plugin else ""
        return f"rule `{self.rule}` raised on `{self.resource}`{more}: {self.error}{source}"


def last_line(text: str) -> str:
    """A traceback's last line (the exception), as one line."""
    return text.strip().splitlines()[-1].strip() if text.strip() else "it raised"


def crashed(result: Result) -> list[Crashed]:
    """Each crashed rule once (plugins that failed to import first), sorted."""
    plugins: list[Crashed] = []
    by_rule: dict[str, list[tuple[str, str]]] = {}
    for crash in result.crashes:
        if crash.rule == PLUGIN_CRASH:
            plugins.append(Crashed(None, crash.resource, None, last_line(crash.traceback), 1))
        else:
            by_rule.setdefault(crash.rule, []).append((crash.resource, crash.traceback))
    out = sorted(set(plugins), key=lambda c: (c.plugin or "", c.error))
    for rule_id, found in sorted(by_rule.items()):
        resource, text = min(found)
        plugin = plugin_of(result, rule_id)
        out.append(Crashed(rule_id, plugin, resource, last_line(text), len(found)))
    return out


def plugin_of(result: Result, rule_id: str) -> str | None:
    """The plugin a rule comes from; None for normcheck's own (or one derived from
    them with `uses:`, whose code is normcheck's)."""
    source = result.config.rule_sources.get(rule_id)
    return source if source and not source.startswith("uses ") else None
