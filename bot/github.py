"""The GitHub clients: gidgethub over aiohttp, with time-outs, retries, rate limits and one ETag
cache bounded in bytes whose entries belong to the installation that fetched them, and the App's
identity."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import aiohttp
import orjson
from cachetools import LRUCache
from gidgethub import HTTPException, sansio
from gidgethub import aiohttp as gh_aiohttp
from multidict import CIMultiDict

from .auth import MAX_INSTALLATIONS, AppAuth
from .clock import Clock, SystemClock
from .etag_cache import Entry, EtagCache
from .logs import log
from .metrics import Metrics
from .settings import Settings
from .webhook import Identity

USER_AGENT = "ringbot"
RETRYABLE_GET_ATTEMPTS = 4
# A time-out, reset, DNS or TLS failure is answered as this status, so that it takes exactly the
# path of a 5xx from GitHub: gidgethub raises GitHubBroken, GETs are retried, writes are re-read
# before they are repeated, the gate fails closed and the job runs again. (An invented 599 made
# gidgethub raise ValueError, which none of those paths expected.)
NETWORK_ERROR = 504


@dataclass
class RateState:
    """What GitHub last told us about an installation's rate limit."""

    remaining: int | None = None
    reset_at: float = 0.0  # epoch seconds


class RateLimitTooLong(HTTPException):
    """The quota is spent and resets later than a job may wait; the job runs again after it."""

    def __init__(self, reset_at: float) -> None:
        super().__init__(HTTPStatus.TOO_MANY_REQUESTS, "rate limit exhausted until the reset")
        self.reset_at = reset_at


def is_throttled(exc: HTTPException) -> bool:
    """GitHub refused for now (rate limits), as opposed to refusing for good."""
    if isinstance(exc, RateLimitTooLong) or int(exc.status_code) == 429:
        return True
    headers = exc.headers or {}
    return int(exc.status_code) == 403 and (
        "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0"
    )


