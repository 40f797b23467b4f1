"""Specification of `.github/ringbot.yml` parsing: defaults, the SPEC example, and every error."""

from __future__ import annotations

import base64
import textwrap
import time
from collections.abc import Callable, Sized
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import pytest

import bot.config
from bot.config import (
    CONFIG_PATH,
    DEFAULT_CONFIG,
    MAX_CONFIG_BYTES,
    MAX_DEPTH,
    MAX_ERRORS,
    MAX_FEATURES,
    MAX_LIST_ITEMS,
    MAX_NODES,
    MAX_RINGS,
    Config,
    ConfigError,
    ConfigErrors,
    MergeGateConfig,
    RingConfig,
    feature_variable,
    format_duration,
    parse_config,
    parse_contents,
    parse_duration,
    render_release_tag,
)
from bot.models import Permission

from .builders.config import (
    LAUGHS,
    block,
    contents,
    flow,
    max_size_bombs,
    names,
    outer,
    rings,
    sized,
    unknown_feature_rings,
)

# The example from SPEC "Repository configuration", verbatim.
SPEC_EXAMPLE = """\
merge_gate:
  approvals: 1                 # approving reviews from users with write access (each reviewer's latest review counts)
  required_checks: []          # check-run / status names; empty = every other check on the head commit
  dismiss_stale_approvals: false   # true: only approvals of the current head commit count
  blocking_labels: [do-not-merge, hold]
rings:                         # in order; each entry may set:
  - name: dev                  #   name: used in commands and labels
    environment: dev           #   environment: GitHub Environment name (default: the name)
    auto: true                 #   auto: entered without a command once the previous stage is satisfied
  - name: internal
    approvals: 1               #   approvals: sign-offs needed in the previous ring before entering this one
    promoters: write           #   promoters: least repository permission allowed to promote into it
  - name: early-adopters
    bake: 24h                  #   bake: least time the release must have been live in the previous ring
  - name: production
    bake: 48h
    promoters: maintain
  - name: on-premises
    auto: true
    release: true              #   release: publish a GitHub Release (tag + notes) when the release enters
features:                      # flag -> rings where it is on; stored as FEATURE_<FLAG> environment variables
  new-grid: [dev, internal]
"""


def parse(text: str) -> Config:
    """Parse YAML that must be valid."""
    config = parse_config(textwrap.dedent(text))
    assert isinstance(config, Config), str(config)
    return config


def errors(text: str) -> list[str]:
    """Parse YAML that must be invalid; its errors as strings."""
    result = parse_config(textwrap.dedent(text))
    assert isinstance(result, ConfigErrors), result
    return [str(error) for error in result.errors]


# -- defaults ------------------------------------------------------------------------------------


def test_the_config_lives_in_the_github_folder() -> None:
    assert CONFIG_PATH == ".github/ringbot.yml"


@pytest.mark.parametrize(
    "text",
    [None, "", "\n", "# nothing configured yet\n", "---\n"],
    ids=["no-file", "empty", "blank-line", "only-comments", "empty-document"],
)
def test_no_settings_means_the_defaults(text: str | None) -> None:
    assert parse_config(text) is DEFAULT_CONFIG


def test_default_merge_gate_is_the_spec_one() -> None:
    assert DEFAULT_CONFIG.merge_gate == MergeGateConfig(
        approvals=1,
        required_checks=(),
        dismiss_stale_approvals=False,
        blocking_labels=("do-not-merge", "hold"),
    )


@pytest.mark.parametrize(
    ("position", "name", "auto", "approvals", "bake", "promoters", "release", "production"),
    [
        (0, "dev", True, 0, timedelta(0), Permission.WRITE, False, False),
        (1, "internal", False, 1, timedelta(0), Permission.WRITE, False, False),
        (2, "early-adopters", False, 1, timedelta(hours=24), Permission.WRITE, False, False),
        (3, "production", False, 1, timedelta(hours=48), Permission.MAINTAIN, False, True),
        (4, "on-premises", True, 0, timedelta(0), Permission.WRITE, True, True),
    ],
    ids=["dev", "internal", "early-adopters", "production", "on-premises"],
)
def test_default_rings(
    position: int,
    name: str,
    auto: bool,
    approvals: int,
    bake: timedelta,
    promoters: Permission,
    release: bool,
    production: bool,
) -> None:
    assert DEFAULT_CONFIG.rings[position] == RingConfig(
        name=name,
        environment=name,
        auto=auto,
        approvals=approvals,
        bake=bake,
        promoters=promoters,
        release=release,
        users=None,
        production=production,
        signoff_not=frozenset({"author"}),
    )


def test_default_config_has_five_rings_no_features_maintainer_toggles_and_a_dated_tag() -> None:
    assert DEFAULT_CONFIG.ring_names == (
        "dev",
        "internal",
        "early-adopters",
        "production",
        "on-premises",
    )
    assert dict(DEFAULT_CONFIG.features) == {}
    assert DEFAULT_CONFIG.feature_admins is Permission.MAINTAIN
    assert DEFAULT_CONFIG.release_tag == "v{date}-{sha7}"


def test_the_spec_example_is_the_defaults_plus_its_feature() -> None:
    expected = replace(
        DEFAULT_CONFIG,
        features=MappingProxyType({"new-grid": frozenset({"dev", "internal"})}),
    )
    assert parse_config(SPEC_EXAMPLE) == expected


# -- fields left out -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ring_yaml", "field", "expected"),
    [
        ("{name: b}", "environment", "b"),
        ("{name: b, environment: Beta}", "environment", "Beta"),
        ("{name: b}", "auto", False),
        ("{name: b}", "approvals", 1),
        ("{name: b, auto: true}", "approvals", 0),
        ("{name: b, auto: true, approvals: 2}", "approvals", 2),
        ("{name: b, approvals: 0}", "approvals", 0),
        ("{name: b}", "bake", timedelta(0)),
        ("{name: b, bake: 1d12h}", "bake", timedelta(hours=36)),
        ("{name: b, bake: 0}", "bake", timedelta(0)),
        ("{name: b}", "promoters", Permission.WRITE),
        ("{name: b, promoters: admin}", "promoters", Permission.ADMIN),
        ("{name: b, promoters: triage}", "promoters", Permission.TRIAGE),
        ("{name: b}", "release", False),
        ("{name: b}", "users", None),
        ("{name: b, users: 1200}", "users", 1200),
        ("{name: b, auto: yes}", "auto", True),
        ("{name: b, release: on}", "release", True),
    ],
    ids=[
        "environment-is-the-name",
        "environment-given",
        "manual-by-default",
        "manual-ring-needs-one-approval",
        "auto-ring-needs-none",
        "auto-ring-may-ask-for-approvals",
        "approvals-may-be-zero",
        "no-bake",
        "bake-given",
        "bake-zero-as-number",
        "promoters-write",
        "promoters-admin",
        "promoters-triage",
        "no-release",
        "users-unknown",
        "users-given",
        "yaml-yes-is-true",
        "yaml-on-is-true",
    ],
)
def test_a_ring_field_left_out_takes_its_default(
    ring_yaml: str, field: str, expected: object
) -> None:
    config = parse(f"rings:\n  - name: a\n  - {ring_yaml}\n")
    assert getattr(config.rings[1], field) == expected


