"""Event and property names: splitting, slugs, and the normal form under which
near-duplicates collide.

The normal form is precise, not a fuzzy distance: two names collide when they
have the same bag of word stems after case, separators and camelCase are
undone, plural and verb tense are folded (``Completed`` / ``Complete`` /
``Completes``), abbreviations are expanded from the vocabulary and words of
one configured synonym group are made one. Antonyms stay apart."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
STOP_WORDS = frozenset({"a", "an", "the", "to", "of", "for", "on", "in", "at", "with", "by"})
IRREGULAR = {
    "sent": "send",
    "bought": "buy",
    "paid": "pay",
    "made": "make",
    "began": "begin",
    "begun": "begin",
    "got": "get",
    "gotten": "get",
    "left": "leave",
    "gave": "give",
    "given": "give",
    "took": "take",
    "taken": "take",
    "saw": "see",
    "seen": "see",
    "wrote": "write",
    "written": "write",
    "chose": "choose",
    "chosen": "choose",
    "sold": "sell",
    "built": "build",
    "spent": "spend",
    "won": "win",
    "lost": "lose",
    "found": "find",
    "held": "hold",
    "read": "read",
    "shown": "show",
    "set": "set",
    "reset": "reset",
    "put": "put",
    "cut": "cut",
    "shut": "shut",
    "logged": "log",
    # irregular past tenses and participles, and short forms the suffix rules cannot undo
    "ate": "eat",
    "eaten": "eat",
    "brought": "bring",
    "caught": "catch",
    "came": "come",
    "dealt": "deal",
    "did": "do",
    "does": "do",
    "doing": "do",
    "done": "do",
    "drew": "draw",
    "drawn": "draw",
    "drove": "drive",
    "driven": "drive",
    "fallen": "fall",
    "flew": "fly",
    "flown": "fly",
    "forgot": "forget",
    "forgotten": "forget",
    "forgave": "forgive",
    "forgiven": "forgive",
    "fought": "fight",
    "froze": "freeze",
    "frozen": "freeze",
    "goes": "go",
    "going": "go",
    "gone": "go",
    "went": "go",
    "heard": "hear",
    "hid": "hide",
    "hidden": "hide",
    "kept": "keep",
    "knew": "know",
    "known": "know",
    "led": "lead",
    "lent": "lend",
    "meant": "mean",
    "met": "meet",
    "overridden": "override",
    "overrode": "override",
    "proven": "prove",
    "ran": "run",
    "rewrote": "rewrite",
    "rewritten": "rewrite",
    "rode": "ride",
    "ridden": "ride",
    "rang": "ring",
    "rung": "ring",
    "said": "say",
    "sought": "seek",
    "shook": "shake",
    "shaken": "shake",
    "slept": "sleep",
    "spoke": "speak",
    "spoken": "speak",
    "stole": "steal",
    "stolen": "steal",
    "stood": "stand",
    "swept": "sweep",
    "taught": "teach",
    "thought": "think",
    "threw": "throw",
    "thrown": "throw",
    "told": "tell",
    "undid": "undo",
    "undone": "undo",
    "understood": "understand",
    "used": "use",
    "using": "use",
    "withdrew": "withdraw",
    "withdrawn": "withdraw",
    "woke": "wake",
    "woken": "wake",
    "wore": "wear",
    "worn": "wear",
    "children": "child",
    "people": "person",
    "men": "man",
    "women": "woman",
}
# never made one by synonyms: each side of an antonym pair keeps its own stem
ANTONYMS = (
    ("enable", "disable"),
    ("publish", "unpublish"),
    ("add", "remove"),
    ("open", "close"),
    ("show", "hide"),
    ("start", "stop"),
    ("subscribe", "unsubscribe"),
    ("follow", "unfollow"),
    ("lock", "unlock"),
    ("login", "logout"),
    ("activate", "deactivate"),
    ("like", "unlike"),
    ("archive", "unarchive"),
    ("block", "unblock"),
    ("mute", "unmute"),
    ("pin", "unpin"),
    ("accept", "reject"),
    ("approve", "deny"),
    ("win", "lose"),
    ("succeed", "fail"),
)
# verbs whose past tense (and participle) is the present: `Password Reset`, `Budget Set`
SAME_PAST = frozenset(
    {
        "bet",
        "bid",
        "broadcast",
        "burst",
        "cast",
        "cost",
        "cut",
        "fit",
        "forecast",
        "hit",
        "hurt",
        "let",
        "preset",
        "put",
        "quit",
        "read",
        "rebroadcast",
        "recast",
        "reread",
        "reset",
        "rid",
        "set",
        "shed",
        "shut",
        "split",
        "spread",
        "thrust",
        "upset",
    }
)
for _verb in SAME_PAST:  # their own stem (`spread` is not `spr` + `ed`)
    IRREGULAR.setdefault(_verb, _verb)
PAST_IRREGULAR = (
    frozenset(k for k, v in IRREGULAR.items() if k != v) - {"children", "people", "men", "women"}
) | SAME_PAST


def words(name: str) -> list[str]:
    """``Order Completed`` / ``orderCompleted`` / ``order_completed`` -> ``order completed``."""
    return [w.lower() for w in _WORD.findall(name)]


def slug(name: str) -> str:
    """The snake_case form Segment and RudderStack give an event's table and `event` column."""
    return "_".join(words(name))


