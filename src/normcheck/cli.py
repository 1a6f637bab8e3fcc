"""The command line. Only this module prints and exits."""

from __future__ import annotations

import atexit
import contextlib
import errno
import json
import os
import re
import signal
import stat
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType

import click
import msgspec

from normcheck import __version__
from normcheck import baseline as baseline_mod
from normcheck._files import new_file_mode, replace_whole
from normcheck.baseline import DEFAULT_BASELINE
from normcheck.checks._api import Rule
from normcheck.checks.registry import LOCKED_RULE, builtin_rules
from normcheck.config.loader import display_path, find_config, load_config
from normcheck.config.model import Config, RuleConfig
from normcheck.config.schema import build_schema
from normcheck.dbt_parse import PARSE_MODES
from normcheck.docs import rule_markdown
from normcheck.engine import at_or_above
from normcheck.errors import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USER_ERROR,
    UsageError,
    UserError,
)
from normcheck.report import FORMATS, SCORECARD_FORMATS, render, render_scorecard
from normcheck.report._common import crashed, last_line, printable, stale_note
from normcheck.run import (
    Result,
    RunOptions,
    first_few,
    project_configs,
    retain_for_exit,
    run,
)
from normcheck.starter import starter

FAIL_ON = ("error", "warning", "info", "never")


def _split(values: Sequence[str]) -> list[str]:
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def _outputs(
    values: Sequence[str], formats: Mapping[str, object] = FORMATS
) -> list[tuple[str, Path]]:
    out = []
    for value in values:
        fmt, sep, path = value.partition(":")
        if not sep or not path:
            raise UsageError(f"--output `{value}`: expected FORMAT:PATH, e.g. json:report.json")
        if fmt not in formats:
            raise UsageError(
                f"--output `{value}`: unknown format `{fmt}`; use {', '.join(formats)}"
            )
        out.append((fmt, Path(path)))
    return out


def _write_outputs(
    outputs: Sequence[tuple[str, Path]],
    rendered: Callable[[str], str],
    result: Result,
    options: RunOptions,
) -> None:
    """Write each --output file (its folders made as needed), before the console
    report: a path that cannot be written is the one line a user sees. None is
    written over what the run read (`--output json:normcheck.yml`, a typo, would
    lose the configuration): checked for all before any is written."""
    files, folders = _inputs(result, options) if outputs else (set(), [])
    named: dict[Path, str] = {}
    for fmt, path in outputs:
        if _is_input(path.resolve(), files, folders):
            raise UsageError(
                "is an input of this run: refusing to write a report over it", str(path)
            )
        if not _a_file(path):  # `/dev/null`, `/dev/stdout`, a pipe: each report written to it
            continue
        if path.resolve() in named:  # the second would be written over the first
            raise UsageError(
                f"named by two --output options ({named[path.resolve()]} and {fmt}): "
                "give each report a file of its own",
                str(path),
            )
        named[path.resolve()] = fmt
    for fmt, path in outputs:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_whole(path, rendered(fmt))
        except OSError as exc:
            raise UsageError(f"cannot write report: {exc.strerror}", str(path)) from None


