from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.project import Project


@rule("normcheck/locked-rule", severity="error", targets=["project"])
def locked_rule(project: Project, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """A local file or suppression tried to weaken a rule the central rule set locked.

    ## What it finds
    A later configuration file (or an override, or a suppression) that lowers the
    severity of a locked rule, turns it `off`, unlocks it or changes its options. The
    attempt has no effect; this finding points at the line that tried. It cannot be
    suppressed.

    ## Why it matters
    Central norms only work when they hold everywhere; a lock is the central team's
    way of saying "adapt anything else, but not this".

    ## Example
    ```yaml central.yml
    rules:
      naming/model-prefix: {severity: error, locked: true}
    ```
    ```yaml normcheck.yml
    extends: [central.yml]
    rules:
      naming/model-prefix: warning
    ```

    ## Use instead
    ```yaml central.yml
    rules:
      naming/model-prefix: {severity: error, locked: true}
    ```
    ```yaml normcheck.yml
    extends: [central.yml]
    rules:
      docs/missing-description: info
    ```
    """
    # Emitted by the configuration stage, where the attempts are seen.
    return iter(())