def test_the_first_ring_is_automatic_and_needs_no_approvals() -> None:
    config = parse("rings:\n  - name: a\n  - name: b\n")
    assert (config.rings[0].auto, config.rings[0].approvals) == (True, 0)


def test_a_manual_first_ring_is_an_error() -> None:
    result = parse_config("rings:\n  - name: a\n    auto: false\n  - name: b\n")
    assert isinstance(result, ConfigErrors)
    assert [str(e) for e in result.errors] == [
        "rings[0].auto: the first ring is entered automatically once the default branch is "
        "green; it cannot be manual (line 3)"
    ]


def test_a_ring_list_replaces_the_default_list_entirely() -> None:
    config = parse("rings:\n  - name: staging\n  - name: live\n")
    assert config.ring_names == ("staging", "live")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("merge_gate: {approvals: 2}", MergeGateConfig(approvals=2)),
        (
            "merge_gate: {required_checks: [ci, lint]}",
            MergeGateConfig(required_checks=("ci", "lint")),
        ),
        (
            "merge_gate: {dismiss_stale_approvals: true}",
            MergeGateConfig(dismiss_stale_approvals=True),
        ),
        ("merge_gate: {blocking_labels: []}", MergeGateConfig(blocking_labels=())),
        ("merge_gate: {blocking_labels: [wip]}", MergeGateConfig(blocking_labels=("wip",))),
        ("merge_gate:", MergeGateConfig()),
        ("merge_gate: {}", MergeGateConfig()),
        ("merge_gate: {approvals: 0}", MergeGateConfig(approvals=0)),
    ],
    ids=[
        "approvals",
        "required-checks",
        "dismiss-stale",
        "no-blocking-labels",
        "other-blocking-labels",
        "empty-section",
        "empty-mapping",
        "no-approvals",
    ],
)
def test_merge_gate_fields(text: str, expected: MergeGateConfig) -> None:
    assert parse(text).merge_gate == expected


def test_rings_left_out_keep_the_defaults_while_other_sections_change() -> None:
    config = parse("merge_gate: {approvals: 2}\n")
    assert config.rings == DEFAULT_CONFIG.rings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("features:", {}),
        ("features: {}", {}),
        ("features: {new-grid: []}", {"new-grid": frozenset()}),
        ("features: {new-grid: [dev, production]}", {"new-grid": frozenset({"dev", "production"})}),
        ("features: {Dark_Mode: [internal]}", {"Dark_Mode": frozenset({"internal"})}),
    ],
    ids=["empty-section", "empty-mapping", "on-nowhere", "two-rings", "mixed-case-flag"],
)
def test_features_map_flags_to_rings(text: str, expected: dict[str, frozenset[str]]) -> None:
    assert dict(parse(text).features) == expected


def test_features_cannot_be_changed_after_parsing() -> None:
    features = parse("features: {new-grid: [dev]}").features
    with pytest.raises(TypeError):
        features["other"] = frozenset()  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("feature_admins: write", "feature_admins", Permission.WRITE),
        ("feature_admins: admin", "feature_admins", Permission.ADMIN),
        ("release_tag: 'release-{ring}-{sha}'", "release_tag", "release-{ring}-{sha}"),
        ("release_tag: '{sha7}'", "release_tag", "{sha7}"),
    ],
    ids=["feature-admins-write", "feature-admins-admin", "tag-with-ring", "tag-only-sha7"],
)
def test_top_level_settings(text: str, field: str, expected: object) -> None:
    assert getattr(parse(text), field) == expected


# -- production rings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rings", "expected"),
    [
        ("[{name: a}, {name: production}, {name: b}]", (False, True, True)),
        ("[{name: a}, {name: b}]", (False, False)),
        ("[{name: a}, {name: prod, production: true}, {name: b}]", (False, True, True)),
        ("[{name: a}, {name: production}, {name: b, production: false}]", (False, True, False)),
        ("[{name: a, production: false}, {name: production, production: false}]", (False, False)),
    ],
    ids=[
        "production-and-after",
        "no-production-ring",
        "marked-explicitly",
        "a-later-ring-opts-out",
        "production-opts-out",
    ],
)
def test_production_is_the_ring_named_production_and_every_ring_after(
    rings: str, expected: tuple[bool, ...]
) -> None:
    config = parse(f"rings: {rings}\n")
    assert tuple(ring.production for ring in config.rings) == expected


# -- Config helpers ------------------------------------------------------------------------------


def test_ring_finds_a_ring_by_name() -> None:
    assert DEFAULT_CONFIG.ring("internal") is DEFAULT_CONFIG.rings[1]


def test_ring_is_none_for_an_unknown_name() -> None:
    assert DEFAULT_CONFIG.ring("staging") is None


def test_index_is_the_position_in_order() -> None:
    assert DEFAULT_CONFIG.index("production") == 3


def test_index_of_an_unknown_ring_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        DEFAULT_CONFIG.index("staging")


@pytest.mark.parametrize(
    ("name", "previous", "following"),
    [
        ("dev", None, "internal"),
        ("internal", "dev", "early-adopters"),
        ("on-premises", "production", None),
    ],
    ids=["first", "middle", "last"],
)
def test_previous_and_next_ring(name: str, previous: str | None, following: str | None) -> None:
    ring = DEFAULT_CONFIG.ring(name)
    assert ring is not None
    before, after = DEFAULT_CONFIG.previous(ring), DEFAULT_CONFIG.next(ring)
    assert (before and before.name, after and after.name) == (previous, following)


def test_flags_on_lists_the_flags_a_ring_has_on() -> None:
    config = parse("features: {a: [dev], b: [dev, internal], c: []}")
    assert (config.flags_on("dev"), config.flags_on("production")) == (
        frozenset({"a", "b"}),
        frozenset(),
    )


def test_tag_for_fills_the_configured_template() -> None:
    config = parse("release_tag: '{ring}/{sha7}'")
    when = datetime(2024, 5, 1, tzinfo=UTC)
    assert config.tag_for("abcdef0123456789", "on-premises", when) == "on-premises/abcdef0"


