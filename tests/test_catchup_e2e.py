"""Catch-up: deliveries GitHub made while ringbot was down are made up for from the delivery log,
once each, coalesced into one job per work key, within a budget, and a failing log read heals."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bot.catchup import PassReport
from bot.sim.hook_log import full

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
from .harness import World, start_bot

pytestmark = pytest.mark.e2e
PASS_SECONDS = 300.0  # Settings.catchup_seconds


async def bot_down(w: World) -> None:
    """Stop the bot: from now on GitHub's deliveries fail to connect (its port is closed)."""
    assert w.runner is not None
    await w.runner.cleanup()
    w.runner = None


async def bot_up(w: World) -> PassReport:
    """Start a fresh bot (no memory) and let its first catch-up pass and the work it queued run."""
    assert w.settings is not None
    w.runner, w.bot, w.bot_url = await start_bot(w.settings, w.clock)
    w.sim.webhook_url = f"{w.bot_url}/webhook"
    return await caught_up(w)


async def caught_up(w: World) -> PassReport:
    """Wait for the pass in flight (moving the clock through its retries' back-offs), then settle."""
    for _ in range(3):
        await asyncio.sleep(0)  # a timer the clock just fired starts its pass
    done = asyncio.ensure_future(w.bot.catchup.idle())
    while not done.done():
        wake = w.clock.next_wake()
        if wake is not None:
            w.clock.advance_to(wake)
            await asyncio.sleep(0)
            continue
        sleeping = asyncio.ensure_future(w.clock.sleeping())
        await asyncio.wait({done, sleeping}, return_when=asyncio.FIRST_COMPLETED)
        sleeping.cancel()
    await done
    await w.settle()
    assert w.bot.catchup.last is not None
    return w.bot.catchup.last


async def next_pass(w: World) -> PassReport:
    """Move the clock to the next catch-up pass and wait for it."""
    w.clock.advance(seconds=PASS_SECONDS)
    return await caught_up(w)


def tune(w: World, **changes: object) -> None:
    """Change settings for the running bot and for every bot started after it."""
    assert w.settings is not None
    w.settings = dataclasses.replace(w.settings, **changes)  # type: ignore[arg-type]
    w.bot.settings = w.settings


def missed(w: World) -> set[str]:
    """GUIDs whose newest attempt in the simulator's delivery log failed."""
    newest = {a.delivery.id: a for a in w.sim.hook_log.attempts}
    return {guid for guid, a in newest.items() if a.failed}


def jobs(w: World, kind: str) -> float:
    """Jobs of a kind the running bot finished."""
    value = w.bot.metrics.registry.get_sample_value(
        "ringbot_jobs_total", {"kind": kind, "outcome": "ok"}
    )
    return value or 0.0


def log_reads(w: World) -> tuple[int, int]:
    """Requests for the delivery log so far: (list pages, payloads)."""
    paths = [r.path for r in w.sim.requests if r.path.startswith("/app/hook/deliveries")]
    pages = sum(p == "/app/hook/deliveries" for p in paths)
    payloads = sum(p.count("/") == 4 for p in paths)
    return pages, payloads


