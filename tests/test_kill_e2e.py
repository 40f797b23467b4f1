"""SIGKILL, for real: bots run as `python -m bot` subprocesses against the simulator of the test
process, on real time. A bot killed with work queued and in flight, and GitHub's deliveries made
while it was down, converge after a restart as if nothing had happened; three replicas on one
Redis, one killed while it holds jobs, lose nothing and do nothing twice.

Waiting is a bounded poll of the simulator's state (every 50 ms); a timeout says what was missing
and prints every process's stderr."""

from __future__ import annotations

import asyncio
import inspect
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.messages.visibility import STATUS_MARKER
from bot.sim import Simulator

from .bot_process import BotProcess, bot_env
from .builders import (
    REPO,
    TWO_RINGS,
    build,
    deployments,
    gate_runs,
    head,
    open_pr,
    reply_to,
    setup_repo,
    verdict,
)
from .harness import SECRET, Forwarder, World
from .redis_server import RedisServer

pytestmark = pytest.mark.e2e

POLL = 0.05  # seconds between two looks at the simulator
WAIT = 60.0  # the longest any one wait may take
LEASE = 2.0  # RINGBOT_LEASE_SECONDS for the replicas
LEASE_DEFAULT = 30.0  # what a dead replica's job waits when the setting is not wired through
SLOW = 5.0  # how long GitHub sits on the first reads of the burst (jobs hang in flight)


@dataclass
class Sim:
    """What the builders use of a World: the simulator."""

    sim: Simulator


def base_env(sim: Simulator, api_url: str) -> dict[str, str]:
    """What a bot needs to serve this simulator, with catch-up passes every second."""
    return bot_env(sim, api_url, secret=SECRET, RINGBOT_CATCHUP_SECONDS="1")


@asynccontextmanager
async def running(sim: Simulator, bots: list[BotProcess]) -> AsyncIterator[None]:
    """Every bot process is killed at the end; on failure their output is printed."""
    try:
        yield
    except BaseException:
        for bot in bots:
            print(bot.output(), file=sys.stderr)
        raise
    finally:
        for bot in bots:
            bot.kill()
        await sim.close()


Missing = Callable[[], "str | Awaitable[str | None] | None"]


async def until(what: str, missing: Missing, timeout: float = WAIT) -> float:
    """Poll until `missing()` says nothing is missing; the seconds it took. On timeout, fail
    with what was still missing."""
    started = time.monotonic()
    left: str | None = "not looked yet"
    while time.monotonic() - started < timeout:
        found = missing()
        left = await found if inspect.isawaitable(found) else found
        if left is None:
            return time.monotonic() - started
        await asyncio.sleep(POLL)
    raise AssertionError(f"{what}: not there after {timeout:.0f} s; missing: {left}")


def failed_deliveries(sim: Simulator) -> set[str]:
    """GUIDs whose newest attempt in the delivery log failed."""
    newest = {a.delivery.id: a for a in sim.hook_log.attempts}
    return {guid for guid, a in newest.items() if a.failed}


def status_tables(sim: Simulator, number: int) -> int:
    """ringbot's status comments on a pull request."""
    return sum(
        1
        for c in sim.repo(REPO).comments.values()
        if STATUS_MARKER in c.body and c.number == number
    )


def gates(w: Any, expected: dict[int, str]) -> str | None:
    """What differs from the expected gate verdicts (one gate run per head), or None."""
    wrong = []
    for number, want in expected.items():
        runs = gate_runs(w, head(w, number))
        got = verdict(w, number) if runs else "no gate"
        if got != want:
            wrong.append(f"#{number} gate {got}, want {want}")
    return "; ".join(wrong) or None


def replies(w: Any, comments: dict[int, str]) -> str | None:
    """Commands with no reply yet (reply_to fails on a second one), or None."""
    unanswered = [f"{body!r} ({cid})" for cid, body in comments.items() if not reply_to(w, cid)]
    return ("no reply to " + ", ".join(unanswered)) if unanswered else None


async def live(w: Any, ring: str, sha: str) -> float:
    """Play the user's CD: wait for ringbot's deployment of `sha` into `ring`, make it live."""
    found: list[Any] = []

    def deployed() -> str | None:
        found[:] = [d for d in deployments(w, ring) if d.sha == sha]
        return None if found else f"a deployment of {sha[:7]} in {ring}"

    took = await until(f"ringbot deploys {sha[:7]} to {ring}", deployed, WAIT + LEASE_DEFAULT)
    w.sim.post_deployment_status(REPO, found[0].id, "success", by="deploy-bot")
    return took


