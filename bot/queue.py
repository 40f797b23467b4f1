"""The in-process work queue: serial per repository, coalescing identical keys, bounded concurrency."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Protocol

from .clock import Clock, SystemClock, Timer
from .logs import log
from .metrics import Metrics


class WorkKey(Hashable, Protocol):
    """A frozen, hashable description of work: equal keys are the same work."""

    @property
    def repo(self) -> str: ...

    @property
    def installation(self) -> int: ...


Worker = Callable[[WorkKey], Awaitable[None]]


class WorkQueue:
    """Runs one job at a time per repository and at most `concurrency` jobs overall.

    A key that is already waiting is not queued again (a burst of events about one pull
    request becomes one evaluation). A key whose job is running is queued once more, since
    the state it read may already be stale: level-triggered work must look again.
    """

    def __init__(
        self, worker: Worker, *, concurrency: int, metrics: Metrics, clock: Clock | None = None
    ) -> None:
        self._worker = worker
        self._concurrency = concurrency
        self._metrics = metrics
        self._clock = clock or SystemClock()
        self._pending: dict[str, OrderedDict[WorkKey, None]] = {}
        self._ready: deque[str] = deque()
        self._busy: set[str] = set()
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        # Nothing ready or running (keys may still be waiting out their delay on the clock).
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._tasks: list[asyncio.Task[None]] = []
        self._delayed: dict[WorkKey, Timer] = {}
        self._closed = False
        self.coalesced = 0

    def start(self) -> None:
        """Start the workers on the running loop."""
        self._tasks = [asyncio.create_task(self._run()) for _ in range(self._concurrency)]

    def put(self, key: WorkKey, delay: float = 0.0) -> bool:
        """Queue a key, after `delay` seconds if given (so a burst of events lands in one job).

        False if it merged into an identical waiting key, or the queue is closed.
        """
        if self._closed:
            return False
        if key in self._delayed or key in self._pending.get(key.repo, ()):
            self.coalesced += 1
            self._metrics.coalesced.inc()
            return False
        self._idle.clear()
        if delay > 0:
            self._delayed[key] = self._clock.call_later(delay, self._release, key)
        else:
            self._enqueue(key)
        return True

    def _release(self, key: WorkKey) -> None:
        # Work accepted before a close still runs: the drain waits for it.
        if self._delayed.pop(key, None) is not None:
            self._enqueue(key)

    def _enqueue(self, key: WorkKey) -> None:
        pending = self._pending.setdefault(key.repo, OrderedDict())
        if key in pending:
            self.coalesced += 1
            self._metrics.coalesced.inc()
            return
        pending[key] = None
        self._quiet.clear()
        if key.repo not in self._busy and key.repo not in self._ready:
            self._ready.append(key.repo)
        self._wakeup.set()
        self._metrics.queue_depth.set(self.depth)

    def _maybe_idle(self) -> None:
        if not self._busy and not self._ready:
            self._quiet.set()
            if not self._delayed:
                self._idle.set()

    @property
    def depth(self) -> int:
        """How many keys are waiting."""
        return sum(len(p) for p in self._pending.values())

    @property
    def idle(self) -> bool:
        """Nothing is waiting, delayed or running."""
        return self._idle.is_set()

    async def join(self) -> None:
        """Wait until nothing is waiting or running."""
        await self._idle.wait()

    async def join_running(self) -> None:
        """Wait until nothing is ready or running; delayed keys may still wait on the clock."""
        await self._quiet.wait()

    async def close(self, timeout: float) -> None:
        """Stop taking work, let in-flight and waiting work finish for up to `timeout`, then stop."""
        self._closed = True
        # No event can join a burst any more, so a delayed key has nothing left to wait for:
        # it runs now rather than at the end of its delay.
        for key, timer in list(self._delayed.items()):
            timer.cancel()
            self._release(key)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log(30, "queue drain timed out", waiting=self.depth, running=len(self._busy))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            if not self._ready:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            repo = self._ready.popleft()
            pending = self._pending[repo]
            key, _ = pending.popitem(last=False)
            self._busy.add(repo)
            self._metrics.queue_depth.set(self.depth)
            try:
                await self._worker(key)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The worker logs and counts its own failures; the queue must survive them.
                log(40, "job crashed", key=repr(key))
            finally:
                self._busy.discard(repo)
                if pending:
                    self._ready.append(repo)
                    self._wakeup.set()
                else:
                    self._pending.pop(repo, None)
                self._maybe_idle()


class Queue(Protocol):
    """What Ringbot, JobRunner and settle use of a work queue: WorkQueue in one process, or
    bot.replicas' RedisWorkQueue shared by replicas."""

    coalesced: int

    def start(self) -> None: ...

    def put(self, key: WorkKey, delay: float = 0.0) -> bool: ...

    @property
    def depth(self) -> int: ...

    @property
    def idle(self) -> bool: ...

    async def join(self) -> None: ...

    async def join_running(self) -> None: ...

    async def close(self, timeout: float) -> None: ...
