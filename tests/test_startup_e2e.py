"""Start-up with GitHub out of reach: ringbot listens at once. /healthz answers and deliveries are
acknowledged (within GitHub's 10 s, which the simulator's deliverer enforces) while the first
request to GitHub, GET /app, still hangs; the App's own echoes are still ignored before the
identity is known; once GitHub answers, the queued work completes. And a stop while GitHub still
hangs ends cleanly.

"Answered before GitHub was reached" is asserted by ordering: the bot's GET /app is still open at
the gate (neither answered nor given up by the bot) when /healthz and the deliveries are answered.
A bound appears only where a failure would otherwise hang the test: far above what a pass takes,
and below what the old start-up took (it waited for GET /app, through every retry)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict

from bot.app import RINGBOT, Ringbot, create_app
from bot.clock import ManualClock
from bot.policy.gate import GATE_CHECK_NAME
from bot.settings import Settings
from bot.sim import Simulator

from .bot_process import BotProcess, bot_env
from .builders import REPO, build, gate_runs, head, open_pr, setup_repo, verdict
from .harness import SECRET, World, bot_settings, free_port

pytestmark = pytest.mark.e2e

# A GitHub request's time-out in the in-process tests: far above any wait here, so the bot never
# gives up on the held GET /app by itself (the old start-up then never listened at all).
HANGS = 600.0
# The most a failure may hang a test (the old start-up in-process would wait HANGS per attempt).
BOUND = 30.0
POLL = 0.02
BOT = Path(__file__).resolve().parent.parent / "bot"
HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class Gate:
    """GitHub that hangs: it takes every request and answers none until `open()`; then each one,
    the held ones first, is passed to the simulator and its answer passed back."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.held: list[web.Request] = []  # every request that arrived while it was closed
        self.answered = 0
        self._open = asyncio.Event()
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self, port: int = 0, *, open_: bool = False) -> str:
        """Serve on `port` of 127.0.0.1 (0: a free one), closed unless `open_`; its base URL."""
        if open_:
            self._open.set()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        port = port or free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self._session = aiohttp.ClientSession(auto_decompress=False)
        return f"http://127.0.0.1:{port}"

    def open(self) -> None:
        """GitHub answers from now on, held requests first."""
        self._open.set()

    def waiting(self, what: str) -> int:
        """Held requests for `what` ("GET /app") whose sender still waits for the answer."""
        return sum(
            1
            for r in self.held
            if f"{r.method} {r.path}" == what
            and r.transport is not None
            and not r.transport.is_closing()
        )

    def hung_up(self) -> int:
        """Held requests whose sender gave up waiting (it timed out, or stopped)."""
        return sum(1 for r in self.held if r.transport is None or r.transport.is_closing())

    async def arrival(self, what: str) -> None:
        """Return once a request for `what` is held."""
        while not any(f"{r.method} {r.path}" == what for r in self.held):
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), BOUND)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not self._open.is_set():
            self.held.append(request)
            self._arrived.set()
            await self._open.wait()
        assert self._session is not None
        body = await request.read()
        sent = CIMultiDict(
            (k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP
        )
        async with self._session.request(
            request.method, self.upstream + request.path_qs, headers=sent, data=body
        ) as resp:
            data = await resp.read()
            back = CIMultiDict(
                (k, v) for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP
            )
            self.answered += 1
            return web.Response(status=resp.status, body=data, headers=back)

    async def close(self) -> None:
        """Stop serving (held requests are let through first)."""
        self._open.set()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()


async def serve(settings: Settings, clock: ManualClock) -> tuple[web.AppRunner, Ringbot, str]:
    """The real bot app served on a free port, as `python -m bot` does it: the startup hooks
    run, then the server listens (and nothing more: no waiting for the bot's background work)."""
    app = create_app(settings, clock=clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, app[RINGBOT], f"http://127.0.0.1:{port}"


def bot_tasks() -> list[asyncio.Task[Any]]:
    """Pending tasks running ringbot's own code (the simulator's left out)."""
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        where = Path(code.co_filename) if code is not None else None
        if (
            not task.done()
            and where is not None
            and where.is_relative_to(BOT)
            and not where.is_relative_to(BOT / "sim")
        ):
            found.append(task)
    return found


async def healthz(url: str) -> tuple[int, dict[str, Any]]:
    """GET /healthz: its status and JSON body."""
    timeout = aiohttp.ClientTimeout(total=BOUND)
    async with aiohttp.ClientSession(timeout=timeout) as s, s.get(f"{url}/healthz") as resp:
        return resp.status, await resp.json()


def answers(sim: Simulator) -> list[int | None]:
    """Every delivery's answer, in order (None: no HTTP answer within GitHub's 10 s)."""
    return [d.status_code for d in sim.deliveries]


def acknowledged(sim: Simulator) -> bool:
    """Every delivery so far was answered 2xx."""
    return all(code is not None and 200 <= code < 300 for code in answers(sim))


@asynccontextmanager
async def hanging_github(clock: ManualClock | None = None) -> AsyncIterator[tuple[Simulator, Gate]]:
    """The simulator behind a closed Gate: the bot's GitHub hangs until the test opens it."""
    sim = (
        Simulator(webhook_secret=SECRET, clock=clock) if clock else Simulator(webhook_secret=SECRET)
    )
    gate = Gate(await sim.start())
    sim.public_url = await gate.start()  # every URL GitHub hands out goes through the gate too
    try:
        yield sim, gate
    finally:
        await gate.close()
        await sim.close()


async def test_healthz_and_deliveries_are_answered_while_github_hangs() -> None:
    clock = ManualClock()
    async with hanging_github(clock) as (sim, gate):
        settings = bot_settings(sim, sim.public_url, request_timeout=HANGS)
        # The server listens while GitHub has answered nothing.
        runner, bot, bot_url = await asyncio.wait_for(serve(settings, clock), BOUND)
        w = World(sim, bot, clock, bot_url, sim.public_url, settings, runner)
        try:
            assert gate.answered == 0
            await gate.arrival("GET /app")  # the bot asks who it is, in the background

            status, body = await healthz(bot_url)
            assert status == 200 and body["status"] == "ok"
            assert gate.waiting("GET /app") == 1 and gate.answered == 0

            sim.webhook_url = f"{bot_url}/webhook"
            setup_repo(w)
            main = sim.repo(REPO).branches["main"]
            # Our own check run's echoes: recognised by the App id from the settings.
            sim.set_check_run(REPO, main, GATE_CHECK_NAME, app=sim.github_app.slug)
            await sim.settle()
            assert any(d.event == "check_run" for d in sim.deliveries)
            assert acknowledged(sim), answers(sim)
            assert bot.queue.idle and bot.identity.known is None  # ignored, nothing queued

            number = open_pr(w)
            build(w, head(w, number))
            sim.review(REPO, number, "alice", "APPROVED")
            await sim.settle()
            assert acknowledged(sim), answers(sim)
            assert not bot.queue.idle  # the gate's work waits for GitHub
            assert gate.waiting("GET /app") == 1 and gate.answered == 0
            assert not gate_runs(w, head(w, number))

            gate.open()  # GitHub answers: the queued work completes
            await w.settle()
            assert bot.identity.known is not None and bot.identity.known.slug == "ringbot"
            assert verdict(w, number) == "success"
            assert len(gate_runs(w, head(w, number))) == 1
            assert acknowledged(sim), answers(sim)
        finally:
            await runner.cleanup()
        assert not bot_tasks()


async def test_a_stop_while_github_hangs_ends_its_background_work() -> None:
    clock = ManualClock()
    async with hanging_github(clock) as (sim, gate):
        settings = bot_settings(sim, sim.public_url, request_timeout=HANGS, drain_seconds=0.5)
        runner, bot, _ = await asyncio.wait_for(serve(settings, clock), BOUND)
        await gate.arrival("GET /app")
        assert bot_tasks(), "the identity read and catch-up's first pass wait on GitHub"
        # Catch-up's grace for a pass in flight, then the drain: not the request's time-out.
        await asyncio.wait_for(runner.cleanup(), BOUND)
        assert not bot_tasks()  # every background task of the bot was ended and awaited
        assert gate.waiting("GET /app") == 0  # the bot hung up on the read it gave up
        assert bot.identity.known is None and gate.answered == 0


async def test_github_refusing_connections_at_start_then_back() -> None:
    clock = ManualClock()
    sim = Simulator(webhook_secret=SECRET, clock=clock)
    await sim.start()
    port = free_port()  # nothing listens there: every connection is refused
    github = f"http://127.0.0.1:{port}"
    sim.public_url = github
    settings = bot_settings(sim, github)
    runner, bot, bot_url = await asyncio.wait_for(serve(settings, clock), BOUND)
    gate = Gate(cast(str, sim.url))
    w = World(sim, bot, clock, bot_url, github, settings, runner)
    try:
        status, _ = await healthz(bot_url)
        assert status == 200
        sim.webhook_url = f"{bot_url}/webhook"
        setup_repo(w)
        number = open_pr(w)
        build(w, head(w, number))
        sim.review(REPO, number, "alice", "APPROVED")
        await sim.settle()
        assert acknowledged(sim), answers(sim)
        assert bot.identity.known is None and not bot.queue.idle

        await gate.start(port, open_=True)  # GitHub is back, on the same address
        await w.settle()  # the retries' back-offs run out on the clock: the work completes
        assert bot.identity.known is not None
        assert verdict(w, number) == "success"
    finally:
        await runner.cleanup()
        await gate.close()
        await sim.close()


async def test_python_m_bot_serves_before_github_answers(tmp_path: Path) -> None:
    async with hanging_github() as (sim, gate):
        env = bot_env(sim, sim.public_url, secret=SECRET)
        bot = BotProcess("bot", env, tmp_path, wait=BOUND)
        started = time.monotonic()
        bot.start()
        try:
            await bot.ready()
            took = time.monotonic() - started
            # The first /healthz 200 came while GitHub had answered nothing, and no request of
            # the bot had been given up (the old start-up listened only once its four GET /app
            # had timed out, 10 s each).
            assert gate.answered == 0 and gate.hung_up() == 0
            await gate.arrival("GET /app")
            status, _ = await healthz(bot.url)
            assert status == 200 and gate.waiting("GET /app") == 1 and gate.answered == 0
            print(f"first /healthz 200 {took:.2f} s after the process started")

            w = cast(World, _Sim(sim))
            sim.webhook_url = f"{bot.url}/webhook"
            setup_repo(w)
            number = open_pr(w)
            build(w, head(w, number))
            sim.review(REPO, number, "alice", "APPROVED")
            await sim.settle()
            assert acknowledged(sim), answers(sim)
            assert gate.waiting("GET /app") == 1 and gate.answered == 0

            gate.open()
            deadline = time.monotonic() + BOUND * 2
            while not gate_runs(w, head(w, number)) or verdict(w, number) != "success":
                assert time.monotonic() < deadline, "the queued work did not complete"
                await asyncio.sleep(POLL)
        except BaseException:
            print(bot.output(), file=sys.stderr)
            raise
        finally:
            bot.kill()


class _Sim:
    """What the builders use of a World: the simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
