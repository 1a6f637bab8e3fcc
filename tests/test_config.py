"""Configuration: extends chains, validation with file:line, merge with provenance, locks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import install_distribution
from normcheck.checks.tracking.pii_undeclared import DEFAULT_PATTERNS
from normcheck.config.loader import load_config
from normcheck.errors import ConfigError


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def error_of(root: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(root)
    return info.value


def test_no_config_uses_the_packaged_default(tmp_path):
    config = load_config(tmp_path)
    assert config.files == ("normcheck:default",)
    assert config.rules["naming/model-prefix"].severity == "error"
    assert str(config.rules["naming/model-prefix"].severity_origin).startswith("normcheck:default:")


def test_a_config_without_extends_implicitly_extends_default(tmp_path, chdir):
    chdir(tmp_path)
    write(tmp_path, {"normcheck.yml": "version: 1\nrules:\n  docs/missing-description: info\n"})
    config = load_config(tmp_path)
    assert config.files == ("normcheck:default", "normcheck.yml")
    rule = config.rules["docs/missing-description"]
    assert (rule.severity, str(rule.severity_origin)) == ("info", "normcheck.yml:3")
    assert config.rules["naming/model-prefix"].severity == "error"


def test_empty_extends_starts_from_nothing(tmp_path, chdir):
    chdir(tmp_path)
    write(tmp_path, {"normcheck.yml": "extends: []\nrules:\n  naming/name-case: warning\n"})
    config = load_config(tmp_path)
    assert config.rules["naming/name-case"].severity == "warning"
    assert config.rules["naming/model-prefix"].severity == "off"


def test_chain_of_extends_later_wins_with_provenance(tmp_path, chdir):
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "gov/base.yml": "extends: [normcheck:default]\nteam: central\n"
            "rules:\n  docs/missing-description: error\n",
            "gov/mid.yml": "extends: [base.yml]\nrules:\n  docs/missing-description:\n"
            "    severity: warning\n    options: {min_length: 10}\n",
            "normcheck.yml": "extends: [gov/mid.yml]\nteam: growth\n",
        },
    )
    config = load_config(tmp_path)
    assert config.files == ("normcheck:default", "gov/base.yml", "gov/mid.yml", "normcheck.yml")
    rule = config.rules["docs/missing-description"]
    assert rule.severity == "warning"
    assert str(rule.severity_origin) == "gov/mid.yml:4"
    assert str(rule.option_origins["min_length"]) == "gov/mid.yml:5"
    assert rule.options.min_length == 10  # type: ignore[attr-defined]
    assert config.team == "growth"
    assert str(config.settings_origins["team"]) == "normcheck.yml:2"


def test_diamond_extends_reads_each_file_once(tmp_path, chdir):
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "a.yml": "extends: [c.yml]\n",
            "b.yml": "extends: [c.yml]\n",
            "c.yml": "extends: []\nteam: c\n",
            "normcheck.yml": "extends: [a.yml, b.yml]\n",
        },
    )
    assert load_config(tmp_path).files == ("c.yml", "a.yml", "b.yml", "normcheck.yml")


def test_extends_cycle_is_reported_at_the_line(tmp_path, chdir):
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "normcheck.yml": "extends: [a.yml]\n",
            "a.yml": "version: 1\nextends:\n  - normcheck.yml\n",
        },
    )
    error = error_of(tmp_path)
    assert "cycle" in error.message
    assert (error.file, error.line) == ("a.yml", 3)


def test_missing_extends_target(tmp_path, chdir):
    chdir(tmp_path)
    write(tmp_path, {"normcheck.yml": "version: 1\nextends: [nope.yml]\n"})
    error = error_of(tmp_path)
    assert (error.file, error.line) == ("normcheck.yml", 2)
    assert "`nope.yml` not found" in error.message


def test_unknown_packaged_set(tmp_path, chdir):
    chdir(tmp_path)
    write(tmp_path, {"normcheck.yml": "extends: [normcheck:strict]\n"})
    error = error_of(tmp_path)
    assert "normcheck:default" in error.message


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        pytest.param(
            "version: 1\nteem: x\n",
            2,
            "unknown key `teem`; did you mean `team`?",
            id="an unknown top-level key gets a did-you-mean hint",
        ),
        pytest.param(
            "rules:\n  naming/model-prefix:\n    severty: error\n",
            3,
            "unknown key `severty` in `rules.naming/model-prefix`",
            id="an unknown key inside a rule names the rule",
        ),
        pytest.param(
            "rules:\n  naming/model-prefix: fatal\n",
            2,
            "use one of off, info",
            id="a bad severity lists the choices",
        ),
        pytest.param(
            "rules:\n  naming/name-case:\n    options: {pattern: '(['}\n",
            3,
            "invalid regular expression",
            id="a bad regex is refused",
        ),
        pytest.param(
            "rules:\n  naming/nope: error\n",
            2,
            "unknown rule `naming/nope`",
            id="an unknown rule id",
        ),
        pytest.param(
            "rules:\n  normcheck/unused-suppression: {severity: warning, options: {x: 1}}\n",
            2,
            "unknown key `x` in `rules.normcheck/unused-suppression.options`: it takes none",
            id="an option of a rule that takes none",
        ),
        pytest.param(
            "rules:\n  acme/float-column: error\n",
            2,
            "unknown rule `acme/float-column`: no installed rule pack or plugin defines the "
            "family `acme`",
            id="a rule of a pack not installed says so",
        ),
        pytest.param(
            "rules:\n  naming/model-prefx: error\n",
            2,
            "did you mean `naming/model-prefix`",
            id="a misspelt rule id gets a hint",
        ),
        pytest.param(
            "rules:\n  nofamily: error\n", 2, "not a rule id", id="a rule id without family"
        ),
        pytest.param(
            "rules:\n  docs/missing-description:\n    options: {min_length: 0}\n",
            3,
            "invalid value",
            id="an option out of range",
        ),
        pytest.param(
            "rules:\n  naming/name-case:\n    options: {colour: red}\n",
            3,
            "unknown key `colour`",
            id="an unknown option",
        ),
        pytest.param("- just\n- a list\n", 1, "must be a YAML mapping", id="not a mapping"),
        pytest.param("rules: [\n", 2, "YAML syntax error", id="broken YAML"),
        pytest.param("version: 2\n", 1, "invalid value at `version`", id="wrong version"),
        pytest.param(
            "overrides:\n  - match: {}\n    rules: {}\n",
            2,
            "invalid value",
            id="an override that matches everything is refused",
        ),
        pytest.param(
            "rules:\n  naming/model-prefix: error\n  docs/missing-description: info\n"
            "  naming/model-prefix: 'off'\n",
            4,
            "duplicate key `naming/model-prefix` (first at line 2)",
            id="a rule configured twice (YAML would keep the last, quietly)",
        ),
        pytest.param(
            "rules:\n  normcheck/locked-rule: off\n",
            2,
            "cannot be configured",
            id="locked-rule itself cannot be configured",
        ),
        pytest.param(
            "rules:\n  docs/missing-description:\n    options: {resource_types: [model], min_length: 5}\n"
            "overrides:\n  - match: {paths: ['nothing/**']}\n    rules:\n"
            "      docs/missing-description: {options: {min_length: x}}\n",
            7,
            "invalid option `min_length` of `docs/missing-description`: expected `int`, got `str`",
            id="an override's options, though it matches nothing yet",
        ),
        pytest.param(
            "rules:\n  naming/model-prefix: 1\n",
            2,
            "a rule takes a severity (error, warning, info, off) or {severity, locked, options}, "
            "not 1",
            id="a number for a rule",
        ),
        pytest.param(
            "overrides:\n  - match: {tags: [x]}\n    rules:\n      naming/model-prefix: true\n",
            4,
            "a rule takes a severity (error, warning, info, off) or {severity, locked, options}, "
            "not true",
            id="a boolean for a rule in an override",
        ),
        pytest.param(
            "vocabulary:\n  preferred:\n    amt: amount\n    no: number\n",
            4,
            "key `no` is a boolean to YAML, not text: quote it ('no')",
            id="a key YAML reads as a boolean (was a crash)",
        ),
        pytest.param(
            "rules:\n  ownership/missing-owner:\n    options: {resource_types: [model, modle]}\n",
            3,
            "`modle` is not allowed at `rules.ownership/missing-owner.options.resource_types.1`",
            id="a misspelt resource type (was: quietly never matched)",
        ),
        pytest.param(
            "vocabulary:\n  banned: [tmp, no]\n",
            2,
            "invalid value at `vocabulary.banned.1`: YAML reads it as false, not text: quote it",
            id="a value YAML reads as a boolean",
        ),
        pytest.param(
            "projects: [a, ./a/]\n", 1, "`projects:` lists `./a/` twice", id="a project twice"
        ),
        pytest.param(
            "plugins: [models]\n",
            1,
            "plugin `models` is a folder, not a Python file",
            id="a folder",
        ),
        pytest.param(
            "dialect: Snowfake\n",
            1,
            "`snowfake` is not allowed at `dialect`: use one of athena,",
            id="an unknown dialect (was the generic one, quietly)",
        ),
        pytest.param(
            "rules:\n  5: warning\n", 2, "key `5` is a number to YAML", id="a number as a key"
        ),
        pytest.param(
            "rules:\n  ? [a, b]\n  : warning\n", 2, "a key must be text", id="a list as a key"
        ),
        pytest.param(
            "overrides:\n  - match: {tags: [web]}\n    rules:\n"
            "      tracking/pii-undeclared: {options: {patterns: ['(']}}\n",
            4,
            "the regular expression `(`",
            id="an override's regular expression",
        ),
        pytest.param(
            "plugins:\n  - rules.py\n  - ''\n",
            3,
            "invalid value at `plugins.1`: '' should be non-empty",
            id="an empty plugin path (was: plugin `` is a folder)",
        ),
        pytest.param(
            "tracking_plans: ['']\n", 1, "'' should be non-empty", id="an empty plan glob"
        ),
        pytest.param(
            "overrides:\n  - match: null\n    rules: {}\n",
            2,
            "invalid value at `overrides.0.match`: null is not a mapping",
            id="null for a mapping (was Python's `None is not of type 'object'`)",
        ),
    ],
)
def test_invalid_configuration_names_file_and_line(tmp_path, chdir, text, line, needle):
    chdir(tmp_path)
    write(tmp_path, {"normcheck.yml": text})
    (tmp_path / "models").mkdir()  # a folder, for the configurations that name it
    error = error_of(tmp_path)
    assert error.file == "normcheck.yml"
    assert error.line == line, str(error)
    assert needle in error.message, str(error)
    assert "\n" not in str(error)


CENTRAL = """\
version: 1
extends: [normcheck:default]
rules:
  naming/model-prefix:
    severity: error
    locked: true
  docs/missing-description: {severity: warning, locked: true, options: {min_length: 4}}
