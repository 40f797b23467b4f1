"""Verification (`verify:`, `watch:`, `on_failure:`) end to end through the simulator."""

from __future__ import annotations

import pytest

from .builders import REPO, cd, command, deployments, released, setup_repo
from .harness import World

pytestmark = pytest.mark.e2e


def rings(on_failure: str = "reject", second_auto: bool = True) -> str:
    auto = "    auto: true\n" if second_auto else ""
    return f"""
rings:
  - name: dev
    auto: true
    verify:
      - smoke/{{ring}}
    watch: 30m
    on_failure: {on_failure}
  - name: staging
{auto}"""


def smoke(w: World, sha: str, conclusion: str = "success", summary: str = "all fine") -> None:
    """The monitor posts `smoke/dev` on the release commit."""
    w.sim.set_check_run(
        REPO,
        sha,
        "smoke/dev",
        conclusion=conclusion,
        app="monitor",
        output={"title": "smoke", "summary": summary},
    )


async def test_a_verification_passes_after_its_watch_and_the_auto_ring_follows(w: World) -> None:
    setup_repo(w, config=rings())
    _, sha = await released(w)
    assert deployments(w, "staging") == []  # no check yet: staging waits
    smoke(w, sha)
    await w.settle()
    assert deployments(w, "staging") == []  # green, but watched for 30m first
    w.clock.advance(minutes=29)
    await w.settle()
    assert deployments(w, "staging") == []
    w.clock.advance(minutes=2)  # the timer ends the watch, no event needed
    await w.settle()
    assert [d.sha for d in deployments(w, "staging")] == [sha]


async def test_a_pending_check_refuses_promote_and_the_protection_rule(w: World) -> None:
    setup_repo(w, config=rings(second_auto=False))
    number, sha = await released(w)
    await command(w, number, "/approve dev", by="carol")
    reply = await command(w, number, "/promote staging", by="alice")
    assert "😕" in reply and "waiting for verification: smoke/dev" in reply
    assert deployments(w, "staging") == []
    smoke(w, sha)
    await w.settle()
    reply = await command(w, number, "/promote staging", by="alice")
    assert "😕" in reply and "watched" in reply and "left" in reply
    w.clock.advance(minutes=31)
    reply = await command(w, number, "/promote staging", by="alice")
    assert "🚀" in reply
    assert [d.sha for d in deployments(w, "staging")] == [sha]


async def test_a_failure_rejects_and_tells_the_pull_request(w: World) -> None:
    setup_repo(w, config=rings())
    number, sha = await released(w)
    smoke(w, sha, "failure", summary="checkout returns 500")
    await w.settle()
    dev = deployments(w, "dev")[-1]
    texts = [
        s.description
        for s in w.sim.repo(REPO).deployment_statuses
        if s.deployment_id == dev.id and s.creator.login == w.sim.bot_login
    ]
    assert any(
        t.startswith(f"ringbot:reject @{w.sim.bot_login} verification in dev failed: smoke/dev")
        and "checkout returns 500" in t
        for t in texts
    ), texts
    comments = [c.body for c in w.sim.repo(REPO).comments.values() if c.number == number]
    assert any("checkout returns 500" in body for body in comments), comments
    assert deployments(w, "staging") == []
    assert len(deployments(w, "dev")) == 1  # reject deploys nothing
    status = await command(w, number, "/status", by="bob")
    assert "rejected" in status


async def test_a_failure_with_rollback_leaves_exactly_one_rollback(w: World) -> None:
    setup_repo(w, config=rings("rollback"))
    _, first = await released(w)
    smoke(w, first)
    await w.settle()
    w.clock.advance(minutes=31)
    await w.settle()
    await cd(w, "staging")
    _, second = await released(w, author="carol")
    smoke(w, second, "failure", summary="latency doubled")
    await w.settle()
    smoke(w, second, "failure", summary="latency doubled")  # reported again
    await w.settle()
    back = [d for d in deployments(w, "dev") if d.payload.get("rollback")]
    assert [d.sha for d in back] == [first]
    await cd(w, "dev")  # the rollback is live
    await w.settle()
    back = [d for d in deployments(w, "dev") if d.payload.get("rollback")]
    assert len(back) == 1
    assert second not in [d.sha for d in deployments(w, "staging")]


async def test_a_failure_with_hold_only_blocks(w: World) -> None:
    setup_repo(w, config=rings("hold", second_auto=False))
    number, sha = await released(w)
    smoke(w, sha, "failure", summary="flaky")
    await w.settle()
    assert len(deployments(w, "dev")) == 1
    await command(w, number, "/approve dev", by="carol")
    reply = await command(w, number, "/promote staging", by="alice")
    assert "😕" in reply and "failed verification in dev" in reply
    assert "rejected" not in reply


async def test_the_watch_after_a_restart(w: World) -> None:
    """Without Redis the in-process timer is lost with the process; the next event about the
    repository (here the monitor reporting again) finds the watch over and moves on."""
    setup_repo(w, config=rings())
    _, sha = await released(w)
    smoke(w, sha)
    await w.settle()
    await w.restart_bot()
    w.clock.advance(minutes=31)
    await w.settle()
    smoke(w, sha)  # a new green run: the watch starts over from it
    await w.settle()
    w.clock.advance(minutes=31)
    await w.settle()
    assert [d.sha for d in deployments(w, "staging")] == [sha]


async def test_status_shows_where_verification_stands(w: World) -> None:
    setup_repo(w, config=rings(second_auto=False))
    number, sha = await released(w)
    assert "🔬 pending: smoke/dev" in await command(w, number, "/status", by="bob")
    smoke(w, sha)
    await w.settle()
    w.clock.advance(minutes=31)
    assert "🔬 verified" in await command(w, number, "/status", by="bob")


async def test_status_links_a_failed_verification(w: World) -> None:
    setup_repo(w, config=rings(on_failure="hold", second_auto=False))
    number, sha = await released(w)
    smoke(w, sha, "failure", summary="checkout returns 500")
    await w.settle()
    assert "🔬 failed: [smoke/dev](" in await command(w, number, "/status", by="bob")


async def test_the_pull_requests_table_and_the_release_check_show_verification(w: World) -> None:
    setup_repo(w, config=rings(second_auto=False))
    number, sha = await released(w)
    smoke(w, sha)
    await w.settle()
    w.clock.advance(minutes=31)
    await command(w, number, "/approve dev", by="carol")  # a ledger entry: a new look
    (table,) = [
        c.body
        for c in w.sim.repo(REPO).comments.values()
        if c.number == number and "<!-- ringbot:status -->" in c.body
    ]
    assert "🔬 verified" in next(line for line in table.splitlines() if line.startswith("| dev |"))
    (check,) = [r for r in w.sim.repo(REPO).check_runs.values() if r.name == "ringbot/release"]
    assert "🔬 verified" in str(check.output.get("summary"))


async def test_a_pending_verification_answers_no_to_the_protection_rule(w: World) -> None:
    setup_repo(w, config=rings(second_auto=False))
    number, sha = await released(w)
    await command(w, number, "/approve dev", by="carol")
    w.sim.request_protection_rule(REPO, "staging", sha, run_id=41)  # a deploy around ringbot
    await w.settle()
    answer = w.sim.protection_rule_reviews[-1]
    assert answer.state == "rejected" and "waiting for verification: smoke/dev" in answer.comment
