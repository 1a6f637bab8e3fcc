"""Read configuration files (following ``extends``), validate each against
the JSON Schema, and merge them in order with provenance and locks."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from normcheck import cache as run_cache
from normcheck._regex import regex_problem
from normcheck._yaml import YamlDoc, load_yaml
from normcheck.checks._api import (
    RULE_ID_PATTERN,
    SEVERITY_RANK,
    Layer,
    Options,
    Rule,
    Vocabulary,
    option_default,
    option_meta,
    stricter_or_same,
)
from normcheck.checks.registry import LOCKED_RULE, builtin_rules
from normcheck.config.model import (
    DEFAULT_ORIGIN,
    Config,
    LockViolation,
    Origin,
    Override,
    OverrideRule,
    RuleConfig,
    ScorecardThresholds,
    Threshold,
)
from normcheck.config.schema import build_schema
from normcheck.errors import ConfigError, UsageError, schema_problem
from normcheck.plugins import (
    BUILTIN_FAMILIES,
    installed_rule_set_packs,
    load_plugins,
    rule_set_folder,
)

if TYPE_CHECKING:  # jsonschema is imported only when a user file is validated
    import jsonschema

CONFIG_NAMES = ("normcheck.yml", "normcheck.yaml", ".normcheck.yml")
PACKAGED_PREFIX = "normcheck:"
DEFAULT_EXTENDS = ("normcheck:default",)
LAYER_RULE = "naming/model-prefix"
PLANS = ("tracking_plans", "")  # the key of `tracking_plans` in _Merger.said
# the rules that judge models by LAYER_RULE's `layers`
LAYER_USERS = frozenset(
    {
        "naming/model-directory",
        "governance/layer-dependency",
        "governance/required-meta",
        "sql/select-star",
        "sql/undocumented-column",
    }
)


def _key_hint(key: str, allowed: Sequence[str]) -> str:
    """What to say after an unknown key: the allowed key it looks like, else them
    all, else that there are none."""
    close = _close_matches(key, allowed)
    if close:
        return f"; did you mean `{close[0]}`?"
    return f"; allowed: {', '.join(allowed)}" if allowed else ": it takes none"


def _close_matches(word: str, choices: Sequence[str]) -> list[str]:
    """The closest of ``choices`` to a mistyped ``word`` (difflib only then)."""
    import difflib

    return difflib.get_close_matches(word, choices, n=1)


def rulesets_dir() -> Path:
    """Where the packaged rule sets live: inside the wheel, or the source tree's
    ``rules/`` folder in a development checkout."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_rulesets"
    return packaged if packaged.is_dir() else here.parent.parent / "rules"


def packaged_sets() -> list[str]:
    return sorted(p.stem for p in rulesets_dir().glob("*.yml"))


def display_path(path: Path) -> str:
    """A path as the user sees it: relative to the working directory; with `..` when
    both lie in one git repository (`cd models && normcheck check --project-dir ..`);
    else absolute."""
    here = Path.cwd()
    try:
        return str(path.relative_to(here))
    except ValueError:
        pass
    try:
        if path.is_absolute() and repository_root(os.path.commonpath([path, here])) is not None:
            return os.path.relpath(path, here)
    except ValueError:  # on another drive (Windows): nothing in common
        pass
    return str(path)


@cache
def repository_root(folder: str) -> Path | None:
    """The git work tree that holds ``folder`` (the nearest with `.git`), or None;
    remembered for the process (repositories do not come and go during a run)."""
    for parent in (Path(folder), *Path(folder).parents):
        if (parent / ".git").exists():
            return parent
    return None


def in_message(origin: Origin) -> str:
    """A configuration place as messages name it: from the repository's root, so a
    report's text is the same from any working folder (SARIF, annotations)."""
    if origin.file.startswith("(") or named_set(origin.file):
        return str(origin)
    return str(Origin(from_repository_root(origin.file), origin.line))


def from_repository_root(shown: str) -> str:
    """A shown path (relative to the working folder) relative to the root of the git
    repository it is in, as code scanning and annotations read paths; unchanged
    outside a repository, or when absolute."""
    if not shown or Path(shown).is_absolute():
        return shown
    here = _from_root(str(Path.cwd()))
    if here is None:
        return shown
    joined = os.path.normpath(here / shown)
    return shown if joined.startswith("..") else Path(joined).as_posix()


@cache
def _from_root(here: str) -> Path | None:
    """The working folder from its repository's root (once a run: asked per finding)."""
    root = repository_root(here)
    return None if root is None else Path(os.path.relpath(here, root))


@dataclass(frozen=True)
class ConfigFile:
    shown: str
    doc: YamlDoc
    path: Path
    extends: frozenset[str] = frozenset()  # the files it extends, directly or not
    named_at: Origin | None = None  # the `extends` entry that brought it in

    @property
    def data(self) -> dict[str, Any]:
        return self.doc.data if isinstance(self.doc.data, dict) else {}

    def origin(self, *key: str | int) -> Origin:
        return Origin(self.shown, self.doc.line(tuple(key)))


