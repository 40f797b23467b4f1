"""Transport failures (time-outs, resets) take the same path as a 5xx: retried, re-read, fail closed."""

from __future__ import annotations

import dataclasses

import pytest

from .builders import (
    REPO,
    TWO_RINGS,
    command,
    deployments,
    head,
    reactions,
    ready_pr,
    released,
    reply_to,
    setup_repo,
    verdict,
)
from .harness import World

pytestmark = pytest.mark.e2e

TIMEOUT = 0.3  # the bot's request time-out in these tests; a fault's delay goes past it
SLOW = 0.8


def impatient(w: World) -> None:
    """The bot gives up on a GitHub request after TIMEOUT seconds."""
    w.bot.settings = dataclasses.replace(w.bot.settings, request_timeout=TIMEOUT)


async def test_a_timed_out_reviews_read_never_leaves_the_gate_green(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    assert verdict(w, number) == "success"
    impatient(w)
    w.sim.fault("GET", r"/pulls/\d+/reviews", status=200, body=[], delay=SLOW, count=100)
    w.sim.review(REPO, number, "carol", "CHANGES_REQUESTED")
    await w.settle()
    assert verdict(w, number) != "success"


async def test_a_timed_out_gate_read_says_it_could_not_read(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    impatient(w)
    w.sim.fault("GET", r"/pulls/\d+/reviews", status=200, body=[], delay=SLOW, count=100)
    w.sim.review(REPO, number, "carol", "CHANGES_REQUESTED")
    await w.settle()
    runs = [r for r in w.sim.repo(REPO).check_runs.values() if r.head_sha == head(w, number)]
    newest = max(runs, key=lambda r: r.id)
    assert newest.status == "in_progress"
    assert "could not read" in (newest.output or {}).get("title", "").lower()


async def test_a_timed_out_deployment_create_is_answered_and_made_once(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    impatient(w)
    # The deployment is created, but its answer never arrives in time.
    # (202 with a message is an answer GitHub's description allows, should Prism look at it.)
    w.sim.fault(
        "POST", r"/deployments$", status=202, body={"message": "late"}, delay=SLOW, after=True
    )
    comment_id = w.sim.comment(REPO, number, "bob", "/promote internal")
    await w.settle()
    assert len(deployments(w, "internal")) == 1
    assert reactions(w, comment_id) == ["eyes", "rocket"]
    assert "🚀" in reply_to(w, comment_id)
