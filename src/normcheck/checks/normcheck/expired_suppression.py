from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.project import Project


@rule("normcheck/expired-suppression", severity="error", targets=["project"])
def expired_suppression(project: Project, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """A suppression whose `until` date has passed (or is not a date); it no longer applies.

    ## What it finds
    A `meta.normcheck.ignore` entry whose `until:` (YYYY-MM-DD) is before today (the date in
    UTC, the same on every machine), or is not a date. The suppression has no effect, so the
    finding it hid is reported again as well.

    ## Why it matters
    Temporary exceptions are how debt gets paid down on a schedule; an expired one is a
    promise that was not kept.

    ## Example
    ```sql models/marts/orders.sql
    select 1 as order_id
    ```
    ```yaml models/marts/_models.yml
    version: 2
    models:
      - name: orders
        description: One row per order placed in the web shop.
        config:
          meta:
            owner: growth
            normcheck:
              ignore:
                - {rule: naming/model-prefix, reason: renamed next sprint, until: 2020-01-31}
    ```

    ## Use instead
    ```sql models/marts/orders.sql
    select 1 as order_id
    ```
    ```yaml models/marts/_models.yml
    version: 2
    models:
      - name: orders
        description: One row per order placed in the web shop.
        config:
          meta:
            owner: growth
            normcheck:
              ignore:
                - {rule: naming/model-prefix, reason: renamed next sprint, until: 2999-01-31}
    ```
    """
    # Emitted by the suppression stage.
    return iter(())
