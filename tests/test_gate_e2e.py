"""The merge gate end to end: the real bot and the simulator, driven by signed webhooks."""

from __future__ import annotations

import dataclasses

import pytest

from .builders import (
    REPO,
    build,
    gate,
    gate_runs,
    head,
    open_pr,
    ready_pr,
    setup_repo,
    verdict,
)
from .harness import World

pytestmark = pytest.mark.e2e


def writes(w: World) -> list[str]:
    """The bot's writes since the request log was last cleared."""
    return [f"{r.method} {r.path}" for r in w.sim.requests if r.method != "GET"]


async def test_green_build_and_approval_pass_the_gate(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    assert verdict(w, number) == "success"
    assert gate(w, number).output["title"] == "Ready to merge"


async def test_a_new_pull_request_waits_for_builds_and_approval(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    await w.settle()
    run = gate(w, number)
    assert run.status == "in_progress"
    assert "⏳" in run.output["summary"]


async def test_a_draft_fails_until_it_is_ready(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w, draft=True)
    assert verdict(w, number) == "failure"
    w.sim.set_draft(REPO, number, False)
    await w.settle()
    assert verdict(w, number) == "success"


async def test_a_blocking_label_fails_until_removed(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.add_label(REPO, number, "hold", by="alice")
    await w.settle()
    assert verdict(w, number) == "failure"
    assert "hold" in gate(w, number).output["summary"]
    w.sim.remove_label(REPO, number, "hold", by="alice")
    await w.settle()
    assert verdict(w, number) == "success"


async def test_a_failed_build_fails_with_a_link_and_a_rerun_turns_it_green(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    build(w, head(w, number), conclusion="failure")
    w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()
    assert verdict(w, number) == "failure"
    assert "build" in gate(w, number).output["summary"]
    build(w, head(w, number), conclusion="success")  # the re-run, a newer run of the same name
    await w.settle()
    assert verdict(w, number) == "success"


async def test_a_running_build_keeps_the_gate_in_progress(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    build(w, head(w, number), conclusion=None)
    w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()
    assert verdict(w, number) == "in_progress"


async def test_a_required_check_that_never_appeared_is_pending(w: World) -> None:
    setup_repo(w, config="merge_gate:\n  required_checks: [build, e2e]\n")
    number = await ready_pr(w)
    assert verdict(w, number) == "in_progress"
    assert "e2e" in gate(w, number).output["summary"]
    build(w, head(w, number), name="e2e")
    await w.settle()
    assert verdict(w, number) == "success"


async def test_a_failing_commit_status_fails_the_gate(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.set_status(REPO, head(w, number), "ci/jenkins", "failure", by="jenkins")
    await w.settle()
    assert verdict(w, number) == "failure"
    w.sim.set_status(REPO, head(w, number), "ci/jenkins", "success", by="jenkins")
    await w.settle()
    assert verdict(w, number) == "success"


async def test_an_approval_from_a_read_only_user_does_not_count(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w, approver="rita")
    assert verdict(w, number) == "in_progress"
    assert "approval" in gate(w, number).output["summary"]


async def test_the_authors_own_approval_does_not_count(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w, approver="bob", author="bob")
    assert verdict(w, number) == "in_progress"


async def test_changes_requested_by_a_writer_fail_the_gate(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.review(REPO, number, "carol", "CHANGES_REQUESTED")
    await w.settle()
    assert verdict(w, number) == "failure"
    assert "carol" in gate(w, number).output["summary"]


async def test_a_dismissed_approval_no_longer_counts(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    build(w, head(w, number))
    review = w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()
    w.sim.dismiss_review(REPO, number, review, by="alice")
    await w.settle()
    assert verdict(w, number) == "in_progress"


@pytest.mark.parametrize(
    ("dismiss_stale", "expected"),
    [
        pytest.param(False, "success", id="stale-counts"),
        pytest.param(True, "in_progress", id="stale-ignored"),
    ],
)
async def test_approvals_of_an_older_commit(w: World, dismiss_stale: bool, expected: str) -> None:
    setup_repo(w, config=f"merge_gate:\n  dismiss_stale_approvals: {str(dismiss_stale).lower()}\n")
    number = await ready_pr(w)
    sha = w.sim.push_to_pull_request(REPO, number, files={"more.txt": "more\n"})
    build(w, sha)
    await w.settle()
    assert verdict(w, number) == expected


async def test_a_new_head_commit_gets_a_fresh_check(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    old = head(w, number)
    sha = w.sim.push_to_pull_request(REPO, number, files={"more.txt": "more\n"})
    await w.settle()
    assert gate_runs(w, sha) and gate_runs(w, old)
    assert verdict(w, number) == "in_progress"  # the new commit has not been built yet


async def test_every_page_of_check_runs_is_read(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    sha = head(w, number)
    for n in range(120):
        build(w, sha, name=f"shard-{n:03}")
    build(w, sha, name="zz-last", conclusion="failure")
    w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()
    assert verdict(w, number) == "failure"
    assert "zz-last" in gate(w, number).output["summary"]


async def test_an_invalid_config_fails_the_gate_with_its_errors(w: World) -> None:
    setup_repo(w, config="merge_gate:\n  approvals: -1\nrings:\n  - name: dev\n    bake: 2 days\n")
    number = await ready_pr(w)
    run = gate(w, number)
    assert run.conclusion == "failure"
    assert "merge_gate.approvals" in run.output["summary"]
    assert "(line 2)" in run.output["summary"] and "(line 5)" in run.output["summary"]


async def test_a_config_change_re_evaluates_open_pull_requests(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.push(REPO, files={".github/ringbot.yml": "merge_gate:\n  approvals: 2\n"}, author="alice")
    await w.settle()
    assert verdict(w, number) == "in_progress"
    assert "1 more approval" in gate(w, number).output["summary"]


async def test_a_fork_pull_request_is_gated(w: World) -> None:
    setup_repo(w)
    number = open_pr(w, author="outsider", fork=True)
    await w.settle()
    build(w, head(w, number))
    w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()
    assert verdict(w, number) == "success"


async def test_a_merge_group_head_is_gated_on_its_builds(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    group_head = w.sim.start_merge_group(REPO, number)
    await w.settle()
    assert gate_runs(w, group_head)[-1].status == "in_progress"
    build(w, group_head)
    await w.settle()
    assert gate_runs(w, group_head)[-1].conclusion == "success"


async def test_the_gate_ignores_its_own_check_runs(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.requests.clear()
    await w.settle()
    assert w.sim.requests == []  # our own check_run echoes started nothing
    assert len(gate_runs(w, head(w, number))) == 1


async def test_an_unchanged_result_writes_nothing(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.requests.clear()
    w.sim.add_label(REPO, number, "docs", by="carol")  # re-evaluates, changes nothing
    await w.settle()
    assert writes(w) == []
    assert w.sim.requests, "the label should have been evaluated"


async def test_a_comment_only_review_costs_nothing(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.requests.clear()
    w.sim.review(REPO, number, "carol", "COMMENTED")
    await w.settle()
    assert w.sim.requests == []


async def test_a_rerequested_gate_is_evaluated_again(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.requests.clear()
    w.sim.rerequest_check_run(REPO, gate(w, number).id, by="alice")
    await w.settle()
    assert any(r.path.endswith(f"/pulls/{number}") for r in w.sim.requests)


async def test_a_burst_of_events_is_one_evaluation(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    # The burst must fit in the debounce window even when Prism slows every delivery down.
    w.bot.settings = dataclasses.replace(w.bot.settings, debounce_seconds=1.0)
    w.sim.requests.clear()
    for n in range(20):
        w.sim.add_label(REPO, number, f"area-{n}", by="carol")
    await w.settle()
    pulls_reads = [r for r in w.sim.requests if r.path.endswith(f"/pulls/{number}")]
    assert len(pulls_reads) == 1


async def test_an_unreadable_state_closes_a_green_gate_until_it_can_read_again(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.fault("GET", r"/pulls/\d+/reviews$", status=502, count=4)  # one job's every attempt
    w.sim.review(REPO, number, "carol", "CHANGES_REQUESTED")
    await w.settle()
    assert verdict(w, number) == "in_progress"
    assert "could not read" in gate(w, number).output["title"]
    w.clock.advance(seconds=w.bot.settings.retry_seconds)  # the job runs again, GitHub answers
    await w.settle()
    assert verdict(w, number) == "failure"


async def test_a_failing_status_on_one_pull_request_is_not_forgotten_because_of_another(
    w: World,
) -> None:
    setup_repo(w)
    failing = await ready_pr(w)
    w.sim.set_status(REPO, head(w, failing), "ci/jenkins", "failure", by="jenkins")
    await w.settle()
    await ready_pr(w, author="carol")  # a head without statuses is evaluated meanwhile
    w.sim.review(REPO, failing, "carol", "APPROVED")  # re-evaluates the first one
    await w.settle()
    assert verdict(w, failing) == "failure"
