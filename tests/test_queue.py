"""The work queue: serial per repository, coalescing, bounded, draining."""

from __future__ import annotations

import asyncio

from bot.clock import ManualClock
from bot.metrics import Metrics
from bot.queue import WorkQueue

from .builders.queue import Key, Recorder


def queue(worker: Recorder, concurrency: int = 4, clock: ManualClock | None = None) -> WorkQueue:
    q = WorkQueue(worker, concurrency=concurrency, metrics=Metrics(), clock=clock)  # type: ignore[arg-type]
    q.start()
    return q


async def test_identical_waiting_keys_run_once() -> None:
    worker = Recorder()
    q = queue(worker)
    for _ in range(20):
        q.put(Key())
    await q.join()
    assert worker.ran == [Key()]


async def test_a_debounced_burst_runs_once() -> None:
    worker, clock = Recorder(), ManualClock()
    q = queue(worker, clock=clock)
    for _ in range(20):
        q.put(Key(), delay=0.05)
        clock.advance(seconds=0.001)  # the burst is spread over its first 20 ms
        await asyncio.sleep(0)
    assert worker.ran == [] and not q.idle  # the key still waits out its delay
    clock.advance(seconds=0.05)
    await q.join()
    assert worker.ran == [Key()] and q.coalesced == 19


async def test_a_delayed_key_waits_on_the_clock_not_in_real_time() -> None:
    worker, clock = Recorder(), ManualClock()
    q = queue(worker, clock=clock)
    q.put(Key(), delay=0.05)
    clock.advance(seconds=0.049)
    for _ in range(10):
        await asyncio.sleep(0)
    assert worker.ran == []
    clock.advance(seconds=0.001)
    await q.join()
    assert worker.ran == [Key()]


async def test_a_key_put_while_it_runs_runs_again() -> None:
    worker = Recorder(hold=True)
    q = queue(worker)
    q.put(Key())
    await worker.started.wait()
    q.put(Key())  # the state the running job read may already be stale
    worker.release.set()
    await q.join()
    assert worker.ran == [Key(), Key()]


async def test_one_repository_runs_one_job_at_a_time() -> None:
    worker = Recorder()
    q = queue(worker)
    for n in range(10):
        q.put(Key(number=n))
    await q.join()
    assert worker.max_per_repo == 1 and len(worker.ran) == 10


async def test_repositories_run_in_parallel_up_to_the_bound() -> None:
    worker = Recorder()
    q = queue(worker, concurrency=3)
    for n in range(10):
        q.put(Key(repo=f"acme/r{n}"))
    await q.join()
    assert worker.max_total == 3


async def test_close_drains_waiting_work() -> None:
    worker = Recorder()
    q = queue(worker)
    for n in range(5):
        q.put(Key(number=n))
    await q.close(timeout=5)
    assert len(worker.ran) == 5
    assert not q.put(Key(number=99))


async def test_close_runs_delayed_keys_without_waiting_out_their_delay() -> None:
    worker, clock = Recorder(), ManualClock()
    q = queue(worker, clock=clock)
    q.put(Key(number=1), delay=0.3)
    q.put(Key(number=2))
    await q.close(timeout=5)  # the clock never moves: nothing could join the burst any more
    assert sorted(k.number for k in worker.ran) == [1, 2]
    assert clock.next_due() is None


async def test_a_crashing_job_does_not_stop_the_queue() -> None:
    ran: list[int] = []

    async def worker(key: Key) -> None:
        if key.number == 1:
            raise RuntimeError("boom")
        ran.append(key.number)

    q = WorkQueue(worker, concurrency=1, metrics=Metrics())  # type: ignore[arg-type]
    q.start()
    q.put(Key(number=1))
    q.put(Key(number=2))
    await q.join()
    assert ran == [2]
