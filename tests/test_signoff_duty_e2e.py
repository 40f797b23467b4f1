"""Separation of duty: by default nobody signs off a release that carries their own change."""

from __future__ import annotations

import pytest

from .builders import TWO_RINGS, cd, command, deployments, merge, ready_pr, released, setup_repo
from .harness import World

pytestmark = pytest.mark.e2e


async def test_the_author_cannot_sign_off_their_own_change(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w, author="bob")
    reply = await command(w, number, "/approve dev", by="bob")
    assert "😕" in reply and "nobody signs off their own change" in reply


async def test_the_author_alone_cannot_walk_their_change_into_the_next_ring(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w, author="bob")
    await command(w, number, "/approve dev", by="bob")
    reply = await command(w, number, "/promote internal", by="bob")
    assert "😕" in reply and "sign-off" in reply
    assert deployments(w, "internal") == []


async def test_a_teammate_signs_off_the_authors_change(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, sha = await released(w, author="bob")
    assert f"signed off `{sha[:7]}`" in await command(w, number, "/approve dev", by="carol")


async def test_a_team_may_allow_self_sign_off(w: World) -> None:
    config = TWO_RINGS.replace("    auto: true\n", "    auto: true\n    signoff:\n      not: []\n")
    setup_repo(w, config=config)
    number, sha = await released(w, author="bob")
    assert f"signed off `{sha[:7]}`" in await command(w, number, "/approve dev", by="bob")


async def test_the_promoter_cannot_sign_off_what_they_deployed(w: World) -> None:
    config = TWO_RINGS + "    signoff:\n      not: [promoter]\n  - name: production\n"
    setup_repo(w, config=config)
    number, _ = await released(w, author="bob")
    await command(w, number, "/approve dev", by="carol")
    assert "🚀" in await command(w, number, "/promote internal", by="alice")
    await cd(w, "internal")
    reply = await command(w, number, "/approve internal", by="alice")
    assert "😕" in reply and "nobody signs off what they deployed" in reply


async def test_the_author_cannot_sign_off_their_change_once_another_lands_on_top(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w, author="bob")
    other = await ready_pr(w, author="carol")
    await merge(w, other)
    await cd(w, "dev")
    reply = await command(w, number, "/approve dev", by="bob")
    assert "😕" in reply and "nobody signs off their own change" in reply


async def test_only_changes_not_yet_past_the_next_ring_count_as_the_authors(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w, author="bob")
    await command(w, number, "/approve dev", by="carol")
    await command(w, number, "/promote internal", by="alice")
    await cd(w, "internal")
    other = await ready_pr(w, author="carol")
    sha = await merge(w, other)
    await cd(w, "dev")
    # bob's change is already in internal: signing off carol's release vouches only for hers.
    assert f"signed off `{sha[:7]}`" in await command(w, other, "/approve dev", by="bob")
