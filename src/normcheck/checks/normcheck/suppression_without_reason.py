from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.project import Project


@rule("normcheck/suppression-without-reason", severity="warning", targets=["project"])
def suppression_without_reason(project: Project, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """A suppression that does not say why.

    ## What it finds
    An inline `-- normcheck: ignore[rule]` comment with no text after the brackets, or a
    `meta.normcheck.ignore` entry without a `reason`. The suppression still applies.

    ## Why it matters
    An exception without a reason cannot be reviewed, and nobody can tell when it may be
    removed.

    ## Example
    ```sql models/marts/orders.sql
    -- normcheck: ignore[naming/model-prefix]
    {{ config(meta={"owner": "growth"}) }}
    select 1 as order_id
    ```
    ```yaml normcheck.yml
    rules:
      naming/model-prefix: error
    ```

    ## Use instead
    ```sql models/marts/orders.sql
    -- normcheck: ignore[naming/model-prefix] BI dashboards query the old name until Q3
    {{ config(meta={"owner": "growth"}) }}
    select 1 as order_id
    ```
    ```yaml normcheck.yml
    rules:
      naming/model-prefix: error
    ```
    """
    # Emitted by the suppression stage.
    return iter(())
