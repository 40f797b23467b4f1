"""POST /webhook end to end: signatures, malformed input, dedupe, and cheap answers."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from typing import Any
from unittest import mock

import aiohttp
import orjson
import pytest
import yaml
from aiohttp import streams
from aiohttp.test_utils import make_mocked_request

from bot.logs import JsonFormatter
from bot.webhook import BodyBudget

from .builders.webhook import signature as _signature
from .harness import ROOT, World

pytestmark = pytest.mark.e2e

PING = {"zen": "Keep it logically awesome.", "hook_id": 1}
MB = 1024 * 1024


async def _raw(
    w: World, head: dict[str, str | bytes], body: bytes = b"", *, timeout: float = 10
) -> int:
    """Send a hand-made POST /webhook (headers an HTTP client would not send); the status."""
    host, port = w.bot_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [b"POST /webhook HTTP/1.1", b"Host: " + host.encode()]
    for name, value in head.items():
        lines.append(
            name.encode() + b": " + (value if isinstance(value, bytes) else value.encode())
        )
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    try:
        async with asyncio.timeout(timeout):
            status_line = await reader.readline()
            # Say we are done and wait for the bot to close, so that no connection outlives
            # the test: the bot may still be discarding a body it refused without reading.
            writer.write_eof()
            await reader.read()
    finally:
        writer.close()
    return int(status_line.split()[1])


async def _until(condition: Callable[[], object], turns: int = 10_000) -> None:
    """Wait until `condition()` holds while the bot runs (at most `turns` turns of the loop)."""
    # Bounded by turns of the event loop, not by time: the bot and the test's senders share this
    # loop and talk over local sockets, so each turn moves them on.
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"still not so after {turns} turns of the event loop")


async def _within(seconds: float, condition: Callable[[], object]) -> None:
    """Wait until `condition()` holds, polling, for at most `seconds` of real time."""
    # For what only aiohttp's own real-time deadlines end: after a refusal it holds a connection
    # for its lingering time (a second, see create_app) before it lets go.
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


async def _metrics_text(w: World) -> str:
    async with aiohttp.ClientSession() as s, s.get(f"{w.bot_url}/metrics") as resp:
        return await resp.text()


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
    body = b"{" + b" " * (25 * MB + 1) + b"}"
    head = {
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "d-big",
        "X-Hub-Signature-256": _signature(body),
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    assert await _raw(w, head, body) == 413


async def test_an_unhandled_event_makes_no_api_call(w: World) -> None:
    # Start-up reads GET /app and the delivery log in the background: let those end first.
    await w.bot.identity.load()
    await w.bot.catchup.idle()
    await w.settle()
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
    async with aiohttp.ClientSession() as s, s.get(f"{w.bot_url}/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "ok"


async def test_metrics_count_deliveries(w: World) -> None:
    await w.deliver("ping", PING)
    await w.deliver("ping", PING, secret="wrong")
    async with aiohttp.ClientSession() as s, s.get(f"{w.bot_url}/metrics") as resp:
        text = await resp.text()
    assert 'ringbot_webhook_deliveries_total{event="ping",outcome="accepted"} 1.0' in text
    assert 'ringbot_webhook_deliveries_total{event="ping",outcome="rejected_401"} 1.0' in text


# Hostile and malformed input: cheap refusals, bounded memory, 4xx and never 5xx.


async def test_an_unsigned_body_is_refused_before_it_is_read(w: World) -> None:
    # 24 MB announced, none sent: only an answer that does not wait for the body arrives.
    status = await _raw(w, {"X-GitHub-Event": "ping", "Content-Length": str(24 * MB)}, timeout=5)
    assert status == 401


async def test_a_declared_length_over_25_mb_is_refused_before_it_is_read(w: World) -> None:
    head = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Content-Length": str(25 * MB + 1)}
    assert await _raw(w, head, timeout=5) == 413


async def test_a_refused_sender_that_hangs_up_is_forgotten_within_seconds(w: World) -> None:
    assert w.runner is not None and w.runner.server is not None
    for _ in range(20):  # each announces 24 MB, sends none of it, and hangs up once refused
        assert await _raw(w, {"Content-Length": str(24 * MB)}) == 401
    server = w.runner.server
    await _within(3, lambda: server.connections == [])


async def test_a_chunked_body_over_25_mb_gets_413(w: World) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        piece = b" " * MB
        for _ in range(26):
            yield piece

    headers = {"X-GitHub-Event": "ping", "X-Hub-Signature-256": "sha256=" + "0" * 64}
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{w.bot_url}/webhook", data=chunks(), headers=headers) as resp,
    ):
        assert resp.status == 413


async def test_at_most_a_few_large_unverified_bodies_are_held_at_once(w: World) -> None:
    senders, size, piece = 12, 8 * MB, b" " * (64 * 1024)

    async def send_large_body() -> int:
        host, port = w.bot_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: ping\r\n"
            b"X-Hub-Signature-256: sha256=" + b"0" * 64 + b"\r\n"
            b"Content-Length: %d\r\n\r\n" % size
        )
        for _ in range(size // len(piece)):
            writer.write(piece)
            await writer.drain()  # the sender holds one piece at a time, so the bot's share counts
        status_line = await reader.readline()
        writer.close()
        return int(status_line.split()[1])

    tracemalloc.start()
    try:
        statuses = await asyncio.gather(*(send_large_body() for _ in range(senders)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert statuses == [401] * senders
    assert peak < 4 * size  # two bodies being read, and slack; not twelve


async def test_small_deliveries_are_not_held_up_by_large_ones(w: World) -> None:
    host, port = w.bot_url.removeprefix("http://").split(":")
    stalled = []
    for _ in range(4):  # more large senders than slots, each stuck halfway
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256="
            + b"0" * 64
            + b"\r\nContent-Length: %d\r\n\r\n" % (4 * MB)
            + b" " * MB
        )
        stalled.append(writer)
    try:
        async with asyncio.timeout(5):
            resp = await w.deliver("ping", PING)
        assert resp.status == 202
    finally:
        for writer in stalled:
            writer.transport.abort()


async def test_a_stalled_large_body_gives_up_its_slot(w: World) -> None:
    w.bot.receiver.body_seconds = 0.5
    head = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Content-Length": str(4 * MB)}
    assert await _raw(w, head, b" " * MB, timeout=5) == 408


async def test_a_large_body_that_cannot_get_a_slot_in_time_gets_503(w: World) -> None:
    host, port = w.bot_url.removeprefix("http://").split(":")
    stalled = []
    for _ in range(2):  # every slot taken by a body that stops halfway
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256="
            + b"0" * 64
            + b"\r\nContent-Length: %d\r\n\r\n" % (4 * MB)
            + b" " * MB
        )
        stalled.append(writer)
    try:
        await _until(w.bot.receiver._large.locked)  # both slots are held
        w.bot.receiver.body_seconds = 0.3
        head = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Content-Length": str(2 * MB)}
        assert await _raw(w, head, b" " * (2 * MB), timeout=5) == 503
    finally:
        for writer in stalled:
            writer.transport.abort()


async def _stalled_sender(w: World, declared: int, sent: int) -> int:
    """Announce `declared` bytes with a well-formed fake signature, send `sent`, stall; the status."""
    host, port = w.bot_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n"
            b"X-Hub-Signature-256: sha256=" + b"0" * 64 + b"\r\n"
            b"Content-Length: %d\r\n\r\n" % declared
        )
        piece = b" " * (64 * 1024)
        for start in range(0, sent, len(piece)):
            writer.write(piece[: sent - start])
            await writer.drain()  # the sender holds one piece at a time, so the bot's share counts
        async with asyncio.timeout(10):
            status_line = await reader.readline()
    finally:
        writer.transport.abort()
    return int(status_line.split()[1])


async def _budget_given_back(budget: BodyBudget) -> None:
    """Wait until every byte of the budget is free again: nothing is held after a request ends."""
    await _until(lambda: budget.free == budget.total)


async def test_stalled_bodies_just_under_1_mb_hold_no_more_than_the_budget(w: World) -> None:
    # The reviewed attack, scaled down: each sender announces exactly 1 MB (no slot), sends all
    # but the last byte and stalls. Unbounded, the bot held every one of them until they hung up.
    senders, budget = 40, 4 * MB
    fit = budget // MB
    receiver = w.bot.receiver
    receiver.budget = BodyBudget(budget)
    receiver.body_seconds, receiver.budget_wait = 3.0, 0.3
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        sending = [asyncio.ensure_future(_stalled_sender(w, MB, MB - 1)) for _ in range(senders)]
        # The ones the budget has no room for are turned away after a brief wait...
        turned_away: set[asyncio.Future[int]] = set()
        stalled = set(sending)
        async with asyncio.timeout(2.5):  # well before the deadline of the ones that fit
            while len(turned_away) < senders - fit:
                done, stalled = await asyncio.wait(stalled, return_when=asyncio.FIRST_COMPLETED)
                turned_away |= done
        assert [t.result() for t in turned_away] == [503] * (senders - fit)
        assert w.runner is not None and w.runner.server is not None
        server = w.runner.server
        await _within(2, lambda: len(server.connections) <= fit)  # their connections close
        # ...while the ones that fit stall: what the bot holds for them is the budget, not 40 MB.
        held = tracemalloc.get_traced_memory()[0] - before
        statuses = await asyncio.gather(*stalled)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < budget + MB
    assert statuses == [408] * fit  # cut off at the deadline
    # At the peak: the budget, and what aiohttp buffers for each connection before the receiver
    # sees the request (it stops reading a connection at 512 KB, after a read of up to 256 KB).
    assert peak - before < budget + senders * 3 * MB // 4
    await _budget_given_back(receiver.budget)
    assert (await w.deliver("ping", PING)).status == 202


async def test_a_stalled_small_body_is_cut_off_with_408(w: World) -> None:
    w.bot.receiver.body_seconds = 0.5
    head = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Content-Length": str(20_000)}
    started = time.monotonic()
    assert await _raw(w, head, b" " * 10_000, timeout=5) == 408
    assert time.monotonic() - started < 3
    await _budget_given_back(w.bot.receiver.budget)


async def test_a_small_body_trickled_in_is_cut_off_at_the_deadline(w: World) -> None:
    # A byte at a time never lets the connection go quiet; the deadline counts from the headers.
    w.bot.receiver.body_seconds = 0.5
    host, port = w.bot_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256="
        + b"0" * 64
        + b"\r\nContent-Length: 1000\r\n\r\n"
    )
    started = time.monotonic()
    status = asyncio.ensure_future(reader.readline())
    try:
        async with asyncio.timeout(5):  # the whole body would take 50 s
            while not status.done():
                writer.write(b" ")
                await asyncio.sleep(0.05)
            status_line = await status
    finally:
        status.cancel()
        writer.transport.abort()
    assert int(status_line.split()[1]) == 408
    assert time.monotonic() - started < 3


async def test_a_small_delivery_waits_briefly_for_budget_then_gets_503(w: World) -> None:
    receiver = w.bot.receiver
    receiver.budget = BodyBudget(MB)
    receiver.body_seconds, receiver.budget_wait = 5.0, 0.3
    holder = asyncio.ensure_future(_stalled_sender(w, MB, MB // 2))  # takes the whole budget
    try:
        await _until(lambda: not receiver.budget.free)
        started = time.monotonic()
        assert (await w.deliver("ping", PING)).status == 503
        assert time.monotonic() - started < 2
    finally:
        holder.cancel()
    await _budget_given_back(receiver.budget)
    assert (await w.deliver("ping", PING)).status == 202


async def test_the_budget_is_given_back_however_a_request_ends(w: World) -> None:
    receiver = w.bot.receiver
    receiver.body_seconds = 0.5
    assert (await w.deliver("ping", PING)).status == 202
    assert (await w.deliver("ping", PING, secret="wrong")).status == 401
    # (A body no handler wants is not parsed: a malformed one is refused for a wanted event.)
    assert (await w.deliver("pull_request", b"{not json")).status == 400
    head = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Content-Length": str(30_000)}
    assert await _raw(w, head, b" " * 100, timeout=5) == 408
    # A sender that hangs up halfway through its body.
    host, port = w.bot_url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256="
        + b"0" * 64
        + b"\r\nContent-Length: 500000\r\n\r\n"
        + b" " * 100_000
    )
    await writer.drain()
    # The bot is reading it: it holds the announced length.
    await _until(lambda: receiver.budget.total - receiver.budget.free >= 500_000)
    writer.transport.abort()
    await _budget_given_back(receiver.budget)
    assert not receiver._large.locked()


async def test_a_cancelled_read_gives_its_budget_back(w: World) -> None:
    receiver = w.bot.receiver
    payload = streams.StreamReader(
        mock.Mock(_reading_paused=False), 2**16, loop=asyncio.get_running_loop()
    )
    payload.feed_data(b" " * 1000)  # of 5000 announced: the read waits for the rest
    headers = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Content-Length": "5000"}
    request = make_mocked_request("POST", "/webhook", headers=headers, payload=payload)
    task = asyncio.ensure_future(receiver.handle(request))
    # The announced length, held while the rest of the body is awaited.
    await _until(lambda: receiver.budget.total - receiver.budget.free == 5000)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert receiver.budget.free == receiver.budget.total


async def test_a_body_of_unknown_length_holds_what_it_has_read(w: World) -> None:
    receiver = w.bot.receiver
    payload = streams.StreamReader(
        mock.Mock(_reading_paused=False), 2**16, loop=asyncio.get_running_loop()
    )
    payload.feed_data(b" " * 3000)  # chunked: no length announced, the rest never comes
    headers = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Transfer-Encoding": "chunked"}
    request = make_mocked_request("POST", "/webhook", headers=headers, payload=payload)
    task = asyncio.ensure_future(receiver.handle(request))
    await _until(lambda: receiver.budget.total - receiver.budget.free == 3000)
    payload.feed_eof()
    assert (await task).status == 401
    assert receiver.budget.free == receiver.budget.total


async def test_a_budget_waiter_that_gives_up_or_is_cancelled_takes_nothing() -> None:
    budget = BodyBudget(10)
    loop = asyncio.get_running_loop()
    assert await budget.take(8, loop.time() + 1)
    assert not await budget.take(5, loop.time() + 0.05)  # timed out
    assert not await budget.take(11, loop.time() + 1)  # could never fit: no wait
    waiting = asyncio.ensure_future(budget.take(5, loop.time() + 5))
    await asyncio.sleep(0)  # one turn: the task's first step runs, and it waits in line
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    # Granted in the same turn as it is cancelled: what it was given is handed back.
    waiting = asyncio.ensure_future(budget.take(5, loop.time() + 5))
    await asyncio.sleep(0)
    budget.give(8)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert budget.free == budget.total
    # A small request goes ahead of a large one that is still waiting for room.
    assert await budget.take(6, loop.time() + 1)
    large = asyncio.ensure_future(budget.take(8, loop.time() + 5))
    await asyncio.sleep(0)
    assert await budget.take(3, loop.time() + 1)
    budget.give(6)
    budget.give(3)
    assert await large
    assert budget.free == 2


async def test_random_event_names_share_one_metrics_label(w: World) -> None:
    async def unsigned(event: str) -> None:
        async with (
            aiohttp.ClientSession() as s,
            s.post(f"{w.bot_url}/webhook", headers={"X-GitHub-Event": event}) as resp,
        ):
            assert resp.status == 401

    await unsigned("made-up-0")
    await w.bot.catchup.idle()  # the catch-up pass at start adds its own series once
    lines = len((await _metrics_text(w)).splitlines())
    for n in range(1, 50):
        await unsigned(f"made-up-{n}")
    text = await _metrics_text(w)
    assert 'ringbot_webhook_deliveries_total{event="other",outcome="rejected_401"} 50.0' in text
    assert len(text.splitlines()) == lines


async def test_every_event_in_the_app_manifest_has_its_own_metrics_label(w: World) -> None:
    manifest = yaml.safe_load((ROOT / "app.yml").read_text())
    async with aiohttp.ClientSession() as s:
        for event in manifest["default_events"]:
            async with s.post(f"{w.bot_url}/webhook", headers={"X-GitHub-Event": event}) as r:
                assert r.status == 401
    text = await _metrics_text(w)
    for event in manifest["default_events"]:
        assert f'ringbot_webhook_deliveries_total{{event="{event}",outcome="rejected_401"}}' in text


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param("sha256=" + "é" * 64, id="non-ascii"),
        pytest.param("sha256=" + "0" * 63, id="too-short"),
        pytest.param("sha256=" + "0 " * 32, id="spaced-hex"),
        pytest.param("sha256=" + "g" * 64, id="not-hex"),
    ],
)
async def test_a_malformed_signature_is_refused_with_401(w: World, signature: str) -> None:
    resp = await w.deliver("ping", PING, headers={"X-Hub-Signature-256": signature})
    assert resp.status == 401


async def test_a_header_with_undecodable_bytes_is_not_a_crash(w: World) -> None:
    body = orjson.dumps(PING)
    head = {
        "X-GitHub-Event": b"p\xffng",
        "X-GitHub-Delivery": b"\xfe\xff",
        "X-Hub-Signature-256": _signature(body),
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    assert await _raw(w, head, body) == 202
    assert 'event="other",outcome="accepted"' in await _metrics_text(w)


async def test_header_names_are_matched_in_any_case(w: World) -> None:
    body = orjson.dumps(PING)
    headers = {
        "x-github-event": "ping",
        "X-GITHUB-DELIVERY": "d-case",
        "x-hub-signature-256": _signature(body),
        "content-type": "application/json",
    }
    resp = await w.deliver("ping", body, headers=headers)
    assert resp.status == 202


BASE = {
    "installation": {"id": 1},
    "repository": {"full_name": "acme/widgets", "default_branch": "main"},
    "sender": {"login": "bob", "type": "User"},
}
WRONG_TYPES = [
    pytest.param(
        "check_run",
        {"action": "completed", "check_run": {"app": "ci", "head_sha": "a" * 40}},
        id="check-run-app-a-string",
    ),
    pytest.param("push", {"ref": "refs/heads/main", "commits": [1, 2]}, id="push-commits-numbers"),
    pytest.param(
        "issue_comment",
        {
            "action": "created",
            "comment": {"id": 1, "user": "bob", "body": "/status"},
            "issue": {"number": 1, "pull_request": {}},
        },
        id="comment-user-a-string",
    ),
    pytest.param(
        "push", {"ref": "refs/heads/main", "repository": "acme/widgets"}, id="repository-a-string"
    ),
]


@pytest.mark.parametrize(("event", "fields"), WRONG_TYPES)
async def test_a_signed_payload_with_a_wrong_type_gets_400(
    w: World, event: str, fields: dict[str, Any]
) -> None:
    resp = await w.deliver(event, {**BASE, **fields})
    assert resp.status == 400


async def test_a_malformed_payload_is_one_json_warning_without_a_traceback(
    w: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await w.deliver("push", {**BASE, "ref": "refs/heads/main", "commits": [1]}, delivery="d-m")
    lines = [
        (r.levelname, fields.get("error"))
        for r in caplog.records
        if (fields := getattr(r, "fields", {})).get("delivery") == "d-m"
    ]
    assert lines == [("WARNING", "AttributeError")]
    assert not any(r.exc_info for r in caplog.records)


async def test_an_unexpected_failure_is_a_bare_500_and_one_json_line(
    w: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(w.bot.metrics, "registry", None)  # a bug on our side, not bad input
    with caplog.at_level(logging.INFO):
        async with aiohttp.ClientSession() as s, s.get(f"{w.bot_url}/metrics") as resp:
            assert (resp.status, await resp.text()) == (500, "")
    (record,) = [r for r in caplog.records if r.getMessage() == "request failed"]
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert orjson.loads(line)["path"] == "/metrics"
    assert "Traceback" in orjson.loads(line)["error"]