def _a_file(path: Path) -> bool:
    """Whether ``path`` is a regular file, or none yet (what a report creates)."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:  # none yet (or none to be had: its write says why)
        return True


def _write_whole(path: Path, text: str) -> None:
    """Write a report (or a starter configuration) whole or not at all: into a
    temporary file beside it, then renamed over it (through a symbolic link, the
    file it names), so a full disk or an interruption leaves the previous file as
    it was, never a truncated one a CI step uploads (`if: always()`). What is not a
    file (`/dev/stdout`, a pipe) is written as it is; so is a writable file in a
    folder that is not."""
    try:
        existing = path.stat()
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        path.write_text(text, encoding="utf-8")
        return
    try:
        replace_whole(path.resolve(), text, new_file_mode(existing))
    except PermissionError:
        if existing is None:
            raise
        path.write_text(text, encoding="utf-8")


def _inputs(result: Result, options: RunOptions) -> tuple[set[Path], list[Path]]:
    """What the run read (absolute): configuration files, manifests, catalogs,
    baselines and tracking plans, and each project's dbt folders, whose files it
    reads for lines (and dbt would read a report written there)."""
    from normcheck.dbt_parse import dbt_folders
    from normcheck.tracking.load import find_plan_files

    files: set[Path] = set()
    folders: list[Path] = []
    for part in (result, *result.parts):
        project = part.project_dir.resolve()
        files.update(part.config.paths)
        if part.baseline_path is not None:
            files.add(part.baseline_path)
        given = options.manifest if project == options.project_dir.resolve() else None
        manifest = given or project / "target" / "manifest.json"
        files |= {manifest, manifest.parent / "catalog.json", project / "dbt_project.yml"}
        with contextlib.suppress(UserError):  # the run read them: any error was said
            files.update(find_plan_files(project, part.config.tracking_plans))
        folders += dbt_folders(project) or []
    return {f.resolve() for f in files}, folders


def _is_input(path: Path, files: set[Path], folders: list[Path]) -> bool:
    return path in files or (path.is_file() and any(path.is_relative_to(f) for f in folders))


def _write_crash(text: str) -> str:
    """Write a crash's traceback to a file of its own; where it went ("written to
    PATH"), or why it could not be written (a full disk, no writable temporary
    folder): the one line is said either way, never a second traceback instead."""
    import tempfile  # only when crashing

    try:
        fd, name = tempfile.mkstemp(prefix="normcheck-crash-", suffix=".log")
        # backslashreplace: a traceback may quote half a character (a lone surrogate)
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(f"normcheck {__version__} at {time.strftime('%Y-%m-%dT%H:%M:%S')}\n{text}")
    except OSError as exc:
        return f"not written ({exc.strerror or exc})"
    return f"written to {name}"


project_dir_option = click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="The dbt project directory.",
)
manifest_option = click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="manifest.json (gzip-compressed too).",
)
config_option = click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration file (default: normcheck.yml in the project directory).",
)


no_color_option = click.option("--no-color", is_flag=True, help="No colour, even on a terminal.")


def quiet_option(what: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    return click.option("-q", "--quiet", is_flag=True, help=f"Print nothing on stdout; {what}.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="normcheck")
def cli() -> None:
    """Check dbt projects, SQL and tracking plans against your team's norms."""


def _color(no_color: bool) -> bool:
    """Colour on a terminal, unless --no-color or NO_COLOR (https://no-color.org)."""
    return not no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@project_dir_option
@config_option
@manifest_option
@click.option("--select", multiple=True, help="Only these rule ids or families (comma-separated).")
@click.option("--ignore", multiple=True, help="Skip these rule ids or families (comma-separated).")
@click.option("--fail-on", type=click.Choice(FAIL_ON), help="Exit 1 at or above this severity.")
@click.option(
    "--format", "fmt", type=click.Choice(sorted(FORMATS)), default="text", show_default=True
)
@click.option("--output", multiple=True, help="Also write FORMAT:PATH (repeatable).")
@no_color_option
@quiet_option("exit code only")
@click.option(
    "--since",
    metavar="GIT_REF",
    help="Only what changed since the branch left this git ref (their merge base), "
    "committed or not.",
)
@click.option(
    "--parse",
    type=click.Choice(PARSE_MODES),
    default="auto",
    show_default=True,
    help="Run `dbt parse` when the manifest is missing or stale (auto), always, or never.",
)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Hide the findings recorded in this baseline (default: `baseline:` in config).",
)
@click.option("--no-cache", is_flag=True, help="Do not read or write the warm-run cache.")
@click.option("--statistics", is_flag=True, help="Print run statistics on stderr.")
def check(
    paths: tuple[Path, ...],
    project_dir: Path,
    config: Path | None,
    manifest: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    fail_on: str | None,
    fmt: str,
    output: tuple[str, ...],
    no_color: bool,
    quiet: bool,
    since: str | None,
    parse: str,
    baseline_file: Path | None,
    no_cache: bool,
    statistics: bool,
) -> int:
    """Lint the project. PATHS (as pre-commit passes them) limit the report to
    what those files define or affect (a folder: the files under it; a macro:
    the models calling it; a Markdown file: what its doc blocks describe; a
    tracking plan: the findings judging it against the models and other plans);
    a changed normcheck.yml or dbt_project.yml re-checks everything."""
    outputs = _outputs(output)
    options = RunOptions(
        project_dir=project_dir,
        config=config,
        manifest=manifest,
        select=_split(select),
        ignore=_split(ignore),
        paths=paths,
        since=since,
        parse=parse,
        baseline=baseline_file,
        use_cache=not no_cache,
    )
    started = time.perf_counter()
    result = run(options)
    for note in result.notes:
        click.echo(f"normcheck: {note}", err=True)
    if statistics:
        _print_statistics(result, time.perf_counter() - started)
    _write_outputs(outputs, lambda out_fmt: render(result, out_fmt, False), result, options)
    if len(result.findings) > SARIF_RESULT_LIMIT and "sarif" in {fmt, *(f for f, _ in outputs)}:
        click.echo(
            f"normcheck: the SARIF report holds {len(result.findings):,} results; GitHub code "
            f"scanning refuses an upload of more than {SARIF_RESULT_LIMIT:,}: write a "
            "baseline of the accepted debt (`normcheck baseline`; baselined findings are "
            "left out of SARIF)",
            err=True,
        )
    color = _color(no_color)
    if not quiet:
        click.echo(render(result, fmt, color), nl=False)
    if result.stale_baseline:
        click.echo(f"normcheck: {stale_note(len(result.stale_baseline))}", err=True)
    return _exit_code(result, fail_on)