@pytest.mark.parametrize(
    ("template", "when", "expected"),
    [
        ("v{date}-{sha7}", datetime(2024, 5, 1, 12, tzinfo=UTC), "v2024.05.01-abcdef0"),
        (
            "v{date}-{sha7}",
            datetime(2024, 5, 1, 23, tzinfo=timezone(timedelta(hours=-5))),
            "v2024.05.02-abcdef0",
        ),
        ("{ring}-{sha}", datetime(2024, 5, 1, tzinfo=UTC), "dev-abcdef0123"),
    ],
    ids=["date-and-sha7", "date-is-utc", "ring-and-full-sha"],
)
def test_render_release_tag(template: str, when: datetime, expected: str) -> None:
    assert render_release_tag(template, sha="abcdef0123", ring="dev", when=when) == expected


@pytest.mark.parametrize(
    ("flag", "variable"),
    [
        ("new-grid", "FEATURE_NEW_GRID"),
        ("dark_mode", "FEATURE_DARK_MODE"),
        ("Beta2", "FEATURE_BETA2"),
        ("x", "FEATURE_X"),
    ],
    ids=["dash", "underscore", "mixed-case", "one-letter"],
)
def test_feature_variable(flag: str, variable: str) -> None:
    assert feature_variable(flag) == variable


# -- durations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", timedelta(0)),
        ("45s", timedelta(seconds=45)),
        ("90m", timedelta(minutes=90)),
        ("36h", timedelta(hours=36)),
        ("2d", timedelta(days=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("0h", timedelta(0)),
        (" 24h ", timedelta(hours=24)),
    ],
    ids=[
        "zero",
        "seconds",
        "minutes",
        "hours",
        "days",
        "days-hours",
        "hours-minutes",
        "all",
        "0h",
        "padded",
    ],
)
def test_parse_duration_reads(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "36", "2 days", "h", "12h1d", "1.5h", "-1h", "36H", "1w", "1d 12h", "P1D", "9999999d"],
    ids=[
        "empty",
        "bare-number",
        "words",
        "unit-only",
        "wrong-order",
        "fraction",
        "negative",
        "upper-case",
        "weeks",
        "space-inside",
        "iso-8601",
        "too-many-digits",
    ],
)
def test_parse_duration_refuses(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0"),
        (timedelta(hours=36), "1d12h"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(seconds=45), "45s"),
    ],
    ids=["zero", "day-and-half", "hour-and-half", "seconds"],
)
def test_format_duration_writes_what_parse_duration_reads(value: timedelta, text: str) -> None:
    assert (format_duration(value), parse_duration(text)) == (text, value)


# -- errors --------------------------------------------------------------------------------------


def test_error_string_names_the_field_and_the_line() -> None:
    error = ConfigError("rings[2].bake", "'2 days' is not a duration like 36h", 14)
    assert str(error) == "rings[2].bake: '2 days' is not a duration like 36h (line 14)"


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (ConfigError("", "invalid YAML: oops", 3), "invalid YAML: oops (line 3)"),
        (ConfigError("rings", "list at least one ring", None), "rings: list at least one ring"),
    ],
    ids=["whole-file", "no-line"],
)
def test_error_string_leaves_out_what_it_does_not_know(error: ConfigError, text: str) -> None:
    assert str(error) == text


