"""Webhooks: what the world emits, and the signed deliveries POSTed one at a time in order."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.sim.state import JSON, App, Repo

if TYPE_CHECKING:
    from bot.sim.hook_log import HookLog

HOOK_ID = 424242
# GitHub's words for an attempt that got no HTTP answer (logged with status_code 0).
FAILED_TO_CONNECT = "failed to connect"
TIMED_OUT = "timed out"
USER_AGENT = "GitHub-Hookshot/sim"
TIMEOUT_S = 10.0  # GitHub gives up on a delivery after 10 s


@dataclass
class Delivery:
    """One webhook event (id is its guid); status_code is None until answered (or on connection
    error); a redelivery is a copy of it with `redelivery` set."""

    id: str
    event: str
    action: str | None
    payload: dict[str, Any]
    status_code: int | None = None
    delivered: bool = False
    redelivery: bool = False


def sign(secret: str, body: bytes) -> dict[str, str]:
    """The X-Hub-Signature (sha1) and X-Hub-Signature-256 headers for a body."""
    key = secret.encode()
    return {
        "X-Hub-Signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
    }


def headers(secret: str, d: Delivery, body: bytes) -> dict[str, str]:
    """All headers GitHub sends with a delivery."""
    return {
        "X-GitHub-Event": d.event,
        "X-GitHub-Delivery": d.id,
        "X-GitHub-Hook-ID": str(HOOK_ID),
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-GitHub-Hook-Installation-Target-ID": "1",
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        **sign(secret, body),
    }


class Webhooks:
    """The webhook emitter: every event is recorded, those meant for the App go to `send`."""

    def __init__(self, app: App, events: Iterable[str], send: Callable[[Delivery], None]) -> None:
        self.app = app
        self.subscribed_events: set[str] = set(events)
        self.emitted: list[Delivery] = []
        self.deliveries: list[Delivery] = []
        self._send = send

    def emit(self, r: Repo, event: str, payload: JSON, only_app: App | None = None) -> None:
        """Record an event; deliver it if the repo is installed, subscribed and meant for us."""
        if r.installation_id is None:
            return  # the App is not installed there: GitHub sends it nothing
        d = Delivery(str(uuid.uuid4()), event, payload.get("action"), payload)
        self.emitted.append(d)
        if event in self.subscribed_events and (only_app is None or only_app is self.app):
            self.deliveries.append(d)
            self._send(d)


class Deliverer:
    """A FIFO of deliveries drained by one background task."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.url: str | None = None
        self._pending: deque[Delivery] = deque()
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.log: HookLog | None = None  # where every attempt is recorded, as GitHub does

    def enqueue(self, d: Delivery) -> None:
        """Queue a delivery (sync: world-building calls are sync)."""
        self._pending.append(d)
        if self._wake is not None:
            self._wake.set()
            assert self._idle is not None
            self._idle.clear()

    @property
    def idle(self) -> bool:
        """True when nothing is queued or in flight."""
        return not self._pending and (self._idle is None or self._idle.is_set())

    def start(self) -> None:
        """Start the background task on the running loop (idempotent)."""
        if self._task is not None:
            return
        self._wake, self._idle = asyncio.Event(), asyncio.Event()
        if self._pending:
            self._wake.set()
        else:
            self._idle.set()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        self._task = asyncio.create_task(self._run())

    async def settle(self) -> None:
        """Return once every delivery queued so far has been POSTed and answered."""
        self.start()
        assert self._idle is not None
        while self._pending or not self._idle.is_set():
            await self._idle.wait()

    async def close(self) -> None:
        """Stop the task and the HTTP session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        assert self._wake is not None and self._idle is not None
        while True:
            await self._wake.wait()
            while self._pending:
                await self._post(self._pending.popleft())
            self._wake.clear()
            self._idle.set()

    async def _post(self, d: Delivery) -> None:
        if self.url is None or self._session is None:
            return  # recorded only: nobody is listening
        body = json.dumps(d.payload).encode()
        d.delivered = True
        sent = headers(self.secret, d, body)
        started = time.monotonic()
        try:
            async with self._session.post(self.url, data=body, headers=sent) as resp:
                text = (await resp.read()).decode(errors="replace")
                d.status_code = resp.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            d.status_code = None  # GitHub records the failure and does not retry
            if self.log is not None:
                failure = TIMED_OUT if isinstance(exc, TimeoutError) else FAILED_TO_CONNECT
                self.log.record(
                    d,
                    url=self.url,
                    duration=time.monotonic() - started,
                    request_headers=sent,
                    status=failure,
                )
            return
        if self.log is not None:
            self.log.record(
                d,
                url=self.url,
                duration=time.monotonic() - started,
                request_headers=sent,
                status_code=resp.status,
                response_headers=dict(resp.headers),
                response_body=text,
            )
