"""Ingest benchmark: webhook acknowledgements per second, ringbot versus a bare aiohttp handler.

Both servers run in their own process, one after the other, under the same load from a third
process: N signed `pull_request` deliveries (a real payload from the simulator) at a fixed
concurrency. The bare handler reads the body and checks the signature, nothing else. ringbot
does everything it does in production: verify, dedupe, parse, triage, enqueue, answer 202;
the queued work coalesces into one gate evaluation against the simulator. The figure that
matters is the ratio, measured in the same run (target: >= 0.8).

Run: .venv/bin/python bench/ingest.py [--requests 4000] [--concurrency 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import socket
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bare_server(port: int, ready: mp.Event) -> None:  # type: ignore[valid-type]
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
    ready.set()  # type: ignore[attr-defined]
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def ringbot_server(port: int, ready: mp.Event, sim_port: int) -> None:  # type: ignore[valid-type]
    """The real bot app, talking to a simulator in this process."""
    from aiohttp import web

    from bot import logs
    from bot.app import create_app
    from bot.settings import Settings
    from bot.sim import Simulator

    # Production logging stays on (one JSON line per delivery), written to /dev/null.
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    logs.setup("INFO")

    async def main() -> None:
        sim = Simulator(webhook_secret=SECRET)
        sim_url = await sim.start(port=sim_port)
        settings = Settings(
            app_id=str(sim.app_id),
            private_key=sim.private_key_pem,
            webhook_secret=SECRET,
            api_url=sim_url,
        )
        runner = web.AppRunner(create_app(settings), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()  # type: ignore[attr-defined]
        await asyncio.Event().wait()

    asyncio.run(main())


def sample_payload() -> bytes:
    """A real `pull_request` payload as the simulator emits it."""
    from bot.sim import Simulator

    sim = Simulator(webhook_secret=SECRET)
    sim.create_repo("acme/widgets")
    sim.add_collaborator("acme/widgets", "bob", "write")
    sim.open_pull_request("acme/widgets", author="bob", title="Add a widget", files={"w.txt": "w"})
    found = [d for d in sim.emitted if d.event == "pull_request"]
    return json.dumps(found[-1].payload).encode()


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


def measure(kind: str, body: bytes, requests: int, concurrency: int) -> float:
    """Start one server in its own process, load it, stop it."""
    port = free_port()
    ready = mp.Event()
    if kind == "bare":
        proc = mp.Process(target=bare_server, args=(port, ready), daemon=True)
    else:
        proc = mp.Process(target=ringbot_server, args=(port, ready, free_port()), daemon=True)
    proc.start()
    try:
        ready.wait(30)
        time.sleep(0.3)
        url = f"http://127.0.0.1:{port}/webhook"
        asyncio.run(load(url, body, min(200, requests), concurrency))  # warm up
        return asyncio.run(load(url, body, requests, concurrency))
    finally:
        proc.terminate()
        proc.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    body = sample_payload()
    print(
        f"payload: pull_request, {len(body)} bytes; {args.requests} deliveries "
        f"at concurrency {args.concurrency}, {args.rounds} rounds (alternating)"
    )
    bare, bot = [], []
    for n in range(args.rounds):
        bare.append(measure("bare", body, args.requests, args.concurrency))
        bot.append(measure("ringbot", body, args.requests, args.concurrency))
        print(
            f"round {n + 1}: bare {bare[-1]:8.0f}/s   ringbot {bot[-1]:8.0f}/s   "
            f"ratio {bot[-1] / bare[-1]:.2f}"
        )
    best_bare, best_bot = max(bare), max(bot)
    print(
        f"best: bare {best_bare:.0f}/s, ringbot {best_bot:.0f}/s, "
        f"ratio {best_bot / best_bare:.2f} (target >= 0.80)"
    )


if __name__ == "__main__":
    main()
