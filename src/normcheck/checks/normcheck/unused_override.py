from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.project import Project


@rule("normcheck/unused-override", severity="warning", targets=["project"])
def unused_override(project: Project, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """An override in a project's `normcheck.yml` whose `match` selects nothing.

    ## What it finds
    An entry of `overrides:` in the configuration a run starts from (`normcheck.yml`, or
    the file `--config` names; not a rule set it extends) that matches none of the
    project's own resources: a `paths:` glob with a typo or for a folder that moved, a
    tag, group or owner nobody uses. A monorepo's run judges the root `normcheck.yml`'s
    overrides across its projects: one is reported only when it matches nothing in
    every project (a run inside one project leaves them alone). Only a whole-project
    run can tell, so a run limited to changed files reports it only when the
    configuration changed (which checks everything).

    ## Why it matters
    An override that matches nothing changes nothing, silently: the team believes
    its legacy folder is relaxed (or its marts held stricter) while every rule still
    judges it by the defaults.

    ## Example
    ```sql models/legacy/old_export.sql
    select 1 as order_id
    ```
    ```yaml normcheck.yml
    overrides:
      - match: {paths: ["model/legacy/**"]}
        rules:
          docs/missing-description: info
    ```

    ## Use instead
    ```sql models/legacy/old_export.sql
    select 1 as order_id
    ```
    ```yaml normcheck.yml
    overrides:
      - match: {paths: ["models/legacy/**"]}
        rules:
          docs/missing-description: info
    ```
    """
    # Emitted by the run, which sees every override and resource.
    return iter(())
