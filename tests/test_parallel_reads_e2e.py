"""Independent GitHub reads run together: the same answers, sooner, and still fail closed.

The simulator's `latency` makes every request wait on the real clock, so reads that overlap
take one round trip where the same reads one after the other take several.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.commands import Promote
from bot.config import Config
from bot.models import Permission
from bot.policy.rings import Ask
from bot.snapshot.pulls import builds, ok, reviews
from bot.snapshot.repo_config import load_config
from bot.snapshot.rings import read_for_command

from .builders import (
    REPO,
    TWO_RINGS,
    command,
    deployments,
    gate_runs,
    head,
    open_pr,
    ready_pr,
    released,
    reply_to,
    setup_repo,
    verdict,
)
from .harness import World

pytestmark = pytest.mark.e2e

LATENCY = 0.2


def test_ok_gives_a_result_or_raises_the_failure() -> None:
    assert ok(3) == 3
    with pytest.raises(KeyError):
        ok(KeyError("x"))


async def test_the_simulator_answers_after_its_latency(w: World) -> None:
    setup_repo(w)
    ctx = await w.ctx(REPO)
    w.sim.server.latency = LATENCY
    began = time.monotonic()
    await ctx.gh.getitem(f"/repos/{REPO}")
    assert time.monotonic() - began >= LATENCY


async def test_check_runs_statuses_and_reviews_are_read_together(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.set_status(REPO, head(w, number), "ci/jenkins", "success", by="jenkins")
    ctx = await w.ctx(REPO)
    w.sim.server.latency = LATENCY
    w.sim.requests.clear()
    (own, checks), found = await asyncio.gather(
        builds(ctx, head(w, number), memo_ok=False), reviews(ctx, number)
    )
    # Check runs, statuses, reviews: three reads; the reviewer's permission is cached.
    assert [r["name"] for r in own] == ["ringbot/merge-gate"]
    assert sorted(c.name for c in checks) == ["build", "ci/jenkins"]
    assert [r.user for r in found] == ["alice"]
    assert len(w.sim.requests) == 3
    assert w.sim.server.most_in_flight == 3  # all three at once


async def test_each_reviewer_is_looked_up_once_all_at_once(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    for login in ("alice", "carol", "rita"):
        w.sim.review(REPO, number, login, "APPROVED")
    w.sim.review(REPO, number, "alice", "CHANGES_REQUESTED")
    await w.settle()
    ctx = await w.ctx(REPO)
    ctx.caches.permissions.clear()
    w.sim.server.latency = LATENCY
    w.sim.requests.clear()
    found = await reviews(ctx, number)
    permission_reads = [r for r in w.sim.requests if r.path.endswith("/permission")]
    assert len(permission_reads) == 3
    assert [(r.user, r.permission.name) for r in found] == [
        ("alice", "MAINTAIN"),
        ("carol", "WRITE"),
        ("rita", "READ"),
        ("alice", "MAINTAIN"),
    ]
    assert w.sim.server.most_in_flight == 3  # the three permissions at once


async def test_a_failed_review_read_marks_the_same_gate_run_unreadable(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    runs = gate_runs(w, head(w, number))
    # The reviews fail for the whole job while the builds are read fine beside them.
    w.sim.fault("GET", r"/pulls/\d+/reviews$", status=502, count=4)
    w.sim.review(REPO, number, "carol", "CHANGES_REQUESTED")
    await w.settle()
    assert verdict(w, number) == "in_progress"
    # The gate's own run was found by the builds read: it is updated, not doubled.
    assert [r.id for r in gate_runs(w, head(w, number))] == [r.id for r in runs]
    w.clock.advance(seconds=w.bot.settings.retry_seconds)
    await w.settle()
    assert verdict(w, number) == "failure"


async def test_a_failed_builds_read_keeps_the_gate_closed(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.fault("GET", r"/commits/[0-9a-f]+/check-runs", status=502, count=4)
    w.sim.review(REPO, number, "carol", "CHANGES_REQUESTED")
    await w.settle()
    assert verdict(w, number) == "in_progress"
    w.clock.advance(seconds=w.bot.settings.retry_seconds)
    await w.settle()
    assert verdict(w, number) == "failure"
    # Every read of the failed job was awaited: nothing of it is still running.
    assert not [t for t in asyncio.all_tasks() if "every" in repr(t.get_coro())]


async def test_a_promote_reads_the_same_with_its_reads_together(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    ctx = await w.ctx(REPO)
    config = await load_config(ctx)
    assert isinstance(config, Config)
    ask = Ask(Promote("internal"), "bob", Permission.WRITE, w.clock.now())
    w.sim.server.latency = LATENCY
    w.sim.requests.clear()
    ctx.caches.merges.clear()  # as for a pull request no command named yet
    view = await read_for_command(ctx, config, number, ask.command, ask.written_at)
    assert view.pull is not None and view.pull.number == number
    assert [s.ring.name for s in view.rings] == ["dev", "internal"]
    assert w.sim.server.most_in_flight >= 2  # the pull request and the deployments at once
    # The same view decides the command as before: the release enters internal.
    w.sim.server.latency = 0.0
    await command(w, number, "/promote internal", by="bob")
    assert len(deployments(w, "internal")) == 1


async def test_a_failed_eyes_reaction_still_gets_the_commands_reply(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    # 👀 goes up beside the work; GitHub refusing it must not cost the reply or run it twice.
    w.sim.fault("POST", r"/reactions$", status=404, count=1)
    comment_id = w.sim.comment(REPO, number, "carol", "/approve dev")
    await w.settle()
    assert "signed off" in reply_to(w, comment_id)
    assert len(deployments(w, "dev")) == 1
