"""Replicas benchmark: what Redis costs at the door, and what a SIGKILL costs in time.

(a) Acknowledgements per second of POST /webhook, one `python -m bot` process with `REDIS_URL`
    (a local redis-server, started as the tests start it) against one with the in-memory queue,
    in alternating rounds under the same load from this process: N signed `pull_request`
    deliveries (a real payload from the simulator) at a fixed concurrency. With Redis each
    acknowledgement waits for the dedupe's SET NX and the queue's put (one round trip each).
(b) Takeover: three replicas on one Redis. The victim alone holds a job in flight (its peers
    are SIGSTOPped while it claims, and GitHub sits on the job's first read), then the peers
    go on (SIGCONT), the victim is SIGKILLed, and the clock runs until another replica has
    finished the job (its gate check run is written and Redis holds no claim); the kill comes
    at a random moment within a lease after the peers go on. Repeated, rotating the victim,
    which is restarted each time; median and p99. The time is bounded by the lease
    (`RINGBOT_LEASE_SECONDS`) plus one poll of the survivors (1 s).

The simulated GitHub runs in this process on real time; the bots are real subprocesses.

Run: .venv/bin/python bench/replicas.py [--requests 2000] [--concurrency 32] [--rounds 3]
     [--kills 20] [--lease 2] [--budget 120] [--skip-ingest]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from bot.sim import Simulator  # noqa: E402
from tests.bot_process import BotProcess, bot_env  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

SECRET = "bench-secret"
REPO = "acme/widgets"
POLL = 0.01  # seconds between two looks while timing a takeover
WAIT = 120.0  # the longest any one wait may take


async def load(url: str, body: bytes, requests: int, concurrency: int) -> float:
    """Send `requests` signed deliveries; acknowledgements per second."""
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    todo = iter(range(requests))
    ok = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal ok
        for _ in todo:
            headers = {
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sig,
                "Content-Type": "application/json",
            }
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                ok += resp.status == 202

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if ok != requests:
        raise SystemExit(f"only {ok} of {requests} deliveries were acknowledged with 202")
    return requests / elapsed


async def ingest(
    sim: Simulator, api_url: str, redis_url: str, args: argparse.Namespace, logs: Path
) -> None:
    """(a): the same load against one bot with the in-memory queue and one with Redis."""
    (opened,) = [d for d in sim.emitted if d.event == "pull_request"]
    body = json.dumps(opened.payload).encode()
    print(
        f"(a) ingest: pull_request, {len(body)} bytes; {args.requests} deliveries at "
        f"concurrency {args.concurrency}, {args.rounds} rounds (alternating), one process each"
    )
    rates: dict[str, list[float]] = {"memory": [], "redis": []}
    for n in range(args.rounds):
        for kind in ("memory", "redis"):
            extra = {"REDIS_URL": redis_url} if kind == "redis" else {}
            env = bot_env(sim, api_url, secret=SECRET, RINGBOT_CATCHUP_SECONDS="0", **extra)
            bot = BotProcess(f"ingest-{kind}-{n + 1}", env, logs, wait=WAIT)
            bot.start()
            try:
                await bot.ready()
                url = f"{bot.url}/webhook"
                await load(url, body, min(200, args.requests), args.concurrency)  # warm up
                rates[kind].append(await load(url, body, args.requests, args.concurrency))
            finally:
                bot.kill()
        print(
            f"  round {n + 1}: in-memory {rates['memory'][-1]:6.0f} acks/s | "
            f"redis {rates['redis'][-1]:6.0f} acks/s | "
            f"ratio {rates['redis'][-1] / rates['memory'][-1]:.2f}"
        )
    memory, redis = statistics.median(rates["memory"]), statistics.median(rates["redis"])
    print(
        f"  median: in-memory {memory:.0f} acks/s, redis {redis:.0f} acks/s, "
        f"redis/in-memory {redis / memory:.2f}"
    )


async def until(what: str, done: Any) -> None:
    """Poll `done()` (sync or async) until true, within WAIT."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        got = done()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return
        await asyncio.sleep(POLL)
    raise SystemExit(f"gave up after {WAIT:.0f} s waiting for {what}")


