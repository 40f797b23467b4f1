"""Talking to GitHub: tokens, ETags, retries and rate limits, end to end through the simulator."""

from __future__ import annotations

import logging

import pytest

from .builders import REPO, build, gate, head, open_pr, ready_pr, setup_repo, verdict
from .harness import World

pytestmark = pytest.mark.e2e

TOKENS = r"^/app/installations/\d+/access_tokens$"


def token_fetches(w: World) -> int:
    """How many installation tokens the bot asked for."""
    return sum(r.path.endswith("/access_tokens") for r in w.sim.requests)


async def test_concurrent_deliveries_for_a_new_installation_fetch_one_token(w: World) -> None:
    setup_repo(w)
    setup_repo(w, repo="acme/gadgets")
    w.sim.requests.clear()
    open_pr(w)
    open_pr(w, repo="acme/gadgets")
    await w.settle()
    assert token_fetches(w) == 1


async def test_a_token_is_refreshed_before_it_expires(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    await w.settle()
    assert token_fetches(w) == 1
    w.clock.advance(minutes=56)  # within the 5-minute margin of the 1-hour token
    build(w, head(w, number))
    await w.settle()
    assert token_fetches(w) == 2
    assert verdict(w, number) == "in_progress"


async def test_unchanged_reads_are_answered_304_from_the_cache(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.rerequest_check_run(REPO, gate(w, number).id, by="carol")  # reads its last write once
    await w.settle()
    w.sim.requests.clear()
    w.sim.rerequest_check_run(REPO, gate(w, number).id, by="carol")
    await w.settle()
    reads = {r.path.rsplit("/", 1)[-1]: r.status for r in w.sim.requests}
    assert reads["1"] == 304 and reads["check-runs"] == 304  # the pull request and the builds
    assert verdict(w, number) == "success"


async def test_a_502_on_a_read_is_retried(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    w.sim.fault("GET", r"/pulls/\d+$", status=502, count=2)
    build(w, head(w, number))
    w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()
    assert verdict(w, number) == "success"
    pulls = [r.status for r in w.sim.requests if r.path.endswith(f"/pulls/{number}")]
    assert pulls[:3] == [502, 502, 200]


async def test_a_403_with_retry_after_waits_and_retries(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    w.sim.fault("GET", r"/pulls/\d+$", status=403, headers={"retry-after": "1"}, count=1)
    build(w, head(w, number))
    w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()
    pulls = [r for r in w.sim.requests if r.path.endswith(f"/pulls/{number}")]
    assert [r.status for r in pulls[:2]] == [403, 200]
    assert (pulls[1].at - pulls[0].at).total_seconds() >= 1  # it waited as told, by the clock
    assert verdict(w, number) == "success"


async def test_a_secondary_limit_429_on_a_write_is_retried(w: World) -> None:
    setup_repo(w)
    w.sim.fault("POST", r"/check-runs$", status=429, headers={"retry-after": "1"}, count=1)
    number = await ready_pr(w)
    assert verdict(w, number) == "success"
    assert (
        len(
            [
                r
                for r in w.sim.requests
                if r.method == "POST" and r.status == 201 and r.path.endswith("/check-runs")
            ]
        )
        >= 1
    )


async def test_a_502_after_a_write_happened_does_not_duplicate_it(w: World) -> None:
    setup_repo(w)
    w.sim.fault("POST", r"/check-runs$", status=502, count=1, after=True)
    number = open_pr(w)
    await w.settle()
    runs = [r for r in w.sim.repo(REPO).check_runs.values() if r.name == "ringbot/merge-gate"]
    assert len(runs) == 1
    assert gate(w, number).status == "in_progress"


async def test_no_token_or_secret_reaches_the_logs(
    w: World, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.logs import JsonFormatter

    setup_repo(w)
    with caplog.at_level(logging.INFO, logger="ringbot"):
        await ready_pr(w)
    token = w.sim.installation_token(REPO)
    text = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert text, "expected log lines"
    assert token not in text
    assert "PRIVATE KEY" not in text
    assert "test-webhook-secret" not in text


async def test_a_jobs_writes_are_logged_with_the_delivery_that_caused_them(
    w: World, caplog: pytest.LogCaptureFixture
) -> None:
    setup_repo(w)
    with caplog.at_level(logging.INFO, logger="ringbot"):
        number = open_pr(w)
        await w.settle()
    (opened,) = [d for d in w.sim.deliveries if d.event == "pull_request"]
    writes = [r for r in caplog.records if r.getMessage() == "github write"]
    assert writes and all(r.fields["delivery"] == opened.id for r in writes)  # type: ignore[attr-defined]
    assert gate(w, number)


async def test_a_job_that_failed_on_githubs_side_runs_again_later(w: World) -> None:
    setup_repo(w)
    w.sim.fault("POST", r"/check-runs$", status=502, count=3)  # every write attempt of one job
    number = open_pr(w)
    await w.settle()
    assert gate_runs_count(w) == 0
    w.clock.advance(seconds=w.bot.settings.retry_seconds)  # the first retry's back-off
    await w.settle()
    assert gate_runs_count(w) == 1
    assert gate(w, number).status == "in_progress"


def gate_runs_count(w: World) -> int:
    """How many merge-gate check runs exist in the repository."""
    return sum(r.name == "ringbot/merge-gate" for r in w.sim.repo(REPO).check_runs.values())