# results in one run of a SARIF upload that GitHub code scanning accepts
SARIF_RESULT_LIMIT = 25_000


def _print_statistics(result: Result, seconds: float) -> None:
    stats = result.stats
    lines = [
        f"resources checked   {result.checked}",
        f"rules run           {result.rule_count}",
        f"findings            {len(result.findings)} "
        f"({result.suppressed} suppressed, {result.baselined} baselined)",
    ]
    models = stats.get("sql_models", 0)
    if models:
        parsed = stats.get("sql_parsed", 0)
        lines.append(f"SQL parsed          {parsed} of {models} models ({parsed / models:.1%})")
    else:
        lines.append("SQL parsed          - (no sql/ rule selected)")
    lines.append(f"from cache          {'yes' if stats.get('cached') else 'no'}")
    lines.append(f"time                {seconds:.2f} s")
    for line in lines:
        click.echo(f"normcheck: {line}", err=True)


def _exit_code(result: Result, fail_on: str | None) -> int:
    """Crashes are 3; else 1 when findings reach ``fail_on`` (the option's, else
    the configuration's: in a monorepo each project's own, on its findings; a
    locked rule's errors always)."""
    if result.crashes:
        log = _write_crash(
            "\n".join(f"rule {c.rule} on {c.resource}:\n{c.traceback}" for c in result.crashes)
        )
        for each in crashed(result):  # every crashed rule, each once
            click.echo(f"normcheck: internal error: {each.text}", err=True)
        click.echo(
            f"normcheck: {len(result.crashes)} crash(es); this is a bug in the rule or plugin "
            f"(in normcheck, for its own rules). Traceback {log}",
            err=True,
        )
        return EXIT_INTERNAL_ERROR
    if fail_on is not None:  # the command line's: it decides, for reports too
        failed = at_or_above(result.findings, fail_on)
    else:
        failed = any(_fails(part) for part in result.parts or (result,))
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def _fails(result: Result) -> bool:
    """Findings reach the configuration's `fail_on`; a locked rule's error (or a
    `normcheck/locked-rule`) fails whatever `fail_on` a team's file sets: a local
    `fail_on: never` would otherwise weaken every lock at once. One the locking
    files set themselves (a rollout) stands."""
    if at_or_above(result.findings, result.config.fail_on):
        return True
    outranked = result.config.fail_on_outranked
    if not outranked:
        return False
    return any(
        f.severity == "error" and (f.rule in outranked or f.rule == LOCKED_RULE)
        for f in result.findings
    )


@cli.command("report")
@project_dir_option
@config_option
@manifest_option
@click.option("--select", multiple=True, help="Only these rule ids or families (comma-separated).")
@click.option("--ignore", multiple=True, help="Skip these rule ids or families (comma-separated).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(SCORECARD_FORMATS)),
    default="text",
    show_default=True,
)
@click.option("--output", multiple=True, help="Also write FORMAT:PATH (repeatable).")
@no_color_option
@quiet_option("the --output files only")
@click.option("--parse", type=click.Choice(PARSE_MODES), default="auto", show_default=True)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Count the findings recorded in this baseline as baselined.",
)
@click.option("--no-cache", is_flag=True, help="Do not read or write the warm-run cache.")
def report_command(
    project_dir: Path,
    config: Path | None,
    manifest: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    fmt: str,
    output: tuple[str, ...],
    no_color: bool,
    quiet: bool,
    parse: str,
    baseline_file: Path | None,
    no_cache: bool,
) -> int:
    """The traffic-light scorecard: per team and rule family, red (errors),
    yellow (warnings) or green (clean), with counts and the share of clean
    resources; as a terminal table, Markdown or a self-contained HTML page.
    Thresholds: `scorecard:` in normcheck.yml. Exits 0 whatever the lights."""
    outputs = _outputs(output, SCORECARD_FORMATS)
    options = RunOptions(
        project_dir=project_dir,
        config=config,
        manifest=manifest,
        select=_split(select),
        ignore=_split(ignore),
        parse=parse,
        baseline=baseline_file,
        use_cache=not no_cache,
    )
    result = run(options)
    for note in result.notes:
        click.echo(f"normcheck: {note}", err=True)
    _write_outputs(
        outputs, lambda out_fmt: render_scorecard(result, out_fmt, False), result, options
    )
    if not quiet:
        click.echo(render_scorecard(result, fmt, _color(no_color)), nl=False)
    return _exit_code(result, "never")