_ES_PLURALS = ("ches", "shes", "xes", "sses", "zes")


def stem(word: str) -> str:
    """Fold plural and tense: orders/order, completed/completes/complete, shipped/shipping,
    made/makes/make. An irregular form's lemma is settled like any other base, so
    `made` -> `make` and `makes` -> `make` end alike."""
    if word in IRREGULAR:
        return _settle(IRREGULAR[word])
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("ied", "y")):
        if word.endswith(suffix) and len(word) > 4:
            return word[: -len(suffix)] + keep
    if word.endswith(("ss", "us", "is")):
        return word
    base = word
    if base.endswith("ing") and len(base) > 5:
        base = base[:-3]
    elif (base.endswith("ed") and len(base) > 4) or base.endswith(_ES_PLURALS):
        base = base[:-2]
    elif base.endswith("s"):
        base = base[:-1]
    return _settle(base)


def _settle(base: str) -> str:
    """The last step of every stem: doubled consonants and a final `e` dropped."""
    if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "aeiouls":
        base = base[:-1]  # shipped -> shipp -> ship
    if len(base) > 3 and base[-1] == "l" and base[-2] == "l":
        base = base[:-1]  # cancelled -> cancell -> cancel
    if base.endswith("e") and len(base) > 3:
        base = base[:-1]  # complete -> complet, matching completed
    return base


def normal_form(
    name: str,
    abbreviations: Mapping[str, str] | None = None,
    synonyms: Sequence[Sequence[str]] = (),
) -> tuple[str, ...]:
    """The sorted word stems under which near-duplicate names collide."""
    groups = _synonym_map(synonyms)
    stems = []
    for word in words(name):
        if abbreviations and word in abbreviations:
            word = abbreviations[word]
        if word in STOP_WORDS:
            continue
        stemmed = stem(word)
        stems.append(groups.get(stemmed, stemmed))
    return tuple(sorted(stems))


def _synonym_map(synonyms: Sequence[Sequence[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for group in synonyms:
        stems = [stem(w.lower()) for w in group for w in words(w)]
        if not stems:
            continue
        canonical = min(stems)
        for s in stems:
            out.setdefault(s, canonical)
    return out


def antonyms(a: Iterable[str], b: Iterable[str]) -> bool:
    """True when the two names differ by an antonym pair (never duplicates)."""
    left = {stem(w) for w in a}
    right = {stem(w) for w in b}
    for x, y in ANTONYMS:
        sx, sy = stem(x), stem(y)
        if (sx in left and sy in right) or (sy in left and sx in right):
            return True
    return False


def looks_past_tense(word: str) -> bool:
    w = word.lower()
    return w.endswith("ed") or w in PAST_IRREGULAR
