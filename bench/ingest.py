"""Ingest benchmark: webhook acknowledgements per second, ringbot versus a bare aiohttp handler.

Each server runs in its own process, one after the other, under the same load from this
process: N signed `pull_request` deliveries (a real payload from the simulator) at a fixed
concurrency. The bare handler reads the body and checks the signature, nothing else. ringbot
does everything it does in production: verify, dedupe, parse, triage, log a line, enqueue,
answer 202; the queued work coalesces into gate evaluations against the simulated GitHub,
which runs in a third process, as GitHub is elsewhere in production. The figure that matters
is the ratio, measured in the same run (target: >= 0.8).

Run: .venv/bin/python bench/ingest.py [--requests 4000] [--concurrency 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECRET = "bench-secret"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bare_server(port: int, ready: Any) -> None:
    """An aiohttp handler that only checks the signature."""
    from aiohttp import web
    from gidgethub import ValidationFailure, sansio

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            sansio.validate_event(
                body, signature=request.headers.get("X-Hub-Signature-256", ""), secret=SECRET
            )
        except ValidationFailure:
            return web.Response(status=401)
        return web.Response(status=202)

    app = web.Application(client_max_size=25 * 1024 * 1024)
    app.router.add_post("/webhook", hook)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def sim_server(port: int, conn: Any) -> None:
    """The simulated GitHub, holding the pull request the payload is about."""
    from bot.sim import Simulator

    async def main() -> None:
        sim = Simulator(webhook_secret=SECRET)
        url = await sim.start(port=port)
        sim.create_repo("acme/widgets")
        sim.add_collaborator("acme/widgets", "bob", "write")
        sim.open_pull_request("acme/widgets", author="bob", title="Add a widget", files={"w": "w"})
        (opened,) = [d for d in sim.emitted if d.event == "pull_request"]
        conn.send((url, sim.private_key_pem, str(sim.app_id), json.dumps(opened.payload).encode()))
        await asyncio.Event().wait()

    asyncio.run(main())


def ringbot_server(port: int, ready: Any, github: tuple[str, str, str]) -> None:
    """The real bot app, as in production, talking to the simulator process."""
    from aiohttp import web

    from bot import logs
    from bot.app import create_app
    from bot.settings import Settings

    # Production logging stays on (one JSON line per delivery), written to /dev/null.
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    logs.setup("INFO")

    async def main() -> None:
        url, key, app_id = github
        settings = Settings(app_id=app_id, private_key=key, webhook_secret=SECRET, api_url=url)
        app = create_app(settings)
        gc.collect()
        gc.freeze()  # as python -m bot does
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


async def load(url: str, body: bytes, requests: int, concurrency: int) -> float:
    """Send `requests` signed deliveries; return acknowledgements per second."""
    import aiohttp

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
                ok += resp.status in (200, 202)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if ok != requests:
        raise SystemExit(f"only {ok} of {requests} deliveries were acknowledged")
    return requests / elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    kind: str, body: bytes, requests: int, concurrency: int, github: Any
) -> tuple[float, float]:
    """Start one server in its own process, load it, stop it: (acks per second, CPU µs per ack)."""
    port = free_port()
    ready = mp.Event()
    target, args = (
        (bare_server, (port, ready)) if kind == "bare" else (ringbot_server, (port, ready, github))
    )
    proc = mp.Process(target=target, args=args, daemon=True)
    proc.start()
    try:
        ready.wait(30)
        time.sleep(0.3)
        url = f"http://127.0.0.1:{port}/webhook"
        asyncio.run(load(url, body, min(200, requests), concurrency))  # warm up
        assert proc.pid is not None
        cpu = cpu_seconds(proc.pid)
        rate = asyncio.run(load(url, body, requests, concurrency))
        time.sleep(0.5)  # let queued work (coalesced gate evaluations) finish and be counted
        return rate, (cpu_seconds(proc.pid) - cpu) / requests * 1e6
    finally:
        proc.terminate()
        proc.join(5)


def main() -> None:
    """Measure both servers in alternating rounds and print the ratio."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    parent, child = mp.Pipe()
    simulator = mp.Process(target=sim_server, args=(free_port(), child), daemon=True)
    simulator.start()
    url, key, app_id, body = parent.recv()
    print(
        f"payload: pull_request, {len(body)} bytes; {args.requests} deliveries "
        f"at concurrency {args.concurrency}, {args.rounds} rounds (alternating)"
    )
    ratios, cpu_ratios = [], []
    for n in range(args.rounds):
        bare, bare_cpu = measure("bare", body, args.requests, args.concurrency, None)
        bot, bot_cpu = measure("ringbot", body, args.requests, args.concurrency, (url, key, app_id))
        ratios.append(bot / bare)
        cpu_ratios.append(bare_cpu / bot_cpu)
        print(
            f"round {n + 1}: bare {bare:6.0f} acks/s {bare_cpu:5.0f} µs CPU/ack | "
            f"ringbot {bot:6.0f} acks/s {bot_cpu:5.0f} µs CPU/ack | "
            f"throughput ratio {ratios[-1]:.2f}, CPU ratio {cpu_ratios[-1]:.2f}"
        )
    simulator.terminate()
    # The machine is shared and noisy: the median round speaks for the run.
    print(
        f"median throughput ratio {statistics.median(ratios):.2f}, "
        f"median CPU-per-ack ratio {statistics.median(cpu_ratios):.2f} (target >= 0.80)"
    )


if __name__ == "__main__":
    main()
