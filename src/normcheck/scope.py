"""Which findings a run reports when it is limited to some files: the paths
pre-commit passes, or what git says changed since a ref."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from normcheck.errors import ArtifactError, UsageError
from normcheck.finding import Finding
from normcheck.project import Project, Resource


@dataclass(frozen=True)
class Scope:
    """Absolute paths of changed files. ``everything`` means no limit (no paths
    were given, or a configuration file or dbt_project.yml changed, which re-checks the
    whole project)."""

    files: frozenset[str]
    everything: bool = False
    rules: frozenset[str] = frozenset()  # rules whose findings count wherever they are
    resources: frozenset[str] = frozenset()  # unique ids whose findings (columns') count
    # changed tracking plans, from the project's folder: a cross-plan finding elsewhere
    # that names one of them (`duplicates X (tracking/web.yml:12)`) counts
    plans: frozenset[str] = frozenset()

    def covers(self, *paths: str) -> bool:
        return self.everything or any(p in self.files for p in paths)

    def holds(self, finding: Finding) -> bool:
        """Whether a finding counts besides its files: its rule's, or its resource's
        (or, for a column, its parent's)."""
        if finding.rule in self.rules:
            return True
        if finding.rule in CROSS_PLAN_RULES and any(
            f"{plan}:" in finding.message for plan in self.plans
        ):
            return True
        resource = finding.resource
        return resource in self.resources or resource.rsplit(".", 1)[0] in self.resources


# the tracking rules that judge the models' SQL against every plan: a changed plan
# (an event renamed, deprecated) can add their findings on any model
PLAN_WIDE_RULES = frozenset({"tracking/unknown-event", "tracking/deprecated-event-used"})
# the rules that judge one plan against the others: a changed plan can add a finding
# on another plan's event or property, which then names the changed plan's place
CROSS_PLAN_RULES = frozenset(
    {"tracking/duplicate-event", "tracking/duplicate-property", "tracking/property-type-conflict"}
)


EVERYTHING = Scope(frozenset(), everything=True)


def files_in(paths: Iterable[Path]) -> list[Path]:
    """The paths given, a folder standing for every file under it (`normcheck check
    models/marts`), but in hidden folders (`.git`)."""
    out = []
    for path in paths:
        if not path.is_dir():
            out.append(path)
            continue
        for folder, subfolders, files in os.walk(path):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            out += [Path(folder, name) for name in sorted(files)]
    return out


def scope_for(paths: Iterable[Path], config_files: Iterable[Path]) -> Scope:
    given = {str(p.resolve()): p for p in paths}
    if given.keys() & {str(p.resolve()) for p in config_files}:
        return Scope(frozenset(given), everything=True)
    # a removed file (`--since` lists it) defines nothing now, whatever a manifest
    # older than its removal says
    return Scope(frozenset(name for name, path in given.items() if path.exists()))


def widened(
    scope: Scope, project_dir: Path, manifest_path: Path, plan_files: Iterable[Path]
) -> Scope:
    """The scope with what the changed files affect besides what they define: a
    changed macro brings in the models (snapshots, ...) that call it, directly or
    through other macros, as the manifest's `depends_on.macros` says; a changed
    Markdown file, the resources its doc blocks describe; a changed YAML declaring
    a group, the group's models (they take its owner); a changed tracking plan,
    the findings on models of the rules judging their SQL against the plans
    (:data:`PLAN_WIDE_RULES`), and those of the rules comparing plans that name the
    changed plan (:data:`CROSS_PLAN_RULES`), not the other plans' own debt."""
    if scope.everything:
        return scope
    rules: frozenset[str] = frozenset()
    affected: set[str] = set()
    root = project_dir.resolve()
    changed_plans = scope.files & {str(p.resolve()) for p in plan_files}
    if changed_plans:
        rules = PLAN_WIDE_RULES
    plans = frozenset(
        Path(p).relative_to(root).as_posix() for p in changed_plans if Path(p).is_relative_to(root)
    )
    macros = _macro_files(scope.files, root)
    mine = {
        Path(f).relative_to(root).as_posix(): f for f in scope.files if Path(f).is_relative_to(root)
    }
    docs = {relative for relative in mine if relative.endswith(".md")}
    yamls = {relative for relative in mine if relative.endswith((".yml", ".yaml"))}
    from normcheck.cache import is_file

    # a manifest that is no file (`--manifest` a named pipe) was read by the run, once:
    # opened again it would wait for a second writer, for ever
    if (macros or docs or yamls) and is_file(manifest_path):
        import msgspec

        from normcheck.artifacts import unpacked
        from normcheck.artifacts.manifest import decode_scope

        try:
            found = decode_scope(unpacked(manifest_path.read_bytes(), str(manifest_path)))
            if macros:
                affected |= found.calling(macros)
            if docs:
                affected |= found.describing(docs)
            if yamls:  # a group's YAML: its owner is its models'
                affected |= found.members(yamls)
        except (OSError, msgspec.DecodeError, ArtifactError):  # the run read it: nothing to add
            pass
    return Scope(scope.files, rules=rules, resources=frozenset(affected), plans=plans)


def _macro_files(files: Iterable[str], root: Path) -> set[str]:
    """Of the changed files, the SQL under the project's macro folders, as paths
    from the project's folder (the manifest's `original_file_path`)."""
    candidates = [Path(f) for f in files if f.endswith(".sql")]
    if not candidates:
        return set()
    from normcheck.dbt_parse import macro_folders

    folders = macro_folders(root)
    return {
        path.relative_to(root).as_posix()
        for path in candidates
        if path.is_relative_to(root) and any(path.is_relative_to(f) for f in folders)
    }


def defining_files(
    resource: Resource, project: Project, under: dict[str, str] | None = None
) -> tuple[str, ...]:
    """The files that define a resource (absolute paths): its own file (SQL, or
    the YAML that declares it) and its properties YAML; a column also belongs to
    its parent's (SQL and properties YAML). Strings, not Paths: a big project has
    20,000 findings to place.
    ``under``: each relative path's absolute one, kept across calls (the findings
    of a model and its columns name the same few files)."""
    known = {} if under is None else under
    root = str(project.root)

    def absolute(relative: str) -> str:
        found = known.get(relative)
        if found is None:
            found = known[relative] = _under(root, relative)
        return found

    files = [absolute(resource.file)]
    if resource.yaml_file:
        files.append(absolute(resource.yaml_file))
    if resource.parent:
        parent = project.resources.get(resource.parent)
        if parent is not None:
            files.append(absolute(parent.file))
            if parent.yaml_file:  # the YAML that stops documenting a column owns it too
                files.append(absolute(parent.yaml_file))
    return tuple(files)


def _under(root: str, relative: str) -> str:
    return os.path.normpath(os.path.join(root, relative))  # noqa: PTH118 - 5x faster than Path


def limit(
    findings: Sequence[Finding], defined_in: Mapping[str, tuple[str, ...]], scope: Scope
) -> tuple[Finding, ...]:
    """The findings on what the changed files define (``defined_in``: fingerprint ->
    the files defining the finding's resource; file-level findings use their own file)."""
    if scope.everything:
        return tuple(findings)
    kept = []
    for finding in findings:
        files = defined_in.get(finding.fingerprint) or (str(Path(finding.file).resolve()),)
        if scope.covers(*files) or scope.holds(finding):
            kept.append(finding)
    return tuple(kept)


def _git(args: Sequence[str], cwd: Path) -> str:
    """git's output, file names decoded as the file system encodes them (a name
    that is not UTF-8 still names its file)."""
    try:
        import subprocess  # only with --since

        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("--since needs git, which is not installed") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        message = (said or ["git failed"])[-1]
        raise UsageError(f"git {' '.join(args)}: {message}")
    return os.fsdecode(done.stdout)


def _names(args: Sequence[str], cwd: Path) -> list[str]:
    """The paths a git command lists with ``-z``: NUL-separated and never quoted
    (without it git writes `"models/caf\\303\\251.sql"` for a name with non-ASCII
    letters, a quote, a backslash or a tab)."""
    return [name for name in _git([*args[:1], "-z", *args[1:]], cwd).split("\0") if name]


def _merge_base(ref: str, cwd: Path) -> str:
    """Where HEAD's history left ``ref``'s: what a pull request changed is its
    diff from there (`git diff REF...HEAD`), not from the tip of a base branch
    that has moved on since, whose own changes the branch does not hold."""
    try:
        return _git(["merge-base", ref, "HEAD"], cwd).strip()
    except UsageError:
        raise UsageError(
            f"--since: `{ref}` and HEAD share no commit (a shallow clone? fetch the "
            "history, e.g. `fetch-depth: 0`)"
        ) from None


def changed_since(ref: str, cwd: Path) -> list[Path]:
    """Files changed since HEAD's history left ``ref`` (their merge base): committed,
    staged, unstaged and untracked."""
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).rstrip("\n"))
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    except UsageError:
        raise UsageError(f"--since: unknown git ref `{ref}`") from None
    base = _merge_base(ref, cwd)
    names = _names(["diff", "--name-only", "--no-renames", base, "--"], cwd)
    names += _names(["ls-files", "--others", "--exclude-standard"], top)
    return sorted({top / name for name in names})