@cli.command("metrics")
@project_dir_option
@config_option
@manifest_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True
)
@click.option("--no-color", is_flag=True, help="No colour, even on a terminal.")
@click.option("--parse", type=click.Choice(PARSE_MODES), default="auto", show_default=True)
@click.option("--no-cache", is_flag=True, help="Do not read or write the warm-run cache.")
def metrics_command(
    project_dir: Path,
    config: Path | None,
    manifest: Path | None,
    fmt: str,
    no_color: bool,
    parse: str,
    no_cache: bool,
) -> int:
    """The metric tree: each North Star metric, the input metrics that drive it
    (`meta.drives`), their owners, thresholds and finding status (red, yellow,
    green); a text tree, or Markdown with a Mermaid graph for a PR or a wiki.
    Exits 0 whatever the findings."""
    from normcheck.metric_tree import metric_trees, render

    options = RunOptions(
        project_dir=project_dir,
        config=config,
        manifest=manifest,
        parse=parse,
        use_cache=not no_cache,
    )
    trees, result = metric_trees(options)
    for note in result.notes:
        click.echo(f"normcheck: {note}", err=True)
    color = _color(no_color)

    def style(text: str, light: str) -> str:
        return click.style(text, fg=light, bold=True) if color else text

    click.echo(render(trees, fmt, style), nl=False)
    return _exit_code(result, "never")


def _catalogue(project_dir: Path, config: Path | None) -> tuple[dict[str, Rule], Config]:
    """Built-in rules plus the plugin and derived rules of the project's configuration
    (and that configuration)."""
    resolved = load_config(project_dir, config)
    rules = {**builtin_rules(), **{rid: rc.rule for rid, rc in resolved.rules.items()}}
    return rules, resolved


@cli.command("rules")
@project_dir_option
@config_option
@no_color_option
def rules_command(project_dir: Path, config: Path | None, no_color: bool) -> int:
    """The rule catalogue: id, family, the rule's default severity and the one it has
    here (`off` unless a rule set of the configuration turns it on), one line each,
    with the rules your rule sets add through plugins and `uses:`. Plain text:
    --no-color is accepted, as by every command that prints."""
    catalogue, resolved = _catalogue(project_dir, config)
    failed = _plugin_failures(resolved.plugin_failures)
    rules = dict(sorted(catalogue.items()))
    width = max(len(r) for r in rules)
    click.echo(f"{'rule':<{width}}  {'family':<11} {'default':<8} {'here':<8} summary")
    for rule in rules.values():
        here = resolved.rules[rule.id].severity if rule.id in resolved.rules else "off"
        click.echo(
            f"{rule.id:<{width}}  {rule.family:<11} {rule.severity:<8} {here:<8} {rule.summary}"
        )
    return failed


@cli.command()
@click.argument("rule_id")
@project_dir_option
@config_option
def explain(rule_id: str, project_dir: Path, config: Path | None) -> int:
    """A rule's docs: what it finds, why, an example, the fix, its options."""
    rules, resolved = _catalogue(project_dir, config)
    failed = _plugin_failures(resolved.plugin_failures)
    rule = rules.get(rule_id)
    if rule is None and failed:
        click.echo(
            f"normcheck: unknown rule `{rule_id}`: a plugin that failed to import may define it",
            err=True,
        )
        return failed
    if rule is None:
        import difflib  # only for a mistyped rule id

        close = difflib.get_close_matches(rule_id, list(rules), n=1)
        hint = f"; did you mean `{close[0]}`?" if close else "; see `normcheck rules`"
        raise UsageError(f"unknown rule `{rule_id}`{hint}")
    click.echo(rule_markdown(rule), nl=False)
    return failed


