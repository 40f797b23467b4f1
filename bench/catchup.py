"""Catch-up cost: what making up for 1,000 missed deliveries about 50 pull requests costs.

The bot is taken down; 50 pull requests are opened and built over and over until GitHub has tried
(and failed) to deliver 1,000 webhooks about them. Then a fresh bot starts, in two ways:

  catch-up  ringbot's own: the first pass reads the delivery log, fetches every missed payload,
            triages them all into work keys and queues them together, so the queue coalesces
            them into about one job per work key.
  naive     the baseline: every missed delivery is redelivered through GitHub
            (POST /app/hook/deliveries/{id}/attempts) and evaluated on its own before the next.

Columns:
  app       requests made with the App's JWT (the delivery log, redeliveries, token exchanges):
            GitHub limits these apart from the installation's 5,000 an hour
  inst      requests made with the installation token; charged: inst minus 304s
  jobs      jobs the bot ran (gate: merge-gate evaluations among them)

Run: .venv/bin/python bench/catchup.py   (about a minute; always exits 0: it measures)
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import Settings
from bot.sim.server import RequestRecord
from tests.builders import TWO_RINGS, build, head, open_pr, setup_repo
from tests.harness import World, start_bot, world

MISSED = 1_000
PULLS = 50


@dataclass
class Cost:
    """What one way of catching up cost."""

    name: str
    records: list[RequestRecord]
    jobs: float
    gate_jobs: float
    seconds: float

    @property
    def app(self) -> list[RequestRecord]:
        """Requests made with the App's JWT."""
        return [r for r in self.records if r.installation_id is None]

    @property
    def inst(self) -> list[RequestRecord]:
        """Requests made with the installation token."""
        return [r for r in self.records if r.installation_id is not None]

    def count(self, method: str, suffix: str) -> int:
        """App requests of a method whose path ends a given way."""
        return sum(r.method == method and r.path.endswith(suffix) for r in self.app)


@asynccontextmanager
async def down_world() -> AsyncIterator[tuple[World, set[str]]]:
    """A world whose bot was down while GitHub failed MISSED deliveries about PULLS pull requests."""
    async with world() as w:
        assert w.settings is not None
        # Production debounce, so bursts coalesce as they would in production.
        w.settings = dataclasses.replace(w.settings, debounce_seconds=Settings.debounce_seconds)
        w.bot.settings = w.settings
        setup_repo(w, config=TWO_RINGS)
        await w.settle()
        assert w.runner is not None
        await w.runner.cleanup()
        w.runner = None
        before = len(w.sim.deliveries)
        numbers = [open_pr(w) for _ in range(PULLS)]
        while len(w.sim.deliveries) - before < MISSED:
            for n in numbers:
                if len(w.sim.deliveries) - before >= MISSED:
                    break
                build(w, head(w, n), name=f"ci-{len(w.sim.deliveries)}")
        await w.settle()
        newest = {a.delivery.id: a for a in w.sim.hook_log.attempts}
        yield w, {guid for guid, a in newest.items() if a.failed}


def jobs(w: World, kind: str | None = None) -> float:
    """Jobs the running bot finished (of one kind, or all)."""
    total = 0.0
    for metric in w.bot.metrics.registry.collect():
        for s in metric.samples:
            if s.name == "ringbot_jobs_total" and (kind is None or s.labels["kind"] == kind):
                total += s.value
    return total


async def up(w: World, **changes: object) -> None:
    """Start a fresh bot with these settings changed."""
    assert w.settings is not None
    settings = dataclasses.replace(w.settings, **changes)  # type: ignore[arg-type]
    w.runner, w.bot, w.bot_url = await start_bot(settings, w.clock)
    w.sim.webhook_url = f"{w.bot_url}/webhook"


async def catch_up() -> tuple[Cost, int]:
    """ringbot's catch-up: one pass, replays coalesced in the queue."""
    async with down_world() as (w, missed):
        w.sim.requests.clear()
        started = time.perf_counter()
        await up(w)
        await asyncio.sleep(0)
        await w.bot.catchup.idle()
        await w.settle(rounds=500)
        cost = Cost(
            "catch-up",
            list(w.sim.requests),
            jobs(w),
            jobs(w, "GateKey"),
            time.perf_counter() - started,
        )
        return cost, len(missed)


async def naive() -> tuple[Cost, int]:
    """The baseline: each missed delivery redelivered and evaluated on its own."""
    async with down_world() as (w, missed):
        w.sim.requests.clear()
        started = time.perf_counter()
        await up(w, catchup_seconds=0.0)
        await w.settle()
        gh = w.bot.github.app_client()
        listed = [
            e
            async for e in gh.getiter(
                "/app/hook/deliveries?per_page=100", jwt=w.bot.github.auth.jwt()
            )
        ]
        newest: dict[str, int] = {}
        for entry in listed:
            newest.setdefault(entry["guid"], entry["id"])
        for guid in [g for g in reversed(newest) if g in missed]:
            await gh.post(
                f"/app/hook/deliveries/{newest[guid]}/attempts",
                data={},
                jwt=w.bot.github.auth.jwt(),
            )
            await w.settle(rounds=200)
        cost = Cost(
            "naive",
            list(w.sim.requests),
            jobs(w),
            jobs(w, "GateKey"),
            time.perf_counter() - started,
        )
        return cost, len(missed)


def report(costs: list[tuple[Cost, int]]) -> None:
    """Print the two side by side."""
    header = (
        "way",
        "missed",
        "app",
        "  log pages",
        "  payloads",
        "  redelivered",
        "inst",
        "charged",
        "jobs",
        "gate",
        "seconds",
    )
    rows = []
    for c, missed in costs:
        charged = sum(r.status != 304 for r in c.inst)
        rows.append(
            (
                c.name,
                str(missed),
                str(len(c.app)),
                str(c.count("GET", "/app/hook/deliveries")),
                str(
                    sum(
                        r.method == "GET"
                        and r.path.count("/") == 4
                        and r.path.startswith("/app/hook/")
                        for r in c.app
                    )
                ),
                str(c.count("POST", "/attempts")),
                str(len(c.inst)),
                str(charged),
                f"{c.jobs:.0f}",
                f"{c.gate_jobs:.0f}",
                f"{c.seconds:.1f}",
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"catch-up of {MISSED} missed deliveries about {PULLS} pull requests")
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(
            " | ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


async def main() -> None:
    report([await catch_up(), await naive()])


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    asyncio.run(main())
    sys.exit(0)
