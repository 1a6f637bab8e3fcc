"""Adoption workflows on real dbt projects: changed files, --since with real git,
stale manifests and `dbt parse`, suppressions, baselines, the warm cache, monorepos."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import build_dbt_project, write_files
from normcheck import run as run_module
from normcheck.artifacts.manifest import load_manifest
from normcheck.cli import main
from normcheck.dbt_parse import dbt_folders, dbt_reads, local_packages, needs_parse
from normcheck.project import build_project
from normcheck.run import RunOptions, run

FILES = {
    "seeds/raw_orders.csv": "id,amount\n1,10\n",
    "models/staging/_sources.yml": """\
version: 2
sources:
  - name: shop
    tables:
      - name: orders
      - name: refunds
""",
    "models/staging/stg_orders.sql": "select * from {{ source('shop', 'orders') }}\n",
    "models/staging/stg_refunds.sql": "select * from {{ source('shop', 'refunds') }}\n",
    "models/staging/_models.yml": "version: 2\nmodels:\n  - name: stg_orders\n  - name: stg_refunds\n",
    "models/marts/orders.sql": "select * from {{ ref('stg_orders') }}\n",
    "models/marts/dim_customers_v1.sql": "select 1 as customer_id\n",
    "models/marts/dim_customers_v2.sql": "select 1 as customer_id\n",
    "models/marts/_marts.yml": """\
version: 2
models:
  - name: dim_customers
    latest_version: 2
    versions:
      - v: 1
      - v: 2
exposures:
  - name: board
    type: dashboard
    owner: {name: finance, email: f@example.com}
    depends_on: [ref('orders')]
""",
    "README.md": "# not part of the dbt project\n",
}
CONFIG = "version: 1\nrules:\n  governance/group-required: 'off'\n"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    root = build_dbt_project(tmp_path, {**FILES, "normcheck.yml": CONFIG})
    monkeypatch.chdir(root)
    return root


def check(capsys, *args: str) -> tuple[int, dict, str]:
    code = main(["check", "--format", "json", "--parse", "never", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else {}, err


def resources(report: dict) -> set[str]:
    return {f["resource"] for f in report["findings"]}


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        pytest.param(["models/marts/orders.sql"], {"model.shop.orders"}, id="a model's SQL"),
        pytest.param(
            ["models/staging/_models.yml"],
            {"model.shop.stg_orders", "model.shop.stg_refunds"},
            id="a properties YAML owns every model it patches",
        ),
        pytest.param(
            ["models/staging/_sources.yml"],
            {"source.shop.shop.orders", "source.shop.shop.refunds"},
            id="a sources YAML owns each source table",
        ),
        pytest.param(
            ["models/marts/dim_customers_v1.sql"],
            {"model.shop.dim_customers.v1"},
            id="a versioned model's own file",
        ),
        pytest.param(
            ["models/marts/_marts.yml"],
            {"model.shop.dim_customers.v1", "model.shop.dim_customers.v2", "exposure.shop.board"},
            id="exposures and versions declared in YAML",
        ),
        pytest.param(
            ["models/staging"],
            {
                "model.shop.stg_orders",
                "model.shop.stg_refunds",
                "source.shop.shop.orders",
                "source.shop.shop.refunds",
            },
            id="a folder stands for the files under it (was: nothing checked, exit 0)",
        ),
        pytest.param(["README.md"], set(), id="a file outside the project owns nothing"),
        pytest.param(["models/marts/orders.yml"], set(), id="same stem, other file: nothing"),
    ],
)
def test_paths_limit_the_report_to_what_they_define(project, capsys, paths, expected):
    for path in paths:
        if not (project / path).exists():  # a file dbt has not seen: it defines nothing
            (project / path).write_text("version: 2\n")
    code, report, _ = check(capsys, *paths)
    assert resources(report) == expected
    assert code == (1 if any(f["severity"] == "error" for f in report["findings"]) else 0)


def test_a_path_that_does_not_exist_is_a_usage_error(project, capsys):
    """A typo (or a path relative to --project-dir rather than to here) would
    otherwise check nothing and pass."""
    code, report, err = check(capsys, "models/marts/orders.sql", "models/marts/typo.sql")
    assert code == 2
    assert report == {}
    assert err == (
        "normcheck: error: Invalid value for '[PATHS]...': "
        "Path 'models/marts/typo.sql' does not exist.\n"
    )


def test_a_changed_config_rechecks_everything(project, capsys):
    _, everything, _ = check(capsys)
    _, report, _ = check(capsys, "normcheck.yml")
    assert report == everything
    assert len(resources(report)) > 5


def test_a_changed_dbt_project_yml_rechecks_its_project(tmp_path, monkeypatch, capsys):
    """`+access: public` under `models:` makes every model public: the hook (PATHS)
    and --since passed while a full run failed, as dbt_project.yml defines no
    resource itself. It now re-checks the whole project, in a monorepo the project
    it belongs to."""
    for name in ("shop", "crm"):
        build_dbt_project(tmp_path, {**FILES, "normcheck.yml": CONFIG, "README.md": ""}, name=name)
    (tmp_path / "normcheck.yml").write_text(CONFIG + "projects: [shop, crm]\n")
    (tmp_path / ".gitignore").write_text("target/\nlogs/\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base")
    shop = tmp_path / "shop"
    dbt_project = shop / "dbt_project.yml"
    dbt_project.write_text(dbt_project.read_text() + "models:\n  shop:\n    +access: public\n")
    git(tmp_path, "commit", "-qam", "public")
    monkeypatch.chdir(shop)
    assert main(["check", "-q"]) == 1  # dbt parse: the models are public now
    _, everything, _ = check(capsys)
    public = [f for f in everything["findings"] if f["rule"] == "governance/public-model-contract"]
    assert len(public) == 5
    for args in (["dbt_project.yml"], ["--since", "HEAD~1"]):
        code, report, err = check(capsys, *args)
        assert (code, report) == (1, everything), (args, err)
    monkeypatch.chdir(tmp_path)  # the monorepo: the project it belongs to, not the other
    _, everything, _ = check(capsys)
    assert {f["file"].split("/")[0] for f in everything["findings"]} == {"shop", "crm"}
    shop_only = [f for f in everything["findings"] if f["file"].startswith("shop/")]
    for args in (["shop/dbt_project.yml"], ["--since", "HEAD~1"]):
        code, report, err = check(capsys, *args)
        assert (code, report["findings"]) == (1, shop_only), (args, err)


EVENTS = {
    "tracking/web.yml": """\
normcheck: plan/v1
plan: {id: web, owner: growth, warehouse: {profile: segment}}
events:
  - name: Order Completed
    description: Buyer finished payment and the order was accepted.
""",
    # the event a model reads comes from a macro, which calls another
    "macros/events.sql": "{% macro checkout_event() %}'Order Completed'{% endmacro %}\n",
    "macros/filters.sql": (
        "{% macro order_filter() %}event_text = {{ checkout_event() }}{% endmacro %}\n"
    ),
    "models/marts/fct_orders.sql": (
        "select 1 as n from (select 'x' as event_text) t where {{ order_filter() }}\n"
    ),
    "models/marts/fct_visits.sql": "select 1 as n\n",
    ".gitignore": "target/\nlogs/\n",
    "normcheck.yml": "version: 1\nextends: [normcheck:recommended]\n"
    "tracking_plans: ['tracking/*.yml']\n",
}


def test_a_changed_macro_or_plan_brings_in_what_it_affects(tmp_path, monkeypatch, capsys):
    """A macro returning the event a model filters on, changed to a name no plan
    defines: a full run failed with tracking/unknown-event, the hook and --since
    passed (the macro file defines no model). A changed macro now brings in the
    models calling it (through other macros too); a changed plan, the findings of
    the rules judging it against the models' SQL and the other plans."""
    root = build_dbt_project(tmp_path, EVENTS)
    monkeypatch.chdir(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")

    def unknown(report: dict) -> list[tuple[str, str]]:
        return [
            (f["resource"], f["file"])
            for f in report["findings"]
            if f["rule"] == "tracking/unknown-event"
        ]

    macro = root / "macros/events.sql"
    macro.write_text(macro.read_text().replace("Order Completed", "Order Complete"))
    git(root, "commit", "-qam", "a typo in the macro")
    assert main(["check", "-q"]) == 1  # dbt parse
    capsys.readouterr()
    _, everything, _ = check(capsys)
    expected = [("model.shop.fct_orders", "models/marts/fct_orders.sql")]
    assert unknown(everything) == expected
    for args in (["macros/events.sql"], ["--since", "HEAD~1"]):
        code, report, err = check(capsys, *args)
        assert unknown(report) == expected, (args, err)
        assert code == 1
        assert {r.split(".")[2] for r in resources(report)} <= {"fct_orders", "checkout_event"}
    git(root, "reset", "-q", "--hard", "HEAD~1")
    plan = root / "tracking/web.yml"
    plan.write_text(plan.read_text().replace("Order Completed", "Order Placed"))
    assert main(["check", "-q"]) == 1  # dbt parse (the macro is back)
    capsys.readouterr()
    for args in ([], ["tracking/web.yml"], ["--since", "HEAD"]):
        code, report, err = check(capsys, *args)
        assert unknown(report) == expected, (args, err)
        # not a whole-project run
        assert ("model.shop.fct_visits" in resources(report)) == (not args)


def test_a_changed_docs_block_brings_in_what_it_describes(tmp_path, monkeypatch, capsys):
    """A doc block (`{{ doc('orders') }}`) feeds a model's and a column's description:
    a Markdown file passed (the hook now passes them) reported nothing."""
    import yaml

    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_orders.sql": "select 1 as order_id\n",
            "models/marts/fct_visits.sql": "select 1 as visit_id\n",
            "models/marts/_models.yml": (
                "version: 2\nmodels:\n  - name: fct_orders\n"
                "    description: '{{ doc(\"orders\") }}'\n"
                "    columns:\n      - name: order_id\n"
                "        description: '{{ doc(\"order_id\") }}'\n"
                "  - name: fct_visits\n    description: Visits TODO\n"
            ),
            "models/marts/orders.md": (
                "{% docs orders %}Orders TODO{% enddocs %}\n{% docs order_id %}Order id TBD{% enddocs %}\n"
            ),
            "normcheck.yml": CONFIG,
        },
    )
    monkeypatch.chdir(root)
    _, everything, _ = check(capsys)
    placeholders = {
        f["resource"] for f in everything["findings"] if f["rule"] == "docs/placeholder-description"
    }
    assert placeholders == {"model.shop.fct_orders", "model.shop.fct_visits"}
    code, report, err = check(capsys, "models/marts/orders.md")
    assert {r for r in resources(report) if "fct_visits" in r} == set(), err
    assert placeholders - {"model.shop.fct_visits"} <= resources(report)
    assert code == 1
    hooks = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "normcheck")
    assert re.search(hook["files"], "models/marts/orders.md")


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True, env=env
    ).stdout


def test_since_reports_committed_staged_unstaged_and_untracked_changes(project, capsys):
    (project / ".gitignore").write_text("target/\nlogs/\n")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "base")
    base = git(project, "rev-parse", "HEAD").strip()
    (project / "models/marts/orders.sql").write_text("select 2 as order_id\n")
    git(project, "commit", "-qam", "committed change")
    (project / "models/staging/stg_orders.sql").write_text("select 3 as order_id\n")
    git(project, "add", "models/staging/stg_orders.sql")  # staged
    (project / "models/staging/stg_refunds.sql").write_text("select 4 as refund_id\n")  # unstaged
    (project / "models/marts/dim_customers_v1.sql").touch()  # unchanged content
    code, report, err = check(capsys, "--since", base)
    assert resources(report) == {
        "model.shop.orders",
        "model.shop.stg_orders",
        "model.shop.stg_refunds",
    }
    assert "newer than the manifest (not re-parsed: --parse never)" in err
    code, _, err = check(capsys, "--since", "no-such-ref")
    assert code == 2
    assert "unknown git ref `no-such-ref`" in err