"""


@pytest.mark.parametrize(
    ("local", "line", "needle"),
    [
        pytest.param(
            "rules:\n  naming/model-prefix: warning\n",
            3,
            "setting severity `warning`",
            id="lowering the severity",
        ),
        pytest.param(
            "rules:\n  naming/model-prefix: 'off'\n",
            3,
            "setting severity `off`",
            id="turning it off",
        ),
        pytest.param(
            "rules:\n  naming/model-prefix: {locked: false}\n",
            3,
            "`locked: false`",
            id="unlocking it",
        ),
        pytest.param(
            "rules:\n  docs/missing-description:\n    options: {min_length: 1}\n",
            4,
            "weakening option `min_length`",
            id="lowering a minimum",
        ),
        pytest.param(
            "rules:\n  docs/missing-description:\n    options: {resource_types: [model]}\n",
            4,
            "weakening option `resource_types`",
            id="judging fewer resource types than the default",
        ),
        pytest.param(
            "rules:\n  naming/model-prefix:\n    options: {layers: {}}\n",
            4,
            "weakening option `layers`",
            id="dropping every layer",
        ),
        pytest.param(
            "overrides:\n  - match: {paths: [models/legacy]}\n"
            "    rules: {naming/model-prefix: info}\n",
            4,
            "an override to `info`",
            id="an override that lowers it",
        ),
        pytest.param(
            "overrides:\n  - match: {tags: [x]}\n    rules:\n"
            "      docs/missing-description: {options: {min_length: 1}}\n",
            5,
            "an override weakening option `min_length`",
            id="an override that weakens options",
        ),
    ],
)
def test_weakening_a_locked_rule_is_a_violation_without_effect(
    tmp_path, chdir, local, line, needle
):
    chdir(tmp_path)
    write(tmp_path, {"central.yml": CENTRAL, "normcheck.yml": "extends: [central.yml]\n" + local})
    config = load_config(tmp_path)
    assert len(config.violations) == 1
    violation = config.violations[0]
    assert (violation.origin.file, violation.origin.line) == ("normcheck.yml", line)
    assert needle in violation.message
    assert "central.yml:" in violation.message
    prefix = config.rules["naming/model-prefix"]
    assert (prefix.severity, prefix.locked) == ("error", True)
    docs = config.rules["docs/missing-description"]
    assert docs.options.min_length == 4  # type: ignore[attr-defined]
    assert all(not o.rules for o in config.overrides)


def test_stricter_options_of_a_locked_rule_are_allowed(tmp_path, chdir):
    """A locked rule may be strengthened through its options too: more resource types
    judged, a higher minimum, fewer allowed prefixes, a requirement switched on."""
    central = CENTRAL + (
        "  naming/column-type-suffix: {severity: warning, locked: true}\n"
        "  metrics/north-star: {severity: warning, locked: true}\n"
        "  tracking/pii-undeclared: {severity: warning, locked: true}\n"
    )
    local = (
        "extends: [central.yml]\nrules:\n  docs/missing-description:\n"
        "    options: {resource_types: [model, source, exposure, metric, semantic_model, event,"
        " property, column], min_length: 10}\n"
        "  naming/column-type-suffix:\n    options: {boolean_prefixes: [is_, has_]}\n"
        "  metrics/north-star:\n    options: {max_north_stars: 1, require_tier: true}\n"
        "  tracking/pii-undeclared:\n    options: {patterns: "
        + json.dumps([*DEFAULT_PATTERNS, "passport"])
        + "}\n"
    )
    chdir(tmp_path)
    write(tmp_path, {"central.yml": central, "normcheck.yml": local})
    config = load_config(tmp_path)
    assert config.violations == ()
    docs = config.rules["docs/missing-description"].options
    assert "column" in docs.resource_types  # type: ignore[attr-defined]
    assert docs.min_length == 10  # type: ignore[attr-defined]
    suffix = config.rules["naming/column-type-suffix"].options
    assert suffix.boolean_prefixes == ["is_", "has_"]  # type: ignore[attr-defined]
    star = config.rules["metrics/north-star"].options
    assert (star.max_north_stars, star.require_tier) == (1, True)  # type: ignore[attr-defined]
    pii = config.rules["tracking/pii-undeclared"].options
    assert pii.patterns[-1] == "passport"  # type: ignore[attr-defined]
    # and the other way round each of them is a violation, without effect
    weaker = (
        "extends: [central.yml]\nrules:\n  naming/column-type-suffix:\n"
        "    options: {boolean_prefixes: [is_, flag_]}\n"
        "  metrics/north-star:\n    options: {max_north_stars: 5, require_tier: false}\n"
    )
    write(tmp_path, {"normcheck.yml": weaker})
    config = load_config(tmp_path)
    assert sorted(v.message.split(" of locked")[0] for v in config.violations) == [
        "weakening option `boolean_prefixes`",
        "weakening option `max_north_stars`",
    ]  # require_tier: false is its default, so no change
    assert config.rules["metrics/north-star"].options.max_north_stars == 3  # type: ignore[attr-defined]


LAYERS = (
    "  naming/model-prefix:\n    options:\n      layers:\n"
    "        staging: {paths: ['models/staging/**'], prefixes: [stg_]}\n"
    "        intermediate: {paths: ['models/intermediate/**'], prefixes: [int_]}\n"
    "        marts: {paths: ['models/marts/**'], prefixes: %s}\n"
)


@pytest.mark.parametrize(
    ("local", "refused"),
    [
        pytest.param(LAYERS % "[dim_, fct_]", [], id="the same prefixes in another order"),
        pytest.param(LAYERS % "[fct_]", [], id="fewer prefixes allowed"),
        pytest.param(LAYERS % "[fct_, dim_, rpt_]", ["layers"], id="another prefix allowed"),
        pytest.param(
            "  naming/model-prefix:\n    options:\n      layers:\n"
            "        marts: {paths: ['models/marts/**'], prefixes: [fct_, dim_]}\n"
            "        staging: {paths: ['models/staging/**'], prefixes: [stg_]}\n"
            "        intermediate: {paths: ['models/intermediate/**'], prefixes: [int_]}\n",
            [],
            id="the layers reordered: equal as a mapping, the locked order stands",
        ),
        pytest.param(
            "  docs/placeholder-description:\n"
            "    options: {placeholders: [TODO, TBD, FIXME, XXX, WIP, later]}\n",
            [],
            id="placeholder words in capitals, and one more",
        ),
        pytest.param(
            "  docs/placeholder-description:\n    options: {placeholders: [TODO, TBD]}\n",
            ["placeholders"],
            id="placeholder words dropped",
        ),
        pytest.param(
            "  governance/layer-dependency:\n    options:\n      forbidden:\n"
            "        staging: [intermediate, marts]\n        intermediate: [marts]\n"
            "        marts: [staging]\n",
            [],
            id="another forbidden dependency",
        ),
        pytest.param(
            "  governance/layer-dependency:\n    options:\n      forbidden:\n"
            "        staging: [marts]\n        intermediate: [marts]\n",
            ["forbidden"],
            id="a forbidden dependency dropped",
        ),
        pytest.param(
            "  naming/name-case:\n    options: {case: camelCase}\n",
            ["case"],
            id="an option with no way to be stricter may not change",
        ),
    ],
)
def test_locked_options_compare_by_meaning(tmp_path, chdir, local, refused):
    """Strengthening is not refused because of how it is written (order, case), and
    options with a stricter direction may move in it."""
    central = CENTRAL + (
        "  docs/placeholder-description: {severity: warning, locked: true}\n"
        "  governance/layer-dependency: {severity: error, locked: true}\n"
        "  naming/name-case: {severity: error, locked: true}\n"
    )
    chdir(tmp_path)
    write(
        tmp_path,
        {"central.yml": central, "normcheck.yml": "extends: [central.yml]\nrules:\n" + local},
    )
    config = load_config(tmp_path)
    assert [v.key.removeprefix("options.") for v in config.violations] == refused
    layers = config.rules["naming/model-prefix"].options.layers  # type: ignore[attr-defined]
    assert list(layers) == ["staging", "intermediate", "marts"]


def test_the_norms_a_locked_rule_judges_by_stay_the_central_sets(tmp_path, chdir):
    """A team cannot register itself past a locked `ownership/unknown-owner`, nor
    re-map a central word past a locked `naming/vocabulary`; new words are fine."""
    central = (
        "extends: []\nowners: {growth: {email: g@x.io}}\n"
        "vocabulary: {preferred: {amt: amount}}\nrules:\n"
        "  ownership/unknown-owner: {severity: error, locked: true}\n"
        "  naming/vocabulary: {severity: warning, locked: true}\n"
    )
    local = (
        "extends: [central.yml]\nowners:\n  growth-analytics: {}\n  growth: {email: g@x.io}\n"
        "vocabulary:\n  preferred: {amt: total, cust: customer}\n"
    )
    chdir(tmp_path)
    write(tmp_path, {"central.yml": central, "normcheck.yml": local})
    config = load_config(tmp_path)
    assert sorted((v.key, v.origin.line) for v in config.violations) == [
        ("owners.growth-analytics", 3),
        ("preferred.amt", 6),
    ]
    assert list(config.owners) == ["growth"]
    assert config.vocabulary.preferred == {"amt": "amount", "cust": "customer"}
    assert str(config.settings_origins["preferred.amt"]) == "central.yml:3"
    # unlocked, the team's file wins as before
    write(tmp_path, {"central.yml": central.replace("locked: true", "locked: false")})
    config = load_config(tmp_path)
    assert config.violations == ()
    assert list(config.owners) == ["growth", "growth-analytics"]
    assert config.vocabulary.preferred["amt"] == "total"


def test_a_word_preferred_over_itself_is_refused(tmp_path, chdir):
    chdir(tmp_path)
    write(tmp_path, {"normcheck.yml": "vocabulary:\n  preferred:\n    amt: Amt\n"})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value) == (
        "normcheck.yml:3: `vocabulary.preferred` maps `amt` to itself: a preferred word is "
        "another word (to allow a word, leave it out)"
    )


def test_an_attempt_by_a_packaged_set_is_placed_at_the_extends_that_names_it(tmp_path, chdir):
    """`normcheck:default:16` is no file a reviewer can open (nor an annotation)."""
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "central.yml": "extends: []\nrules:\n"
            "  docs/missing-description: {severity: error, locked: true}\n",
            "normcheck.yml": "version: 1\nextends: [central.yml, normcheck:default]\n",
        },
    )
    (violation,) = load_config(tmp_path).violations
    assert (violation.origin.file, violation.origin.line) == ("normcheck.yml", 2)
    assert violation.message.startswith(
        "setting severity `warning` (by `normcheck:default`, extended here) of locked rule"
    )


def test_the_layers_a_locked_rule_judges_by_cannot_be_changed_around_it(tmp_path, chdir):
    """`governance/layer-dependency` locked, `naming/model-prefix` not: a team
    pointing the layers at nothing silenced the locked rule."""
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "central.yml": "extends: [normcheck:default]\nrules:\n"
            "  governance/layer-dependency: {severity: error, locked: true}\n",
            "normcheck.yml": "extends: [central.yml]\nrules:\n  naming/model-prefix:\n"
            "    options:\n      layers: {x: {paths: ['nowhere/**'], prefixes: [x_]}}\n",
        },
    )
    config = load_config(tmp_path)
    (violation,) = config.violations
    assert (violation.origin.file, violation.origin.line) == ("normcheck.yml", 5)
    assert "locked rule `governance/layer-dependency` judges models by them" in violation.message
    assert [layer.name for layer in config.layers] == ["staging", "intermediate", "marts"]
    write(tmp_path, {"normcheck.yml": "extends: [central.yml]\nrules:\n" + LAYERS % "[fct_]"})
    config = load_config(tmp_path)
    assert config.violations == ()  # fewer prefixes: stricter
    assert config.layers[-1].prefixes == ("fct_",)


@pytest.mark.parametrize(
    "lock",
    [
        "  acme/owner-meta: {uses: governance/required-meta, severity: error, locked: true,"
        " options: {keys: {owner: {}}}}\n",
        "  sql/select-star: {severity: 'off', locked: true}\n",
        "  sql/select-star: {severity: error, locked: true, options: {layers: []}}\n",
    ],
    ids=["required-meta with no layer in its scope", "a rule that is off", "every layer alike"],
)
def test_a_locked_rule_not_judging_by_layers_leaves_them_to_the_team(tmp_path, chdir, lock):
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "central.yml": "extends: [normcheck:default]\nrules:\n" + lock,
            "normcheck.yml": "extends: [central.yml]\nrules:\n" + LAYERS % "[fct_, dim_, rpt_]",
        },
    )
    config = load_config(tmp_path)
    assert config.violations == ()
    assert config.layers[-1].prefixes == ("fct_", "dim_", "rpt_")


def test_the_plans_a_locked_tracking_rule_judges_stay_checked(tmp_path, chdir):
    chdir(tmp_path)
    central = (
        "extends: [normcheck:default]\ntracking_plans: ['tracking/*.yml']\nrules:\n"
        "  naming/event-name: {severity: error, locked: true}\n"
    )
    write(
        tmp_path,
        {"central.yml": central, "normcheck.yml": "extends: [central.yml]\ntracking_plans: []\n"},
    )
    config = load_config(tmp_path)
    (violation,) = config.violations
    assert (violation.origin.file, violation.origin.line) == ("normcheck.yml", 2)
    assert violation.message.startswith(
        "leaving out the tracking plans `tracking/*.yml` has no effect: locked rule "
        "`naming/event-name` judges them"
    )
    assert config.tracking_plans == ("tracking/*.yml",)
    write(tmp_path, {"normcheck.yml": "extends: [central.yml]\ntracking_plans: [web/*.json]\n"})
    config = load_config(tmp_path)
    assert config.tracking_plans == ("tracking/*.yml", "web/*.json")
    write(
        tmp_path,
        {"normcheck.yml": "extends: [central.yml]\ntracking_plans: [web/*.json, tracking/*.yml]\n"},
    )
    config = load_config(tmp_path)
    assert config.violations == () and config.tracking_plans == ("web/*.json", "tracking/*.yml")
    # a lock of the team's own (sorted first) does not hide the central one
    write(
        tmp_path,
        {
            "normcheck.yml": "extends: [central.yml]\ntracking_plans: []\nrules:\n"
            "  docs/missing-description: {severity: warning, locked: true}\n"
        },
    )
    config = load_config(tmp_path)
    assert [v.key for v in config.violations] == ["tracking_plans"]
    assert config.tracking_plans == ("tracking/*.yml",)


def test_a_rule_set_merged_before_the_lock_cannot_weaken_it(tmp_path, chdir):
    """`extends: [normcheck:default, team-base.yml, central.yml]`: what team-base set
    was read before the lock and never checked; central locking the rule without
    restating it locked team-base's `off`."""
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "team-base.yml": "extends: []\nrules:\n  naming/model-prefix: 'off'\n"
            "  docs/missing-description: {options: {resource_types: [source]}}\n",
            "central.yml": "extends: []\nrules:\n  naming/model-prefix: {locked: true}\n"
            "  docs/missing-description: {severity: error, locked: true}\n",
            "normcheck.yml": "extends: [normcheck:default, team-base.yml, central.yml]\n",
        },
    )
    config = load_config(tmp_path)
    assert sorted((v.origin.file, v.origin.line, v.key) for v in config.violations) == [
        ("team-base.yml", 3, "severity"),
        ("team-base.yml", 4, "options.resource_types"),
    ]
    assert config.rules["naming/model-prefix"].severity == "error"  # the rule's own
    docs = config.rules["docs/missing-description"].options
    assert "model" in docs.resource_types  # type: ignore[attr-defined]
    # stricter before the lock is fine
    write(
        tmp_path,
        {
            "team-base.yml": "extends: []\nrules:\n  docs/missing-description:\n"
            "    options: {min_length: 40}\n",
        },
    )
    config = load_config(tmp_path)
    assert config.violations == ()
    assert config.rules["docs/missing-description"].options.min_length == 40  # type: ignore[attr-defined]


