"""A command acts on the release that was current when it was written, even when it runs later
(a retry after a GitHub error, a redelivery, a catch-up after downtime)."""

from __future__ import annotations

import pytest

from .builders import (
    REPO,
    TWO_RINGS,
    cd,
    command,
    deployments,
    merge,
    ready_pr,
    released,
    reply_to,
    setup_repo,
)
from .harness import World

pytestmark = pytest.mark.e2e


async def written_while_missed(w: World, number: int, body: str, *, by: str) -> tuple[int, dict]:
    """The person comments; the bot does not hear of it yet. Returns the comment id and payload."""
    url = w.sim.webhook_url
    w.sim.webhook_url = None
    comment_id = w.sim.comment(REPO, number, by, body)
    await w.settle()
    w.sim.webhook_url = url
    missed = [d for d in w.sim.deliveries if d.event == "issue_comment"][-1]
    return comment_id, missed.payload


async def a_newer_release_in_dev(w: World) -> str:
    """Later: another pull request is merged and its release goes live in dev."""
    w.clock.advance(minutes=10)
    other = await ready_pr(w, author="carol")
    sha = await merge(w, other)
    await cd(w, "dev")
    return sha


async def test_a_late_approve_does_not_sign_off_a_newer_release(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, first = await released(w)
    comment_id, payload = await written_while_missed(w, number, "/approve dev", by="alice")
    newer = await a_newer_release_in_dev(w)
    await w.deliver("issue_comment", payload)
    await w.settle()
    reply = reply_to(w, comment_id)
    assert "😕" in reply and "changed since your comment" in reply
    assert first[:7] in reply and newer[:7] in reply
    bot_entries = [
        s for s in w.sim.repo(REPO).deployment_statuses if s.creator.login == w.sim.bot_login
    ]
    assert bot_entries == []


async def test_a_late_promote_does_not_ship_a_newer_release(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="alice")
    comment_id, payload = await written_while_missed(w, number, "/promote internal", by="bob")
    await a_newer_release_in_dev(w)
    await w.deliver("issue_comment", payload)
    await w.settle()
    assert "changed since your comment" in reply_to(w, comment_id)
    assert deployments(w, "internal") == []


async def test_a_late_reject_does_not_reject_a_newer_release(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    comment_id, payload = await written_while_missed(w, number, "/reject dev broken", by="alice")
    await a_newer_release_in_dev(w)
    await w.deliver("issue_comment", payload)
    await w.settle()
    assert "changed since your comment" in reply_to(w, comment_id)
    assert "rejected" not in (await command(w, number, "/status", by="bob")).lower()


async def test_a_command_run_late_on_an_unchanged_release_still_acts(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, first = await released(w)
    comment_id, payload = await written_while_missed(w, number, "/approve dev", by="alice")
    w.clock.advance(minutes=10)
    await w.deliver("issue_comment", payload)
    await w.settle()
    assert f"signed off `{first[:7]}`" in reply_to(w, comment_id)


async def test_a_late_promote_label_does_not_ship_a_newer_release(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="alice")
    url = w.sim.webhook_url
    w.sim.webhook_url = None
    w.sim.add_label(REPO, number, "promote:internal", by="bob")
    await w.settle()
    w.sim.webhook_url = url
    missed = [d for d in w.sim.deliveries if d.action == "labeled"][-1]
    await a_newer_release_in_dev(w)
    await w.deliver("pull_request", missed.payload)
    await w.settle()
    assert deployments(w, "internal") == []


@pytest.mark.parametrize("written", ["2024-01-01T00:00:00", "yesterday", None])
async def test_a_comment_without_a_usable_time_is_refused_with_400(
    w: World, written: str | None
) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    _, payload = await written_while_missed(w, number, "/approve dev", by="alice")
    payload["comment"]["created_at"] = written
    response = await w.deliver("issue_comment", payload)
    assert response.status == 400
