"""Request budget: how many GitHub requests each thing ringbot does costs, against the targets.

GitHub's rate limit (5,000 requests an hour per installation) is what a busy repository runs out of
first, so every figure here is a count of requests. Each scenario builds its own world (the GitHub
simulator and the real bot app, wired as in the end-to-end tests), clears the simulator's request
log right before the measured action, performs it, waits until all is quiet and counts what the
bot asked GitHub for.

Columns:
  requests  requests made with the installation token (the rate limit's bucket), 304s included
  reads     GETs among them;  writes: everything else
  304s      conditional GETs answered "not modified" from the bot's ETag cache
  charged   requests - 304s: what GitHub charges to the rate limit (a 304 is free)
  auth      App-level requests (JWT: the installation-token exchange, about once an hour);
            another limit, not part of the budget

"cold" is the first job in a fresh bot (config, permission and ETag caches empty); "warm" is a
later one. Commands are measured with the commenter's permission not cached (it is kept 60 s and
commands come minutes apart) but the config and ETags warm. The bot runs with the production
debounce (Settings.debounce_seconds), not the 0.05 s the tests use, so bursts coalesce as they
would in production. Targets are judged on `requests`; an OVER whose charged count fits says so.

Run: .venv/bin/python bench/budget.py   (under 10 s; always exits 0: it measures, it does not test)
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import Settings
from bot.sim.server import RequestRecord
from tests.builders import (
    REPO,
    build,
    cd,
    command,
    deployments,
    head,
    merge,
    open_pr,
    ready_pr,
    released,
    setup_repo,
)
from tests.harness import World, world

PRODUCTION_DEBOUNCE = Settings.debounce_seconds
# The default rings plus one feature flag on in the first two.
FLAGS = "features:\n  new-grid: [dev, internal]\n"

# A numeric segment after one of these names is named by the template; other names get {id}.
NUMBERED = {"pulls": "{n}", "issues": "{n}"}
# These take a non-numeric identifier (a SHA, branch, login, label, environment...).
NAMED = {
    "commits": "{ref}",
    "collaborators": "{user}",
    "labels": "{name}",
    "compare": "{base}...{head}",
    "environments": "{env}",
    "variables": "{name}",
    "refs": "{ref}",
}


def template(path: str) -> str:
    """`/repos/acme/widgets/pulls/3` -> `/repos/{o}/{r}/pulls/{n}`."""
    parts = path.strip("/").split("/")
    if parts[:1] == ["repos"] and len(parts) >= 3:
        parts[1:3] = ["{o}", "{r}"]
    out: list[str] = []
    for part in parts:
        before = out[-1] if out else ""
        if before == "contents" and out[:1] == ["repos"]:
            out.append("{path}")  # the file path may span several segments
            break
        if part.isdigit():
            out.append(NUMBERED.get(before, "{id}"))
        elif before in NAMED:
            out.append(NAMED[before])
        else:
            out.append(part)
    return "/" + "/".join(out)


@dataclass
class Measured:
    """What one scenario cost."""

    name: str
    records: list[RequestRecord]
    target: str = ""
    checks: list[tuple[str, int, int]] = field(default_factory=list)  # (what, value, limit)
    note: str = ""

    @property
    def budgeted(self) -> list[RequestRecord]:
        """Requests made as the installation (what its rate limit counts)."""
        return [r for r in self.records if r.installation_id is not None]

    @property
    def auth(self) -> list[RequestRecord]:
        """App-level requests (JWT)."""
        return [r for r in self.records if r.installation_id is None]

    @property
    def reads(self) -> int:
        return sum(r.method == "GET" for r in self.budgeted)

    @property
    def writes(self) -> int:
        return sum(r.method != "GET" for r in self.budgeted)

    @property
    def not_modified(self) -> int:
        return sum(r.status == 304 for r in self.budgeted)

    @property
    def charged(self) -> int:
        """What the rate limit is charged: every request but the 304s."""
        return len(self.budgeted) - self.not_modified

    def verdict(self) -> str:
        """PASS/OVER against every limit set for this scenario ('' when it has none)."""
        found = []
        for what, value, limit in self.checks:
            if value <= limit:
                found.append(f"PASS {what} {value} <= {limit}")
                continue
            text = f"OVER {what} {value} > {limit}"
            if what == "requests" and self.charged <= limit:
                text += f" (charged {self.charged}: within)"
            found.append(text)
        return ", ".join(found)


def limits(m: Measured, *, requests: int | None = None, writes: int | None = None) -> Measured:
    """Attach the targets a scenario is judged against."""
    if requests is not None:
        m.checks.append(("requests", len(m.budgeted), requests))
    if writes is not None:
        m.checks.append(("writes", m.writes, writes))
    return m


@asynccontextmanager
async def bench_world() -> AsyncIterator[World]:
    """The end-to-end world, with the bot's debounce put back to the production default.

    tests.harness.world() builds its Settings itself with a 0.05 s debounce; the queue reads the
    delay from `bot.settings` at every enqueue, so swapping in a copy with the production value
    before any event arrives is all it takes.
    """
    async with world() as w:
        w.bot.settings = dataclasses.replace(w.bot.settings, debounce_seconds=PRODUCTION_DEBOUNCE)
        yield w


async def measure(w: World, name: str, action: Callable[[], Awaitable[object]]) -> Measured:
    """Clear the request log, run the action, settle, and keep what the bot asked for."""
    await w.settle()
    w.sim.requests.clear()
    await action()
    await w.settle()
    return Measured(name, list(w.sim.requests))


async def act(w: World, fn: Callable[[], object]) -> None:
    """Run a simulator action (it queues webhooks) and wait for everything it sets off."""
    fn()
    await w.settle()


# --- scenarios ---------------------------------------------------------------------------------


async def gate_scenarios() -> list[Measured]:
    """1-3: the merge gate cold on a new PR, warm after an approval, and with nothing changed."""
    out = []
    async with bench_world() as w:
        setup_repo(w)
        number = 0

        def opened() -> None:
            nonlocal number
            number = open_pr(w)

        m = await measure(w, "gate: PR opened (cold)", lambda: act(w, opened))
        out.append(limits(m, requests=4, writes=1))
        await act(w, lambda: build(w, head(w, number)))  # the PR's build turns green
        m = await measure(
            w,
            "gate: approval submitted (warm)",
            lambda: act(w, lambda: w.sim.review(REPO, number, "alice", "APPROVED")),
        )
        out.append(limits(m, requests=4, writes=1))
        m = await measure(
            w,
            "gate: COMMENTED review, nothing changed",
            lambda: act(w, lambda: w.sim.review(REPO, number, "carol", "COMMENTED")),
        )
        out.append(limits(m, requests=4, writes=0))
    return out


async def burst_scenario() -> Measured:
    """4: twenty events on one PR in quick succession (alternating reviews and labels)."""
    async with bench_world() as w:
        setup_repo(w)
        number = await ready_pr(w)

        def burst() -> None:
            for i in range(20):
                if i % 2:
                    w.sim.add_label(REPO, number, f"area-{i}", by="alice")
                else:
                    w.sim.review(REPO, number, "carol", "COMMENTED")

        m = await measure(w, "gate: burst of 20 events on one PR", lambda: act(w, burst))
        runs = sum(r.path.endswith(f"/pulls/{number}") for r in m.records)
        m.note = f"{runs} evaluation(s)"
        return limits(m, requests=6)


async def ring_scenarios() -> list[Measured]:
    """5-7: auto-deploy to dev, then the commands on the released PR; /reject in its own world.

    Each command is measured with its author's permission not cached (it is kept 60 s, and
    commands are minutes apart); the config and the ETags are warm, as in a running bot.
    """
    out = []
    async with bench_world() as w:
        setup_repo(w)
        number = await ready_pr(w)
        sha = ""

        async def merged() -> None:
            nonlocal sha
            sha = await merge(w, number, green=False)

        out.append(await measure(w, "merge: push to main, CI not done (info)", merged))
        m = await measure(
            w, "auto-deploy to dev: green build on main", lambda: act(w, lambda: build(w, sha))
        )
        m.note = f"{len(deployments(w, 'dev'))} dev deployment(s)"
        out.append(m)
        await cd(w, "dev")  # the user's CD reports the deploy: the release is live in dev

        async def run(by: str, body: str) -> None:
            w.bot.caches.permissions.clear()
            await command(w, number, body, by=by)

        out.append(await measure(w, "/approve dev", lambda: run("carol", "/approve dev")))
        out.append(await measure(w, "/status", lambda: run("bob", "/status")))
        m = await measure(w, "/promote internal", lambda: run("bob", "/promote internal"))
        m.note = f"{len(deployments(w, 'internal'))} internal deployment(s)"
        out.append(limits(m, requests=10, writes=4))
    async with bench_world() as w:
        # Feature toggles: the config arrives by a push, which syncs every ring's environment;
        # a release entering a ring then re-reads that ring's variables to repair drift.
        setup_repo(w)
        await act(w, lambda: w.sim.push(REPO, files={".github/ringbot.yml": FLAGS}, author="alice"))
        number, _ = await released(w)
        await command(w, number, "/approve dev", by="carol")
        w.bot.caches.permissions.clear()
        m = await measure(
            w,
            "/promote internal, 1 feature flag",
            lambda: command(w, number, "/promote internal", by="bob"),
        )
        m.note = f"{len(deployments(w, 'internal'))} internal deployment(s)"
        out.append(limits(m, requests=10, writes=4))
    async with bench_world() as w:
        setup_repo(w)
        number, _ = await released(w)
        w.bot.caches.permissions.clear()
        out.append(
            await measure(
                w,
                "/reject dev <reason>",
                lambda: command(w, number, "/reject dev crashes on start", by="carol"),
            )
        )
    return out


# --- report ------------------------------------------------------------------------------------


def breakdown(m: Measured) -> list[str]:
    """Where the requests went: each (method, template) with its count and its 304s."""
    counts: Counter[tuple[str, str]] = Counter()
    cached: Counter[tuple[str, str]] = Counter()
    for r in m.budgeted:
        key = (r.method, template(r.path))
        counts[key] += 1
        cached[key] += r.status == 304
    # Reads first, then writes, each in the order they were first made.
    order = sorted(counts, key=lambda k: k[0] != "GET")
    lines = []
    for method, path in order:
        n, hit = counts[(method, path)], cached[(method, path)]
        extra = f"  ({hit}x 304)" if hit else ""
        lines.append(f"    {n}x {method:6} {path}{extra}")
    for r in m.auth:
        lines.append(f"    auth: {r.method} {template(r.path)}")
    return lines


def report(results: list[Measured], elapsed: float) -> None:
    """Print the table, then where each scenario's requests went."""
    header = ("scenario", "requests", "reads", "writes", "304s", "charged", "auth", "verdict")
    rows = [
        (
            m.name,
            str(len(m.budgeted)),
            str(m.reads),
            str(m.writes),
            str(m.not_modified),
            str(m.charged),
            str(len(m.auth)),
            m.verdict() or "(no target)",
        )
        for m in results
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return " | ".join(
            c.ljust(w) if i in (0, 7) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(f"ringbot request budget (debounce {PRODUCTION_DEBOUNCE}s, production default)")
    print()
    print(line(header))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print()
    print("Where the requests went (installation requests; auth listed apart):")
    for m in results:
        print(f"  {m.name}" + (f"  [{m.note}]" if m.note else ""))
        for text in breakdown(m):
            print(text)
    over = sum("OVER" in m.verdict() for m in results)
    print()
    print(f"{over} scenario(s) over budget; measured in {elapsed:.1f}s")


async def main() -> None:
    started = time.perf_counter()
    results = await gate_scenarios()
    results.append(await burst_scenario())
    results += await ring_scenarios()
    report(results, time.perf_counter() - started)


if __name__ == "__main__":
    # The bot logs every write and job as JSON; the table is the output here.
    logging.disable(logging.WARNING)
    asyncio.run(main())
    sys.exit(0)
