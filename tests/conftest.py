"""Fixtures: `world` is the simulator and the real bot; in the conformance run, Prism sits between."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.clock import ManualClock

from .harness import Prism, World, prism_enabled, world
from .redis_server import RedisServer


@pytest.fixture(scope="session")
def prism() -> Iterator[Prism | None]:
    """One Prism for the whole conformance run; None in the ordinary run."""
    if not prism_enabled():
        yield None
        return
    p = Prism()
    p.start()
    _RUNS.append(p)
    yield p
    p.stop()


_RUNS: list[Prism] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many requests Prism validated in the conformance run."""
    for p in _RUNS:
        terminalreporter.write_line(
            f"prism: {p.validated} requests validated against GitHub's OpenAPI description, "
            f"{len(p.rejected)} rejected"
        )


@pytest.fixture
def clock() -> ManualClock:
    """The shared test clock: the bot and the simulator run on it, and only tests move it."""
    return ManualClock()


@pytest.fixture
async def w(prism: Prism | None, clock: ManualClock) -> AsyncIterator[World]:
    """A running world: every request found a simulator route, and in the conformance run every
    bot request went through Prism and passed."""
    async with world(prism, clock) as running:
        yield running
        unserved = [f"{r.method} {r.path} -> {r.status}" for r in running.sim.unrouted]
    rejected = prism.take_log()[1] if prism is not None else []
    assert not rejected, "Prism rejected requests:\n" + "\n".join(rejected)
    # A real GitHub serves these: a missing route is a gap in the simulator, not a 404 to expect.
    assert not unserved, "the simulator has no route for:\n" + "\n".join(unserved)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server of its own (empty, no persistence) on a free port; stopped after."""
    server = RedisServer()
    server.start()
    yield server
    server.close()