def test_a_bad_value_in_the_spec_example_is_reported_at_its_line() -> None:
    assert errors(SPEC_EXAMPLE.replace("bake: 24h", "bake: 2 days")) == [
        "rings[2].bake: '2 days' is not a duration like 36h (line 14)"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # the file as a whole
        pytest.param(
            "- dev\n- internal\n",
            "the file must be a mapping of settings, got a list (line 1)",
            id="top-level-list",
        ),
        pytest.param(
            "just words\n",
            "the file must be a mapping of settings, got 'just words' (a string) (line 1)",
            id="top-level-string",
        ),
        # unknown and repeated keys
        pytest.param(
            "merge_gate:\n  aprovals: 2\n",
            "merge_gate.aprovals: unknown key 'aprovals'; did you mean 'approvals'? (line 2)",
            id="unknown-key-suggestion",
        ),
        pytest.param(
            "ring:\n  - name: a\n",
            "ring: unknown key 'ring'; did you mean 'rings'? (line 1)",
            id="unknown-section-suggestion",
        ),
        pytest.param(
            "rings:\n  - name: a\n    bakes: 2h\n",
            "rings[0].bakes: unknown key 'bakes'; did you mean 'bake'? (line 3)",
            id="unknown-ring-key-suggestion",
        ),
        pytest.param(
            "colour: blue\n",
            "colour: unknown key 'colour'; known keys are merge_gate, rings, features, "
            "feature_admins, release_tag, timezone, windows, hotfix (line 1)",
            id="unknown-key-no-suggestion",
        ),
        pytest.param(
            "merge_gate:\n  approvals: 1\n  approvals: 2\n",
            "merge_gate.approvals: 'approvals' is set twice (first at line 2) (line 3)",
            id="key-set-twice",
        ),
        # wrong types
        pytest.param(
            "merge_gate:\n  approvals: two\n",
            "merge_gate.approvals: expected a whole number, got 'two' (a string) (line 2)",
            id="approvals-string",
        ),
        pytest.param(
            "merge_gate:\n  approvals: true\n",
            "merge_gate.approvals: expected a whole number, got true (a YAML boolean) (line 2)",
            id="approvals-bool",
        ),
        pytest.param(
            "merge_gate:\n  approvals: 1.5\n",
            "merge_gate.approvals: expected a whole number, got 1.5 (a decimal number) (line 2)",
            id="approvals-float",
        ),
        pytest.param(
            "merge_gate:\n  dismiss_stale_approvals: 'yes'\n",
            "merge_gate.dismiss_stale_approvals: expected true or false, got 'yes' (a string) "
            "(line 2)",
            id="stale-bool-quoted",
        ),
        pytest.param(
            "merge_gate:\n  dismiss_stale_approvals: 1\n",
            "merge_gate.dismiss_stale_approvals: expected true or false, got 1 (a number) (line 2)",
            id="stale-number",
        ),
        pytest.param(
            "merge_gate:\n  required_checks: ci\n",
            "merge_gate.required_checks: expected a list of strings, got 'ci' (a string) (line 2)",
            id="checks-not-list",
        ),
        pytest.param(
            "merge_gate:\n  blocking_labels: [hold, 7]\n",
            "merge_gate.blocking_labels[1]: expected a string, got 7 (a number); "
            "quote it as '7' (line 2)",
            id="label-number",
        ),
        pytest.param(
            "merge_gate:\n  blocking_labels: [hold, '']\n",
            "merge_gate.blocking_labels[1]: an entry cannot be empty (line 2)",
            id="label-empty",
        ),
        pytest.param(
            "merge_gate:\n  required_checks: [ci, ci]\n",
            "merge_gate.required_checks[1]: 'ci' is listed twice (line 2)",
            id="check-twice",
        ),
        pytest.param(
            "merge_gate:\n  required_checks: [ringbot/merge-gate]\n",
            "merge_gate.required_checks: 'ringbot/merge-gate' is ringbot's own check; "
            "it cannot require itself (line 2)",
            id="check-is-ringbot",
        ),
        pytest.param(
            "merge_gate: [approvals]\n",
            "merge_gate: expected a mapping of settings, got a list (line 1)",
            id="gate-not-mapping",
        ),
        pytest.param(
            "rings:\n  - name: no\n",
            "rings[0].name: expected a string, got no (a YAML boolean); quote it as 'no' (line 2)",
            id="ring-name-yaml-no",
        ),
        pytest.param(
            "rings:\n  - name: a\n    environment: 2024\n",
            "rings[0].environment: expected a string, got 2024 (a number); quote it as '2024' "
            "(line 3)",
            id="environment-number",
        ),
        pytest.param(
            "rings:\n  - dev\n",
            "rings[0]: expected a mapping of settings, got 'dev' (a string) (line 2)",
            id="ring-not-mapping",
        ),
        # numbers
        pytest.param(
            "merge_gate:\n  approvals: -1\n",
            "merge_gate.approvals: -1 is negative; use 0 or more (line 2)",
            id="gate-approvals-negative",
        ),
        pytest.param(
            "rings:\n  - name: a\n  - name: b\n    approvals: -2\n",
            "rings[1].approvals: -2 is negative; use 0 or more (line 4)",
            id="ring-approvals-negative",
        ),
        pytest.param(
            "rings:\n  - name: a\n    users: -5\n",
            "rings[0].users: -5 is negative; use 0 or more (line 3)",
            id="users-negative",
        ),
        # durations
        pytest.param(
            "rings:\n  - name: a\n  - name: b\n    bake: 2 days\n",
            "rings[1].bake: '2 days' is not a duration like 36h (line 4)",
            id="bake-words",
        ),
        pytest.param(
            "rings:\n  - name: a\n  - name: b\n    bake: 36\n",
            "rings[1].bake: 36 is not a duration like 36h: add a unit (s, m, h or d) (line 4)",
            id="bake-bare-number",
        ),
        pytest.param(
            "rings:\n  - name: a\n  - name: b\n    bake: [36h]\n",
            "rings[1].bake: expected a duration like 36h, got a list (line 4)",
            id="bake-list",
        ),
        # permissions
        pytest.param(
            "rings:\n  - name: a\n    promoters: mantain\n",
            "rings[0].promoters: 'mantain' is not a permission; did you mean 'maintain'? (line 3)",
            id="promoters-typo",
        ),
        pytest.param(
            "feature_admins: owner\n",
            "feature_admins: 'owner' is not a permission; use read, triage, write, maintain or "
            "admin (line 1)",
            id="feature-admins-unknown",
        ),
        # ring names and environments
        pytest.param(
            "rings:\n  - auto: true\n",
            "rings[0]: a ring needs a name (line 2)",
            id="ring-without-name",
        ),
        pytest.param(
            "rings:\n  - name: ''\n",
            "rings[0].name: a ring name cannot be empty (line 2)",
            id="ring-name-empty",
        ),
        pytest.param(
            "rings:\n  - name: Early Adopters\n",
            "rings[0].name: 'Early Adopters' is not a usable ring name: use at most 42 lower-case "
            "letters, digits, '.', '_' and '-', starting with a letter or digit (line 2)",
            id="ring-name-spaces",
        ),
        pytest.param(
            "rings:\n  - name: -dev\n",
            "rings[0].name: '-dev' is not a usable ring name: use at most 42 lower-case "
            "letters, digits, '.', '_' and '-', starting with a letter or digit (line 2)",
            id="ring-name-leading-dash",
        ),
        pytest.param(
            f"rings:\n  - name: {'a' * 43}\n",
            f"rings[0].name: '{'a' * 43}' is not a usable ring name: use at most 42 lower-case "
            "letters, digits, '.', '_' and '-', starting with a letter or digit (line 2)",
            id="ring-name-too-long",
        ),
        pytest.param(
            "rings:\n  - name: a\n  - name: b\n  - name: a\n",
            "rings[2].name: ring 'a' is listed twice (first at line 2) (line 4)",
            id="ring-twice",
        ),
        pytest.param(
            "rings:\n  - name: a\n  - name: b\n    environment: A\n",
            "rings[1].environment: environment 'A' is already used by ring 'a' (line 4)",
            id="environment-twice-any-case",
        ),
        pytest.param(
            "rings:\n  - name: a\n    environment: ' '\n",
            "rings[0].environment: an environment name cannot be empty (line 3)",
            id="environment-blank",
        ),
        # the ring list
        pytest.param(
            "rings: []\n",
            "rings: expected a list of at least one ring, got an empty list (line 1)",
            id="rings-empty",
        ),
        pytest.param(
            "rings:\n",
            "rings: expected a list of at least one ring, got nothing (null) (line 1)",
            id="rings-null",
        ),
        pytest.param(
            "rings: {name: dev}\n",
            "rings: expected a list of at least one ring, got a mapping (line 1)",
            id="rings-mapping",
        ),
        # the first ring has nothing before it
        pytest.param(
            "rings:\n  - name: a\n    approvals: 1\n",
            "rings[0].approvals: the first ring has no ring before it, so it cannot ask for "
            "approvals there (line 3)",
            id="first-ring-approvals",
        ),
        pytest.param(
            "rings:\n  - name: a\n    bake: 1h\n",
            "rings[0].bake: the first ring has no ring before it, so it cannot ask for bake "
            "there (line 3)",
            id="first-ring-bake",
        ),
        # who may never sign off
        pytest.param(
            "rings:\n  - name: a\n  - name: b\n    signof: {not: []}\n",
            "rings[1].signof: unknown key 'signof'; did you mean 'signoff'? (line 4)",
            id="signoff-typo",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      nto: [author]\n",
            "rings[0].signoff.nto: unknown key 'nto'; did you mean 'not'? (line 4)",
            id="signoff-not-typo",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      team: {acme/qa: 1}\n",
            "rings[0].signoff.team: unknown key 'team'; did you mean 'teams'? (line 4)",
            id="signoff-teams-typo",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      teams: [acme/qa]\n",
            "rings[0].signoff.teams: expected team: count pairs like {acme/qa: 1}, got a list "
            "(line 4)",
            id="signoff-teams-a-list",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      teams:\n",
            "rings[0].signoff.teams: expected team: count pairs like {acme/qa: 1}, got nothing "
            "(null) (line 4)",
            id="signoff-teams-null",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      teams: {qa: 1}\n",
            "rings[0].signoff.teams.qa: 'qa' is not a team: write it as org/team-slug, like "
            "acme/qa (the slug from the team's URL) (line 4)",
            id="signoff-team-without-org",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      teams: {'@acme/qa': 1}\n",
            "rings[0].signoff.teams.@acme/qa: '@acme/qa' is not a team: write it as 'acme/qa' "
            "(line 4)",
            id="signoff-team-with-at",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      teams: {acme/QA: 1}\n",
            "rings[0].signoff.teams.acme/QA: 'acme/QA' is not a team: write it as 'acme/qa' "
            "(line 4)",
            id="signoff-team-slug-upper-case",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      teams: {acme/qa: 0}\n",
            "rings[0].signoff.teams.acme/qa: 0 sign-offs asks for nothing: use 1 or more, or "
            "leave the team out (line 4)",
            id="signoff-team-zero",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      teams: {acme/qa: -1}\n",
            "rings[0].signoff.teams.acme/qa: -1 is negative; use 0 or more (line 4)",
            id="signoff-team-negative",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      teams: {acme/qa: one}\n",
            "rings[0].signoff.teams.acme/qa: expected a whole number, got 'one' (a string) "
            "(line 4)",
            id="signoff-team-count-a-string",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      teams:\n        acme/qa: 1\n"
            "        Acme/qa: 2\n",
            "rings[0].signoff.teams.Acme/qa: team 'Acme/qa' is listed twice (first at line 5) "
            "(line 6)",
            id="signoff-team-twice",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      teams: {1: 1}\n",
            "rings[0].signoff.teams.1: a team must be a string, got 1 (a number) (line 4)",
            id="signoff-team-not-a-string",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n      teams: {"
            + ", ".join(f"acme/t{n}: 1" for n in range(11))
            + "}\n",
            "rings[0].signoff.teams: 11 teams are more than ringbot allows here (10) (line 4)",
            id="signoff-too-many-teams",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff: {not: [auther]}\n",
            "rings[0].signoff.not[0]: unknown role 'auther'; did you mean 'author'? (line 3)",
            id="signoff-role-typo",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff: {not: [author, reviewer]}\n",
            "rings[0].signoff.not[1]: unknown role 'reviewer'; use author or promoter (line 3)",
            id="signoff-role-unknown",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff: {not: [author, author]}\n",
            "rings[0].signoff.not[1]: 'author' is listed twice (line 3)",
            id="signoff-role-twice",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff: {not: author}\n",
            "rings[0].signoff.not: expected a list of strings, got 'author' (a string) (line 3)",
            id="signoff-not-a-list",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff: {not: }\n",
            "rings[0].signoff.not: expected a list of strings, got nothing (null) (line 3)",
            id="signoff-not-null",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff: [author]\n",
            "rings[0].signoff: expected a mapping of settings, got a list (line 3)",
            id="signoff-a-list",
        ),
        pytest.param(
            "rings:\n  - name: a\n    signoff:\n",
            "rings[0].signoff: expected a mapping of settings, got nothing (null) (line 3)",
            id="signoff-null",
        ),
        # features
        pytest.param(
            "features:\n  new-grid: [dev, prod]\n",
            "features.new-grid[1]: unknown ring 'prod'; the rings are dev, internal, "
            "early-adopters, production, on-premises (line 2)",
            id="feature-unknown-ring",
        ),
        pytest.param(
            "features:\n  new-grid: [dev, internl]\n",
            "features.new-grid[1]: unknown ring 'internl'; did you mean 'internal'? (line 2)",
            id="feature-ring-typo",
        ),
        pytest.param(
            "features:\n  new-grid: dev\n",
            "features.new-grid: expected a list of strings, got 'dev' (a string) (line 2)",
            id="feature-not-list",
        ),
        pytest.param(
            "features:\n  new grid: [dev]\n",
            "features.new grid: 'new grid' is not a usable flag name: use letters, digits, '_' "
            "and '-', starting with a letter or digit (line 2)",
            id="flag-with-space",
        ),
        pytest.param(
            "features:\n  _x: [dev]\n",
            "features._x: '_x' is not a usable flag name: use letters, digits, '_' "
            "and '-', starting with a letter or digit (line 2)",
            id="flag-leading-underscore",
        ),
        pytest.param(
            "features:\n  on: [dev]\n",
            "features.on: a flag name must be a string, got on (a YAML boolean); "
            "quote it as 'on' (line 2)",
            id="flag-yaml-boolean",
        ),
        pytest.param(
            "features:\n  new-grid: [dev]\n  new_grid: [dev]\n",
            "features.new_grid: flags 'new-grid' and 'new_grid' would both be stored as "
            "FEATURE_NEW_GRID (line 3)",
            id="flag-same-variable",
        ),
        pytest.param(
            "features:\n  a: [dev]\n  a: [internal]\n",
            "features.a: flag 'a' is listed twice (line 3)",
            id="flag-twice",
        ),
        pytest.param(
            "features:\n  a: [dev, dev]\n",
            "features.a[1]: 'dev' is listed twice (line 2)",
            id="feature-ring-twice",
        ),
        pytest.param(
            "features: [a]\n",
            "features: expected flag: [rings] pairs, got a list (line 1)",
            id="features-not-mapping",
        ),
        # release tags
        pytest.param(
            "release_tag: 'v{date}'\n",
            "release_tag: 'v{date}' must contain {sha7} or {sha}, so each release gets its own "
            "tag (line 1)",
            id="tag-without-sha",
        ),
        pytest.param(
            "release_tag: 'v{version}-{sha7}'\n",
            "release_tag: 'v{version}-{sha7}' has an unknown placeholder {version}; use {date}, "
            "{sha7}, {sha}, {ring} (line 1)",
            id="tag-unknown-placeholder",
        ),
        pytest.param(
            "release_tag: 'v{sha:.8}'\n",
            "release_tag: 'v{sha:.8}' has an unknown placeholder {sha:.8}; use {date}, "
            "{sha7}, {sha}, {ring} (line 1)",
            id="tag-format-spec",
        ),
        pytest.param(
            "release_tag: 'v{sha7'\n",
            "release_tag: 'v{sha7' has a { or } without its partner (line 1)",
            id="tag-unbalanced-brace",
        ),
        pytest.param(
            "release_tag: 'v {sha7}'\n",
            "release_tag: 'v {sha7}' does not make a valid git tag name (line 1)",
            id="tag-space",
        ),
        pytest.param(
            "release_tag: 'v..{sha7}'\n",
            "release_tag: 'v..{sha7}' does not make a valid git tag name (line 1)",
            id="tag-double-dot",
        ),
        pytest.param(
            "release_tag: 7\n",
            "release_tag: expected a string, got 7 (a number); quote it as '7' (line 1)",
            id="tag-number",
        ),
    ],
)
def test_each_mistake_is_one_error_naming_field_and_line(text: str, message: str) -> None:
    assert errors(text) == [message]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "merge_gate:\n  approvals: [1\n",
            "invalid YAML: expected ',' or ']', but got '<stream end>' (line 3)",
        ),
        (
            "rings:\n  - name: a: b\n",
            "invalid YAML: mapping values are not allowed here (line 2)",
        ),
        (
            "merge_gate:\n\tapprovals: 1\n",
            "invalid YAML: found character '\\t' that cannot start any token (line 2)",
        ),
        ("a: *nowhere\n", "invalid YAML: found undefined alias 'nowhere' (line 1)"),
        ("rings: []\n---\nrings: []\n", "invalid YAML: but found another document (line 2)"),
    ],
    ids=["unclosed-list", "colon-in-value", "tab", "undefined-alias", "two-documents"],
)
def test_yaml_syntax_errors_carry_the_line(text: str, message: str) -> None:
    assert errors(text) == [message]


