"""Rules from outside normcheck: installed rule packs (the entry-point group
``normcheck.rules``) and local modules a rule set names under ``plugins:``.

A pack's rules are written with the same decorator and types as normcheck's
own (:mod:`normcheck.api`), live in their own namespace (``acme/...``), and get
the same severities, overrides, locks, suppressions and reports. A plugin that
fails to import is reported (plugin named, traceback written to a file) and the
other rules still run."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.machinery
import importlib.util
import sys
import traceback
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from normcheck.checks._api import Rule
from normcheck.errors import ConfigError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

GROUP = "normcheck.rules"
RULE_SETS_GROUP = "normcheck.rule_sets"
BUILTIN_FAMILIES = frozenset(
    {"naming", "ownership", "docs", "governance", "sql", "metrics", "tracking", "normcheck"}
)


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    traceback: str


@dataclass
class Plugins:
    rules: dict[str, Rule] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)  # rule id -> plugin name
    failures: list[PluginFailure] = field(default_factory=list)
    digest: str = ""
    # rule id -> the plugins that each define it: an error only where a rule set uses it
    contested: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # rule id -> its plugin, as named
    # rule id -> why an installed pack's rule was left out: an error only where it is used
    refused: dict[str, str] = field(default_factory=dict)


_REGISTERED: dict[str, Rule] = {}


def register(rule: Rule) -> None:
    """Make a rule known in this process without packaging it (normcheck.testing)."""
    _REGISTERED[rule.id] = rule


def unregister(rule: Rule) -> None:
    _REGISTERED.pop(rule.id, None)


def _rules_in(value: object) -> list[Rule]:
    if isinstance(value, Rule):
        return [value]
    if isinstance(value, ModuleType):
        return [v for v in vars(value).values() if isinstance(v, Rule)]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, Rule)]
    return []


def _add(
    found: Plugins,
    rules: Iterable[Rule],
    plugin: str,
    builtin: Mapping[str, Rule],
    label: str = "",
) -> None:
    """Register ``plugin``'s rules (``label``: how to name it, with its distribution).
    Two plugins defining one id (two packs installed in one environment) are no error
    here, where every project would fail: only in a rule set that uses the id."""
    named = label or f"`{plugin}`"
    for rule in sorted(rules, key=lambda r: r.id):
        if rule.family in BUILTIN_FAMILIES:
            family = f"normcheck's own family `{rule.family}`"
            advice = "give your rules a namespace of your own (e.g. acme/...)"
            if not label:  # a plugin the rule set lists: its own error, at the @rule
                code = getattr(rule.func, "__code__", None)
                raise ConfigError(
                    f"rule `{rule.id}` is in {family}: {advice}",
                    plugin,
                    None if code is None else code.co_firstlineno,
                )
            what = "redefines normcheck's rule" if rule.id in builtin else "defines"
            # an installed pack: an error only where a rule set uses the id
            found.refused[rule.id] = f"plugin {named} {what} `{rule.id}` in {family}: {advice}"
            continue
        known = found.rules.get(rule.id)
        if known is not None and known.func is rule.func:
            continue  # one rule reached two ways: registered by a test and installed
        if rule.id in found.contested:
            found.contested[rule.id].append(named)
        elif known is not None:  # neither is the rule: left out, said where it is used
            found.contested[rule.id] = [found.labels.pop(rule.id), named]
            del found.rules[rule.id], found.origins[rule.id]
        else:
            found.rules[rule.id] = rule
            found.origins[rule.id] = plugin
            found.labels[rule.id] = named


def rule_set_folder(pack: str) -> tuple[Path, str] | None:
    """The folder of the rule sets an installed package ships under ``pack``
    (entry-point group ``normcheck.rule_sets``, naming a package whose folder holds
    ``*.yml`` files), and how to name it; None when no installed package does."""
    from importlib.metadata import entry_points

    points = [p for p in entry_points(group=RULE_SETS_GROUP) if p.name == pack]
    if not points:
        return None
    labels = sorted({_point_label(p) for p in points})
    if len(labels) > 1:  # which one `acme:central` means would be chance
        raise ConfigError(
            f"rule-set pack `{pack}` is declared by more than one installed package "
            f"({', '.join(labels)}): uninstall all but one"
        )
    point, label = points[0], labels[0]
    top, _, below = point.value.partition(".")
    try:
        spec = importlib.util.find_spec(top)  # found, not imported: no code of the pack runs
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"rule-set pack {label} cannot be found: {exc}") from None
    folders = [] if spec is None else list(spec.submodule_search_locations or ())
    for part in below.split(".") if below else ():  # `acme_rules.rulesets`: a folder in it
        folders = [str(Path(f, part)) for f in folders if Path(f, part).is_dir()]
    if not folders:
        raise ConfigError(
            f"rule-set pack {label} does not name a package (a folder of rule-set files)"
        )
    return Path(folders[0]).resolve(), label


def _point_label(point: EntryPoint) -> str:
    return _of_distribution(f"`{point.name} = {point.value}`", point)


def _of_distribution(named: str, point: EntryPoint) -> str:
    """``named``, followed by the distribution (and version) that installed ``point``."""
    dist = getattr(point, "dist", None)
    installed = f"{getattr(dist, 'name', '')} {getattr(dist, 'version', '')}".strip()
    return f"{named} of {installed}" if installed else named


def installed_rule_set_packs() -> list[str]:
    from importlib.metadata import entry_points

    return sorted({p.name for p in entry_points(group=RULE_SETS_GROUP)})


def _module_name(path: Path) -> str:
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    return f"normcheck_plugin_{path.stem}_{digest}"


def _entry_points() -> list[EntryPoint]:
    if not may_declare_packs():
        return []
    from importlib.metadata import entry_points

    return list(entry_points(group=GROUP))


_STANDARD_FINDERS = (
    importlib.machinery.BuiltinImporter,
    importlib.machinery.FrozenImporter,
    importlib.machinery.PathFinder,
)


def may_declare_packs(path: Iterable[str] | None = None) -> bool:
    """Whether an installed distribution may declare rule packs: False only when
    no ``entry_points.txt`` of a distribution on ``path`` (``sys.path``) names the
    group. A look at those files takes about 2 ms; importing importlib.metadata
    to ask it takes about 20 ms of every run, most of which have no packs. Where
    the look cannot be sure (a zip or egg on the path, a finder of distributions
    other than Python's own), the answer is True and importlib.metadata decides."""
    for finder in sys.meta_path:
        if hasattr(finder, "find_distributions") and finder not in _STANDARD_FINDERS:
            return True
    group = GROUP.encode()
    for entry in sys.path if path is None else path:
        folder = Path(entry or ".")
        if folder.name.lower().endswith(".egg"):
            return True
        if not folder.is_dir():
            if folder.exists():  # a zip
                return True
            continue
        try:
            names = [c for c in folder.iterdir() if c.name.lower().endswith(_METADATA)]
        except OSError:
            return True
        for name in names:
            try:
                if group in (name / "entry_points.txt").read_bytes():
                    return True
            except OSError:  # none: no entry points
                continue
    return False


_METADATA = (".dist-info", ".egg-info")


def load_plugins(local: Iterable[Path], builtin: Mapping[str, Rule]) -> Plugins:
    """Entry-point packs first (sorted by name), then local modules in order."""
    found = Plugins()
    digest = hashlib.sha256()
    _add(found, _REGISTERED.values(), "registered in this process", builtin)
    for point in sorted(_entry_points(), key=lambda p: p.name):
        name = f"{point.name} ({point.value})"
        dist = getattr(point, "dist", None)
        label = _of_distribution(f"`{name}`", point)
        digest.update(f"{name}:{getattr(dist, 'version', '')}".encode())
        try:
            loaded = point.load()
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException:  # sys.exit() or argparse at import too: the plugin's crash
            found.failures.append(PluginFailure(name, traceback.format_exc()))
            continue
        digest.update(_pack_files(point.module))
        _add(found, _rules_in(loaded), name, builtin, label)
    for path in local:
        shown = _shown(path)
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            raise ConfigError(f"plugin not found: {exc.strerror}", shown) from None
        digest.update(_siblings(path))
        module_name = _module_name(path)
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ConfigError("plugin is not a Python module", shown)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        # no __pycache__ beside the plugin: normcheck writes nothing in the project
        previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True
        try:
            with _importing_beside(path.parent, module_name):
                spec.loader.exec_module(module)
        except SyntaxError as exc:  # the user's file, not yet a program: an input error
            del sys.modules[module_name]
            where = shown
            if exc.filename and Path(exc.filename).resolve() != path.resolve():
                where = _shown(Path(exc.filename))  # in a module the plugin imports
            raise ConfigError(
                f"plugin does not compile: SyntaxError: {exc.msg}", where, exc.lineno
            ) from None
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException:  # sys.exit() or argparse at import too: the plugin's crash
            del sys.modules[module_name]
            found.failures.append(PluginFailure(shown, traceback.format_exc()))
            continue
        finally:
            sys.dont_write_bytecode = previous
        _add(found, _rules_in(module), shown, builtin)
    found.digest = digest.hexdigest()
    return found


def _pack_files(module: str) -> bytes:
    """What changes when an installed pack's code does (an editable install edited,
    the same version installed again from another commit): the path, size and
    modification time of each Python file of its top-level package, found without
    reading them (a warm run's cache key)."""
    try:
        spec = importlib.util.find_spec(module.split(".", 1)[0])
    except (ImportError, ValueError):
        return b""
    if spec is None:
        return b""
    files: list[Path] = []
    if spec.submodule_search_locations:  # a package: every module under it
        for folder in spec.submodule_search_locations:
            files += Path(folder).rglob("*.py")
    elif spec.origin:
        files.append(Path(spec.origin))
    out = []
    for file in sorted(files):
        try:
            stat = file.stat()
        except OSError:
            continue
        out.append(f"{file}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(out).encode()


@contextlib.contextmanager
def _importing_beside(folder: Path, own: str) -> Iterator[None]:
    """While a local plugin runs its imports, the modules beside it import by name
    (`from _helpers import X`), as in a script. They are forgotten afterwards, so
    that another plugin's folder may have a `_helpers` of its own. Only those: a
    library found elsewhere below the folder (the project's own `.venv`) stays
    imported, as normcheck and the other plugins use it."""
    before = set(sys.modules)
    entry = str(folder.resolve())
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)
        for name in set(sys.modules) - before - {own}:
            if _beside(sys.modules[name], name, folder.resolve()):
                del sys.modules[name]


def _beside(module: ModuleType, name: str, folder: Path) -> bool:
    """Whether ``module`` is one in ``folder`` itself (``helpers.py``, ``helpers/``
    and what it holds), not merely somewhere below it."""
    where = getattr(module, "__file__", None)
    if not where:
        return False
    try:
        first = Path(where).resolve().relative_to(folder).parts[0]
    except (ValueError, IndexError):
        return False
    return first.partition(".")[0] == name.partition(".")[0]


def _siblings(path: Path) -> bytes:
    """The other Python files beside a local plugin, which it may import (helpers):
    their bytes are in the warm run's cache key as the plugin's own are."""
    digest = hashlib.sha256()
    for sibling in sorted(path.parent.glob("*.py")):
        if sibling.name == path.name:
            continue
        try:
            digest.update(sibling.name.encode() + b"\x00" + sibling.read_bytes())
        except OSError:
            continue
    return digest.digest()


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def import_entry(value: str) -> object:
    """`package.module` or `package.module:attribute` (for tests and tools)."""
    module_name, _, attribute = value.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module