@cache
def _validator(rule_ids: tuple[str, ...]) -> jsonschema.Draft202012Validator:
    import jsonschema

    rules = builtin_rules()
    schema = build_schema({rid: rules[rid] for rid in rule_ids})
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _schema_error(file: ConfigFile, error: jsonschema.ValidationError) -> ConfigError:
    path = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "top level"
    line = file.doc.line(path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        key = extra[0] if extra else "?"
        line = file.doc.line((*path, key)) or line
        hint = _key_hint(key, allowed)
        inside = f" in `{where}`" if path else ""
        return ConfigError(f"unknown key `{key}`{inside}{hint}", file.shown, line)
    if error.validator == "enum":
        choices = ", ".join(str(c) for c in schema.get("enum", ()))
        return ConfigError(
            f"`{error.instance}` is not allowed at `{where}`: use one of {choices}",
            file.shown,
            line,
        )
    if error.validator == "pattern" and error.validator_value == RULE_ID_PATTERN:
        key_line = file.doc.line((*path, str(error.instance)))
        return ConfigError(
            f"`{error.instance}` is not a rule id (expected family/name)", file.shown, key_line
        )
    wanted = error.validator_value if error.validator == "type" else None
    wants_text = wanted == "string" or (isinstance(wanted, list) and "string" in wanted)
    if wants_text and isinstance(error.instance, (bool, int, float, type(None))):
        read = json.dumps(error.instance)  # `no` -> false, `1.10` -> 1.1, `~` -> null
        return ConfigError(
            f"invalid value at `{where}`: YAML reads it as {read}, not text: quote it",
            file.shown,
            line,
        )
    rule_setting = (len(path) == 2 and path[0] == "rules") or (
        len(path) == 4 and path[0] == "overrides" and path[2] == "rules"
    )
    if rule_setting and not isinstance(error.instance, (str, dict)):
        return ConfigError(
            f"invalid value at `{where}`: a rule takes a severity (error, warning, info, "
            f"off) or {{severity, locked, options}}, not {json.dumps(error.instance)}",
            file.shown,
            line,
        )
    if error.validator == "format" and error.validator_value == "regex":
        return ConfigError(
            f"invalid regular expression `{error.instance}` at `{where}`", file.shown, line
        )
    return ConfigError(f"invalid value at `{where}`: {schema_problem(error)}", file.shown, line)


def validate(file: ConfigFile) -> None:
    """Raise the first schema error of ``file`` (in document order) as a ConfigError."""
    if not isinstance(file.doc.data, dict):
        raise ConfigError(
            "a configuration file must be a YAML mapping (for example `version: 1`)",
            file.shown,
            1,
        )
    try:
        marker = run_cache.known_valid(file.path.read_bytes())
    except OSError:
        marker = None
    if marker is not None and marker.exists():
        return
    validator = _validator(tuple(sorted(builtin_rules())))
    data = file.doc.data
    if isinstance(data.get("dialect"), str):  # `Snowflake` as dbt's docs write it
        data = {**data, "dialect": data["dialect"].lower()}
    errors = list(validator.iter_errors(data))
    if not errors:
        if marker is not None:
            run_cache.mark(marker)
        return
    deepest = min(
        errors,
        key=lambda e: (file.doc.line(tuple(e.absolute_path)) or 0, -len(e.absolute_path)),
    )
    from jsonschema.exceptions import best_match

    best = best_match([deepest])
    raise _schema_error(file, best)


def _extends_list(file: ConfigFile) -> list[tuple[str, Origin]]:
    value = file.data.get("extends")
    if value is None:
        return []
    if isinstance(value, str):
        return [(value, file.origin("extends"))]
    return [(str(v), file.origin("extends", i)) for i, v in enumerate(value)]


def extends_root(config: Path) -> Path:
    """How far `extends` may reach from the root configuration file: the git
    repository that holds it (the nearest folder with `.git`), else its folder."""
    start = config.resolve().parent
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


_NAMED_SET = re.compile(r"([A-Za-z0-9][A-Za-z0-9_.-]*):([A-Za-z0-9][A-Za-z0-9_.-]*)")


# the names `extends` resolved to a named set in this process (a file may be called
# `team:a.yml`: what a name is cannot be told from its text alone)
_NAMED_SHOWN: set[str] = set()


def named_set(shown: str) -> bool:
    """Whether a rule set is named (``normcheck:default``, an installed pack's
    ``acme:central``) rather than a file of the user's."""
    return shown.startswith(PACKAGED_PREFIX) or shown in _NAMED_SHOWN


def _resolve_named(target: str, origin: Origin) -> tuple[Path, str, Path] | None:
    """A named rule set: normcheck's own, or one an installed package ships
    (entry-point group ``normcheck.rule_sets``); None when ``target`` names none."""
    if target.startswith(PACKAGED_PREFIX):
        path = rulesets_dir() / f"{target[len(PACKAGED_PREFIX) :]}.yml"
        if not path.is_file():
            known = ", ".join(PACKAGED_PREFIX + n for n in packaged_sets())
            raise ConfigError(
                f"unknown packaged rule set `{target}`: use one of {known}",
                origin.file,
                origin.line,
            )
        return path, target, rulesets_dir()
    found = _NAMED_SET.fullmatch(target)
    if found is None:
        return None
    pack, name = found.groups()
    try:
        located = rule_set_folder(pack)
    except ConfigError as exc:
        raise ConfigError(exc.message, origin.file, origin.line) from None
    if located is None:
        installed = installed_rule_set_packs()
        known = ", ".join(f"`{p}`" for p in installed) if installed else "none"
        raise ConfigError(
            f"unknown rule-set pack `{pack}` in `{target}`: no installed package declares "
            f"it (entry-point group `normcheck.rule_sets`; installed: {known}); install "
            "the package that ships it",
            origin.file,
            origin.line,
        )
    folder, label = located
    path = folder / f"{name}.yml"
    if not path.is_file():
        known = ", ".join(f"{pack}:{n}" for n in sorted(p.stem for p in folder.glob("*.yml")))
        known = known or "none"
        raise ConfigError(
            f"unknown rule set `{target}` (pack {label}): use one of {known}",
            origin.file,
            origin.line,
        )
    _NAMED_SHOWN.add(target)
    return path.resolve(), target, folder


def _resolve_target(target: str, base: Path, origin: Origin, root: Path) -> tuple[Path, str, Path]:
    """The file ``target`` names, how to show it, and how far its own `extends` may
    reach (a named set's: its own folder). A file of that name (`team:a.yml`) wins."""
    named = None if (base / target).is_file() else _resolve_named(target, origin)
    if named is not None:
        return named
    path = (base / target).resolve()
    if not path.is_relative_to(root) and named_set(origin.file):
        raise ConfigError(
            f"`extends` target `{target}` is outside the folder of the rule sets shipped "
            f"with `{origin.file}`: a named set extends only named sets and files beside it",
            origin.file,
            origin.line,
        )
    if not path.is_relative_to(root):
        shown = display_path(root)
        shown = "the current folder" if shown == "." else f"`{shown}`"
        what = "git repository" if (root / ".git").exists() else "folder (no git repository)"
        raise ConfigError(
            f"`extends` target `{target}` is outside {shown}, the {what} of the configuration: "
            "copy that rule set inside it, add it as a git submodule, or ship it in a "
            "rule-set pack (`extends: [acme:central]`, docs/writing-rules.md)",
            origin.file,
            origin.line,
        )
    if not path.is_file():
        raise ConfigError(
            f"`extends` target `{target}` not found (looked for {display_path(path)})",
            origin.file,
            origin.line,
        )
    if named_set(origin.file):
        # a file beside a named set is one of its pack's sets: shown by its name, not
        # by where the package is installed (a report's text is the same on every
        # machine); a file below it, by its path in the pack (`acme:common/base.yml`)
        pack = origin.file.partition(":")[0]
        alias = f"{pack}:{path.stem}"
        if path.parent != root or path.suffix != ".yml" or not _NAMED_SET.fullmatch(alias):
            alias = f"{pack}:{path.relative_to(root).as_posix()}"
        _NAMED_SHOWN.add(alias)
        return path, alias, root
    return path, display_path(path), root


def collect(
    path: Path, shown: str, implicit_default: bool, within: Path | None = None
) -> list[ConfigFile]:
    """All files to merge, depth first: each file's `extends` before the file.
    Files are only read inside ``within`` (default: :func:`extends_root` of ``path``)."""
    root = (within or extends_root(path)).resolve()
    out: list[ConfigFile] = []
    seen: set[Path] = set()
    below: dict[Path, frozenset[str]] = {}  # each file's `extends`, directly or not

    def visit(
        path: Path, shown: str, stack: tuple[Path, ...], origin: Origin | None, root: Path
    ) -> None:
        if path in stack:
            chain = " -> ".join([*(display_path(p) for p in stack), shown])
            raise ConfigError(
                f"`extends` cycle: {chain}",
                origin.file if origin else shown,
                origin.line if origin else None,
            )
        if path in seen:
            return
        file = ConfigFile(shown, load_yaml(path, shown, ConfigError, unique_keys=True), path)
        _normalise_off(file.doc.data)
        if not shown.startswith(PACKAGED_PREFIX):  # packaged sets are validated by the tests
            validate(file)
        targets = _extends_list(file)
        packaged_default = path == (rulesets_dir() / "default.yml").resolve()
        if (
            not targets
            and "extends" not in file.data
            and implicit_default
            # the configuration run with, or a normcheck.yml another one extends (a
            # monorepo's, which a project's own extends): a rule set named otherwise
            # without `extends` is only itself
            and (not stack or path.name in CONFIG_NAMES)
            and not packaged_default  # `config --check rules/default.yml`: itself
        ):
            targets = [(t, DEFAULT_ORIGIN) for t in DEFAULT_EXTENDS]
        extended: set[str] = set()
        for target, where in targets:
            child, child_shown, reach = _resolve_target(target, path.parent, where, root)
            visit(child, child_shown, (*stack, path), where, reach)
            extended |= {child_shown, *below[child]}
        seen.add(path)
        below[path] = frozenset(extended)
        out.append(replace(file, extends=below[path], named_at=origin))

    visit(path.resolve(), shown, (), None, root)
    return out


def _normalise_off(data: object) -> None:
    """YAML 1.1 reads a bare `off` as false: in severity places, read it as "off"."""
    if not isinstance(data, dict):
        return
    tables = [data.get("rules")]
    tables += [o.get("rules") for o in data.get("overrides") or () if isinstance(o, dict)]
    for table in tables:
        if not isinstance(table, dict):
            continue
        for rule_id, setting in table.items():
            if setting is False:
                table[rule_id] = "off"
            elif isinstance(setting, dict) and setting.get("severity") is False:
                setting["severity"] = "off"


def find_config(project_dir: Path) -> Path | None:
    for name in CONFIG_NAMES:
        candidate = project_dir / name
        if candidate.is_file():
            return candidate
    return None


class _Merger:
    """Applies configuration files in order, tracking origins and locks."""

    def __init__(
        self,
        rules: Mapping[str, Rule],
        lenient: bool = False,
        contested: Mapping[str, Sequence[str]] | None = None,
        refused: Mapping[str, str] | None = None,
    ) -> None:
        self.rules = dict(rules)
        self.lenient = lenient
        self.contested = dict(contested or {})  # rule id -> the plugins that define it
        self.refused = dict(refused or {})  # rule id -> why a pack's rule was left out
        self.derived: dict[str, str] = {}
        self.severity: dict[str, tuple[str, Origin]] = {}
        self.locked: dict[str, Origin] = {}
        self.options: dict[str, dict[str, tuple[object, Origin]]] = {}
        self.overrides: list[Override] = []
        self.violations: list[LockViolation] = []
        self.settings: dict[str, tuple[object, Origin]] = {}
        self.owners: dict[str, Mapping[str, object]] = {}
        self.preferred: dict[str, str] = {}
        self.banned: set[str] = set()
        self.origins: dict[str, Origin] = {}
        self.extends: dict[str, frozenset[str]] = {}  # file -> the files it extends
        self.named_at: dict[str, Origin] = {}  # file -> the `extends` entry naming it
        self.registered: dict[str, list[str]] = {}  # team -> the files that register it
        # each value a file set, in merge order, by (rule, option), ("severity", rule),
        # ("preferred", word) and ("tracking_plans", ""): what the locks compare with
        self.said: dict[tuple[str, str], list[tuple[object, Origin]]] = {}

    def placed(self, origin: Origin, what: str) -> tuple[Origin, str]:
        """A named rule set (normcheck's, or an installed pack's) is no file of the
        user's to point at: an attempt made by one is placed at the `extends` entry
        that brought it in (after the lock)."""
        while named_set(origin.file):
            at = self.named_at.get(origin.file)
            if at is None:  # the default every normcheck.yml extends: first, never after
                break
            what = f"{what} (by `{origin.file}`, extended here)"
            origin = at
        return origin, what

    def violation(self, rule_id: str, origin: Origin, what: str, key: str) -> None:
        lock = self.locked[rule_id]
        origin, what = self.placed(origin, what)
        self.violations.append(
            LockViolation(
                rule_id,
                origin,
                f"{what} of locked rule `{rule_id}` has no effect: it was locked at "
                f"{in_message(lock)}",
                key,
            )
        )

    def locked_elsewhere(self, rule_id: str, file: ConfigFile | str) -> bool:
        """Whether the rule is locked by a file that is neither ``file`` nor one
        ``file`` extends (the locking file's own rule sets are central too)."""
        lock = self.locked.get(rule_id)
        shown = file if isinstance(file, str) else file.shown
        return (
            lock is not None
            and lock.file != shown
            and shown not in self.extends.get(lock.file, frozenset())
        )

    def check_contested(self, rule_id: str, origin: Origin) -> None:
        """A rule id that two installed plugins define: an error where it is used."""
        plugins = self.contested.get(rule_id)
        if plugins:
            raise ConfigError(
                f"rule `{rule_id}` is defined by more than one plugin ({', '.join(plugins)}): "
                "uninstall or remove all but one",
                origin.file,
                origin.line,
            )

    def check_rule_id(self, rule_id: str, origin: Origin) -> Rule | None:
        self.check_contested(rule_id, origin)
        rule = self.rules.get(rule_id)
        if rule is None and rule_id in self.refused:
            raise ConfigError(self.refused[rule_id], origin.file, origin.line)
        if rule is None and self.lenient:
            return None  # a plugin failed to import: its rules are reported, not their ids
        if rule is None:
            close = _close_matches(rule_id, list(self.rules))
            family = rule_id.split("/", 1)[0]
            if close:
                hint = f"; did you mean `{close[0]}`?"
            elif "/" in rule_id and not any(r.startswith(f"{family}/") for r in self.rules):
                # a family nobody defines here: a rule pack not installed (`normcheck
                # rules` would say no more, as it reads this configuration too)
                hint = (
                    f": no installed rule pack or plugin defines the family `{family}` "
                    "(install the pack that does, or list its plugin under `plugins:`)"
                )
            else:
                hint = "; see `normcheck rules`"
            raise ConfigError(f"unknown rule `{rule_id}`{hint}", origin.file, origin.line)
        return rule

    def apply(self, file: ConfigFile) -> None:
        data = file.data
        self.extends[file.shown] = file.extends
        if file.named_at is not None and not file.named_at.file.startswith("("):
            self.named_at[file.shown] = file.named_at
        for key in ("team", "dialect", "fail_on", "baseline"):
            if key in data:
                self.settings[key] = (data[key], file.origin(key))
        if "projects" in data:
            folders = tuple((file.path.parent / p).resolve() for p in data["projects"])
            for index, folder in enumerate(folders):
                if folder in folders[:index]:  # `a` and `./a/`: one project checked twice
                    raise ConfigError(
                        f"`projects:` lists `{data['projects'][index]}` twice",
                        file.shown,
                        file.doc.line(("projects", index)),
                    )
            self.settings["projects"] = (folders, file.origin("projects"))
        self.apply_scorecard(file, data.get("scorecard") or {})
        if "tracking_plans" in data:
            self.settings["tracking_plans"] = (
                tuple(data["tracking_plans"]),
                file.origin("tracking_plans"),
            )
            self.said.setdefault(PLANS, []).append(self.settings["tracking_plans"])
        for team, info in (data.get("owners") or {}).items():
            self.owners[str(team)] = info or {}
            self.origins[f"owners.{team}"] = file.origin("owners", team)
            self.registered.setdefault(str(team), []).append(file.shown)
        vocabulary = data.get("vocabulary") or {}
        for word, better in (vocabulary.get("preferred") or {}).items():
            where = file.origin("vocabulary", "preferred", word)
            if str(word).lower() == str(better).lower():
                raise ConfigError(
                    f"`vocabulary.preferred` maps `{word}` to itself: a preferred word is "
                    "another word (to allow a word, leave it out)",
                    where.file,
                    where.line,
                )
            said = self.said.setdefault(("preferred", str(word).lower()), [])
            said.append((str(better).lower(), where))
            self.preferred[str(word).lower()] = str(better).lower()
            self.origins[f"preferred.{word.lower()}"] = where
        for index, word in enumerate(vocabulary.get("banned") or ()):
            self.banned.add(str(word).lower())
            self.origins.setdefault(
                f"banned.{word.lower()}", file.origin("vocabulary", "banned", index)
            )
        for rule_id, setting in (data.get("rules") or {}).items():
            self.apply_rule(file, rule_id, setting)
        for index, entry in enumerate(data.get("overrides") or ()):
            self.apply_override(file, index, entry)

    def apply_scorecard(self, file: ConfigFile, scorecard: Mapping[str, Any]) -> None:
        """Each level is replaced whole by a later file; once a file locks the
        scorecard, later files may only make its lights stricter (everyone reads
        red, yellow and green the same way)."""
        lock = self.settings.get("scorecard.locked")
        guarded = lock is not None and lock[1].file != file.shown
        for level in ("red", "yellow"):
            if level not in scorecard:
                continue
            key, origin = f"scorecard.{level}", file.origin("scorecard", level)
            now = self.settings.get(key, (None, DEFAULT_ORIGIN))[0]
            current = _threshold(now, getattr(ScorecardThresholds(), level))
            if guarded and lock and not _stricter(_threshold(scorecard[level], None), current):
                what = f"loosening the `{level}` light of the locked scorecard"
                self.scorecard_violation(origin, what, level, lock[1])
                continue
            self.settings[key] = (scorecard[level], origin)
        if "locked" in scorecard:
            where = file.origin("scorecard", "locked")
            if scorecard["locked"]:
                self.settings.setdefault("scorecard.locked", (True, where))
            elif guarded and lock:
                self.scorecard_violation(where, "`locked: false`", "locked", lock[1])
            else:
                self.settings.pop("scorecard.locked", None)

    def scorecard_violation(self, origin: Origin, what: str, key: str, lock: Origin) -> None:
        self.violations.append(
            LockViolation(
                "scorecard",
                origin,
                f"{what} has no effect: the scorecard was locked at {in_message(lock)}",
                key,
            )
        )

    def derive(self, file: ConfigFile, rule_id: str, setting: dict[str, Any]) -> None:
        """`uses:` makes a new rule from a configurable one, under the rule set's own id."""
        where = file.origin("rules", rule_id, "uses")
        self.check_contested(str(setting["uses"]), where)
        self.check_contested(rule_id, file.origin("rules", rule_id))
        base = self.rules.get(str(setting["uses"]))
        if base is None:
            close = _close_matches(str(setting["uses"]), list(self.rules))
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise ConfigError(
                f"`uses: {setting['uses']}` names no rule{hint}", where.file, where.line
            )
        existing = self.rules.get(rule_id)
        if existing is not None and self.derived.get(rule_id) != base.id:
            raise ConfigError(
                f"`{rule_id}` already names a rule: pick a new id for the derived rule",
                where.file,
                where.line,
            )
        if existing is None:
            if rule_id.split("/", 1)[0] in BUILTIN_FAMILIES:
                raise ConfigError(
                    f"derived rule `{rule_id}` must not use normcheck's own family: "
                    "name it in your namespace (e.g. acme/...)",
                    file.shown,
                    file.doc.line(("rules", rule_id)),
                )
            lines = base.doc.splitlines()
            summary = str(setting.get("description") or f"{lines[0]} (uses `{base.id}`)")
            doc = "\n".join([summary, *lines[1:]])
            doc += f"\n\nDerived from `{base.id}` by the rule set at {in_message(where)}."
            # its default severity is the one its rule set gives it (`rules`, `explain`)
            severity = str(setting.get("severity", base.severity))
            self.rules[rule_id] = replace(base, id=rule_id, doc=doc, severity=severity)
            self.derived[rule_id] = base.id
            if "severity" not in setting:
                self.severity[rule_id] = (base.severity, where)

    def apply_rule(self, file: ConfigFile, rule_id: str, setting: object) -> None:
        base = ("rules", rule_id)
        if isinstance(setting, dict) and "uses" in setting:
            self.derive(file, rule_id, setting)
        if self.check_rule_id(rule_id, file.origin(*base)) is None:
            return
        if rule_id == LOCKED_RULE:
            raise ConfigError(
                f"`{LOCKED_RULE}` cannot be configured: it is always an error",
                file.shown,
                file.doc.line(base),
            )
        if not isinstance(setting, dict):  # the short form: just the severity
            setting = {"severity": setting}
            where = {"severity": file.origin(*base)}
        else:
            where = {k: file.origin(*base, k) for k in ("severity", "locked", "options")}
        guarded = self.locked_elsewhere(rule_id, file)
        if "severity" in setting:
            new = str(setting["severity"])
            current = self.severity.get(rule_id, ("off", DEFAULT_ORIGIN))[0]
            if guarded and SEVERITY_RANK[new] < SEVERITY_RANK[current]:
                self.violation(rule_id, where["severity"], f"setting severity `{new}`", "severity")
            else:
                self.severity[rule_id] = (new, where["severity"])
                self.said.setdefault(("severity", rule_id), []).append(self.severity[rule_id])
        if "locked" in setting:
            if setting["locked"]:
                self.locked.setdefault(rule_id, where["locked"])
            elif rule_id in self.locked:
                if guarded:
                    self.violation(rule_id, where["locked"], "`locked: false`", "locked")
                else:
                    del self.locked[rule_id]
        options = setting.get("options")
        for key, value in (options if isinstance(options, dict) else {}).items():
            origin = file.origin(*base, "options", key)
            current_options = self.options.setdefault(rule_id, {})
            if guarded:
                if self.option_now(rule_id, key) == value:
                    continue
                if self.weakens(rule_id, key, value):
                    kind = self.rules[rule_id].options
                    verb = "weakening" if option_meta(kind, key).get("stricter") else "changing"
                    self.violation(rule_id, origin, f"{verb} option `{key}`", f"options.{key}")
                    continue
            elif rule_id == LAYER_RULE and key == "layers":
                judge = self.judged_by_layers(file)
                if judge is not None and self.weakens(rule_id, key, value):
                    lock = in_message(self.locked[judge])
                    self.violations.append(
                        LockViolation(
                            judge,
                            origin,
                            f"changing the `layers` of `{LAYER_RULE}` has no effect: locked "
                            f"rule `{judge}` judges models by them (locked at {lock})",
                            "layers",
                        )
                    )
                    continue
            current_options[key] = (value, origin)
            self.said.setdefault((rule_id, key), []).append((value, origin))

    def judged_by_layers(self, file: ConfigFile) -> str | None:
        """A rule locked outside ``file``'s reach that judges models by the layers
        of `naming/model-prefix` (unlocked itself): those layers are its norm too."""
        for rule_id in sorted(self.locked):
            base = self.derived.get(rule_id, rule_id)
            if base not in LAYER_USERS or not self.locked_elsewhere(rule_id, file):
                continue
            if self.severity.get(rule_id, ("off", DEFAULT_ORIGIN))[0] == "off":
                continue  # off (or on only where overrides say): not judging by them here
            if base == "governance/required-meta":
                match = self.option_now(rule_id, "match")
                if not (isinstance(match, dict) and match.get("layers")):
                    continue  # its scope names no layer
            elif base.startswith("sql/") and not self.option_now(rule_id, "layers"):
                continue  # every layer alike
            return rule_id
        return None

    def option_now(self, rule_id: str, key: str) -> object:
        """The value of a rule's option as the files so far set it, else its default."""
        held = self.options.get(rule_id, {}).get(key)
        return held[0] if held is not None else option_default(self.rules[rule_id].options, key)

    def weakens(self, rule_id: str, key: str, value: object) -> bool:
        """Whether ``value`` would make a locked rule's option weaker than it is now
        (an option with no stricter way may not change at all)."""
        kind = self.rules[rule_id].options
        return not stricter_or_same(kind, key, value, self.option_now(rule_id, key))

    def apply_override(self, file: ConfigFile, index: int, entry: Mapping[str, Any]) -> None:
        match = entry["match"]
        rules: dict[str, OverrideRule] = {}
        for rule_id, setting in entry["rules"].items():
            key_path = ("overrides", index, "rules", rule_id)
            origin = file.origin(*key_path)
            if self.check_rule_id(rule_id, origin) is None:
                continue
            if isinstance(setting, str):
                setting = {"severity": setting}
            where = {key: file.origin(*key_path, key) for key in setting}
            for name in setting.get("options") or {}:
                where[f"options.{name}"] = file.origin(*key_path, "options", name)
            rules[rule_id] = OverrideRule(
                setting.get("severity"), setting.get("options"), origin, where=where
            )
        self.overrides.append(
            Override(
                origin=file.origin("overrides", index),
                paths=tuple(match.get("paths", ())),
                tags=tuple(match.get("tags", ())),
                groups=tuple(match.get("groups", ())),
                owners=tuple(match.get("owners", ())),
                rules=rules,
            )
        )

    def guard_norms(self) -> None:
        """The shared norms a locked rule judges by are the locking files' too: with
        `ownership/unknown-owner` locked and a registry in them, a team registered
        only outside them does not count; with `naming/vocabulary` locked, a central
        word's preferred word is not replaced (words added are stricter, and stay)."""
        owners = "ownership/unknown-owner"
        registry = {
            team
            for team, files in self.registered.items()
            if not all(self.locked_elsewhere(owners, f) for f in files)
        }
        if owners in self.locked and registry:  # no central registry: the teams keep one
            for team in sorted(self.registered):
                if team not in registry:
                    where = self.origins.pop(f"owners.{team}")
                    del self.owners[team]
                    self.violation(owners, where, f"registering owner `{team}`", f"owners.{team}")
        words = "naming/vocabulary"
        if words not in self.locked:
            return
        for key, mappings in sorted(self.said.items()):
            central = self.central_value(key, words) if key[0] == "preferred" else None
            if central is None:
                continue
            word = key[1]
            for better, where in mappings:
                if better != central[0] and self.locked_elsewhere(words, where.file):
                    what = f"preferring `{better}` over `{word}`"
                    self.violation(words, where, what, f"preferred.{word}")
            self.preferred[word] = str(central[0])
            self.origins[f"preferred.{word}"] = central[1]

    def guard_rules(self) -> None:
        """Once every file is merged: a locked rule's severity and options set by a
        file outside the locking ones that was merged before the lock (listed
        before the central set in `extends`), and so not checked as it was read,
        may not be weaker than what the locking files give (else the rule's own)."""
        for rule_id in sorted(self.locked):
            severity, origin = self.severity.get(rule_id, ("off", DEFAULT_ORIGIN))
            if origin != DEFAULT_ORIGIN and self.locked_elsewhere(rule_id, origin.file):
                floor = self.central_value(("severity", rule_id), rule_id)
                held = floor[0] if floor else self.rules[rule_id].severity
                if SEVERITY_RANK[severity] < SEVERITY_RANK[str(held)]:
                    self.violation(rule_id, origin, f"setting severity `{severity}`", "severity")
                    self.severity[rule_id] = (str(held), floor[1] if floor else DEFAULT_ORIGIN)
            for key, (value, where) in sorted(self.options.get(rule_id, {}).items()):
                if not self.locked_elsewhere(rule_id, where.file):
                    continue
                central = self.central_value((rule_id, key), rule_id)
                kind = self.rules[rule_id].options
                before = central[0] if central else option_default(kind, key)
                if stricter_or_same(kind, key, value, before):
                    continue
                verb = "weakening" if option_meta(kind, key).get("stricter") else "changing"
                self.violation(rule_id, where, f"{verb} option `{key}`", f"options.{key}")
                if central:
                    self.options[rule_id][key] = central
                else:
                    del self.options[rule_id][key]

    def central_value(self, what: tuple[str, str], rule_id: str) -> tuple[object, Origin] | None:
        """The last value the locking files (the lock's and those it extends) set."""
        found = [
            (value, origin)
            for value, origin in self.said.get(what, ())
            if not self.locked_elsewhere(rule_id, origin.file)
        ]
        return found[-1] if found else None

    def guard_plans(self) -> None:
        """With a rule locked that judges events or properties, the tracking plans
        the locking files name stay checked (a team may add plans, not drop them)."""
        final = self.settings.get("tracking_plans")
        if final is None:
            return
        for judge in sorted(self.locked):  # the first lock the final list escapes
            if not {"event", "property"} & set(self.rules[judge].targets):
                continue
            if not self.locked_elsewhere(judge, final[1].file):
                continue
            central = self.central_value(PLANS, judge)
            if central is not None:
                self.keep_plans(judge, central[0], final)
                return

    def keep_plans(self, judge: str, said: object, final: tuple[object, Origin]) -> None:
        """Put back the plan globs ``said`` by the files locking ``judge`` that the
        final `tracking_plans` leaves out, and report the attempt."""
        kept, now = _globs(said), _globs(final[0])
        dropped = [glob for glob in kept if glob not in now]
        if dropped:
            lock = in_message(self.locked[judge])
            self.violations.append(
                LockViolation(
                    judge,
                    final[1],
                    "leaving out the tracking plans "
                    f"{', '.join(f'`{glob}`' for glob in dropped)} has no effect: "
                    f"locked rule `{judge}` judges them (locked at {lock})",
                    "tracking_plans",
                )
            )
            self.settings["tracking_plans"] = (
                (*kept, *(glob for glob in now if glob not in kept)),
                final[1],
            )

    def guard_overrides(self) -> None:
        """Once every file is merged: an override of a locked rule from a file
        outside the lock's (the locking file and those it extends), before the
        lock or after it, may only make the rule stricter. A lower severity or
        weaker options than the rule's are refused here; one that would lower
        what an earlier override gives a resource is held back per resource
        (``guarded``) and reported by the run."""
        guarded: list[Override] = []
        indexes: Counter[str] = Counter()  # an override's place in its file: its key
        for override in self.overrides:
            index = indexes[override.origin.file]
            indexes[override.origin.file] += 1
            rules: dict[str, OverrideRule] = {}
            for rule_id, setting in override.rules.items():
                if not self.locked_elsewhere(rule_id, setting.origin.file):
                    rules[rule_id] = setting
                    continue
                severity, options = setting.severity, setting.options
                current = self.severity.get(rule_id, ("off", DEFAULT_ORIGIN))[0]
                # the central set's own overrides may lower the rule for some resources:
                # one no lower than those is judged per resource (where they apply, it
                # weakens nothing), not refused outright
                central = [
                    SEVERITY_RANK[o.rules[rule_id].severity or "off"]
                    for o in self.overrides
                    if rule_id in o.rules
                    and o.rules[rule_id].severity is not None
                    and not self.locked_elsewhere(rule_id, o.origin.file)
                ]
                floor = min([SEVERITY_RANK[current], *central])
                key = f"o{index}"
                if severity is not None and SEVERITY_RANK[severity] < floor:
                    where = setting.where.get("severity", setting.origin)
                    self.violation(rule_id, where, f"an override to `{severity}`", key)
                    severity = None
                weaker = next(
                    (k for k, v in (options or {}).items() if self.weakens(rule_id, k, v)), None
                )
                if weaker is not None:  # stricter options for some resources strengthen it
                    what = f"an override weakening option `{weaker}`"
                    where = setting.where.get(f"options.{weaker}", setting.origin)
                    self.violation(rule_id, where, what, f"{key}.opt")
                    options = None
                if severity is not None or options is not None:
                    rules[rule_id] = replace(
                        setting, severity=severity, options=options, guarded=True, key=key
                    )
            guarded.append(replace(override, rules=rules))
        self.overrides = guarded

    def rule_configs(self) -> dict[str, RuleConfig]:
        out: dict[str, RuleConfig] = {}
        for rule_id, rule in sorted(self.rules.items()):
            severity, severity_origin = self.severity.get(rule_id, ("off", DEFAULT_ORIGIN))
            if rule_id == LOCKED_RULE:
                severity, severity_origin = "error", DEFAULT_ORIGIN
            raw = {k: v for k, (v, _) in self.options.get(rule_id, {}).items()}
            origins = {k: o for k, (_, o) in self.options.get(rule_id, {}).items()}
            out[rule_id] = RuleConfig(
                rule=rule,
                severity=severity,
                severity_origin=severity_origin,
                locked=rule_id in self.locked or rule_id == LOCKED_RULE,
                locked_origin=self.locked.get(rule_id),
                options=convert_options(rule, raw, origins, severity_origin),
                raw_options=raw,
                option_origins=origins,
            )
        for override in self.overrides:  # checked now, not once a resource it matches appears
            for rule_id, setting in override.rules.items():
                if setting.options and rule_id in out:
                    base = out[rule_id]
                    convert_options(
                        base.rule,
                        {**base.raw_options, **setting.options},
                        {**base.option_origins, **option_origins(setting)},
                        setting.origin,
                    )
        return out


def option_origins(setting: OverrideRule) -> dict[str, Origin]:
    """Where an override sets each of its options (the line of the option's key)."""
    return {
        name: setting.where.get(f"options.{name}", setting.origin) for name in setting.options or {}
    }


def convert_options(
    rule: Rule,
    raw: Mapping[str, object],
    origins: Mapping[str, Origin],
    fallback: Origin | None = None,
) -> Options:
    """The rule's options from the merged raw values; a mistake is reported at the
    line that set the option (a missing one: at ``fallback``, the line that turned
    the rule on), with a close match for a mistyped name, as for built-in rules."""
    try:
        options = msgspec.convert(dict(raw), rule.options)
    except msgspec.ValidationError as exc:
        message = str(exc)
        unknown = re.fullmatch(r"Object contains unknown field `([^`]*)`", message)
        if unknown is not None:  # at the top level: the option's own name is mistyped
            name = unknown.group(1)
            origin = origins.get(name, fallback or DEFAULT_ORIGIN)
            allowed = list(getattr(rule.options, "__struct_encode_fields__", ()))
            hint = _key_hint(name, allowed)
            raise ConfigError(
                f"unknown option `{name}` of `{rule.id}`{hint}", origin.file, origin.line
            ) from None
        where = re.search(r"`\$\.(\w+)", message)  # "... - at `$.min_length`"
        found = origins.get(where.group(1)) if where else None
        if found is None and message.startswith("Object missing required field"):
            found = fallback  # no line sets it: the one that turns the rule on
        origin = found or next(iter(origins.values()), fallback or DEFAULT_ORIGIN)
        # "Expected `int`, got `str` - at `$.min_words`" -> "option `min_words`: expected ..."
        text = re.sub(r" - at `\$\.?([^`]*)`$", "", str(exc))
        text = text[:1].lower() + text[1:]
        what = f"option `{where.group(1)}` of `{rule.id}`" if where else f"options of `{rule.id}`"
        raise ConfigError(f"invalid {what}: {text}", origin.file, origin.line) from None
    schema = _options_schema(rule.options)
    for name, value in raw.items():
        for pattern in _regexes(schema.get(name), value, schema):
            problem = regex_problem(pattern)
            if problem is not None:
                origin = origins.get(name, DEFAULT_ORIGIN)
                raise ConfigError(
                    f"option `{name}` of `{rule.id}`: the regular expression `{pattern}` {problem}",
                    origin.file,
                    origin.line,
                )
    return options


@cache
def _options_schema(options: type[Options]) -> dict[str, Any]:
    """The options' JSON Schema properties by name, with ``$defs`` under ``$defs``."""
    try:
        schema = msgspec.json.schema(options)
    except (TypeError, ValueError):  # a plugin's option type without a JSON Schema
        return {"$defs": {}}
    defs = schema.get("$defs", {})
    top = defs.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)
    return {**top.get("properties", {}), "$defs": defs}


