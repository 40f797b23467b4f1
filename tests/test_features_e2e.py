"""Feature toggles end to end: config syncs, `/feature` overrides, drift repair and `/features`."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from bot.sim.state import Variable

from .builders import REPO, command, deployments, open_pr, reactions, released, setup_repo
from .harness import World

pytestmark = pytest.mark.e2e

RINGS = """
rings:
  - name: dev
    auto: true
  - name: internal
  - name: early-adopters
    environment: Early Adopters
  - name: production
    promoters: maintain
"""
FEATURES = (
    RINGS
    + """
features:
  new-grid: [dev, internal]
  dark_mode: [dev]
  search-v2: []
"""
)
ENVIRONMENTS = ("dev", "internal", "Early Adopters", "production")


def variables(w: World, environment: str) -> dict[str, str]:
    """Every variable on an environment, name -> value ({} when it does not exist)."""
    env = w.sim.repo(REPO).environments.get(environment.lower())
    return {name: v.value for name, v in env.variables.items()} if env else {}


def flags(w: World, environment: str) -> dict[str, str]:
    """Only the FEATURE_ variables."""
    return {k: v for k, v in variables(w, environment).items() if k.startswith("FEATURE_")}


def record(w: World, environment: str) -> dict[str, object]:
    """ringbot's own record on the environment."""
    doc: dict[str, object] = json.loads(variables(w, environment)["RINGBOT_FEATURES"])
    return doc


def set_by_hand(w: World, environment: str, name: str, value: str) -> None:
    """Someone edits (or creates) a variable in the GitHub UI: no webhook."""
    env = w.sim.environment(w.sim.repo(REPO), environment)
    now = w.clock()
    if name in env.variables:
        env.variables[name].value = value
    else:
        env.variables[name] = Variable(name, value, now, now)


async def push_config(w: World, text: str) -> None:
    """A commit on main that changes `.github/ringbot.yml`."""
    w.sim.push(REPO, {".github/ringbot.yml": text})
    await w.settle()


def env_requests(w: World) -> list[tuple[str, str]]:
    """The environment and variable requests the bot made, in order (not the guardrails' hourly
    look at each environment's protection rules: that is no flag's cost)."""
    return [
        (r.method, r.path)
        for r in w.sim.requests
        if "/environments" in r.path and not r.path.endswith("/deployment_protection_rules")
    ]


async def test_a_config_push_creates_every_ring_environment_and_flag(w: World) -> None:
    setup_repo(w, config=RINGS)
    await push_config(w, FEATURES)
    expected = {
        "dev": {
            "FEATURE_NEW_GRID": "true",
            "FEATURE_DARK_MODE": "true",
            "FEATURE_SEARCH_V2": "false",
        },
        "internal": {
            "FEATURE_NEW_GRID": "true",
            "FEATURE_DARK_MODE": "false",
            "FEATURE_SEARCH_V2": "false",
        },
        "Early Adopters": {
            "FEATURE_NEW_GRID": "false",
            "FEATURE_DARK_MODE": "false",
            "FEATURE_SEARCH_V2": "false",
        },
        "production": {
            "FEATURE_NEW_GRID": "false",
            "FEATURE_DARK_MODE": "false",
            "FEATURE_SEARCH_V2": "false",
        },
    }
    for environment, values in expected.items():
        assert flags(w, environment) == values
        assert sorted(record(w, environment)["managed"]) == sorted(values)  # type: ignore[arg-type]
    assert w.sim.repo(REPO).environments["early adopters"].name == "Early Adopters"


async def test_a_push_that_does_not_touch_the_config_syncs_nothing(w: World) -> None:
    setup_repo(w, config=FEATURES)
    w.sim.push(REPO, {"README.md": "changed\n"})
    await w.settle()
    assert env_requests(w) == []


async def test_a_config_change_adds_changes_and_removes_flags(w: World) -> None:
    setup_repo(w, config=RINGS)
    await push_config(w, FEATURES)
    await push_config(
        w,
        RINGS
        + """
features:
  new-grid: [dev, internal, production]
  search-v2: []
  beta-banner: [internal]
""",
    )
    assert flags(w, "dev") == {
        "FEATURE_NEW_GRID": "true",
        "FEATURE_SEARCH_V2": "false",
        "FEATURE_BETA_BANNER": "false",
    }
    assert flags(w, "internal")["FEATURE_BETA_BANNER"] == "true"
    assert flags(w, "production")["FEATURE_NEW_GRID"] == "true"
    for environment in ENVIRONMENTS:
        assert "FEATURE_DARK_MODE" not in variables(w, environment)
        assert "FEATURE_DARK_MODE" not in record(w, environment)["managed"]  # type: ignore[operator]


