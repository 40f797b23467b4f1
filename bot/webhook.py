"""POST /webhook: verify, dedupe, reduce to work keys, enqueue, answer 202. No GitHub calls here."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from aiohttp import StreamReader, web
from aiohttp.http_exceptions import HttpProcessingError
from cachetools import LRUCache
from gidgethub import routing, sansio

from .logs import DELIVERY, log
from .metrics import Metrics
from .queue import WorkKey

MAX_BODY = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
SEEN_DELIVERIES = 10_000
# Bodies up to this size are read at once; larger ones take one of a few slots first, so that
# unverified senders cannot make the process hold many 25 MB buffers at the same time.
LARGE_BODY = 1024 * 1024
LARGE_BODIES_AT_ONCE = 2
# GitHub gives up on a delivery after 10 s: a large body that takes longer (or waits longer for
# a slot) is not worth holding a slot for.
LARGE_BODY_SECONDS = 10.0
CHUNK = 64 * 1024
SIGNATURE_PREFIX = "sha256="
_SIGNATURE_LENGTH = len(SIGNATURE_PREFIX) + 64
_HEADER_IN_LOGS = 200  # characters of a sender-chosen header that a log line repeats


@dataclass(frozen=True)
class Identity:
    """Who the App is, so that its own echoes can be recognised."""

    app_id: int
    slug: str

    @property
    def bot_login(self) -> str:
        """The login GitHub gives the App's writes."""
        return f"{self.slug}[bot]"


@dataclass
class Triage:
    """What a triage handler gets: where to put work, and who we are."""

    enqueue: Callable[[WorkKey], bool]
    identity: Identity


def _parse_signature(header: str) -> bytes | None:
    """The 32-byte digest of a well-formed `sha256=<64 hex>` header, else None."""
    # A SHA-1 signature alone is refused: it is GitHub's legacy header.
    if len(header) != _SIGNATURE_LENGTH or not header.startswith(SIGNATURE_PREFIX):
        return None
    try:
        digest = bytes.fromhex(header[len(SIGNATURE_PREFIX) :])
    except ValueError:  # not hex, including any non-ASCII character
        return None
    # fromhex skips whitespace, so 64 characters may hold fewer than 32 bytes.
    return digest if len(digest) == 32 else None


def _printable(value: str) -> str:
    """A header value as it may appear in a log line: ASCII, with escapes, never too long."""
    if value.isascii() and len(value) <= _HEADER_IN_LOGS:
        return value
    # aiohttp hands over undecodable bytes as lone surrogates, which JSON cannot encode.
    return value[:_HEADER_IN_LOGS].encode("ascii", "backslashreplace").decode("ascii")


