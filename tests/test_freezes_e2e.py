"""Windows and freezes end to end, through the simulator on the test clock: a weekly window
across a daylight-saving change, a holiday range, `/freeze` and `/unfreeze`, a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.policy.windows import FREEZE_VARIABLE

from .builders import (
    REPO,
    cd,
    command,
    deployments,
    merge,
    ready_pr,
    released,
    setup_repo,
)
from .harness import World

pytestmark = pytest.mark.e2e

# Friday 27 March 2026, 12:00 UTC (13:00 in Berlin): the last weekday before summer time.
START = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    """The shared test clock, started on a Friday before Berlin's change to summer time."""
    return ManualClock(START)


FREEZABLE = """
rings:
  - name: dev
    auto: true
  - name: internal
  - name: production
    promoters: maintain
"""


def variables(w: World, environment: str) -> dict[str, str]:
    env = w.sim.repo(REPO).environments.get(environment)
    return {name: v.value for name, v in env.variables.items()} if env else {}


async def test_a_freeze_stops_every_entry_and_an_unfreeze_lets_the_auto_ring_catch_up(
    w: World,
) -> None:
    setup_repo(w, config=FREEZABLE)
    number, first = await released(w)
    reply = await command(w, number, "/freeze all incident 42: @bob look", by="alice")
    assert "🧊 Frozen: dev, internal, production, until someone comments `/unfreeze`" in reply
    assert "incident 42: @\u200bbob look" in reply  # echoed inert: it pings nobody
    assert FREEZE_VARIABLE in variables(w, "internal")
    # Sign-offs still work in a frozen ring; a promote does not.
    assert "signed off" in await command(w, number, "/approve dev", by="carol")
    reply = await command(w, number, "/promote internal", by="bob")
    assert "😕" in reply and "internal is closed 🧊: frozen by @alice" in reply
    assert "it opens when someone comments `/unfreeze internal`" in reply
    assert deployments(w, "internal") == []
    # Nor does a deployment made around ringbot.
    w.sim.request_protection_rule(REPO, "internal", first, run_id=91)
    await w.settle()
    (answer,) = w.sim.protection_rule_reviews
    assert answer.state == "rejected" and "frozen by @alice" in answer.comment
    # Nor an automatic entry: a new green release waits outside dev.
    second = await merge(w, await ready_pr(w, author="carol"))
    assert [d.sha for d in deployments(w, "dev")] == [first]
    status = await command(w, number, "/status", by="bob")
    assert "🧊 frozen by @alice: incident 42" in status and "until `/unfreeze`" in status
    # Unfrozen, dev takes the waiting release by itself: no new event is needed.
    reply = await command(w, number, "/unfreeze all", by="alice")
    assert "🔓 Unfrozen: dev, internal, production" in reply
    assert FREEZE_VARIABLE not in variables(w, "internal")
    assert [d.sha for d in deployments(w, "dev")] == [first, second]


async def test_a_freeze_for_a_while_ends_by_itself(w: World) -> None:
    setup_repo(w, config=FREEZABLE)
    number, first = await released(w)
    reply = await command(w, number, "/freeze dev for 2h deploys are broken", by="bob")
    assert "until Fri 27 Mar 2026 14:00 UTC (in 2h)" in reply
    second = await merge(w, await ready_pr(w, author="carol"))
    assert [d.sha for d in deployments(w, "dev")] == [first]
    w.clock.advance(hours=2, seconds=2)
    await w.settle()
    assert [d.sha for d in deployments(w, "dev")] == [first, second]


async def test_a_freeze_survives_a_restart(w: World) -> None:
    setup_repo(w, config=FREEZABLE)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    await command(w, number, "/freeze internal release party", by="bob")
    await w.restart_bot()
    reply = await command(w, number, "/promote internal", by="bob")
    assert "😕" in reply and "frozen by @bob: release party" in reply
    assert deployments(w, "internal") == []
    await command(w, number, "/unfreeze internal", by="bob")
    assert "🚀" in await command(w, number, "/promote internal", by="bob")


