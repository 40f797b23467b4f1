"""Memory across installations: the bot's RSS as deliveries that make it read GitHub pile up.

The simulated GitHub runs in its own process with 100 installations (one repository each, the
App installed on each owner) and delivers its webhooks to the real bot app in another. This
process has the simulator open pull requests round-robin across the installations: each
`pull_request opened` is a gate evaluation, whose GETs (the pull request, its reviews, its
commit's check runs and status, the config) are new URLs, so the ETag cache fills as it would
over a day of real traffic. After each chunk it waits until the bot's queue is empty and prints
the bot's RSS, so a flat line (a bounded cache) and a straight rising one (an unbounded cache)
read side by side.

Switches for the comparison:
  --etag-cache-bytes N  the ETag cache's byte limit (Settings.etag_cache_bytes; default as in
                        production, 64 MB); 10**15 is the naive baseline, the same store with no
                        effective limit
  --root DIR            import `bot` from another tree, e.g. the previous commit's, to measure
                        the old cache (parsed JSON per installation, no byte bound):
                          git archive HEAD | tar -x -C /tmp/ringbot-head
                          .venv/bin/python bench/memory_installations.py --root /tmp/ringbot-head

Run: .venv/bin/python bench/memory_installations.py [--deliveries 100000] [--chunk 10000]
     [--installations 100]   (100,000 takes a long while; --deliveries 20000 --chunk 2000 shows
     the trend in a few minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=100_000, help="pull requests opened")
    parser.add_argument("--chunk", type=int, default=10_000, help="RSS is printed after each")
    parser.add_argument("--installations", type=int, default=100)
    parser.add_argument("--etag-cache-bytes", type=int, default=None)
    parser.add_argument("--root", type=Path, default=BENCH.parent, help="the tree `bot` is from")
    return parser.parse_args()


def sim_server(port: int, conn: Any, installations: int, secret: str) -> None:
    """The simulated GitHub: opens pull requests in chunks when told, delivering to the bot."""
    from bot.sim import Simulator

    sys.stderr = open(os.devnull, "w")  # noqa: SIM115

    async def main() -> None:
        sim = Simulator(webhook_secret=secret)
        url = await sim.start(port=port)
        repos = [f"org{i:04d}/repo" for i in range(installations)]
        for repo in repos:
            sim.create_repo(repo)
            sim.add_collaborator(repo, "bob", "write")
        conn.send((url, sim.private_key_pem, str(sim.app_id)))
        # Read off the loop: the simulator keeps answering the bot meanwhile.
        sim.webhook_url = await asyncio.to_thread(conn.recv)
        opened = 0
        while True:
            count = await asyncio.to_thread(conn.recv)
            if count is None:
                return
            for _ in range(count):
                sim.open_pull_request(repos[opened % len(repos)], author="bob", title="Change")
                opened += 1
                if opened % 200 == 0:
                    await sim.settle()  # as GitHub does: a delivery at a time, not all queued
            await sim.settle()
            # The simulator keeps every delivery and request; this bench measures the bot.
            delivered = len(sim.deliveries)
            sim.emitted.clear()
            sim.deliveries.clear()
            sim.requests.clear()
            conn.send(delivered)

    asyncio.run(main())


def ringbot_server(
    port: int, ready: Any, github: tuple[str, str, str], cache_bytes: int | None, secret: str
) -> None:
    """The real bot app, as in production, talking to the simulator process."""
    from aiohttp import web

    from bot import logs
    from bot.app import create_app
    from bot.settings import Settings

    sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    logs.setup("INFO")

    async def main() -> None:
        url, key, app_id = github
        settings = Settings(app_id=app_id, private_key=key, webhook_secret=secret, api_url=url)
        if cache_bytes is not None:
            settings = dataclasses.replace(settings, etag_cache_bytes=cache_bytes)
        app = create_app(settings)
        gc.collect()
        gc.freeze()  # as python -m bot does
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


async def queue_depth(base: str) -> int:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.get(f"{base}/healthz") as resp:
        return int((await resp.json())["queue"])


def quiet(base: str) -> None:
    """Wait until the bot's queue has been empty twice in a row."""
    empty = 0
    while empty < 2:
        empty = empty + 1 if asyncio.run(queue_depth(base)) == 0 else 0
        time.sleep(0.2)


def main() -> None:
    args = arguments()
    sys.path.insert(0, str(BENCH))
    from ingest import SECRET, free_port
    from ingest_memory import memory

    # After those imports, which put this tree first: `bot` comes from --root (the children
    # are forked, so they import it from there too).
    sys.path.insert(0, str(args.root.resolve()))

    parent, child = mp.Pipe()
    sim = mp.Process(
        target=sim_server, args=(free_port(), child, args.installations, SECRET), daemon=True
    )
    sim.start()
    github = parent.recv()
    port = free_port()
    ready = mp.Event()
    bot = mp.Process(
        target=ringbot_server,
        args=(port, ready, github, args.etag_cache_bytes, SECRET),
        daemon=True,
    )
    bot.start()
    try:
        if not ready.wait(30):
            raise SystemExit("the bot did not start within 30 s")
        assert bot.pid is not None
        base = f"http://127.0.0.1:{port}"
        parent.send(f"{base}/webhook")
        limit = "production default" if args.etag_cache_bytes is None else args.etag_cache_bytes
        print(
            f"bot from {args.root.resolve()}, ETag cache limit: {limit}; "
            f"{args.installations} installations, a pull request opened per delivery"
        )
        rss_start, _ = memory(bot.pid)
        print(f"{'opened':>8} | {'webhooks':>8} | {'RSS MB':>7} | {'+MB':>6} | {'s':>5}")
        done = webhooks = 0
        while done < args.deliveries:
            count = min(args.chunk, args.deliveries - done)
            started = time.perf_counter()
            parent.send(count)
            webhooks += parent.recv()
            quiet(base)
            done += count
            rss, _ = memory(bot.pid)
            print(
                f"{done:>8} | {webhooks:>8} | {rss:>7.0f} | {rss - rss_start:>+6.0f} | "
                f"{time.perf_counter() - started:>5.0f}",
                flush=True,
            )
        parent.send(None)
    finally:
        bot.terminate()
        sim.terminate()


if __name__ == "__main__":
    main()