def test_since_diffs_from_where_the_branch_left_the_ref(project, capsys):
    """A branch behind `main` was blamed for what only `main` changed since: the
    diff ran from main's tip, not from the merge base (`git diff main...HEAD`)."""
    (project / ".gitignore").write_text("target/\nlogs/\n")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "base")
    git(project, "checkout", "-qb", "feature")
    (project / "models/staging/stg_orders.sql").write_text("select 3 as order_id\n")
    git(project, "commit", "-qam", "the branch's change")
    git(project, "checkout", "-q", "main")
    (project / "models/marts/orders.sql").write_text("select 2 as order_id\n")
    git(project, "commit", "-qam", "main moves on")
    git(project, "checkout", "-q", "feature")
    (project / "models/staging/stg_refunds.sql").write_text("select 4 as refund_id\n")  # unstaged
    _, report, err = check(capsys, "--since", "main")
    assert resources(report) == {"model.shop.stg_orders", "model.shop.stg_refunds"}, err
    git(project, "checkout", "-q", "--orphan", "unrelated")
    git(project, "commit", "-qm", "no shared history")
    code, _, err = check(capsys, "--since", "main")
    assert code == 2
    assert err == (
        "normcheck: error: --since: `main` and HEAD share no commit (a shallow clone? "
        "fetch the history, e.g. `fetch-depth: 0`)\n"
    )


def test_since_finds_files_whatever_their_names(tmp_path, monkeypatch, capsys):
    """git quotes a name with non-ASCII letters, a quote, a backslash or a tab
    (`"models/marts/fct_caf\\303\\251.sql"`) unless asked for NUL-separated names:
    such a file, committed or untracked, was silently left unchecked."""
    odd = ["fct_café", "fct_crème", 'fct_a"b', "fct_c\\d", "fct_e\tf"]
    models = {f"models/marts/{name}.sql": "select 1 as id\n" for name in odd}
    root = build_dbt_project(
        tmp_path, {**models, "normcheck.yml": CONFIG, ".gitignore": "target/\nlogs/\n"}
    )
    monkeypatch.chdir(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "dbt_project.yml", "profiles.yml", "normcheck.yml", ".gitignore")
    git(root, "commit", "-qm", "base")
    git(root, "add", "models")
    git(root, "rm", "-q", "--cached", "models/marts/fct_crème.sql")  # left untracked
    git(root, "commit", "-qm", "models")
    code, report, err = check(capsys, "--since", "HEAD~1")
    assert {f["file"] for f in report["findings"]} == set(models), err
    assert code == 1


def test_since_outside_git_is_a_clear_error(project, capsys, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(project.parent))
    code, _, err = check(capsys, "--since", "HEAD")
    assert code == 2
    assert "not a git repository" in err.lower()


def test_auto_parse_refreshes_a_stale_manifest(project, capsys):
    time.sleep(0.01)
    (project / "models/marts/fct_new.sql").write_text("select 1 as id\n")
    code = main(["check", "--format", "json", "models/marts/fct_new.sql"])
    out, err = capsys.readouterr()
    assert "models/marts/fct_new.sql is newer than the manifest: running `dbt parse`" in err
    assert "model.shop.fct_new" in resources(json.loads(out))
    assert code == 1
    code = main(["check", "--format", "json", "models/marts/fct_new.sql"])
    out, err = capsys.readouterr()
    assert "dbt parse" not in err, "a fresh manifest is not parsed again"


def test_only_files_dbt_reads_make_the_manifest_stale(project, capsys):
    """normcheck's own configuration, tracking plans and files outside dbt's folders
    never cost a `dbt parse`; a model, or dbt_project.yml, does."""
    time.sleep(0.01)
    write_files(
        project,
        {
            "normcheck.yml": CONFIG + "team: growth\n",
            "central/rules.yml": "version: 1\n",
            "tracking/web.yml": "normcheck: plan/v1\nplan: {id: web}\n",
            "scripts/adhoc.sql": "select 1\n",
            "README.md": "# changed\n",
        },
    )
    for paths in ([], ["normcheck.yml", "scripts/adhoc.sql", "tracking/web.yml"]):
        main(["check", "-q", "--parse", "never", *paths])
        assert "newer than the manifest" not in capsys.readouterr().err
    for changed in ("models/marts/orders.sql", "dbt_project.yml"):
        (project / changed).write_text((project / changed).read_text() + "\n")
        for paths in ([], [changed]):
            main(["check", "-q", "--parse", "never", *paths])
            err = capsys.readouterr().err
            assert f"{changed} is newer than the manifest (not re-parsed" in err


def test_a_staged_config_checks_freshness_over_the_whole_project(project, capsys):
    """pre-commit with only normcheck.yml staged re-checks the whole project: a
    model edited (and not staged) since the manifest was written must not be
    judged from the old manifest without a word."""
    time.sleep(0.01)
    orders = project / "models/marts/orders.sql"
    orders.write_text(orders.read_text() + "\n")
    (project / "normcheck.yml").write_text(CONFIG + "team: growth\n")
    main(["check", "-q", "--parse", "never", "normcheck.yml"])
    assert (
        "normcheck: models/marts/orders.sql is newer than the manifest" in capsys.readouterr().err
    )
    # the same words with the project given by its absolute path (it was absolute then)
    main(["check", "-q", "--parse", "never", "--project-dir", str(project.resolve())])
    assert (
        "normcheck: models/marts/orders.sql is newer than the manifest" in capsys.readouterr().err
    )
    main(["check", "-q", "--parse", "never", "models/staging/stg_orders.sql"])
    assert "newer than the manifest" not in capsys.readouterr().err  # a model alone: as before


def test_a_moved_or_removed_file_makes_the_manifest_stale(project, capsys):
    """`git mv` and `rm` leave no file newer than the manifest; the folder they
    changed is (and --parse auto then parses, so a removed model's readers fail)."""
    os.utime(project / "target" / "manifest.json")  # as if dbt had just written it
    time.sleep(0.01)
    main(["check", "-q", "--parse", "never"])
    assert "manifest" not in capsys.readouterr().err
    (project / "models/marts/orders.sql").rename(project / "models/staging/orders.sql")
    for paths in ([], ["models/staging/orders.sql"]):
        main(["check", "-q", "--parse", "never", *paths])
        err = capsys.readouterr().err
        assert re.search(r"models/(marts|staging)/ changed after the manifest \(a file added", err)
    main(["check", "-q"])  # parses: fresh again
    assert "running `dbt parse`" in capsys.readouterr().err
    (project / "models/staging/stg_refunds.sql").unlink()
    time.sleep(0.01)
    main(["check", "-q", "--parse", "never", "models/staging/_models.yml"])
    assert "models/staging/ changed after the manifest" in capsys.readouterr().err


def test_since_after_removing_a_folders_last_file(tmp_path, monkeypatch, capsys):
    """`git rm` of a folder's last file removes the folder: the freshness check
    looked only at the folders of changed files that still exist, so the old
    manifest was used and its findings on the removed file reported (exit 1)."""
    root = build_dbt_project(
        tmp_path,
        {
            **FILES,
            "normcheck.yml": CONFIG,
            ".gitignore": "target/\nlogs/\n",
            "models/legacy/old_orders.sql": "select 1 as id\n",
        },
    )
    monkeypatch.chdir(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    _, before, _ = check(capsys)
    assert "model.shop.old_orders" in resources(before)
    time.sleep(0.01)
    git(root, "rm", "-q", "models/legacy/old_orders.sql")
    git(root, "commit", "-qm", "remove the legacy model")
    assert not (root / "models/legacy").exists()
    code, report, err = check(capsys, "--since", "HEAD~1")
    assert (code, report["findings"]) == (0, []), err
    assert "models/ changed after the manifest (a file added, moved or removed)" in err
    code = main(["check", "--format", "json", "--since", "HEAD~1"])
    out, err = capsys.readouterr()
    assert (code, json.loads(out)["findings"]) == (0, [])
    assert "changed after the manifest (a file added, moved or removed): running `dbt parse`" in err
    _, after, _ = check(capsys)
    assert "model.shop.old_orders" not in resources(after)


def test_dbt_folders_follow_dbt_project_yml(tmp_path):
    (tmp_path / "dbt_project.yml").write_text(
        "name: x\nmodel-paths: [transform]\nmacro-paths: [lib/macros]\n"
    )
    folders = dbt_folders(tmp_path)
    assert folders is not None
    assert tmp_path.resolve() / "transform" in folders
    assert tmp_path.resolve() / "models" not in folders
    assert dbt_reads(tmp_path / "lib/macros/m.sql", tmp_path, folders)
    assert not dbt_reads(tmp_path / "models/a.sql", tmp_path, folders)
    assert not dbt_reads(tmp_path / "transform/notes.txt", tmp_path, folders)
    (tmp_path / "dbt_project.yml").write_text("name: x\nmodel-paths: [\"{{ env_var('M') }}\"]\n")
    assert dbt_folders(tmp_path) is None  # not plain folders: every project file counts
    assert dbt_reads(tmp_path / "anything/a.sql", tmp_path, None)
    assert not dbt_reads(tmp_path.parent / "another/a.sql", tmp_path, None)  # not the project's
    # and only its files' times count: a folder's (reports/ written after the manifest) not
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text("{}")
    time.sleep(0.01)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "out.txt").write_text("x")
    assert needs_parse("auto", tmp_path, tmp_path / "target" / "manifest.json", []) is None
    (tmp_path / "dbt_project.yml").write_text("name: [\n")
    assert dbt_folders(tmp_path) is None


def test_missing_manifest_is_parsed_in_auto_mode(tmp_path, monkeypatch, capsys):
    root = build_dbt_project(tmp_path, {"models/marts/fct_a.sql": "select 1 as id\n"}, parse=False)
    monkeypatch.chdir(root)
    code = main(["check", "--format", "json"])
    out, err = capsys.readouterr()
    assert "no manifest at" in err
    assert "model.shop.fct_a" in resources(json.loads(out))
    assert code == 1


def test_failing_dbt_parse_is_a_user_error(tmp_path, monkeypatch, capsys):
    root = build_dbt_project(tmp_path, {"models/a.sql": "select {{ ref('nope') }}\n"}, parse=False)
    monkeypatch.chdir(root)
    code = main(["check", "--format", "json"])
    out, err = capsys.readouterr()
    assert out == ""  # dbt's own log lines stay off the report's stdout
    assert code == 2
    assert "dbt_project.yml: `dbt parse` failed: Compilation Error" in err
    assert "depends on a node named 'nope'" in err
    assert err.count("\n") == 1


