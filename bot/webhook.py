"""POST /webhook: verify, dedupe, reduce to work keys, enqueue, answer 202. No GitHub calls here."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

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
# A body is read before its signature can be checked, so an unverified sender chooses what the
# process holds for it. All such bytes share one budget: a request takes its announced length
# before reading (or, for a body of unknown length or one that inflates, what it has read so
# far) and gives it back once the signature is checked, or however else the request ends.
# It holds one body of MAX_BODY with room beside it, so a real delivery of any size fits.
BODY_BUDGET = 32 * 1024 * 1024
# A request that finds the budget spent waits this long for some to be given back, then 503.
BUDGET_WAIT = 0.5
# Bodies over this size (or of unknown length) also take one of a few slots, so that a few
# large bodies are read at a time and small ones keep getting through beside them.
LARGE_BODY = 1024 * 1024
LARGE_BODIES_AT_ONCE = 2
# GitHub gives up on a delivery after 10 s: a body not in by then (counted from when its headers
# are in) is not worth holding budget or a slot for. 408, or 503 if it was still waiting for
# either.
BODY_SECONDS = 10.0
CHUNK = 64 * 1024
SIGNATURE_PREFIX = "sha256="
_SIGNATURE_LENGTH = len(SIGNATURE_PREFIX) + 64
_HEADER_IN_LOGS = 200  # characters of a sender-chosen header that a log line repeats
# GitHub's payloads begin with their action, when they have one: `{"action":"opened",...`. A
# look at the first bytes tells whether any handler wants the delivery before it is parsed.
# A payload that begins otherwise (another first key, an escaped action) is parsed, to be sure.
_ACTION = re.compile(rb'[ \t\r\n]*\{[ \t\r\n]*"action"[ \t\r\n]*:[ \t\r\n]*"([^"\\]{0,100})"')
_ACTION_WINDOW = 256  # bytes of the body the look reads, at most
_OBJECT = re.compile(rb"[ \t\r\n]*\{")


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


class Wanted:
    """Which deliveries some handler wants, read off a router's registrations: an event that
    no handler registers, or an action of it that none registers, is acknowledged unparsed."""

    def __init__(self, router: routing.Router) -> None:
        # event -> the actions wanted, or None: every delivery of that event is wanted.
        self.actions: dict[str, frozenset[bytes] | None] = {}
        # gidgethub keeps its routes in these two tables (gidgethub 6: pinned in pyproject).
        for event in router._shallow_routes:
            self.actions[event] = None
        for event, details in router._deep_routes.items():
            if event in self.actions:
                continue
            if set(details) != {"action"} or not all(isinstance(a, str) for a in details["action"]):
                self.actions[event] = None  # routed on something a look cannot tell: parse
                continue
            self.actions[event] = frozenset(str(a).encode() for a in details["action"])

    def __call__(self, event: str, body: bytearray) -> tuple[bool, str | None]:
        """Whether a handler may want this delivery, and its action if a look at the body told."""
        if event not in self.actions:
            return False, _look(body)
        actions = self.actions[event]
        if actions is None:
            return True, None
        action = _ACTION.match(body, 0, _ACTION_WINDOW)
        if action is None:  # it does not begin with its action: only a parse can tell
            return True, None
        return action[1] in actions, action[1].decode("utf-8", "replace")


def _look(body: bytearray) -> str | None:
    action = _ACTION.match(body, 0, _ACTION_WINDOW)
    return None if action is None else action[1].decode("utf-8", "replace")


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


class Unavailable(Exception):
    """A dependency the receiver needs (Redis) cannot be reached: the delivery gets 503."""

    def __init__(self, dependency: str) -> None:
        super().__init__(f"{dependency} is down")
        self.dependency = dependency


class Replayed(Enum):
    """What became of a replayed delivery."""

    TRIAGED = "triaged"  # its work keys went to the given enqueue
    DUPLICATE = "duplicate"  # taken already, here or by another replica (maybe still pending)
    REFUSED = "refused"  # triage tripped over the payload: replaying it again will not help


class Dedupe(Protocol):
    """Which deliveries were accepted already; may raise Unavailable."""

    async def first(self, delivery: str) -> bool:
        """True the first time `delivery` is seen (and remember it), False after."""
        ...

    async def forget(self, delivery: str) -> None:
        """It was not accepted after all: a later attempt counts as new."""
        ...

    async def confirm(self, delivery: str) -> None:
        """Its work is safely queued: remember it for good (until then a mark may lapse, so a
        replica that dies between the mark and the queue does not lose the delivery)."""
        ...


class MemoryDedupe:
    """The last SEEN_DELIVERIES deliveries of this process."""

    def __init__(self, size: int = SEEN_DELIVERIES) -> None:
        self.seen: LRUCache[str, bool] = LRUCache(size)

    async def first(self, delivery: str) -> bool:
        """True the first time `delivery` is seen (and remember it), False after."""
        if delivery in self.seen:
            return False
        self.seen[delivery] = True
        return True

    async def forget(self, delivery: str) -> None:
        """It was not accepted after all: a later attempt counts as new."""
        self.seen.pop(delivery, None)

    async def confirm(self, delivery: str) -> None:
        """Nothing to do: this process's memory dies with its queue."""


