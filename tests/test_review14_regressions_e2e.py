"""Regressions from the hostile review of issue 14: each was a way around verification or the
guardrails, or a crash, before it was fixed."""

from __future__ import annotations

import pytest

from .builders import (
    REPO,
    TWO_RINGS,
    build,
    cd,
    command,
    deployments,
    head,
    merge,
    open_pr,
    ready_pr,
    released,
    setup_repo,
)
from .harness import World
from .test_verify_e2e import rings, smoke

pytestmark = pytest.mark.e2e


async def bypassed(w: World) -> tuple[int, str]:
    number = open_pr(w)
    build(w, head(w, number), conclusion="failure")
    await w.settle()
    return number, await merge(w, number)


async def test_the_protection_rule_keeps_an_unverified_commit_out_of_the_first_ring(
    w: World,
) -> None:
    setup_repo(w, config=TWO_RINGS)
    await released(w)
    _number, sha = await bypassed(w)
    assert sha not in [d.sha for d in deployments(w, "dev") if d.creator.login == w.sim.bot_login]
    w.sim.request_protection_rule(REPO, "dev", sha, run_id=191)
    await w.settle()
    answers = w.sim.protection_rule_reviews
    assert answers[-1].state == "rejected", answers[-1].comment


async def verified_release(w: World, author: str, *, staging_follows: bool) -> str:
    """A release live in dev whose smoke check passed and was watched; staging deployed by the
    CD when it follows by itself."""
    _, sha = await released(w, author=author)
    smoke(w, sha)
    await w.settle()
    w.clock.advance(minutes=31)
    await w.settle()
    if staging_follows:
        await cd(w, "staging")
    return sha


@pytest.mark.parametrize("staging_follows", [True, False], ids=["auto-next", "manual-next"])
async def test_a_failed_verification_rolls_back_once(w: World, staging_follows: bool) -> None:
    setup_repo(w, config=rings("rollback", second_auto=staging_follows))
    await verified_release(w, "bob", staging_follows=staging_follows)
    second = await verified_release(w, "carol", staging_follows=staging_follows)
    _, third = await released(w, author="dave")
    smoke(w, third, "failure", summary="db down")
    await w.settle()
    await cd(w, "dev")
    await w.settle()
    # The monitor smoke-tests the rollback deployment too, and the environment is still broken.
    smoke(w, second, "failure", summary="db down")
    await w.settle()
    await cd(w, "dev")
    await w.settle()
    back = [d.sha[:7] for d in deployments(w, "dev") if d.payload.get("rollback")]
    assert len(back) == 1, back


async def test_a_deploy_around_ringbot_accepts_nothing_for_later_releases(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    await released(w)
    _number, sha = await bypassed(w)
    dep_id = w.sim.request_protection_rule(REPO, "dev", sha, run_id=192)
    await w.settle()
    w.sim.post_deployment_status(REPO, dep_id, "success", by="deploy-bot")
    await w.settle()
    # A later, verified release: dev's current release (the bypassed commit) is a stop now.
    later = await ready_pr(w)
    following = await merge(w, later)
    await w.settle()
    assert following not in [
        d.sha for d in deployments(w, "dev") if d.creator.login == w.sim.bot_login
    ]


async def test_a_rollback_that_fails_again_is_not_rolled_back_again(w: World) -> None:
    setup_repo(w, config=rings("rollback", second_auto=False))
    _, first = await released(w)
    smoke(w, first)
    await w.settle()
    w.clock.advance(minutes=31)
    await w.settle()
    _, second = await released(w, author="carol")
    smoke(w, second)
    await w.settle()
    w.clock.advance(minutes=31)
    await w.settle()
    _, third = await released(w, author="dave")
    smoke(w, third, "failure", summary="db down")
    await w.settle()
    await cd(w, "dev")
    await w.settle()
    smoke(w, second, "failure", summary="db down")
    await w.settle()
    for _ in range(4):
        await cd(w, "dev")
        await w.settle()
    back = [d.sha[:7] for d in deployments(w, "dev") if d.payload.get("rollback")]
    assert len(back) <= 2, back


SHARED = """
rings:
  - name: dev
    auto: true
    verify: [e2e]
    on_failure: rollback
  - name: staging
    auto: true
    verify: [e2e]
    on_failure: hold
  - name: prod
"""


def e2e(w: World, sha: str, conclusion: str = "success") -> None:
    w.sim.set_check_run(
        REPO,
        sha,
        "e2e",
        conclusion=conclusion,
        app="monitor",
        output={"title": "e2e", "summary": "x"},
    )


async def test_a_check_failing_in_a_later_ring_leaves_the_earlier_ring_alone(w: World) -> None:
    setup_repo(w, config=SHARED)
    _, first = await released(w)
    e2e(w, first)
    await w.settle()
    await cd(w, "staging")
    await w.settle()
    _, second = await released(w, author="carol")
    e2e(w, second)
    await w.settle()
    await cd(w, "staging")
    await w.settle()
    assert second in [d.sha for d in deployments(w, "staging")]
    # Now e2e fails on second while it waits in staging (on_failure: hold).
    e2e(w, second, "failure")
    await w.settle()
    back = [d.sha[:7] for d in deployments(w, "dev") if d.payload.get("rollback")]
    rejected = [
        s.description
        for s in w.sim.repo(REPO).deployment_statuses
        if "ringbot:reject" in (s.description or "")
    ]
    assert back == [] and rejected == []


async def test_the_gate_is_published_when_the_settings_answer_5xx(w: World) -> None:
    from .builders import gate_runs

    setup_repo(w, config=TWO_RINGS)
    w.sim.fault("GET", r"/rules/branches/", status=502, count=10_000)
    number = open_pr(w)
    await w.settle()
    runs = gate_runs(w, head(w, number))
    assert runs


async def test_status_answers_when_the_environments_answer_5xx(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    w.bot.caches.protection.clear()
    w.sim.fault("GET", r"/deployment_protection_rules$", status=500, count=10_000)
    status = await command(w, number, "/status")
    assert "Protection check" in status


async def test_an_unverified_commit_below_the_history_page_still_waits(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.snapshot.guardrails as g
    from bot.policy.visibility import History

    real = g.read_history

    async def short_page(ctx, ref):  # a page of 2 stands for GitHub's 100
        found = await real(ctx, ref)
        return History(found.commits[:2])

    monkeypatch.setattr(g, "read_history", short_page)
    setup_repo(w, config=TWO_RINGS)
    await released(w)
    _number, _sha = await bypassed(w)
    shipped = []
    for _ in range(3):
        later = await ready_pr(w)
        shipped.append(await merge(w, later))
    bot_dev = [d.sha for d in deployments(w, "dev") if d.creator.login == w.sim.bot_login]
    assert not set(shipped) & set(bot_dev)