async def test_what_happened_while_down_converges_once_after_start(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    # A pull request whose gate passed before the bot went down (so it merges through the gate,
    # not around it: see the guardrails).
    merged = open_pr(w, author="carol")
    build(w, head(w, merged))
    w.sim.review(REPO, merged, "alice", "APPROVED")
    await w.settle()
    await bot_down(w)
    # A pull request opened, built and approved; the other merged and built green on main; a
    # /status comment: GitHub tries to deliver each event, and nobody answers.
    ready = open_pr(w)
    build(w, head(w, ready))
    w.sim.review(REPO, ready, "alice", "APPROVED")
    release = w.sim.merge_pull_request(REPO, merged, by="alice")
    build(w, release)
    asked = w.sim.comment(REPO, ready, "bob", "/status")
    await w.settle()
    lost = missed(w)
    assert len(lost) >= 8 and not gate_runs(w, head(w, ready)) and not deployments(w)

    report = await bot_up(w)

    assert report.complete and report.fresh and report.error is None
    assert report.replayed >= len(lost) and report.keys > report.queued
    assert verdict(w, ready) == "success"
    assert len(gate_runs(w, head(w, ready))) == 1
    assert [d.sha for d in deployments(w)] == [release]
    assert deployments(w)[0].environment == "dev"
    assert "dev" in reply_to(w, asked)  # reply_to fails on a second reply
    # Nothing is made up for twice: the next pass finds everything accepted or replayed.
    again = await next_pass(w)
    assert again.complete and not again.fresh and again.fetched == 0 and again.replayed == 0
    assert len(gate_runs(w, head(w, ready))) == 1 and len(deployments(w)) == 1


async def test_two_hundred_missed_deliveries_about_five_prs_cost_about_five_evaluations(
    w: World,
) -> None:
    setup_repo(w, config=TWO_RINGS)
    await w.settle()
    await bot_down(w)
    before = len(w.sim.deliveries)
    numbers = [open_pr(w) for _ in range(5)]
    while len(w.sim.deliveries) - before < 200:  # attempts are logged as the simulator sends
        for number in numbers:
            build(w, head(w, number), name=f"ci-{len(w.sim.deliveries)}")
    await w.settle()
    lost = len(missed(w))

    report = await bot_up(w)

    assert report.complete and report.replayed >= lost >= 200
    gate_jobs = jobs(w, "GateKey")
    assert gate_jobs == 5, gate_jobs  # one evaluation per pull request
    assert all(verdict(w, n) == "in_progress" for n in numbers)  # built green, awaiting approval
    assert all(len(gate_runs(w, head(w, n))) == 1 for n in numbers)


async def test_the_budget_stops_a_pass_and_the_next_pass_finishes(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    await w.settle()
    tune(w, catchup_max_deliveries=10)
    await bot_down(w)
    number = open_pr(w)
    for i in range(4):
        build(w, head(w, number), name=f"ci-{i}")
    w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()
    logged = len({a.delivery.id for a in w.sim.hook_log.attempts})
    assert 10 < logged <= 20  # the first pass replays everything it did not accept itself

    first = await bot_up(w)

    assert not first.complete and first.fetched == 10 and first.deferred == logged - 10
    assert w.bot.metrics.registry.get_sample_value(
        "ringbot_catchup_deliveries_total", {"outcome": "deferred"}
    ) == float(logged - 10)
    second = await next_pass(w)
    assert second.complete and second.fresh  # still the first look since the start
    assert second.fetched == logged - 10 and second.deferred == 0
    assert log_reads(w)[1] == logged  # every payload read once
    assert verdict(w, number) == "success"
    third = await next_pass(w)
    assert third.complete and not third.fresh and third.fetched == 0


async def test_a_failing_log_read_never_crashes_and_the_next_pass_heals(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    await w.settle()
    await bot_down(w)
    # GitHub fails every read of the log (and its retries) for the first pass.
    broken = w.sim.fault("GET", r"^/app/hook/deliveries$", status=502, count=1_000)
    number = open_pr(w)
    build(w, head(w, number))
    w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()

    failed = await bot_up(w)

    assert failed.error == "GitHub answered 502" and not failed.complete
    assert failed.replayed == 0 and not gate_runs(w, head(w, number))
    assert w.bot.metrics.registry.get_sample_value(
        "ringbot_catchup_passes_total", {"result": "failed"}
    )
    assert (await w.deliver("ping", {"zen": "up"})).status == 202  # still serving
    broken.count = 0  # GitHub is back
    healed = await next_pass(w)
    assert healed.complete and healed.fresh and healed.error is None
    assert verdict(w, number) == "success"


async def test_a_payload_that_cannot_be_read_fails_the_pass_until_it_can(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    await w.settle()
    await bot_down(w)
    number = open_pr(w)
    broken = w.sim.fault("GET", r"^/app/hook/deliveries/\d+$", status=500, count=1_000)
    await w.settle()

    failed = await bot_up(w)

    assert failed.error == "GitHub answered 500" and not failed.complete
    assert failed.replayed == 0 and not gate_runs(w, head(w, number))
    broken.count = 0  # GitHub is back
    healed = await next_pass(w)
    assert healed.complete and healed.error is None
    assert verdict(w, number) == "in_progress"  # evaluated: waiting for builds and approval


async def test_a_delivery_whose_payload_github_did_not_keep_is_redelivered(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    await w.settle()
    await bot_down(w)
    number = open_pr(w)
    await w.settle()
    opened = next(a for a in w.sim.hook_log.attempts if a.delivery.event == "pull_request")
    shown = full(opened)
    shown["request"]["payload"] = None  # GitHub's description allows a log without the payload
    w.sim.fault("GET", rf"^/app/hook/deliveries/{opened.id}$", status=200, body=shown)

    report = await bot_up(w)

    assert report.redelivered == 1 and report.complete
    again = [a for a in w.sim.hook_log.attempts if a.delivery.id == opened.delivery.id]
    assert [a.delivery.redelivery for a in again] == [False, True]
    assert again[-1].status_code == 202  # the bot accepted the redelivery itself
    assert verdict(w, number) == "in_progress"


async def test_catch_up_can_be_turned_off(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    await w.settle()
    tune(w, catchup_seconds=0.0)
    await bot_down(w)
    number = open_pr(w)
    await w.settle()
    w.sim.requests.clear()  # the first bot's pass at its start
    assert w.settings is not None
    w.runner, w.bot, w.bot_url = await start_bot(w.settings, w.clock)
    w.sim.webhook_url = f"{w.bot_url}/webhook"
    w.clock.advance(seconds=PASS_SECONDS)
    await w.settle()
    assert w.bot.catchup.last is None and log_reads(w) == (0, 0)
    assert not gate_runs(w, head(w, number))