def test_strengthening_a_locked_rule_is_allowed(tmp_path, chdir):
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "central.yml": CENTRAL,
            "normcheck.yml": "extends: [central.yml]\nrules:\n"
            "  docs/missing-description: {severity: error, options: {min_length: 4}}\n"
            "overrides:\n  - match: {tags: [core]}\n    rules: {docs/missing-description: error}\n"
            "  - match: {tags: [public]}\n"
            "    rules: {docs/missing-description: {options: {min_length: 20}}}\n",
        },
    )
    config = load_config(tmp_path)
    assert config.violations == ()
    assert config.rules["docs/missing-description"].severity == "error"
    assert config.overrides[0].rules["docs/missing-description"].severity == "error"
    # stricter options for some resources strengthen the rule there
    stricter = config.overrides[1].rules["docs/missing-description"]
    assert stricter.options == {"min_length": 20}


def test_the_locking_file_may_adapt_its_own_rule(tmp_path, chdir):
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "normcheck.yml": "rules:\n  naming/model-prefix: {severity: error, locked: true}\n"
            "overrides:\n  - match: {paths: [models/legacy]}\n"
            "    rules: {naming/model-prefix: warning}\n",
        },
    )
    config = load_config(tmp_path)
    assert config.violations == ()
    assert config.overrides[0].rules["naming/model-prefix"].severity == "warning"