def test_all_errors_are_collected_in_file_order() -> None:
    text = """\
    merge_gate:
      aprovals: 2
      dismiss_stale_approvals: maybe
    rings:
      - name: dev
      - name: Internal
        bake: 2 days
        promoters: owner
    features:
      new-grid: [dev, qa]
    release_tag: v{date}
    """
    assert errors(text) == [
        "merge_gate.aprovals: unknown key 'aprovals'; did you mean 'approvals'? (line 2)",
        "merge_gate.dismiss_stale_approvals: expected true or false, got 'maybe' (a string) "
        "(line 3)",
        "rings[1].name: 'Internal' is not a usable ring name: use at most 42 lower-case "
        "letters, digits, '.', '_' and '-', starting with a letter or digit (line 6)",
        "rings[1].bake: '2 days' is not a duration like 36h (line 7)",
        "rings[1].promoters: 'owner' is not a permission; use read, triage, write, maintain or "
        "admin (line 8)",
        "features.new-grid[1]: unknown ring 'qa'; the rings are dev (line 10)",
        "release_tag: 'v{date}' must contain {sha7} or {sha}, so each release gets its own tag "
        "(line 11)",
    ]


def test_a_feature_naming_an_invalid_ring_reports_only_the_ring() -> None:
    text = "rings:\n  - name: Dev\nfeatures:\n  a: [Dev]\n"
    assert len(errors(text)) == 1