def _config_json(config: Config) -> dict[str, object]:
    return {
        "files": list(config.files),
        "settings": {
            "team": config.team,
            "dialect": config.dialect,
            "fail_on": config.fail_on,
            "baseline": config.baseline,
            "tracking_plans": list(config.tracking_plans),
            "scorecard": {
                level: {
                    k: v for k, v in vars(getattr(config.scorecard, level)).items() if v is not None
                }
                for level in ("red", "yellow")
            }
            | {"locked": "scorecard.locked" in config.settings_origins},
        },
        "settings_origins": {k: str(v) for k, v in sorted(config.settings_origins.items())},
        "owners": {k: dict(v) for k, v in config.owners.items()},
        "vocabulary": {
            "preferred": dict(config.vocabulary.preferred),
            "banned": list(config.vocabulary.banned),
        },
        "rules": {
            rid: {
                "severity": rc.severity,
                "severity_from": str(rc.severity_origin),
                "locked": rc.locked,
                "locked_from": str(rc.locked_origin) if rc.locked_origin else None,
                "options": {
                    name: {
                        "value": value,
                        "from": str(rc.option_origins.get(name, "(default)")),
                    }
                    for name, value in sorted(_options_dict(rc).items())
                },
            }
            for rid, rc in config.rules.items()
        },
        "overrides": [
            {
                "from": str(o.origin),
                "match": {
                    k: list(v)
                    for k, v in (
                        ("paths", o.paths),
                        ("tags", o.tags),
                        ("groups", o.groups),
                        ("owners", o.owners),
                    )
                    if v
                },
                "rules": {
                    rid: {"severity": s.severity, "options": s.options, "from": str(s.origin)}
                    for rid, s in sorted(o.rules.items())
                },
            }
            for o in config.overrides
        ],
        "lock_violations": [
            {"rule": v.rule_id, "from": str(v.origin), "message": v.message}
            for v in config.violations
        ],
    }


def _options_dict(rc: RuleConfig) -> dict[str, object]:
    built = msgspec.to_builtins(rc.options)
    return dict(built) if isinstance(built, dict) else {}


def _config_text(config: Config) -> str:
    data = _config_json(config)
    lines = ["files (merged in this order, later wins):"]
    lines += [f"  {f}" for f in config.files]
    lines.append("")
    origins = config.settings_origins
    for key in ("team", "dialect", "fail_on", "baseline", "tracking_plans"):
        value = getattr(config, key)
        shown = ", ".join(value) if isinstance(value, tuple) else value
        lines.append(
            f"{key:<15} {shown if shown not in (None, '') else '-'}  "
            f"[{origins.get(key, '(default)')}]"
        )
    lines.append("owners:" if config.owners else "owners:        -")
    for team, info in config.owners.items():
        email = info.get("email", "") if info else ""
        lines.append(f"  {team:<13} {email or '-'}  [{origins.get(f'owners.{team}')}]")
    vocab = config.vocabulary
    lines.append("vocabulary:" if vocab.preferred or vocab.banned else "vocabulary:    -")
    for word, better in vocab.preferred.items():
        lines.append(f"  prefer {better} over {word}  [{origins.get(f'preferred.{word}')}]")
    for word in vocab.banned:
        lines.append(f"  banned {word}  [{origins.get(f'banned.{word}')}]")
    lines.append("scorecard:")
    for level in ("red", "yellow"):
        threshold = getattr(config.scorecard, level)
        parts = [
            f"{k}>={v}" if k != "clean_below" else f"clean<{v}%"
            for k, v in vars(threshold).items()
            if v is not None
        ]
        origin = origins.get(f"scorecard.{level}", "(default)")
        lines.append(f"  {level:<13} {', '.join(parts) or '-'}  [{origin}]")
    if "scorecard.locked" in origins:
        lines.append(f"  locked        [{origins['scorecard.locked']}]")
    for rid, source in sorted(config.rule_sources.items()):
        lines.append(f"rule {rid} comes from {source}")
    lines.append("")
    lines.append("rules:")
    for rid, rc in config.rules.items():
        lock = f"  locked [{rc.locked_origin}]" if rc.locked_origin else ""
        lines.append(f"  {rid}  {rc.severity}  [{rc.severity_origin}]{lock}")
        for name, value in sorted(_options_dict(rc).items()):
            origin = rc.option_origins.get(name, "(default)")
            # in the configuration's order: `layers` are matched first to last
            lines.append(f"      {name} = {json.dumps(value)}  [{origin}]")
    if data["overrides"]:
        lines.append("")
        lines.append("overrides (later wins):")
        for override in config.overrides:
            match = ", ".join(f"{k}={list(v)}" for k, v in override.criteria())
            lines.append(f"  [{override.origin}] match {match}")
            for rid, setting in sorted(override.rules.items()):
                what = setting.severity or ""
                if setting.options:
                    what += f" options={json.dumps(setting.options, sort_keys=True)}"
                lines.append(f"      {rid} {what.strip()}  [{setting.origin}]")
    if config.violations:
        lines.append("")
        lines.append("attempts to weaken locked rules (no effect):")
        lines += [f"  [{v.origin}] {v.message}" for v in config.violations]
    return "\n".join(lines) + "\n"


