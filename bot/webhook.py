"""POST /webhook: verify, dedupe, reduce to work keys, enqueue, answer 202. No GitHub calls here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from cachetools import LRUCache
from gidgethub import BadRequest, ValidationFailure, routing, sansio

from .logs import DELIVERY, log
from .metrics import Metrics
from .queue import WorkKey

MAX_BODY = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
SEEN_DELIVERIES = 10_000


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
        self._secret = secret
        self._router = router
        self._enqueue = enqueue
        self._identity = identity
        self._metrics = metrics
        self._seen: LRUCache[str, bool] = LRUCache(SEEN_DELIVERIES)
        self._counters: dict[tuple[str, str], Any] = {}

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one delivery; the work happens later, in the queue."""
        event_name = request.headers.get("X-GitHub-Event", "")
        signature = request.headers.get("X-Hub-Signature-256", "")
        delivery = request.headers.get("X-GitHub-Delivery", "")
        body = await request.read()
        # A SHA-1 signature alone is refused: it is GitHub's legacy header.
        if not signature.startswith("sha256="):
            return self._answer(401, "missing X-Hub-Signature-256", event_name, delivery)
        try:
            sansio.validate_event(body, signature=signature, secret=self._secret)
        except ValidationFailure:
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
        if not isinstance(data, dict):
            return self._answer(400, "body is not a JSON object", event_name, delivery)
        if delivery in self._seen:
            return self._answer(200, "duplicate delivery", event_name, delivery)
        event = sansio.Event(data, event=event_name, delivery_id=delivery)
        triage = Triage(enqueue=self._enqueue, identity=self._identity())
        token = DELIVERY.set(delivery)  # work queued now remembers which delivery asked for it
        try:
            await self._router.dispatch(event, triage)
        except (KeyError, TypeError, ValueError, BadRequest):
            # A payload without the fields its event must have: the sender's fault.
            return self._answer(400, "malformed payload", event_name, delivery)
        finally:
            DELIVERY.reset(token)
        self._seen[delivery] = True  # only work that was queued counts as seen
        return self._answer(202, "accepted", event_name, delivery, action=data.get("action"))

    def _answer(
        self, status: int, text: str, event: str, delivery: str, action: object = None
    ) -> web.Response:
        outcome = {202: "accepted", 200: "duplicate"}.get(status, f"rejected_{status}")
        # Labelled children are cached: looking one up costs more than counting.
        counter = self._counters.get((event, outcome))
        if counter is None:
            counter = self._metrics.deliveries.labels(event or "unknown", outcome)
            if len(self._counters) < 1_000:  # event names come from the sender: stay bounded
                self._counters[(event, outcome)] = counter
        counter.inc()
        log(
            20 if status < 400 else 30,
            "delivery",
            event=event,
            action=action,
            delivery=delivery,
            status=status,
            outcome=text,
        )
        # The common answer carries no body, like the bare minimum GitHub needs.
        return (
            web.Response(status=status) if status == 202 else web.Response(status=status, text=text)
        )
