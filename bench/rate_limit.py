"""Rate limit at organisation scale: charged GitHub requests and writes per pull request and release.

GitHub allows 5,000 requests an hour per installation (a 304 is free) and limits writes apart,
so these are the figures a busy organisation runs out of first. Three workloads, each run twice
in the same process, side by side: ringbot as it ships, and the naive mode of the same bot
(bench/naive.py: no caches, no ETags, no debounce):

  pr-life   one pull request's life (the repository's second: the first also creates its ring
            labels, once per repository): opened, 3 CI checks (each started, then finished),
            1 approval, merged, the same 3 checks on main, the automatic dev deploy and the
            CD's 2 deployment statuses (in_progress, success)
  release   one release through all five default rings (the repository's second): 4 /approve,
            3 /promote, the bake times waited out, on-premises following by itself, 10
            deployment statuses
  busy      50 pull requests interleaved, each: opened, a second push, and on each head
            4 check runs started then finished (16 check_run and 2 check_suite webhooks)

The simulator and the bot share one test clock that moves through realistic gaps (a minute or
two between steps, hours for bake times), so caches age as they would in production.

Run: .venv/bin/python bench/rate_limit.py   (about a minute; always exits 0: it measures)
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.budget import template
from bench.naive import make_naive
from bot.settings import Settings
from bot.sim.server import RequestRecord
from tests.builders import REPO, command, deployments, head, open_pr, setup_repo
from tests.harness import World, world

CHECKS = ("build", "lint", "test")
BUSY_PULLS = 50
BUSY_CHECKS = ("build", "lint", "test", "e2e")
# Targets from issue 12: charged requests and writes.
TARGETS = {
    "pr-life": {"charged": 25, "writes": 7},
    "release": {"charged": 80},
    "busy": {"charged per PR": 15},
}


@dataclass
class Tally:
    """What one workload cost one mode."""

    workload: str
    mode: str
    records: list[RequestRecord]
    per: int = 1  # pull requests in the workload (busy: 50)

    @property
    def budgeted(self) -> list[RequestRecord]:
        return [r for r in self.records if r.installation_id is not None]

    @property
    def charged(self) -> int:
        return sum(r.status != 304 for r in self.budgeted)

    @property
    def writes(self) -> int:
        return sum(r.method != "GET" for r in self.budgeted)

    @property
    def not_modified(self) -> int:
        return sum(r.status == 304 for r in self.budgeted)

    def figure(self, what: str) -> float:
        if what == "charged":
            return self.charged
        if what == "writes":
            return self.writes
        return self.charged / self.per  # "charged per PR"


@asynccontextmanager
async def mode_world(mode: str) -> AsyncIterator[World]:
    """The end-to-end world with the production debounce; made naive when asked."""
    async with world() as w:
        w.bot.settings = dataclasses.replace(
            w.bot.settings, debounce_seconds=Settings.debounce_seconds
        )
        if mode == "naive":
            make_naive(w.bot)
        yield w


async def gap(w: World, seconds: float = 90.0) -> None:
    """Let everything settle, then let time pass as it does between people's steps."""
    await w.settle()
    w.clock.advance(seconds=seconds)
    await w.settle()


async def measured(w: World, name: str, mode: str, work: Callable[[], Awaitable[None]]) -> Tally:
    """Clear the simulator's request log, run the workload, keep what the bot asked for."""
    await w.settle()
    w.sim.requests.clear()
    await work()
    await w.settle()
    return Tally(name, mode, list(w.sim.requests))


async def ci(w: World, sha: str, names: tuple[str, ...], seconds: float = 60.0) -> None:
    """CI starts every check on `sha`, then finishes them one by one, a while apart."""
    for name in names:
        w.sim.set_check_run(REPO, sha, name, status="in_progress", conclusion=None)
    await gap(w, 20)
    for name in names:
        w.sim.set_check_run(REPO, sha, name)
        await gap(w, seconds)


async def deploy_statuses(w: World, ring: str) -> None:
    """The CD reports the newest deployment in `ring`: in progress, then live."""
    newest = deployments(w, ring)[-1]
    w.sim.post_deployment_status(REPO, newest.id, "in_progress", by="deploy-bot")
    await gap(w, 120)
    w.sim.post_deployment_status(REPO, newest.id, "success", by="deploy-bot")
    await gap(w, 120)


async def pr_life(mode: str) -> Tally:
    """Opened, 3 checks, 1 approval, merged, CI on main, dev deploy, 2 deployment statuses."""
    async with mode_world(mode) as w:
        setup_repo(w)

        async def life() -> None:
            number = open_pr(w, title=f"Change {len(w.sim.repo(REPO).pulls) + 1}")
            await gap(w)
            await ci(w, head(w, number), CHECKS)
            w.sim.review(REPO, number, "alice", "APPROVED")
            await gap(w)
            sha = w.sim.merge_pull_request(REPO, number, by="alice")
            await gap(w, 30)
            await ci(w, sha, CHECKS)
            await deploy_statuses(w, "dev")

        # The repository's first release also creates its ring labels, once: the second pull
        # request's life is the one every later pull request repeats.
        await life()
        await gap(w, 1800)
        return await measured(w, "pr-life", mode, life)