async def test_only_a_ring_s_promoters_freeze_it(w: World) -> None:
    setup_repo(w, config=FREEZABLE)
    number, _ = await released(w)
    reply = await command(w, number, "/freeze dev nobody asked", by="rita")
    assert "😕 Cannot freeze" in reply and "needs write permission; @rita has read" in reply
    reply = await command(w, number, "/freeze all incident", by="bob")
    assert "needs maintain permission; @bob has write" in reply
    reply = await command(w, number, "/unfreeze production", by="bob")
    assert "😕 Cannot unfreeze" in reply
    assert all(FREEZE_VARIABLE not in variables(w, r) for r in ("dev", "internal", "production"))


WEEKDAYS = """
timezone: Europe/Berlin
windows:
  - allow: "Mon-Fri 09:00-16:00"
    rings: [staging]
    reason: office hours
rings:
  - name: dev
    auto: true
  - name: staging
    auto: true
    approvals: 0
"""


async def test_a_weekly_window_closes_and_opens_across_a_daylight_saving_change(
    w: World,
) -> None:
    setup_repo(w, config=WEEKDAYS)
    _, first = await released(w)  # 13:00 in Berlin: staging is open
    assert [d.sha for d in deployments(w, "staging")] == [first]
    await cd(w, "staging")
    # 16:30 in Berlin (CET): staging has closed for the weekend.
    w.clock.advance_to(datetime(2026, 3, 27, 15, 30, tzinfo=UTC))
    second = await merge(w, await ready_pr(w, author="carol"))
    await cd(w, "dev")
    assert [d.sha for d in deployments(w, "staging")] == [first]
    # Monday 08:59 in Berlin, now summer time (CEST, UTC+2): still closed.
    w.clock.advance_to(datetime(2026, 3, 30, 6, 59, tzinfo=UTC))
    await w.settle()
    assert [d.sha for d in deployments(w, "staging")] == [first]
    # 09:00 CEST is 07:00 UTC: staging opens and catches up by itself.
    w.clock.advance_to(datetime(2026, 3, 30, 7, 1, tzinfo=UTC))
    await w.settle()
    assert [d.sha for d in deployments(w, "staging")] == [first, second]


HOLIDAYS = """
timezone: Europe/Berlin
windows:
  - deny: "2026-12-20 00:00 .. 2027-01-04 00:00"
    rings: all
    reason: holiday freeze
rings:
  - name: dev
    auto: true
  - name: internal
"""


async def test_a_holiday_range_refuses_promotions_until_it_ends(w: World) -> None:
    setup_repo(w, config=HOLIDAYS)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    w.clock.advance_to(datetime(2026, 12, 21, 10, 0, tzinfo=UTC))
    reply = await command(w, number, "/promote internal", by="bob")
    assert "😕" in reply and "2026-12-20 00:00 .. 2027-01-04 00:00 (holiday freeze)" in reply
    assert "it opens Mon 04 Jan 2027 00:00 CET (in 13d 13h)" in reply
    status = await command(w, number, "/status", by="bob")
    assert "🧊 inside the deny window" in status
    w.clock.advance_to(datetime(2027, 1, 3, 23, 0, tzinfo=UTC) + timedelta(seconds=1))
    assert "🚀" in await command(w, number, "/promote internal", by="bob")


async def test_the_pull_requests_status_table_shows_a_frozen_ring(w: World) -> None:
    setup_repo(w, config=FREEZABLE)
    number, _ = await released(w)
    await command(w, number, "/freeze dev for 2h incident 42", by="alice")
    await command(w, number, "/approve dev", by="carol")  # a ledger entry: the table is redrawn
    (table,) = [
        c.body
        for c in w.sim.repo(REPO).comments.values()
        if c.number == number and "<!-- ringbot:status -->" in c.body
    ]
    (dev,) = [line for line in table.splitlines() if line.startswith("| dev |")]
    assert "🧊 frozen by @alice: incident 42, until" in dev