def test_a_broken_ring_list_does_not_make_every_feature_ring_unknown() -> None:
    text = "rings: []\nfeatures:\n  a: [staging]\n"
    assert errors(text) == [
        "rings: expected a list of at least one ring, got an empty list (line 1)"
    ]


def test_config_errors_print_one_per_line() -> None:
    result = parse_config("colour: blue\nrings: []\n")
    assert isinstance(result, ConfigErrors)
    assert str(result).splitlines() == [
        "colour: unknown key 'colour'; known keys are merge_gate, rings, features, "
        "feature_admins, release_tag, timezone, windows, hotfix (line 1)",
        "rings: expected a list of at least one ring, got an empty list (line 2)",
    ]


def test_yaml_tags_are_never_constructed() -> None:
    assert errors("release_tag: !!python/object/apply:os.system ['true']\n") == [
        "release_tag: expected a string, got a list (line 1)"
    ]


# -- who may never sign off ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        DEFAULT_CONFIG,
        parse("rings:\n  - name: a\n  - name: b\n    signoff: {}\n"),
    ],
    ids=["default-rings", "rings-without-not"],
)
def test_by_default_no_ring_lets_an_author_sign_off_their_own_change(config: Config) -> None:
    assert {ring.signoff_not for ring in config.rings} == {frozenset({"author"})}


@pytest.mark.parametrize(
    ("signoff", "excluded"),
    [
        ("{not: []}", set()),
        ("{not: [author]}", {"author"}),
        ("{not: [promoter]}", {"promoter"}),
        ("{not: [author, promoter]}", {"author", "promoter"}),
    ],
    ids=["nobody", "authors", "promoters-only", "authors-and-promoters"],
)
def test_signoff_not_names_who_may_never_sign_off_in_that_ring(
    signoff: str, excluded: set[str]
) -> None:
    config = parse(f"rings:\n  - name: a\n  - name: b\n    signoff: {signoff}\n  - name: c\n")
    assert [ring.signoff_not for ring in config.rings] == [
        frozenset({"author"}),
        frozenset(excluded),
        frozenset({"author"}),
    ]


def test_the_first_ring_may_set_who_never_signs_off_there() -> None:
    config = parse("rings:\n  - name: a\n    signoff: {not: [promoter]}\n  - name: b\n")
    assert config.rings[0].signoff_not == frozenset({"promoter"})


def test_signoff_teams_name_each_team_and_how_many_of_its_members_sign_off() -> None:
    text = (
        "rings:\n  - name: a\n    signoff:\n      teams: {acme/qa: 1, acme/sec-ops: 2}\n"
        "      not: [author, promoter]\n  - name: b\n"
    )
    config = parse(text)
    assert config.rings[0].signoff_teams == (("acme/qa", 1), ("acme/sec-ops", 2))
    assert config.rings[0].signoff_not == frozenset({"author", "promoter"})
    assert config.rings[1].signoff_teams == ()


def test_signoff_teams_leave_the_default_not_author_in_place() -> None:
    config = parse("rings:\n  - name: a\n    signoff: {teams: {acme/qa: 1}}\n  - name: b\n")
    assert config.rings[0].signoff_not == frozenset({"author"})
    assert config.rings[0].signoff_teams == (("acme/qa", 1),)


# -- bounds: what a file may make ringbot do -----------------------------------------------------


TOO_DEEP = f"lists and mappings are nested more than {MAX_DEPTH} levels deep"


def too_large(size: int | None) -> str:
    known = f" and this one is {size:,}" if size is not None else ""
    return f"the file is too large: ringbot reads at most 65,536 bytes (64 KB){known}"


