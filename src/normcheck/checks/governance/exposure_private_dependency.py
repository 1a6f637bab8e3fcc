from __future__ import annotations

from collections.abc import Iterator

from normcheck._yaml import ref_item
from normcheck.checks._api import Context, Hit, NoOptions, rule
from normcheck.checks._common import model_label
from normcheck.project import Resource


@rule("governance/exposure-private-dependency", severity="warning", targets=["exposure"])
def exposure_private_dependency(exposure: Resource, ctx: Context[NoOptions]) -> Iterator[Hit]:
    """An exposure (dashboard, app) that depends on a model that is not public.

    ## What it finds
    An exposure whose `depends_on` includes a model whose `access` is not `public`.

    ## Why it matters
    What a dashboard reads is an interface whether anyone declared it or not; marking
    it public (with a contract) tells the producing team they have consumers.

    ## Example
    ```sql models/marts/fct_orders.sql
    select 1 as order_id
    ```
    ```yaml models/marts/_exposures.yml
    version: 2
    exposures:
      - name: revenue_dashboard
        type: dashboard
        owner: {name: Finance, email: finance@example.com}
        depends_on: [ref('fct_orders')]
    ```

    ## Use instead
    ```sql models/marts/fct_orders.sql
    {{ config(access="public") }}
    select 1 as order_id
    ```
    ```yaml models/marts/_exposures.yml
    version: 2
    exposures:
      - name: revenue_dashboard
        type: dashboard
        owner: {name: Finance, email: finance@example.com}
        depends_on: [ref('fct_orders')]
    ```
    """
    for uid in sorted(set(exposure.depends_on)):
        model = ctx.project.resources.get(uid)
        if model is None or model.type != "model" or model.access == "public":
            continue
        access = model.access or "protected"
        latest = model.version is None or model.version == model.latest_version
        yield Hit(
            f"exposure `{exposure.name}` depends on {access} model "
            f"`{model_label(model, exposure.package)}`: "
            "make the model `access: public` (with a contract) or depend on a public one",
            key=uid,
            yaml_key=("depends_on", ref_item(model.name, model.package, model.version, latest)),
        )
