"""The end-to-end world: the simulator, the real bot app between them optionally Prism, one clock."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import RINGBOT, Ringbot, create_app
from bot.clock import ManualClock
from bot.context import Ctx
from bot.settings import Settings
from bot.sim import Simulator
from bot.sim.settle import _run_down, settle

ROOT = Path(__file__).resolve().parent.parent
NPM = ROOT / ".cache" / "npm" / "node_modules"
SPEC = NPM / "@octokit" / "openapi" / "generated" / "api.github.com.json"
SECRET = "test-webhook-secret"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Prism:
    """`prism proxy --errors` with GitHub's OpenAPI description, in front of a fixed simulator port."""

    def __init__(self) -> None:
        self.sim_port = free_port()
        self.port = free_port()
        self.log_path = ROOT / ".cache" / "prism.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._offset = 0
        self.validated = 0
        self.rejected: list[str] = []

    def start(self) -> None:
        """Boot Prism (about 12-20 s on the 13 MB description) and wait until it answers."""
        if not SPEC.exists():
            raise RuntimeError(
                "GitHub's OpenAPI description is missing: run scripts/bootstrap --npm"
            )
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            [
                str(NPM / ".bin" / "prism"),
                "proxy",
                "--errors",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                str(SPEC),
                f"http://127.0.0.1:{self.sim_port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"prism exited: see {self.log_path}")
            if "Prism is listening" in self.log_path.read_text(errors="replace"):
                self._offset = self.log_path.stat().st_size
                return
            time.sleep(0.25)
        raise RuntimeError("prism did not start within 120 s")

    def take_log(self) -> tuple[int, list[str]]:
        """Requests seen and rejections logged since the last call."""
        with self.log_path.open("rb") as f:
            f.seek(self._offset)
            text = f.read().decode(errors="replace")
            self._offset = f.tell()
        lines = text.splitlines()
        seen = sum("Request received" in line for line in lines)
        rejected = [line for line in lines if "Request terminated with error" in line]
        self.validated += seen - len(rejected)
        self.rejected += rejected
        return seen, rejected

    def stop(self) -> None:
        """Stop Prism."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)


@dataclass
class World:
    """A simulator, a running bot wired to it, and helpers to drive and wait on both."""

    sim: Simulator
    bot: Ringbot
    clock: ManualClock
    bot_url: str
    api_url: str
    settings: Settings | None = None
    runner: web.AppRunner | None = None

    async def restart_bot(self) -> None:
        """Stop the bot and start a fresh one (no memory at all) on a new port."""
        assert self.runner is not None and self.settings is not None
        await self.runner.cleanup()
        self.runner, self.bot, self.bot_url = await start_bot(self.settings, self.clock)
        self.sim.webhook_url = f"{self.bot_url}/webhook"

    async def settle(self, rounds: int = 50) -> None:
        """Wait until the simulator and the bot are idle, moving the clock only as bot.sim.settle does."""
        await settle(self.sim, self.bot, rounds=rounds)

    def sim_is_idle(self) -> bool:
        """True when the simulator has nothing queued to deliver."""
        return bool(getattr(self.sim, "idle", True))

    async def ctx(self, repo: str) -> Ctx:
        """What a job of the running bot works with, for `repo`: to drive one writer directly."""
        installation = self.sim.repo(repo).installation_id
        assert installation is not None, f"{repo} has no installation"
        identity = await self.bot.identity.load()
        gh = await self.bot.github.installation_client(installation)
        return Ctx(gh, installation, repo, identity, self.clock.now, self.bot.caches)

    async def deliver(
        self,
        event: str,
        payload: dict[str, Any] | bytes,
        *,
        secret: str = SECRET,
        delivery: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        """POST a signed webhook straight to the bot, as GitHub would."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        sent = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": sig,
            "Content-Type": "application/json",
        }
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v is not None}
        async with aiohttp.ClientSession() as s:
            resp = await s.post(f"{self.bot_url}/webhook", data=body, headers=sent)
            await resp.read()
            return resp


@asynccontextmanager
async def world(
    prism: Prism | None = None, clock: ManualClock | None = None
) -> AsyncIterator[World]:
    """Start the simulator and the bot (through Prism when given) on one clock; stop both after."""
    clock = clock or ManualClock()
    sim = Simulator(webhook_secret=SECRET, clock=clock)
    sim_url = await sim.start(port=prism.sim_port if prism else 0)
    api_url = prism.url if prism else sim_url
    sim.public_url = api_url
    settings = bot_settings(sim, api_url)
    runner, bot, bot_url = await start_bot(settings, clock)
    sim.webhook_url = f"{bot_url}/webhook"
    running = World(sim, bot, clock, bot_url, api_url, settings, runner)
    try:
        yield running
    finally:
        if running.runner is not None:
            await running.runner.cleanup()
        await sim.close()