class RingbotGitHub(gh_aiohttp.GitHubAPI):
    """A gidgethub client that waits on rate limits, retries safe requests and counts everything.

    GETs are retried on 5xx and time-outs with exponential backoff and jitter. Writes are
    retried only when GitHub refused them outright (rate limits), because a write that timed
    out may have happened: the effects layer re-reads before it writes again.

    Conditional GETs go through `etags` (not gidgethub's own cache, which keeps parsed JSON with
    no bound in bytes): an installation client sends the ETag it holds for the URL, and a 304
    is answered to gidgethub as the 200 it revalidates, parsed afresh from the stored bytes.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        token: str | None,
        etags: EtagCache | None,
        base_url: str,
        metrics: Metrics,
        rate: RateState,
        installation: int | str = "app",
        timeout: float = 10.0,
        max_wait: float = 60.0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(session, USER_AGENT, oauth_token=token, cache=None, base_url=base_url)
        self._clock = clock or SystemClock()
        self._metrics = metrics
        self._rate = rate
        # ETags belong to the token that fetched them: only an installation's client uses them.
        self._etags = etags if isinstance(installation, int) else None
        self._installation_id = installation
        self._installation = str(installation)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_wait = max_wait

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        etags = self._etags
        if method != "GET" or etags is None or not isinstance(self._installation_id, int):
            return await self._send(method, url, headers, body)
        if "if-none-match" in headers or "if-modified-since" in headers:
            return await self._send(method, url, headers, body)  # the caller revalidates itself
        key = (self._installation_id, url, headers.get("accept", ""))
        # Held here, so that a 304 is served even if the entry is evicted while we wait.
        entry = etags.get(key)
        if entry is not None:
            headers = dict(headers)
            if entry.etag is not None:
                headers["if-none-match"] = entry.etag
            if entry.last_modified is not None:
                headers["if-modified-since"] = entry.last_modified
        status, resp_headers, data = await self._send(method, url, headers, body)
        if status == 304 and entry is not None:
            # Not modified: the 200 it revalidates, with this answer's rate-limit headers.
            served = CIMultiDict(resp_headers)
            served.popall("content-length", None)
            served.popall("link", None)
            if entry.content_type is not None:
                served["content-type"] = entry.content_type
            if entry.link is not None:
                served["link"] = entry.link
            return 200, served, entry.body
        if status == 200:
            etag, last_modified = resp_headers.get("etag"), resp_headers.get("last-modified")
            if etag is not None or last_modified is not None:
                fresh = Entry(
                    etag,
                    last_modified,
                    resp_headers.get("content-type"),
                    resp_headers.get("link"),
                    data,
                )
                etags.put(key, fresh)
            else:
                etags.discard(key)
        return status, resp_headers, data

    async def _send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One HTTP request, counted; the rate-limit headers noted; failures answered as 504."""
        try:
            async with self._session.request(
                method, url, headers=headers, data=body, timeout=self._timeout
            ) as response:
                status, resp_headers, data = (
                    response.status,
                    response.headers,
                    await response.read(),
                )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log(30, "github request failed", method=method, url=url, error=type(exc).__name__)
            self._metrics.github_requests.labels(method, "network").inc()
            message = f"no answer from GitHub ({type(exc).__name__})"
            return (
                NETWORK_ERROR,
                {"content-type": "application/json"},
                orjson.dumps({"message": message}),
            )
        self._metrics.github_requests.labels(method, str(status)).inc()
        remaining = resp_headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.isdigit():
            self._rate.remaining = int(remaining)
            reset = resp_headers.get("x-ratelimit-reset", "0")
            self._rate.reset_at = float(reset) if reset.isdigit() else 0.0
            self._metrics.rate_limit_remaining.labels(self._installation).set(int(remaining))
        if method != "GET":
            log(20, "github write", method=method, url=url, status=status)
        return status, resp_headers, data

    async def post_status(self, url: str, *, data: Any) -> tuple[int, Any]:
        """POST and return (status, body): some answers differ only by 200 versus 201."""
        body, _, status = await self._make_request("POST", url, {}, data, sansio.accept_format())
        return status, body

    async def manage_rate_limit(self, *, method: str, url: str) -> None:
        """Before a request: if the quota is spent, wait for its reset (bounded)."""
        if self._rate.remaining == 0:
            left = self._rate.reset_at - self._clock.now().timestamp()
            if not await self._wait(left, "rate limit exhausted", url):
                # Too long to wait inside a job: give up without spending a request.
                raise RateLimitTooLong(self._rate.reset_at)
            self._rate.remaining = None

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: HTTPException, attempt: int
    ) -> bool:
        """After a failure: wait as told on rate limits; back off and retry GETs on 5xx."""
        status = int(exception.status_code)
        headers = getattr(exception, "headers", None) or {}
        if status in (403, 429) and attempt <= 3:
            retry_after = headers.get("retry-after")
            if retry_after is not None and retry_after.isdigit():
                return await self._wait(float(retry_after), "retry-after", url)
            if headers.get("x-ratelimit-remaining") == "0":
                reset = headers.get("x-ratelimit-reset", "0")
                wait = (float(reset) if reset.isdigit() else 0.0) - self._clock.now().timestamp()
                return await self._wait(wait, "rate limit exhausted", url)
            if status == 429:
                return await self._wait(2.0**attempt, "429 without retry-after", url)
            return False
        if status >= 500 and method == "GET" and attempt < RETRYABLE_GET_ATTEMPTS:
            # Full jitter keeps replicas from retrying in lock-step.
            await self.sleep(random.uniform(0, 0.2 * 2**attempt))
            return True
        return False

    async def _wait(self, seconds: float, why: str, url: str) -> bool:
        seconds = max(0.0, seconds)
        if seconds > self._max_wait:
            log(30, "rate limit wait too long, failing the job", why=why, url=url, seconds=seconds)
            return False
        log(30, "waiting on GitHub", why=why, url=url, seconds=round(seconds, 2))
        await self.sleep(seconds)
        return True

    async def sleep(self, seconds: float) -> None:
        """Sleep on the clock, without blocking the loop."""
        await self._clock.sleep(seconds)


class RateStates(LRUCache[int | str, RateState]):
    """Rate-limit state per installation, for the most recently used ones; an installation
    forgotten here also leaves the rate-limit gauge (a client in flight keeps its own state)."""

    def __init__(self, maxsize: int, metrics: Metrics) -> None:
        super().__init__(maxsize=maxsize)
        self._metrics = metrics

    def popitem(self) -> tuple[int | str, RateState]:
        """Evict the least recently used installation, and its gauge."""
        installation, state = super().popitem()
        with contextlib.suppress(KeyError):  # KeyError: it never reported one
            self._metrics.rate_limit_remaining.remove(str(installation))
        return installation, state


