"""The work queue on Redis, with the interface of bot.queue.WorkQueue, shared by every replica.

- Durable: a key is in Redis once `flush()` returned (the webhook receiver awaits it before its
  202). A claimed job holds a lease that a task renews while the job runs; a replica that dies
  stops renewing, and any replica's tick puts the job back in line once the lease ran out.
- One job at a time per repository across replicas; identical waiting keys coalesce; a key put
  while its job runs runs once more after; delayed keys (debounce, `Ringbot.later`, retry
  back-offs) wait in a sorted set on the Clock's time, so they survive restarts.
- Wake-up: the put and finish scripts PUBLISH on `<prefix>wake` when a repository becomes ready
  (inside the same round trip); every replica's one subscriber wakes its dispatcher. The dispatcher
  also ticks every `poll` seconds of real time (moving due delayed keys, taking back expired
  leases), which covers a missed message; a delayed put also sets a Clock timer on its replica,
  so a ManualClock moved by a test wakes it at once.
- Round trips per job: put 1 (pipelined with the delivery's other puts), claim 1, finish 1;
  a renewal every `renew` seconds only for jobs that last that long.

Leases are on real (wall) time, like socket deadlines: they bound what a dead replica costs,
while due times are on the Clock, like every other timer of the bot.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..clock import Clock, SystemClock
from ..logs import log, log_exception
from ..metrics import Metrics
from ..queue import Worker, WorkKey
from . import keys, scripts

LEASE_SECONDS = 30.0  # a dead replica's job runs again within this (plus one poll)
RENEW_SECONDS = 10.0  # a running job's lease is renewed this often
POLL_SECONDS = 1.0  # each replica ticks this often without being woken
BUFFER_AT_MOST = 10_000  # puts held while Redis cannot be reached (timers, retries)

Failure = (RedisError, OSError, TimeoutError)


class RedisWorkQueue:
    """Runs one job at a time per repository across replicas, at most `concurrency` here."""

    def __init__(
        self,
        worker: Worker,
        redis: Redis,
        *,
        concurrency: int,
        metrics: Metrics,
        clock: Clock | None = None,
        prefix: str = "ringbot:",
        lease: float = LEASE_SECONDS,
        renew: float = RENEW_SECONDS,
        poll: float = POLL_SECONDS,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._worker = worker
        self._redis = redis
        self._concurrency = concurrency
        self._metrics = metrics
        self._clock = clock or SystemClock()
        self.prefix = prefix
        self.lease = lease
        self.renew = renew
        self.poll = poll
        self._wall = wall
        self._put = redis.register_script(scripts.PUT)
        self._claim = redis.register_script(scripts.CLAIM)
        self._finish = redis.register_script(scripts.FINISH)
        self._renew = redis.register_script(scripts.RENEW)
        self._tick = redis.register_script(scripts.TICK)
        self._buffer: list[tuple[str, str, float]] = []  # (repo, key, due) not yet in Redis
        self._sending: set[asyncio.Task[None]] = set()
        self._running: dict[asyncio.Task[None], tuple[str, str]] = {}  # task -> (repo, token)
        self._wakeup = asyncio.Event()
        self._tick_due = True
        self._timers: set[Any] = set()  # this replica's timers not yet fired
        self._task: asyncio.Task[None] | None = None
        self._closed = False  # no more claims (puts still go to Redis until the final flush)
        self._shut = False
        self._global = (0, 0, 0)  # ready, running, due: as last read from Redis
        self.coalesced = 0
        self.reclaimed = 0

    # The interface of WorkQueue.

    def start(self) -> None:
        """Start the dispatcher on the running loop."""
        self._task = asyncio.create_task(self._dispatch())

    def put(self, key: WorkKey, delay: float = 0.0) -> bool:
        """Queue a key (after `delay` seconds of the Clock); it reaches Redis on the next flush.

        True unless the queue is shut: whether it merged into a waiting key is known in Redis
        (`coalesced` counts those once flushed). Jobs draining at close may still put (a retry,
        a bake's end): those keys reach Redis with the final flush.
        """
        if self._shut:
            return False
        now = self._clock.now().timestamp()
        self._buffer.append((key.repo, keys.dump(key), now + max(0.0, delay)))
        del self._buffer[:-BUFFER_AT_MOST]
        if delay > 0:
            # This replica looks when it comes due (others look on their poll). A fired timer
            # leaves the set, so a long-running replica holds only those still to come.
            holder: list[Any] = []

            def due() -> None:
                self._timers.difference_update(holder)
                self.wake(True)

            timer = self._clock.call_later(delay, due)
            holder.append(timer)
            self._timers.add(timer)
        if not self._sending:
            self._send_soon()
        return True

    async def flush(self) -> None:
        """Return once every key put so far is in Redis; raises when Redis cannot be reached
        (the keys stay buffered and are sent again later)."""
        if self._buffer:
            self._send_soon()
        pending = list(self._sending)
        if pending:
            for result in await asyncio.gather(*pending, return_exceptions=True):
                if isinstance(result, BaseException):
                    raise result

    @property
    def depth(self) -> int:
        """Keys waiting here, and repositories ready in Redis, as last read."""
        return len(self._buffer) + self._global[0]

    @property
    def idle(self) -> bool:
        """Nothing buffered or running here, and nothing ready, running or due in Redis, as last
        read (`join` reads it again)."""
        return (
            not self._buffer
            and not self._sending
            and not self._running
            and not self._tick_due
            and self._global == (0, 0, 0)
        )

    async def join(self) -> None:
        """Wait until nothing is ready, running or due, on any replica (keys delayed into the
        future are the Clock's to reach)."""
        await self.join_running()

    async def join_running(self) -> None:
        """Wait until nothing is buffered, ready, running or due, polling Redis."""
        while True:
            await self.flush()
            await self.tick()
            if self.idle:
                return
            self._wakeup.set()
            await asyncio.sleep(0.01)  # real sockets: another replica may hold the work

    async def close(self, timeout: float) -> None:
        """Stop claiming; let running jobs finish for up to `timeout`, then give the rest back
        (first in line, for another replica or the next start). Waiting keys stay in Redis."""
        self._closed = True
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        running = list(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=timeout)
            if late:
                log(30, "queue drain timed out", running=len(late))
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
        self._shut = True
        try:
            await self.flush()
        except Failure:
            log(40, "queue could not flush its puts at close", keys=len(self._buffer))

    # Redis.

    def wake(self, tick: bool = False) -> None:
        """Look for work now (a message came, a delayed key of this replica came due)."""
        if tick:
            self._tick_due = True
        self._wakeup.set()

    async def tick(self) -> tuple[int, int, int, int]:
        """Move due delayed keys into line and take back expired leases; Redis's counts."""
        self._tick_due = False
        ready, running, due, dead = (
            int(n)
            for n in await self._tick(
                args=[self.prefix, self._clock.now().timestamp(), self._wall()]
            )
        )
        if dead:
            self.reclaimed += dead
            log(30, "took back jobs whose replica stopped renewing", jobs=dead)
        self._global = (ready, running, due)
        self._metrics.queue_depth.set(self.depth)
        return ready, running, due, dead

    async def claim(self) -> tuple[str, str, str] | None:
        """Take the next ready job: (repo, serialized key, token), or None."""
        token = uuid.uuid4().hex
        got = await self._claim(args=[self.prefix, self._wall() + self.lease, token])
        if not got:
            return None
        repo, key = (v.decode() if isinstance(v, bytes) else str(v) for v in got)
        return repo, key, token

    async def finish(self, repo: str, token: str, *, requeue: bool = False) -> bool:
        """Free the repository (its key waits again first with `requeue`); False if the claim
        had been lost."""
        return bool(await self._finish(args=[self.prefix, repo, token, int(requeue)]))

    def _send_soon(self) -> None:
        task = asyncio.create_task(self._send())
        self._sending.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # A background send (a timer's put) that failed: its keys are buffered again and
            # the dispatcher sends them on its next round; `flush` callers see the error.
            self._wakeup.set()

    async def _send(self) -> None:
        batch, self._buffer = self._buffer, []
        if not batch:
            return
        now = self._clock.now().timestamp()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for repo, key, due in batch:
                    await self._put(args=[self.prefix, repo, key, now, due], client=pipe)
                results = await pipe.execute()
        except Failure:
            self._buffer[:0] = batch  # sent again on the next put, flush or tick
            del self._buffer[:-BUFFER_AT_MOST]
            raise
        merged = sum(1 for r in results if not int(r))
        if merged:
            self.coalesced += merged
            self._metrics.coalesced.inc(merged)
        self._wakeup.set()

    async def _dispatch(self) -> None:
        """Claim jobs while a slot is free; wait for a wake-up or the poll otherwise."""
        slots = asyncio.Semaphore(self._concurrency)
        next_tick = 0.0
        while not self._closed:
            try:
                if self._buffer and not self._sending:
                    self._send_soon()
                loop_now = asyncio.get_running_loop().time()
                if self._tick_due or loop_now >= next_tick:
                    next_tick = loop_now + self.poll
                    await self.tick()
                await slots.acquire()
                self._wakeup.clear()  # a wake-up from now on is not missed by the rest below
                try:
                    claimed = await self.claim()
                except BaseException:
                    slots.release()
                    raise
                if claimed is None:
                    slots.release()
                    await self._rest()
                    continue
                task = asyncio.create_task(self._run(*claimed))
                self._running[task] = (claimed[0], claimed[2])
                task.add_done_callback(partial(self._done, slots))
            except asyncio.CancelledError:
                raise
            except Failure as exc:
                log(40, "queue cannot reach redis", error=type(exc).__name__)
                await asyncio.sleep(self.poll)
            except Exception:
                log_exception("queue dispatcher failed")
                await asyncio.sleep(self.poll)

    async def _rest(self) -> None:
        """Wait for a wake-up or the poll. (Not asyncio.timeout: on Python 3.11 a cancel that
        meets its expiry turns into a TimeoutError, and the dispatcher would never stop.)"""
        waiter = asyncio.ensure_future(self._wakeup.wait())
        try:
            await asyncio.wait({waiter}, timeout=self.poll)
        finally:
            waiter.cancel()

    def _done(self, slots: asyncio.Semaphore, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        slots.release()

    async def _run(self, repo: str, text: str, token: str) -> None:
        renewing = asyncio.create_task(self._keep(repo, token))
        requeue = False
        try:
            try:
                key = keys.load(text)
            except keys.UnknownKey as exc:
                log(40, "dropped a work key of an unknown type", repo=repo, error=str(exc))
                return
            await self._worker(key)
        except asyncio.CancelledError:
            requeue = True  # stopped before the job ended: another replica runs it
            raise
        except Exception:
            log(40, "job crashed", repo=repo)  # the worker logs and counts its own failures
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            try:
                await asyncio.shield(self.finish(repo, token, requeue=requeue))
            except Failure as exc:  # the lease runs out and a replica takes the job back
                log(40, "could not finish a job in redis", repo=repo, error=type(exc).__name__)
            self._wakeup.set()

    async def _keep(self, repo: str, token: str) -> None:
        """Renew the lease of a running job until it ends."""
        while True:
            await asyncio.sleep(self.renew)
            try:
                kept = await self._renew(args=[self.prefix, repo, token, self._wall() + self.lease])
            except Failure as exc:
                log(30, "could not renew a job's lease", repo=repo, error=type(exc).__name__)
                continue
            if not int(kept):
                log(30, "a job's lease was lost; another replica may run it again", repo=repo)
                return