async def test_a_no_change_resync_writes_nothing(w: World) -> None:
    setup_repo(w, config=RINGS)
    await push_config(w, FEATURES)
    w.sim.requests.clear()
    await push_config(w, FEATURES + "# a comment changes the file, not the flags\n")
    assert env_requests(w) and all(method == "GET" for method, _ in env_requests(w))


async def test_foreign_variables_are_never_touched(w: World) -> None:
    setup_repo(w, config=RINGS)
    set_by_hand(w, "dev", "API_URL", "https://dev.example")
    set_by_hand(w, "dev", "FEATURE_LEGACY", "true")  # a FEATURE_ variable ringbot never wrote
    await push_config(w, FEATURES)
    await push_config(w, RINGS + "features:\n  search-v2: [dev]\n")
    await push_config(w, RINGS)  # every flag removed
    assert variables(w, "dev") == {
        "API_URL": "https://dev.example",
        "FEATURE_LEGACY": "true",
        "RINGBOT_FEATURES": variables(w, "dev")["RINGBOT_FEATURES"],
    }
    assert record(w, "dev")["managed"] == []


async def test_an_override_is_written_at_once_and_recorded_with_who_and_when(w: World) -> None:
    setup_repo(w, config=RINGS)
    await push_config(w, FEATURES)
    number = open_pr(w)
    reply = await command(w, number, "/feature new-grid off internal", by="alice")
    assert "🎛️" in reply and "**off**" in reply and "FEATURE_NEW_GRID=false" in reply
    assert flags(w, "internal")["FEATURE_NEW_GRID"] == "false"
    (override,) = record(w, "internal")["overrides"]  # type: ignore[misc]
    assert override["flag"] == "new-grid" and override["on"] is False
    assert override["by"] == "alice"
    # The record keeps whole seconds.
    at = datetime.fromisoformat(override["at"].replace("Z", "+00:00"))
    assert at == w.clock().replace(microsecond=0)
    # Other rings, and the record's reading back: a later sync keeps the override.
    assert flags(w, "dev")["FEATURE_NEW_GRID"] == "true"
    await push_config(w, FEATURES + "# unrelated edit\n")
    assert flags(w, "internal")["FEATURE_NEW_GRID"] == "false"
    table = await command(w, number, "/features", by="rita")
    assert "override @\u200balice" in table


async def test_a_config_change_to_that_flag_clears_the_override(w: World) -> None:
    setup_repo(w, config=RINGS)
    await push_config(w, FEATURES)
    number = open_pr(w)
    await command(w, number, "/feature new-grid on production", by="alice")
    await command(w, number, "/feature dark_mode on internal", by="alice")
    assert flags(w, "production")["FEATURE_NEW_GRID"] == "true"
    # The file changes new-grid in production; dark_mode in internal is not touched.
    await push_config(
        w, RINGS + "features:\n  new-grid: [dev]\n  dark_mode: [dev]\n  search-v2: []\n"
    )
    assert flags(w, "production")["FEATURE_NEW_GRID"] == "false"
    assert record(w, "production")["overrides"] == []
    assert flags(w, "internal")["FEATURE_DARK_MODE"] == "true"
    assert flags(w, "internal")["FEATURE_NEW_GRID"] == "false"
    table = await command(w, number, "/features", by="bob")
    assert "cleared" in table and "`new-grid` on in production" in table
    assert "no longer" not in table


async def test_an_override_back_to_the_config_value_removes_it(w: World) -> None:
    setup_repo(w, config=RINGS)
    await push_config(w, FEATURES)
    number = open_pr(w)
    await command(w, number, "/feature search-v2 on dev", by="alice")
    reply = await command(w, number, "/feature search-v2 off dev", by="alice")
    assert "removed" in reply
    assert flags(w, "dev")["FEATURE_SEARCH_V2"] == "false"
    assert record(w, "dev")["overrides"] == []


async def test_drift_is_repaired_before_a_release_enters_the_ring(w: World) -> None:
    setup_repo(w, config=RINGS)
    await push_config(w, FEATURES)
    set_by_hand(w, "dev", "FEATURE_NEW_GRID", "false")
    w.sim.requests.clear()
    await released(w)
    assert flags(w, "dev")["FEATURE_NEW_GRID"] == "true"
    calls = [(r.method, r.path) for r in w.sim.requests if r.method != "GET"]
    fixed = calls.index(("PATCH", f"/repos/{REPO}/environments/dev/variables/FEATURE_NEW_GRID"))
    deployed = calls.index(("POST", f"/repos/{REPO}/deployments"))
    assert fixed < deployed
    assert len(deployments(w, "dev")) == 1


