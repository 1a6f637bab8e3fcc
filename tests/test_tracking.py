"""Tracking plans: the importers on the real corpus, near-duplicate detection,
the native format's errors, and the cross-check with real dbt models."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import CORPUS, build_dbt_project
from normcheck.cli import main
from normcheck.config.loader import load_config
from normcheck.engine import evaluate
from normcheck.errors import ArtifactError
from normcheck.project import Project
from normcheck.tracking.load import find_plan_files, load_plans
from normcheck.tracking.names import antonyms, normal_form, slug, stem, words
from normcheck.tracking.resources import with_plans

TRACKING = CORPUS / "tracking"


def _segment_track_events(path: Path) -> int:
    data = json.loads(path.read_text())
    rules = data["rules"]
    if isinstance(rules, dict):
        return len(rules["events"])
    return sum(1 for r in rules if r["type"] == "TRACK")


@pytest.mark.parametrize("name", ["plan.json", "plan-v1.json", "telemetry-plan.json"])
def test_segment_plans_load_with_every_track_event(name):
    (plan,) = load_plans(TRACKING / "typewriter", [name])
    assert plan.format == "segment"
    assert len(plan.events) == _segment_track_events(TRACKING / "typewriter" / name)
    assert all(e.line > 1 for e in plan.events)


def test_segment_property_counts_and_types():
    plans = {p.file: p for p in load_plans(TRACKING, ["typewriter/*.json"])}
    counts = {f: sum(len(e.properties) for e in p.events) for f, p in plans.items()}
    # counted independently: top-level properties of every TRACK event (inside the
    # Segment envelope where there is one)
    assert counts == {
        "typewriter/plan-v1.json": 67,
        "typewriter/plan.json": 68,
        "typewriter/telemetry-plan.json": 28,
    }
    enum = next(e for e in plans["typewriter/plan.json"].events if e.name == "Enum Types")
    by_name = {p.name: p for p in enum.properties}
    assert by_name["string enum"].enum and by_name["string enum"].type == ("string",)


def test_iglu_schemas_load_latest_version_per_vendor_and_name():
    plans = load_plans(TRACKING / "iglu-central", ["schemas/**/*"])
    files = [p for p in (TRACKING / "iglu-central" / "schemas").rglob("*") if p.is_file()]
    jsonschema_names = {(p.parts[-4], p.parts[-3]) for p in files if p.parts[-2] == "jsonschema"}
    assert sum(len(p.events) for p in plans) == len(jsonschema_names) == 519
    assert sum(p.skipped for p in plans) == sum(1 for p in files if p.parts[-2] != "jsonschema")
    assert sum(len(e.properties) for p in plans for e in p.events) == 3158
    snowplow = next(p for p in plans if p.id == "com.snowplowanalytics.snowplow")
    event = next(e for e in snowplow.events if e.name == "add_to_cart")
    assert event.file and event.file.endswith("add_to_cart/jsonschema/1-0-0")


def test_rudderstack_catalogs_resolve_references():
    plans = load_plans(TRACKING / "rudder-iac", ["**/*.yaml"])
    summary = {
        p.id: (len(p.events), sum(len(e.properties) for e in p.events), len(p.properties))
        for p in plans
    }
    # events (track only), properties the plan's rules attach, the shared catalogue
    assert summary == {"first_tracking_plan": (2, 3, 5), "typer-test-tracking-plan": (4, 24, 26)}
    typer = next(p for p in plans if p.id == "typer-test-tracking-plan")
    event = next(e for e in typer.events if e.name == "Some Track Event")
    assert {p.name for p in event.properties} >= {"someString", "someInteger"}


def test_every_corpus_file_loads():
    assert load_plans(
        TRACKING, ["typewriter/*.json", "rudder-iac/**/*.yaml", "iglu-central/schemas/**/*"]
    )


def evaluate_plans(plans, rule_id, tmp_path, config_text="version: 1\n"):
    (tmp_path / "normcheck.yml").write_text(config_text)
    project = with_plans(Project("p", None, tmp_path, {}, {}), plans)
    config = load_config(tmp_path)
    return evaluate(project, config, [rule_id]).findings


def test_an_event_without_owner_is_told_where_to_set_one(tmp_path):
    """A plan's event takes `owner:` (on the event or the plan), not dbt's `meta.owner`."""
    (tmp_path / "web.yml").write_text(
        "normcheck: plan/v1\nplan: {id: web}\nevents:\n  - name: Order Completed\n"
        "  - {name: Cart Viewed, owner: growth}\n"
    )
    findings = evaluate_plans(
        load_plans(tmp_path, ["web.yml"]), "ownership/missing-owner", tmp_path
    )
    assert [(f.resource, f.line, f.message) for f in findings] == [
        (
            "event.web.Order Completed",
            4,
            "event `Order Completed` has no owner: set `owner:` on the event or on the plan",
        )
    ]


@pytest.mark.parametrize(
    ("name", "options", "problem_text"),
    [
        pytest.param("Order Completed", {}, None, id="object action"),
        pytest.param("Signed Up", {}, None, id="a phrasal verb (Segment's spec)"),
        pytest.param("Account Logged In", {}, None, id="object and a phrasal verb"),
        pytest.param(
            "User Sign Up", {}, "ends in `Sign Up`, which is not a past-tense", id="present"
        ),
        pytest.param("Order Up", {}, "ends in `Order Up`, which is not a past-tense", id="no verb"),
        pytest.param(
            "Checked Out",
            {"actions": ["Viewed"]},
            "ends in `Checked Out`, which is not an allowed",
            id="allowed actions name the phrasal verb",
        ),
        pytest.param("Checked Out", {"actions": ["checked out"]}, None, id="allowed, case-blind"),
    ],
)
def test_event_names_take_phrasal_verbs(name, options, problem_text):
    from normcheck.checks.naming.event_name import EventNameOptions, problem

    found = problem(name, EventNameOptions(**options))
    if problem_text is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem_text), found


def test_past_tenses_that_equal_the_present_are_past_tense(tmp_path):
    """`Password Reset`, `Message Read`, `Budget Set`: the past of reset, read and set
    is reset, read and set (found on real plans, each reported as not past tense)."""
    names = [
        "Password Reset",
        "Message Read",
        "Budget Set",
        "Item Put",
        "Price Cut",
        "Store Shut",
        "Target Hit",
        "Room Let",
        "Game Quit",
        "Payment Split",
        "Show Broadcast",
        "Vote Cast",
        "Sales Forecast",
        "Rumour Spread",
        "Auction Bid",
    ]
    (tmp_path / "web.yml").write_text(
        "normcheck: plan/v1\nplan: {id: web, owner: growth}\nevents:\n"
        + "".join(f"  - name: {name}\n" for name in [*names, "Password Resets"])
    )
    findings = evaluate_plans(load_plans(tmp_path, ["web.yml"]), "naming/event-name", tmp_path)
    assert [(f.resource, f.message) for f in findings] == [
        (
            "event.web.Password Resets",
            "event `Password Resets` ends in `Resets`, which is not a past-tense action "
            "(`Completed`, `Viewed`): rename it",
        )
    ]
    assert stem("spread") == "spread" and stem("spreads") == "spread"


def test_a_catalogue_property_is_judged_once_where_it_is_defined(tmp_path):
    """Two events use the plan's `orderId`: one finding, at its definition (the one
    place to fix it), not one more at each use; an event's own property is judged
    where it stands."""
    (tmp_path / "web.yml").write_text(
        "normcheck: plan/v1\nplan: {id: web, owner: growth}\nproperties:\n"
        "  orderId: {type: string, description: The order, pii: none}\nevents:\n"
        "  - name: Order Completed\n    properties: [{ref: orderId}]\n"
        "  - name: Order Refunded\n    properties:\n      - {ref: orderId}\n"
        "      - {name: refundId, type: string, description: The refund, pii: none}\n"
    )
    findings = evaluate_plans(load_plans(tmp_path, ["web.yml"]), "naming/property-name", tmp_path)
    assert sorted((f.resource, f.line) for f in findings) == [
        ("property.web.Order Refunded.refundId", 11),
        ("property.web.orderId", 4),
    ]


def test_rudderstack_catalogue_properties_are_judged_once(tmp_path):
    plans = load_plans(TRACKING / "rudder-iac", ["**/*.yaml"])
    findings = evaluate_plans(plans, "naming/property-name", tmp_path)
    names = [f.resource.rsplit(".", 1)[1] for f in findings]
    assert names and len(names) == len(set(names))  # each property named once
    shared = {p.name for plan in plans for p in plan.properties}
    assert set(names) <= shared


@pytest.mark.parametrize("name", ["plan.json", "plan-v1.json", "telemetry-plan.json"])
def test_segment_properties_point_at_their_own_lines(name):
    """Segment writes a rule's `jsonSchema` (its properties) before its `key`: each
    property's line is the one that names it, in its own event."""
    (plan,) = load_plans(TRACKING / "typewriter", [name])
    lines = (TRACKING / "typewriter" / name).read_text().splitlines()
    properties = [(event, p) for event in plan.events for p in event.properties]
    assert properties
    for event, prop in properties:
        assert f'"{prop.name}"' in lines[prop.line - 1], (event.name, prop.name, prop.line)
    if name == "plan.json":
        numbers = next(e for e in plan.events if e.name == "Large Numbers Event")
        wanted = next(
            n for n, text in enumerate(lines, 1) if '"large nullable optional integer"' in text
        )
        got = {p.name: p.line for p in numbers.properties}
        assert got["large nullable optional integer"] == wanted < numbers.line


