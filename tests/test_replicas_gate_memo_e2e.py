"""With replicas, no process decides the gate on what it alone remembers: another replica may
have seen the pull request or its builds move on since."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .builders import REPO, head, open_pr, setup_repo, verdict
from .harness import ReplicaWorld, replicas_world
from .redis_server import RedisServer

pytestmark = pytest.mark.e2e


@pytest.fixture
async def rw(redis_server: RedisServer) -> AsyncIterator[ReplicaWorld]:
    async with replicas_world(redis_server.url, replicas=3) as running:
        yield running


async def start(rw: ReplicaWorld, sha: str, *names: str) -> None:
    for name in names:
        rw.sim.set_check_run(REPO, sha, name, status="in_progress", conclusion=None)
        await rw.settle()


async def finish(rw: ReplicaWorld, sha: str, *names: str) -> None:
    for name in names:
        rw.sim.set_check_run(REPO, sha, name, conclusion="success")
        await rw.settle()


async def test_a_blocking_label_holds_the_gate_whichever_replica_saw_it(rw: ReplicaWorld) -> None:
    setup_repo(rw)
    for _ in range(6):  # jobs land on different replicas each time
        number = open_pr(rw)
        sha = head(rw, number)
        await start(rw, sha, "build", "lint", "test")
        rw.sim.review(REPO, number, "alice", "APPROVED")
        await rw.settle()
        await finish(rw, sha, "lint")
        rw.sim.add_label(REPO, number, "do-not-merge", by="alice")
        await rw.settle()
        await finish(rw, sha, "test", "build")
        assert verdict(rw, number) == "failure"


async def test_a_check_starting_after_green_closes_the_gate_on_any_replica(
    rw: ReplicaWorld,
) -> None:
    setup_repo(rw)
    for _ in range(6):
        number = open_pr(rw)
        sha = head(rw, number)
        await start(rw, sha, "build", "lint", "test")
        rw.sim.review(REPO, number, "alice", "APPROVED")
        await rw.settle()
        await finish(rw, sha, "build", "lint", "test")
        assert verdict(rw, number) == "success"
        await start(rw, sha, "late-e2e")
        assert verdict(rw, number) == "in_progress"