async def test_a_first_release_into_a_ring_with_flags_creates_its_environment(w: World) -> None:
    setup_repo(w, config=FEATURES)  # no config push: nothing synced yet
    await released(w)
    assert flags(w, "dev") == {
        "FEATURE_NEW_GRID": "true",
        "FEATURE_DARK_MODE": "true",
        "FEATURE_SEARCH_V2": "false",
    }
    assert variables(w, "internal") == {}


async def test_a_repository_without_flags_spends_nothing_on_them(w: World) -> None:
    setup_repo(w, config=RINGS)
    await released(w)
    # Entering a ring, and drawing the status table, read its variables for a freeze (a 304
    # while nothing changed); no flag is read or written on top of that.
    assert set(env_requests(w)) == {("GET", f"/repos/{REPO}/environments/dev/variables")}


@pytest.mark.parametrize(
    ("by", "line", "expected"),
    [
        ("bob", "/feature new-grid on production", "needs maintain permission; @bob has write"),
        ("rita", "/feature new-grid on production", "@rita has read"),
        ("alice", "/feature old-grid on production", "the flags are `new-grid`, `dark_mode`"),
        ("alice", "/feature new-grid on staging", "Rings: dev, internal, early-adopters"),
    ],
)
async def test_refusals_change_nothing(w: World, by: str, line: str, expected: str) -> None:
    setup_repo(w, config=RINGS)
    await push_config(w, FEATURES)
    number = open_pr(w)
    before = {environment: variables(w, environment) for environment in ENVIRONMENTS}
    comment_id = w.sim.comment(REPO, number, by, line)
    await w.settle()
    from .builders import reply_to

    reply = reply_to(w, comment_id)
    assert "😕" in reply and expected in reply
    assert reactions(w, comment_id) == ["eyes", "confused"]
    assert {environment: variables(w, environment) for environment in ENVIRONMENTS} == before


async def test_feature_admins_can_let_writers_override(w: World) -> None:
    setup_repo(w, config=RINGS)
    await push_config(w, FEATURES + "feature_admins: write\n")
    number = open_pr(w)
    reply = await command(w, number, "/feature NEW_GRID on Early-Adopters", by="bob")
    assert "🎛️" in reply
    assert flags(w, "Early Adopters")["FEATURE_NEW_GRID"] == "true"


async def test_the_features_table_shows_every_flag_in_every_ring(w: World) -> None:
    setup_repo(w, config=RINGS)
    await push_config(w, FEATURES)
    number = open_pr(w)
    await command(w, number, "/feature dark_mode on production", by="alice")
    set_by_hand(w, "internal", "FEATURE_NEW_GRID", "false")
    table = await command(w, number, "/features", by="rita")
    rows = {
        line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| `")
    }
    assert set(rows) == {"`new-grid`", "`dark_mode`", "`search-v2`"}
    cells = [c.strip() for c in rows["`dark_mode`"].split("|")[2:-1]]
    assert cells[0] == "on · config"
    assert cells[1] == "off · config"
    assert cells[3].startswith("**on** · override @\u200balice")
    assert "⚠️ environment has `false`" in rows["`new-grid`"]
    assert "| flag | dev | internal | early-adopters | production |" in table


async def test_features_without_flags_says_how_to_add_them(w: World) -> None:
    setup_repo(w, config=RINGS)
    number = open_pr(w)
    assert "No feature flags are configured" in await command(w, number, "/features")
    assert env_requests(w) == []


async def test_budget_ten_flags_across_five_rings(w: World) -> None:
    five = RINGS + "  - name: on-premises\n    auto: true\n"
    many = five + "features:\n" + "".join(f"  flag-{n}: [dev, internal]\n" for n in range(10))
    setup_repo(w, config=five)
    w.sim.requests.clear()
    await push_config(w, many)
    first = env_requests(w)
    w.sim.requests.clear()
    await push_config(w, many + "# unchanged flags\n")
    again = env_requests(w)
    # Per ring: 1 read (404), 1 environment, 10 variables, 1 record.
    assert len(first) == 5 * 13
    assert len(again) == 5 and all(method == "GET" for method, _ in again)
    print(f"\nbudget: first sync {len(first)} requests, no-change re-sync {len(again)}")


async def test_a_ring_environment_the_app_may_not_create_refuses_the_promote(w: World) -> None:
    setup_repo(w, config=FEATURES)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    w.sim.fault("PUT", r"/environments/internal$", status=403, count=5)
    reply = await command(w, number, "/promote internal", by="bob")
    assert "😕" in reply and "Settings → Environments" in reply
    assert deployments(w, "internal") == []
