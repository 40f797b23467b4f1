"""Feature toggles without I/O: desired values, sync plans, the record, `/feature` and `/features`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from bot.config import Config, parse_config
from bot.messages.features import render_feature, render_features
from bot.models import Permission
from bot.policy.features import (
    CLEARED_KEPT,
    CLEARED_SHOWN,
    RECORD_VARIABLE,
    Cleared,
    Override,
    RingRecord,
    VariableWrite,
    decide_feature_command,
    decode_record,
    desired_flags,
    encode_record,
    feature_table,
    next_record,
    plan_ring_sync,
    plan_sync,
    split_overrides,
)

from .builders.features import (
    NOW,
    all_off,
    environment,
    features_config,
    override,
    ring,
)

RINGS = ("dev", "internal", "early-adopters", "production", "on-premises")

# --- desired_flags ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("features", "overrides", "expected"),
    [
        pytest.param({}, (), {name: {} for name in RINGS}, id="no flags, no variables"),
        pytest.param(
            None,
            (),
            {
                "dev": {"FEATURE_NEW_GRID": "true"},
                "internal": {"FEATURE_NEW_GRID": "true"},
                "early-adopters": {"FEATURE_NEW_GRID": "false"},
                "production": {"FEATURE_NEW_GRID": "false"},
                "on-premises": {"FEATURE_NEW_GRID": "false"},
            },
            id="the config alone",
        ),
        pytest.param(
            None,
            (override(ring="production", enabled=True), override(ring="dev", enabled=False)),
            {
                "dev": {"FEATURE_NEW_GRID": "false"},
                "internal": {"FEATURE_NEW_GRID": "true"},
                "early-adopters": {"FEATURE_NEW_GRID": "false"},
                "production": {"FEATURE_NEW_GRID": "true"},
                "on-premises": {"FEATURE_NEW_GRID": "false"},
            },
            id="overrides in force win in their ring only",
        ),
        pytest.param(
            None,
            (override(ring="production", basis=("dev",)),),
            {
                "dev": {"FEATURE_NEW_GRID": "true"},
                "internal": {"FEATURE_NEW_GRID": "true"},
                "early-adopters": {"FEATURE_NEW_GRID": "false"},
                "production": {"FEATURE_NEW_GRID": "false"},
                "on-premises": {"FEATURE_NEW_GRID": "false"},
            },
            id="the file changed the flag since: the config wins",
        ),
        pytest.param(
            {"dark_mode": (), "beta-v2-ui": ("on-premises",)},
            (override("new-grid", "dev", False),),
            {
                "dev": all_off("FEATURE_DARK_MODE", "FEATURE_BETA_V2_UI"),
                "internal": all_off("FEATURE_DARK_MODE", "FEATURE_BETA_V2_UI"),
                "early-adopters": all_off("FEATURE_DARK_MODE", "FEATURE_BETA_V2_UI"),
                "production": all_off("FEATURE_DARK_MODE", "FEATURE_BETA_V2_UI"),
                "on-premises": {"FEATURE_DARK_MODE": "false", "FEATURE_BETA_V2_UI": "true"},
            },
            id="dashes become underscores; overrides of removed flags are ignored",
        ),
    ],
)
def test_desired_flags(
    features: Mapping[str, tuple[str, ...]] | None,
    overrides: tuple[Override, ...],
    expected: dict[str, dict[str, str]],
) -> None:
    assert desired_flags(features_config(features), overrides) == expected


# --- split_overrides ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("features", "item", "why"),
    [
        pytest.param(None, override(), "", id="the file still says what it said: stands"),
        pytest.param(
            {"new-grid": ("dev", "internal", "early-adopters")},
            override(),
            "changed `new-grid` (now on in dev, internal, early-adopters)",
            id="the flag changed in another ring: the config wins",
        ),
        pytest.param(
            {"new-grid": ()},
            override(ring="dev", enabled=False),
            "changed `new-grid` (now on in no ring)",
            id="the flag changed in that ring",
        ),
        pytest.param({}, override(), "no longer a flag", id="the flag was removed"),
        pytest.param(
            None,
            override(ring="dev", enabled=True),
            "now turns it on in dev",
            id="an override the config agrees with (hand-edited record)",
        ),
    ],
)
def test_split_overrides(
    features: Mapping[str, tuple[str, ...]] | None, item: Override, why: str
) -> None:
    live, cleared = split_overrides(features_config(features), (item,), NOW)
    if not why:
        assert live == (item,) and cleared == ()
    else:
        assert live == ()
        (gone,) = cleared
        assert gone.override == item and gone.at == NOW and why in gone.why


# --- plan_sync ----------------------------------------------------------------------------------

W = VariableWrite


@pytest.mark.parametrize(
    ("desired", "actual", "managed", "expected"),
    [
        pytest.param(
            {"FEATURE_A": "true"},
            None,
            frozenset(),
            (
                W("dev", "create_environment", reason="the environment does not exist"),
                W("dev", "create", "FEATURE_A", "true", "missing"),
            ),
            id="a missing environment is created first",
        ),
        pytest.param({}, None, frozenset(), (), id="no flags: no environment for nothing"),
        pytest.param(
            {"FEATURE_A": "true", "FEATURE_B": "false"},
            {"FEATURE_A": "true", "FEATURE_B": "false", "OTHER": "x"},
            frozenset({"FEATURE_A", "FEATURE_B"}),
            (),
            id="nothing differs: nothing is written",
        ),
        pytest.param(
            {"FEATURE_A": "true"},
            {"FEATURE_A": "false"},
            frozenset({"FEATURE_A"}),
            (W("dev", "update", "FEATURE_A", "true", "is 'false', should be 'true'"),),
            id="a changed or drifted value is updated",
        ),
        pytest.param(
            {"FEATURE_A": "true"},
            {"FEATURE_A": "TRUE"},
            frozenset({"FEATURE_A"}),
            (W("dev", "update", "FEATURE_A", "true", "is 'TRUE', should be 'true'"),),
            id="values are exact",
        ),
        pytest.param(
            {},
            {"FEATURE_A": "true"},
            frozenset({"FEATURE_A"}),
            (W("dev", "delete", "FEATURE_A", reason="its flag left the config"),),
            id="a managed variable whose flag left is deleted",
        ),
        pytest.param(
            {},
            {"FEATURE_LEGACY": "true", "API_URL": "x"},
            frozenset(),
            (),
            id="variables ringbot never managed are never touched",
        ),
        pytest.param(
            {},
            {"API_URL": "x"},
            frozenset({"API_URL"}),
            (),
            id="a non-FEATURE_ name in the record is not ours either",
        ),
        pytest.param(
            {},
            {},
            frozenset({"FEATURE_GONE"}),
            (),
            id="a managed variable already gone needs nothing",
        ),
        pytest.param(
            {"FEATURE_A": "false"},
            {"FEATURE_A": "false"},
            frozenset(),
            (),
            id="a matching variable made by hand is simply adopted",
        ),
    ],
)
def test_plan_sync(
    desired: dict[str, str],
    actual: dict[str, str] | None,
    managed: frozenset[str],
    expected: tuple[VariableWrite, ...],
) -> None:
    assert plan_sync({"dev": desired}, {"dev": actual}, {"dev": managed}) == expected


def test_plan_sync_covers_every_ring_in_order() -> None:
    desired = {"dev": {"FEATURE_A": "true"}, "internal": {"FEATURE_A": "false"}}
    actual: dict[str, Mapping[str, str] | None] = {"dev": {}, "internal": {"FEATURE_A": "true"}}
    assert [(w.ring, w.action) for w in plan_sync(desired, actual, {})] == [
        ("dev", "create"),
        ("internal", "update"),
    ]


# --- the record ---------------------------------------------------------------------------------


def test_the_record_reads_back_what_was_written() -> None:
    cleared = Cleared(override(ring="dev", enabled=False), NOW, "changed")
    record = RingRecord(frozenset({"FEATURE_NEW_GRID"}), (override(ring="dev"),), (cleared,), True)
    text = encode_record(record)
    assert decode_record(text, "dev") == record
    doc = json.loads(text)
    assert doc["overrides"] == [
        {
            "flag": "new-grid",
            "on": True,
            "by": "alice",
            "at": "2026-05-10T09:00:00Z",
            "config": ["dev", "internal"],
        }
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(None, RingRecord(), id="no record"),
        pytest.param("not json", RingRecord(present=True, readable=False), id="not JSON"),
        pytest.param(
            '{"version": 9}', RingRecord(present=True, readable=False), id="unknown version"
        ),
        pytest.param(
            '{"version": 1, "overrides": [{"flag": "x"}]}',
            RingRecord(present=True, readable=False),
            id="a broken override",
        ),
        pytest.param(
            '{"version": 1, "managed": ["FEATURE_A", "API_URL"]}',
            RingRecord(frozenset({"FEATURE_A"}), present=True),
            id="only FEATURE_ names can be managed",
        ),
    ],
)
def test_decode_record(text: str | None, expected: RingRecord) -> None:
    assert decode_record(text, "dev") == expected


def test_next_record() -> None:
    managed = frozenset({"FEATURE_A"})
    old = RingRecord(managed, (override(),), (), present=True)
    assert next_record(old, managed, (override(),), (), NOW) is None
    assert next_record(RingRecord(), frozenset(), (), (), NOW) is None
    assert next_record(RingRecord(present=True, readable=False), managed, (), (), NOW) == (
        RingRecord(managed, present=True)
    )
    grown = next_record(old, managed | {"FEATURE_B"}, (override(),), (), NOW)
    assert grown is not None and grown.managed == managed | {"FEATURE_B"}


def test_cleared_overrides_are_kept_a_while_and_pruned_only_on_a_write() -> None:
    stale = Cleared(override(ring="dev"), NOW - CLEARED_SHOWN - timedelta(seconds=1), "old")
    recent = Cleared(override(ring="internal"), NOW - timedelta(days=1), "recent")
    old = RingRecord(frozenset(), (), (stale, recent), present=True)
    assert next_record(old, frozenset(), (), (), NOW) is None
    fresh = Cleared(override(), NOW, "now")
    new = next_record(old, frozenset(), (), (fresh,), NOW)
    assert new is not None and new.cleared == (fresh, recent)
    many = tuple(Cleared(override(at=NOW), NOW, str(n)) for n in range(CLEARED_KEPT + 5))
    capped = next_record(RingRecord(), frozenset(), (), many, NOW)
    assert capped is not None and len(capped.cleared) == CLEARED_KEPT


# --- plan_ring_sync -----------------------------------------------------------------------------


def test_a_new_ring_gets_its_environment_then_variables_then_the_record() -> None:
    sync = plan_ring_sync(features_config(), ring("dev"), None, NOW)
    assert [(w.action, w.name) for w in sync.writes] == [
        ("create_environment", ""),
        ("create", "FEATURE_NEW_GRID"),
        ("create", RECORD_VARIABLE),
    ]
    record = decode_record(sync.writes[-1].value, "dev")
    assert record.managed == {"FEATURE_NEW_GRID"} and record.overrides == ()


def test_a_ring_in_line_needs_no_write() -> None:
    there = environment(RingRecord(frozenset({"FEATURE_NEW_GRID"}), present=True))
    there["FEATURE_NEW_GRID"] = "true"
    assert plan_ring_sync(features_config(), ring("dev"), there, NOW).writes == ()


def test_a_ring_without_flags_and_without_record_needs_nothing() -> None:
    assert plan_ring_sync(features_config({}), ring("dev"), None, NOW).writes == ()
    assert plan_ring_sync(features_config({}), ring("dev"), {"API_URL": "x"}, NOW).writes == ()


def test_an_override_the_config_overruled_is_cleared_and_the_record_rewritten() -> None:
    gone = override(ring="production", basis=("dev",))
    there = environment(
        RingRecord(frozenset({"FEATURE_NEW_GRID"}), (gone,), present=True), FEATURE_NEW_GRID="true"
    )
    sync = plan_ring_sync(features_config(), ring("production"), there, NOW)
    assert sync.live == () and [c.override for c in sync.cleared] == [gone]
    assert [(w.action, w.name, w.value) for w in sync.writes[:1]] == [
        ("update", "FEATURE_NEW_GRID", "false")
    ]
    record = decode_record(sync.writes[-1].value, "production")
    assert record.overrides == () and [c.override for c in record.cleared] == [gone]


def test_given_overrides_replace_the_recorded_ones() -> None:
    there = environment(
        RingRecord(frozenset({"FEATURE_NEW_GRID"}), present=True), FEATURE_NEW_GRID="false"
    )
    new = override(ring="production")
    sync = plan_ring_sync(features_config(), ring("production"), there, NOW, (new,))
    assert sync.live == (new,) and sync.cleared == ()
    assert sync.writes[0] == W(
        "production", "update", "FEATURE_NEW_GRID", "true", "is 'false', should be 'true'"
    )
    assert decode_record(sync.writes[1].value, "production").overrides == (new,)


# --- /feature -----------------------------------------------------------------------------------


def decide(
    line: tuple[str, bool, str] = ("new-grid", True, "production"),
    *,
    permission: Permission = Permission.MAINTAIN,
    overrides: tuple[Override, ...] = (),
    cfg: Config | None = None,
) -> Any:
    flag, enabled, target = line
    return decide_feature_command(
        config=cfg or features_config(),
        flag=flag,
        enabled=enabled,
        ring=target,
        actor="alice",
        actor_permission=permission,
        overrides=overrides,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("kwargs", "codes", "hint"),
    [
        ({"permission": Permission.WRITE}, ["permission"], "maintain access"),
        ({"permission": Permission.READ}, ["permission"], "maintain access"),
        ({"line": ("old-grid", True, "dev")}, ["unknown_flag"], "the flags are `new-grid`"),
        (
            {"line": ("x", True, "dev"), "cfg": features_config({})},
            ["unknown_flag"],
            "no flags are",
        ),
        ({"line": ("new-grid", True, "staging")}, ["unknown_ring"], "the rings are `dev`"),
        (
            {"line": ("nope", True, "staging"), "permission": Permission.NONE},
            ["permission", "unknown_flag", "unknown_ring"],
            "",
        ),
    ],
)
def test_refusals(kwargs: dict[str, Any], codes: list[str], hint: str) -> None:
    decision = decide(**kwargs)
    assert not decision.allowed and not decision.should_write
    assert [r.code for r in decision.refusals] == codes
    assert hint in " ".join(r.hint for r in decision.refusals)


def test_feature_admins_sets_who_may_override() -> None:
    cfg = features_config(feature_admins=Permission.WRITE)
    assert decide(cfg=cfg, permission=Permission.WRITE).allowed
    assert not decide(cfg=features_config(feature_admins=Permission.ADMIN)).allowed


@pytest.mark.parametrize(
    ("line", "overrides", "outcome", "after"),
    [
        pytest.param(
            ("new-grid", True, "production"),
            (),
            "set",
            (override(at=NOW),),
            id="against the config: a new override",
        ),
        pytest.param(
            ("NEW_GRID", True, "production"),
            (),
            "set",
            (override(at=NOW),),
            id="the flag by its variable name",
        ),
        pytest.param(("new-grid", True, "dev"), (), "already", (), id="the config already says so"),
        pytest.param(
            ("new-grid", True, "production"),
            (override(by="bob"),),
            "already",
            (override(by="bob"),),
            id="the override already says so: who and when are kept",
        ),
        pytest.param(
            ("new-grid", False, "production"),
            (override(), override(ring="on-premises")),
            "reverted",
            (override(ring="on-premises"),),
            id="back to the config's value drops the override",
        ),
        pytest.param(
            ("new-grid", True, "production"),
            (override(ring="dev", enabled=False),),
            "set",
            (override(ring="dev", enabled=False), override(at=NOW)),
            id="other rings' overrides are kept",
        ),
    ],
)
def test_feature_command_outcomes(
    line: tuple[str, bool, str],
    overrides: tuple[Override, ...],
    outcome: str,
    after: tuple[Override, ...],
) -> None:
    decision = decide(line, overrides=overrides)
    assert decision.allowed and decision.outcome == outcome
    assert decision.overrides == after
    assert decision.should_write == (outcome in ("set", "reverted"))


# --- /features ----------------------------------------------------------------------------------


def test_the_table_shows_each_value_and_its_source() -> None:
    forced = override(ring="production")
    gone = Cleared(override("new-grid", "internal", False), NOW - timedelta(days=1), "changed")
    environments: dict[str, Mapping[str, str] | None] = {
        "dev": environment(FEATURE_NEW_GRID="true"),
        "internal": environment(
            RingRecord(frozenset(), (), (gone,), present=True), FEATURE_NEW_GRID="false"
        ),
        "production": environment(
            RingRecord(frozenset(), (forced,), present=True), FEATURE_NEW_GRID="true"
        ),
        "early-adopters": None,
    }
    table = feature_table(features_config(), environments, NOW)
    assert table.flags == ("new-grid",) and table.rings == RINGS
    dev = table.cells[("new-grid", "dev")]
    assert dev.enabled and dev.override is None and not dev.drift
    assert table.cells[("new-grid", "production")].override == forced
    assert table.cells[("new-grid", "internal")].drift  # should be on
    assert table.cells[("new-grid", "early-adopters")].actual is None
    assert table.cleared == (gone,)
    text = render_features(table)
    assert "| `new-grid` | on · config | on · config ⚠️ environment has `false`" in text
    assert "**on** · override @\u200balice, 2026-05-10 09:00 UTC" in text
    assert "Overrides cleared by config changes" in text


def test_the_table_announces_an_override_the_config_overruled_before_any_sync() -> None:
    stale = override(ring="production", basis=("dev",))
    environments: dict[str, Mapping[str, str] | None] = {
        "production": environment(RingRecord(frozenset(), (stale,), present=True))
    }
    table = feature_table(features_config(), environments, NOW)
    assert [c.override for c in table.cleared] == [stale]
    assert table.cells[("new-grid", "production")].override is None


def test_no_flags_says_how_to_add_them() -> None:
    assert "No feature flags" in render_features(feature_table(features_config({}), {}, NOW))


@pytest.mark.parametrize(
    ("line", "overrides", "says"),
    [
        (("new-grid", True, "production"), (), "is now **on** in production"),
        (("new-grid", False, "production"), (override(),), "the override by @\u200balice"),
        (("new-grid", True, "dev"), (), "already **on** in dev, from the config"),
        (("new-grid", True, "production"), (override(),), "already **on** in production: over"),
    ],
)
def test_feature_replies(
    line: tuple[str, bool, str], overrides: tuple[Override, ...], says: str
) -> None:
    assert says in render_feature(decide(line, overrides=overrides), "/feature ...")


def test_a_refused_feature_reply_lists_every_reason() -> None:
    text = render_feature(decide(("old", True, "dev"), permission=Permission.READ), "/feature")
    assert text.startswith("😕 Cannot change") and text.count("\n- ") == 2


def test_flags_from_a_real_file() -> None:
    parsed = parse_config("features:\n  new-grid: [dev, internal]\n  beta-v2_ui: []\n")
    assert isinstance(parsed, Config)
    assert desired_flags(parsed, ())["internal"] == {
        "FEATURE_NEW_GRID": "true",
        "FEATURE_BETA_V2_UI": "false",
    }
