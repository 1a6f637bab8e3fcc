from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.project import Project


@rule("normcheck/unused-suppression", severity="warning", targets=["project"])
def unused_suppression(project: Project, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """A suppression that suppresses nothing: the finding is gone, or the rule does not exist.

    ## What it finds
    An inline `-- normcheck: ignore[rule]` comment or a `meta.normcheck.ignore` entry whose
    rule ran on the resource and found nothing to hide, or that names a rule that does not
    exist (or a malformed entry). Suppressions of rules that did not run are not judged.

    ## Why it matters
    Stale suppressions hide the next real problem on the same resource; removing them
    keeps every exception deliberate.

    ## Example
    ```sql models/staging/stg_orders.sql
    -- normcheck: ignore[naming/model-prefix] legacy name kept for the BI tool
    {{ config(meta={"owner": "growth"}) }}
    select 1 as order_id
    ```

    ## Use instead
    ```sql models/staging/stg_orders.sql
    {{ config(meta={"owner": "growth"}) }}
    select 1 as order_id
    ```
    """
    # Emitted by the suppression stage, which sees every suppression and finding.
    return iter(())