class _Refused(Exception):
    """The body was not read to the end: answer with this status and text."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class WebhookReceiver:
    """Turns signed deliveries into work keys."""

    def __init__(
        self,
        *,
        secret: str,
        router: routing.Router,
        enqueue: Callable[[WorkKey], bool],
        identity: Callable[[], Identity],
        metrics: Metrics,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        # Keyed once: each delivery copies the keyed state instead of re-deriving it.
        self._mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
        self._router = router
        self._enqueue = enqueue
        self._identity = identity
        self._metrics = metrics
        self._seen: LRUCache[str, bool] = LRUCache(SEEN_DELIVERIES)
        self._large = asyncio.Semaphore(LARGE_BODIES_AT_ONCE)
        self.large_body_seconds = LARGE_BODY_SECONDS

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one delivery; the work happens later, in the queue."""
        headers = request.headers  # case-insensitive, as HTTP header names are
        event_name = _printable(headers.get("X-GitHub-Event", ""))
        delivery_id = headers.get("X-GitHub-Delivery", "")
        delivery = _printable(delivery_id)  # what logs and queued work call it
        # Everything that costs memory or CPU comes after the cheap refusals.
        expected = _parse_signature(headers.get("X-Hub-Signature-256", ""))
        if expected is None:
            return self._answer(
                401, "missing or malformed X-Hub-Signature-256", event_name, delivery
            )
        declared = request.content_length
        if declared is not None and declared > MAX_BODY:
            return self._answer(413, "body over 25 MB", event_name, delivery)
        mac = self._mac.copy()
        try:
            body = await self._read(request.content, declared, mac)
        except _Refused as refused:
            return self._answer(refused.status, refused.text, event_name, delivery)
        if not hmac.compare_digest(mac.digest(), expected):
            return self._answer(401, "bad signature", event_name, delivery)
        if not event_name or not delivery:
            return self._answer(
                400, "missing X-GitHub-Event or X-GitHub-Delivery", event_name, delivery
            )
        if request.content_type != "application/json":
            return self._answer(400, "content type must be application/json", event_name, delivery)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return self._answer(400, "body is not JSON", event_name, delivery)
        del body  # the parsed payload is all that is kept from here on
        if not isinstance(data, dict):
            return self._answer(400, "body is not a JSON object", event_name, delivery)
        if delivery_id in self._seen:
            return self._answer(200, "duplicate delivery", event_name, delivery)
        event = sansio.Event(data, event=event_name, delivery_id=delivery)
        triage = Triage(enqueue=self._enqueue, identity=self._identity())
        token = DELIVERY.set(delivery)  # work queued now remembers which delivery asked for it
        try:
            await self._router.dispatch(event, triage)
        except Exception as exc:
            # The payload is signed, so it is GitHub's shape or a sender's mistake; triage only
            # reads fields, so whatever it trips over (a missing key, a string where an object
            # belongs) is the payload's fault, not ours.
            return self._answer(
                400, "malformed payload", event_name, delivery, error=type(exc).__name__
            )
        finally:
            DELIVERY.reset(token)
        self._seen[delivery_id] = True  # only work that was queued counts as seen
        action = data.get("action")
        return self._answer(
            202,
            "accepted",
            event_name,
            delivery,
            action=action[:_HEADER_IN_LOGS] if isinstance(action, str) else None,
        )

    async def _read(self, stream: StreamReader, declared: int | None, mac: hmac.HMAC) -> bytearray:
        """The body, fed to `mac` as it arrives; raises _Refused if it cannot be had."""
        body = bytearray()
        try:
            if declared is not None and declared <= LARGE_BODY:
                # The common case: no slot, no timer. A compressed body may still inflate past
                # LARGE_BODY, and then waits for a slot like a large one. A body of unknown
                # length (chunked; GitHub always says how long) takes a slot from the start.
                async for chunk in stream.iter_chunked(CHUNK):
                    mac.update(chunk)
                    body += chunk
                    if len(body) > LARGE_BODY:
                        break
                else:
                    return body
            return await self._read_large(stream, body, mac, declared)
        except (ConnectionError, web.RequestPayloadError, HttpProcessingError) as exc:
            # The sender went away, or broke its own framing or content encoding.
            raise _Refused(400, f"body could not be read: {type(exc).__name__}") from None

    async def _read_large(
        self, stream: StreamReader, body: bytearray, mac: hmac.HMAC, declared: int | None
    ) -> bytearray:
        waiting = True
        try:
            async with asyncio.timeout(self.large_body_seconds), self._large:
                waiting = False
                size = len(body)
                if not size and declared is not None:
                    # The announced size in one allocation: a buffer of megabytes grown chunk by
                    # chunk leaves the allocator holding several times the body afterwards.
                    body = bytearray(declared)
                async for chunk in stream.iter_chunked(CHUNK):
                    end = size + len(chunk)
                    if end > MAX_BODY:
                        raise _Refused(413, "body over 25 MB")
                    mac.update(chunk)
                    body[size:end] = chunk  # in place within the allocation, appended beyond it
                    size = end
                del body[size:]  # a decoded body may end short of the announced length
        except TimeoutError:
            if waiting:
                raise _Refused(503, "too many large bodies at once") from None
            raise _Refused(408, "body not received in time") from None
        return body

    def _answer(
        self,
        status: int,
        text: str,
        event: str,
        delivery: str,
        action: str | None = None,
        **fields: object,
    ) -> web.Response:
        self._metrics.count_delivery(event, status)
        log(
            20 if status < 400 else 30,
            "delivery",
            event=event,
            action=action,
            delivery=delivery,
            status=status,
            outcome=text,
            **fields,
        )
        # The common answer carries no body, like the bare minimum GitHub needs.
        return (
            web.Response(status=status) if status == 202 else web.Response(status=status, text=text)
        )
