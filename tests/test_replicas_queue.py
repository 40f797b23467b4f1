"""The Redis work queue, two instances on one real redis-server (two replicas): coalescing,
one job per repository across them, lease reclaim, delayed keys, serialization."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from bot import work
from bot.clock import ManualClock
from bot.metrics import Metrics
from bot.replicas import keys
from bot.replicas.dedupe import RedisDedupe
from bot.replicas.queue import RedisWorkQueue

from .builders.queue import Key, Recorder
from .redis_server import RedisServer

keys.register(Key)  # the queue stores keys by their registered type


Make = Callable[..., RedisWorkQueue]


@pytest.fixture
async def make(redis_server: RedisServer) -> AsyncIterator[Make]:
    """Build queues (replicas) on the test's redis-server; closes them and their clients."""
    made: list[tuple[RedisWorkQueue, Redis]] = []

    def build(
        worker: Callable[[Key], Awaitable[None]], *, start: bool = True, **kw: object
    ) -> RedisWorkQueue:
        client = Redis.from_url(redis_server.url)
        kw.setdefault("poll", 0.05)
        q = RedisWorkQueue(worker, client, concurrency=4, metrics=Metrics(), **kw)  # type: ignore[arg-type]
        if start:
            q.start()
        made.append((q, client))
        return q

    yield build
    for q, client in made:
        await q.close(1.0)
        await client.aclose()