@cli.command("config")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@project_dir_option
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--check", "check_only", is_flag=True, help="Only validate FILES (pre-commit).")
@no_color_option
@quiet_option("validate the configuration, exit code only")
def config_command(
    files: tuple[Path, ...],
    project_dir: Path,
    config: Path | None,
    fmt: str,
    check_only: bool,
    no_color: bool,
    quiet: bool,
) -> int:
    """The resolved configuration, each value with the file:line that set it.

    With --check, validate each of FILES (normcheck.yml or rule sets, following
    `extends`), or without FILES the project's configuration (every file it extends,
    and each monorepo project's own), and print nothing when they are valid; an attempt
    to weaken a locked rule is printed and exits 1, as `check` would."""
    if files and not check_only:
        raise UsageError(
            "FILES are validated with --check; to see one file's resolved configuration, "
            "pass --config FILE"
        )
    if check_only:
        checked = [load_config(file.parent, file) for file in files]
        if not files:  # the project's configuration, and each monorepo project's own
            root = load_config(project_dir, config)
            checked.append(root)
            root_config = config or find_config(project_dir)
            if root_config is None:
                click.echo(
                    f"normcheck: no normcheck.yml in {display_path(project_dir.resolve())}: "
                    "nothing to validate (pass --project-dir or --config)",
                    err=True,
                )
            for _, _, loaded in project_configs(root, root_config):  # loading validates
                checked.append(loaded)
        # a plugin that does not import: `check` would run without its rules, exit 3
        failed = _plugin_failures([f for c in checked for f in c.plugin_failures])
        if failed:
            return failed
        # valid, but weakening a locked rule: `check` would fail on it, so this does too
        tried = sorted({(v.origin, v.message) for c in checked for v in c.violations})
        for origin, message in [] if quiet else tried:
            click.echo(f"{origin}: error {LOCKED_RULE} {message}")
        return EXIT_FINDINGS if tried else EXIT_CLEAN
    resolved = load_config(project_dir, config)
    failed = _plugin_failures(resolved.plugin_failures)
    if quiet:
        return failed
    if fmt == "json":
        # not sort_keys: an option's mapping keeps the configuration's order (the first
        # of `layers` whose paths match is a model's layer); the rest is built sorted
        click.echo(json.dumps(_config_json(resolved), indent=2))
    else:
        click.echo(_config_text(resolved), nl=False)
    return failed


def _plugin_failures(failures: Sequence[tuple[str, str]]) -> int:
    """Say each plugin that failed to import, one line each on stderr (the traceback
    written to a file), and give `check`'s exit code for it: 3, a crash of the plugin
    (`check` runs without its rules). EXIT_CLEAN when every plugin imported."""
    unique = list(dict.fromkeys(failures))  # a monorepo's projects may share a plugin
    if not unique:
        return EXIT_CLEAN
    log = _write_crash("\n".join(f"plugin {name}:\n{text}" for name, text in unique))
    for name, text in unique:
        click.echo(
            f"normcheck: internal error: plugin `{name}` failed to import ({last_line(text)}); "
            f"its rules are missing. This is a bug in the plugin. Traceback {log}",
            err=True,
        )
    return EXIT_INTERNAL_ERROR


@cli.command("baseline")
@project_dir_option
@config_option
@manifest_option
@click.option(
    "--output",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Baseline file (default: `baseline:` in config, else {DEFAULT_BASELINE}).",
)
@click.option("--prune", is_flag=True, help="Only drop entries that no longer match.")
@click.option("--parse", type=click.Choice(PARSE_MODES), default="auto", show_default=True)
@no_color_option
@quiet_option("write the baseline without a word")
def baseline_command(
    project_dir: Path,
    config: Path | None,
    manifest: Path | None,
    target: Path | None,
    prune: bool,
    parse: str,
    no_color: bool,
    quiet: bool,
) -> int:
    """Write the baseline of current findings, so only new ones fail."""
    say = _silent if quiet else click.echo
    options = RunOptions(
        project_dir=project_dir,
        config=config,
        manifest=manifest,
        parse=parse,
        use_baseline=False,
    )
    result = run(options)
    if result.crashes:
        return _exit_code(result, "never")
    parts = result.parts or (result,)
    if target is not None:  # one file, for every project of a monorepo too
        _write_baseline(target, parts, prune, say)
        return EXIT_CLEAN
    for part in parts:  # each project's own, where `check` reads it
        path = part.project_dir / (part.config.baseline or DEFAULT_BASELINE)
        if prune and len(parts) > 1 and not path.is_file():  # a project new to the monorepo
            say(f"no baseline at {display_path(path.resolve())}: nothing to prune")
            continue
        _write_baseline(path, [part], prune, say)
    if prune:
        return EXIT_CLEAN
    if not result.parts and not result.config.baseline:
        say(f"add `baseline: {DEFAULT_BASELINE}` to normcheck.yml, or pass --baseline")
    for part in result.parts:  # a monorepo: each project's configuration decides for it
        if not part.config.baseline:
            entry = part.config.files[-1] if part.config.files else "normcheck.yml"
            say(
                f"`check` reads no baseline in {display_path(part.project_dir.resolve())}: "
                f"add `baseline: {DEFAULT_BASELINE}` to {entry}, or pass --baseline"
            )
    return EXIT_CLEAN


