"""Waiting until the simulator and the bot have nothing left to do: the tests' and the sandbox's."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from ..app import Ringbot
from ..clock import ManualClock
from .simulator import Simulator


async def settle(sim: Simulator, bot: Ringbot, *, rounds: int = 50) -> None:
    """Wait until no webhook is in flight and the bot's queue is empty, twice in a row."""
    # On a ManualClock nothing waits itself out, so this moves the clock as far as the work in
    # flight needs: to the end of every sleep a job is in (a rate-limit wait, a request's retry
    # back-off), and through timers due within the debounce, so debounced keys run. Longer timers
    # (a failed job's retry, a bake time's end) are the caller's to reach, deliberately.
    clock = bot.clock if isinstance(bot.clock, ManualClock) else None
    quiet = 0
    for _ in range(rounds):
        await asyncio.sleep(0)  # callbacks a clock move scheduled run first
        await sim.settle()
        if clock is None:
            await bot.queue.join()
        else:
            await _run_down(bot, clock)
            horizon = clock.now() + timedelta(seconds=bot.settings.debounce_seconds)
            due = clock.next_due()
            if due is not None and due <= horizon:
                clock.advance_to(due)
                quiet = 0
                continue
        await asyncio.sleep(0)
        if sim.idle and bot.queue.idle:
            quiet += 1
            if quiet >= 2:
                return
        else:
            quiet = 0
    raise RuntimeError(f"the simulator and the bot did not settle in {rounds} rounds")


async def _run_down(bot: Ringbot, clock: ManualClock) -> None:
    """Wait until no job is ready or running, waking every job that sleeps on the clock."""
    while True:
        wake = clock.next_wake()
        if wake is not None:
            clock.advance_to(wake)
            await asyncio.sleep(0)
            continue
        running = asyncio.ensure_future(bot.queue.join_running())
        sleeping = asyncio.ensure_future(clock.sleeping())
        try:
            await asyncio.wait({running, sleeping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            running.cancel()
            sleeping.cancel()
        if running.done() and not running.cancelled() and clock.next_wake() is None:
            return
