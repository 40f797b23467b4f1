"""Replaying a delivery from GitHub's log: taken once, confirmed only once its work is kept."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio

from bot.metrics import Metrics
from bot.queue import WorkKey
from bot.webhook import Identity, MemoryDedupe, Replayed, Triage, WebhookReceiver
from bot.work import GateKey

PAYLOAD: dict[str, Any] = {
    "action": "opened",
    "installation": {"id": 1},
    "repository": {"full_name": "acme/widgets"},
    "pull_request": {"number": 7},
}


class Recording(MemoryDedupe):
    """The in-memory dedupe, recording what was confirmed and forgotten."""

    def __init__(self) -> None:
        super().__init__()
        self.confirmed: list[str] = []
        self.forgotten: list[str] = []

    async def confirm(self, delivery: str) -> None:
        self.confirmed.append(delivery)

    async def forget(self, delivery: str) -> None:
        self.forgotten.append(delivery)
        await super().forget(delivery)


def receiver(
    dedupe: Recording, *, durable_fails: bool = False, triage_fails: bool = False
) -> tuple[WebhookReceiver, list[WorkKey]]:
    """A receiver whose router turns a pull_request into a GateKey (or trips over it)."""
    router = routing.Router()
    keys: list[WorkKey] = []

    @router.register("pull_request")
    async def opened(event: sansio.Event, triage: Triage) -> None:
        if triage_fails:
            raise KeyError("pull_request")
        triage.enqueue(GateKey(1, "acme/widgets", int(event.data["pull_request"]["number"])))

    async def durable() -> None:
        if durable_fails:
            raise ConnectionError("redis is down")

    made = WebhookReceiver(
        secret="s3cret",
        router=router,
        enqueue=lambda key: keys.append(key) is None,
        identity=lambda: Identity(1, "ringbot"),
        metrics=Metrics(),
        dedupe=dedupe,
        durable=durable,
    )
    return made, keys


async def test_a_replay_is_triaged_once_and_confirmed_only_when_its_work_is_kept() -> None:
    dedupe = Recording()
    made, keys = receiver(dedupe)

    assert await made.replay("pull_request", "guid-1", PAYLOAD) is Replayed.TRIAGED
    assert keys == [GateKey(1, "acme/widgets", 7)] and dedupe.confirmed == []
    assert await made.replay("pull_request", "guid-1", PAYLOAD) is Replayed.DUPLICATE

    assert await made.confirm_replays(["guid-1"])
    assert dedupe.confirmed == ["guid-1"]


async def test_replays_whose_work_cannot_be_kept_are_forgotten_for_a_later_pass() -> None:
    dedupe = Recording()
    made, _ = receiver(dedupe, durable_fails=True)
    assert await made.replay("pull_request", "guid-2", PAYLOAD) is Replayed.TRIAGED

    assert not await made.confirm_replays(["guid-2"])

    assert dedupe.forgotten == ["guid-2"] and dedupe.confirmed == []
    assert not made.accepted("guid-2")
    assert await made.replay("pull_request", "guid-2", PAYLOAD) is Replayed.TRIAGED


async def test_a_payload_triage_trips_over_is_refused_not_a_duplicate() -> None:
    dedupe = Recording()
    made, keys = receiver(dedupe, triage_fails=True)

    assert await made.replay("pull_request", "guid-3", PAYLOAD) is Replayed.REFUSED
    assert keys == [] and dedupe.forgotten == ["guid-3"]