@pytest.mark.parametrize("name", ["plan.json", "telemetry-plan.json"])
@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["windows", "classic mac"])
def test_json_plans_keep_their_lines_whatever_their_line_breaks(name, newline, tmp_path):
    """A JSON plan saved with classic-Mac line breaks (a lone carriage return) had all
    its events and properties on line 1: lines were counted by `\\n` only."""
    plain = (TRACKING / "typewriter" / name).read_bytes()
    (tmp_path / name).write_bytes(plain.replace(b"\n", newline.encode()))
    (want,) = load_plans(TRACKING / "typewriter", [name])
    (got,) = load_plans(tmp_path, [name])

    def places(plan):
        return [(e.name, e.line, [(p.name, p.line) for p in e.properties]) for e in plan.events]

    assert places(got) == places(want)
    assert len({e.line for e in got.events}) == len(got.events) > 1


def test_segment_properties_named_like_schema_keywords(tmp_path):
    """A property called `type` or `description` is found where its schema object
    starts, not at the `"type": "object"` of the schema around it."""
    props = {
        "description": {"description": "Free text", "type": "string"},
        "order_id": {"description": "The order", "type": "string"},
        "type": {"description": "The kind", "type": "string"},
    }
    schema = {
        "properties": {"properties": {"properties": props, "type": "object"}},
        "type": "object",
    }
    rule = {"jsonSchema": schema, "key": "Order Completed", "type": "TRACK", "version": 1}
    text = json.dumps({"rules": [rule]}, indent=2, sort_keys=True)
    (tmp_path / "plan.json").write_text(text)
    (plan,) = load_plans(tmp_path, ["plan.json"])
    lines = text.splitlines()
    got = {p.name: p.line for p in plan.events[0].properties}
    for name in props:
        assert lines[got[name] - 1].strip() == f'"{name}": {{', (name, got[name])


def test_iglu_cross_vendor_duplicates_are_found(tmp_path):
    plans = load_plans(TRACKING / "iglu-central", ["schemas/**/*"])
    findings = evaluate_plans(plans, "tracking/duplicate-event", tmp_path)
    pairs = {(f.resource, f.message.split("duplicates `")[1].split("`")[0]) for f in findings}
    carts = sorted(r for r, _ in pairs if r.endswith(".add_to_cart"))
    assert carts == [  # one schema file each: every one of them shows the pair
        "event.com.google.tag-manager.server-side.add_to_cart",
        "event.com.snowplowanalytics.snowplow.add_to_cart",
        "event.io.snowplow.ecomm.add_to_cart",
    ]
    names = sorted({r.rsplit(".", 1)[1] for r, _ in pairs})
    assert "remove_from_cart" in names
    # every reported pair really has the same normal form
    for finding in findings:
        other = finding.message.split("duplicates `")[1].split("`")[0]
        assert normal_form(finding.resource.rsplit(".", 1)[1]) == normal_form(other)


