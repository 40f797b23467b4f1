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
    first, first_sha = await released(w)
    second, _ = await released(w, author="carol")
    reply = await command(w, second, "/rollback dev", by="alice")
    assert "⏪" in reply
    assert deployments(w, "dev")[-1].sha == first_sha