class GitHubClients:
    """Builds clients on one HTTP session: as the App, or as an installation with its token,
    its entries in the one ETag cache and its own rate-limit state. Everything kept per
    installation is bounded: the ETag cache in bytes, the rate states in number."""

    def __init__(self, settings: Settings, auth: AppAuth, metrics: Metrics, clock: Clock) -> None:
        self.settings = settings  # swapped whole when the settings change; read per client
        self.auth = auth
        self._metrics = metrics
        self._clock = clock
        self.session: aiohttp.ClientSession | None = None
        # One cache for all installations, bounded in bytes; the installation is in every key.
        self.etags = EtagCache(settings.etag_cache_bytes)
        self._rates = RateStates(MAX_INSTALLATIONS, metrics)

    def open(self) -> None:
        """Open the HTTP session (on the running loop)."""
        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Close the HTTP session."""
        if self.session is not None:
            await self.session.close()

    def app_client(self) -> RingbotGitHub:
        """A client authenticated as the App itself (JWT per call)."""
        return self._client(None, "app")

    async def installation_client(self, installation: int) -> RingbotGitHub:
        """A client with a valid installation token and that installation's ETag cache."""
        token = await self.auth.token(self.app_client(), installation)
        return self._client(token, installation)

    def _client(self, token: str | None, installation: int | str) -> RingbotGitHub:
        assert self.session is not None, "open() first"
        if self.etags.limit != self.settings.etag_cache_bytes:
            self.etags.limit = self.settings.etag_cache_bytes  # the settings were swapped
        rate = self._rates.get(installation)
        if rate is None:
            rate = self._rates[installation] = RateState()
        return RingbotGitHub(
            self.session,
            token=token,
            etags=self.etags,
            base_url=self.settings.api_url,
            metrics=self._metrics,
            rate=rate,
            installation=installation,
            max_wait=self.settings.max_wait_seconds,
            timeout=self.settings.request_timeout,
            clock=self._clock,
        )


class AppIdentity:
    """Who the App is: read from GET /app, in the background from the start; until it answers,
    triage goes by the App id from the settings (see `or_default`)."""

    def __init__(self, clients: GitHubClients, app_id: int) -> None:
        self._clients = clients
        self._app_id = app_id
        self.known: Identity | None = None
        # The one GET /app in flight: the start and every job waiting for it share it.
        self._reading: asyncio.Task[Identity] | None = None

    def start(self) -> None:
        """Begin reading the identity in the background; a failure is logged, and the next
        `load` (the first job's) asks again."""
        if self.known is None:
            self._read()

    async def load(self) -> Identity:
        """The App's id and slug (its bot login is `<slug>[bot]`), from GET /app once."""
        if self.known is not None:
            return self.known
        # Shielded: a caller that is cancelled (a job cut off at a drain) leaves the read to the
        # others; `close` ends it.
        return await asyncio.shield(self._read())

    def _read(self) -> asyncio.Task[Identity]:
        task = self._reading
        if task is None or task.done():
            # A context of its own: its log lines are not the job's that happened to ask first.
            task = asyncio.create_task(self._get(), context=contextvars.Context())
            task.add_done_callback(_report_identity)
            self._reading = task
        return task

    async def _get(self) -> Identity:
        jwt = self._clients.auth.jwt()
        data = await self._clients.app_client().getitem("/app", jwt=jwt)
        self.known = Identity(app_id=int(data["id"]), slug=str(data["slug"]))
        log(20, "app identity", app_id=self.known.app_id, slug=self.known.slug)
        return self.known

    async def close(self) -> None:
        """Stop a read in flight (before the session closes)."""
        task, self._reading = self._reading, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def or_default(self) -> Identity:
        """What triage goes by: the identity once GET /app has answered; before, the App id
        from the settings (exact, so our own check runs and suites are still recognised) and no
        slug, so that no login is taken for ours. Until then a label our writes put on a pull
        request (only a replica or an earlier process can have written one: this process's
        jobs wait for the identity) is taken for a person's, which costs one gate evaluation
        that writes nothing, whereas a guessed slug could drop another App's label for good."""
        if self.known is not None:
            return self.known
        return Identity(app_id=self._app_id, slug="")


def _report_identity(task: asyncio.Task[Identity]) -> None:
    """Log a failed read of the identity (every caller also gets its exception)."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        status = getattr(exc, "status_code", None)
        error = f"GitHub answered {int(status)}" if status is not None else type(exc).__name__
        log(30, "could not read the App identity yet", error=error)