@pytest.mark.parametrize("name", ["plan.json", "plan-v1.json", "telemetry-plan.json"])
def test_typewriter_distinct_events_are_not_flagged(name, tmp_path):
    plans = load_plans(TRACKING / "typewriter", [name])
    findings = evaluate_plans(plans, "tracking/duplicate-event", tmp_path)
    flagged = sorted(f.resource.split(".", 2)[2] for f in findings)
    # only the plan's deliberately colliding names
    assert flagged == ([] if name == "telemetry-plan.json" else ["event_collided"])


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        pytest.param("Order Completed", "Completed Order", True, id="word order"),
        pytest.param("Order Completed", "orderCompleted", True, id="camelCase"),
        pytest.param("Order Completed", "order_completed", True, id="separators"),
        pytest.param("Order Completed", "Orders Complete", True, id="plural and tense"),
        pytest.param("Order Completed", "Order Completes", True, id="third person"),
        pytest.param("Order Shipped", "Order Shipping", True, id="doubled consonant"),
        pytest.param("Order Cancelled", "Order Canceled", True, id="British spelling"),
        pytest.param("Category Viewed", "Categories Viewed", True, id="ies plural"),
        pytest.param("Order Made", "Order Makes", True, id="irregular past, -s of an e-final verb"),
        pytest.param("Photo Taken", "Photo Takes", True, id="irregular participle"),
        pytest.param("Review Written", "Review Writes", True, id="participle of write"),
        pytest.param("Coupon Used", "Coupon Uses", True, id="a short e-final verb"),
        pytest.param("Coupon Used", "Coupon Using", True, id="a short -ing"),
        pytest.param("Item Sold", "Item Sells", True, id="an irregular lemma in -ll"),
        pytest.param("Product Added", "Product Removed", False, id="antonyms"),
        pytest.param("Feature Enabled", "Feature Disabled", False, id="enabled disabled"),
        pytest.param("Handler", "Handler Called", False, id="an extra word"),
        pytest.param("Collision 1", "Collision 2", False, id="numbers differ"),
    ],
)
def test_normal_form(a, b, same):
    assert (normal_form(a) == normal_form(b)) is same


def test_synonyms_and_abbreviations_fold_but_antonyms_never_pair():
    synonyms = [["order", "purchase", "checkout"]]
    assert normal_form("Purchase Completed", synonyms=synonyms) == normal_form(
        "Order Completed", synonyms=synonyms
    )
    assert normal_form("Checkout Completed", synonyms=synonyms) == normal_form(
        "Order Completed", synonyms=synonyms
    )
    assert normal_form("Cust Created", {"cust": "customer"}) == normal_form("Customer Created")
    assert antonyms(words("Published Post"), words("Post Unpublished"))
    assert not antonyms(words("Post Published"), words("Post Viewed"))
    assert slug("Order Completed") == "order_completed"
    assert stem("paid") == "pay"


def test_irregular_and_e_final_verbs_pair_in_the_rule(tmp_path):
    """`made` stemmed to `make` but `makes` to `mak`: an irregular past and the
    third person of its verb never met."""
    (tmp_path / "web.yml").write_text(
        "normcheck: plan/v1\nplan: {id: web}\nevents:\n"
        "  - {name: Photo Taken}\n  - {name: Photo Takes}\n  - {name: Review Written}\n"
        "  - {name: Review Writes}\n  - {name: Coupon Used}\n  - {name: Coupon Uses}\n"
        "  - {name: Purchase Made}\n  - {name: Purchase Makes}\n"
    )
    findings = evaluate_plans(
        load_plans(tmp_path, ["web.yml"]), "tracking/duplicate-event", tmp_path
    )
    pairs = sorted((f.resource.split(".", 2)[2], f.message.split("`")[3]) for f in findings)
    assert len(pairs) == 4
    assert {frozenset(p) for p in pairs} == {
        frozenset({"Photo Taken", "Photo Takes"}),
        frozenset({"Review Written", "Review Writes"}),
        frozenset({"Coupon Used", "Coupon Uses"}),
        frozenset({"Purchase Made", "Purchase Makes"}),
    }


def test_a_pair_in_one_file_is_reported_where_the_docs_say_whatever_the_order(tmp_path):
    """The docs said "on the later event", read as the later in the file; the rule
    reports the one whose name sorts later, so that reordering a plan moves nothing
    (the input-order property test holds it to that). The docs now say so."""
    from normcheck.checks.registry import builtin_rules

    doc = " ".join(builtin_rules()["tracking/duplicate-event"].doc.split())
    assert "reported once, on the event whose name sorts later" in doc
    outcomes = []
    for names in (["Order Completed", "Completed Order"], ["Completed Order", "Order Completed"]):
        (tmp_path / "web.yml").write_text(
            "normcheck: plan/v1\nplan: {id: web}\nevents:\n"
            + "".join(f"  - {{name: {name}}}\n" for name in names)
        )
        findings = evaluate_plans(
            load_plans(tmp_path, ["web.yml"]), "tracking/duplicate-event", tmp_path
        )
        outcomes.append([(f.resource, f.fingerprint) for f in findings])
    assert outcomes[0] == outcomes[1]
    assert [resource for resource, _ in outcomes[0]] == ["event.web.Order Completed"]


