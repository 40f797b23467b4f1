"""Only releases travel the rings: a commit on the default branch whose builds passed.

A deploy started around ringbot (a workflow run by hand) of anything else is foreign: the
protection rule refuses it, and it never becomes a ring's current release.
"""

from __future__ import annotations

import pytest

from .builders import (
    REPO,
    TWO_RINGS,
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
from .harness import World

pytestmark = pytest.mark.e2e


async def unreviewed_green_pr(w: World) -> str:
    """A pull request with green CI and no approval: its head was never merged."""
    number = open_pr(w, author="carol")
    build(w, head(w, number))
    await w.settle()
    return head(w, number)


async def deployed_around_ringbot(w: World, ring: str, sha: str) -> int:
    """A workflow run by hand deploys `sha` to `ring` and the CD reports success."""
    dep_id = w.sim.request_protection_rule(REPO, ring, sha)
    await w.settle()
    w.sim.post_deployment_status(REPO, dep_id, "success", by="deploy-bot")
    await w.settle()
    return dep_id


async def test_the_protection_rule_refuses_a_commit_never_merged(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    await released(w)
    sha = await unreviewed_green_pr(w)
    w.sim.request_protection_rule(REPO, "dev", sha, run_id=91)
    await w.settle()
    (answer,) = w.sim.protection_rule_reviews
    assert answer.state == "rejected" and "not a release" in answer.comment


async def test_the_protection_rule_approves_a_green_default_branch_commit(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    _number, sha = await released(w)
    w.sim.request_protection_rule(REPO, "dev", sha, run_id=92)
    await w.settle()
    (answer,) = w.sim.protection_rule_reviews
    assert answer.state == "approved"


async def test_a_foreign_deploy_is_replaced_by_the_release_again(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    _number, sha = await released(w)
    foreign = await unreviewed_green_pr(w)
    await deployed_around_ringbot(w, "dev", foreign)
    # GitHub made the release's deployment inactive; dev converges back to the release.
    newest = deployments(w, "dev")[-1]
    assert newest.sha == sha and newest.creator.login == w.sim.bot_login


async def test_a_foreign_deploy_never_becomes_the_rings_release(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, sha = await released(w)
    foreign = await unreviewed_green_pr(w)
    await deployed_around_ringbot(w, "dev", foreign)
    await cd(w, "dev")
    assert "signed off" in (await command(w, number, "/approve dev", by="alice")).lower()
    assert "🚀" in await command(w, number, "/promote internal", by="bob")
    (internal,) = deployments(w, "internal")
    assert internal.sha == sha


async def test_status_does_not_show_a_foreign_deploy_as_the_release(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, sha = await released(w)
    foreign = await unreviewed_green_pr(w)
    await deployed_around_ringbot(w, "dev", foreign)
    await cd(w, "dev")
    table = await command(w, number, "/status", by="bob")
    assert sha[:7] in table and foreign[:7] not in table


async def test_a_foreign_deploy_alone_leaves_the_ring_without_a_release(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    foreign = await unreviewed_green_pr(w)
    # Only the foreign commit was ever live in internal.
    await deployed_around_ringbot(w, "internal", foreign)
    reply = await command(w, number, "/approve internal", by="alice")
    assert "😕" in reply and "not live" in reply


async def test_a_foreign_deploy_cannot_be_signed_off(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    foreign = await unreviewed_green_pr(w)
    await deployed_around_ringbot(w, "dev", foreign)
    reply = await command(w, number, "/approve dev", by="alice")
    assert "😕" in reply and f"signed off `{foreign[:7]}`" not in reply


async def test_a_red_head_deployed_by_hand_is_not_taken_up_by_ringbot(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    other = await ready_pr(w, author="carol")
    red = await merge(w, other, green=False)
    build(w, red, conclusion="failure")
    await w.settle()
    await deployed_around_ringbot(w, "dev", red)
    ours = [d for d in deployments(w, "dev") if d.creator.login == w.sim.bot_login]
    assert red not in [d.sha for d in ours]
    await command(w, number, "/approve dev", by="alice")
    await command(w, number, "/promote internal", by="bob")
    assert red not in [d.sha for d in deployments(w, "internal")]


async def test_rollback_never_goes_back_to_a_foreign_deploy(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    first, _ = await released(w)
    await command(w, first, "/approve dev", by="carol")
    await command(w, first, "/promote internal", by="alice")
    await cd(w, "internal")
    foreign = await unreviewed_green_pr(w)
    await deployed_around_ringbot(w, "internal", foreign)
    second = await ready_pr(w, author="carol")
    await merge(w, second)
    await cd(w, "dev")
    await command(w, second, "/approve dev", by="alice")
    assert "🚀" in await command(w, second, "/promote internal", by="alice")
    await cd(w, "internal")
    assert "⏪" in await command(w, second, "/rollback internal", by="alice")
    assert deployments(w, "internal")[-1].sha != foreign


async def test_a_commit_in_the_middle_of_a_merged_pull_request_is_not_a_release(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    await released(w)
    number = open_pr(w, author="carol", files={"backdoor.txt": "x\n"})
    unreviewed = head(w, number)
    build(w, unreviewed)
    build(w, w.sim.push_to_pull_request(REPO, number, {"backdoor.txt": None}))
    w.sim.review(REPO, number, "alice", "APPROVED")
    await w.settle()
    await merge(w, number)
    w.sim.request_protection_rule(REPO, "dev", unreviewed, run_id=94)
    await w.settle()
    assert w.sim.protection_rule_reviews[-1].state == "rejected"