class _Refused(Exception):
    """The body was not read to the end: answer with this status and text."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class BodyBudget:
    """Bytes of not-yet-verified bodies that requests may hold at once, all of them together."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.free = total
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []

    async def take(self, size: int, until: float) -> bool:
        """Take size bytes, waiting until loop time `until` at most; False if none came."""
        if size <= self.free:  # nobody waits in normal operation: this is the whole cost
            self.free -= size
            return True
        if size > self.total:
            return False
        # A request that fits whatever is free goes ahead of waiting ones that do not: a large
        # body waiting for room must not hold up the small deliveries behind it.
        waiter = (size, asyncio.get_running_loop().create_future())
        self._waiting.append(waiter)
        try:
            async with asyncio.timeout_at(until):
                await waiter[1]
        except BaseException as exc:  # the wait timed out, or the request was cancelled
            if waiter[1].done() and not waiter[1].cancelled():
                self.give(size)  # granted just as it gave up: hand it on
            else:
                waiter[1].cancel()
                if waiter in self._waiting:  # give() drops a cancelled waiter itself
                    self._waiting.remove(waiter)
            if isinstance(exc, TimeoutError):
                return False
            raise
        return True

    def give(self, size: int) -> None:
        """Give back bytes taken earlier; wake the waiting requests that now fit."""
        self.free += size
        if self._waiting:
            still = []
            for waiter in self._waiting:
                wanted, granted = waiter
                if granted.done():
                    continue
                if wanted <= self.free:
                    self.free -= wanted
                    granted.set_result(None)
                else:
                    still.append(waiter)
            self._waiting = still