def test_synonym_antonyms_stay_apart_in_the_rule(tmp_path):
    plan = tmp_path / "tracking" / "p.yml"
    plan.parent.mkdir()
    plan.write_text(
        "normcheck: plan/v1\nplan: {id: web}\nevents:\n"
        "  - {name: Item Added}\n  - {name: Item Removed}\n  - {name: Purchase Completed}\n"
        "  - {name: Order Completed}\n  - {name: Order Done, aliases: [Orders Done]}\n"
        "  - {name: Orders Done, status: deprecated}\n"
    )
    findings = evaluate_plans(
        load_plans(tmp_path, ["tracking/*.yml"]),
        "tracking/duplicate-event",
        tmp_path,
        "version: 1\nrules:\n  tracking/duplicate-event:\n"
        "    options: {synonyms: [[order, purchase], [add, remove]]}\n",
    )
    assert [(f.resource, f.line) for f in findings] == [
        ("event.web.Purchase Completed", 6),
    ]


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nevents:\n  - {nme: X}\n",
            4,
            "unknown key `nme`",
            id="an unknown key",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nevents:\n  - {name: X, status: gone}\n",
            4,
            "invalid plan at `events.0.status`",
            id="a bad status",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nevents:\n  - {name: X, aliases: null}\n",
            4,
            "invalid plan at `events.0.aliases`: null is not a list",
            id="null for a list (was Python's `None is not of type 'array'`)",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nevents:\n  - name: X\n"
            "    properties: [{ref: nope}]\n",
            5,
            "property ref `nope`",
            id="a dangling ref",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nevents: [\n",
            4,
            "YAML syntax error",
            id="broken YAML",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nevents:\n  - name: Order Completed\n"
            "  - name: Cart Viewed\n  - name: Order Completed\n",
            6,
            "event `Order Completed` is defined twice (first at line 4)",
            id="one event twice",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nproperties:\n  order_id: {type: string}\n"
            "events:\n  - name: X\n    properties:\n      - {ref: order_id}\n"
            "      - {name: order_id, type: integer}\n",
            9,
            "property `order_id` is defined twice (first at line 8)",
            id="one property of an event twice",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nproperties:\n  order_id: {type: string}\n"
            "  cart_id: {type: string}\n  order_id: {type: integer}\n",
            6,
            "duplicate key `order_id` (first at line 4)",
            id="a shared property twice",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nproperties:\n  order_id: {type: string}\n"
            "events:\n  - name: X\n    properties:\n      - ref: order_id\n"
            "        required: true\n        type: integer\n",
            10,
            "`type` in `events.0.properties.0`: an item with `ref` takes only `required`",
            id="a ref item with its own type (was silently ignored)",
        ),
        pytest.param("just: yaml\n", 1, "not a tracking plan", id="not a plan"),
        pytest.param(
            "# a plan of the future\nnormcheck: plan/v2\nplan: {id: web}\n",
            2,
            "unsupported plan version `normcheck: plan/v2`: this normcheck reads "
            "`normcheck: plan/v1`",
            id="another plan version (was: not a tracking plan)",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nevents:\n  - name: X\n    properties:\n"
            "      - {name: email, pii: yes}\n",
            6,
            "`events.0.properties.0.pii` is `true` (YAML reads yes, no, on, off, true and false "
            "as booleans): `pii` takes `none` (reviewed, not personal) or `{category: ...}`",
            id="pii: yes (was: True is not valid under any of the given schemas)",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nevents:\n  - name: X\n    properties:\n"
            "      - name: order_id\n        type: strnig\n",
            7,
            "unknown property type `strnig`: did you mean `string`?",
            id="a misspelt type (loaded silently, matching nothing)",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nproperties:\n  order_id: {type: 'string, nul'}\n",
            4,
            "unknown property type `nul`: did you mean `null`?",
            id="a misspelt type in a list of types",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nevents:\n  - name: Purchase Made\n"
            "    status: deprecated\n    replaced_by: Nope Event\n",
            4,
            "`replaced_by: Nope Event`, which no tracking plan defines",
            id="replaced by no event",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nevents:\n  - name: Order Completed\n"
            "    aliases: [Completed Order, Order Completed]\n",
            5,
            "event `Order Completed` lists its own name in `aliases`",
            id="an alias that is the event's own name",
        ),
        pytest.param(
            "normcheck: plan/v1\nplan: {id: web}\nevents:\n  - name: Cart Viewed\n"
            "  - name: Order Completed\n    aliases: [Cart Viewed]\n",
            5,
            "lists alias `Cart Viewed`, the name of event `Cart Viewed` (p.yml:4)",
            id="an alias that is another active event's name",
        ),
    ],
)
def test_broken_native_plans_are_one_clear_error(tmp_path, text, line, needle):
    (tmp_path / "p.yml").write_text(text)
    with pytest.raises(ArtifactError) as info:
        load_plans(tmp_path, ["p.yml"])
    assert info.value.file == "p.yml"
    assert info.value.line == line
    assert needle in info.value.message


def test_json_errors_and_duplicate_plan_ids(tmp_path):
    (tmp_path / "a.json").write_text('{\n  "rules": [\n')
    with pytest.raises(ArtifactError, match="invalid JSON") as info:
        load_plans(tmp_path, ["a.json"])
    assert info.value.line == 3
    (tmp_path / "a.json").write_text('{"something": 1}')
    with pytest.raises(ArtifactError, match="not a tracking plan"):
        load_plans(tmp_path, ["a.json"])
    for name in ("x.yml", "y.yml"):
        (tmp_path / name).write_text("normcheck: plan/v1\nplan: {id: same}\n")
    with pytest.raises(ArtifactError, match=r"plan id `same` is also used by x\.yml"):
        load_plans(tmp_path, ["*.yml"])


@pytest.mark.parametrize(
    ("escape", "line"),
    [
        pytest.param("\\ud800", 3, id="a high half"),
        pytest.param("\\udc00 x", 3, id="a low half"),
        pytest.param("\\ud83d\\u0041", 3, id="a high half before no low one"),
    ],
)
def test_a_json_plan_with_half_a_character_is_one_clear_error(tmp_path, escape, line):
    """`\\ud800` alone (an emoji cut in two by an export) is valid JSON but no text:
    every rule that named the event crashed (exit 3, "a bug in normcheck") and the
    crash log could not be written either."""
    text = '{"rules": [\n  {"type": "TRACK",\n   "key": "Order ' + escape + ' Shipped"}]}'
    (tmp_path / "s.json").write_text(text)
    with pytest.raises(ArtifactError, match="escape without its pair") as info:
        load_plans(tmp_path, ["s.json"])
    assert (info.value.file, info.value.line) == ("s.json", line)


@pytest.mark.parametrize(
    "key", ["Order \\ud83d\\ude80 Shipped", "Order \\\\ud800 Shipped", "Order 🚀 Shipped"]
)
def test_a_json_plan_with_whole_characters_loads(tmp_path, key):
    (tmp_path / "s.json").write_text('{"rules": [{"type": "TRACK", "key": "' + key + '"}]}')
    (plan,) = load_plans(tmp_path, ["s.json"])
    assert [e.name for e in plan.events] == [json.loads(f'"{key}"')]


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        pytest.param(
            "s.json", '{"rules": {"events": 5}}', "`rules.events` must be a list", id="segment"
        ),
        pytest.param(
            "r.yaml",
            "version: rudder/v0.1\nkind: events\nspec:\n  events: 5\n",
            "`spec.events` must be a list",
            id="rudderstack events",
        ),
        pytest.param(
            "r.yaml",
            "version: rudder/v0.1\nkind: properties\nspec:\n  properties: some text\n",
            "`spec.properties` must be a list",
            id="rudderstack properties, text (was read letter by letter)",
        ),
        pytest.param(
            "r.yaml",
            "version: rudder/v0.1\nkind: tp\nspec:\n  id: x\n  rules: 3.5\n",
            "`spec.rules` must be a list",
            id="rudderstack rules",
        ),
    ],
)
def test_a_scalar_where_a_foreign_plan_has_a_list_is_one_clear_error(tmp_path, name, text, needle):
    (tmp_path / name).write_text(text)
    with pytest.raises(ArtifactError) as info:
        load_plans(tmp_path, [name])
    assert needle in info.value.message
    assert info.value.file == name


def test_globs_do_not_follow_symlink_loops(tmp_path):
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "loop").symlink_to(folder)
    (folder / "p.yml").write_text("normcheck: plan/v1\nplan: {id: p}\n")
    assert find_plan_files(tmp_path, ["plans/**/*.yml"]) == [(folder / "p.yml").resolve()]
    with pytest.raises(ArtifactError, match="must be relative"):
        find_plan_files(tmp_path, ["/etc/*"])