async def takeover(
    sim: Simulator, api_url: str, redis_url: str, args: argparse.Namespace, logs: Path
) -> None:
    """(b): SIGKILL the replica that holds a job; time until a survivor has finished it."""
    env = bot_env(
        sim,
        api_url,
        secret=SECRET,
        RINGBOT_CATCHUP_SECONDS="0",  # catch-up off: only the queue counts
        REDIS_URL=redis_url,
        RINGBOT_LEASE_SECONDS=str(args.lease),
    )
    bots = [BotProcess(f"replica{i}", env, logs, wait=WAIT) for i in range(3)]
    redis = Redis.from_url(redis_url)
    samples: list[float] = []
    leases: list[float] = []
    print(
        f"(b) takeover: 3 replicas on one redis, RINGBOT_LEASE_SECONDS={args.lease:g}, "
        f"up to {args.kills} kills within {args.budget:.0f} s"
    )
    try:
        await redis.flushdb()
        for bot in bots:
            bot.start()
        for bot in bots:
            await bot.ready()
        started = time.monotonic()
        for n in range(args.kills):
            if n and time.monotonic() - started > args.budget:
                print(f"  time budget spent after {n} kills (raise --budget for more)")
                break
            victim = bots[n % 3]
            peers = [b for b in bots if b is not victim]
            for peer in peers:
                peer.signal(signal.SIGSTOP)
            sim.webhook_url = f"{victim.url}/webhook"
            # GitHub sits on the job's first read: the victim holds the job when it dies.
            slow = sim.fault("GET", r"^/repos/acme/widgets/", status=502, count=1, delay=WAIT)
            number = sim.open_pull_request(REPO, author="bob", title=f"Kill {n + 1}")
            sha = sim.repo(REPO).pulls[number].head_sha
            await sim.settle()
            await until("the victim's job in flight", lambda slow=slow: slow.count == 0)
            claims = await redis.zrange("ringbot:leases", 0, -1, withscores=True)
            assert len(claims) == 1, claims  # the victim's, and no other
            leases.append(float(claims[0][1]) - time.time())
            for peer in peers:
                peer.signal(signal.SIGCONT)
            # The kill lands at a random moment of the job's life, so it meets the victim's
            # lease renewals and the survivors' polls at any phase (not the one SIGCONT set).
            await asyncio.sleep(random.uniform(0, min(args.lease, 5.0)))
            killed = time.monotonic()
            victim.kill()

            def gated(sha: str = sha) -> bool:
                runs = sim.repo(REPO).check_runs.values()
                return any(r.head_sha == sha and r.name == "ringbot/merge-gate" for r in runs)

            async def finished() -> bool:
                return gated() and not await redis.hlen("ringbot:busy")

            await until(f"a survivor finishing the job of kill {n + 1}", finished)
            samples.append(time.monotonic() - killed)
            print(
                f"  kill {n + 1:2d} ({victim.name}): its claim's lease {leases[-1]:5.2f} s, "
                f"finished by another replica {samples[-1]:5.2f} s after the SIGKILL"
            )
            victim.start()
            await victim.ready()
    finally:
        for bot in bots:
            bot.kill()
        await redis.aclose()
    if not samples:
        return
    p99 = statistics.quantiles(samples, n=100, method="inclusive")[98] if len(samples) > 1 else 0
    print(
        f"  {len(samples)} kills: median {statistics.median(samples):.2f} s, "
        f"p99 {p99 or samples[0]:.2f} s, max {max(samples):.2f} s "
        f"(lease setting {args.lease:g} s; the claims' leases as read in redis: median "
        f"{statistics.median(leases):.2f} s)"
    )
    if statistics.median(leases) > args.lease + 1:
        print(
            "  NOTE: the claims carry a longer lease than RINGBOT_LEASE_SECONDS: the setting "
            "does not reach the queue (bot/app.py must pass lease=settings.lease_seconds to "
            "Replicas.work_queue)"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="deliveries per ingest round")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="ingest rounds")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--lease", type=float, default=2.0, help="RINGBOT_LEASE_SECONDS")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds for the kills")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    sim = Simulator(webhook_secret=SECRET)
    api_url = await sim.start()
    sim.create_repo(REPO)
    sim.add_collaborator(REPO, "bob", "write")
    sim.open_pull_request(REPO, author="bob", title="Add a widget", files={"w": "w"})
    server = RedisServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="ringbot-bench-") as tmp:
            logs = Path(tmp)
            if not args.skip_ingest:
                await ingest(sim, api_url, server.url, args, logs)
            await takeover(sim, api_url, server.url, args, logs)
    finally:
        server.close()
        await sim.close()


if __name__ == "__main__":
    asyncio.run(main())