def test_owners_and_vocabulary_merge_across_files(tmp_path, chdir):
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "central.yml": "extends: []\nowners: {finance: {email: f@x}}\n"
            "vocabulary: {preferred: {amt: amount}, banned: [tmp]}\n",
            "normcheck.yml": "extends: [central.yml]\nowners: {growth: null}\n"
            "vocabulary: {preferred: {Cust: Customer}, banned: [old]}\n",
        },
    )
    config = load_config(tmp_path)
    assert list(config.owners) == ["finance", "growth"]
    assert dict(config.vocabulary.preferred) == {"amt": "amount", "cust": "customer"}
    assert config.vocabulary.banned == ("old", "tmp")
    assert str(config.settings_origins["owners.growth"]) == "normcheck.yml:2"
    assert str(config.settings_origins["preferred.cust"]) == "normcheck.yml:3"
    assert str(config.settings_origins["banned.tmp"]) == "central.yml:3"


def test_layers_come_from_model_prefix_options(tmp_path, chdir):
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "normcheck.yml": "rules:\n  naming/model-prefix:\n    options:\n      layers:\n"
            "        base: {paths: ['models/base/**'], prefixes: [base_]}\n"
        },
    )
    layers = load_config(tmp_path).layers
    assert [(la.name, la.paths, la.prefixes) for la in layers] == [
        ("base", ("models/base/**",), ("base_",))
    ]


