"""Fixtures for the simulator's own tests: a started Simulator and a recording REST client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import pytest

from bot.sim import Simulator

from ..harness import Clock

# The simulator's tests move time with the same clock as every other test.
ManualClock = Clock


@dataclass
class Resp:
    """A REST answer."""

    status: int
    headers: Any
    body: Any


@dataclass
class Call:
    """One recorded call, keyed by its OpenAPI path template."""

    method: str
    template: str
    status: int
    body: Any


class Api:
    """A small REST client that records (method, OpenAPI template, status, body)."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session
        self.calls: list[Call] = []
        self.auth: str | None = None

    def app_jwt(self, iat_offset: int = -30, exp_offset: int = 540, key: str | None = None) -> str:
        """An App JWT signed with the simulator's key (or another key)."""
        now = int(self.sim.clock().timestamp())
        claims = {"iat": now + iat_offset, "exp": now + exp_offset, "iss": str(self.sim.app_id)}
        return jwt.encode(claims, key or self.sim.private_key_pem, algorithm="RS256")

    async def login(self, repo: str) -> str:
        """Get an installation token through the App JWT flow and use it from now on."""
        jwt_auth = f"Bearer {self.app_jwt()}"
        inst = await self.call(
            "GET", "/repos/{owner}/{repo}/installation", auth=jwt_auth, **_split(repo)
        )
        tok = await self.call(
            "POST",
            "/app/installations/{installation_id}/access_tokens",
            auth=jwt_auth,
            installation_id=inst.body["id"],
        )
        self.auth = f"token {tok.body['token']}"
        return str(tok.body["token"])

    async def call(
        self,
        method: str,
        template: str,
        *,
        json: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: str | None = None,
        **params: Any,
    ) -> Resp:
        """Fill the template from params, send, record and return the answer."""
        path = re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), template)
        sent = {"Accept": "application/vnd.github+json", **(headers or {})}
        if auth or self.auth:
            sent["Authorization"] = auth or self.auth or ""
        async with self.session.request(
            method, f"{self.sim.url}{path}", json=json, params=query, headers=sent
        ) as r:
            raw = await r.read()
            body = None if not raw else await r.json(content_type=None)
            self.calls.append(Call(method, template, r.status, body))
            return Resp(r.status, r.headers, body)


def _split(repo: str) -> dict[str, str]:
    owner, name = repo.split("/")
    return {"owner": owner, "repo": name}


@pytest.fixture
def clock() -> ManualClock:
    """A hand-moved clock shared by the simulator."""
    return ManualClock()


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
    sim.create_repo("acme/widgets", files={".github/ringbot.yml": "merge_gate:\n  approvals: 1\n"})
    sim.add_collaborator("acme/widgets", "alice", "write")
    sim.add_collaborator("acme/widgets", "mia", "maintain")
    return "acme/widgets"


def split(repo: str) -> dict[str, str]:
    """owner/repo -> template params."""
    return _split(repo)


@dataclass
class Received:
    """A webhook the test receiver got: headers and raw body."""

    headers: dict[str, str]
    body: bytes


@pytest.fixture
async def receiver(sim: Simulator) -> AsyncIterator[list[Received]]:
    """A local webhook endpoint wired to sim.webhook_url; yields what it received."""
    from aiohttp import web

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
