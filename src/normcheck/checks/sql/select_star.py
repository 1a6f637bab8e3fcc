from __future__ import annotations

import re
from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, rule
from normcheck.checks.sql._layers import LayerScopedOptions, in_scope
from normcheck.project import Resource
from normcheck.sqlfacts import Facts, WordLines

_STAR = re.compile(r"select\s+(?:distinct\s+)?(?:[\w\"`]+\.)?\*", re.IGNORECASE)


@rule("sql/select-star", severity="warning", targets=["model"], options=LayerScopedOptions)
def select_star(model: Resource, ctx: Context[LayerScopedOptions]) -> Iterator[Hit]:
    """`SELECT *` in the final select of a model in the configured layers (default marts).

    ## What it finds
    A model in one of the `layers` whose final SELECT contains `*` or `alias.*` over an
    upstream model or source. CTEs may select `*`, and so may the final
    `select * from final` over a CTE that names its columns (dbt's style guide).

    ## Why it matters
    A star makes the model's interface whatever upstream happens to produce today: an
    added column appears in every dashboard, a removed one breaks them silently.

    ## Example
    ```sql models/marts/fct_orders.sql
    select * from {{ ref('stg_orders') }}
    ```
    ```sql models/staging/stg_orders.sql
    select 1 as order_id, 10 as amount
    ```

    ## Use instead
    ```sql models/marts/fct_orders.sql
    select order_id, amount from {{ ref('stg_orders') }}
    ```
    ```sql models/staging/stg_orders.sql
    select 1 as order_id, 10 as amount
    ```
    """
    facts = ctx.sql.of(model.uid) if ctx.sql else None
    if facts is None or not facts.star or not in_scope(model, ctx):
        return
    yield Hit(
        f"model `{model.name}` selects `*` in its final select: name the columns it returns",
        where="file",
        line=_line(model, facts),
    )


def _line(model: Resource, facts: Facts) -> int:
    """The line of the model file with the final select's first star over an
    upstream relation, near the line the parsed SQL has it on; without one (an
    output not known), the last `select *` of the code."""
    parsed = next((i.line for i in facts.items or () if i.star is not None and i.line), None)
    line = WordLines(model.raw_code).line_near("*", parsed) if parsed else None
    if line is not None:
        return line
    code = model.compiled_code or model.raw_code
    stars = list(_STAR.finditer(code))
    return code.count("\n", 0, stars[-1].start()) + 1 if stars else 1