def test_plan_schema_is_valid_and_accepts_the_sample_plan(capsys):
    assert main(["schema", "--plan"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    sample = Path(__file__).resolve().parent.parent / "sample_project" / "tracking" / "web.yml"
    jsonschema.validate(yaml.safe_load(sample.read_text()), schema)


CROSS = {
    "tracking/web.yml": """\
normcheck: plan/v1
plan: {id: web, owner: growth, warehouse: {profile: segment, source: segment}}
properties:
  email: {type: string, description: Where receipts go}
events:
  - name: Order Completed
    description: Buyer finished payment and the order was accepted.
    properties: [{ref: email}, {name: orderId, type: string, description: The order, pii: none}]
  - name: Purchase Made
    description: The old name of Order Completed, kept for history.
    status: deprecated
    replaced_by: Order Completed
  - name: Banner Viewed
    description: A visitor saw the home page banner for at least a second.
    meta:
      normcheck:
        ignore: [{rule: tracking/unused-event, reason: modelled next quarter}]
  - name: Cart Viewed
    description: A visitor opened their cart to look at what is in it.
""",
    "tracking/app.yml": """\
normcheck: plan/v1
plan: {id: app, owner: growth, warehouse: {profile: snowplow}}
events:
  - name: Order Completed
    description: The app's order event, defined again by the app team.
    properties: [{name: order_id, type: integer, description: The order, pii: none}]
""",
    "models/staging/_sources.yml": (
        "version: 2\nsources:\n  - name: segment\n    tables:\n      - name: order_completed\n"
        "      - name: checkout_abandoned\n      - name: tracks\n"
    ),
    "models/staging/stg_orders.sql": "select * from {{ source('segment', 'order_completed') }}\n",
    "models/staging/stg_abandoned.sql": "select * from {{ source('segment', 'checkout_abandoned') }}\n",
    "models/staging/stg_tracks.sql": "select * from {{ source('segment', 'tracks') }}\n",
    "models/marts/fct_funnel.sql": (
        "select 1 as n from (select 'x' as event_text, 'y' as event, 'z' as event_name) t\n"
        "where event_text in ('Order Completed', 'Purchase Made')\n"
        "   or event = 'order_completd'\n"
        "   or event_name = 'order completed'\n"
    ),
}


def test_events_compared_whatever_their_case_are_read_case_blind(tmp_path, monkeypatch, capsys):
    """`lower(column) = '...'`, `ilike '...'` and a `like` without `%` name one
    event each, matched whatever its case (no "did you mean" for the case)."""
    blind = (
        "select 1 as n from (select 'x' as event_text) t\n"
        "where lower(event_text) = 'purchase made'\n"
        "   or event_text ilike 'cart viewed'\n"
        "   or event_text like 'Order%'\n"
        "   or upper(event_text) = 'NOT PLANNED'\n"
    )
    root = build_dbt_project(tmp_path, {**CROSS, "models/marts/fct_blind.sql": blind})
    (root / "normcheck.yml").write_text(
        "version: 1\nextends: [normcheck:recommended]\nowners: {growth: {}}\n"
        "tracking_plans: ['tracking/*.yml']\n"
    )
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "tracking"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    got = sorted(
        (f["rule"], f["line"], f["message"])
        for f in findings
        if f["resource"] == "model.shop.fct_blind"
    )
    assert [(rule, line) for rule, line, _ in got] == [
        ("tracking/deprecated-event-used", 2),
        ("tracking/unknown-event", 5),
    ]
    assert "did you mean" not in got[1][2]
    unused = {f["resource"] for f in findings if f["rule"] == "tracking/unused-event"}
    assert "event.web.Cart Viewed" not in unused  # read, by `ilike`


def test_a_lowercased_column_compared_with_capitals_is_reported(tmp_path, monkeypatch, capsys):
    """`lower(event_text) = 'Order Completed'` was taken as reading `Order Completed`,
    but a lowercased column never equals a value with capitals: the filter is empty."""
    never = (
        "select 1 as n from (select 'x' as event_text) t\n"
        "where lower(event_text) = 'Order Completed'\n"
        "   or upper(event_text) in ('CART VIEWED', 'Purchase Made')\n"
    )
    root = build_dbt_project(tmp_path, {**CROSS, "models/marts/fct_never.sql": never})
    (root / "normcheck.yml").write_text(
        "version: 1\nextends: [normcheck:recommended]\nowners: {growth: {}}\n"
        "tracking_plans: ['tracking/*.yml']\n"
    )
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "tracking"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    got = sorted(
        (f["rule"], f["line"], f["message"])
        for f in findings
        if f["resource"] == "model.shop.fct_never"
    )
    assert got == [
        (
            "tracking/unknown-event",
            2,
            "model `fct_never` compares `lower(event_text)` with `Order Completed`, which it "
            "never equals: compare with `order completed`, or drop `lower()`",
        ),
        (
            "tracking/unknown-event",
            3,
            "model `fct_never` compares `upper(event_text)` with `Purchase Made`, which it "
            "never equals: compare with `PURCHASE MADE`, or drop `upper()`",
        ),
    ]
    unused = {f["resource"] for f in findings if f["rule"] == "tracking/unused-event"}
    assert "event.web.Cart Viewed" not in unused  # `upper(...) = 'CART VIEWED'` reads it


def test_cross_check_with_models_and_the_taxonomy_rules(tmp_path, monkeypatch, capsys):
    root = build_dbt_project(tmp_path, CROSS)
    (root / "normcheck.yml").write_text(
        "version: 1\nextends: [normcheck:recommended]\nowners: {growth: {}}\n"
        "tracking_plans: ['tracking/*.yml']\nrules:\n"
        + "".join(
            f"  {r}: 'off'\n"
            for r in (
                "governance/group-required",
                "ownership/missing-owner",
                "docs/missing-description",
                "sql/select-star",
                "sql/undocumented-column",
                "governance/layer-dependency",
            )
        )
    )
    monkeypatch.chdir(root)
    code = main(["check", "--format", "json", "--parse", "never"])
    report = json.loads(capsys.readouterr().out)
    got = sorted(
        (f["rule"], f["resource"], f"{f['file']}:{f['line']}", f["message"])
        for f in report["findings"]
    )
    rules = [(r, res, where) for r, res, where, _ in got]
    assert rules == sorted(
        [
            ("naming/property-name", "property.web.Order Completed.orderId", "tracking/web.yml:8"),
            # the web and app plans both define `Order Completed`: both files show it
            ("tracking/duplicate-event", "event.app.Order Completed", "tracking/app.yml:4"),
            ("tracking/duplicate-event", "event.web.Order Completed", "tracking/web.yml:6"),
            # `orderId` and `order_id` are one property; the snake_case spelling wins the tie
            (
                "tracking/duplicate-property",
                "property.web.Order Completed.orderId",
                "tracking/web.yml:8",
            ),
            # the shared `email` once, where the catalogue defines it (not again where used)
            ("tracking/pii-undeclared", "property.web.email", "tracking/web.yml:4"),
            (
                "tracking/deprecated-event-used",
                "model.shop.fct_funnel",
                "models/marts/fct_funnel.sql:2",
            ),
            # a typo in a slug, and a name where Snowplow's event_name holds the schema name
            ("tracking/unknown-event", "model.shop.fct_funnel", "models/marts/fct_funnel.sql:3"),
            ("tracking/unknown-event", "model.shop.fct_funnel", "models/marts/fct_funnel.sql:4"),
            # a per-event table of the plan's source that no event matches
            (
                "tracking/unknown-event",
                "model.shop.stg_abandoned",
                "models/staging/stg_abandoned.sql:1",
            ),
            ("tracking/unused-event", "event.app.Order Completed", "tracking/app.yml:4"),
            ("tracking/unused-event", "event.web.Cart Viewed", "tracking/web.yml:18"),
        ]
    )
    messages = {(r, res): m for r, res, _, m in got}
    assert (
        "use `Order Completed`"
        in messages[("tracking/deprecated-event-used", "model.shop.fct_funnel")]
    )
    assert report["summary"]["suppressed"] == 1
    assert code == 1
    # a plan file passed alone reports what it defines, and what it affects: the
    # models' findings of the rules judging their SQL against the plans, and the
    # other plans' findings that name it; not the other plans' own debt
    code = main(["check", "--format", "json", "--parse", "never", "tracking/app.yml"])
    only = json.loads(capsys.readouterr().out)["findings"]
    on_models = {"tracking/unknown-event", "tracking/deprecated-event-used"}
    expected = sorted(
        (r, res)
        for r, res, _, message in got
        if res.startswith(("event.app.", "property.app."))
        or (r in on_models and res.startswith("model."))
        or "tracking/app.yml:" in message
    )
    assert sorted((f["rule"], f["resource"]) for f in only) == expected
    assert ("tracking/unused-event", "event.web.Cart Viewed") not in expected  # web's own
    assert any("tracking/app.yml:" in message for *_, message in got)  # one names app.yml


def test_events_that_share_a_slug_are_read_together_whatever_the_plan_order(tmp_path):
    """`Order Completed` and `order completed` have one slug: a model reading it
    reads both (found by the input-order property test: it had marked only the
    one the plan listed first as read, the other `tracking/unused-event`)."""
    from normcheck.analysis import SqlAnalysis
    from normcheck.project import Project, Resource
    from normcheck.sqlfacts import Facts
    from normcheck.tracking.load import load_plans
    from normcheck.tracking.resources import with_plans
    from normcheck.tracking.usage import event_usage

    model = Resource(uid="model.shop.m", type="model", name="m", package="shop", file="m.sql")
    outcomes = []
    for names in (["Order Completed", "order completed"], ["order completed", "Order Completed"]):
        plan = tmp_path / "tracking" / "web.yml"
        plan.parent.mkdir(exist_ok=True)
        plan.write_text(
            "normcheck: plan/v1\nplan:\n  id: web\n  warehouse:\n    profile: segment\nevents:\n"
            + "".join(f"- name: {name}\n" for name in names)
        )
        bare = Project("shop", "duckdb", tmp_path, {model.uid: model}, {})
        project = with_plans(bare, load_plans(tmp_path, ["tracking/*.yml"]))
        facts = {model.uid: Facts(comparisons={"event": ["order_completed"]})}
        usage = event_usage(project, SqlAnalysis(project, facts, "duckdb", {}))
        uses = [(u.value, u.column, u.event and u.event[1].name) for u in usage.uses]
        outcomes.append((usage.read, uses))
    assert outcomes[0] == outcomes[1]
    read, uses = outcomes[0]
    assert read == {"event.web.Order Completed", "event.web.order completed"}
    assert uses == [("order_completed", "event", "Order Completed")]


def test_a_deprecated_event_read_through_a_shared_slug_is_reported(tmp_path):
    """Reading a slug reads every event that has it: a deprecated one among them
    is reported, whichever the plan lists first."""
    from normcheck.analysis import SqlAnalysis
    from normcheck.engine import evaluate
    from normcheck.project import Project, Resource
    from normcheck.sqlfacts import Facts
    from normcheck.tracking.resources import with_plans

    model = Resource(
        uid="model.shop.m",
        type="model",
        name="m",
        package="shop",
        file="models/m.sql",
        raw_code="select 1 as n from t\nwhere event = 'order_completed'\n",
    )
    (tmp_path / "normcheck.yml").write_text("version: 1\nextends: normcheck:recommended\n")
    rules = ["tracking/deprecated-event-used", "tracking/unused-event"]
    events = [
        "- name: order completed\n  status: deprecated\n  replaced_by: Order Completed\n",
        "- name: Order Completed\n",
    ]
    outcomes = []
    for listed in (events, events[::-1]):
        plan = tmp_path / "tracking" / "web.yml"
        plan.parent.mkdir(exist_ok=True)
        plan.write_text(
            "normcheck: plan/v1\nplan:\n  id: web\n  warehouse:\n    profile: segment\nevents:\n"
            + "".join(listed)
        )
        bare = Project("shop", "duckdb", tmp_path, {model.uid: model}, {})
        project = with_plans(bare, load_plans(tmp_path, ["tracking/*.yml"]))
        facts = {model.uid: Facts(comparisons={"event": ["order_completed"]})}
        sql = SqlAnalysis(project, facts, "duckdb", {})
        found = evaluate(project, load_config(tmp_path), rules, "", sql).findings
        outcomes.append([(f.rule, f.resource, f.line, f.message) for f in found])
    assert outcomes[0] == outcomes[1]
    assert outcomes[0] == [
        (
            "tracking/deprecated-event-used",
            "model.shop.m",
            2,
            "model `m` reads event `order completed`, deprecated in plan `web`: "
            "use `Order Completed`",
        )
    ]


def test_a_read_event_is_placed_at_its_comparison_not_in_a_comment(tmp_path, monkeypatch, capsys):
    """The event's name in a `--`, `/* */` or `{# #}` comment, or as a selected
    label, is not where the model reads it: the finding is at the comparison."""
    commented = (
        "-- Note: 'Purchase Made' is the old name; 'Order Complete' a typo we had.\n"
        "/* 'Purchase Made'\n"
        "   'Order Complete' */\n"
        "{# 'Purchase Made' 'Order Complete' #}\n"
        "select 'Purchase Made' as label, 'Order Complete' as typo\n"
        "from (select 'x' as event_text) t\n"
        "where event_text = 'Purchase Made'\n"
        "   or event_text in ('Cart Viewed',\n"
        "                     'Order Complete')\n"
    )
    root = build_dbt_project(tmp_path, {**CROSS, "models/marts/fct_commented.sql": commented})
    (root / "normcheck.yml").write_text(
        "version: 1\nextends: [normcheck:recommended]\nowners: {growth: {}}\n"
        "tracking_plans: ['tracking/*.yml']\n"
    )
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "tracking"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    got = sorted(
        (f["rule"], f["line"]) for f in findings if f["resource"] == "model.shop.fct_commented"
    )
    assert got == [("tracking/deprecated-event-used", 7), ("tracking/unknown-event", 9)]


def test_baselined_duplicates_stay_baselined_when_an_event_joins_the_group(
    tmp_path, monkeypatch, capsys
):
    """The fingerprint was the partner's uid: a new `Checkout Complete` became the
    partner of every event of its group, so all their baselined findings came back
    as new. Keyed on the group, only the newcomer's finding is new."""
    root = build_dbt_project(
        tmp_path,
        {
            "models/m.sql": "select 1 as n\n",
            "tracking/web.yml": (
                "normcheck: plan/v1\nplan: {id: web, owner: growth}\nevents:\n"
                "  - {name: Order Completed, description: The buyer paid.}\n"
                "  - {name: Purchase Completed, description: The buyer paid on mobile.}\n"
            ),
            "tracking/app.yml": (
                "normcheck: plan/v1\nplan: {id: app, owner: growth}\nevents:\n"
                "  - {name: Order Placed, description: The buyer paid in the app.}\n"
            ),
        },
    )
    (root / "normcheck.yml").write_text(
        "version: 1\ntracking_plans: ['tracking/*.yml']\nrules:\n  tracking/duplicate-event:\n"
        "    options: {synonyms: [[order, purchase, checkout], [complete, place, make]]}\n"
    )
    monkeypatch.chdir(root)
    assert main(["baseline", "--parse", "never"]) == 0
    capsys.readouterr()
    (root / "tracking" / "aa.yml").write_text(
        "normcheck: plan/v1\nplan: {id: aa, owner: growth}\nevents:\n"
        "  - {name: Checkout Complete, description: The buyer paid in the kiosk.}\n"
    )
    main(
        ["check", "--format", "json", "--parse", "never", "--baseline", ".normcheck-baseline.json"]
    )
    report = json.loads(capsys.readouterr().out)
    new = [f["resource"] for f in report["findings"] if f["rule"] == "tracking/duplicate-event"]
    assert new == ["event.aa.Checkout Complete"]


def test_json_plans_place_events_and_properties_by_their_json_path():
    """Lines came from the first key of that name anywhere in the file: an Iglu
    property `type` at the schema's own `"type": "object"`, an event whose `self`
    block ends the file at a property called `name`, a Segment property at a nested
    key of the same name in an earlier property."""
    schemas = TRACKING / "iglu-central" / "schemas"
    plans = load_plans(
        TRACKING / "iglu-central", ["schemas/com.getvero/**/*", "schemas/io.snowplow.ecomm/**/*"]
    )
    iglu = {(p.id, e.name): e for p in plans for e in p.events}
    clicked = iglu[("com.getvero", "clicked")]
    assert {p.name: p.line for p in clicked.properties}["type"] == 25
    discount = iglu[("io.snowplow.ecomm", "discount")]
    assert discount.line == 87
    lines = (schemas / "io.snowplow.ecomm/discount/jsonschema/1-0-0").read_text().splitlines()
    assert lines[discount.line - 1].strip() == '"name": "discount",'
    for event in iglu.values():  # each property at its key under the top-level `properties`
        text = (TRACKING / "iglu-central" / event.file).read_text()
        top = json.loads(text)["properties"]
        for prop in event.properties:
            assert prop.name in top
            assert text.splitlines()[prop.line - 1].strip().startswith(json.dumps(prop.name))
    (plan,) = load_plans(TRACKING / "typewriter", ["plan.json"])
    event = next(e for e in plan.events if e.name == "Every Nullable Optional Type")
    assert {p.name: p.line for p in event.properties}["optional any"] == 264


def test_pii_names_and_nested_object_properties(tmp_path):
    """`date_of_birth`, `customer_name`, `recipient_name` looked harmless; an email
    nested in an object property (Segment `buyer.email`, Iglu `msg.email`) was never
    looked at. A declaration on the object covers what it holds."""
    (tmp_path / "web.yml").write_text(
        "normcheck: plan/v1\nplan: {id: web, owner: growth}\nevents:\n  - name: Order Completed\n"
        "    properties:\n"
        + "".join(
            f"      - {{name: {name}, type: string}}\n"
            for name in ("date_of_birth", "dateOfBirth", "customer_name", "recipientName")
        )
        + "      - {name: product_name, type: string}\n"
        + "      - {name: email_opt_in, type: boolean}\n"  # a yes or no: nothing personal
    )
    segment = {
        "rules": [
            {
                "jsonSchema": {
                    "properties": {
                        "properties": {
                            "properties": {
                                "buyer": {
                                    "type": "object",
                                    "properties": {
                                        "email": {"type": "string", "format": "email"},
                                        "tier": {"type": "string"},
                                        "mobile": {"type": "boolean"},
                                    },
                                },
                                "items": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {"recipient_name": {"type": "string"}},
                                    },
                                },
                                "seller": {
                                    "type": "object",
                                    "pii": {"category": "contact"},
                                    "properties": {"email": {"type": "string", "format": "email"}},
                                },
                            }
                        }
                    }
                },
                "key": "Order Shipped",
                "type": "TRACK",
            }
        ]
    }
    (tmp_path / "plan.json").write_text(json.dumps(segment, indent=2))
    iglu = tmp_path / "iglu" / "com.acme" / "message_sent" / "jsonschema" / "1-0-0"
    iglu.parent.mkdir(parents=True)
    iglu.write_text(
        json.dumps(
            {
                "self": {
                    "vendor": "com.acme",
                    "name": "message_sent",
                    "format": "jsonschema",
                    "version": "1-0-0",
                },
                "type": "object",
                "properties": {
                    "msg": {"type": "object", "properties": {"email": {"type": "string"}}}
                },
            },
            indent=2,
        )
    )
    plans = load_plans(tmp_path, ["web.yml", "plan.json", "iglu/**/*"])
    findings = evaluate_plans(plans, "tracking/pii-undeclared", tmp_path)
    lines = {f: (tmp_path / f).read_text().splitlines() for f in {f.file for f in findings}}
    got = sorted(
        (
            f.resource.rsplit(".", 1)[-1] if "." in f.resource else f.resource,
            f.message.split(" has")[0],
            lines[f.file][f.line - 1].strip().split(":")[0].strip('"{- ').split(",")[0],
        )
        for f in findings
    )
    assert got == [
        ("buyer", "nested property `buyer.email`", "email"),
        ("customer_name", "property `customer_name`", "name"),
        ("dateOfBirth", "property `dateOfBirth`", "name"),
        ("date_of_birth", "property `date_of_birth`", "name"),
        ("items", "nested property `items.recipient_name`", "recipient_name"),
        ("msg", "nested property `msg.email`", "email"),
        ("recipientName", "property `recipientName`", "name"),
    ]