def test_the_bounds_are_the_documented_ones() -> None:
    assert (MAX_CONFIG_BYTES, MAX_DEPTH, MAX_NODES) == (64 * 1024, 32, 10_000)
    assert (MAX_RINGS, MAX_FEATURES, MAX_LIST_ITEMS, MAX_ERRORS) == (50, 100, 100, 100)


def test_a_file_of_64_kb_is_read() -> None:
    assert parse(sized(MAX_CONFIG_BYTES)).ring_names == ("dev",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (sized(MAX_CONFIG_BYTES + 1), too_large(65_537)),
        # 40 000 two-byte characters: fewer characters than the bound, more bytes.
        (sized(80_024, char="é"), too_large(80_024)),
        (sized(770_000), too_large(770_000)),
        (sized(2_000_002), too_large(None)),
    ],
    ids=["one-byte-over", "counted-in-bytes", "the-incident-size", "too-large-to-count"],
)
def test_a_file_over_64_kb_is_one_error_saying_it_is_too_large(text: str, message: str) -> None:
    assert errors(text) == [message]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (flow(MAX_DEPTH + 1), 1),
        (outer(MAX_DEPTH + 1), 1),
        (block(MAX_DEPTH + 1), 33),
        ("".join("  " * level + "-\n" for level in range(MAX_DEPTH + 1)), 33),
        ("rings:\n  - name: a\n    signoff:\n      not: " + "[" * 29 + "]" * 29 + "\n", 4),
        # The incident: 1.8 KB nested 900 deep raised RecursionError out of the parser.
        (flow(901), 1),
        (outer(901), 1),
        (block(200), 33),
        # 64 KB of `[`: the scanner used to read through all of them before composing.
        ("a: " + "[" * (MAX_CONFIG_BYTES - 4) + "\n", 1),
    ],
    ids=[
        "flow-list-33",
        "flow-mapping-33",
        "block-mapping-33",
        "block-list-33",
        "inside-a-ring",
        "flow-list-900",
        "flow-mapping-900",
        "block-mapping-200",
        "64-kb-of-brackets",
    ],
)
def test_nesting_past_32_levels_is_one_error_with_its_line(text: str, line: int) -> None:
    assert errors(text) == [f"{TOO_DEEP} (line {line})"]


@pytest.mark.parametrize(
    "text",
    [flow(MAX_DEPTH), outer(MAX_DEPTH), block(MAX_DEPTH)],
    ids=["flow-list", "flow-mapping", "block-mapping"],
)
def test_nesting_32_levels_deep_is_read(text: str) -> None:
    assert not any(TOO_DEEP in error for error in errors(text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            LAUGHS + "merge_gate: {required_checks: *i}\n",
            # line 4 names 10 x 10 x 10 x 10 values
            "the file has more than 10,000 values (an alias counts as all it names) (line 4)",
        ),
        ("rings: &r [*r]\n", "the alias *r is inside what it names (line 1)"),
        (
            "x: &x '" + "y" * 30_000 + "'\nmerge_gate: {blocking_labels: [*x, *x, *x]}\n",
            "with its aliases expanded, the file's values come to more than 65,536 characters "
            "(line 2)",
        ),
        (
            "a: [" + "x, " * MAX_NODES + "x]\n",
            "the file has more than 10,000 values (line 1)",
        ),
    ],
    ids=["billion-laughs", "alias-inside-itself", "alias-to-a-long-value", "too-many-values"],
)
def test_a_file_that_expands_past_its_bounds_is_one_error(text: str, message: str) -> None:
    assert errors(text) == [message]


def test_anchors_and_aliases_work_within_the_bounds() -> None:
    config = parse("merge_gate:\n  required_checks: &ci [build, test]\n  blocking_labels: *ci\n")
    assert (
        config.merge_gate.required_checks
        == config.merge_gate.blocking_labels
        == (
            "build",
            "test",
        )
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f"merge_gate: {{required_checks: {names('c', 101)}}}\n",
            "merge_gate.required_checks: 101 entries are more than ringbot allows here (100) "
            "(line 1)",
        ),
        (
            f"merge_gate: {{blocking_labels: {names('l', 101)}}}\n",
            "merge_gate.blocking_labels: 101 entries are more than ringbot allows here (100) "
            "(line 1)",
        ),
        (
            f"rings:\n  - name: a\n    signoff: {{not: {names('p', 101)}}}\n",
            "rings[0].signoff.not: 101 entries are more than ringbot allows here (100) (line 3)",
        ),
        (
            f"features: {{f: {names('r', 101)}}}\n",
            "features.f: 101 entries are more than ringbot allows here (100) (line 1)",
        ),
        (rings(51), "rings: 51 rings are more than ringbot allows here (50) (line 2)"),
        (
            "features:\n" + "".join(f"  f{n}: []\n" for n in range(101)),
            "features: 101 flags are more than ringbot allows here (100) (line 2)",
        ),
    ],
    ids=["required-checks", "blocking-labels", "signoff-not", "flag-rings", "rings", "features"],
)
def test_a_list_over_its_bound_is_one_error_naming_the_bound(text: str, message: str) -> None:
    assert errors(text) == [message]


@pytest.mark.parametrize(
    ("text", "read", "count"),
    [
        (
            f"merge_gate: {{required_checks: {names('c', 100)}}}\n",
            lambda config: config.merge_gate.required_checks,
            100,
        ),
        (
            f"merge_gate: {{blocking_labels: {names('l', 100)}}}\n",
            lambda config: config.merge_gate.blocking_labels,
            100,
        ),
        (rings(50), lambda config: config.rings, 50),
        (
            "features:\n" + "".join(f"  f{n}: []\n" for n in range(100)),
            lambda config: config.features,
            100,
        ),
    ],
    ids=["required-checks", "blocking-labels", "rings", "features"],
)
def test_a_list_at_its_bound_is_read(
    text: str, read: Callable[[Config], Sized], count: int
) -> None:
    assert len(read(parse(text))) == count


@pytest.mark.parametrize(
    "number",
    ["1" * 5_000, "0x" + "f" * 5_000, "1" + ":1" * 3_000, "1" * 19],
    ids=["decimal", "hexadecimal", "sexagesimal", "nineteen-digits"],
)
def test_a_number_too_large_to_count_with_is_an_error(number: str) -> None:
    [message] = errors(f"merge_gate:\n  approvals: {number}\n")
    assert message.startswith("merge_gate.approvals: ")
    assert message.endswith(" is too large a number (line 2)")


def test_an_eighteen_digit_count_is_read() -> None:
    config = parse("rings:\n  - name: a\n    users: 999999999999999999\n")
    assert config.rings[0].users == 999_999_999_999_999_999


