"""Baselines: accept the debt a project has today, report only what is new,
and show the debt going down.

The file is sorted JSON, one entry per line: rule, resource and fingerprint
(never line numbers or message wording, so edits elsewhere do not break it).
Writes are atomic: an interrupted write never leaves a corrupt baseline."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from normcheck._files import new_file_mode, replace_whole
from normcheck.errors import ArtifactError, long_number_line
from normcheck.finding import Finding

DEFAULT_BASELINE = ".normcheck-baseline.json"


class BrokenBaseline(ArtifactError):
    """A baseline that is no JSON (a merge's conflict markers): written anew by
    `normcheck baseline`, unlike one it cannot read for another reason."""


@dataclass(frozen=True, order=True)
class Entry:
    rule: str
    resource: str
    fingerprint: str
    line: int = 0  # where it stands in the file (for findings about the entry itself)
    reason: str = ""  # why the debt was accepted, when someone wrote it down


KEYS = ("rule", "resource", "fingerprint")


def baselinable(finding: Finding) -> bool:
    """normcheck's own findings (locks, suppressions) are never baselined."""
    return not finding.rule.startswith("normcheck/")


def render(entries: Iterable[Entry]) -> str:
    unique: dict[tuple[str, str, str], str] = {}
    for e in entries:
        key = (e.rule, e.resource, e.fingerprint)
        unique[key] = unique.get(key) or e.reason
    rows = []
    for (rule, resource, fp), reason in sorted(unique.items()):
        item = {"rule": rule, "resource": resource, "fingerprint": fp}
        if reason:
            item["reason"] = reason
        rows.append("    " + json.dumps(item, sort_keys=True, ensure_ascii=False))
    body = ",\n".join(rows)
    return '{\n  "version": 1,\n  "entries": [\n' + body + ("\n" if rows else "") + "  ]\n}\n"


def entries_for(findings: Iterable[Finding], locked_rules: AbstractSet[str]) -> list[Entry]:
    """The entries of a baseline of these findings: never a locked rule's (its
    entry would have no effect but a `normcheck/locked-rule` error)."""
    return sorted(
        {
            Entry(f.rule, f.resource, f.fingerprint)
            for f in findings
            if baselinable(f) and f.rule not in locked_rules
        }
    )


def write_atomic(path: Path, text: str, shown: str | None = None) -> Path:
    """Write a baseline at ``path`` (through a symbolic link, to the file it
    names), atomically, keeping an existing file's permissions; returns where it
    wrote. Refuses to replace what is not a baseline (a `dbt_project.yml` given
    by mistake, a folder, a device) and says so instead of failing later."""
    target = path.resolve()
    shown = shown or str(path)
    if target.exists():
        if not target.is_file():
            raise ArtifactError("is not a file: refusing to write the baseline there", shown)
        try:
            if target.stat().st_size and not _was_baseline(target):
                load(target, shown)  # says what it is not
        except ArtifactError:
            raise ArtifactError(
                "exists and is not a normcheck baseline: refusing to replace it "
                "(give another path, or remove the file)",
                shown,
            ) from None
        existing: os.stat_result | None = target.stat()
    else:
        existing = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # whole or not at all: a full disk leaves the baseline (and its reasons) as it was
        replace_whole(target, text, new_file_mode(existing))
    except OSError as exc:
        raise ArtifactError(f"cannot write the baseline: {exc.strerror or exc}", shown) from None
    return target


def _was_baseline(path: Path) -> bool:
    """A baseline, perhaps broken by a merge (`<<<<<<<` lines): rewriting it is
    how that is mended. Only its first bytes are read."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    return b'"version"' in head and b'"entries"' in head


def load(path: Path, shown: str) -> list[Entry]:
    try:
        # utf-8-sig: an editor's byte order mark is no reason to refuse it (or, in
        # `normcheck baseline`, to take it for a broken file and lose every reason)
        content = path.read_bytes().removeprefix(b"\xef\xbb\xbf")  # the mark dropped here:
        text = content.decode("utf-8")  # an error's offset is then one in `content`
    except FileNotFoundError:
        raise ArtifactError(
            "baseline not found: create it with `normcheck baseline`", shown
        ) from None
    except OSError as exc:
        raise ArtifactError(f"cannot read baseline: {exc}", shown) from None
    except UnicodeDecodeError as exc:  # re-saved by an editor as Windows-1252, UTF-16
        raise ArtifactError(
            "baseline is not valid UTF-8 (saved as Windows-1252, Latin-1, UTF-16?): "
            "save it as UTF-8",
            shown,
            content[: exc.start].count(b"\n") + 1,
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BrokenBaseline(f"invalid baseline JSON: {exc.msg}", shown, exc.lineno) from None
    except RecursionError:
        raise BrokenBaseline("invalid baseline JSON: nested too deeply", shown, 1) from None
    except ValueError:  # a number past Python's 4,300 digits: no baseline writes one
        raise ArtifactError(
            "not a normcheck baseline: a number of too many digits", shown, long_number_line(text)
        ) from None
    version = data.get("version") if isinstance(data, dict) else None
    if type(version) is int and version > 1:
        raise ArtifactError(
            f"baseline version {version} is newer than this normcheck reads (version 1): "
            "upgrade normcheck",
            shown,
            1,
        )
    if not isinstance(data, dict) or type(version) is not int or version != 1:
        raise ArtifactError("not a normcheck baseline (expected version 1)", shown, 1)
    raw = data.get("entries")
    if not isinstance(raw, list):
        raise ArtifactError("baseline has no `entries` list", shown, 1)
    lines = text.splitlines()
    where = _Lines(lines)
    out = []
    for index, item in enumerate(raw):
        line = where.of(item, index)
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in KEYS):
            raise ArtifactError(
                "baseline entry needs rule, resource and fingerprint (text)", shown, line
            )
        unknown = sorted(set(item) - {*KEYS, "reason"})
        if unknown:
            raise ArtifactError(
                f"baseline entry has unknown key `{unknown[0]}`: an entry has rule, resource, "
                "fingerprint and, optionally, reason",
                shown,
                line,
            )
        reason = item.get("reason", "")
        if not isinstance(reason, str):
            raise ArtifactError("baseline entry's `reason` must be text", shown, line)
        out.append(Entry(item["rule"], item["resource"], item["fingerprint"], line, reason))
    return out


_TRAILING_COMMA = re.compile(r",\s*}$")


def salvage(path: Path) -> list[Entry]:
    """The entries still readable in a baseline that is no JSON as a whole (a merge's
    conflict markers, a comma too many after a hand-written reason): each line that
    holds one entry, as normcheck writes them. `normcheck baseline` writes such a
    file anew and keeps what these say (reasons, entries of rules that did not run)."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return []
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        body = line.strip().rstrip(",").rstrip()
        if not body.startswith("{") or '"fingerprint"' not in body:
            continue
        try:
            item = json.loads(_TRAILING_COMMA.sub("}", body))
        except (ValueError, RecursionError):
            continue
        if isinstance(item, dict) and all(isinstance(item.get(k), str) for k in KEYS):
            reason = item.get("reason")
            out.append(
                Entry(
                    item["rule"],
                    item["resource"],
                    item["fingerprint"],
                    number,
                    reason if isinstance(reason, str) else "",
                )
            )
    return out


class _Lines:
    """Where each entry stands: the line with its fingerprint, else the ``index``-th
    line after `"entries"` (one entry a line, as written). Indexed once: a baseline
    of 20,000 entries searched line by line for each took 20 s."""

    def __init__(self, lines: list[str]) -> None:
        self.by_fingerprint: dict[str, int] = {}
        for number, text in enumerate(lines, 1):
            for found in _FINGERPRINT.finditer(text):
                self.by_fingerprint.setdefault(found.group(1), number)
        self.start = next((n for n, text in enumerate(lines, 1) if '"entries"' in text), 0)
        self.count = len(lines)

    def of(self, item: object, index: int) -> int:
        if isinstance(item, dict) and isinstance(item.get("fingerprint"), str):
            found = self.by_fingerprint.get(item["fingerprint"])
            if found is not None:
                return found
        return min(self.start + 1 + index, self.count) if self.start else 1


_FINGERPRINT = re.compile(r'"fingerprint"\s*:\s*"([^"\\]*)"')


@dataclass(frozen=True)
class Baselined:
    kept: tuple[Finding, ...]
    hidden: tuple[Finding, ...]
    stale: tuple[Entry, ...]
    # a locked rule's entries with the finding each would hide (it does not)
    locked: tuple[tuple[Entry, Finding], ...]


def apply(
    findings: Sequence[Finding], entries: Sequence[Entry], locked_rules: AbstractSet[str]
) -> Baselined:
    """Hide findings whose fingerprint is in the baseline (never a locked rule's).
    A locked rule's entry is reported while its finding is there, and is stale,
    as any other, once that is fixed."""
    usable = {e.fingerprint: e for e in entries if e.rule not in locked_rules}
    held = {e.fingerprint: e for e in entries if e.rule in locked_rules}
    used: set[str] = set()
    kept = []
    hidden = []
    locked = []
    for finding in findings:
        entry = usable.get(finding.fingerprint)
        # the entry's rule too: a fingerprint under another rule's name must not
        # hide a locked rule's finding (nor any other)
        if baselinable(finding) and entry is not None and entry.rule == finding.rule:
            used.add(finding.fingerprint)
            hidden.append(finding)
            continue
        kept.append(finding)
        entry = held.get(finding.fingerprint)
        if entry is not None and entry.rule == finding.rule:
            used.add(finding.fingerprint)
            locked.append((entry, finding))
    entries_left = (*usable.values(), *held.values())
    stale = tuple(sorted(e for e in entries_left if e.fingerprint not in used))
    return Baselined(tuple(kept), tuple(hidden), stale, tuple(sorted(locked, key=lambda p: p[0])))