def test_dbt_that_cannot_write_its_log_is_one_line_without_its_traceback(
    tmp_path, monkeypatch, capsys
):
    """dbt logs the stack trace of an unexpected error (its log file cannot be
    written: a read-only project, a folder in its way): not part of the one line."""
    root = build_dbt_project(tmp_path, {"models/a.sql": "select 1 as id\n"}, parse=False)
    (root / "logs" / "dbt.log").mkdir(parents=True)
    monkeypatch.chdir(root)
    code = main(["check", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "dbt_project.yml: `dbt parse` failed: [Errno 21] Is a directory: " in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("caught", [False, True], ids=["as dbt catches it", "told as a field's"])
def test_ctrl_c_while_dbt_parses_is_an_interruption_not_a_failure(
    tmp_path, monkeypatch, capsys, caught
):
    """dbt catches the KeyboardInterrupt of a Ctrl-C while it parses, and reports
    it as its failure (the traceback for a reason), or a library of its turns it
    into a field's "invalid value": normcheck was told it failed, exit 2."""
    import signal

    from dbt.exceptions import DbtRuntimeError
    from dbt.parser.manifest import ManifestLoader

    root = build_dbt_project(tmp_path, {"models/a.sql": "select 1 as id\n"}, parse=False)
    monkeypatch.chdir(root)

    def load(self):
        try:
            os.kill(os.getpid(), signal.SIGINT)  # its handler runs before this returns
            raise AssertionError("not interrupted")
        except KeyboardInterrupt:
            if caught:
                raise DbtRuntimeError('Field "config" has invalid value') from None
            raise

    monkeypatch.setattr(ManifestLoader, "load", load)
    with pytest.raises(KeyboardInterrupt):
        run(RunOptions(project_dir=Path(), parse="always"))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # as it was
    assert main(["check", "--parse", "always"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "normcheck: interrupted"


def test_a_failing_semantic_validation_says_why(tmp_path, monkeypatch, capsys):
    """dbt's exception says only "Semantic Manifest validation failed."; the
    reason is in the error it logged, which the one line now carries."""
    semantic = (
        "version: 2\nsemantic_models:\n  - name: orders\n    model: ref('fct_a')\n"
        "    defaults: {agg_time_dimension: d}\n"
        "    entities: [{name: order, type: primary, expr: id}]\n"
        "    dimensions: [{name: d, type: time, type_params: {time_granularity: day}}]\n"
        "    measures: [{name: total, agg: sum, expr: id}]\n"
        "metrics:\n  - {name: week, label: Week, type: simple, type_params: {measure: total}}\n"
    )
    from normcheck.testing import TIME_SPINE

    files = {
        **TIME_SPINE,
        "models/fct_a.sql": "select 1 as id, current_date as d\n",
        "models/s.yml": semantic,
    }
    root = build_dbt_project(tmp_path, files, parse=False)
    monkeypatch.chdir(root)
    assert main(["check", "--format", "json"]) == 2
    err = capsys.readouterr().err
    assert "`dbt parse` failed: Parsing Error Semantic Manifest validation failed." in err
    assert "Invalid name `week` - names cannot match reserved time granularity keywords" in err
    assert err.count("\n") == 1


def test_missing_dbt_says_how_to_install_it(project, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dbt.cli.main", None)  # as if dbt-core were not installed
    code = main(["check", "--parse", "always"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "pip install 'normcheck[dbt]'" in err


SUPPRESSED = {
    "models/marts/orders.sql": (
        "-- normcheck: ignore[naming/model-prefix] BI dashboards query the old name\n"
        "-- normcheck: ignore[docs/missing-description]\n"
        "-- normcheck: ignore[naming/name-case, naming/nope] two in one\n"
        "select 1 as order_id\n"
    ),
    "models/marts/fct_a.sql": "select 1 as a\n",
    "models/marts/_models.yml": """\
version: 2
models:
  - name: fct_a
    config:
      meta:
        normcheck:
          ignore:
            - {rule: ownership/missing-owner, reason: orphaned until the reorg, until: 2999-12-31}
            - {rule: docs/missing-description, reason: legacy, until: 2001-01-01}
            - {rule: ownership/unknown-owner, reason: fine}
            - not a mapping
            - {rule: governance/locked-thing}
    columns:
      - name: a
        config:
          meta:
            normcheck:
              ignore: [{rule: naming/column-case}]
""",
}
SUPPRESS_CONFIG = """\
extends: [central.yml]
owners: {growth: {}}
rules:
  governance/group-required: 'off'
  sql/undocumented-column: 'off'
"""


def test_a_warm_run_on_a_stale_manifest_gives_the_lines_a_cold_run_gives(project, capsys):
    """--parse never, a properties YAML edited after the manifest: the lines are
    read from the file as it is now, which the run's cache key cannot see, so
    that run is not cached (cold and warm agree)."""
    check(capsys)  # primes the cache
    yml = project / "models" / "staging" / "_models.yml"
    yml.write_text("# a comment\n# another\n" + yml.read_text())
    after = (project / "target" / "manifest.json").stat().st_mtime_ns + 10**9
    os.utime(yml, ns=(after, after))  # edited after the manifest was written
    _, warm, err = check(capsys)
    _, cold, _ = check(capsys, "--no-cache")
    assert "is newer than the manifest (not re-parsed: --parse never)" in err
    lines = {
        f["resource"]: f["line"] for f in warm["findings"] if f["file"].endswith("_models.yml")
    }
    assert lines and lines == {
        f["resource"]: f["line"] for f in cold["findings"] if f["file"].endswith("_models.yml")
    }
    assert lines["model.shop.stg_orders"] == 5  # `- name: stg_orders`, two lines down
    # the same with the manifest given (--manifest): no freshness note, the same lines
    given = ("--manifest", "target/manifest.json")
    check(capsys, *given)
    yml.write_text("# a third\n" + yml.read_text())
    os.utime(yml, ns=(after + 10**9, after + 10**9))
    _, warm, _ = check(capsys, *given)
    assert {f["resource"]: f["line"] for f in warm["findings"] if f["file"].endswith(".yml")}[
        "model.shop.stg_orders"
    ] == 6


def test_a_suppression_expires_on_the_same_day_in_every_time_zone(tmp_path, monkeypatch, capsys):
    """`until:` is compared with the date in UTC: runners in Auckland and Hawaii
    agree. The date is chosen so that one of the two zones' local date differs
    from UTC's in the expiring direction, whatever the hour the test runs."""
    now = dt.datetime.now(dt.timezone.utc)
    # before noon UTC, Etc/GMT+12 is still on yesterday; from 10:00 on, Etc/GMT-14 is on tomorrow
    until = now.date() - dt.timedelta(days=1) if now.hour < 12 else now.date()
    expired = until < now.date()
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_a.sql": "select 1 as a\n",
            "models/marts/_models.yml": (
                "version: 2\nmodels:\n  - name: fct_a\n    config:\n      meta:\n"
                "        normcheck:\n          ignore:\n"
                f"            - {{rule: docs/missing-description, reason: r, until: {until}}}\n"
            ),
            "normcheck.yml": "extends: [normcheck:default]\n",
        },
    )
    monkeypatch.chdir(root)
    seen = []
    for zone in ("Etc/GMT+12", "Etc/GMT-14"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        try:
            _, report, _ = check(capsys, "--no-cache", "--select", "docs,normcheck")
        finally:
            monkeypatch.undo()
            time.tzset()
            monkeypatch.chdir(root)
        seen.append(sorted({f["rule"] for f in report["findings"]}))
    rules = ["docs/missing-description", "normcheck/expired-suppression"] if expired else []
    assert seen == [rules, rules]


def test_suppressions_hide_findings_and_stay_honest(tmp_path, monkeypatch, capsys):
    root = build_dbt_project(
        tmp_path,
        {
            **SUPPRESSED,
            "normcheck.yml": SUPPRESS_CONFIG,
            "central.yml": "extends: [normcheck:default]\n"
            "rules:\n  ownership/unknown-owner: {severity: error, locked: true}\n",
        },
    )
    monkeypatch.chdir(root)
    code, report, _ = check(capsys)
    got = sorted((f["rule"], f["resource"], f"{f['file']}:{f['line']}") for f in report["findings"])
    assert got == sorted(
        [
            # orders.sql: the missing-description suppression has no reason (still applies)
            (
                "normcheck/suppression-without-reason",
                "model.shop.orders",
                "models/marts/orders.sql:2",
            ),
            # name-case found nothing to hide; naming/nope is no rule
            ("normcheck/unused-suppression", "model.shop.orders", "models/marts/orders.sql:3"),
            ("normcheck/unused-suppression", "model.shop.orders", "models/marts/orders.sql:3"),
            ("ownership/missing-owner", "model.shop.orders", "models/marts/orders.sql:1"),
            # fct_a: the expired suppression no longer hides the finding
            ("docs/missing-description", "model.shop.fct_a", "models/marts/_models.yml:3"),
            ("normcheck/expired-suppression", "model.shop.fct_a", "models/marts/_models.yml:9"),
            # unknown-owner is locked: suppressing it is itself a finding
            ("normcheck/locked-rule", "model.shop.fct_a", "models/marts/_models.yml:10"),
            # a malformed entry, and one naming no known rule
            ("normcheck/unused-suppression", "model.shop.fct_a", "models/marts/_models.yml:11"),
            ("normcheck/unused-suppression", "model.shop.fct_a", "models/marts/_models.yml:12"),
            # the column's suppression has no reason, and column-case found nothing
            (
                "normcheck/suppression-without-reason",
                "model.shop.fct_a.a",
                "models/marts/_models.yml:18",
            ),
            ("normcheck/unused-suppression", "model.shop.fct_a.a", "models/marts/_models.yml:18"),
        ]
    )
    # model-prefix and missing-description on orders (no reason, still applies), owner on fct_a
    assert report["summary"]["suppressed"] == 3
    assert code == 1


def test_a_group_owner_with_a_name_and_a_registered_email_is_that_team(
    tmp_path, monkeypatch, capsys
):
    """dbt groups often name their owner for people (`Finance Team`) and give the
    email that identifies it: with the email in the registry, it is that team."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/_groups.yml": (
                "version: 2\ngroups:\n  - name: fin\n"
                "    owner: {name: Finance Team, email: f@x.io}\n"
                "  - name: other\n    owner: {name: Nobody Known, email: n@x.io}\n"
            ),
            "models/marts/fct_a.sql": "{{ config(group='fin') }}\nselect 1 as a\n",
            "models/marts/fct_b.sql": "{{ config(group='other') }}\nselect 1 as b\n",
            "normcheck.yml": "owners: {finance: {email: f@x.io}}\n",
        },
    )
    monkeypatch.chdir(root)
    _, report, _ = check(capsys, "--select", "ownership,docs")
    owners = {f["resource"]: f["owner"] for f in report["findings"]}
    assert owners["model.shop.fct_a"] == "finance"
    unknown = {f["resource"] for f in report["findings"] if f["rule"] == "ownership/unknown-owner"}
    assert "model.shop.fct_a" not in unknown
    assert "model.shop.fct_b" in unknown  # neither its name nor its email is registered


def test_a_suppression_block_without_ignore_is_said_to_have_no_effect(
    tmp_path, monkeypatch, capsys
):
    """`meta.normcheck: [...]` (the `ignore:` forgotten) hid nothing and said nothing."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_a.sql": "select 1 as a\n",
            "models/marts/_models.yml": (
                "version: 2\nmodels:\n  - name: fct_a\n    config:\n      meta:\n"
                "        normcheck: [{rule: docs/missing-description, reason: later}]\n"
            ),
            "normcheck.yml": "extends: [normcheck:default]\n",
        },
    )
    monkeypatch.chdir(root)
    _, report, _ = check(capsys, "--select", "docs,normcheck")
    got = {(f["rule"], f["message"]) for f in report["findings"]}
    assert got == {
        (
            "docs/missing-description",
            "model `fct_a` has no description: add `description:` to its YAML",
        ),
        (
            "normcheck/unused-suppression",
            "model `fct_a` has a `meta.normcheck` that is not `{ignore: [...]}`: it has no effect",
        ),
    }


def test_column_suppressions_stay_honest_when_no_selected_rule_judges_columns(
    tmp_path, monkeypatch, capsys
):
    root = build_dbt_project(
        tmp_path,
        {
            **SUPPRESSED,
            "normcheck.yml": SUPPRESS_CONFIG,
            "central.yml": "extends: [normcheck:default]\n",
        },
    )
    monkeypatch.chdir(root)
    real_needs_columns = run_module.needs_columns
    reports = []
    for forced in (False, True):
        if forced:  # build every column, as a run with a column rule does
            monkeypatch.setattr(run_module, "needs_columns", lambda config, rule_ids: True)
        code, report, _ = check(capsys, "--no-cache", "--select", "naming/model-prefix")
        assert code == 1  # fct_a and orders have no layer prefix
        reports.append(report)
    assert reports[0] == reports[1]
    column_findings = {
        f["rule"] for f in reports[0]["findings"] if f["resource"] == "model.shop.fct_a.a"
    }
    # the column's suppression gives no reason; column-case did not run, so it is not unused
    assert column_findings == {"normcheck/suppression-without-reason"}
    # the summary counts columns only when a rule that ran judged them
    monkeypatch.setattr(run_module, "needs_columns", real_needs_columns)
    counts = []
    for select in ("naming/model-prefix", "naming/model-prefix,naming/column-case"):
        main(["check", "--parse", "never", "--no-cache", "--select", select])
        out, _ = capsys.readouterr()
        counts.append(int(re.search(r"Checked (\d+) resources", out).group(1)))
    full = build_project(load_manifest(root / "target" / "manifest.json"), None, root)
    columns = sum(1 for r in full.resources.values() if r.type == "column" and full.owned(r))
    assert counts[1] - counts[0] == columns > 0


def test_baseline_hides_known_debt_and_shows_it_shrinking(project, capsys):
    code, before, _ = check(capsys)
    assert code == 1
    assert main(["baseline", "--parse", "never"]) == 0
    out, _ = capsys.readouterr()
    n = len([f for f in before["findings"] if not f["rule"].startswith("normcheck/")])
    assert f"wrote {n} entries to .normcheck-baseline.json" in out
    baseline = project / ".normcheck-baseline.json"
    data = json.loads(baseline.read_text())
    assert data["entries"] == sorted(
        data["entries"], key=lambda e: (e["rule"], e["resource"], e["fingerprint"])
    )
    assert "line" not in baseline.read_text()
    code, after, _ = check(capsys, "--baseline", str(baseline))
    assert code == 0
    assert after["findings"] == []
    assert after["summary"]["baselined"] == n
    # pay off some debt: the entry is now stale and reported
    (project / "models/staging/stg_orders.sql").write_text(
        "{{ config(meta={'owner': 'growth'}) }}\nselect * from {{ source('shop', 'orders') }}\n"
    )
    main(["check", "--parse", "always", "-q", "--baseline", str(baseline)])
    _, err = capsys.readouterr()
    assert "1 baseline entry no longer matches (fixed, renamed or removed)" in err
    assert "to drop it" in err
    # in the Markdown summary a pull request shows too
    main(
        [
            "check",
            "--parse",
            "never",
            "-q",
            "--baseline",
            str(baseline),
            "--output",
            "markdown:s.md",
        ]
    )
    capsys.readouterr()
    summary = (project / "s.md").read_text()
    assert "\n1 baseline entry no longer matches (fixed, renamed or removed): run " in summary
    assert main(["baseline", "--parse", "never", "--prune"]) == 0
    out, _ = capsys.readouterr()
    assert "pruned 1 stale entry;" in out
    assert len(json.loads(baseline.read_text())["entries"]) == n - 1


def test_baseline_from_config_and_locked_entries(project, capsys):
    assert main(["baseline", "--parse", "never", "--output", "debt.json"]) == 0
    capsys.readouterr()
    (project / "central.yml").write_text(
        "extends: [normcheck:default]\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    (project / "normcheck.yml").write_text(
        "extends: [central.yml]\nbaseline: debt.json\n" + CONFIG[11:]
    )
    code, report, _ = check(capsys)
    rules = sorted(f["rule"] for f in report["findings"])
    assert rules == ["naming/model-prefix", "normcheck/locked-rule"]
    locked = next(f for f in report["findings"] if f["rule"] == "normcheck/locked-rule")
    assert locked["file"] == "debt.json"
    assert "locked rule `naming/model-prefix`" in locked["message"]
    assert code == 1


def test_a_locked_rules_baseline_entry_is_its_findings_teams_and_stale_once_fixed(project, capsys):
    """The entry's error went to the configuration's `team:`, not the finding's team,
    and stayed, "fix the finding", after the finding was fixed."""
    orders = project / "models/marts/orders.sql"
    orders.write_text("{{ config(meta={'owner': 'finance'}) }}\n" + orders.read_text())
    assert main(["baseline", "--parse", "always", "--output", "debt.json"]) == 0
    capsys.readouterr()
    (project / "central.yml").write_text(
        "extends: [normcheck:default]\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    (project / "normcheck.yml").write_text(
        "extends: [central.yml]\nteam: growth\nbaseline: debt.json\n" + CONFIG[11:]
    )
    _, report, _ = check(capsys)
    locked = [f for f in report["findings"] if f["rule"] == "normcheck/locked-rule"]
    assert [(f["file"], f["owner"]) for f in locked] == [("debt.json", "finance")]
    assert "`normcheck baseline --prune` drops it" in locked[0]["message"]
    # fixed: the model renamed (and what refers to it)
    orders.rename(project / "models/marts/fct_orders.sql")
    marts = project / "models/marts/_marts.yml"
    marts.write_text(marts.read_text().replace("ref('orders')", "ref('fct_orders')"))
    _, report, err = check(capsys, "--parse", "always")
    assert "normcheck/locked-rule" not in {f["rule"] for f in report["findings"]}
    # the renamed model's other entries, and the locked rule's: stale alike
    assert "3 baseline entries no longer match" in err
    assert main(["baseline", "--parse", "never", "--prune", "--output", "debt.json"]) == 0
    assert "pruned 3 stale entries" in capsys.readouterr().out
    assert "naming/model-prefix" not in (project / "debt.json").read_text()


def test_a_baseline_entry_renamed_to_another_rule_hides_nothing(project, capsys):
    """An entry hides a finding of its own rule only: a locked rule's fingerprint
    filed under another rule's name must not slip past the lock."""
    assert main(["baseline", "--parse", "never", "--output", "debt.json"]) == 0
    capsys.readouterr()
    data = json.loads((project / "debt.json").read_text())
    for entry in data["entries"]:
        if entry["rule"] == "naming/model-prefix":
            entry["rule"] = "legacy/debt"
    (project / "debt.json").write_text(json.dumps(data))
    (project / "central.yml").write_text(
        "extends: [normcheck:default]\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    (project / "normcheck.yml").write_text(
        "extends: [central.yml]\nbaseline: debt.json\n" + CONFIG[11:]
    )
    code, report, _ = check(capsys)
    assert [f["rule"] for f in report["findings"]] == ["naming/model-prefix"]
    assert report["summary"]["baselined"] == len(data["entries"]) - 1
    assert code == 1


def test_an_override_before_the_central_set_cannot_turn_a_locked_rule_off(project, capsys):
    """Overrides persist whatever the order of the files: one in a rule set listed
    before the locking one (not one the locking file extends) is checked too."""
    (project / "central.yml").write_text(
        "extends: [normcheck:default]\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    (project / "team.yml").write_text(
        "extends: []\noverrides:\n  - match: {paths: ['models/**']}\n"
        "    rules: {naming/model-prefix: 'off', docs/missing-description: 'off'}\n"
    )
    (project / "normcheck.yml").write_text("extends: [team.yml, central.yml]\n" + CONFIG[11:])
    code, report, _ = check(capsys)
    rules = {f["rule"] for f in report["findings"]}
    assert "naming/model-prefix" in rules and "docs/missing-description" not in rules
    (locked,) = [f for f in report["findings"] if f["rule"] == "normcheck/locked-rule"]
    assert (locked["file"], locked["line"]) == ("team.yml", 4)
    assert "an override to `off` of locked rule `naming/model-prefix`" in locked["message"]
    assert code == 1


def test_a_local_override_cannot_undo_a_central_override_of_a_locked_rule(project, capsys):
    """The central set makes a locked rule stricter for some models; a team's override
    that would lower it again there is held back and reported, and one for other
    models is not."""
    (project / "central.yml").write_text(
        "extends: [normcheck:default]\nrules:\n"
        "  docs/missing-description: {severity: warning, locked: true}\n"
        "overrides:\n  - match: {paths: ['models/marts/**']}\n"
        "    rules: {docs/missing-description: error}\n"
    )
    local = (
        "extends: [central.yml]\nrules:\n  governance/group-required: 'off'\n"
        "overrides:\n  - match: {paths: ['models/staging/**']}\n"
        "    rules: {docs/missing-description: warning}\n"
    )
    (project / "normcheck.yml").write_text(local)
    code, report, _ = check(capsys, "--select", "docs,normcheck")

    def severities(report: dict) -> dict[str, str]:
        return {
            f["resource"]: f["severity"]
            for f in report["findings"]
            if f["rule"] == "docs/missing-description"
        }

    before = severities(report)
    assert before["model.shop.orders"] == "error"
    assert before["model.shop.stg_orders"] == "warning"
    assert not [f for f in report["findings"] if f["rule"] == "normcheck/locked-rule"]
    (project / "normcheck.yml").write_text(
        local
        + "  - match: {paths: ['models/**']}\n"
        + "    rules:\n      docs/missing-description:\n        severity: warning\n"
    )
    code, report, _ = check(capsys, "--select", "docs,normcheck")
    assert severities(report) == before
    (locked,) = [f for f in report["findings"] if f["rule"] == "normcheck/locked-rule"]
    assert (locked["file"], locked["line"]) == ("normcheck.yml", 10)  # its `severity:`
    assert "has no effect where the rule is stricter" in locked["message"]
    assert code == 1


def test_a_local_override_cannot_undo_central_options_of_a_locked_rule(project, capsys):
    """The same for options: the central set judges more resource types on marts; a
    team override restating the rule's own options there is held back."""
    (project / "central.yml").write_text(
        "extends: [normcheck:default]\nrules:\n"
        "  docs/missing-description: {severity: warning, locked: true}\n"
        "overrides:\n  - match: {paths: ['models/marts/**']}\n"
        "    rules:\n      docs/missing-description:\n"
        "        options: {resource_types: [model, column]}\n"
    )
    (project / "models/marts/_cols.yml").write_text(
        "version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: id\n"
    )
    local = "extends: [central.yml]\nrules:\n  governance/group-required: 'off'\n"
    (project / "normcheck.yml").write_text(local)
    check(capsys, "--parse", "always")
    _, report, _ = check(capsys, "--select", "docs,normcheck")
    assert "model.shop.orders.id" in resources(report)
    (project / "normcheck.yml").write_text(
        local
        + "overrides:\n  - match: {paths: ['models/**']}\n"
        + "    rules:\n      docs/missing-description:\n"
        + "        options: {resource_types: [model]}\n"
    )
    code, report, _ = check(capsys, "--select", "docs,normcheck")
    assert "model.shop.orders.id" in resources(report)
    (locked,) = [f for f in report["findings"] if f["rule"] == "normcheck/locked-rule"]
    assert (locked["file"], locked["line"]) == ("normcheck.yml", 8)
    assert "an override weakening option `resource_types`" in locked["message"]
    assert code == 1


def test_baseline_leaves_out_locked_rules(project, capsys):
    """A baseline written under a lock records none of the locked rule's findings
    (an entry would only be a `normcheck/locked-rule` error); --prune drops old ones."""
    assert main(["baseline", "--parse", "never", "--output", "debt.json"]) == 0
    capsys.readouterr()
    old = json.loads((project / "debt.json").read_text())["entries"]
    assert any(e["rule"] == "naming/model-prefix" for e in old)
    (project / "central.yml").write_text(
        "extends: [normcheck:default]\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    (project / "normcheck.yml").write_text(
        "extends: [central.yml]\nbaseline: debt.json\n" + CONFIG[11:]
    )
    assert main(["baseline", "--parse", "never", "--prune"]) == 0
    assert "pruned 1 stale entry;" in capsys.readouterr().out
    assert main(["baseline", "--parse", "never"]) == 0
    out = capsys.readouterr().out
    assert "1 finding of locked rules is not baselined: fix it" in out
    entries = json.loads((project / "debt.json").read_text())["entries"]
    assert [e for e in old if e["rule"] != "naming/model-prefix"] == entries
    code, report, _ = check(capsys)
    assert [f["rule"] for f in report["findings"]] == ["naming/model-prefix"]
    assert code == 1


def test_baseline_write_is_atomic(project, capsys, monkeypatch):
    assert main(["baseline", "--parse", "never"]) == 0
    capsys.readouterr()
    path = project / ".normcheck-baseline.json"
    before = path.read_bytes()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        from normcheck.baseline import write_atomic

        write_atomic(path, "{ half")
    assert path.read_bytes() == before
    assert [p.name for p in project.iterdir() if p.name.startswith(".normcheck-baseline")] == [
        ".normcheck-baseline.json"
    ]


def test_a_baseline_that_cannot_be_written_is_one_line_and_left_as_it_was(
    project, capsys, monkeypatch
):
    """A full disk while the baseline was written: an internal error (exit 3, "a bug
    in normcheck"). It is one line, exit 2; the baseline and its reasons as they were."""
    import errno

    assert main(["baseline", "--parse", "never"]) == 0
    capsys.readouterr()
    path = project / ".normcheck-baseline.json"
    before = path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    assert main(["baseline", "--parse", "never"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "normcheck: error: .normcheck-baseline.json: cannot write the baseline: "
        "No space left on device\n"
    )
    assert path.read_bytes() == before
    assert [p.name for p in project.iterdir() if p.name.startswith(".normcheck-baseline")] == [
        ".normcheck-baseline.json"
    ]


def test_baseline_never_replaces_what_is_not_a_baseline(project, capsys):
    """A wrong `--output` (the project's own dbt_project.yml, a folder, a path
    under a file) is one line and exit 2, and nothing is changed."""
    before = (project / "dbt_project.yml").read_bytes()
    (project / "empty.json").write_text("")
    cases = {
        "dbt_project.yml": "exists and is not a normcheck baseline: refusing to replace it",
        "dbt_project.yml/base.json": "cannot write the baseline:",
        "models": "is not a file: refusing to write the baseline there",  # from normcheck.yml
    }
    config = (project / "normcheck.yml").read_text()
    for target, message in cases.items():
        if target == "models":
            (project / "normcheck.yml").write_text(config + "baseline: models\n")
            code = main(["baseline", "--parse", "never"])
        else:
            code = main(["baseline", "--parse", "never", "--output", target])
        _, err = capsys.readouterr()
        assert code == 2, target
        assert err.startswith(f"normcheck: error: {target}: {message}"), err
        assert len(err.splitlines()) == 1
    (project / "normcheck.yml").write_text(config)
    assert (project / "dbt_project.yml").read_bytes() == before
    assert main(["baseline", "--parse", "never", "--output", "empty.json"]) == 0  # empty: fine
    assert json.loads((project / "empty.json").read_text())["version"] == 1
    # a baseline a merge left with conflict markers: rewritten, as that mends it
    text = (project / "empty.json").read_text().splitlines(keepends=True)
    conflicted = ["<<<<<<< HEAD\n", *text[:3], "=======\n", *text[:3], ">>>>>>> main\n"]
    (project / "empty.json").write_text("".join(conflicted + text[3:]))
    assert main(["baseline", "--parse", "never", "--output", "empty.json"]) == 0
    assert json.loads((project / "empty.json").read_text())["version"] == 1


def test_baseline_writes_through_a_link_and_keeps_the_files_mode(project, capsys):
    shared = project / "shared"
    shared.mkdir()
    (project / "link.json").symlink_to(Path("shared") / "base.json")
    old = os.umask(0o022)
    try:
        assert main(["baseline", "--parse", "never", "--output", "link.json"]) == 0
        assert "to shared/base.json" in capsys.readouterr().out
        assert (project / "link.json").is_symlink()
        assert json.loads((shared / "base.json").read_text())["entries"]
        assert (shared / "base.json").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
        (shared / "base.json").chmod(0o664)
        assert main(["baseline", "--parse", "never", "--output", "link.json"]) == 0
        assert (shared / "base.json").stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(old)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param("{", "invalid baseline JSON", id="broken JSON"),
        pytest.param("[" * 100_000, "nested too deeply", id="nested too deeply"),
        pytest.param(
            '{"version": 2, "entries": []}',
            "b.json:1: baseline version 2 is newer than this normcheck reads (version 1): "
            "upgrade normcheck",
            id="version",
        ),
        pytest.param('{"version": "1", "entries": []}', "not a normcheck baseline", id="text"),
        pytest.param(
            '{"version": true, "entries": []}', "not a normcheck baseline", id="true is not 1"
        ),
        pytest.param('{"version": 1}', "no `entries` list", id="no entries"),
        pytest.param(
            '{"version": 1, "entries": [{"rule": 1}]}', "needs rule, resource", id="bad entry"
        ),
        pytest.param(
            '{"version": 1,\n "entries": [\n  {"rule": "a", "resource": "b", "fingerprint": "c"},'
            '\n  {"rule": "a", "resource": "b"}\n]}',
            "b.json:4: baseline entry needs rule, resource and fingerprint (text)",
            id="the entry's line",
        ),
        pytest.param(
            '{"version": 1, "entries": [\n{"rule": "a", "resource": "b", "fingerprint": "c",'
            ' "why": "x"}]}',
            "b.json:2: baseline entry has unknown key `why`",
            id="unknown key",
        ),
        pytest.param(
            '{"version": 1, "entries": [\n{"rule": "a", "resource": "b", "fingerprint": "c",'
            ' "reason": 3}]}',
            "b.json:2: baseline entry's `reason` must be text",
            id="reason not text",
        ),
    ],
)
def test_broken_baseline_is_exit_2(project, capsys, text, needle):
    (project / "b.json").write_text(text)
    code, _, err = check(capsys, "--baseline", "b.json")
    assert code == 2
    assert needle in err
    assert check(capsys, "--baseline", "missing.json")[0] == 2


def test_warm_run_reuses_the_cache(project, capsys, monkeypatch):
    first = check(capsys)
    calls = []
    real = run_module._evaluate_project

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(run_module, "_evaluate_project", counted)
    assert check(capsys) == first
    assert check(capsys, "models/marts/orders.sql")[1]["findings"] == [
        f for f in first[1]["findings"] if f["resource"] == "model.shop.orders"
    ]
    assert calls == [], "a warm run must not read the manifest again"
    assert check(capsys, "--no-cache") == first
    assert len(calls) == 1
    (project / "normcheck.yml").write_text(CONFIG + "  docs/missing-description: 'off'\n")
    _, changed, _ = check(capsys)
    assert len(calls) == 2, "a configuration change invalidates the cache"
    assert changed != first[1]


def test_a_warm_run_limited_to_some_files_sees_a_changed_properties_file(project, capsys):
    """A run given files checks only those for a stale manifest (pre-commit: a file
    it did not pass may have changed, its unstaged edit stashed away): the
    properties file its findings are placed in changed since the stored run, so
    the warm run places them as a cold one does, not at the lines of before."""
    model = "models/staging/stg_orders.sql"

    def placed(report: dict) -> list[tuple[str, int]]:
        return [
            (f["rule"], f["line"])
            for f in report["findings"]
            if f["resource"] == "model.shop.stg_orders"
            and f["file"] == "models/staging/_models.yml"
        ]

    before = placed(check(capsys, model)[1])
    assert before
    properties = project / "models/staging/_models.yml"
    with properties.open("r+") as handle:  # in place: its folder's time stays as it was
        text = handle.read()
        handle.seek(0)
        handle.write("# the staging models\n" + text)
    cold = check(capsys, "--no-cache", model)
    assert placed(cold[1]) == [(rule, line + 1) for rule, line in before]
    assert check(capsys, model) == cold


def test_the_manifest_is_read_ahead_only_when_no_stored_run_can_be_used(project, capsys):
    """While the configuration loads, the manifest is read on a thread: on a
    cold run only. Once a run is stored for the manifest as it is, a warm run
    may not need it at all, and it is not read ahead."""
    manifest = project / "target" / "manifest.json"
    options = run_module.RunOptions(project_dir=project, parse="never")
    assert run_module._read_ahead(options) == manifest  # nothing stored yet
    first = check(capsys)
    assert run_module._read_ahead(options) is None
    assert run_module._read_ahead(run_module.RunOptions(project, use_cache=False)) == manifest
    always = run_module.RunOptions(project_dir=project, parse="always")
    assert run_module._read_ahead(always) is None, "dbt parse writes it anew"
    explicit = run_module.RunOptions(project, manifest=manifest, parse="always", use_cache=False)
    assert run_module._read_ahead(explicit) == manifest, "--manifest is never re-parsed"
    os.utime(manifest, ns=(manifest.stat().st_atime_ns, manifest.stat().st_mtime_ns + 10**9))
    assert run_module._read_ahead(options) == manifest, "a stored run is of the old manifest"
    assert check(capsys) == first
    assert not [t for t in threading.enumerate() if t.name == "normcheck-manifest-read"]


MESH_A = {
    "models/marts/fct_orders.sql": "{{ config(access='public', meta={'owner': 'a'}) }}\nselect 1 as id\n",
    "models/marts/_models.yml": "version: 2\nmodels:\n  - name: fct_orders\n    description: One row per order placed in the shop.\n",
}
MESH_B = {
    "packages.yml": "packages:\n  - local: ../project_a\n",
    "models/staging/stg_upstream_orders.sql": "{{ config(meta={'owner': 'b'}) }}\nselect * from {{ ref('project_a', 'fct_orders') }}\n",
    "models/staging/_models.yml": "version: 2\nmodels:\n  - name: stg_upstream_orders\n    description: Orders as project A publishes them.\n",
    "normcheck.yml": "extends: [../normcheck.yml]\nteam: team-b\nrules:\n  governance/public-model-contract: 'off'\n",
}


def test_monorepo_checks_every_project_with_its_own_config(tmp_path, monkeypatch, capsys):
    a = build_dbt_project(tmp_path, MESH_A, name="project_a")
    b = tmp_path / "project_b"
    write_files(b, MESH_B)
    build_dbt_project(tmp_path, MESH_B, name="project_b", parse=False)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dbt.cli.main",
            "deps",
            "--project-dir",
            str(b),
            "--profiles-dir",
            str(b),
            "--quiet",
        ],
        check=False,
        capture_output=True,
    )
    from conftest import dbt_parse

    (b / "dbt_packages").mkdir(exist_ok=True)
    if not (b / "dbt_packages" / "project_a").exists():
        (b / "dbt_packages" / "project_a").symlink_to(a)
    dbt_parse(b)
    (tmp_path / "normcheck.yml").write_text(
        "version: 1\nteam: central\nprojects: [project_a, project_b]\n"
        "rules:\n  governance/group-required: 'off'\n  sql/undocumented-column: 'off'\n"
    )
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--format", "json", "--parse", "never"])
    out, err = capsys.readouterr()
    report = json.loads(out)
    got = sorted((f["rule"], f["resource"], f["file"]) for f in report["findings"])
    assert got == [
        (
            "governance/public-model-contract",
            "model.project_a.fct_orders",
            "project_a/models/marts/_models.yml",
        ),
    ], err
    assert code == 1
    # each project's own fail_on decides on its own findings
    (a / "normcheck.yml").write_text("extends: [../normcheck.yml]\nfail_on: never\n")
    assert main(["check", "--format", "json", "--parse", "never"]) == 0
    assert len(json.loads(capsys.readouterr().out)["findings"]) == 1
    # one manifest cannot stand for every project
    assert main(["check", "--parse", "never", "--manifest", "project_a/x.json"]) == 2
    assert "the configuration lists `projects:`" in capsys.readouterr().err
    # inside a project whose configuration extends the monorepo's: that project only
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(b)
    assert main(["check", "--format", "json", "--parse", "never"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_monorepo_baselines_per_project_or_one_for_all(tmp_path, monkeypatch, capsys):
    """`normcheck baseline` writes each project's debt where `check` reads it (the
    project's folder); one file for all (--output, --baseline) holds every project's
    debt, and no project calls the others' entries stale."""
    for name in ("shop", "crm"):
        build_dbt_project(tmp_path, {"models/marts/orders.sql": "select 1 as id\n"}, name=name)
    root = "version: 1\nprojects: [shop, crm]\nrules:\n  governance/group-required: 'off'\n"
    (tmp_path / "normcheck.yml").write_text(root)
    monkeypatch.chdir(tmp_path)
    code, before, _ = check(capsys)
    assert code == 1
    per_project = {
        name: len([f for f in before["findings"] if f["file"].startswith(f"{name}/")])
        for name in ("shop", "crm")
    }
    assert all(per_project.values())
    assert main(["baseline", "--parse", "never"]) == 0
    out = capsys.readouterr().out
    for name, count in per_project.items():
        assert f"wrote {count} entries to {name}/.normcheck-baseline.json" in out
        # where `check` will not read it, each project is named with its configuration
        assert (
            f"`check` reads no baseline in {name}: add `baseline: .normcheck-baseline.json` "
            "to normcheck.yml, or pass --baseline"
        ) in out
    (tmp_path / "normcheck.yml").write_text(root + "baseline: .normcheck-baseline.json\n")
    (tmp_path / "crm" / "normcheck.yml").write_text("extends: [normcheck:default]\n")
    assert main(["baseline", "--parse", "never"]) == 0
    out = capsys.readouterr().out
    assert "reads no baseline in shop" not in out
    assert (
        "`check` reads no baseline in crm: add `baseline: .normcheck-baseline.json` to "
        "crm/normcheck.yml, or pass --baseline"
    ) in out
    (tmp_path / "crm" / "normcheck.yml").unlink()
    assert main(["baseline", "--parse", "never"]) == 0
    assert "reads no baseline" not in capsys.readouterr().out
    code, after, err = check(capsys)
    assert (code, after["findings"], err) == (0, [], "")
    assert after["summary"]["baselined"] == sum(per_project.values())
    # one file for every project
    assert main(["baseline", "--parse", "never", "--output", "all.json"]) == 0
    assert f"wrote {sum(per_project.values())} entries to all.json" in capsys.readouterr().out
    (tmp_path / "normcheck.yml").write_text(root)
    code, after, err = check(capsys, "--baseline", "all.json")
    assert (code, after["findings"], err) == (0, [], "")  # no "entries no longer match"
    # a rule one project locks in its own configuration stays out of the shared file
    (tmp_path / "crm" / "normcheck.yml").write_text(
        "extends: [../normcheck.yml]\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    assert main(["baseline", "--parse", "never", "--output", "all.json"]) == 0
    assert "1 finding of locked rules is not baselined" in capsys.readouterr().out
    code, after, err = check(capsys, "--baseline", "all.json")
    assert [f["rule"] for f in after["findings"]] == ["naming/model-prefix"]
    (tmp_path / "crm" / "normcheck.yml").unlink()
    # pruning: a project without a baseline yet (new to the monorepo) is said, not an error
    (tmp_path / "crm/.normcheck-baseline.json").unlink()
    (tmp_path / "normcheck.yml").write_text(root + "baseline: .normcheck-baseline.json\n")
    assert main(["baseline", "--parse", "never", "--prune"]) == 0
    out = capsys.readouterr().out
    assert "no baseline at crm/.normcheck-baseline.json: nothing to prune" in out
    assert "pruned 0 stale entries" in out
    (tmp_path / "normcheck.yml").write_text(root)
    assert main(["baseline", "--parse", "never", "--output", "all.json"]) == 0
    capsys.readouterr()
    # a rule off in one project only: that project's entries of it are not paid off
    shared = (tmp_path / "all.json").read_text()
    assert "model.crm.orders" in shared and "naming/model-prefix" in shared
    (tmp_path / "crm" / "normcheck.yml").write_text(
        "extends: [../normcheck.yml]\nrules:\n  naming/model-prefix: 'off'\n"
    )
    for args in (["--prune"], []):
        assert main(["baseline", "--parse", "never", "--output", "all.json", *args]) == 0
        capsys.readouterr()
        assert (tmp_path / "all.json").read_text() == shared, args
    (tmp_path / "crm" / "normcheck.yml").unlink()
    # a project's paid-off debt is still told
    (tmp_path / "crm/models/marts/orders.sql").unlink()
    (tmp_path / "crm/models/marts/fct_orders.sql").write_text("select 1 as id\n")
    main(["check", "-q", "--parse", "always", "--baseline", "all.json"])
    assert "baseline entries no longer match" in capsys.readouterr().err


def test_ci_formats_name_files_from_the_repository_root(project, capsys):
    """Code scanning and PR annotations read paths from the repository's root: run
    in a project folder of the repository, they (and JUnit, which GitLab reads)
    get `shop/models/...` while the console shows paths from the working folder."""
    git(project.parent, "init", "-q", "-b", "main")
    code, report, _ = check(capsys)
    assert code == 1
    files = sorted({f["file"] for f in report["findings"]})
    assert files and not any(f.startswith("shop/") for f in files)
    main(["check", "--parse", "never", "--format", "github"])
    annotations = capsys.readouterr().out
    for file in files:
        assert f"file=shop/{file}," in annotations
    main(["check", "--parse", "never", "--format", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert uris == {f"shop/{file}" for file in files}
    main(["check", "--parse", "never", "--format", "junit"])
    junit = capsys.readouterr().out
    named = set(re.findall(r'file="([^"]+)"', junit))
    assert named and named <= {f"shop/{file}" for file in files}
    for file in named:
        assert f" at {file}:" in junit  # the failure's text too


def test_monorepo_reports_a_lock_violation_of_the_root_config_once(tmp_path, monkeypatch, capsys):
    """Projects at different depths: one finding, one fingerprint (not one a project)."""
    build_dbt_project(tmp_path, {"models/marts/fct_orders.sql": "select 1 as id\n"})
    build_dbt_project(tmp_path / "teams", {"models/marts/fct_x.sql": "select 1 as id\n"}, "crm")
    (tmp_path / "central.yml").write_text(
        "version: 1\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    (tmp_path / "normcheck.yml").write_text(
        "version: 1\nextends: [central.yml]\nprojects: [shop, teams/crm]\n"
        "rules:\n  naming/model-prefix: warning\n"
    )
    monkeypatch.chdir(tmp_path)
    _, report, _ = check(capsys)
    locked = [f for f in report["findings"] if f["rule"] == "normcheck/locked-rule"]
    assert [(f["file"], f["line"]) for f in locked] == [("normcheck.yml", 5)]


def test_a_monorepo_project_that_drops_the_monorepos_locks_is_reported(
    tmp_path, monkeypatch, capsys
):
    """A project's own configuration that extends neither the monorepo's nor its
    central rule set escaped every lock, silently."""
    build_dbt_project(tmp_path, {"models/marts/fct_orders.sql": "select 1 as id\n"})
    crm = build_dbt_project(tmp_path, {"models/marts/x.sql": "select 1 as id\n"}, "crm")
    (tmp_path / "central.yml").write_text(
        "version: 1\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    (tmp_path / "normcheck.yml").write_text(
        "version: 1\nextends: [central.yml]\nprojects: [shop, crm]\n"
    )
    (crm / "normcheck.yml").write_text(
        "version: 1\nextends: [normcheck:default]\nrules:\n  naming/model-prefix: 'off'\n"
    )
    monkeypatch.chdir(tmp_path)
    code, report, _ = check(capsys)
    locked = [f for f in report["findings"] if f["rule"] == "normcheck/locked-rule"]
    assert [(f["file"], f["line"]) for f in locked] == [("crm/normcheck.yml", 2)]
    assert "locks do not hold here (`naming/model-prefix`)" in locked[0]["message"]
    assert code == 1
    # extending the rule set that locks them is enough
    (crm / "normcheck.yml").write_text("version: 1\nextends: [../central.yml]\n")
    _, report, _ = check(capsys)
    assert not [f for f in report["findings"] if f["rule"] == "normcheck/locked-rule"]
    assert [f["resource"] for f in report["findings"]] == ["model.crm.x"]


def test_messages_name_configuration_places_from_the_repository_root(project, capsys, monkeypatch):
    """A lock's place in a message was relative to the working folder, so SARIF and
    annotations differed between CI (at the root) and a run from a subfolder."""
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "governance").mkdir()
    (project / "governance" / "central.yml").write_text(
        "extends: [normcheck:default]\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    (project / "normcheck.yml").write_text(
        "extends: [governance/central.yml]\nrules:\n  naming/model-prefix: warning\n"
    )
    reports = []
    for fmt in ("sarif", "markdown"):  # markdown: a PR summary names paths as the PR does
        for folder, args in ((project, ()), (project / "models", ("--project-dir", ".."))):
            monkeypatch.chdir(folder)
            main(["check", "--format", fmt, "--parse", "never", *args])
            reports.append(capsys.readouterr().out)
    assert reports[0] == reports[1] and reports[2] == reports[3]
    assert "it was locked at governance/central.yml:3" in reports[0]
    assert "`models/marts/orders.sql:1`" in reports[2]


def test_a_project_installed_from_a_local_folder_makes_the_manifest_stale(tmp_path):
    """`packages: [{local: ../platform}]` parses platform's files into this manifest:
    a model made protected there changes this project's findings, so it re-parses."""
    shop, platform = tmp_path / "shop", tmp_path / "platform"
    write_files(
        shop,
        {
            "dbt_project.yml": "name: shop\n",
            "packages.yml": "packages:\n  - local: ../platform\n",
            "models/a.sql": "select 1 as id\n",
            "target/manifest.json": "{}",
        },
    )
    write_files(
        platform,
        {
            "dbt_project.yml": "name: platform\n",
            "models/_models.yml": "version: 2\n",
            "notes.txt": "not dbt's\n",
        },
    )
    manifest = shop / "target" / "manifest.json"
    built = (platform / "notes.txt").stat().st_mtime_ns + 10**9
    os.utime(manifest, ns=(built, built))
    later = built + 10**9
    assert needs_parse("never", shop, manifest, []) is None
    assert local_packages(shop) == [platform.resolve()]
    os.utime(platform / "notes.txt", ns=(later, later))
    assert needs_parse("never", shop, manifest, []) is None
    changed = platform / "models" / "_models.yml"
    os.utime(changed, ns=(later, later))
    for paths in ([], [changed]):
        stale = needs_parse("never", shop, manifest, paths)
        assert stale is not None and "_models.yml is newer than the manifest" in stale[0]


def test_a_changed_group_file_brings_in_its_models(tmp_path, monkeypatch, capsys):
    """A model takes its group's owner: a staged groups YAML with a misspelt owner
    reported nothing, though a full run fails on each of the group's models."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/_groups.yml": "version: 2\ngroups:\n  - name: finance\n"
            "    owner: {name: finanse}\n",
            "models/marts/fct_revenue.sql": "{{ config(group='finance') }}\nselect 1 as id\n",
            "models/marts/fct_other.sql": "select 1 as id\n",
            "normcheck.yml": "extends: []\nowners: {finance: {}}\n"
            "rules:\n  ownership/unknown-owner: error\n",
        },
    )
    monkeypatch.chdir(root)
    _, full, _ = check(capsys)
    assert [f["resource"] for f in full["findings"]] == ["model.shop.fct_revenue"]
    code, staged, _ = check(capsys, "models/_groups.yml")
    assert (code, staged["findings"]) == (1, full["findings"])
    _, other, _ = check(capsys, "models/marts/fct_other.sql")
    assert other["findings"] == []


def test_baseline_entries_of_rules_that_did_not_run_are_not_stale(project, capsys):
    """`check --select R --baseline F` called every entry of the other rules "no longer
    matches (debt paid off)": those rules did not run, so nothing is known about them."""
    _, before, _ = check(capsys)
    rules = {f["rule"] for f in before["findings"] if not f["rule"].startswith("normcheck/")}
    assert len(rules) > 1
    assert main(["baseline", "--parse", "never"]) == 0
    capsys.readouterr()
    selected = sorted(rules)[0]
    _, after, err = check(capsys, "--select", selected, "--baseline", ".normcheck-baseline.json")
    assert after["summary"]["baselined"] > 0
    assert "no longer match" not in err
    # a rule that ran and whose finding is gone is still told
    data = json.loads((project / ".normcheck-baseline.json").read_text())
    data["entries"].append(
        {"rule": selected, "resource": "model.shop.gone", "fingerprint": "0" * 20}
    )
    (project / ".normcheck-baseline.json").write_text(json.dumps(data))
    _, _, err = check(capsys, "--select", selected, "--baseline", ".normcheck-baseline.json")
    assert "1 baseline entry no longer matches (fixed, renamed or removed)" in err


def test_baseline_keeps_reasons_and_the_entries_of_rules_that_did_not_run(project, capsys):
    """`baseline --prune` with a rule switched off dropped that rule's entries (the
    check called none of them stale), and debt accepted came back as new once the
    rule was on again; a reason written in an entry was wiped by any rewrite."""
    assert main(["baseline", "--parse", "never"]) == 0
    capsys.readouterr()
    path = project / ".normcheck-baseline.json"
    data = json.loads(path.read_text())
    rules = sorted({e["rule"] for e in data["entries"]})
    assert len(rules) > 1
    off, kept = rules[0], rules[-1]
    for entry in data["entries"]:
        if entry["rule"] == kept:
            entry["reason"] = "owner renamed in Q3, ticket DATA-123"
    path.write_text(json.dumps(data))
    (project / "normcheck.yml").write_text(CONFIG + f"  {off}: 'off'\n")
    assert main(["baseline", "--parse", "never", "--prune"]) == 0
    out, _ = capsys.readouterr()
    assert "pruned 0 stale entries" in out
    assert f"of rules that did not run (`{off}`): not judged" in out

    def same(entries: list[dict]) -> list[str]:
        return sorted(json.dumps(e, sort_keys=True) for e in entries)

    assert same(json.loads(path.read_text())["entries"]) == same(data["entries"])
    # written anew: the same, reasons and all, and what changed is said
    assert main(["baseline", "--parse", "never"]) == 0
    assert "no longer found" not in capsys.readouterr().out
    assert same(json.loads(path.read_text())["entries"]) == same(data["entries"])
    # an entry whose finding is gone, and a finding not in it: said, and its reason
    # gone with it (another fingerprint is other debt)
    victim = next(e for e in data["entries"] if e["rule"] == kept)
    path.write_text(path.read_text().replace(victim["fingerprint"], "0" * 20))
    assert main(["baseline", "--parse", "never"]) == 0
    assert "(1 new, 1 no longer found)" in capsys.readouterr().out
    del victim["reason"]
    assert same(json.loads(path.read_text())["entries"]) == same(data["entries"])


def test_entries_of_a_rule_that_no_longer_exists_are_stale(project, capsys):
    """A rule removed or renamed (a pack's new version): `check` never called its
    entries stale and both `--prune` and a rewrite kept them, for ever."""
    assert main(["baseline", "--parse", "never"]) == 0
    capsys.readouterr()
    path = project / ".normcheck-baseline.json"
    data = json.loads(path.read_text())
    before = len(data["entries"])
    data["entries"].append(
        {"rule": "acme/gone", "resource": "model.shop.orders", "fingerprint": "1" * 20}
    )
    path.write_text(json.dumps(data))
    _, _, err = check(capsys, "--baseline", str(path))
    assert "1 baseline entry no longer matches" in err
    assert main(["baseline", "--parse", "never", "--prune"]) == 0
    assert "pruned 1 stale entry" in capsys.readouterr().out
    assert len(json.loads(path.read_text())["entries"]) == before


def test_baseline_will_not_rewrite_a_baseline_it_cannot_read(project, capsys):
    """A rewrite replaced a baseline of a newer version, or with an entry it could
    not read, with its own, losing every reason: only one that is no JSON (a merge's
    conflict markers) is written anew."""
    path = project / ".normcheck-baseline.json"
    newer = '{"version": 2, "entries": [{"rule": "a", "resource": "b", "fingerprint": "c"}]}\n'
    path.write_text(newer)
    assert main(["baseline", "--parse", "never"]) == 2
    assert "baseline version 2 is newer" in capsys.readouterr().err
    assert path.read_text() == newer
    path.write_text('{"version": 1, "entries": [\n<<<<<<< HEAD\n]}\n')
    assert main(["baseline", "--parse", "never"]) == 0
    assert json.loads(path.read_text())["entries"]


def test_a_baseline_written_anew_keeps_the_reasons_its_lines_still_say(project, capsys):
    """A comma too many after a hand-written reason, or a merge's conflict markers,
    make the file no JSON: `normcheck baseline` wrote it anew and silently lost every
    reason. It says so, and keeps the reasons (and entries) its lines still hold."""
    path = project / ".normcheck-baseline.json"
    assert main(["baseline", "--parse", "never"]) == 0
    lines = path.read_text().splitlines()
    first, second = [n for n, line in enumerate(lines) if '"fingerprint"' in line][:2]
    lines[first] = lines[first].replace('"rule":', '"reason": "agreed with finance", "rule":')
    lines[second] = lines[second].replace('"}', '", "reason": "legacy",}')
    lines.insert(second, "<<<<<<< HEAD")
    path.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["baseline", "--parse", "never"]) == 0
    out = capsys.readouterr().out
    assert "invalid baseline JSON" in out
    assert "writing it anew (keeping the reasons of 2 entries)" in out
    reasons = {e.get("reason") for e in json.loads(path.read_text())["entries"]}
    assert {"agreed with finance", "legacy"} <= reasons


def test_a_large_baseline_loads_in_linear_time(tmp_path):
    from normcheck.baseline import load

    entries = [
        {"rule": "naming/model-prefix", "resource": f"model.s.m{i}", "fingerprint": f"{i:020}"}
        for i in range(5_000)
    ]
    path = tmp_path / "b.json"
    path.write_text(
        '{\n  "version": 1,\n  "entries": [\n'
        + ",\n".join("    " + json.dumps(e, sort_keys=True) for e in entries)
        + "\n  ]\n}\n"
    )
    loaded = load(path, "b.json")
    assert [e.line for e in loaded[:2]] == [4, 5] and loaded[-1].line == 5_003


def test_a_local_fail_on_never_does_not_pass_a_locked_rules_errors(project, capsys):
    """`fail_on: never` in a team's file passed every locked rule's errors too."""
    (project / "central.yml").write_text(
        "extends: [normcheck:default]\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    (project / "normcheck.yml").write_text(
        "extends: [central.yml]\nfail_on: never\nrules:\n  governance/group-required: 'off'\n"
    )
    code, report, _ = check(capsys)
    assert "naming/model-prefix" in {f["rule"] for f in report["findings"]}
    assert code == 1
    code, _, _ = check(capsys, "--ignore", "naming")  # a locked rule still runs
    assert code == 1
    assert check(capsys, "--fail-on", "never")[0] == 0  # the command line decides
    # the central set's own `fail_on: never` (a rollout) stands
    (project / "central.yml").write_text(
        "extends: [normcheck:default]\nfail_on: never\n"
        "rules:\n  naming/model-prefix: {severity: error, locked: true}\n"
    )
    (project / "normcheck.yml").write_text(
        "extends: [central.yml]\nrules:\n  governance/group-required: 'off'\n"
    )
    assert check(capsys)[0] == 0
    (project / "central.yml").write_text("extends: [normcheck:default]\n")
    (project / "normcheck.yml").write_text(
        "extends: [central.yml]\nfail_on: never\nrules:\n  governance/group-required: 'off'\n"
    )
    code, report, _ = check(capsys)
    assert report["summary"]["error"] > 0 and code == 0  # unlocked errors: the team's call


def test_a_team_may_repeat_the_central_sets_own_relaxation(project, capsys):
    """The central set lowers its locked rule for marts; a team's override lowering it
    as far for some of those models weakens nothing (it was refused), one for every
    model weakens it where the central set did not lower it."""
    (project / "central.yml").write_text(
        "extends: [normcheck:default]\nrules:\n"
        "  docs/missing-description: {severity: error, locked: true}\n"
        "overrides:\n  - match: {paths: ['models/marts/**']}\n"
        "    rules: {docs/missing-description: info}\n"
    )
    local = "extends: [central.yml]\nrules:\n  governance/group-required: 'off'\noverrides:\n"
    (project / "normcheck.yml").write_text(
        local + "  - match: {paths: ['models/marts/orders*']}\n"
        "    rules: {docs/missing-description: info}\n"
    )
    _, report, _ = check(capsys, "--select", "docs,normcheck")
    assert not [f for f in report["findings"] if f["rule"] == "normcheck/locked-rule"]
    severities = {
        f["resource"]: f["severity"]
        for f in report["findings"]
        if f["rule"] == "docs/missing-description"
    }
    assert (severities["model.shop.orders"], severities["model.shop.stg_orders"]) == (
        "info",
        "error",
    )
    (project / "normcheck.yml").write_text(
        local + "  - match: {paths: ['models/**']}\n    rules: {docs/missing-description: info}\n"
    )
    code, report, _ = check(capsys, "--select", "docs,normcheck")
    (locked,) = [f for f in report["findings"] if f["rule"] == "normcheck/locked-rule"]
    assert locked["line"] == 6 and code == 1
    stg = [f for f in report["findings"] if f["resource"] == "model.shop.stg_orders"]
    assert [f["severity"] for f in stg] == ["error"]


def test_without_dbt_project_yml_a_model_file_is_no_macro(tmp_path):
    """With `--manifest` from a folder with no dbt_project.yml, every changed .sql
    counted as a possible macro: the pre-commit run decoded all the manifest's macros
    (0.4 s and 150 MB more on 5,000 models). dbt's default `macros/` applies."""
    from normcheck.dbt_parse import macro_folders

    assert macro_folders(tmp_path) == [(tmp_path / "macros").resolve()]
    (tmp_path / "dbt_project.yml").write_text("name: x\nmacro-paths: ['{{ var(\"m\") }}']\n")
    assert macro_folders(tmp_path) == [tmp_path.resolve()]  # cannot tell: the whole project


IDLE = """\
overrides:
  - match: {paths: ["models/staging/**"]}
    rules: {docs/missing-description: info}
  - match: {paths: ["model/marts/**"], tags: [nightly]}
    rules: {docs/missing-description: 'off'}
"""


def idle(report: dict) -> list[tuple[str, int, str]]:
    return [
        (f["file"], f["line"], f["message"])
        for f in report["findings"]
        if f["rule"] == "normcheck/unused-override"
    ]


def test_an_override_of_the_configuration_that_matches_nothing_is_reported(project, capsys):
    """A `paths:` glob with a typo changed nothing, silently."""
    (project / "normcheck.yml").write_text(CONFIG + IDLE)
    _, report, _ = check(capsys)
    message = (
        "override matches none of the project's resources (paths `model/marts/**`; tags "
        "`nightly`), so it changes nothing: fix its `match`, or remove it"
    )
    assert idle(report) == [("normcheck.yml", 7, message)]
    assert idle(check(capsys)[1]) == idle(report)  # the warm run too
    # moved down a line, the same finding (its fingerprint is what it matches and sets)
    (project / "normcheck.yml").write_text(CONFIG + "# a comment\n" + IDLE)
    moved = [f for f in check(capsys)[1]["findings"] if f["rule"] == "normcheck/unused-override"]
    first = [f for f in report["findings"] if f["rule"] == "normcheck/unused-override"]
    assert [f["fingerprint"] for f in moved] == [f["fingerprint"] for f in first]
    assert [f["line"] for f in moved] == [8]
    (project / "normcheck.yml").write_text(CONFIG + IDLE)
    # only a whole-project run can tell: a run on a model's file does not say it
    assert idle(check(capsys, "models/marts/orders.sql")[1]) == []
    assert idle(check(capsys, "normcheck.yml")[1]) == idle(report)  # the config changed
    assert idle(check(capsys, "--select", "docs")[1]) == []
    # the same override in a rule set the configuration extends: the central team's
    # norms for projects that have such a folder, not this team's mistake
    (project / "central.yml").write_text("version: 1\nextends: [normcheck:default]\n" + IDLE)
    (project / "normcheck.yml").write_text("extends: [central.yml]\n" + CONFIG)
    assert "normcheck/unused-override" in run(RunOptions(Path(), parse="never")).rules_run
    assert idle(check(capsys)[1]) == []
    # another name given with --config is the configuration all the same
    (project / "team.yml").write_text(CONFIG + IDLE)
    assert [i[:2] for i in idle(check(capsys, "--config", "team.yml")[1])] == [("team.yml", 7)]
    (project / "normcheck.yml").write_text(CONFIG + "  normcheck/unused-override: 'off'\n" + IDLE)
    assert idle(check(capsys)[1]) == []


def test_a_monorepo_override_for_one_project_is_not_unused_in_the_other(
    tmp_path, monkeypatch, capsys
):
    build_dbt_project(tmp_path, {"models/marts/fct_orders.sql": "select 1 as id\n"})
    build_dbt_project(tmp_path, {"models/legacy/fct_x.sql": "select 1 as id\n"}, "crm")
    (tmp_path / "normcheck.yml").write_text(
        "version: 1\nprojects: [shop, crm]\noverrides:\n"
        "  - match: {paths: ['models/legacy/**']}\n"
        "    rules: {docs/missing-description: info}\n"
        "  - match: {paths: ['models/legacy/*.yml']}\n"
        "    rules: {docs/missing-description: info}\n"
    )
    monkeypatch.chdir(tmp_path)
    _, report, _ = check(capsys)
    assert [i[:2] for i in idle(report)] == [("normcheck.yml", 6)]
    # inside a project whose own file extends the root's: the root's overrides are for
    # the other projects too, not this run's to judge
    (tmp_path / "shop" / "normcheck.yml").write_text("extends: [../normcheck.yml]\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # `extends` reaches it
    monkeypatch.chdir(tmp_path / "shop")
    assert idle(check(capsys)[1]) == []
    monkeypatch.chdir(tmp_path)  # the monorepo's run still judges them
    assert [i[:2] for i in idle(check(capsys)[1])] == [("normcheck.yml", 6)]


def test_a_malformed_sql_suppression_comment_is_said_to_have_no_effect(
    tmp_path, monkeypatch, capsys
):
    """`-- normcheck: ignore[rule reason` (no `]`) and `-- normcheck: ignore rule` hid
    nothing and said nothing; `ignore[]` and `ignore[a,]` reported a suppression of ``."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/fct_a.sql": "-- normcheck: ignore[docs/missing-description later\n"
            "-- normcheck: ignore docs/missing-description\n"
            "-- normcheck: ignore[]\n"
            "-- normcheck:ignore[docs/missing-description,] a reason\n"
            "select 1 as a\n",
            "normcheck.yml": "extends: [normcheck:default]\n",
        },
    )
    monkeypatch.chdir(root)
    _, report, _ = check(capsys, "--select", "docs,normcheck")
    got = [(f["rule"], f["line"], f["message"]) for f in report["findings"]]
    form = "(`-- normcheck: ignore[rule, ...] reason`)"
    assert got == [
        (
            "normcheck/unused-suppression",
            1,
            f"model `fct_a` has a `-- normcheck: ignore[` without its `]` on the same line {form}: "
            "it has no effect",
        ),
        (
            "normcheck/unused-suppression",
            2,
            "model `fct_a` has a `-- normcheck:` comment that is not "
            "`-- normcheck: ignore[rule, ...] reason`: it has no effect",
        ),
        (
            "normcheck/unused-suppression",
            3,
            f"model `fct_a` has a `-- normcheck: ignore[]` that names no rule {form}: "
            "it has no effect",
        ),
    ], "line 4 hides the finding; its empty second id is no rule"
    assert report["summary"]["suppressed"] == 1


def test_a_python_model_is_suppressed_by_a_python_comment(tmp_path, monkeypatch, capsys):
    """A Python model cannot hold `-- normcheck: ignore[...]` as a line of its own: its
    `# normcheck: ignore[...]` comment was not read (its findings stayed, nothing said)."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/payments.py": (
                "# normcheck: ignore[naming/model-prefix] the notebook reads this name\n"
                "# normcheck: ignore[docs/missing-description\n"
                "def model(dbt, session):\n"
                "    # -- normcheck: ignore[naming/model-directory] the SQL form, commented\n"
                "    return session.sql('select 1 as payment_id')\n"
            ),
            "normcheck.yml": "extends: [normcheck:default]\n",
        },
    )
    monkeypatch.chdir(root)
    _, report, _ = check(capsys, "--select", "naming,docs,normcheck")
    got = [(f["rule"], f["line"], f["message"]) for f in report["findings"]]
    form = "(`# normcheck: ignore[rule, ...] reason`)"
    assert got == [
        (
            "docs/missing-description",
            1,
            "model `payments` has no description: add `description:` to its YAML",
        ),
        (
            "normcheck/unused-suppression",
            2,
            f"model `payments` has a `# normcheck: ignore[` without its `]` on the same line {form}: "
            "it has no effect",
        ),
        (
            "normcheck/unused-suppression",
            4,
            "suppression of `naming/model-directory` on model `payments` hides nothing: remove it",
        ),
    ]
    assert report["summary"]["suppressed"] == 1


DIFFERENTIAL = {
    "models/staging/stg_orders.sql": (
        "select 1 as order_id, 'Order Completed' as event_text, 10 as amt\n"
    ),
    "models/marts/fct_orders.sql": (
        "-- the orders\nselect order_id, amt\n"
        "{% if config.get('materialized') == 'table' %}, 1 as in_tables{% endif %}\n"
        "from {{ ref('stg_orders') }}\nwhere event_text = 'Order Completed'\n"
    ),
    "models/marts/_marts.yml": """\
version: 2
models:
  - name: fct_orders
    description: One row per order placed in the web shop.
    config:
      materialized: table
      meta: {owner: growth}
    columns:
      - name: order_id
        description: The order.
""",
    "tracking/web.yml": """\
normcheck: plan/v1
plan: {id: web, owner: growth, warehouse: {profile: segment, event_column: event_text}}
events:
  - name: Order Completed
    description: Buyer finished payment and the order was accepted.
    owner: growth
""",
    "normcheck.yml": "version: 1\nextends: [normcheck:recommended]\n"
    "vocabulary: {preferred: {amt: amount}}\ntracking_plans: ['tracking/*.yml']\n"
    "rules:\n  governance/group-required: 'off'\n",
}


IGNORE = "-- normcheck: ignore[sql/undocumented-column] the new column is documented next"
CATALOG = json.dumps(
    {
        "nodes": {
            "model.shop.fct_orders": {
                "columns": {"order_id": {"name": "order_id", "type": "INTEGER", "index": 1}}
            }
        }
    }
)


def _edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / name
    text = path.read_text() if old else ""
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1))


def test_warm_runs_report_what_cold_runs_do_edit_after_edit(tmp_path, monkeypatch, capsys):
    """The differential check of the caches (the whole run's, the SQL facts'): after
    each edit a run with the cache of before reports what a run with none does, in
    every byte of its JSON and SARIF, for the whole project and for the edited file."""
    from conftest import dbt_parse

    root = build_dbt_project(tmp_path, DIFFERENTIAL)
    monkeypatch.chdir(root)
    warm = tmp_path / "warm"
    monkeypatch.setenv("NORMCHECK_CACHE_DIR", str(warm))
    fresh = iter(range(100))

    def reports(*paths: str) -> tuple[int, str, str]:
        code = main(
            ["check", "--parse", "never", "--format", "json", f"--output=sarif:{sarif}", *paths]
        )
        return code, capsys.readouterr().out, sarif.read_text()

    sarif = tmp_path / "report.sarif"
    reports()  # the cache of before
    edits = [  # (file, [(text, its replacement)], whether dbt reads it)
        (
            "models/marts/fct_orders.sql",
            [("select order_id, amt", "select order_id, amt, 2 as n"), ("-- the orders", IGNORE)],
            True,
        ),
        (
            "models/marts/_marts.yml",
            [
                ("materialized: table", "materialized: view"),  # the SQL's Jinja branches on it
                ("{owner: growth}", "{owner: growth, normcheck: {ignore: [{rule: x/y}]}}"),
                ("version: 2\n", "version: 2\n# the marts\n"),
            ],
            True,
        ),
        ("normcheck.yml", [("'off'", "'off'\n  sql/undocumented-column: error")], False),
        ("tracking/web.yml", [("name: Order Completed", "name: Order Placed")], False),
        ("target/catalog.json", [("", CATALOG)], False),
    ]
    for name, replacements, parse in edits:
        for old, new in replacements:
            _edit(root, name, old, new)
        if parse:
            dbt_parse(root)
        for paths in ((name,), ()):  # the pre-commit run first, with the cache of before
            got = reports(*paths)
            monkeypatch.setenv("NORMCHECK_CACHE_DIR", str(tmp_path / f"cold-{next(fresh)}"))
            assert got == reports(*paths), f"after editing {name}, checking {paths or 'all'}"
            monkeypatch.setenv("NORMCHECK_CACHE_DIR", str(warm))


def test_a_model_with_classic_mac_line_breaks_keeps_its_lines(tmp_path, monkeypatch, capsys):
    """A file whose lines end in a lone carriage return (classic Mac OS, some old
    editors) was one line to normcheck, though dbt, sqlglot and every editor see
    its lines: only the first suppression comment counted, the others hid nothing,
    and every finding placed by the code's text was on line 1."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/marts/payments.sql": "\r".join(
                [
                    "-- normcheck: ignore[naming/model-prefix] the BI tool reads this name",
                    "-- normcheck: ignore[docs/missing-description] described in the wiki",
                    "select 1 as payment_id",
                    "{{ config(meta={'owner': 'nobody'}) }}",
                    "",
                ]
            ),
            "normcheck.yml": "extends: [normcheck:default]\nowners: {growth: {}}\n",
        },
    )
    monkeypatch.chdir(root)
    _, report, _ = check(capsys, "--select", "naming,docs,ownership,normcheck")
    got = [(f["rule"], f["line"]) for f in report["findings"]]
    assert got == [("ownership/unknown-owner", 4)]
    assert report["summary"]["suppressed"] == 2


def _as_dbt_on_windows_writes_it(manifest: Path) -> None:
    """dbt on Windows writes every file path of its manifest with backslashes
    (`"original_file_path": "models\\\\staging\\\\stg_orders.sql"`, `"patch_path":
    "shop://models\\\\staging\\\\_models.yml"`)."""

    def windows(value: object) -> object:
        if isinstance(value, dict):
            return {
                k: v.replace("/", "\\").replace(":\\\\", "://")
                if k in ("original_file_path", "patch_path", "path") and isinstance(v, str)
                else windows(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [windows(v) for v in value]
        return value

    manifest.write_text(json.dumps(windows(json.loads(manifest.read_text()))))


def test_a_manifest_dbt_wrote_on_windows_gives_the_same_report(tmp_path, monkeypatch, capsys):
    """A manifest from dbt on Windows names its files `models\\\\marts\\\\x.sql`: every
    finding was at `models\\\\...:1` (the YAML was not found to place it), and a check of
    changed files (pre-commit, --since) reported nothing, in CI and on Windows (a
    changed doc block, group or macro did not bring in what it affects there)."""
    files = {
        **FILES,
        "models/docs.md": "{% docs orders %}\nTODO\n{% enddocs %}\n",
        "models/marts/orders.yml": (
            "version: 2\nmodels:\n  - name: orders\n    description: '{{ doc(\"orders\") }}'\n"
        ),
        "normcheck.yml": CONFIG,
    }
    root = build_dbt_project(tmp_path, files)
    monkeypatch.chdir(root)
    checks = [
        (),
        ("models/marts/orders.sql",),
        ("models/docs.md",),
        ("models/staging/_models.yml",),
    ]
    want = [check(capsys, *paths)[1] for paths in checks]
    assert all(report["findings"] for report in want)
    _as_dbt_on_windows_writes_it(root / "target" / "manifest.json")
    assert "models\\\\marts\\\\orders.sql" in (root / "target" / "manifest.json").read_text()
    assert [check(capsys, *paths)[1] for paths in checks] == want


@pytest.mark.parametrize(
    ("path", "text", "line"),
    [
        pytest.param(
            "models/marts/orders.sql",
            "-- the orders\n-- café\nselect 1 as id\n".encode("cp1252"),
            2,
            id="a model in Windows-1252",
        ),
        pytest.param(
            "models/staging/_models.yml",
            "version: 2\nmodels:\n  - name: stg_orders\n".encode("utf-16"),
            1,
            id="properties YAML in UTF-16 (PowerShell's Out-File)",
        ),
        pytest.param("models/docs.md", b"{% docs x %}\nna\xefve\n{% enddocs %}\n", 2, id="Latin-1"),
    ],
)
def test_a_project_file_dbt_cannot_decode_is_named(project, capsys, path, text, line):
    """dbt stops at a file that is not UTF-8 with `'utf-8' codec can't decode byte 0xe9
    in position 88`, naming no file, and logs a traceback: normcheck said that, the whole
    traceback in its one line, at `dbt_project.yml`."""
    time.sleep(0.01)
    (project / path).write_bytes(text)
    code = main(["check", "--format", "json", "--parse", "auto"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err == (
        f"normcheck: error: {path}:{line}: `dbt parse` failed: the file is not valid UTF-8, "
        "the only encoding dbt reads (saved as Windows-1252, Latin-1, UTF-16?): save it as UTF-8\n"
    )


def test_dbts_traceback_is_not_in_the_one_line_of_a_failed_parse():
    from normcheck.dbt_parse import _reason

    logged = (
        "\x1b[0m20:17:15  Encountered an error:\nboom\n"
        "\x1b[0m20:17:15  Traceback (most recent call last):\n"
        '  File "dbt/cli/requires.py", line 187, in wrapper\n'
        "    result, success = func(*args, **kwargs)\nValueError: boom\n"
    )
    assert _reason(ValueError("boom"), logged) == "boom"
    noise = "Error uploading artifacts to artifact ingestion API: 'Namespace' object has no attr"
    assert _reason(ValueError("boom"), f"Runtime Error\n{noise}\n") == "boom Runtime Error"


def test_dbts_error_before_it_logs_stays_off_the_report(project, capsys):
    """An error dbt meets before it sets up a run's logging (an unreadable
    `dbt_project.yml`) went to the stdout its console logger took at import: into
    the `--format json` report, as many lines as dbt's traceback."""
    import logging

    from dbt.cli.main import dbtRunner  # noqa: F401 - dbt as a fresh process has it

    handlers = [h for h in logging.getLogger("stdout_log").handlers if hasattr(h, "stream")]
    before = [h.stream for h in handlers]  # type: ignore[attr-defined]
    for handler in handlers:
        handler.stream = sys.stdout  # type: ignore[attr-defined]
    time.sleep(0.01)
    with (project / "dbt_project.yml").open("ab") as handle:
        handle.write(b"# caf\xe9\n")
    try:
        code = main(["check", "--format", "json", "--parse", "auto"])
    finally:
        for handler, stream in zip(handlers, before, strict=True):
            handler.stream = stream  # type: ignore[attr-defined]
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("normcheck: error: dbt_project.yml:5: `dbt parse` failed: the file is")


def test_the_undecodable_file_named_is_the_same_on_every_machine(tmp_path, monkeypatch):
    """Of two files dbt cannot decode in one folder, the one named depended on the order
    the file system lists them in (os.walk's), which differs between machines."""
    from normcheck import dbt_parse

    (tmp_path / "dbt_project.yml").write_text("name: shop\nprofile: shop\n")
    (tmp_path / "models").mkdir()
    for name in ("a.sql", "b.sql"):
        (tmp_path / "models" / name).write_bytes(b"select 'caf\xe9' as x\n")
    walk = os.walk
    named = set()
    for order in (False, True):

        def listed(top, reverse=order, **kwargs):
            for root, dirs, files in walk(top, **kwargs):
                yield root, dirs, sorted(files, reverse=reverse)

        monkeypatch.setattr(dbt_parse.os, "walk", listed)
        found = dbt_parse._not_utf8(tmp_path)
        assert found is not None
        named.add(found[0].name)
    assert named == {"a.sql"}