def test_plan_suppression_findings_are_at_their_entry(tmp_path, monkeypatch, capsys):
    """An unused, reasonless or locked-rule suppression on a plan's event or property
    was told at the event's (property's) line, not at its own `ignore` entry."""
    plan = """\
normcheck: plan/v1
plan: {id: web, owner: growth, warehouse: {profile: segment}}
properties:
  coupon:
    type: string
    description: The code the buyer typed
    pii: none
    meta:
      normcheck:
        ignore:
          - {rule: naming/property-name, reason: we keep it}
events:
  - name: Order Completed
    description: Buyer finished payment and the order was accepted.
    meta:
      normcheck:
        ignore:
          - {rule: tracking/unused-event, reason: modelled next quarter}
          - {rule: naming/event-name}
    properties:
      - name: orderId
        type: string
        description: The order
        pii: none
        meta:
          normcheck:
            ignore: [{rule: naming/event-name, reason: not an event rule}]
"""
    root = build_dbt_project(
        tmp_path, {"tracking/web.yml": plan, "models/x.sql": "select 1 as id\n"}
    )
    (root / "normcheck.yml").write_text(
        "version: 1\nowners: {growth: {}}\ntracking_plans: ['tracking/*.yml']\n"
    )
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    got = sorted(
        (f["rule"], f["line"])
        for f in findings
        if f["file"] == "tracking/web.yml" and f["rule"].startswith("normcheck/")
    )
    assert got == [
        ("normcheck/suppression-without-reason", 19),
        ("normcheck/unused-suppression", 11),
        ("normcheck/unused-suppression", 19),
    ]


