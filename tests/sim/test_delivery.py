"""Webhook deliveries: signed, ordered, filtered by subscription."""

from __future__ import annotations

import json

from gidgethub import sansio

from bot.sim import Simulator

from .conftest import Received


async def test_deliveries_verify_with_gidgethub(
    sim: Simulator, receiver: list[Received], repo: str
) -> None:
    """Every delivery passes gidgethub.sansio.validate_event with the secret, and carries the headers."""
    sim.open_pull_request(repo, author="bob", title="x")
    await sim.settle()
    assert receiver
    for got in receiver:
        sansio.validate_event(
            got.body, signature=got.headers["X-Hub-Signature-256"], secret="s3cret"
        )
        sansio.validate_event(got.body, signature=got.headers["X-Hub-Signature"], secret="s3cret")
        assert got.headers["User-Agent"].startswith("GitHub-Hookshot/")
        assert got.headers["X-GitHub-Hook-Installation-Target-Type"] == "integration"
        assert got.headers["Content-Type"] == "application/json"


async def test_deliveries_arrive_in_emission_order(
    sim: Simulator, receiver: list[Received], repo: str
) -> None:
    """The receiver sees the events in the order they were emitted, with status codes recorded."""
    n = sim.open_pull_request(repo, author="bob", title="x")
    sim.comment(repo, n, "alice", "/status")
    await sim.settle()
    assert [g.headers["X-GitHub-Event"] for g in receiver] == [d.event for d in sim.deliveries]
    assert [g.headers["X-GitHub-Delivery"] for g in receiver] == [d.id for d in sim.deliveries]
    assert all(d.status_code == 202 for d in sim.deliveries)


async def test_unsubscribed_events_are_emitted_not_delivered(
    sim: Simulator, receiver: list[Received], repo: str
) -> None:
    """label is not in app.yml default_events: it is in sim.emitted only."""
    n = sim.open_pull_request(repo, author="bob", title="x")
    sim.add_label(repo, n, "hold", by="alice")
    await sim.settle()
    assert "label" in {d.event for d in sim.emitted}
    assert "label" not in {g.headers["X-GitHub-Event"] for g in receiver}
    assert "pull_request" in {g.headers["X-GitHub-Event"] for g in receiver}


async def test_subscription_can_be_narrowed(
    sim: Simulator, receiver: list[Received], repo: str
) -> None:
    """Only events in sim.webhooks.subscribed_events are delivered."""
    sim.webhooks.subscribed_events = {"issue_comment"}
    n = sim.open_pull_request(repo, author="bob", title="x")
    sim.comment(repo, n, "alice", "/help")
    await sim.settle()
    assert {g.headers["X-GitHub-Event"] for g in receiver} == {"issue_comment"}


async def test_connection_error_is_recorded_without_retry(sim: Simulator, repo: str) -> None:
    """Nobody listening: status_code stays None and settle() still returns."""
    sim.webhook_url = "http://127.0.0.1:9/webhook"
    sim.open_pull_request(repo, author="bob", title="x")
    await sim.settle()
    assert sim.deliveries and all(d.status_code is None for d in sim.deliveries)


async def test_sender_is_the_acting_user(
    sim: Simulator, receiver: list[Received], repo: str
) -> None:
    """A comment by alice arrives with sender alice and an installation id."""
    n = sim.open_pull_request(repo, author="bob", title="x")
    sim.comment(repo, n, "alice", "/promote internal")
    await sim.settle()
    body = json.loads(
        next(g.body for g in receiver if g.headers["X-GitHub-Event"] == "issue_comment")
    )
    assert body["sender"]["login"] == "alice" and body["issue"]["pull_request"]
    assert body["installation"]["id"] == sim.repo(repo).installation_id