def test_explicit_config_path_that_does_not_exist(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path, tmp_path / "missing.yml")


def test_a_validated_file_is_not_validated_again_until_it_or_normcheck_changes(
    tmp_path, chdir, monkeypatch
):
    from normcheck import cache
    from normcheck.config import loader

    config = tmp_path / "normcheck.yml"
    config.write_text("version: 1\nrules:\n  naming/name-case: error\n")
    load_config(tmp_path)
    marker = cache.known_valid(config.read_bytes())
    assert marker.exists()  # in the cache directory, not the project

    def must_not_validate(rule_ids):
        raise AssertionError("validated again")

    monkeypatch.setattr(loader, "_validator", must_not_validate)
    assert load_config(tmp_path).rules["naming/name-case"].severity == "error"
    # other content is validated (and refused) as before
    monkeypatch.undo()
    config.write_text("version: 1\nrules:\n  naming/name-case: loud\n")
    with pytest.raises(ConfigError, match="loud"):
        load_config(tmp_path)
    assert not cache.known_valid(config.read_bytes()).exists()


def test_paths_on_another_drive_are_shown_whole(tmp_path, chdir, monkeypatch):
    """On Windows, os.path cannot relate paths on two drives (ValueError): such a path
    is shown, and a locked-rule finding's file named, as it is, never a crash."""
    from normcheck import run as run_module
    from normcheck.config import loader

    def other_drive(*_: object) -> str:
        raise ValueError("path is on mount 'Z:', start on mount 'C:'")

    chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    beside = tmp_path.parent / "elsewhere.yml"
    monkeypatch.setattr(loader.os.path, "commonpath", other_drive)
    assert loader.display_path(beside) == str(beside)
    monkeypatch.undo()
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "central.yml": CENTRAL,
            "normcheck.yml": "extends: [central.yml]\nrules:\n  naming/model-prefix: warning\n",
        },
    )
    config = load_config(tmp_path)
    monkeypatch.setattr(run_module.os.path, "relpath", other_drive)
    (finding,) = run_module._lock_findings(config, config.violations, tmp_path, None)
    assert finding.resource == (tmp_path / "normcheck.yml").resolve().as_posix()