def metric(text: str, name: str, labels: str) -> float:
    """One sample of a Prometheus text page (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and labels in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def catchup_passes(bot: BotProcess) -> float:
    """Complete catch-up passes of the running bot."""
    async with aiohttp.ClientSession() as s, s.get(f"{bot.url}/metrics") as resp:
        text = await resp.text()
    return metric(text, "ringbot_catchup_passes_total", 'result="complete"')


async def test_sigkill_with_work_queued_converges_after_restart(tmp_path: Path) -> None:
    sim = Simulator(webhook_secret=SECRET)  # real time, like the bot
    api_url = await sim.start()
    w = cast(World, Sim(sim))
    setup_repo(w, config=TWO_RINGS)
    bot = BotProcess("bot", base_env(sim, api_url), tmp_path)
    async with running(sim, [bot]):
        bot.start()
        await bot.ready()
        sim.webhook_url = f"{bot.url}/webhook"
        # A pull request through the gate first: it merges through it, not around it.
        merged = open_pr(w, author="carol")
        build(w, head(w, merged))
        sim.review(REPO, merged, "alice", "APPROVED")
        await until("the gate of the one to merge", lambda: gates(w, {merged: "success"}))
        # GitHub sits on the first reads: the first job hangs in flight, the rest wait behind it.
        slow = sim.fault("GET", r"^/repos/acme/widgets/", status=502, count=2, delay=SLOW)
        ready = open_pr(w)
        build(w, head(w, ready))
        sim.review(REPO, ready, "alice", "APPROVED")
        waiting = open_pr(w, author="carol")
        build(w, head(w, waiting))
        red = open_pr(w)
        build(w, head(w, red), conclusion="failure")
        sim.review(REPO, red, "alice", "APPROVED")
        release = sim.merge_pull_request(REPO, merged, by="alice")
        build(w, release)
        asked = sim.comment(REPO, ready, "bob", "/status")
        await sim.settle()
        accepted = len(sim.deliveries)
        assert accepted >= 10 and not failed_deliveries(sim)  # every one answered 202
        await until("a job in flight on GitHub", lambda: None if slow.count < 2 else "no read")

        bot.kill()

        # Nothing was done yet: the work was queued or in flight.
        assert not deployments(w) and not reply_to(w, asked)
        assert not any(gate_runs(w, head(w, n)) for n in (ready, waiting, red))
        # While it is down: an approval, a new pull request, a command. Every delivery fails.
        sim.review(REPO, waiting, "alice", "APPROVED")
        late = open_pr(w, author="carol")
        build(w, head(w, late))
        sim.review(REPO, late, "alice", "APPROVED")
        asked_down = sim.comment(REPO, merged, "alice", "/status")
        await sim.settle()
        assert len(failed_deliveries(sim)) == len(sim.deliveries) - accepted >= 5
        slow.count = 0  # GitHub is fast again

        bot.start()  # same env, a new process with no memory
        await bot.ready()
        expected = {ready: "success", waiting: "success", red: "failure", late: "success"}
        commands = {asked: "/status", asked_down: "/status"}

        def converged() -> str | None:
            dev = [d.sha for d in deployments(w, "dev")]
            missing = [gates(w, expected), replies(w, commands)]
            missing.append(None if dev == [release] else f"dev deployments {dev}")
            return "; ".join(m for m in missing if m) or None

        took = await until("convergence after the restart", converged)
        print(f"converged {took:.2f} s after the restart")
        # Two more catch-up passes change nothing: everything was done once.
        passes = await catchup_passes(bot)

        async def two_more() -> str | None:
            return None if await catchup_passes(bot) >= passes + 2 else "two more passes"

        await until("two more catch-up passes", two_more)
        assert converged() is None
        assert [d.sha for d in deployments(w)] == [release]
        assert all(len(gate_runs(w, head(w, n))) == 1 for n in expected)


class TolerantForwarder(Forwarder):
    """The harness's round-robin, duplicating balancer; a dead replica answers 502 instead of
    failing the delivery (the other copy decides)."""

    async def _post(self, target: str, body: bytes, headers: dict[str, str]) -> int:
        try:
            return await super()._post(target, body, headers)
        except (aiohttp.ClientError, OSError):
            return 502


async def redis_idle(redis: Redis) -> str | None:
    """What the shared queue still holds, or None."""
    ready = await redis.zcard("ringbot:ready")
    busy = await redis.hlen("ringbot:busy")
    delayed = await redis.zcard("ringbot:delayed")
    return f"ready {ready}, busy {busy}, delayed {delayed}" if ready or busy or delayed else None


async def quiesce(sim: Simulator, redis: Redis) -> None:
    """Wait until no delivery is in flight and the shared queue is empty, both at once (a job
    that writes makes deliveries; a delivery makes jobs)."""

    async def still() -> str | None:
        await sim.settle()
        busy = await redis_idle(redis)
        return busy or (None if sim.idle else "deliveries in flight")

    await until("the simulator and the replicas go quiet", still)


async def test_three_replicas_one_killed_mid_burst_lose_nothing(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    sim = Simulator(webhook_secret=SECRET)
    api_url = await sim.start()
    w = cast(World, Sim(sim))
    setup_repo(w, config=TWO_RINGS)
    env = base_env(sim, api_url)
    env.update(REDIS_URL=redis_server.url, RINGBOT_LEASE_SECONDS=str(LEASE))
    bots = [BotProcess(f"replica{i}", env, tmp_path) for i in range(3)]
    victim, peers = bots[0], bots[1:]
    forwarder = TolerantForwarder([b.url for b in bots])
    redis = Redis.from_url(redis_server.url)
    async with running(sim, bots):
        try:
            for b in bots:
                b.start()
            for b in bots:
                await b.ready()
            sim.webhook_url = f"{await forwarder.start()}/webhook"
            commands: dict[int, str] = {}

            # Before: a release live in dev.
            first = open_pr(w)
            build(w, head(w, first))
            sim.review(REPO, first, "alice", "APPROVED")
            await until("the first gate", lambda: gates(w, {first: "success"}))
            release1 = sim.merge_pull_request(REPO, first, by="alice")
            build(w, release1)
            await live(w, "dev", release1)
            await until("the first status table", lambda: None if status_tables(sim, first) else "")
            await quiesce(sim, redis)

            # The burst's first part reaches the victim alone (its peers are stopped), and GitHub
            # sits on its first reads: the victim holds the repository's job when it dies.
            for p in peers:
                p.signal(signal.SIGSTOP)
            sim.webhook_url = f"{victim.url}/webhook"
            slow = sim.fault("GET", r"^/repos/acme/widgets/", status=502, count=2, delay=SLOW)
            commands[sim.comment(REPO, first, "carol", "/approve dev")] = "/approve dev"
            second = open_pr(w)
            build(w, head(w, second))
            sim.review(REPO, second, "alice", "APPROVED")
            commands[sim.comment(REPO, first, "alice", "/status")] = "/status"
            await sim.settle()
            await until("the victim's job in flight", lambda: None if slow.count < 2 else "")
            assert await redis.hlen("ringbot:busy") == 1  # only the victim could claim it
            for p in peers:
                p.signal(signal.SIGCONT)
            sim.webhook_url = f"{forwarder.url}/webhook"
            third = open_pr(w, author="carol")
            build(w, head(w, third))
            await sim.settle()

            victim.kill()

            # The rest of the burst while it is dead: a second release (merged once a live
            # replica took the victim's job back and passed its gate), a command, an approval.
            await until("the second gate", lambda: gates(w, {second: "success"}))
            release2 = sim.merge_pull_request(REPO, second, by="alice")
            build(w, release2)
            commands[sim.comment(REPO, third, "bob", "/status")] = "/status"
            sim.review(REPO, third, "alice", "APPROVED")
            await sim.settle()
            slow.count = 0
            assert not failed_deliveries(sim)  # a live replica took every delivery

            victim.start()
            await victim.ready()
            print(f"the second release entered dev {await live(w, 'dev', release2):.2f} s later")

            def converged() -> str | None:
                dev = [d.sha for d in deployments(w, "dev")]
                tables = [status_tables(sim, n) for n in (first, second)]
                missing = [gates(w, {third: "success"}), replies(w, commands)]
                missing.append(None if dev == [release1, release2] else f"dev deployments {dev}")
                missing.append(None if tables == [1, 1] else f"status tables {tables}")
                return "; ".join(m for m in missing if m) or None

            took = await until("convergence after the kill", converged, WAIT + LEASE_DEFAULT)
            print(f"converged {took:.2f} s after the restart")
            logs = "".join(b.output() for b in bots)
            assert "took back jobs whose replica stopped renewing" in logs

            # After: a sign-off and a promotion of the second release, once each.
            for body, by in (("/approve dev", "carol"), ("/promote internal", "bob")):
                cid = sim.comment(REPO, second, by, body)
                commands[cid] = body
                await until(f"a reply to {body}", partial(replies, w, {cid: body}))
            await live(w, "internal", release2)
            await until("the shared queue empties", lambda: redis_idle(redis))
            await until(
                "the second status table", lambda: None if status_tables(sim, second) else ""
            )
            assert [d.sha for d in deployments(w, "dev")] == [release1, release2]
            assert [d.sha for d in deployments(w, "internal")] == [release2]
            assert [status_tables(sim, n) for n in (first, second, third)] == [1, 1, 0]
            assert replies(w, commands) is None
            assert gates(w, {third: "success"}) is None
        finally:
            await forwarder.close()
            await redis.aclose()