def test_snowplows_own_events_are_not_unknown(tmp_path, monkeypatch, capsys):
    """`event_name in ('page_view', 'page_ping')`: Snowplow's core events, which no
    plan (nor Iglu schema) defines, were each an unknown-event error."""
    plan = (
        "normcheck: plan/v1\nplan: {id: app, owner: growth, warehouse: {profile: snowplow}}\n"
        "events:\n  - name: link_click\n    description: A visitor clicked a link on a page.\n"
    )
    sql = (
        "select 1 as n from (select 'x' as event_name) t\n"
        "where event_name in ('page_view', 'page_ping', 'link_click', 'link_clik')\n"
    )
    root = build_dbt_project(
        tmp_path, {"tracking/app.yml": plan, "models/marts/fct_clicks.sql": sql}
    )
    (root / "normcheck.yml").write_text(
        "version: 1\nextends: [normcheck:recommended]\nowners: {growth: {}}\n"
        "tracking_plans: ['tracking/*.yml']\n"
    )
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "tracking"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    unknown = [f["message"] for f in findings if f["rule"] == "tracking/unknown-event"]
    assert len(unknown) == 1 and "`link_clik`" in unknown[0]


def test_only_models_reading_the_plans_source_compare_event_columns(tmp_path, monkeypatch, capsys):
    """A column called `event` in a table that has nothing to do with tracking (an
    orders export) was read as the plan's event slug: when every plan names its dbt
    source, only the models downstream of one are judged."""
    plan = (
        "normcheck: plan/v1\n"
        "plan: {id: web, owner: growth, warehouse: {profile: segment, source: segment}}\n"
        "events:\n  - name: Order Completed\n"
        "    description: Buyer finished payment and the order was accepted.\n"
    )
    root = build_dbt_project(
        tmp_path,
        {
            "tracking/web.yml": plan,
            "models/staging/_sources.yml": (
                "version: 2\nsources:\n  - name: segment\n    tables:\n      - name: tracks\n"
            ),
            "models/staging/stg_tracks.sql": "select * from {{ source('segment', 'tracks') }}\n",
            "models/marts/fct_orders.sql": (
                "select * from {{ ref('stg_tracks') }} where event = 'order_complete'\n"
            ),
            "models/marts/fct_refunds.sql": (
                "select 1 as n from (select 'x' as event) t where event = 'refund_requested'\n"
            ),
        },
    )
    (root / "normcheck.yml").write_text(
        "version: 1\nextends: [normcheck:recommended]\nowners: {growth: {}}\n"
        "tracking_plans: ['tracking/*.yml']\n"
    )
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "--parse", "never", "--select", "tracking"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    unknown = [f["resource"] for f in findings if f["rule"] == "tracking/unknown-event"]
    assert unknown == ["model.shop.fct_orders"]


