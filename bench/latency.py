"""Latency: how long a person waits for ringbot when GitHub takes 100 ms to answer each request.

Everything here runs on the real clock (SystemClock, for the bot and the simulator alike), with
the production debounce (Settings.debounce_seconds) and a simulator that answers every REST
request after LATENCY seconds (`Server.latency`). Each configuration gets one world (one
simulator, one bot in this process); its repositories are built with no latency and no debounce,
so the building is quick, then both are put back before anything is measured.

  (a) gate        a pull request is opened: from the `pull_request` delivery to the gate's check
                  run written (the write answered), p50 over GATE_PULLS pull requests, one at a time
  (b) /promote    `/promote internal` on a released pull request: from the comment's delivery to
                  the deployment created (and to the reply), p50 over PROMOTES repositories
  (c) burst       BURST_REPOS repositories with an open pull request each; ~10 events per pull
                  request (builds, reviews, labels) all POSTed at once: each event's latency to its
                  pull request's gate written, p99, and when the queue was drained
  (d) /promote×N  BURST_REPOS `/promote internal` comments POSTed at once: p99 to the deployment

The GitHub state is complete before a burst is delivered, so the first gate written after it
reflects every event of the burst. A burst is timed from the moment its POSTs start (GitHub sends
them at once); the bot, the simulator and the sender share one event loop, so a burst also
measures the bot's own webhook intake.

Configurations, side by side: `before` is the bot as it was (8 workers, every read one after the
other: the parallel reads are made sequential by swapping the `asyncio` the read modules see);
`after` is the bot as it is (RINGBOT_WORKERS default, reads in parallel).

Run: .venv/bin/python bench/latency.py   (about 2-3 minutes; always exits 0: it measures)
     .venv/bin/python bench/latency.py after   (one configuration only)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import json
import logging
import multiprocessing as mp
import statistics
import sys
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bot.handlers.pulls
import bot.snapshot.pulls
import bot.snapshot.rings
from bot.clock import SystemClock
from bot.settings import Settings
from bot.sim import Simulator
from bot.sim.delivery import Delivery, headers
from bot.sim.server import RequestRecord
from tests.builders import TWO_RINGS
from tests.harness import SECRET, World, bot_settings, start_bot

LATENCY = 0.1
PRODUCTION_DEBOUNCE = Settings.debounce_seconds
BEFORE_DEBOUNCE = 0.3  # the debounce before issue 12
GATE_PULLS = 20
PROMOTES = 10
BURST_REPOS = 200
BEFORE_WORKERS = 8

TARGETS = {
    "gate p50": 0.450,
    "/promote p50": 0.400,
    "burst gate p99": 4.0,
}


# --- the world on the real clock ----------------------------------------------------------------


@asynccontextmanager
async def real_world(workers: int, debounce: float) -> AsyncIterator[World]:
    """The simulator and the real bot on the system clock, `workers` jobs at once."""
    clock = SystemClock()
    sim = Simulator(webhook_secret=SECRET, clock=clock.now)
    api_url = await sim.start(port=0)
    sim.public_url = api_url
    settings = bot_settings(sim, api_url, debounce_seconds=debounce, concurrency=workers)
    runner, ringbot, bot_url = await start_bot(settings, clock)  # type: ignore[arg-type]
    sim.webhook_url = f"{bot_url}/webhook"
    w = World(sim, ringbot, clock, bot_url, api_url, settings, runner)  # type: ignore[arg-type]
    try:
        yield w
    finally:
        await runner.cleanup()
        await sim.close()


@contextmanager
def building(w: World) -> Any:
    """No latency and no debounce while repositories are built; both put back after."""
    w.sim.server.latency = 0.0
    debounce = w.bot.settings.debounce_seconds
    w.bot.settings = dataclasses.replace(w.bot.settings, debounce_seconds=0.0)
    try:
        yield
    finally:
        w.bot.settings = dataclasses.replace(w.bot.settings, debounce_seconds=debounce)
        w.sim.server.latency = LATENCY


async def quiet(w: World) -> None:
    """Wait until no delivery is in flight and the bot's queue is empty (real time passes)."""
    for _ in range(3):
        await w.sim.settle()
        await w.bot.queue.join()
        await asyncio.sleep(0.01)


def setup(w: World, repo: str) -> None:
    w.sim.create_repo(repo, default_branch="main", files={".github/ringbot.yml": TWO_RINGS})
    for login, role in {"alice": "maintain", "bob": "write", "carol": "write"}.items():
        w.sim.add_collaborator(repo, login, role)