def _regexes(schema: object, value: object, root: Mapping[str, Any]) -> list[str]:
    """The strings in ``value`` that ``schema`` declares `format: regex` (plugins'
    and derived rules' options included, which the config schema leaves open)."""
    if not isinstance(schema, Mapping):
        return []
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _regexes(root["$defs"].get(ref.rsplit("/", 1)[-1]), value, root)
    found: list[str] = []
    if schema.get("format") == "regex" and isinstance(value, str):
        found.append(value)
    for branch in schema.get("anyOf", ()):
        found += _regexes(branch, value, root)
    if isinstance(value, list):
        for item in value:
            found += _regexes(schema.get("items"), item, root)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            found += _regexes(properties.get(key, schema.get("additionalProperties")), item, root)
    return found


def layers_from(config: RuleConfig | None) -> tuple[Layer, ...]:
    if config is None:
        return ()
    layers = getattr(config.options, "layers", {})
    return tuple(
        Layer(name, tuple(spec.paths), tuple(spec.prefixes)) for name, spec in layers.items()
    )


def load_config(
    project_dir: Path, config_path: Path | None = None, within: Path | None = None
) -> Config:
    """Resolve the configuration for ``project_dir`` (``normcheck.yml`` there,
    or ``config_path``; with neither, the packaged default rule set). `extends`
    may not leave ``within`` (default: the repository of the configuration file)."""
    if not project_dir.is_dir():  # a typo: `config --check` passed, `rules` showed the default
        raise UsageError(f"project directory `{project_dir}` does not exist")
    path = config_path or find_config(project_dir)
    if config_path is not None and not config_path.is_file():
        raise ConfigError("configuration file not found", str(config_path))
    if path is None:
        files = collect(rulesets_dir() / "default.yml", "normcheck:default", False)
    else:
        files = collect(path, display_path(path), True, within)
    plugin_paths = _plugin_paths(files)
    plugins = load_plugins(plugin_paths, builtin_rules())
    merger = _Merger(
        {**builtin_rules(), **plugins.rules},
        lenient=bool(plugins.failures),
        contested=plugins.contested,
        refused=plugins.refused,
    )
    for file in files:
        merger.apply(file)
    merger.guard_rules()
    merger.guard_overrides()
    merger.guard_norms()
    merger.guard_plans()
    rules = merger.rule_configs()
    settings = merger.settings
    fail_on, fail_on_origin = settings.get("fail_on", ("error", DEFAULT_ORIGIN))
    fail_on = str(fail_on)
    # a `fail_on` set outside a lock's files does not pass that locked rule's errors
    outranked = frozenset(
        rule_id
        for rule_id in merger.locked
        if fail_on_origin != DEFAULT_ORIGIN
        and merger.locked_elsewhere(rule_id, fail_on_origin.file)
    )

    def setting(key: str) -> str | None:
        value = settings.get(key, (None, DEFAULT_ORIGIN))[0]
        return None if value is None else str(value)

    plans = settings.get("tracking_plans", ((), DEFAULT_ORIGIN))[0]
    projects, projects_origin = settings.get("projects", ((), DEFAULT_ORIGIN))
    if projects_origin.file != files[-1].shown:
        # a monorepo's list, in a file a project's own configuration extends: that
        # project's run checks that project, not every project again
        projects = ()
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.shown.encode() + b"\x00" + file.path.read_bytes())
    digest.update(plugins.digest.encode())
    return Config(
        files=tuple(f.shown for f in files),
        rules=rules,
        overrides=tuple(merger.overrides),
        violations=tuple(merger.violations),
        team=setting("team"),
        dialect=setting("dialect"),
        tracking_plans=tuple(plans) if isinstance(plans, tuple) else (),
        fail_on=fail_on,
        baseline=setting("baseline"),
        owners=dict(sorted(merger.owners.items())),
        vocabulary=Vocabulary(dict(sorted(merger.preferred.items())), tuple(sorted(merger.banned))),
        settings_origins={**{k: o for k, (_, o) in settings.items()}, **merger.origins},
        layers=layers_from(rules.get(LAYER_RULE)),
        paths=(*(f.path for f in files), *plugin_paths),
        digest=digest.hexdigest(),
        projects=tuple(projects) if isinstance(projects, tuple) else (),
        scorecard=_scorecard(settings),
        fail_on_outranked=outranked,
        plugin_failures=tuple((f.plugin, f.traceback) for f in plugins.failures),
        rule_sources={**plugins.origins, **{k: f"uses {v}" for k, v in merger.derived.items()}},
    )


