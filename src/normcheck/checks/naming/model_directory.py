from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.checks._common import layer_by_prefix, layer_of
from normcheck.project import Resource


@rule("naming/model-directory", severity="warning", targets=["model"], subject_only=True)
def model_directory(model: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """A model whose prefix names a layer other than the folder it sits in.

    ## What it finds
    A model named for one layer (`stg_orders`) whose file lies outside that layer's
    folders (for example in `models/marts/`). Layers come from the `layers` option of
    `naming/model-prefix`.

    ## Why it matters
    Readers trust the prefix; a staging model hidden among marts is built, documented
    and governed as the wrong thing.

    ## Example
    ```sql models/marts/stg_orders.sql
    select 1 as order_id
    ```

    ## Use instead
    ```sql models/staging/stg_orders.sql
    select 1 as order_id
    ```
    """
    named = layer_by_prefix(model.name, ctx.layers)
    if named is None:
        return
    placed = layer_of(model, ctx.layers)
    if placed is not None and placed.name == named.name:
        return
    where = f"in layer `{placed.name}`" if placed else "outside every layer folder"
    folders = ", ".join(named.paths)
    yield Hit(
        f"model `{model.name}` is named for layer `{named.name}` but sits {where}: "
        f"move it under {folders} or rename it",
        where="file",
        line=1,
    )