def test_a_tracking_plans_glob_matching_no_file_is_said(tmp_path, monkeypatch, capsys):
    """A typo in a glob, or a Windows `tracking\\*.yml` (globs take `/`), left its
    plans unchecked without a word: fewer findings, and a green light that means nothing."""
    root = build_dbt_project(tmp_path, CROSS)
    (root / "normcheck.yml").write_text(
        "version: 1\nextends: [normcheck:default]\n"
        "tracking_plans: ['tracking/web.yml', 'tracking\\*.yml', 'plans/**/*.json']\n"
    )
    monkeypatch.chdir(root)
    for _ in ("cold", "warm"):  # the warm run's findings come from the cache: said too
        main(["check", "-q", "--parse", "never"])
        err = capsys.readouterr().err
        assert err.splitlines() == [
            "normcheck: tracking_plans glob `tracking\\*.yml` (normcheck.yml:3) matches no "
            "file, so no plan of it is checked: write `/` between folders, not `\\`",
            "normcheck: tracking_plans glob `plans/**/*.json` (normcheck.yml:3) matches no "
            "file, so no plan of it is checked",
        ]


def test_in_a_monorepo_a_glob_matching_nothing_names_its_project(tmp_path):
    """The root's `tracking_plans` is read in each project's folder: a glob that
    finds plans in one project only is said of the others by name."""
    from normcheck.config.model import Config
    from normcheck.run import _unmatched_plan_notes

    config = Config(files=(), rules={}, tracking_plans=("tracking/*.yml",))
    (tmp_path / "growth" / "tracking").mkdir(parents=True)
    (tmp_path / "growth" / "tracking" / "web.yml").write_text("normcheck: plan/v1\n")
    (tmp_path / "finance").mkdir()
    assert _unmatched_plan_notes(tmp_path / "growth", config, tmp_path) == []
    assert _unmatched_plan_notes(tmp_path / "finance", config, tmp_path) == [
        "tracking_plans glob `tracking/*.yml` in project `finance` matches no file, so no "
        "plan of it is checked"
    ]