def _write_baseline(
    path: Path, results: Sequence[Result], prune: bool, say: Callable[[str], None]
) -> None:
    """Write (or, with ``prune``, only shrink) the baseline at ``path`` from these
    results' findings, leaving out locked rules' findings. The entries of rules
    that did not run (`off`, a plugin not loaded) stay: nothing says they are paid
    off. Reasons written in entries stay with them."""
    entries = []
    left = 0
    ran: set[str] = set()
    known: set[str] = set()
    ran_in: dict[str, set[str]] = {}  # each project's (package's) rules that ran
    for result in results:
        locked = result.config.locked_rules
        entries += baseline_mod.entries_for(result.findings, locked)
        left += sum(1 for f in result.findings if f.rule in locked)
        ran.update(result.rules_run)
        known.update(result.config.rules)
        for package in {_package(uid) for uid in result.resources}:
            ran_in.setdefault(package, set()).update(result.rules_run)

    def judged(entry: baseline_mod.Entry) -> bool:
        """Whether this run can tell the entry is paid off: its rule ran on the
        project it belongs to (one file for a monorepo's projects holds them all),
        or no longer exists (a rule removed or renamed; a plugin that failed to
        load stops the run before)."""
        return entry.rule in ran_in.get(_package(entry.resource), ran) or entry.rule not in known

    shown = display_path(path.resolve())
    if prune:
        old = baseline_mod.load(path, shown)
    else:
        try:
            old = baseline_mod.load(path, shown) if path.is_file() else []
        except baseline_mod.BrokenBaseline as exc:  # a merge's conflict markers: written anew
            old = baseline_mod.salvage(path)  # what its lines still say: reasons above all
            noted = sum(1 for e in old if e.reason)
            saved = f"keeping the reasons of {_entries(noted)}" if noted else "no reasons in it"
            say(f"{exc}: writing it anew ({saved})")
    current = {e.fingerprint for e in entries}
    held = [e for e in old if not judged(e)]
    if prune:
        kept = [e for e in old if e.fingerprint in current or not judged(e)]
        baseline_mod.write_atomic(path, baseline_mod.render(kept), shown)
        remain = "remains" if len(kept) == 1 else "remain"
        say(f"pruned {_entries(len(old) - len(kept), 'stale')}; {len(kept)} {remain} in {shown}")
    else:
        reasons = {e.fingerprint: e.reason for e in old if e.reason}
        entries = [replace(e, reason=reasons.get(e.fingerprint, "")) for e in entries]
        written = {(e.rule, e.resource, e.fingerprint) for e in (*entries, *held)}
        baseline_mod.write_atomic(path, baseline_mod.render([*entries, *held]), shown)
        before = {e.fingerprint for e in old if judged(e)}
        added, gone = len(current - before), len(before - current)
        change = f" ({added} new, {gone} no longer found)" if old and (added or gone) else ""
        say(f"wrote {_entries(len(written))} to {shown}{change}")
        if left:
            findings = "finding of locked rules is" if left == 1 else "findings of locked rules are"
            say(f"{left} {findings} not baselined: fix {'it' if left == 1 else 'them'}")
    if held:
        named = first_few(sorted({e.rule for e in held}))
        say(f"kept {_entries(len(held))} of rules that did not run ({named}): not judged")


def _package(uid: str) -> str:
    """The package (dbt project) of a resource id: `model.shop.orders` is shop's."""
    parts = uid.split(".")
    return parts[1] if len(parts) > 2 else ""


def _silent(_: str) -> None:
    pass


def _entries(n: int, kind: str = "") -> str:
    what = "entry" if n == 1 else "entries"
    return f"{n} {kind} {what}" if kind else f"{n} {what}"


@cli.command()
@click.option("--plan", is_flag=True, help="The schema of native tracking plans instead.")
def schema(plan: bool) -> int:
    """Print the JSON Schema of normcheck.yml and rule sets (for editors)."""
    if plan:
        from normcheck.tracking.schema import plan_schema

        click.echo(json.dumps(plan_schema(), indent=2, sort_keys=True))
        return EXIT_CLEAN
    click.echo(json.dumps(build_schema(builtin_rules()), indent=2, sort_keys=True))
    return EXIT_CLEAN


