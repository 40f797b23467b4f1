"""POST /webhook end to end: signatures, malformed input, dedupe, and cheap answers."""

from __future__ import annotations

import pytest

from .harness import World

pytestmark = pytest.mark.e2e

PING = {"zen": "Keep it logically awesome.", "hook_id": 1}


async def test_a_good_signature_is_accepted(w: World) -> None:
    resp = await w.deliver("ping", PING)
    assert resp.status == 202


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"X-Hub-Signature-256": None}, 401, id="missing-signature"),
        pytest.param({"X-Hub-Signature-256": "sha256=" + "0" * 64}, 401, id="wrong-signature"),
        pytest.param({"X-Hub-Signature-256": "md5=abc"}, 401, id="unknown-scheme"),
        pytest.param(
            {"X-Hub-Signature-256": None, "X-Hub-Signature": "sha1=" + "0" * 40},
            401,
            id="sha1-only",
        ),
        pytest.param({"X-GitHub-Event": None}, 400, id="missing-event"),
        pytest.param({"X-GitHub-Delivery": None}, 400, id="missing-delivery"),
        pytest.param({"Content-Type": "application/x-www-form-urlencoded"}, 400, id="form-body"),
    ],
)
async def test_bad_headers_are_refused(w: World, headers: dict[str, str], status: int) -> None:
    resp = await w.deliver("ping", PING, headers=headers)
    assert resp.status == status


async def test_a_wrong_secret_is_refused(w: World) -> None:
    resp = await w.deliver("ping", PING, secret="not-the-secret")
    assert resp.status == 401


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"[1, 2]", id="not-an-object"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b'{"action": "opened"}', id="pull-request-without-fields"),
    ],
)
async def test_malformed_bodies_get_400(w: World, body: bytes) -> None:
    resp = await w.deliver("pull_request", body)
    assert resp.status == 400


async def test_a_body_over_25_mb_gets_413(w: World) -> None:
    resp = await w.deliver("ping", b"{" + b" " * (25 * 1024 * 1024 + 1) + b"}")
    assert resp.status == 413


async def test_an_unhandled_event_makes_no_api_call(w: World) -> None:
    w.sim.requests.clear()
    resp = await w.deliver("star", {"action": "created", "starred_at": None})
    await w.settle()
    assert resp.status == 202
    assert w.sim.requests == []


async def test_a_redelivery_is_not_processed_twice(w: World) -> None:
    first = await w.deliver("ping", PING, delivery="d-1")
    second = await w.deliver("ping", PING, delivery="d-1")
    assert (first.status, second.status) == (202, 200)


async def test_healthz_answers_json(w: World) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.get(f"{w.bot_url}/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "ok"


async def test_metrics_count_deliveries(w: World) -> None:
    import aiohttp

    await w.deliver("ping", PING)
    await w.deliver("ping", PING, secret="wrong")
    async with aiohttp.ClientSession() as s, s.get(f"{w.bot_url}/metrics") as resp:
        text = await resp.text()
    assert 'ringbot_webhook_deliveries_total{event="ping",outcome="accepted"} 1.0' in text
    assert 'ringbot_webhook_deliveries_total{event="ping",outcome="rejected_401"} 1.0' in text
