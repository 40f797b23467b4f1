"""Ingest memory benchmark: what hostile webhook traffic costs the bot in memory and in metrics.

The real bot app runs in its own process (as in bench/ingest.py, with the simulated GitHub in a
third). This process sends it N requests at a fixed concurrency, none of which GitHub would
send: unsigned ones, ones with a well-formed but wrong signature, validly signed ones with
made-up event names, ones that declare a body over 25 MB and never send it, and a few that
really are large (24 MB unsigned, 24 MB with a wrong signature, 26 MB chunked). It prints the
server's resident memory before and after (and its peak), the answers by status, and how many
lines GET /metrics has before and after.

First, unless --stalled 0, the stalled-body attack: N connections at once, each with a
well-formed but wrong signature, announcing exactly 1 MB (Content-Length: 1048576), sending all
but the last byte, then stalling. It prints the server's RSS before, its highest while the
attack lasts, 3 s in, once the bot's 10 s body deadline has passed, and after the connections
close, with the answers by status. (A bot that holds every such body until its sender hangs
up shows the whole N MB in each figure; the answers then read "no answer".)

Run: .venv/bin/python bench/ingest_memory.py [--requests 50000] [--concurrency 32] [--large 150]
     [--rounds 2] [--stalled 400] [--stalled-hold 12]  (a second round shows whether memory
     keeps growing or has settled; add --timeout 2 against a bot that waits for bodies it
     should refuse, or it takes hours; --rounds 0 runs the stalled-body attack alone)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import multiprocessing as mp
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import SECRET, free_port, ringbot_server, sim_server

MB = 1024 * 1024
PING = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
SMALL = b'{"action": "opened", "number": 1}'
BIG = b" " * (24 * MB)
PIECE = b" " * MB


def memory(pid: int) -> tuple[float, float]:
    """(resident MB now, peak resident MB) of a process (Linux /proc)."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def sign(body: bytes) -> str:
    """A valid X-Hub-Signature-256 for body."""
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


async def metrics_lines(base: str) -> int:
    """How many lines GET /metrics answers with."""
    async with aiohttp.ClientSession() as s, s.get(f"{base}/metrics") as resp:
        return len((await resp.text()).splitlines())


