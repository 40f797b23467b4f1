"""An automatic ring whose environment ringbot may not create: people are told once, with the fix."""

from __future__ import annotations

import pytest

from .builders import REPO, build, cd, command, deployments, merge, ready_pr, setup_repo
from .harness import World

pytestmark = pytest.mark.e2e

CONFIG = """
rings:
  - name: dev
    auto: true
  - name: internal
features:
  new-grid: [dev]
"""


def release_check(w: World, sha: str):  # type: ignore[no-untyped-def]
    runs = [
        r
        for r in w.sim.repo(REPO).check_runs.values()
        if r.head_sha == sha and r.name == "ringbot/release"
    ]
    assert len(runs) <= 1
    return runs[0] if runs else None


def status_comments(w: World, number: int) -> list[str]:
    return [
        c.body
        for c in w.sim.repo(REPO).comments.values()
        if c.number == number and c.user.login == w.sim.bot_login and "ringbot:status" in c.body
    ]


async def blocked_release(w: World) -> tuple[int, str]:
    setup_repo(w, config=CONFIG)
    w.sim.fault("PUT", r"/environments/dev$", status=403, count=1000)
    number = await ready_pr(w)
    return number, await merge(w, number)


async def test_the_release_check_run_says_why_it_cannot_enter(w: World) -> None:
    _number, sha = await blocked_release(w)
    run = release_check(w, sha)
    assert run is not None and run.conclusion == "action_required"
    assert run.output["title"] == "Blocked before dev"
    assert "Settings → Environments" in run.output["summary"]
    assert deployments(w, "dev") == []


async def test_the_pull_request_is_told_in_its_status_comment(w: World) -> None:
    number, _ = await blocked_release(w)
    (comment,) = status_comments(w, number)
    assert "cannot enter **dev**" in comment and "Settings → Environments" in comment


async def test_more_events_say_it_no_more_than_once(w: World) -> None:
    number, sha = await blocked_release(w)
    writes_before = [r for r in w.sim.requests if r.method != "GET"]
    build(w, sha, name="lint")  # another build on main: the rings job runs again
    await w.settle()
    writes_after = [r for r in w.sim.requests if r.method != "GET"]
    new_writes = [r for r in writes_after[len(writes_before) :] if "/environments/" not in r.path]
    assert new_writes == []
    assert len(status_comments(w, number)) == 1


LATER = """
rings:
  - name: dev
    auto: true
  - name: internal
    auto: true
features:
  new-grid: [dev, internal]
"""


async def test_a_later_automatic_ring_stays_shown_as_blocked(w: World) -> None:
    setup_repo(w, config=LATER)
    w.sim.fault("PUT", r"/environments/internal$", status=403, count=1000)
    number = await ready_pr(w)
    sha = await merge(w, number)
    await cd(w, "dev")
    await command(w, number, "/approve dev", by="carol")
    await command(w, number, "/approve dev", by="alice")
    run = release_check(w, sha)
    assert run is not None and run.output["title"] == "Blocked before internal"
    (comment,) = status_comments(w, number)
    assert "cannot enter **internal**" in comment and "Where this change is" in comment


async def test_a_blocked_later_ring_is_not_rewritten_on_every_event(w: World) -> None:
    setup_repo(w, config=LATER)
    w.sim.fault("PUT", r"/environments/internal$", status=403, count=1000)
    number = await ready_pr(w)
    await merge(w, number)
    await cd(w, "dev")
    await command(w, number, "/approve dev", by="carol")
    edits = [r for r in w.sim.requests if r.method == "PATCH"]
    await command(w, number, "/approve dev", by="alice")
    again = [r for r in w.sim.requests if r.method == "PATCH"][len(edits) :]
    assert [r.path for r in again if "/check-runs/" in r.path] == []
