"""Three replicas on one Redis, end to end: deliveries spread round-robin and each sent twice, to
two replicas at once; still one deployment per ring entry, one reply per command, one status
table per pull request. And Redis down: /webhook and /healthz answer 503."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.messages.visibility import STATUS_MARKER

from .builders import (
    REPO,
    TWO_RINGS,
    cd,
    command,
    deployments,
    merge,
    ready_pr,
    setup_repo,
)
from .harness import ReplicaWorld, replicas_world, start_bot
from .redis_server import RedisServer

pytestmark = pytest.mark.e2e


@pytest.fixture
async def rw(redis_server: RedisServer) -> AsyncIterator[ReplicaWorld]:
    """Three replicas behind a round-robin, duplicating forwarder."""
    async with replicas_world(redis_server.url, replicas=3) as running:
        yield running
        unserved = [f"{r.method} {r.path} -> {r.status}" for r in running.sim.unrouted]
    assert not unserved, "the simulator has no route for:\n" + "\n".join(unserved)


def status_tables(w: ReplicaWorld, number: int) -> int:
    return sum(
        1
        for c in w.sim.repo(REPO).comments.values()
        if STATUS_MARKER in c.body and c.number == number
    )


def jobs_run(w: ReplicaWorld) -> list[float]:
    """Jobs each replica ran."""
    return [
        sum(
            sample.value
            for metric in bot.metrics.jobs.collect()
            for sample in metric.samples
            if sample.name == "ringbot_jobs_total"
        )
        for bot in w.bots
    ]


async def test_three_replicas_do_everything_once(rw: ReplicaWorld) -> None:
    w = rw
    setup_repo(w, config=TWO_RINGS)
    number = await ready_pr(w)
    sha = await merge(w, number)
    await cd(w, "dev")
    (dev,) = deployments(w, "dev")  # the automatic entry, once
    assert dev.sha == sha

    approve = await command(w, number, "/approve dev", by="carol")
    promote = await command(w, number, "/promote internal", by="bob")
    assert approve and promote  # one reply each (reply_to refuses two)
    await cd(w, "internal")
    (internal,) = deployments(w, "internal")  # the promotion, once
    assert internal.sha == sha
    assert await command(w, number, "/promote internal", by="bob")  # already there: a reply
    assert len(deployments(w, "internal")) == 1
    status = await command(w, number, "/status", by="alice")
    assert status

    assert len(deployments(w)) == 2
    assert status_tables(w, number) == 1
    # Every delivery reached two replicas; exactly one of them accepted it.
    assert w.forwarder is not None and len(w.forwarder.answers) > 10
    assert all(sorted(pair) == [200, 202] for pair in w.forwarder.answers), w.forwarder.answers
    # The work really was shared: more than one replica ran jobs.
    assert sum(1 for n in jobs_run(w) if n > 0) >= 2, jobs_run(w)


async def test_redis_down_answers_503(redis_server: RedisServer) -> None:
    async with replicas_world(redis_server.url, replicas=1) as w:
        assert w.forwarder is not None
        w.bot_url = w.forwarder.targets[0]
        async with aiohttp.ClientSession() as s, s.get(f"{w.bot_url}/healthz") as ok:
            assert ok.status == 200
        assert (await w.deliver("ping", {"zen": "hi", "hook_id": 1})).status == 202
        redis_server.stop()
        answer = await w.deliver("ping", {"zen": "hi", "hook_id": 1})
        assert answer.status == 503
        async with aiohttp.ClientSession() as s, s.get(f"{w.bot_url}/healthz") as down:
            assert down.status == 503
            body = await down.json()
        assert body["status"] == "degraded" and body["redis"] == "down"


BAKED = """
rings:
  - name: dev
    auto: true
  - name: internal
    auto: true
    approvals: 0
    bake: 1h
"""


async def test_a_bake_timer_lives_in_redis_and_fires_once(rw: ReplicaWorld) -> None:
    w = rw
    setup_repo(w, config=BAKED)
    number = await ready_pr(w)
    sha = await merge(w, number)
    await cd(w, "dev")
    assert deployments(w, "internal") == []
    client = w.bots[0].replicas.redis if w.bots[0].replicas else None
    assert client is not None and await client.zcard("ringbot:delayed") >= 1  # the bake's end
    w.clock.advance(minutes=59)
    await w.settle()
    assert deployments(w, "internal") == []
    w.clock.advance(minutes=2)
    await w.settle()
    (internal,) = deployments(w, "internal")
    assert internal.sha == sha


WATCHED = """
rings:
  - name: dev
    auto: true
    verify: ["smoke/dev"]
    watch: 30m
  - name: internal
    auto: true
    approvals: 0
"""


async def test_a_verification_watch_lives_in_redis_and_survives_a_restart(rw: ReplicaWorld) -> None:
    w = rw
    setup_repo(w, config=WATCHED)
    number = await ready_pr(w)
    sha = await merge(w, number)
    await cd(w, "dev")
    w.sim.set_check_run(REPO, sha, "smoke/dev", conclusion="success", app="monitor")
    await w.settle()
    client = w.bots[0].replicas.redis if w.bots[0].replicas else None
    assert client is not None and await client.zcard("ringbot:delayed") >= 1  # the watch's end
    w.clock.advance(minutes=29)
    await w.settle()
    assert deployments(w, "internal") == []
    # Every replica restarts: nothing of the watch was kept in any of them.
    for runner in w.runners:
        await runner.cleanup()
    fresh = [await start_bot(w.settings, w.clock) for _ in w.bots]
    w.runners[:] = [runner for runner, _, _ in fresh]
    w.bots[:] = [bot for _, bot, _ in fresh]
    w.bot = w.bots[0]
    assert w.forwarder is not None
    w.forwarder.targets[:] = [url for _, _, url in fresh]
    w.clock.advance(minutes=2)  # no event: the timer kept in Redis ends the watch
    await w.settle()
    (internal,) = deployments(w, "internal")
    assert internal.sha == sha