async def declared_over_cap(base: str, rng: random.Random) -> int:
    """Announce a body over 25 MB, send a few bytes of it, and stop: the status."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    signature = rng.choice([b"", b"X-Hub-Signature-256: sha256=" + b"0" * 64 + b"\r\n"])
    length = rng.choice([25 * MB + 1, 100 * MB, 10**12])
    try:
        writer.write(
            b"POST /webhook HTTP/1.1\r\nHost: ringbot\r\nConnection: close\r\n"
            b"X-GitHub-Event: push\r\n" + signature + b"Content-Length: %d\r\n\r\n" % length + PING
        )
        status_line = await reader.readline()
        writer.write_eof()  # the rest never comes
        await reader.read()
    finally:
        writer.close()
    return int(status_line.split()[1])


async def chunks() -> AsyncIterator[bytes]:
    """26 MB, chunked: no length is announced, the bot finds out by reading."""
    for _ in range(26):
        yield PIECE


def plan(rng: random.Random, requests: int, large: int) -> list[str]:
    """The kinds of request to send: the really large ones first, then the rest, shuffled."""
    # Large ones together, as many at once as the concurrency allows: the worst case for memory.
    kinds = ["unsigned-24mb", "wrong-signature-24mb", "chunked-26mb"] * (large // 3)
    rng.shuffle(kinds)
    weights = {"unsigned": 0.4, "wrong-signature": 0.2, "random-event": 0.3, "declared-over": 0.1}
    return kinds + rng.choices(list(weights), list(weights.values()), k=requests - len(kinds))


async def send(session: aiohttp.ClientSession, base: str, kind: str, rng: random.Random) -> int:
    """Send one request of a kind; the status it got."""
    if kind == "declared-over":
        return await declared_over_cap(base, rng)
    event = f"made-up-{rng.getrandbits(48):x}"
    delivery = str(uuid.UUID(int=rng.getrandbits(128)))
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery}
    body: Any = SMALL
    if kind == "wrong-signature":
        headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    elif kind == "random-event":
        headers |= {"X-Hub-Signature-256": sign(PING), "Content-Type": "application/json"}
        body = PING
    elif kind == "unsigned-24mb":
        body = BIG
    elif kind == "wrong-signature-24mb":
        headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
        body = BIG
    elif kind == "chunked-26mb":
        headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
        body = chunks()
    async with session.post(f"{base}/webhook", data=body, headers=headers) as resp:
        await resp.read()
        return resp.status


async def load(
    base: str, kinds: list[str], concurrency: int, seed: int, timeout: float = 30.0
) -> Counter[str]:
    """Send every request at the given concurrency; count the answers by status."""
    rng = random.Random(seed)
    todo = iter(kinds)
    answers: Counter[str] = Counter()

    async def worker(session: aiohttp.ClientSession) -> None:
        for kind in todo:
            try:
                async with asyncio.timeout(timeout):
                    answers[str(await send(session, base, kind, rng))] += 1
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                answers[f"no answer ({type(exc).__name__})"] += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return answers


async def stalled_bodies(base: str, pid: int, senders: int, hold: float) -> None:
    """The stalled-body attack (see the module docstring); prints RSS figures and the answers."""
    host, port = base.removeprefix("http://").split(":")
    head = (
        b"POST /webhook HTTP/1.1\r\nHost: ringbot\r\nX-GitHub-Event: push\r\n"
        b"Content-Type: application/json\r\nX-Hub-Signature-256: sha256=" + b"0" * 64 + b"\r\n"
        b"Content-Length: %d\r\n\r\n" % MB
    )
    body = b" " * (MB - 1)
    answers: Counter[str] = Counter()
    writers: list[asyncio.StreamWriter] = []
    highest = 0.0

    async def watch() -> None:
        nonlocal highest
        while True:
            highest = max(highest, memory(pid)[0])
            await asyncio.sleep(0.1)

    async def sender(sent: asyncio.Event) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
            writers.append(writer)
            writer.write(head + body)
            sent.set()  # the rest of the body stays in this process if the bot stops reading
            async with asyncio.timeout(hold + 5):
                status_line = await reader.readline()
            answers[status_line.split()[1].decode() if status_line else "closed"] += 1
        except (TimeoutError, OSError) as exc:
            answers[f"no answer ({type(exc).__name__})"] += 1
        finally:
            sent.set()

    rss_before, _ = memory(pid)
    watcher = asyncio.create_task(watch())
    started = time.perf_counter()
    tasks = []
    for start in range(0, senders, 50):  # as many connections at once as a listen backlog takes
        batch = [asyncio.Event() for _ in range(start, min(senders, start + 50))]
        tasks += [asyncio.create_task(sender(sent)) for sent in batch]
        await asyncio.gather(*(sent.wait() for sent in batch))
    await asyncio.sleep(3 - (time.perf_counter() - started))
    rss_3s, _ = memory(pid)
    await asyncio.sleep(hold - (time.perf_counter() - started))
    rss_held, _ = memory(pid)
    await asyncio.gather(*tasks)
    for writer in writers:
        writer.close()
    await asyncio.sleep(2)
    rss_closed, _ = memory(pid)
    watcher.cancel()
    print(
        f"stalled bodies: {senders} connections announcing 1 MB, sending 1 MB - 1 byte, stalling\n"
        f"  server RSS {rss_before:.0f} MB before, highest {highest:.0f} MB during, "
        f"{rss_3s:.0f} MB 3 s in, {rss_held:.0f} MB {hold:.0f} s in, "
        f"{rss_closed:.0f} MB after the connections close\n"
        "  answers: " + ", ".join(f"{status}: {count}" for status, count in sorted(answers.items()))
    )


def start_bot() -> tuple[str, mp.Process, mp.Process]:
    """The simulated GitHub and the real bot app, each in its own process."""
    parent, child = mp.Pipe()
    simulator = mp.Process(target=sim_server, args=(free_port(), child), daemon=True)
    simulator.start()
    url, key, app_id, _ = parent.recv()
    port = free_port()
    ready = mp.Event()
    bot = mp.Process(target=ringbot_server, args=(port, ready, (url, key, app_id)), daemon=True)
    bot.start()
    if not ready.wait(30):
        raise SystemExit("the bot did not start within 30 s")
    time.sleep(0.3)
    return f"http://127.0.0.1:{port}", bot, simulator


def main() -> None:
    """Start the bot, measure, load it, measure again; once per round."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000, help="requests per round")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--large", type=int, default=150, help="really large bodies per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait per request")
    parser.add_argument(
        "--stalled", type=int, default=400, help="stalled 1 MB bodies at once (0: none)"
    )
    parser.add_argument(
        "--stalled-hold", type=float, default=12.0, help="seconds before they hang up"
    )
    args = parser.parse_args()
    base, bot, simulator = start_bot()
    assert bot.pid is not None
    try:
        # A few ordinary deliveries first, so that "before" is a bot that has served requests.
        asyncio.run(load(base, ["random-event"] * 200, args.concurrency, args.seed - 1))
        rss_before, _ = memory(bot.pid)
        print(
            f"before: server RSS {rss_before:.0f} MB, "
            f"/metrics {asyncio.run(metrics_lines(base))} lines"
        )
        if args.stalled:
            asyncio.run(stalled_bodies(base, bot.pid, args.stalled, args.stalled_hold))
            rss_before, _ = memory(bot.pid)  # the rounds count from here
            if args.rounds:
                print(f"before the rounds: server RSS {rss_before:.0f} MB")
        for n in range(1, args.rounds + 1):
            kinds = plan(random.Random(args.seed + n), args.requests, args.large)
            print(
                f"round {n}: {len(kinds)} requests at concurrency {args.concurrency}: "
                + ", ".join(f"{count} {kind}" for kind, count in sorted(Counter(kinds).items()))
            )
            started = time.perf_counter()
            answers = asyncio.run(load(base, kinds, args.concurrency, args.seed + n, args.timeout))
            elapsed = time.perf_counter() - started
            time.sleep(1.0)  # let refused bodies that are still arriving drain
            rss, peak = memory(bot.pid)
            print(
                f"  answers in {elapsed:.1f} s: "
                + ", ".join(f"{status}: {count}" for status, count in sorted(answers.items()))
            )
            print(
                f"  after: server RSS {rss:.0f} MB (+{rss - rss_before:.0f} MB since before), "
                f"peak {peak:.0f} MB, /metrics {asyncio.run(metrics_lines(base))} lines"
            )
    finally:
        bot.terminate()
        simulator.terminate()


if __name__ == "__main__":
    main()