def bot_settings(sim: Simulator, api_url: str, **extra: Any) -> Settings:
    """A bot's settings for this simulator, with the tests' short waits (debounce, retries)."""
    fields: dict[str, Any] = {
        "drain_seconds": 5.0,
        "max_wait_seconds": 5.0,
        "debounce_seconds": 0.05,
        "retry_seconds": 0.2,
    }
    return Settings(
        app_id=str(sim.app_id),
        private_key=sim.private_key_pem,
        webhook_secret=SECRET,
        api_url=api_url,
        **(fields | extra),
    )


async def start_bot(settings: Settings, clock: ManualClock) -> tuple[web.AppRunner, Ringbot, str]:
    """The real bot app on the tests' clock, served on a free local port."""
    app = create_app(settings, clock=clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    bot = app[RINGBOT]
    # Start-up reads the App's identity in the background; a test begins once it is known (or
    # GitHub refused it), so no read of it is still in flight when the test's world shuts down.
    with contextlib.suppress(Exception):
        await bot.identity.load()
    return runner, bot, f"http://127.0.0.1:{port}"


def prism_enabled() -> bool:
    """The conformance run: RINGBOT_PRISM=1."""
    return os.environ.get("RINGBOT_PRISM") == "1"


class Forwarder:
    """A round-robin balancer in front of replicas that also sends every delivery a second time,
    at once, to the next replica (GitHub plus a redelivery racing it): the answer is the best of
    the two."""

    HEADERS = ("X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256", "Content-Type")

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets  # base URLs of the replicas
        self.answers: list[tuple[int, int]] = []  # per delivery: the two replicas' statuses
        self._turn = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> str:
        """Serve on a free port; its base URL."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/webhook", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self._session = aiohttp.ClientSession()
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def _post(self, target: str, body: bytes, headers: dict[str, str]) -> int:
        assert self._session is not None
        async with self._session.post(f"{target}/webhook", data=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {h: request.headers[h] for h in self.HEADERS if h in request.headers}
        first = self.targets[self._turn % len(self.targets)]
        second = self.targets[(self._turn + 1) % len(self.targets)]
        self._turn += 1
        statuses = await asyncio.gather(
            self._post(first, body, headers), self._post(second, body, headers)
        )
        self.answers.append((statuses[0], statuses[1]))
        ok = [s for s in statuses if s < 300]
        return web.Response(status=min(ok) if ok else max(statuses))

    async def close(self) -> None:
        """Stop serving."""
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class ReplicaWorld(World):
    """Several bot replicas sharing one Redis behind a Forwarder; `bot` is the first of them."""

    bots: list[Ringbot] = field(default_factory=list)
    runners: list[web.AppRunner] = field(default_factory=list)
    forwarder: Forwarder | None = None

    async def settle(self, rounds: int = 200) -> None:
        """Wait until the simulator and every replica are idle (the shared queue included),
        moving the clock only as bot.sim.settle does."""
        quiet = 0
        debounce = self.bots[0].settings.debounce_seconds
        for _ in range(rounds):
            await asyncio.sleep(0)
            await self.sim.settle()
            for bot in self.bots:
                await _run_down(bot, self.clock)
            due = self.clock.next_due()
            if due is not None and due <= self.clock.now() + timedelta(seconds=debounce):
                self.clock.advance_to(due)
                quiet = 0
                continue
            await asyncio.sleep(0)
            if self.sim.idle and all(bot.queue.idle for bot in self.bots):
                quiet += 1
                if quiet >= 2:
                    return
            else:
                quiet = 0
        raise RuntimeError(f"the simulator and the replicas did not settle in {rounds} rounds")


@asynccontextmanager
async def replicas_world(
    redis_url: str, replicas: int = 3, clock: ManualClock | None = None
) -> AsyncIterator[ReplicaWorld]:
    """The simulator and `replicas` bots on one Redis and one clock, behind a Forwarder."""
    clock = clock or ManualClock()
    sim = Simulator(webhook_secret=SECRET, clock=clock)
    api_url = await sim.start(port=0)
    sim.public_url = api_url
    settings = bot_settings(sim, api_url, redis_url=redis_url)
    started = [await start_bot(settings, clock) for _ in range(replicas)]
    forwarder = Forwarder([url for _, _, url in started])
    url = await forwarder.start()
    sim.webhook_url = f"{url}/webhook"
    running = ReplicaWorld(
        sim,
        started[0][1],
        clock,
        url,
        api_url,
        settings,
        None,
        bots=[bot for _, bot, _ in started],
        runners=[runner for runner, _, _ in started],
        forwarder=forwarder,
    )
    try:
        yield running
    finally:
        await forwarder.close()
        for runner in running.runners:
            await runner.cleanup()
        await sim.close()
