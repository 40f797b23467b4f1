"""The clock: ManualClock (time moves only when told) and SystemClock, one behaviour per row."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import Clock, ManualClock, SystemClock

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


async def turns(n: int = 5) -> None:
    """Let the loop run callbacks and woken tasks a few times."""
    for _ in range(n):
        await asyncio.sleep(0)


async def now_is_the_start(clock: ManualClock) -> object:
    return clock.now(), clock()


async def advance_moves_now(clock: ManualClock) -> object:
    clock.advance(hours=1, seconds=30)
    return clock.now() - START


async def advance_to_moves_now(clock: ManualClock) -> object:
    clock.advance_to(START + timedelta(days=2))
    return clock()


async def a_timer_waits_until_it_is_due(clock: ManualClock) -> object:
    ran: list[str] = []
    clock.call_later(10, ran.append, "due")
    clock.advance(seconds=9.999)
    await turns()
    before = list(ran)
    clock.advance(seconds=0.001)
    await turns()
    return before, ran


async def timers_run_in_due_order(clock: ManualClock) -> object:
    ran: list[str] = []
    for n, seconds in enumerate((3, 1, 2, 1)):
        clock.call_later(seconds, ran.append, f"{seconds}s #{n}")  # equal times: in the order set
    clock.advance(seconds=5)
    await turns()
    return ran


async def a_timer_runs_on_the_loop_not_inside_advance(clock: ManualClock) -> object:
    ran: list[str] = []
    clock.call_later(1, ran.append, "x")
    clock.advance(seconds=1)
    inside = list(ran)
    await turns()
    return inside, ran


async def a_cancelled_timer_never_runs(clock: ManualClock) -> object:
    ran: list[str] = []
    clock.call_later(1, ran.append, "x").cancel()
    clock.advance(seconds=2)
    await turns()
    return ran, clock.next_due()


async def a_timer_due_now_runs_without_a_move(clock: ManualClock) -> object:
    ran: list[str] = []
    clock.call_later(0, ran.append, "now")
    clock.call_later(-5, ran.append, "past")
    await turns()
    return ran, clock.now()


async def a_sleep_ends_when_the_clock_reaches_it(clock: ManualClock) -> object:
    sleeper = asyncio.ensure_future(clock.sleep(60))
    await turns()
    clock.advance(seconds=59)
    await turns()
    before = sleeper.done()
    clock.advance(seconds=1)
    await turns()
    return before, sleeper.done()


async def a_sleep_of_nothing_only_yields(clock: ManualClock) -> object:
    await clock.sleep(0)
    return clock.next_due(), clock.now()


async def next_due_is_the_earliest_timer_or_sleep(clock: ManualClock) -> object:
    empty = clock.next_due()
    clock.call_later(30, lambda: None)
    sleeper = asyncio.ensure_future(clock.sleep(20))
    await turns()
    due = clock.next_due()
    sleeper.cancel()
    await turns()
    return empty, due, clock.next_due()


async def next_wake_sees_only_sleeps(clock: ManualClock) -> object:
    clock.call_later(5, lambda: None)
    timers_only = clock.next_wake()
    sleeper = asyncio.ensure_future(clock.sleep(50))
    await turns()
    wake = clock.next_wake()
    sleeper.cancel()
    await turns()
    return timers_only, wake, clock.next_wake()


async def sleeping_returns_once_a_task_sleeps(clock: ManualClock) -> object:
    watcher = asyncio.ensure_future(clock.sleeping())
    await turns()
    before = watcher.done()
    sleeper = asyncio.ensure_future(clock.sleep(1))
    await turns()
    after = watcher.done()
    clock.advance(seconds=1)
    await sleeper
    return before, after


async def moving_back_is_refused(clock: ManualClock) -> object:
    with pytest.raises(ValueError, match="only forward"):
        clock.advance_to(START - timedelta(seconds=1))
    return clock()


MANUAL: list[tuple[Callable[[ManualClock], Awaitable[object]], object]] = [
    (now_is_the_start, (START, START)),
    (advance_moves_now, timedelta(hours=1, seconds=30)),
    (advance_to_moves_now, START + timedelta(days=2)),
    (a_timer_waits_until_it_is_due, ([], ["due"])),
    (timers_run_in_due_order, ["1s #1", "1s #3", "2s #2", "3s #0"]),
    (a_timer_runs_on_the_loop_not_inside_advance, ([], ["x"])),
    (a_cancelled_timer_never_runs, ([], None)),
    (a_timer_due_now_runs_without_a_move, (["now", "past"], START)),
    (a_sleep_ends_when_the_clock_reaches_it, (False, True)),
    (a_sleep_of_nothing_only_yields, (None, START)),
    (
        next_due_is_the_earliest_timer_or_sleep,
        (None, START + timedelta(seconds=20), START + timedelta(seconds=30)),
    ),
    (next_wake_sees_only_sleeps, (None, START + timedelta(seconds=50), None)),
    (sleeping_returns_once_a_task_sleeps, (False, True)),
    (moving_back_is_refused, START),
]


@pytest.mark.parametrize(
    ("scenario", "expected"), [pytest.param(s, e, id=s.__name__) for s, e in MANUAL]
)
async def test_manual_clock(
    scenario: Callable[[ManualClock], Awaitable[object]], expected: object
) -> None:
    assert await scenario(ManualClock(START)) == expected


def test_a_manual_clock_starts_on_a_whole_second_of_now_by_default() -> None:
    clock = ManualClock()
    assert clock().microsecond == 0 and clock().tzinfo is UTC
    assert abs(clock() - datetime.now(UTC)) < timedelta(seconds=2)


def test_a_manual_clock_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="aware"):
        ManualClock(datetime(2024, 5, 1))


def test_a_timer_set_without_a_loop_runs_when_the_clock_moves() -> None:
    clock, ran = ManualClock(START), list[str]()
    clock.call_later(1, ran.append, "x")
    clock.advance(seconds=1)
    assert ran == ["x"]


async def system_now_is_aware_utc(clock: SystemClock) -> object:
    now = clock.now()
    return now.tzinfo is UTC and abs(now - datetime.now(UTC)) < timedelta(seconds=2)


async def system_timer_not_positive_runs_soon(clock: SystemClock) -> object:
    ran: list[str] = []
    clock.call_later(-1, ran.append, "x")
    await turns()
    return ran == ["x"]


async def system_cancelled_timer_never_runs(clock: SystemClock) -> object:
    ran: list[str] = []
    clock.call_later(0, ran.append, "x").cancel()
    await turns()
    return ran == []


async def system_sleep_not_positive_returns_at_once(clock: SystemClock) -> object:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await clock.sleep(-3)
    return loop.time() - started < 1


SYSTEM = [
    system_now_is_aware_utc,
    system_timer_not_positive_runs_soon,
    system_cancelled_timer_never_runs,
    system_sleep_not_positive_returns_at_once,
]


@pytest.mark.parametrize("scenario", [pytest.param(s, id=s.__name__) for s in SYSTEM])
async def test_system_clock(scenario: Callable[[SystemClock], Awaitable[object]]) -> None:
    assert await scenario(SystemClock()) is True


def test_both_clocks_are_clocks() -> None:
    clocks: list[Clock] = [SystemClock(), ManualClock(START)]
    assert all(isinstance(c.now(), datetime) for c in clocks)