@cli.command()
@click.option("--force", is_flag=True, help="Overwrite an existing normcheck.yml.")
def init(force: bool) -> int:
    """Write a starter normcheck.yml for the project in the current directory."""
    existing = find_config(Path())
    if existing is not None and not force:
        raise UsageError(
            f"{existing} already exists: edit it, or pass --force to replace it", str(existing)
        )
    if not Path("dbt_project.yml").is_file():
        click.echo(
            "normcheck: no dbt_project.yml here: run `normcheck init` in the dbt project's "
            "folder (or keep this file and pass --project-dir to `normcheck check`)",
            err=True,
        )
    target = Path("normcheck.yml")
    try:
        # whole or not at all: one cut short by a full disk was then "already exists",
        # and read as the project's configuration, what it lacked unsaid
        _write_whole(target, starter(Path()))
    except OSError as exc:  # a folder of that name, a read-only folder
        raise UsageError(f"cannot write the file: {exc.strerror or exc}", str(target)) from None
    click.echo(f"wrote {target}; run `normcheck config` to see the resolved rules")
    return EXIT_CLEAN


_SYMLINK_LOOP = re.compile(r"Symlink loop from '(.*)'$")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises for user errors)."""
    _stopped_by.clear()
    try:
        code = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except UserError as exc:
        # one line, whatever the message quotes from the input (a value with newlines,
        # an escape sequence, which click would drop on a pipe and a terminal would run)
        click.echo(f"normcheck: error: {printable(str(exc))}", err=True)
        return EXIT_USER_ERROR
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        message = exc.format_message().splitlines()[0] if exc.format_message() else str(exc)
        click.echo(f"normcheck: error: {printable(message)}", err=True)
        return EXIT_USER_ERROR
    except click.exceptions.Abort:  # Ctrl-C (click's for a KeyboardInterrupt): no input error
        if _stopped_by == [signal.SIGTERM]:
            click.echo("normcheck: terminated", err=True)
            return 128 + signal.SIGTERM
        click.echo("normcheck: interrupted", err=True)
        return EXIT_INTERRUPTED
    except Exception as exc:
        loop = _SYMLINK_LOOP.match(str(exc)) if isinstance(exc, RuntimeError) else None
        if loop is not None:  # Path.resolve() before Python 3.13, wherever a path is resolved
            shown = printable(loop.group(1))
            click.echo(f"normcheck: error: {shown}: symbolic link loop", err=True)
            return EXIT_USER_ERROR
        if isinstance(exc, FileNotFoundError) and _cwd_gone():
            click.echo(
                "normcheck: error: the current directory no longer exists (removed, or "
                "replaced by a checkout): cd into the project again",
                err=True,
            )
            return EXIT_USER_ERROR
        if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
            # a path given (`--output`, `--config`, ...) with a name longer than the system
            # allows: `Path.exists()` and `is_file()` raise it, wherever a path is looked at
            shown = printable(str(exc.filename))  # a newline or escape sequence in it, as text
            click.echo(f"normcheck: error: {shown}: file name too long", err=True)
            return EXIT_USER_ERROR
        log = _write_crash(traceback.format_exc())
        click.echo(
            f"normcheck: internal error (a bug in normcheck); traceback {log}",
            err=True,
        )
        return EXIT_INTERNAL_ERROR
    return int(code) if isinstance(code, int) else EXIT_CLEAN


def _cwd_gone() -> bool:
    """Whether the current directory was removed under the run (`Path.cwd()`, which
    every displayed path is made relative to, raises)."""
    try:
        Path.cwd()
    except FileNotFoundError:
        return True
    return False


_stopped_by: list[int] = []  # SIGTERM, when it is what stopped the run


def _terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (a CI job cancelled, `timeout`, `kill`) unwinds the run as Ctrl-C
    does: the parse workers are stopped with it (they would parse on, orphaned),
    a baseline's temporary file is removed, and it says so in one line."""
    _stopped_by[:] = [signum]
    signal.signal(signum, signal.SIG_DFL)  # a second one ends it, whatever the unwinding waits for
    raise KeyboardInterrupt


def entry() -> None:
    """The console script: the CLI in a process of its own, which ends without
    freeing the run's objects one by one (on a 20,000-model manifest that took
    longer than checking it). What normal exit does besides is done first: exit
    handlers run (dbt's, when it parsed in this process; they flush its log) and
    the output is flushed."""
    retain_for_exit()
    signal.signal(signal.SIGTERM, _terminated)
    code = main()
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: nothing more can be said
        pass
    os._exit(code)