class _Hold:
    """What one request holds while its body is read: bytes of the budget, maybe a slot."""

    __slots__ = ("held", "slot", "waiting")

    def __init__(self) -> None:
        self.held = 0
        self.slot = False
        self.waiting = ""  # what it waits for, if not for the sender: the 503 answer's text


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
        body_seconds: float = BODY_SECONDS,
        body_budget: int = BODY_BUDGET,
        budget_wait: float = BUDGET_WAIT,
        dedupe: Dedupe | None = None,
        durable: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        # Keyed once: each delivery copies the keyed state instead of re-deriving it.
        self._mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
        self._router = router
        self._wanted = Wanted(router)
        self._enqueue = enqueue
        self._identity = identity
        self._metrics = metrics
        self._dedupe: Dedupe = dedupe or MemoryDedupe()
        # What this process accepted (shared with an in-memory dedupe).
        self._seen: LRUCache[str, bool] = (
            self._dedupe.seen
            if isinstance(self._dedupe, MemoryDedupe)
            else LRUCache(SEEN_DELIVERIES)
        )
        # Awaited before a 202: the queued work is durable (in Redis) once it returns.
        self._durable = durable
        self._large = asyncio.Semaphore(LARGE_BODIES_AT_ONCE)
        # Read when a request arrives, so that a test may change them on a running receiver.
        self.body_seconds = body_seconds
        self.budget_wait = budget_wait
        self.budget = BodyBudget(body_budget)

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
        deadline = asyncio.get_running_loop().time() + self.body_seconds
        mac = self._mac.copy()
        hold = _Hold()
        stream = request.content
        try:
            # A small body that is all in already cannot stall, and needs no timer: the common
            # case. (Waits for a slot or budget bring their own.)
            if declared is not None and declared <= LARGE_BODY and stream.is_eof():
                body = await self._read(stream, declared, mac, hold, deadline)
            else:
                async with asyncio.timeout_at(deadline):
                    body = await self._read(stream, declared, mac, hold, deadline)
            signed = hmac.compare_digest(mac.digest(), expected)
        except _Refused as refused:
            return self._answer(refused.status, refused.text, event_name, delivery)
        except TimeoutError:
            if hold.waiting:
                return self._answer(503, hold.waiting, event_name, delivery)
            return self._answer(408, "body not received in time", event_name, delivery)
        except (ConnectionError, web.RequestPayloadError, HttpProcessingError) as exc:
            # The sender went away, or broke its own framing or content encoding.
            text = f"body could not be read: {type(exc).__name__}"
            return self._answer(400, text, event_name, delivery)
        finally:
            # However the read ended (answered, refused, sender gone, cancelled): a signed body
            # is verified, and nothing else is worth holding budget or a slot for.
            self._let_go(hold)
        if not signed:
            return self._answer(401, "bad signature", event_name, delivery)
        if not event_name or not delivery:
            return self._answer(
                400, "missing X-GitHub-Event or X-GitHub-Delivery", event_name, delivery
            )
        if request.content_type != "application/json":
            return self._answer(400, "content type must be application/json", event_name, delivery)
        wanted, action = self._wanted(event_name, body)
        if not wanted:
            # No handler wants it: nothing reads the payload, so it is not parsed (the parse and
            # the objects it builds are most of a delivery's cost). A body that is not even an
            # object is still refused; a signed one that only looks like one is acknowledged.
            if _OBJECT.match(body) is None:
                return self._answer(400, "body is not a JSON object", event_name, delivery)
            del body
            return await self._acknowledge(delivery_id, event_name, delivery, action)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return self._answer(400, "body is not JSON", event_name, delivery)
        del body  # the parsed payload is all that is kept from here on
        if not isinstance(data, dict):
            return self._answer(400, "body is not a JSON object", event_name, delivery)
        try:
            if not await self._dedupe.first(delivery_id):
                return self._answer(200, "duplicate delivery", event_name, delivery)
        except Unavailable as down:
            return self._answer(503, str(down), event_name, delivery, dependency=down.dependency)
        event = sansio.Event(data, event=event_name, delivery_id=delivery)
        triage = Triage(enqueue=self._enqueue, identity=self._identity())
        token = DELIVERY.set(delivery)  # work queued now remembers which delivery asked for it
        try:
            await self._router.dispatch(event, triage)
        except Exception as exc:
            # The payload is signed, so it is GitHub's shape or a sender's mistake; triage only
            # reads fields, so whatever it trips over (a missing key, a string where an object
            # belongs) is the payload's fault, not ours.
            await self._forget(delivery_id)
            return self._answer(
                400, "malformed payload", event_name, delivery, error=type(exc).__name__
            )
        finally:
            DELIVERY.reset(token)
        if self._durable is not None:
            try:
                await self._durable()
            except Exception as exc:  # the queue cannot keep the work: GitHub's log says failed
                await self._forget(delivery_id)
                return self._answer(
                    503, "work could not be queued", event_name, delivery, error=type(exc).__name__
                )
        with contextlib.suppress(Unavailable):  # unconfirmed, the mark lapses: a redelivery counts
            await self._dedupe.confirm(delivery_id)
        self._seen[delivery_id] = True
        said = data.get("action")
        return self._answer(
            202,
            "accepted",
            event_name,
            delivery,
            action=said[:_HEADER_IN_LOGS] if isinstance(said, str) else None,
        )

    async def _acknowledge(
        self, delivery_id: str, event_name: str, delivery: str, action: str | None
    ) -> web.Response:
        """202 for a delivery no handler wants, once the dedupe has seen it: no work to queue."""
        try:
            if not await self._dedupe.first(delivery_id):
                return self._answer(200, "duplicate delivery", event_name, delivery)
        except Unavailable as down:
            return self._answer(503, str(down), event_name, delivery, dependency=down.dependency)
        with contextlib.suppress(Unavailable):  # unconfirmed, the mark lapses: a redelivery counts
            await self._dedupe.confirm(delivery_id)
        self._seen[delivery_id] = True
        return self._answer(202, "accepted, no handler wants it", event_name, delivery, action)

    def accepted(self, delivery_id: str) -> bool:
        """True when this process accepted (or replayed) the delivery with this GUID."""
        return delivery_id in self._seen

    async def replay(
        self,
        event_name: str,
        delivery_id: str,
        data: dict[str, Any],
        enqueue: Callable[[WorkKey], bool] | None = None,
    ) -> Replayed:
        """Triage a payload read back from GitHub's delivery log as if it had just arrived (into
        `enqueue` if given). The delivery's mark stays unconfirmed: the caller confirms it with
        `confirm_replays` once the work is queued. May raise Unavailable (the dedupe is down)."""
        # No signature to check: the payload came from GitHub's API, asked for with our JWT.
        # The dedupe decides, so a delivery arriving meanwhile or replayed by another replica
        # is not triaged twice.
        if delivery_id in self._seen or not await self._dedupe.first(delivery_id):
            return Replayed.DUPLICATE
        delivery = _printable(delivery_id)
        event = sansio.Event(data, event=event_name, delivery_id=delivery)
        triage = Triage(enqueue=enqueue or self._enqueue, identity=self._identity())
        token = DELIVERY.set(delivery)
        try:
            await self._router.dispatch(event, triage)
        except Exception as exc:
            await self._forget(delivery_id)
            log(30, "replay refused", event=event_name, delivery=delivery, error=type(exc).__name__)
            return Replayed.REFUSED
        finally:
            DELIVERY.reset(token)
        self._seen[delivery_id] = True
        return Replayed.TRIAGED

    async def confirm_replays(self, delivery_ids: list[str]) -> bool:
        """The replays' work was handed to the queue: make it durable, then keep their marks.

        False (and the marks forgotten, so a later pass replays them) when the queue could not
        keep the work."""
        if not delivery_ids:
            return True
        if self._durable is not None:
            try:
                await self._durable()
            except Exception as exc:
                log(40, "replayed work could not be queued", error=type(exc).__name__)
                for delivery_id in delivery_ids:
                    self._seen.pop(delivery_id, None)
                    await self._forget(delivery_id)
                return False
        with contextlib.suppress(Unavailable):  # unconfirmed, a mark lapses: a replay counts
            for delivery_id in delivery_ids:
                await self._dedupe.confirm(delivery_id)
        return True

    async def _forget(self, delivery_id: str) -> None:
        """Only work that was queued counts as seen (best effort: the dependency may be down)."""
        with contextlib.suppress(Unavailable):
            await self._dedupe.forget(delivery_id)

    async def _read(
        self,
        stream: StreamReader,
        declared: int | None,
        mac: hmac.HMAC,
        hold: _Hold,
        deadline: float,
    ) -> bytearray:
        """The body, fed to `mac` as it arrives; raises _Refused, or what the stream raises."""
        if declared is None or declared > LARGE_BODY:
            # A body of unknown length (chunked; GitHub always says how long) takes a slot from
            # the start, and a large one before it takes its share of the budget.
            await self._take_slot(hold, deadline)
        if declared:
            budget = self.budget
            if declared <= budget.free:  # the common case, without a coroutine
                budget.free -= declared
                hold.held = declared
            else:
                await self._take(hold, declared, deadline)
        # A body of several chunks gets its announced size in one allocation, once it is paid
        # for: a buffer grown chunk by chunk leaves the allocator holding several times the body
        # afterwards.
        body = bytearray(declared) if declared is not None and declared > CHUNK else bytearray()
        size = 0
        async for chunk in stream.iter_chunked(CHUNK):
            end = size + len(chunk)
            if end > hold.held:  # a body of unknown length, or one that inflates as it is read
                await self._grow(hold, end, deadline)
            mac.update(chunk)
            if size < len(body):
                body[size:end] = chunk  # in place within the allocation (appended beyond it)
            else:
                body += chunk
            size = end
        del body[size:]  # a decoded body may end short of the announced length
        return body

    async def _grow(self, hold: _Hold, end: int, deadline: float) -> None:
        """Make the budget a request holds cover `end` bytes of body."""
        if end > MAX_BODY:
            raise _Refused(413, "body over 25 MB")
        if end <= LARGE_BODY:
            await self._take(hold, end - hold.held, deadline)
            return
        # A large body of unknown size takes a slot, and room for the largest body at once: two
        # such bodies each growing a little at a time could otherwise wait on each other.
        if not hold.slot:
            await self._take_slot(hold, deadline)
        await self._take(hold, MAX_BODY - hold.held, deadline)

    async def _take_slot(self, hold: _Hold, deadline: float) -> None:
        hold.waiting = "too many large bodies at once"
        async with asyncio.timeout_at(deadline):  # then 503
            await self._large.acquire()
        hold.slot = True
        hold.waiting = ""

    async def _take(self, hold: _Hold, size: int, deadline: float) -> None:
        """Take size bytes of the budget for a request, or refuse it with 503."""
        budget = self.budget
        if size <= budget.free:
            budget.free -= size
            hold.held += size
            return
        # A large body, already holding a slot, may wait as long as it may wait for the slot;
        # others wait briefly, so that a flood of them is answered rather than piled up.
        until = deadline
        if not hold.slot:
            until = min(deadline, asyncio.get_running_loop().time() + self.budget_wait)
        hold.waiting = "too many unverified bodies at once"
        if not await budget.take(size, until):
            raise _Refused(503, hold.waiting)
        hold.held += size
        hold.waiting = ""

    def _let_go(self, hold: _Hold) -> None:
        if hold.held:
            self.budget.give(hold.held)
            hold.held = 0
        if hold.slot:
            self._large.release()
            hold.slot = False

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