def open_pull(w: World, repo: str) -> int:
    n = len(w.sim.repo(repo).pulls) + 1
    return int(
        w.sim.open_pull_request(repo, author="bob", title="Add a widget", files={f"w{n}.txt": "w"})
    )


def green(w: World, repo: str, sha: str, name: str = "build") -> None:
    w.sim.set_check_run(repo, sha, name, status="completed", conclusion="success", app="ci")


async def released(w: World, repos: list[str]) -> dict[str, int]:
    """In each repository: a pull request merged, live in dev and signed off there by carol."""
    numbers: dict[str, int] = {}
    for repo in repos:
        setup(w, repo)
        numbers[repo] = number = open_pull(w, repo)
        green(w, repo, w.sim.repo(repo).pulls[number].head_sha)
        w.sim.review(repo, number, "alice", "APPROVED")
    await quiet(w)
    for repo in repos:
        green(w, repo, str(w.sim.merge_pull_request(repo, numbers[repo], by="alice")))
    await quiet(w)
    for repo in repos:
        dev = [d for d in w.sim.repo(repo).deployments.values() if d.environment == "dev"]
        assert dev, f"{repo}: ringbot deployed nothing to dev"
        w.sim.post_deployment_status(repo, max(d.id for d in dev), "success", by="deploy-bot")
    await quiet(w)
    for repo in repos:
        w.sim.comment(repo, numbers[repo], "carol", "/approve dev")
    await quiet(w)
    return numbers


# --- timing -------------------------------------------------------------------------------------


def timed_deliveries(w: World) -> list[tuple[float, Delivery]]:
    """Every delivery the simulator POSTs from now on, with the time it started (time.time)."""
    sent: list[tuple[float, Delivery]] = []
    post = w.sim.deliverer._post

    async def timed(d: Delivery) -> None:
        sent.append((time.time(), d))
        await post(d)

    w.sim.deliverer._post = timed  # type: ignore[method-assign]
    return sent


def is_write(r: RequestRecord, repo: str, what: str) -> bool:
    return (
        r.method in ("POST", "PATCH")
        and r.status < 300
        and r.path.startswith(f"/repos/{repo}/{what}")
    )


