"""What ringbot spares GitHub's rate limit, end to end: CI news that cannot change the gate is
not read, the gate's check run is rewritten only at milestones, and the App's own comments,
check runs and labels are not looked up again once known."""

from __future__ import annotations

import pytest

from bot.sim.server import RequestRecord

from .builders import (
    REPO,
    cd,
    command,
    gate,
    head,
    merge,
    open_pr,
    ready_pr,
    released,
    setup_repo,
)
from .harness import World

pytestmark = pytest.mark.e2e

STATUS = "<!-- ringbot:status -->"


def asked(w: World) -> list[RequestRecord]:
    """What the bot asked GitHub for as the installation since the log was cleared."""
    return [r for r in w.sim.requests if r.installation_id is not None]


def writes(w: World, path_part: str = "") -> list[RequestRecord]:
    return [r for r in asked(w) if r.method != "GET" and path_part in r.path]


async def running(w: World, sha: str, *names: str) -> None:
    for name in names:
        w.sim.set_check_run(REPO, sha, name, status="in_progress", conclusion=None)
    await w.settle()


async def finish(w: World, sha: str, name: str, conclusion: str = "success") -> None:
    w.sim.set_check_run(REPO, sha, name, conclusion=conclusion)
    await w.settle()


async def test_a_check_finishing_while_others_run_costs_no_request(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    await w.settle()
    sha = head(w, number)
    await running(w, sha, "build", "lint", "test")
    w.sim.requests.clear()
    await finish(w, sha, "build")
    await finish(w, sha, "lint")
    assert asked(w) == []


async def test_the_last_awaited_check_passing_meets_the_builds_requirement(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    await w.settle()
    sha = head(w, number)
    await running(w, sha, "build", "lint")
    await finish(w, sha, "build")
    await finish(w, sha, "lint")
    assert "✅ | Builds" in str(gate(w, number).output.get("summary"))


async def test_a_failure_is_read_at_once_while_others_still_run(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    await w.settle()
    sha = head(w, number)
    await running(w, sha, "build", "lint", "test")
    await finish(w, sha, "lint", "failure")
    assert gate(w, number).conclusion == "failure"


async def test_a_check_starting_after_all_passed_closes_the_gate_again(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    assert gate(w, number).conclusion == "success"
    await running(w, head(w, number), "late-e2e")
    assert gate(w, number).status == "in_progress"


async def test_the_gate_is_not_rewritten_while_builds_only_progress(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    await w.settle()
    sha = head(w, number)
    await running(w, sha, "build", "lint", "test")
    w.sim.set_check_run(REPO, sha, "docs")  # a new check, passed at once: a changing count
    await w.settle()
    w.sim.requests.clear()
    w.sim.review(REPO, number, "carol", "COMMENTED")  # a full re-read: nothing worth a write
    await w.settle()
    assert writes(w, "/check-runs") == []


async def test_the_gate_is_rewritten_when_a_requirement_is_met(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    await w.settle()
    w.sim.requests.clear()
    w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()
    assert len(writes(w, "/check-runs")) == 1
    assert gate(w, number).external_id.startswith("ringbot:")


async def test_a_settling_deploy_updates_the_status_comment_without_listing_comments(
    w: World,
) -> None:
    setup_repo(w)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    await command(w, number, "/promote internal", by="bob")
    w.sim.requests.clear()
    await cd(w, "internal")
    listed = [r for r in asked(w) if r.method == "GET" and r.path.endswith("/comments")]
    assert listed == []
    assert len(writes(w, "/issues/comments/")) == 1  # the status comment, edited in place


async def test_a_deleted_status_comment_is_written_again(w: World) -> None:
    setup_repo(w)
    number, _ = await released(w)
    ours = [c for c in w.sim.repo(REPO).comments.values() if STATUS in c.body]
    assert len(ours) == 1
    del w.sim.repo(REPO).comments[ours[0].id]
    await command(w, number, "/approve dev", by="carol")
    assert [c for c in w.sim.repo(REPO).comments.values() if STATUS in c.body]


async def test_a_ring_label_is_created_once_per_repository(w: World) -> None:
    setup_repo(w)
    await released(w)
    second = await ready_pr(w)
    w.sim.requests.clear()
    await merge(w, second)
    await cd(w, "dev")
    assert "ring:dev" in w.sim.repo(REPO).pulls[second].labels
    assert [r for r in writes(w) if r.path == f"/repos/{REPO}/labels"] == []


async def test_a_gate_write_that_failed_leaves_no_memo_to_skip_its_retry(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.fault("PATCH", r"/check-runs/\d+$", status=502, count=1)
    await running(w, head(w, number), "build")  # the required build runs again
    for _ in range(5):  # the job's retry
        w.clock.advance(seconds=5)
        await w.settle()
    assert gate(w, number).status == "in_progress"


async def test_a_pull_request_read_that_failed_is_not_replaced_by_an_older_copy(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    sha = head(w, number)
    await running(w, sha, "build")
    w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()
    outage = w.sim.fault("GET", rf"/pulls/{number}$", status=502, count=1_000)
    w.sim.add_label(REPO, number, "do-not-merge", by="alice")  # its job cannot read the PR
    await w.settle()
    for _ in range(8):
        w.clock.advance(seconds=30)
        await w.settle()
    outage.count = 0
    await finish(w, sha, "build")
    assert gate(w, number).conclusion == "failure"  # blocked by the label, never green
