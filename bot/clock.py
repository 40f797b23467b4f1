"""The one clock: what time it is, timers and sleeps; the system's, or one that tests move by hand.

Everything in the bot that waits (a debounce, a retry's back-off, a bake time's end, a rate-limit
wait) waits on the injected `Clock`, so a test can move time instead of sleeping through it. Socket
deadlines (a request's time-out, a webhook body's read deadline, the shutdown drain) stay on real
time: they bound what the outside world may cost us, not when the bot's work is due.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


class Timer(Protocol):
    """A scheduled callback that has not run yet."""

    def cancel(self) -> None:
        """Do not run it (nothing happens if it has run already)."""


class Clock(Protocol):
    """Now, timers and sleeps. Timers take a callback and its arguments, nothing else, so that
    they could be kept outside the process (a later issue may keep them in Redis)."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...

    def call_later(self, seconds: float, callback: Callable[..., object], *args: Any) -> Timer:
        """Run `callback(*args)` on the event loop after `seconds` (at once when not positive)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return after `seconds`."""
        ...


class SystemClock:
    """Real time: the wall clock for now, the running event loop for timers and sleeps."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return datetime.now(UTC)

    def call_later(self, seconds: float, callback: Callable[..., object], *args: Any) -> Timer:
        """Run `callback(*args)` on the running loop after `seconds`."""
        return asyncio.get_running_loop().call_later(max(0.0, seconds), callback, *args)

    async def sleep(self, seconds: float) -> None:
        """Return after `seconds`, without blocking the loop."""
        await asyncio.sleep(max(0.0, seconds))


@dataclass(eq=False)
class _Pending:
    """A timer or a sleep of a ManualClock: due when, what to run, and on which loop."""

    due: datetime
    seq: int
    callback: Callable[..., object]
    args: tuple[Any, ...]
    loop: asyncio.AbstractEventLoop | None
    sleep: bool
    owner: ManualClock = field(repr=False)

    def cancel(self) -> None:
        """Do not run it (nothing happens if it has run already)."""
        self.owner._drop(self)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class ManualClock:
    """A clock that moves only when told: `advance(hours=1)` or `advance_to(when)`.

    Moving it runs every timer that came due, in due order, each scheduled on its loop with
    `call_soon` (so callbacks run on the loop, after the caller yields), and wakes the sleeps
    whose time came. Calling the clock returns now, so it can stand wherever a `now` callable
    is expected (the simulator takes one).
    """

    def __init__(self, start: datetime | None = None) -> None:
        # Whole seconds: GitHub's timestamps have no fractions, so tests can compare them with now.
        start = start or datetime.now(UTC).replace(microsecond=0)
        if start.tzinfo is None:
            raise ValueError("a ManualClock needs an aware start time")
        self._now = start.astimezone(UTC)
        self._pending: list[_Pending] = []  # sorted by (due, seq)
        self._seq = itertools.count()
        self._sleep_waiters: list[asyncio.Future[None]] = []

    def __call__(self) -> datetime:
        return self._now

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return self._now

    def call_later(self, seconds: float, callback: Callable[..., object], *args: Any) -> Timer:
        """Run `callback(*args)` once the clock has moved `seconds` on (soon if not positive)."""
        loop = _running_loop()
        if seconds <= 0 and loop is not None:
            return loop.call_soon(callback, *args)
        return self._add(seconds, callback, args, sleep=False)

    async def sleep(self, seconds: float) -> None:
        """Return once the clock has moved `seconds` on (just yield when not positive)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        timer = self._add(seconds, _wake, (woken,), sleep=True)
        for waiter in self._sleep_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._sleep_waiters.clear()
        try:
            await woken
        finally:
            timer.cancel()  # a cancelled sleeper must not look like one still waiting

    def advance(self, **delta: float) -> None:
        """Move time forward by a timedelta's arguments, e.g. advance(hours=24)."""
        self.advance_to(self._now + timedelta(**delta))

    def advance_to(self, when: datetime) -> None:
        """Move time forward to `when` and run what came due, in due order."""
        if when < self._now:
            raise ValueError(f"time moves only forward: {when} is before {self._now}")
        self._now = when
        while self._pending and self._pending[0].due <= when:
            item = self._pending.pop(0)
            loop = item.loop or _running_loop()
            if loop is None or loop.is_closed():
                item.callback(*item.args)  # no loop to run on (a synchronous caller): run it now
            else:
                loop.call_soon(item.callback, *item.args)

    def next_due(self) -> datetime | None:
        """When the next timer or sleep is due; None when nothing waits on this clock."""
        return self._pending[0].due if self._pending else None

    def next_wake(self) -> datetime | None:
        """When the next sleep ends; None when no task sleeps on this clock."""
        return next((item.due for item in self._pending if item.sleep), None)

    async def sleeping(self) -> None:
        """Return once some task sleeps on this clock (at once if one already does)."""
        if self.next_wake() is not None:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleep_waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._sleep_waiters:
                self._sleep_waiters.remove(waiter)

    def _add(
        self, seconds: float, callback: Callable[..., object], args: tuple[Any, ...], *, sleep: bool
    ) -> _Pending:
        due = self._now + timedelta(seconds=max(0.0, seconds))
        item = _Pending(due, next(self._seq), callback, args, _running_loop(), sleep, self)
        bisect.insort(self._pending, item, key=lambda p: (p.due, p.seq))
        return item

    def _drop(self, item: _Pending) -> None:
        if item in self._pending:
            self._pending.remove(item)


def _wake(woken: asyncio.Future[None]) -> None:
    if not woken.done():
        woken.set_result(None)