async def release(mode: str) -> Tally:
    """A release through dev, internal, early-adopters, production and on-premises: the
    repository's second (the first also creates its ring labels and meets each ring's
    environment for the first time, once per repository)."""
    async with mode_world(mode) as w:
        setup_repo(w, people={"carol": "maintain"})  # she signs off production too

        async def merged() -> int:
            number = open_pr(w, title=f"Change {len(w.sim.repo(REPO).pulls) + 1}")
            await ci(w, head(w, number), CHECKS)
            w.sim.review(REPO, number, "alice", "APPROVED")
            await gap(w)
            sha = w.sim.merge_pull_request(REPO, number, by="alice")
            await ci(w, sha, CHECKS)
            return number

        async def journey(number: int) -> None:
            await deploy_statuses(w, "dev")
            steps = [
                ("dev", "internal", 0.0),
                ("internal", "early-adopters", 24.0),
                ("early-adopters", "production", 48.0),
            ]
            for signed, promote, bake_hours in steps:
                await command(w, number, f"/approve {signed}", by="carol")
                await gap(w, 600)
                w.clock.advance(hours=bake_hours)  # the next ring's bake time passes
                await command(w, number, f"/promote {promote}", by="alice")
                await gap(w)
                await deploy_statuses(w, promote)
            await command(w, number, "/approve production", by="carol")
            await gap(w, 600)
            await deploy_statuses(w, "on-premises")  # it followed by itself

        await journey(await merged())
        await gap(w, 1800)
        number = await merged()
        return await measured(w, "release", mode, lambda: journey(number))


async def busy(mode: str) -> Tally:
    """50 pull requests, interleaved: 2 pushes each, 4 checks started and finished per head."""
    async with mode_world(mode) as w:
        setup_repo(w)
        rng = random.Random(12)

        def script(n: int) -> list[Callable[[], None]]:
            """One pull request's webhooks-to-be, in its own order."""
            state = {"number": 0}
            steps: list[Callable[[], None]] = []

            def opened() -> None:
                state["number"] = open_pr(w, title=f"Change {n}")

            def pushed() -> None:
                pull = w.sim.repo(REPO).pulls[state["number"]]
                w.sim.push(REPO, {f"change-{n}.txt": "again\n"}, branch=pull.head_ref)

            def check(name: str, status: str) -> Callable[[], None]:
                def run() -> None:
                    sha = head(w, state["number"])
                    if status == "completed":
                        w.sim.set_check_run(REPO, sha, name)
                    else:
                        w.sim.set_check_run(REPO, sha, name, status=status, conclusion=None)

                return run

            for push in (opened, pushed):
                steps.append(push)
                steps += [check(name, "in_progress") for name in BUSY_CHECKS]
                finished = [check(name, "completed") for name in BUSY_CHECKS]
                rng.shuffle(finished)
                steps += finished
            return steps

        async def day() -> None:
            queues = [script(n) for n in range(BUSY_PULLS)]
            while any(queues):
                # Any pull request may be next: the repository's webhooks interleave.
                q = rng.choice([q for q in queues if q])
                q.pop(0)()
                await w.settle()
                w.clock.advance(seconds=rng.uniform(2, 20))

        tally = await measured(w, "busy", mode, day)
        tally.per = BUSY_PULLS
        return tally


def where(t: Tally, top: int = 8) -> list[str]:
    """The requests that cost the most, by method and path template."""
    counts: Counter[tuple[str, str]] = Counter()
    for r in t.budgeted:
        if r.status != 304:
            counts[(r.method, template(r.path))] += 1
    return [f"      {n:5}  {m:6} {p}" for (m, p), n in counts.most_common(top)]


def report(tallies: list[Tally], elapsed: float) -> None:
    """One row per workload: ringbot against naive, and the verdict on each target."""
    print("ringbot rate-limit cost per workload (charged = every installation request but 304s)")
    print()
    head_row = f"{'workload':10} | {'ringbot charged':>15} | {'writes':>6} | {'304s':>5} | "
    head_row += f"{'naive charged':>13} | {'writes':>6} | verdict"
    print(head_row)
    print("-" * len(head_row))
    by = {(t.workload, t.mode): t for t in tallies}
    for workload in ("pr-life", "release", "busy"):
        ours, naive = by[(workload, "ringbot")], by[(workload, "naive")]
        per = f" ({ours.charged / ours.per:.1f}/PR)" if ours.per > 1 else ""
        naive_per = f" ({naive.charged / naive.per:.1f}/PR)" if naive.per > 1 else ""
        verdicts = []
        for what, limit in TARGETS[workload].items():
            value = ours.figure(what)
            word = "PASS" if value <= limit else "OVER"
            verdicts.append(f"{word} {what} {value:g} <= {limit}")
        print(
            f"{workload:10} | {str(ours.charged) + per:>15} | {ours.writes:>6} | "
            f"{ours.not_modified:>5} | {str(naive.charged) + naive_per:>13} | "
            f"{naive.writes:>6} | {', '.join(verdicts)}"
        )
    busy_t = by[("busy", "ringbot")]
    hourly = 5000 / (busy_t.charged / busy_t.per)
    naive_b = by[("busy", "naive")]
    print()
    print(
        f"pull requests an hour per installation (busy workload): ringbot {hourly:.0f}, "
        f"naive {5000 / (naive_b.charged / naive_b.per):.0f}"
    )
    print()
    print("Where ringbot's charged requests went:")
    for t in tallies:
        if t.mode == "ringbot":
            print(f"  {t.workload}")
            print("\n".join(where(t)))
    print()
    print(f"measured in {elapsed:.1f}s")


async def main() -> None:
    started = time.perf_counter()
    tallies = []
    for workload in (pr_life, release, busy):
        for mode in ("ringbot", "naive"):
            tallies.append(await workload(mode))
    report(tallies, time.perf_counter() - started)


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    asyncio.run(main())
    sys.exit(0)
