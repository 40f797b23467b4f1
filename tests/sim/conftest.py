"""Fixtures for the simulator's own tests: a started Simulator, a recording REST client, a repo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from bot.clock import ManualClock
from bot.sim import Simulator

from ..builders.sim import widgets
from .api import Api


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[Simulator]:
    """A started simulator without a webhook receiver (deliveries are recorded)."""
    s = Simulator(webhook_secret="s3cret", clock=clock)
    await s.start()
    yield s
    await s.close()


@pytest.fixture
async def api(sim: Simulator) -> AsyncIterator[Api]:
    """A REST client for the simulator."""
    async with aiohttp.ClientSession() as session:
        yield Api(sim, session)


@pytest.fixture
def repo(sim: Simulator) -> str:
    """acme/widgets with a config file and alice (write), bob (none) and mia (maintain)."""
    return widgets(sim)


@dataclass
class Received:
    """A webhook the test receiver got: headers and raw body."""

    headers: dict[str, str]
    body: bytes


@pytest.fixture
async def receiver(sim: Simulator) -> AsyncIterator[list[Received]]:
    """A local webhook endpoint wired to sim.webhook_url; yields what it received."""
    got: list[Received] = []

    async def hook(request: web.Request) -> web.Response:
        got.append(Received(dict(request.headers), await request.read()))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/webhook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    sim.webhook_url = f"http://127.0.0.1:{port}/webhook"
    yield got
    await runner.cleanup()