def _install_rule_set_pack(site: Path, sets: dict[str, str], value: str = "acme_sets") -> None:
    """An installed distribution shipping rule sets (entry-point group
    `normcheck.rule_sets`), as pip lays it out in site-packages."""
    install_distribution(
        site,
        "acme-sets",
        "1.0",
        f"[normcheck.rule_sets]\nacme = {value}\n",
        {"acme_sets/__init__.py": "", **{f"acme_sets/{n}": t for n, t in sets.items()}},
    )


def test_a_rule_set_shipped_in_an_installed_pack_is_extended_by_name(tmp_path, chdir, monkeypatch):
    """A central team ships its norms as a package: every team's repository extends
    `acme:central` (a file outside the repository was refused, copy or submodule)."""
    site = tmp_path / "site"
    _install_rule_set_pack(
        site,
        {
            "central.yml": "version: 1\nextends: [normcheck:default, base.yml]\nrules:\n"
            "  naming/model-prefix: {severity: error, locked: true}\n",
            "base.yml": "version: 1\nowners: {growth: {}}\n",
            "lenient.yml": "version: 1\nrules:\n  naming/model-prefix: info\n",
            "escape.yml": "version: 1\nextends: [../outside.yml]\n",
        },
    )
    write(site, {"outside.yml": "version: 1\n"})
    monkeypatch.syspath_prepend(str(site))
    project = tmp_path / "repo"
    chdir(write(project, {"normcheck.yml": "version: 1\nextends: [acme:central]\nteam: growth\n"}))
    config = load_config(project)
    assert config.rules["naming/model-prefix"].severity == "error"
    assert config.rules["naming/model-prefix"].locked
    assert str(config.rules["naming/model-prefix"].severity_origin) == "acme:central:4"
    assert "growth" in config.owners, "the pack's set extends a file beside it"
    # an attempt made by a pack's set is placed at the `extends` entry naming it
    (project / "normcheck.yml").write_text("version: 1\nextends: [acme:central, acme:lenient]\n")
    (violation,) = load_config(project).violations
    assert (violation.origin.file, violation.origin.line) == ("normcheck.yml", 2)
    assert "(by `acme:lenient`, extended here)" in violation.message
    assert "locked at acme:central:4" in violation.message
    for text, line, needle in [
        (
            "extends: [acme:strict]",
            1,
            "unknown rule set `acme:strict` (pack `acme = acme_sets` of "
            "acme-sets 1.0): use one of acme:base, acme:central, acme:escape, acme:lenient",
        ),
        (
            "extends: [globex:central]",
            1,
            "unknown rule-set pack `globex` in `globex:central`: no "
            "installed package declares it (entry-point group `normcheck.rule_sets`; installed: "
            "`acme`)",
        ),
        ("version: 1\nextends: [acme:escape]", 2, "`extends` target `../outside.yml` is outside"),
    ]:
        (project / "normcheck.yml").write_text(text + "\n")
        error = error_of(project)
        assert needle in error.message
        if needle.startswith("`extends`"):
            assert (error.file, error.line) == ("acme:escape", 2), "a pack's set reaches its own"
            assert "outside the folder of the rule sets shipped with `acme:escape`" in error.message
        else:
            assert (error.file, error.line) == ("normcheck.yml", line)