def test_past_100_errors_the_rest_are_counted_in_one_line() -> None:
    found = errors("".join(f"k{n}: 1\n" for n in range(150)))
    assert len(found) == MAX_ERRORS + 1
    assert found[0].startswith("k0: unknown key 'k0'")
    assert found[MAX_ERRORS - 1].endswith("(line 100)")
    assert found[-1] == "… and 50 more errors, not listed"


def test_did_you_mean_is_worked_out_only_for_listed_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []
    close_matches = bot.config.difflib.get_close_matches

    def counted(word: str, choices: tuple[str, ...], **kwargs: int) -> list[str]:
        calls.append((word, len(choices)))
        return close_matches(word, choices, **kwargs)

    monkeypatch.setattr(bot.config.difflib, "get_close_matches", counted)
    # 1,000 unknown keys close to `rings`: a hint for each listed one, none for the other 900.
    found = errors("".join(f"ring{n:03}: 1\n" for n in range(1_000)))
    assert found[0] == "ring000: unknown key 'ring000'; did you mean 'rings'? (line 1)"
    assert all("did you mean 'rings'?" in line for line in found[:MAX_ERRORS])
    assert found[-1] == "… and 900 more errors, not listed"
    assert len(calls) == MAX_ERRORS


def test_did_you_mean_work_is_bounded_for_the_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    work = 0
    close_matches = bot.config.difflib.get_close_matches

    def counted(word: str, choices: tuple[str, ...], **kwargs: int) -> list[str]:
        nonlocal work
        work += sum((len(word) + 1) * (len(choice) + 1) for choice in choices)
        return close_matches(word, choices, **kwargs)

    monkeypatch.setattr(bot.config.difflib, "get_close_matches", counted)
    text = unknown_feature_rings()
    assert len(text.encode()) <= MAX_CONFIG_BYTES
    result = parse_config(text)
    assert isinstance(result, ConfigErrors)
    assert result.count > 1_000 and len(result.errors) == MAX_ERRORS + 1
    # A few of the earliest listed errors had their hint worked out, within the budget.
    assert 0 < work <= bot.config._SUGGESTION_WORK
    # Past the budget an error still says what would fix it: it names the rings.
    assert "; the rings are a" in str(result.errors[MAX_ERRORS - 1])


def test_without_budget_left_an_error_names_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.config, "_SUGGESTION_WORK", 0)
    assert errors("""\
        rings: [{name: dev}, {name: internal}]
        features: {new-grid: [internl]}
        """) == [
        "features.new-grid[0]: unknown ring 'internl'; the rings are dev, internal (line 2)"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "k" * 1_000 + ": 1\n",  # YAML allows no longer key without a `?`
        "? " + "k" * 10_000 + "\n: 1\n",
        "release_tag: '" + "{sha7}" * 2_000 + " '\n",
        "rings:\n  - name: " + "a" * 10_000 + "\n",
        "features:\n  f: [" + "r" * 10_000 + "]\n",
        "merge_gate: {required_checks: [" + "c" * 10_000 + ", " + "c" * 10_000 + "]}\n",
        "rings:\n  - name: a\n    bake: " + "1h" * 5_000 + "\n",
    ],
    ids=["key", "long-key", "release-tag", "ring-name", "flag-ring", "check-twice", "duration"],
)
def test_an_error_quotes_a_long_value_in_part(text: str) -> None:
    [message] = errors(text)
    assert "…" in message
    assert len(message) < 400


@pytest.mark.parametrize("exception", [RecursionError, MemoryError, ValueError])
def test_an_unexpected_failure_is_an_error_never_an_exception(
    monkeypatch: pytest.MonkeyPatch, exception: type[Exception]
) -> None:
    def fail(*args: object) -> Config:
        raise exception

    monkeypatch.setattr(bot.config._Reader, "config", fail)
    assert errors("rings: [{name: a}]\n") == [
        f"the file could not be parsed ({exception.__name__})"
    ]


@pytest.mark.parametrize("text", max_size_bombs().values(), ids=max_size_bombs().keys())
def test_a_hostile_64_kb_file_is_read_in_bounded_time(text: str) -> None:
    assert len(text.encode()) <= MAX_CONFIG_BYTES
    started = time.thread_time()  # this thread's CPU time: other processes do not count
    result = parse_config(text)
    # Typically 0.3 s; the bound only catches work that grows faster than the file.
    assert time.thread_time() - started < 5
    assert isinstance(result, ConfigErrors)
    assert len(result.errors) <= MAX_ERRORS + 1


# -- the file as the contents API returns it -----------------------------------------------------


def test_the_contents_answer_is_decoded_and_parsed() -> None:
    assert parse_contents(contents(SPEC_EXAMPLE)) == parse_config(SPEC_EXAMPLE)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        # GitHub sends no content for a file over 1 MB: the stated size is checked first.
        (
            {"type": "file", "encoding": "none", "size": 5_000_000, "content": ""},
            too_large(5_000_000),
        ),
        (contents("x" * MAX_CONFIG_BYTES + "\n"), too_large(65_537)),
        (contents("x" * MAX_CONFIG_BYTES + "\n", size=10), too_large(65_537)),
        (contents("#" * 200_000, size=None), too_large(None)),
        (contents(b"rings: [\xff]\n"), "the file is not UTF-8 text"),
        (contents("", content="not base64!"), "the file's content could not be read"),
        (contents("", encoding="none"), "the file's content could not be read"),
        (contents("", content=None), "the file's content could not be read"),
        ([{"type": "file", "name": "a.yml"}], "`.github/ringbot.yml` is not a file"),
        (contents("", type="symlink"), "`.github/ringbot.yml` is not a file"),
        (contents("", type="submodule"), "`.github/ringbot.yml` is not a file"),
    ],
    ids=[
        "stated-size-over",
        "decoded-size-over",
        "stated-size-wrong",
        "no-stated-size",
        "not-utf-8",
        "not-base64",
        "not-encoded",
        "no-content",
        "a-directory",
        "a-symlink",
        "a-submodule",
    ],
)
def test_a_contents_answer_ringbot_cannot_read_is_one_error(answer: object, message: str) -> None:
    result = parse_contents(answer)
    assert isinstance(result, ConfigErrors)
    assert [str(error) for error in result.errors] == [message]


def test_an_unexpected_failure_reading_contents_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: object) -> bytes:
        raise MemoryError

    monkeypatch.setattr(base64, "b64decode", fail)
    result = parse_contents(contents(SPEC_EXAMPLE))
    assert isinstance(result, ConfigErrors)
    assert str(result) == "the file could not be parsed (MemoryError)"