async def wait_for(
    w: World, found: Callable[[], float | None], timeout: float = 30.0
) -> float | None:
    """Poll until `found` gives a time (or None after the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at = found()
        if at is not None:
            return at
        await asyncio.sleep(0.002)
    return None


def first_write(w: World, start: int, repo: str, what: str, after: float) -> float | None:
    """When the first write of `what` in `repo` after `after` was answered."""
    for r in w.sim.requests[start:]:
        if is_write(r, repo, what) and r.at.timestamp() >= after:
            return r.at.timestamp()
    return None


async def captured(w: World, make: Callable[[], None]) -> list[Delivery]:
    """The deliveries `make` causes, held back (recorded, not POSTed)."""
    await quiet(w)
    url, w.sim.webhook_url = w.sim.webhook_url, None
    before = len(w.sim.deliveries)
    make()
    await w.sim.settle()
    w.sim.webhook_url = url
    return w.sim.deliveries[before:]


async def post_all(w: World, deliveries: Iterable[Delivery]) -> float:
    """POST every delivery to the bot at once, as GitHub would, from another process (GitHub's
    sending costs the bot nothing); the time they started."""
    url = f"{w.bot_url}/webhook"
    prepared = []
    for d in deliveries:
        body = json.dumps(d.payload).encode()
        prepared.append((body, headers(SECRET, d, body)))
    loop = asyncio.get_running_loop()
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        await loop.run_in_executor(pool, warm_sender)  # the process is up before the clock runs
        return await loop.run_in_executor(pool, send_all, url, prepared)


def warm_sender() -> None:
    """Import what the sender needs, so starting it is not timed."""
    import aiohttp  # noqa: F401


def send_all(url: str, prepared: list[tuple[bytes, dict[str, str]]]) -> float:
    """In the sender process: POST them all at once; the time sending started."""

    async def main() -> float:
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def post(body: bytes, head: dict[str, str]) -> None:
                async with session.post(url, data=body, headers=head) as resp:
                    await resp.read()
                    assert resp.status == 202, resp.status

            start = time.time()
            await asyncio.gather(*(post(body, head) for body, head in prepared))
            return start

    return asyncio.run(main())


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# --- the scenarios ------------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    values: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    requests: int = 0


async def gate_scenario(w: World, figures: Figures) -> None:
    """(a) one pull request opened at a time: delivery -> gate written."""
    repo = "gate/widgets"
    with building(w):
        setup(w, repo)
        open_pull(w, repo)  # warms the token, the config and the ETags
        await quiet(w)
    sent = timed_deliveries(w)
    latencies: list[float] = []
    for _ in range(GATE_PULLS):
        start = len(w.sim.requests)
        mark = len(sent)
        open_pull(w, repo)
        t0 = await wait_for(w, lambda m=mark: next((t for t, _ in sent[m:]), None))
        assert t0 is not None
        done = await wait_for(w, lambda s=start, t=t0: first_write(w, s, repo, "check-runs", t))
        assert done is not None, "no gate written"
        latencies.append(done - t0)
        await quiet(w)
    figures.values["gate p50"] = statistics.median(latencies)
    figures.notes.append(f"gate: min {min(latencies):.3f} s, max {max(latencies):.3f} s")


async def promote_scenario(w: World, figures: Figures, numbers: dict[str, int]) -> None:
    """(b) one `/promote internal` at a time: delivery -> deployment created, -> reply."""
    sent = timed_deliveries(w)
    deploys: list[float] = []
    replies: list[float] = []
    for repo, number in numbers.items():
        start = len(w.sim.requests)
        mark = len(sent)
        w.sim.comment(repo, number, "bob", "/promote internal")
        t0 = await wait_for(w, lambda m=mark: next((t for t, _ in sent[m:]), None))
        assert t0 is not None
        made = await wait_for(
            w, lambda s=start, r=repo, t=t0: first_write(w, s, r, "deployments", t)
        )
        assert made is not None, f"{repo}: no deployment created"
        deploys.append(made - t0)
        await quiet(w)
        # The reply: the comment ringbot writes once the deployment is made.
        comments = [
            r.at.timestamp()
            for r in w.sim.requests[start:]
            if is_write(r, repo, "issues/") and r.path.endswith("/comments")
        ]
        if comments:
            replies.append(comments[0] - t0)
    figures.values["/promote p50"] = statistics.median(deploys)
    if replies:
        figures.values["/promote reply p50"] = statistics.median(replies)


async def burst_scenario(w: World, figures: Figures, repos: list[str]) -> None:
    """(c) ~10 events on one pull request in each of the repositories, POSTed at once."""
    pulls: dict[str, int] = {}
    with building(w):
        for repo in repos:
            pulls[repo] = open_pull(w, repo)
        await quiet(w)

    def events() -> None:
        for repo, number in pulls.items():
            sha = w.sim.repo(repo).pulls[number].head_sha
            for name in ("build", "lint"):
                green(w, repo, sha, name)
            w.sim.review(repo, number, "alice", "APPROVED")
            for label in ("ui", "docs", "perf"):
                w.sim.add_label(repo, number, label, by="bob")

    burst = await captured(w, events)
    per_repo = {repo: 0 for repo in repos}
    for d in burst:
        per_repo[d.payload["repository"]["full_name"]] += 1
    start = len(w.sim.requests)
    jobs_before = jobs_run(w)
    t0 = await post_all(w, burst)
    posted = time.time() - t0
    await w.bot.queue.join()
    drained = time.time() - t0
    written: dict[str, float] = {}
    for r in w.sim.requests[start:]:
        repo = r.path.split("/")[2] + "/" + r.path.split("/")[3] if r.path.count("/") > 3 else ""
        if repo in pulls and is_write(r, repo, "check-runs") and repo not in written:
            written[repo] = r.at.timestamp() - t0
    missing = [repo for repo in repos if repo not in written]
    latencies = [written[d.payload["repository"]["full_name"]] for d in burst if not missing]
    figures.values["burst gate p50"] = pct(latencies, 50)
    figures.values["burst gate p99"] = pct(latencies, 99)
    figures.values["burst drained"] = drained
    figures.notes.append(
        f"burst: {len(burst)} events ({min(per_repo.values())}-{max(per_repo.values())} per "
        f"repository), POSTed in {posted:.2f} s, run as {jobs_run(w) - jobs_before:.0f} jobs; "
        f"gates missing: {len(missing)}"
    )


def jobs_run(w: World) -> float:
    """How many jobs the bot has run so far (its ringbot_jobs_total)."""
    return sum(
        sample.value
        for metric in w.bot.metrics.jobs.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


async def promote_burst(w: World, figures: Figures, numbers: dict[str, int]) -> None:
    """(d) `/promote internal` in every repository at once: comment -> deployment created."""

    def comments() -> None:
        for repo, number in numbers.items():
            w.sim.comment(repo, number, "bob", "/promote internal")

    burst = await captured(w, comments)
    start = len(w.sim.requests)
    t0 = await post_all(w, burst)
    await w.bot.queue.join()
    drained = time.time() - t0
    made: dict[str, float] = {}
    for r in w.sim.requests[start:]:
        parts = r.path.split("/")
        repo = "/".join(parts[2:4]) if len(parts) > 3 else ""
        if repo in numbers and is_write(r, repo, "deployments") and repo not in made:
            made[repo] = r.at.timestamp() - t0
    figures.values["burst /promote p50"] = pct(list(made.values()), 50)
    figures.values["burst /promote p99"] = pct(list(made.values()), 99)
    figures.values["burst /promote drained"] = drained
    if len(made) != len(numbers):
        figures.notes.append(f"/promote burst: {len(numbers) - len(made)} made no deployment")


# --- configurations -----------------------------------------------------------------------------

READ_MODULES = (bot.handlers.pulls, bot.snapshot.pulls, bot.snapshot.rings)


async def _one_after_another(*aws: Awaitable[Any], return_exceptions: bool = False) -> list[Any]:
    """asyncio.gather made sequential: each awaitable runs to its end before the next starts."""
    results: list[Any] = []
    for aw in aws:
        try:
            results.append(await aw)
        except Exception as exc:
            if not return_exceptions:
                for rest in aws[len(results) + 1 :]:
                    if asyncio.iscoroutine(rest):
                        rest.close()
                raise
            results.append(exc)
    return results


@contextmanager
def sequential_reads(on: bool) -> Any:
    """The read modules see an `asyncio` whose gather runs one read after the other."""
    if not on:
        yield
        return
    saved = {m: m.__dict__.get("asyncio") for m in READ_MODULES}
    shim = types.SimpleNamespace(**{k: getattr(asyncio, k) for k in dir(asyncio) if k[0] != "_"})
    shim.gather = _one_after_another
    for m in READ_MODULES:
        m.asyncio = shim  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for m, value in saved.items():
            if value is None:
                m.__dict__.pop("asyncio", None)
            else:
                m.asyncio = value  # type: ignore[attr-defined]


async def run(name: str, workers: int, sequential: bool, debounce: float) -> Figures:
    reads = "sequential" if sequential else "parallel"
    figures = Figures(f"{name} ({workers} workers, {reads}, {debounce} s)")
    began = time.monotonic()
    with sequential_reads(sequential):
        async with real_world(workers, debounce) as w:
            w.sim.server.latency = LATENCY
            burst_repos = [f"burst{i:03d}/widgets" for i in range(BURST_REPOS)]
            promote_repos = [f"promote{i:02d}/widgets" for i in range(PROMOTES)]
            with building(w):
                numbers = await released(w, promote_repos + burst_repos)
            await gate_scenario(w, figures)
            await promote_scenario(w, figures, {r: numbers[r] for r in promote_repos})
            await burst_scenario(w, figures, burst_repos)
            await promote_burst(w, figures, {r: numbers[r] for r in burst_repos})
            figures.requests = len(w.sim.requests)
    figures.notes.append(f"took {time.monotonic() - began:.0f} s")
    return figures


CONFIGS = {
    "before": (BEFORE_WORKERS, True, BEFORE_DEBOUNCE),
    "after": (Settings.concurrency, False, PRODUCTION_DEBOUNCE),
    "8 workers, parallel": (BEFORE_WORKERS, False, PRODUCTION_DEBOUNCE),
}


def report(results: list[Figures]) -> None:
    names = list(dict.fromkeys(k for f in results for k in f.values))
    width = 24
    print()
    print(
        f"GitHub answers every request after {LATENCY * 1000:.0f} ms; real clock. Seconds. "
        "Columns: workers, reads, debounce."
    )
    header = f"{'figure':<{width}}{'target':>9}" + "".join(f"{f.name:>36}" for f in results)
    print(header)
    print("-" * len(header))
    for key in names:
        target = TARGETS.get(key)
        line = f"{key:<{width}}{(f'<= {target:g}' if target else ''):>9}"
        for f in results:
            value = f.values.get(key)
            mark = ""
            if target is not None and value is not None:
                mark = " ok" if value <= target else " OVER"
            line += f"{(f'{value:.3f}{mark}' if value is not None else '-'):>36}"
        print(line)
    for f in results:
        for note in f.notes:
            print(f"  {f.name}: {note}")


async def main(names: list[str]) -> None:
    logging.disable(logging.WARNING)
    results = [await run(name, *CONFIGS[name]) for name in names]
    report(results)


if __name__ == "__main__":
    chosen = sys.argv[1:] or ["before", "after"]
    asyncio.run(main(chosen))
