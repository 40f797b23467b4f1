"""The App's webhook delivery log: every attempt, GitHub's shapes, cursor pages, redelivery."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.clock import ManualClock
from bot.sim import Simulator

from .api import Api
from .conftest import Received
from .schemas import response_errors

LIST = "/app/hook/deliveries"
ONE = "/app/hook/deliveries/{delivery_id}"
AGAIN = "/app/hook/deliveries/{delivery_id}/attempts"


def jwt(api: Api) -> str:
    """The App's JWT, as GitHub requires for the delivery log."""
    return f"Bearer {api.app_jwt()}"


def valid(method: str, template: str, status: int, body: object) -> None:
    """The body matches GitHub's OpenAPI description (what Prism checks)."""
    errors = response_errors(method, template, status, body)
    assert not errors, errors


@pytest.fixture
async def answering_503(sim: Simulator) -> AsyncIterator[list[str]]:
    """A webhook endpoint that answers 503 (a bot whose queue is down); yields the GUIDs it got."""
    got: list[str] = []

    async def hook(request: web.Request) -> web.Response:
        got.append(request.headers["X-GitHub-Delivery"])
        return web.Response(status=503, text="try later")

    app = web.Application()
    app.router.add_post("/webhook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    sim.webhook_url = f"http://127.0.0.1:{port}/webhook"
    yield got
    await runner.cleanup()


async def test_a_delivered_attempt_is_logged_like_github(
    sim: Simulator, api: Api, receiver: list[Received], repo: str
) -> None:
    number = sim.open_pull_request(repo, author="alice", title="x")
    await sim.settle()
    listed = await api.call("GET", LIST, auth=jwt(api))
    assert listed.status == 200
    valid("GET", LIST, 200, listed.body)
    assert [e["guid"] for e in listed.body] == [d.id for d in reversed(sim.deliveries)]
    newest = listed.body[0]
    assert newest["status_code"] == 202 and newest["status"] == "OK"
    assert newest["redelivery"] is False and newest["throttled_at"] is None
    assert newest["installation_id"] == sim.repo(repo).installation_id
    assert newest["repository_id"] == sim.repo(repo).id
    one = await api.call("GET", ONE, auth=jwt(api), delivery_id=newest["id"])
    valid("GET", ONE, 200, one.body)
    assert one.body["url"] == sim.webhook_url
    sent = one.body["request"]
    assert sent["headers"]["X-GitHub-Delivery"] == newest["guid"]
    assert sent["payload"] == sim.deliveries[-1].payload
    assert sent["payload"]["pull_request"]["number"] == number
    assert one.body["response"]["headers"] is not None


async def test_an_attempt_nobody_answered_is_logged_as_failed_to_connect(
    sim: Simulator, api: Api, repo: str
) -> None:
    sim.webhook_url = "http://127.0.0.1:9/webhook"  # nothing listens there
    sim.open_pull_request(repo, author="alice", title="x")
    await sim.settle()
    listed = await api.call("GET", LIST, auth=jwt(api))
    valid("GET", LIST, 200, listed.body)
    assert listed.body and all(e["status_code"] == 0 for e in listed.body)
    assert {e["status"] for e in listed.body} == {"failed to connect"}
    one = await api.call("GET", ONE, auth=jwt(api), delivery_id=listed.body[0]["id"])
    valid("GET", ONE, 200, one.body)
    assert one.body["response"] == {"headers": None, "payload": None}
    assert one.body["request"]["payload"] == sim.deliveries[-1].payload


async def test_pages_follow_the_link_cursor_newest_first(
    sim: Simulator, api: Api, receiver: list[Received], repo: str
) -> None:
    for i in range(3):
        sim.open_pull_request(repo, author="alice", title=f"x{i}")
    await sim.settle()
    total = len(sim.hook_log.attempts)
    assert total >= 5
    ids: list[int] = []
    query: dict[str, str] | None = {"per_page": "2"}
    while query is not None:
        page = await api.call("GET", LIST, auth=jwt(api), query=query)
        valid("GET", LIST, 200, page.body)
        assert len(page.body) <= 2
        ids += [e["id"] for e in page.body]
        link = page.headers.get("Link")
        query = None
        if link:
            m = re.fullmatch(r'<[^>]*/app/hook/deliveries\?([^>]*)>; rel="next"', link)
            assert m, link
            query = dict(p.split("=", 1) for p in m.group(1).split("&"))
            assert query["per_page"] == "2" and query["cursor"].startswith("v1_")
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == total


async def test_status_filters_by_status_code_range(
    sim: Simulator, api: Api, answering_503: list[str], repo: str
) -> None:
    sim.open_pull_request(repo, author="alice", title="x")
    await sim.settle()
    failures = await api.call("GET", LIST, auth=jwt(api), query={"status": "failure"})
    successes = await api.call("GET", LIST, auth=jwt(api), query={"status": "success"})
    valid("GET", LIST, 200, failures.body)
    assert [e["guid"] for e in failures.body] == list(reversed(answering_503))
    assert {e["status"] for e in failures.body} == {"Invalid HTTP Response: 503"}
    assert successes.body == []
    bad = await api.call("GET", LIST, auth=jwt(api), query={"status": "maybe"})
    assert bad.status == 422


async def test_a_redelivery_is_a_new_attempt_with_the_same_guid_and_payload(
    sim: Simulator, api: Api, answering_503: list[str], repo: str
) -> None:
    sim.comment(repo, sim.open_pull_request(repo, author="alice", title="x"), "mia", "/status")
    await sim.settle()
    first = (await api.call("GET", LIST, auth=jwt(api))).body[0]
    again = await api.call("POST", AGAIN, auth=jwt(api), delivery_id=first["id"])
    assert again.status == 202
    valid("POST", AGAIN, 202, again.body)
    await sim.settle()
    newest = (await api.call("GET", LIST, auth=jwt(api))).body[0]
    assert newest["guid"] == first["guid"] and newest["id"] > first["id"]
    assert newest["redelivery"] is True and first["redelivery"] is False
    assert answering_503[-1] == first["guid"]
    sent = [
        (await api.call("GET", ONE, auth=jwt(api), delivery_id=e["id"])).body["request"]
        for e in (first, newest)
    ]
    assert sent[0]["payload"] == sent[1]["payload"]
    assert len(sim.deliveries) == len(answering_503) - 1  # a redelivery is not a new event


async def test_the_log_needs_the_app_jwt_and_knows_its_ids(
    sim: Simulator, api: Api, repo: str
) -> None:
    sim.open_pull_request(repo, author="alice", title="x")
    await sim.settle()  # no webhook URL: nothing is delivered, nothing is logged
    assert (await api.call("GET", LIST, auth=jwt(api))).body == []
    token = await api.login(repo)
    refused = await api.call("GET", LIST, auth=f"token {token}")
    assert refused.status == 401
    assert (await api.call("GET", ONE, auth=jwt(api), delivery_id=1)).status == 404
    assert (await api.call("POST", AGAIN, auth=jwt(api), delivery_id=1)).status == 404
    bad = await api.call("GET", LIST, auth=jwt(api), query={"cursor": "nonsense"})
    assert bad.status == 400


async def test_attempts_older_than_three_days_are_forgotten(
    sim: Simulator, api: Api, clock: ManualClock, receiver: list[Received], repo: str
) -> None:
    sim.open_pull_request(repo, author="alice", title="old")
    await sim.settle()
    old = len(sim.hook_log.attempts)
    old_id = sim.hook_log.attempts[0].id
    clock.advance(days=2)
    sim.open_pull_request(repo, author="alice", title="new")
    await sim.settle()
    clock.advance(days=1, seconds=1)
    listed = (await api.call("GET", LIST, auth=jwt(api))).body
    assert len(listed) == len(sim.hook_log.attempts) and old_id not in {e["id"] for e in listed}
    assert len(listed) == len(receiver) - old
    assert (await api.call("GET", ONE, auth=jwt(api), delivery_id=old_id)).status == 404