def test_a_rule_set_pack_naming_no_package_is_one_error(tmp_path, chdir, monkeypatch):
    site = tmp_path / "site"
    _install_rule_set_pack(site, {"central.yml": "version: 1\n"}, value="acme_sets.missing")
    monkeypatch.syspath_prepend(str(site))
    chdir(write(tmp_path / "repo", {"normcheck.yml": "extends: [acme:central]\n"}))
    error = error_of(tmp_path / "repo")
    assert (error.file, error.line) == ("normcheck.yml", 1)
    assert error.message == (
        "rule-set pack `acme = acme_sets.missing` of acme-sets 1.0 does not name a package "
        "(a folder of rule-set files)"
    )


def test_a_rule_set_pack_in_a_package_is_found_without_running_the_package(
    tmp_path, chdir, monkeypatch
):
    """`acme = acme_sets.rulesets`: finding the folder imported `acme_sets`, so a
    package whose import fails (or is slow, or has effects) broke `extends` (exit 3)."""
    site = tmp_path / "site"
    _install_rule_set_pack(
        site,
        {
            "rulesets/central.yml": "version: 1\nrules:\n  naming/model-prefix: error\n",
        },
        value="acme_sets.rulesets",
    )
    (site / "acme_sets" / "__init__.py").write_text("raise RuntimeError('not in CI')\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "acme_sets", raising=False)  # another test's pack
    chdir(write(tmp_path / "repo", {"normcheck.yml": "version: 1\nextends: [acme:central]\n"}))
    config = load_config(tmp_path / "repo")
    assert str(config.rules["naming/model-prefix"].severity_origin) == "acme:central:3"
    assert "acme_sets" not in sys.modules


def test_a_file_beside_a_packs_set_is_named_as_one_of_the_pack(tmp_path, chdir, monkeypatch):
    """`acme:central` extending `base.yml` beside it: what base.yml set was placed at the
    package's install path (`/home/.../site-packages/acme_sets/base.yml:3`), so a
    report's text differed from one machine (and virtualenv) to the next."""
    site = tmp_path / "site"
    _install_rule_set_pack(
        site,
        {
            "central.yml": "version: 1\nextends: [normcheck:default, base.yml]\n",
            "base.yml": "version: 1\nrules:\n  naming/model-prefix: {severity: error, locked: true}\n",
        },
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "acme_sets", raising=False)  # another test's pack
    project = tmp_path / "repo"
    chdir(
        write(
            project,
            {
                "normcheck.yml": "version: 1\nextends: [acme:central]\n"
                "rules:\n  naming/model-prefix: info\n"
            },
        )
    )
    config = load_config(project)
    assert str(config.rules["naming/model-prefix"].severity_origin) == "acme:base:3"
    (violation,) = config.violations
    assert "locked at acme:base:3" in violation.message
    assert str(site) not in violation.message


def test_a_file_below_a_packs_set_is_named_by_its_path_in_the_pack(tmp_path, chdir, monkeypatch):
    site = tmp_path / "site"
    _install_rule_set_pack(
        site,
        {
            "central.yml": "version: 1\nextends: [normcheck:default, common/base.yaml]\n",
            "common/base.yaml": "version: 1\nrules:\n"
            "  naming/model-prefix: {severity: error, locked: true}\n",
        },
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "acme_sets", raising=False)  # another test's pack
    project = tmp_path / "repo"
    chdir(
        write(
            project,
            {
                "normcheck.yml": "version: 1\nextends: [acme:central]\n"
                "rules:\n  naming/model-prefix: info\n"
            },
        )
    )
    config = load_config(project)
    origin = "acme:common/base.yaml:3"
    assert str(config.rules["naming/model-prefix"].severity_origin) == origin
    (violation,) = config.violations
    assert f"locked at {origin}" in violation.message
    assert str(site) not in violation.message


def test_two_packages_declaring_one_rule_set_pack_is_an_error_naming_both(
    tmp_path, chdir, monkeypatch
):
    site = tmp_path / "site"
    _install_rule_set_pack(site, {"central.yml": "version: 1\n"})
    install_distribution(
        site,
        "globex-sets",
        "2.0",
        "[normcheck.rule_sets]\nacme = globex_sets\n",
        {"globex_sets/__init__.py": "", "globex_sets/central.yml": "version: 1\n"},
    )
    monkeypatch.syspath_prepend(str(site))
    chdir(write(tmp_path / "repo", {"normcheck.yml": "version: 1\nextends: [acme:central]\n"}))
    error = error_of(tmp_path / "repo")
    assert (error.file, error.line) == ("normcheck.yml", 2)
    assert error.message == (
        "rule-set pack `acme` is declared by more than one installed package "
        "(`acme = acme_sets` of acme-sets 1.0, `acme = globex_sets` of globex-sets 2.0): "
        "uninstall all but one"
    )


def test_a_file_whose_name_has_a_colon_is_extended_as_a_file(tmp_path, chdir):
    """`team:a.yml` reads like a pack's set; the file of that name is meant."""
    chdir(tmp_path)
    write(
        tmp_path,
        {
            "central.yml": "version: 1\nrules:\n"
            "  docs/missing-description: {severity: error, locked: true}\n",
            "team:a.yml": "version: 1\nrules:\n  docs/missing-description: info\n",
            "normcheck.yml": "version: 1\nextends: [central.yml, 'team:a.yml']\n",
        },
    )
    (violation,) = load_config(tmp_path).violations
    # at the file's own line, as any file's attempt (a named set's is placed at `extends`)
    assert (violation.origin.file, violation.origin.line) == ("team:a.yml", 3)
