"""Deliveries no handler wants are acknowledged without being parsed; the wanted set comes from
the routers themselves, so a new handler can never be skipped."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from unittest import mock

import orjson
import pytest
from aiohttp import streams, web
from aiohttp.test_utils import make_mocked_request
from gidgethub import routing

from bot import webhook
from bot.handlers import HANDLERS
from bot.metrics import Metrics
from bot.queue import WorkKey
from bot.webhook import Identity, Wanted, WebhookReceiver

from .builders.webhook import signature

PULL = {
    "action": "synchronize",
    "number": 1,
    "pull_request": {"number": 1, "head": {"sha": "a" * 40}},
    "installation": {"id": 1},
    "repository": {"full_name": "acme/widgets", "default_branch": "main"},
    "sender": {"login": "bob", "type": "User"},
}


def _router() -> routing.Router:
    """The router the bot dispatches with: every handler module's, together (as bot.app)."""
    return routing.Router(*(module.router for module in HANDLERS))


def _registered() -> list[tuple[str, Any]]:
    """Every (event, action) some handler registers; None: every action of the event."""
    routes: list[tuple[str, Any]] = []
    for module in HANDLERS:
        routes += [(event, None) for event in module.router._shallow_routes]
        for event, details in module.router._deep_routes.items():
            routes += [(event, action) for action in details.get("action", {})]
    return routes


class Receiver:
    """A receiver on the bot's router, whose queued work is kept in a list."""

    def __init__(self) -> None:
        self.queued: list[WorkKey] = []
        self.receiver = WebhookReceiver(
            secret="test-secret",
            router=_router(),
            enqueue=lambda key: self.queued.append(key) is None,
            identity=lambda: Identity(app_id=99, slug="ringbot"),
            metrics=Metrics(),
        )

    async def deliver(self, event: str, body: bytes | dict[str, Any], delivery: str = "") -> int:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        payload = streams.StreamReader(
            mock.Mock(_reading_paused=False), 2**16, loop=asyncio.get_running_loop()
        )
        payload.feed_data(raw)
        payload.feed_eof()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": signature(raw, "test-secret"),
            "Content-Type": "application/json",
            "Content-Length": str(len(raw)),
        }
        request = make_mocked_request("POST", "/webhook", headers=headers, payload=payload)
        response: web.Response = await self.receiver.handle(request)
        return response.status


@pytest.fixture
def r() -> Receiver:
    return Receiver()


@pytest.fixture
def no_parse(monkeypatch: pytest.MonkeyPatch) -> mock.Mock:
    """orjson.loads as the receiver sees it, failing the test if it is called."""
    loads = mock.Mock(side_effect=AssertionError("parsed"))
    monkeypatch.setattr(webhook.orjson, "loads", loads)
    return loads


def test_the_handlers_register_routes() -> None:
    # The tests below mean something only while the routers hold what gidgethub keeps in them.
    assert ("pull_request", "synchronize") in _registered()
    assert ("push", None) in _registered()


@pytest.mark.parametrize(("event", "action"), _registered())
def test_every_registered_route_is_wanted(event: str, action: Any) -> None:
    wanted = Wanted(_router())
    for said in [action] if action is not None else ["opened", "made-up", None]:
        body = orjson.dumps({"action": said} if said is not None else {"ref": "x"})
        assert wanted(event, bytearray(body))[0], (event, said)


def test_a_new_handler_is_wanted_without_being_listed_anywhere() -> None:
    router = routing.Router()

    @router.register("star", action="created")
    async def starred(*_: object) -> None:
        """A handler added later."""

    wanted = Wanted(routing.Router(_router(), router))
    assert wanted("star", bytearray(b'{"action":"created"}')) == (True, "created")
    assert wanted("star", bytearray(b'{"action":"deleted"}')) == (False, "deleted")


@pytest.mark.parametrize(
    ("event", "body", "decision"),
    [
        pytest.param(
            "pull_request", b'{"action":"assigned","x":', (False, "assigned"), id="unwanted"
        ),
        pytest.param("pull_request", b' {\n "action" : "opened"}', (True, "opened"), id="spaced"),
        pytest.param("star", b'{"action":"created"}', (False, "created"), id="no-handler"),
        pytest.param("ping", b'{"zen":"x"}', (False, None), id="no-action"),
        # Only a parse can tell these: they are parsed.
        pytest.param("pull_request", b'{"number":1,"action":"assigned"}', (True, None), id="late"),
        pytest.param("pull_request", b'{"action":"assi\\u0067ned"}', (True, None), id="escaped"),
    ],
)
def test_a_look_at_the_first_bytes_decides(
    event: str, body: bytes, decision: tuple[bool, str | None]
) -> None:
    assert Wanted(_router())(event, bytearray(body)) == decision


async def test_an_unwanted_delivery_is_acknowledged_without_being_parsed(
    r: Receiver, no_parse: mock.Mock
) -> None:
    unwanted = {**PULL, "action": "assigned"}
    assert await r.deliver("pull_request", unwanted) == 202
    assert await r.deliver("issue_comment", {**PULL, "action": "deleted"}) == 202
    assert await r.deliver("workflow_run", {**PULL, "action": "completed"}) == 202
    # Not parsed at all: a signed body that only begins like a payload is acknowledged too.
    assert await r.deliver("pull_request", b'{"action":"assigned", not json') == 202
    assert await r.deliver("star", b"{not json") == 202
    assert no_parse.call_count == 0
    assert r.queued == []


async def test_an_unwanted_body_that_is_not_an_object_is_still_refused(
    r: Receiver, no_parse: mock.Mock
) -> None:
    assert await r.deliver("star", b"[1, 2]") == 400
    assert await r.deliver("ping", b"\xff\xfe") == 400
    assert no_parse.call_count == 0


async def test_an_unwanted_redelivery_is_a_duplicate(r: Receiver) -> None:
    star = {"action": "created", "starred_at": None}
    assert await r.deliver("star", star, delivery="d-star") == 202
    assert await r.deliver("star", star, delivery="d-star") == 200
    assert r.receiver.accepted("d-star")


async def test_a_wanted_delivery_still_queues_its_work(r: Receiver) -> None:
    assert await r.deliver("pull_request", PULL) == 202
    assert [type(key).__name__ for key in r.queued] == ["GateKey"]


async def test_a_malformed_wanted_delivery_still_gets_400(r: Receiver) -> None:
    assert await r.deliver("pull_request", b'{"action":"synchronize", not json') == 400
    # An action that is not first is found by the parse, which refuses the body.
    assert await r.deliver("pull_request", b'{"number":1,"action":"assigned" x') == 400
    assert await r.deliver("pull_request", {"action": "opened"}) == 400
    assert r.queued == []