def _globs(value: object) -> tuple[str, ...]:
    return tuple(str(glob) for glob in value) if isinstance(value, (list, tuple)) else ()


def _plugin_paths(files: list[ConfigFile]) -> list[Path]:
    """`plugins:` of every file, relative to the file that names them, in merge order."""
    out: list[Path] = []
    for file in files:
        for index, entry in enumerate(file.data.get("plugins") or ()):
            path = (file.path.parent / str(entry)).resolve()
            if not path.is_file():  # said at the line that names it
                what = "is a folder, not a Python file" if path.is_dir() else "not found"
                raise ConfigError(
                    f"plugin `{entry}` {what} (looked for {path})",
                    file.shown,
                    file.doc.line(("plugins", index)),
                )
            if path not in out:
                out.append(path)
    return out


def _threshold(value: object, default: Threshold | None) -> Threshold:
    if not isinstance(value, Mapping):  # validated by the schema: absent, or a mapping
        return default or Threshold()
    return Threshold(**{k: v for k, v in value.items() if v is not None})


def _stricter(new: Threshold, old: Threshold) -> bool:
    """Whether a light at ``new`` comes on whenever it would at ``old``: each of
    ``old``'s conditions kept, at the same count or lower (``clean_below`` the
    same or higher). Conditions ``new`` adds only make it come on sooner."""
    for name in ("errors", "warnings", "infos"):
        was, now = getattr(old, name), getattr(new, name)
        if was is not None and (now is None or now > was):
            return False
    return old.clean_below is None or (
        new.clean_below is not None and new.clean_below >= old.clean_below
    )


def _scorecard(settings: Mapping[str, tuple[object, Origin]]) -> ScorecardThresholds:
    default = ScorecardThresholds()
    return ScorecardThresholds(
        red=_threshold(settings.get("scorecard.red", (None, DEFAULT_ORIGIN))[0], default.red),
        yellow=_threshold(
            settings.get("scorecard.yellow", (None, DEFAULT_ORIGIN))[0], default.yellow
        ),
    )
