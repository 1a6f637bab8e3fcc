from __future__ import annotations

from collections.abc import Iterator

from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.checks._common import model_label
from normcheck.project import Resource


@rule("governance/public-model-contract", severity="error", targets=["model"])
def public_model_contract(model: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """An `access: public` model without an enforced contract.

    ## What it finds
    A model other teams may reference (`access: public`) whose `contract.enforced` is
    not `true`.

    ## Why it matters
    A public model is an interface. Without an enforced contract a renamed or retyped
    column breaks every consumer at run time instead of failing the producer's build.

    ## Example
    ```sql models/marts/fct_orders.sql
    {{ config(access="public") }}
    select 1 as order_id
    ```

    ## Use instead
    ```sql models/marts/fct_orders.sql
    {{ config(access="public", contract={"enforced": true}) }}
    select 1 as order_id
    ```
    ```yaml models/marts/_models.yml
    version: 2
    models:
      - name: fct_orders
        columns:
          - name: order_id
            data_type: integer
    ```
    """
    if model.access != "public" or model.contract_enforced:
        return
    yield Hit(
        f"public model `{model_label(model)}` has no enforced contract: set "
        "`config: {contract: {enforced: true}}` and declare column data types",
        yaml_key=("config",),
    )