async def until(check: Callable[[], bool], seconds: float = 5.0) -> None:
    """Poll (real sockets are involved) until `check` holds, for a bounded time."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_identical_waiting_keys_run_once_across_replicas(make: Make) -> None:
    worker = Recorder()
    a, b = make(worker, start=False), make(worker, start=False)
    for _ in range(10):
        a.put(Key())
        b.put(Key())
    await a.flush()
    await b.flush()
    assert a.coalesced + b.coalesced == 19
    a.start()
    b.start()
    await a.join()
    await b.join()
    assert worker.ran == [Key()]


async def test_one_job_per_repository_across_replicas(make: Make) -> None:
    worker = Recorder()
    a, b = make(worker), make(worker)
    wanted = [Key(repo=f"acme/r{r}", number=n) for r in range(3) for n in range(5)]
    for i, key in enumerate(wanted):
        replica = a if i % 2 else b
        replica.put(key)
        await replica.flush()
    await until(lambda: len(worker.ran) == len(wanted))
    await a.join()
    assert sorted(worker.ran, key=repr) == sorted(wanted, key=repr)
    assert worker.max_per_repo == 1
    for r in range(3):  # each repository's keys ran in the order they were put
        assert [k.number for k in worker.ran if k.repo == f"acme/r{r}"] == list(range(5))


async def test_a_key_put_while_it_runs_runs_once_more_after(make: Make) -> None:
    worker = Recorder(hold=True)
    a, b = make(worker), make(worker)
    a.put(Key())
    await a.flush()
    await asyncio.wait_for(worker.started.wait(), 5)
    for _ in range(3):
        b.put(Key())
    await b.flush()
    assert b.coalesced == 2
    worker.release.set()
    await until(lambda: len(worker.ran) == 2)
    await a.join()
    await b.join()
    assert worker.ran == [Key(), Key()]


async def test_a_dead_replicas_job_is_taken_back_after_its_lease(make: Make) -> None:
    worker = Recorder()
    dead = make(worker, start=False, lease=0.3)
    dead.put(Key(number=7))
    await dead.flush()
    claimed = await dead.claim()  # it took the job, then died without finishing or renewing
    assert claimed is not None and claimed[0] == "acme/widgets"
    alive = make(worker)
    alive.put(Key(number=8))  # same repository: waits behind the dead replica's job
    await alive.flush()
    await asyncio.sleep(0.1)
    assert worker.ran == []  # the lease still holds the repository
    await until(lambda: len(worker.ran) == 2)
    assert worker.ran == [Key(number=7), Key(number=8)]  # the reclaimed job first in line
    assert alive.reclaimed == 1
    assert not await dead.finish(claimed[0], claimed[2])  # the dead claim was lost


async def test_a_running_job_renews_its_lease(make: Make) -> None:
    worker = Recorder(hold=True)
    a = make(worker, lease=0.3, renew=0.05)
    b = make(worker)
    a.put(Key())
    await a.flush()
    await asyncio.wait_for(worker.started.wait(), 5)
    await asyncio.sleep(0.6)  # twice the lease: renewed, so nobody took it back
    assert a.reclaimed == b.reclaimed == 0
    worker.release.set()
    await until(lambda: len(worker.ran) == 1)
    await a.join()
    assert worker.ran == [Key()] and worker.max_per_repo == 1


async def test_delayed_keys_wait_on_the_clock_and_survive_a_restart(make: Make) -> None:
    clock = ManualClock()
    worker = Recorder()
    a = make(worker, clock=clock)
    a.put(Key(number=1), 60)
    a.put(Key(number=2), 3600)
    await a.join()
    assert worker.ran == []
    clock.advance(seconds=61)
    await until(lambda: len(worker.ran) == 1)
    await a.close(1.0)  # a restart: the hour-long timer is in Redis, not in a's memory
    b = make(worker, clock=clock)
    await b.join()
    assert worker.ran == [Key(number=1)]
    clock.advance(hours=1)
    await b.join()
    assert worker.ran == [Key(number=1), Key(number=2)]


async def test_an_earlier_put_pulls_a_delayed_key_forward(make: Make) -> None:
    clock = ManualClock()
    worker = Recorder()
    a = make(worker, clock=clock)
    a.put(Key(), 3600)  # a bake time's end
    a.put(Key())  # an event about the same thing now: runs now, once
    await a.flush()
    assert a.coalesced == 1
    await a.join()
    assert worker.ran == [Key()]
    clock.advance(hours=2)
    await a.join()
    assert worker.ran == [Key()]


async def test_every_work_key_round_trips() -> None:
    samples = [
        work.GateKey(1, "acme/w", 2),
        work.MergeGroupKey(1, "acme/w", "abc"),
        work.CommitKey(1, "acme/w", "abc", statuses=True),
        work.RepoGatesKey(1, "acme/w"),
        work.RingsKey(1, "acme/w", "main"),
        work.CommandKey(1, "acme/w", 2, 3, "alice", "/promote internal\n✓", "2026-01-01T00:00:00Z"),
        work.LabelKey(1, "acme/w", 2, "promote:dev", "bob"),
        work.ProtectionKey(1, "acme/w", "dev", "abc", 9),
        work.FeaturesKey(1, "acme/w"),
        work.ReleaseKey(1, "acme/w", "main", "abc"),
    ]
    for key in samples:
        text = keys.dump(key)
        assert keys.load(text) == key
        assert keys.load(text.encode()) == key
        assert keys.dump(keys.load(text)) == text  # identical keys, identical text
    assert {type(k).__name__ for k in samples} <= set(keys.KEY_TYPES)


@pytest.mark.parametrize(
    "text",
    [
        '{"t": "os.system", "f": {"repo": "x"}}',
        '{"t": "GateKey", "f": {"repo": "x"}}',
        '{"t": "GateKey", "f": {"installation": 1, "repo": "x", "number": 2, "evil": 1}}',
        '{"t": "GateKey"}',
        "[1, 2]",
        "not json",
    ],
)
def test_unknown_or_malformed_keys_are_refused(text: str) -> None:
    with pytest.raises(keys.UnknownKey):
        keys.load(text)


def test_an_unregistered_key_type_cannot_be_put() -> None:
    @dataclass(frozen=True)
    class Stranger:
        repo: str = "acme/w"
        installation: int = 1

    with pytest.raises(keys.UnknownKey):
        keys.dump(Stranger())


async def test_a_stored_key_of_an_unknown_type_is_dropped_not_run(
    make: Make, redis_server: RedisServer
) -> None:
    worker = Recorder()
    a = make(worker, start=False)
    client = Redis.from_url(redis_server.url)
    bad = '{"f": {"installation": 1, "repo": "acme/widgets"}, "t": "Gone"}'
    await client.eval(
        "redis.call('ZADD', KEYS[1], 1, ARGV[1]); redis.call('ZADD', KEYS[2], 1, 'acme/widgets')",
        2,
        "ringbot:q:acme/widgets",
        "ringbot:ready",
        bad,
    )
    await client.aclose()
    a.put(Key())
    a.start()
    await until(lambda: len(worker.ran) == 1)
    await a.join()
    assert worker.ran == [Key()]


async def test_the_dedupe_lets_one_replica_take_a_delivery(redis_server: RedisServer) -> None:
    one, two = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    a, b = RedisDedupe(one), RedisDedupe(two)
    assert await a.first("guid-1")
    assert not await b.first("guid-1")
    assert not await a.first("guid-1")
    await a.forget("guid-1")  # not accepted after all
    assert await b.first("guid-1")
    assert 0 < await one.ttl("ringbot:seen:guid-1") <= 3 * 24 * 3600
    await one.aclose()
    await two.aclose()


async def test_a_delivery_mark_lapses_until_its_work_is_queued(redis_server: RedisServer) -> None:
    redis = Redis.from_url(redis_server.url)
    dedupe = RedisDedupe(redis)
    assert await dedupe.first("guid-2")
    # A replica that died here leaves a mark that lapses within a minute: a redelivery counts.
    assert 0 < await redis.ttl("ringbot:seen:guid-2") <= 60
    await dedupe.confirm("guid-2")
    assert await redis.ttl("ringbot:seen:guid-2") > 24 * 3600
    await redis.aclose()


async def test_confirming_a_forgotten_delivery_marks_nothing(redis_server: RedisServer) -> None:
    redis = Redis.from_url(redis_server.url)
    dedupe = RedisDedupe(redis)
    await dedupe.confirm("guid-3")  # never taken (or forgotten): nothing to keep
    assert await dedupe.first("guid-3")
    await redis.aclose()


async def test_the_queue_carries_on_after_redis_comes_back(
    make: Make, redis_server: RedisServer
) -> None:
    worker = Recorder()
    a = make(worker)
    await a.join()
    redis_server.stop()
    await asyncio.sleep(0.5)  # ten polls against a Redis that is down
    a.put(Key(number=1))
    with pytest.raises(Exception):  # noqa: B017 - whichever connection error redis-py raises
        await a.flush()
    redis_server.start()  # an empty Redis again, on the same port
    a.put(Key(number=2))
    await a.flush()  # both keys: the one that could not be sent is sent again
    await until(lambda: len(worker.ran) == 2)
    assert sorted(k.number for k in worker.ran) == [1, 2]
