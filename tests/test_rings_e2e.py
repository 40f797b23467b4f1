"""The ring engine end to end: automatic dev, commands, sign-offs, bake time, rejection."""

from __future__ import annotations

import pytest

from .builders import (
    REPO,
    cd,
    command,
    deployments,
    merge,
    open_pr,
    reactions,
    ready_pr,
    released,
    reply_to,
    setup_repo,
)
from .harness import World

pytestmark = pytest.mark.e2e

NO_BAKE = """
rings:
  - name: dev
    auto: true
  - name: internal
  - name: early-adopters
    bake: 24h
  - name: production
    promoters: maintain
"""


async def test_a_green_default_branch_enters_dev(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    sha = await merge(w, number)
    (dep,) = deployments(w, "dev")
    assert dep.sha == sha and dep.ref == sha
    assert dep.creator.login == w.sim.bot_login
    assert dep.payload["ring"] == "dev" and dep.payload["release"] == sha
    assert dep.production_environment is False


async def test_a_red_default_branch_stays_out_of_dev(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    sha = await merge(w, number, green=False)
    from .builders import build

    build(w, sha, conclusion="failure")
    await w.settle()
    assert deployments(w, "dev") == []


async def test_the_full_journey_to_production(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, sha = await released(w)
    assert "signed off" in (await command(w, number, "/approve dev", by="carol")).lower()
    assert "🚀" in await command(w, number, "/promote internal", by="bob")
    await cd(w, "internal")
    await command(w, number, "/approve internal", by="carol")
    reply = await command(w, number, "/promote early-adopters", by="bob")
    assert "😕" in reply and "bake" in reply.lower()
    w.clock.advance(hours=25)
    assert "🚀" in await command(w, number, "/promote early-adopters", by="bob")
    await cd(w, "early-adopters")
    await command(w, number, "/approve early-adopters", by="alice")
    reply = await command(w, number, "/promote production", by="bob")
    assert "😕" in reply and "maintain" in reply
    assert "🚀" in await command(w, number, "/promote production", by="alice")
    (prod,) = deployments(w, "production")
    assert prod.sha == sha and prod.production_environment is True


async def test_a_promote_is_acknowledged_with_reactions(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    comment_id = w.sim.comment(REPO, number, "bob", "/promote internal")
    await w.settle()
    assert reactions(w, comment_id) == ["eyes", "rocket"]
    assert "🚀" in reply_to(w, comment_id)


async def test_a_refused_promote_says_why_and_reacts_confused(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await released(w)
    comment_id = w.sim.comment(REPO, number, "bob", "/promote internal")
    await w.settle()
    assert reactions(w, comment_id) == ["eyes", "confused"]
    assert "sign-off" in reply_to(w, comment_id)
    assert deployments(w, "internal") == []


async def test_a_rejected_release_never_moves_on(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    reply = await command(w, number, "/reject dev crashes on start", by="carol")
    assert "reject" in reply.lower()
    reply = await command(w, number, "/promote internal", by="alice")
    assert "😕" in reply and "rejected" in reply
    assert deployments(w, "internal") == []


async def test_an_unmerged_pull_request_cannot_promote(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    await released(w)
    other = open_pr(w, author="carol")
    reply = await command(w, other, "/promote internal", by="alice")
    assert "😕" in reply and "not merged" in reply


async def test_two_identical_promotes_make_one_deployment(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    w.sim.comment(REPO, number, "bob", "/promote internal")
    w.sim.comment(REPO, number, "alice", "/promote internal")
    await w.settle()
    assert len(deployments(w, "internal")) == 1


async def test_a_502_on_the_deployment_create_makes_exactly_one(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    w.sim.fault("POST", r"/deployments$", status=502, count=1, after=True)
    reply = await command(w, number, "/promote internal", by="bob")
    assert "🚀" in reply
    assert len(deployments(w, "internal")) == 1


async def test_rollback_redeploys_the_previous_good_release(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    _first, first_sha = await released(w)
    second, _ = await released(w, author="carol")
    reply = await command(w, second, "/rollback dev", by="alice")
    assert "⏪" in reply
    assert deployments(w, "dev")[-1].sha == first_sha


async def signed_off_in_dev(w: World) -> tuple[int, str]:
    """A release live in dev and signed off there by carol."""
    number, sha = await released(w)
    await command(w, number, "/approve dev", by="carol")
    return number, sha


@pytest.mark.parametrize(
    ("by", "body", "expected"),
    [
        pytest.param("rita", "/promote internal", "write", id="permission"),
        pytest.param("bob", "/promote dev", "automatically", id="first-ring"),
        pytest.param("bob", "/promote nowhere", "nowhere", id="unknown-ring"),
        pytest.param("bob", "/promote early-adopters", "internal", id="skipping-a-ring"),
    ],
)
async def test_each_refusal_names_its_reason(w: World, by: str, body: str, expected: str) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await signed_off_in_dev(w)
    reply = await command(w, number, body, by=by)
    assert "😕" in reply and expected in reply
    assert deployments(w, "internal") == [] and deployments(w, "early-adopters") == []


async def test_a_failed_deploy_is_not_in_the_ring(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number = await ready_pr(w)
    await merge(w, number)
    await cd(w, "dev", "failure")
    reply = await command(w, number, "/promote internal", by="bob")
    assert "😕" in reply and "fail" in reply


async def test_a_change_not_yet_in_the_previous_ring_cannot_be_promoted(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    _first, _ = await signed_off_in_dev(w)
    second = await ready_pr(w, author="carol")
    await merge(w, second)  # dev is now deploying it, but the live release is still the first
    reply = await command(w, second, "/promote internal", by="alice")
    assert "😕" in reply
    assert deployments(w, "internal") == []


async def test_bake_time_says_how_long_is_left(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await signed_off_in_dev(w)
    await command(w, number, "/promote internal", by="bob")
    await cd(w, "internal")
    await command(w, number, "/approve internal", by="carol")
    w.clock.advance(hours=20)
    reply = await command(w, number, "/promote early-adopters", by="bob")
    assert "4h" in reply


async def test_a_promote_label_acts_for_whoever_added_it_and_is_removed(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, sha = await signed_off_in_dev(w)
    w.sim.add_label(REPO, number, "promote:internal", by="bob")
    await w.settle()
    assert [d.sha for d in deployments(w, "internal")] == [sha]
    assert "promote:internal" not in w.sim.repo(REPO).pulls[number].labels


async def test_a_promote_label_from_a_reader_is_refused(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await signed_off_in_dev(w)
    w.sim.add_label(REPO, number, "promote:internal", by="rita")
    await w.settle()
    assert deployments(w, "internal") == []


async def test_a_rejection_survives_a_restart_and_blocks_every_route(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await signed_off_in_dev(w)
    await command(w, number, "/reject dev crashes on start", by="carol")
    await w.restart_bot()
    reply = await command(w, number, "/promote internal", by="alice")
    assert "😕" in reply and "rejected" in reply
    w.sim.add_label(REPO, number, "promote:internal", by="alice")
    await w.settle()
    reply = await command(w, number, "/approve dev", by="bob")
    assert "😕" in reply
    assert deployments(w, "internal") == []


async def test_a_redelivered_command_replies_and_reacts_once(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await signed_off_in_dev(w)
    comment_id = w.sim.comment(REPO, number, "bob", "/promote internal")
    await w.settle()
    (delivery,) = [
        d
        for d in w.sim.deliveries
        if d.event == "issue_comment" and d.payload["comment"]["id"] == comment_id
    ]
    await w.restart_bot()  # a new replica has no memory of the delivery id
    resp = await w.deliver("issue_comment", delivery.payload)
    assert resp.status == 202
    await w.settle()
    assert len(deployments(w, "internal")) == 1
    assert reactions(w, comment_id) == ["eyes", "rocket"]
    assert reply_to(w, comment_id)  # still exactly one reply (reply_to asserts it)


async def test_edited_comments_and_bot_comments_run_nothing(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await signed_off_in_dev(w)
    comment_id = w.sim.comment(REPO, number, "bob", "looks good")
    await w.settle()
    w.sim.edit_comment(REPO, comment_id, "/promote internal", by="bob")
    await w.settle()
    assert deployments(w, "internal") == []


async def test_an_auto_ring_follows_once_the_previous_ring_is_live(w: World) -> None:
    config = "rings:\n  - name: dev\n    auto: true\n  - name: production\n  - name: on-premises\n    auto: true\n"
    setup_repo(w, config=config)
    number, sha = await signed_off_in_dev(w)
    await command(w, number, "/promote production", by="alice")
    assert deployments(w, "on-premises") == []
    await cd(w, "production")
    (onprem,) = deployments(w, "on-premises")
    assert onprem.sha == sha and onprem.production_environment is True


async def test_the_protection_rule_approves_what_the_rings_allow(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    _number, sha = await signed_off_in_dev(w)
    w.sim.request_protection_rule(REPO, "internal", sha, run_id=77)
    await w.settle()
    (answer,) = w.sim.protection_rule_reviews
    assert answer.state == "approved" and answer.environment_name == "internal"


async def test_the_protection_rule_rejects_a_skipped_ring(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    _number, sha = await signed_off_in_dev(w)
    w.sim.request_protection_rule(REPO, "early-adopters", sha, run_id=78)
    await w.settle()
    (answer,) = w.sim.protection_rule_reviews
    assert answer.state == "rejected" and "internal" in answer.comment


async def test_a_rejection_stops_an_automatic_ring_too(w: World) -> None:
    config = "rings:\n  - name: dev\n    auto: true\n  - name: staging\n    auto: true\n    approvals: 1\n"
    setup_repo(w, config=config)
    number, _ = await released(w)
    await command(w, number, "/reject dev crashes on start", by="carol")
    reply = await command(w, number, "/approve dev", by="bob")
    assert "😕" in reply
    await cd(w, "dev")  # the CD reports again: the rings are re-evaluated
    assert deployments(w, "staging") == []


async def test_a_signed_off_release_follows_into_an_automatic_ring(w: World) -> None:
    config = "rings:\n  - name: dev\n    auto: true\n  - name: staging\n    auto: true\n    approvals: 1\n"
    setup_repo(w, config=config)
    number, sha = await released(w)
    assert deployments(w, "staging") == []
    await command(w, number, "/approve dev", by="carol")
    assert [d.sha for d in deployments(w, "staging")] == [sha]


async def test_rejecting_a_failed_deploy_keeps_it_failed(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    number, _ = await signed_off_in_dev(w)
    await command(w, number, "/promote internal", by="bob")
    failed = await cd(w, "internal", "failure")
    await command(w, number, "/reject dev broken", by="carol")
    states = [s.state for s in w.sim.repo(REPO).deployment_statuses if s.deployment_id == failed]
    assert states == ["failure", "failure"]  # the CD's, then the rejection's, same state


async def test_an_automatic_ring_follows_when_the_bake_time_ends(w: World) -> None:
    config = (
        "rings:\n  - name: dev\n    auto: true\n  - name: staging\n    auto: true\n    bake: 1h\n"
    )
    setup_repo(w, config=config)
    _, sha = await released(w)
    assert deployments(w, "staging") == []
    w.clock.advance(minutes=59)  # still baking: the bot's timer is not due yet
    await w.settle()
    assert deployments(w, "staging") == []
    # The bake time has passed and no event says so: the bot's own timer (1 s of margin) fires.
    w.clock.advance(minutes=1, seconds=2)
    await w.settle()
    assert [d.sha for d in deployments(w, "staging")] == [sha]


async def test_a_lost_create_of_a_rolled_back_release_is_made_again(w: World) -> None:
    setup_repo(w, config=NO_BAKE)
    _, first_sha = await released(w)
    second, _ = await released(w, author="carol")
    before = len(deployments(w, "dev"))
    w.sim.fault("POST", r"/deployments$", status=502, count=1)  # refused before the write
    reply = await command(w, second, "/rollback dev", by="alice")
    assert "⏪" in reply
    assert len(deployments(w, "dev")) == before + 1
    assert deployments(w, "dev")[-1].sha == first_sha
