"""create_app(settings): routes, one HTTP session, the GitHub clients, the queue and the routers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from cachetools import LRUCache
from gidgethub import HTTPException, routing
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .auth import AppAuth
from .context import Caches, Ctx
from .github import RateLimitTooLong, RateState, RingbotGitHub, is_throttled
from .handlers import HANDLERS
from .logs import DELIVERY, log, log_exception, register_secret
from .metrics import Metrics
from .queue import WorkKey, WorkQueue
from .settings import Settings
from .webhook import MAX_BODY, Identity, WebhookReceiver

Job = Callable[[Ctx, Any], Awaitable[None]]
JOB_RETRIES = 3  # a job that failed on GitHub's side runs again this many times, backing off
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
RINGBOT: web.AppKey[Ringbot] = web.AppKey("ringbot")


class Ringbot:
    """The running bot: owns the session, the token cache, the queue and the jobs."""

    def __init__(self, settings: Settings, *, now: Callable[[], datetime] | None = None) -> None:
        assert settings.app_id is not None and settings.private_key is not None
        self.settings = settings
        self.now = now or (lambda: datetime.now(UTC))
        self.metrics = Metrics()
        self.auth = AppAuth(
            settings.app_id, settings.private_key, now=lambda: self.now().timestamp()
        )
        register_secret(settings.private_key)
        register_secret(settings.webhook_secret)
        self.caches = Caches()
        # ETags belong to the token that fetched them, so each installation has its own cache.
        self._etags: LRUCache[int, LRUCache[str, Any]] = LRUCache(maxsize=1_000)
        self._rates: dict[int | str, RateState] = {}
        self._jobs: dict[type, Job] = {}
        self._retries: LRUCache[WorkKey, int] = LRUCache(maxsize=10_000)
        # key -> the delivery that queued it, so a job's log lines name their delivery.
        self._origins: LRUCache[WorkKey, str] = LRUCache(maxsize=10_000)
        routers = []
        for module in HANDLERS:
            routers.append(module.router)
            self._jobs.update(module.JOBS)
        self.router = routing.Router(*routers)
        self.queue = WorkQueue(
            self._run_job, concurrency=settings.concurrency, metrics=self.metrics
        )
        self.identity: Identity | None = None
        self.session: aiohttp.ClientSession | None = None
        self.receiver = WebhookReceiver(
            secret=settings.webhook_secret,
            router=self.router,
            enqueue=self.enqueue,
            identity=self._identity_or_default,
            metrics=self.metrics,
        )

    def enqueue(self, key: WorkKey) -> bool:
        """Queue work; keys that come in bursts wait a moment so the burst becomes one job."""
        delay = self.settings.debounce_seconds if getattr(key, "DEBOUNCE", False) else 0.0
        queued = self.queue.put(key, delay)
        if queued:
            self._origins[key] = DELIVERY.get() or ""
        return queued

    async def start(self) -> None:
        """Open the session, learn who we are, start the workers."""
        self.session = aiohttp.ClientSession()
        self.queue.start()
        try:
            await self.load_identity()
        except Exception as exc:  # GitHub down at start: learn it on the first job instead
            log(30, "could not read the App identity yet", error=type(exc).__name__)

    async def stop(self) -> None:
        """Drain in-flight work for a bounded time, then close the session."""
        await self.queue.close(self.settings.drain_seconds)
        if self.session is not None:
            await self.session.close()

    async def load_identity(self) -> Identity:
        """GET /app once: the App's id and slug (its bot login is `<slug>[bot]`)."""
        if self.identity is None:
            data = await self.app_client().getitem("/app", jwt=self.auth.jwt())
            self.identity = Identity(app_id=int(data["id"]), slug=str(data["slug"]))
            log(20, "app identity", app_id=self.identity.app_id, slug=self.identity.slug)
        return self.identity

    def _identity_or_default(self) -> Identity:
        # Before GET /app has answered, triage still knows our id from the settings.
        if self.identity is not None:
            return self.identity
        return Identity(app_id=int(self.settings.app_id or 0), slug="ringbot")

    def app_client(self) -> RingbotGitHub:
        """A client authenticated as the App itself (JWT per call)."""
        return self._client(None, "app")

    async def installation_client(self, installation: int) -> RingbotGitHub:
        """A client with a valid installation token and that installation's ETag cache."""
        token = await self.auth.token(self.app_client(), installation)
        return self._client(token, installation)

    def _client(self, token: str | None, installation: int | str) -> RingbotGitHub:
        assert self.session is not None, "start() first"
        cache = None
        if isinstance(installation, int):
            cache = self._etags.get(installation)
            if cache is None:
                cache = self._etags[installation] = LRUCache(maxsize=2_000)
        rate = self._rates.setdefault(installation, RateState())
        return RingbotGitHub(
            self.session,
            token=token,
            cache=cache,
            base_url=self.settings.api_url,
            metrics=self.metrics,
            rate=rate,
            installation=str(installation),
            max_wait=self.settings.max_wait_seconds,
            timeout=self.settings.request_timeout,
        )

    def later(self, key: WorkKey, seconds: float) -> None:
        """Queue `key` again after `seconds` (at most a week; a restart forgets it, and the
        next event about the repository heals that)."""
        delay = min(max(seconds, 0.0), 7 * 24 * 3600.0)
        asyncio.get_running_loop().call_later(delay, self.queue.put, key)

    def _retry_later(self, key: WorkKey, exc: HTTPException) -> float | None:
        """GitHub was down or throttled us: run the key again later, a few times.

        Jobs re-read everything, so a retry converges instead of repeating work. A spent quota
        waits for its reset; other 4xx answers will not get better by waiting.
        """
        status = int(exc.status_code)
        if status < 500 and status != 401 and not is_throttled(exc):
            return None
        attempt = int(self._retries.get(key, 0)) + 1
        if attempt > JOB_RETRIES:
            self._retries.pop(key, None)
            return None
        self._retries[key] = attempt
        delay: float = self.settings.retry_seconds * 2.0 ** (attempt - 1)
        if isinstance(exc, RateLimitTooLong):
            delay = max(delay, exc.reset_at - time.time() + 1)
        asyncio.get_running_loop().call_later(delay, self.queue.put, key)
        return delay

    async def _run_job(self, key: WorkKey) -> None:
        kind = type(key).__name__
        job = self._jobs.get(type(key))
        if job is None:
            log(40, "no job for key", kind=kind)
            return
        started = time.perf_counter()
        DELIVERY.set(self._origins.pop(key, None))
        installation = key.installation
        try:
            identity = await self.load_identity()
            gh = await self.installation_client(installation)
            ctx = Ctx(gh, installation, key.repo, identity, self.now, self.caches, self.later)
            await job(ctx, key)
        except HTTPException as exc:
            status = int(exc.status_code)
            if status == 401:
                self.auth.forget(installation)
            self.metrics.jobs.labels(kind, "github_error").inc()
            retry = self._retry_later(key, exc)
            log(
                40,
                "job failed on a GitHub error",
                kind=kind,
                repo=key.repo,
                status=status,
                error=str(exc)[:200],
                retry_in=retry,
            )
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            self.metrics.jobs.labels(kind, "crashed").inc()
            log_exception("job crashed", kind=kind, repo=key.repo)
            return
        self.metrics.jobs.labels(kind, "ok").inc()
        self._retries.pop(key, None)
        log(
            20,
            "job done",
            kind=kind,
            repo=key.repo,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )


async def healthz(request: web.Request) -> web.Response:
    """Liveness: 200 with the queue's depth."""
    bot = request.app[RINGBOT]
    return web.json_response(
        {"status": "ok", "queue": bot.queue.depth, "sandbox": bot.settings.sandbox}
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    bot = request.app[RINGBOT]
    body = generate_latest(bot.metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(settings: Settings, *, now: Callable[[], datetime] | None = None) -> web.Application:
    """The aiohttp application: /webhook, /healthz, /metrics, with the bot started and stopped."""

    @web.middleware
    async def errors_as_json_lines(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise  # aiohttp's own answers (404, 405, ...) are responses, not failures
        except Exception:
            # A failure on our side. Left alone, aiohttp would print the traceback as plain text
            # outside the JSON logs; bad input never gets here, the receiver answers it with 4xx.
            # (A path may hold undecodable bytes as lone surrogates, which JSON cannot encode.)
            path = request.path.encode("ascii", "backslashreplace").decode("ascii")
            log_exception("request failed", method=request.method, path=path)
            return web.Response(status=500)

    # aiohttp's own error lines (a request its HTTP parser refuses, ...) join ringbot's JSON logs
    # instead of going to stderr as plain text.
    http_logger = logging.getLogger("ringbot.http")
    handler_args = {
        "logger": http_logger,
        # After a body is refused unread (unsigned, or announced over 25 MB), aiohttp holds the
        # connection to discard the rest: 10 s by default, even once the sender has hung up
        # (aiohttp 3.14 does not notice). A second is enough for a sender to read its answer.
        "lingering_time": 1.0,
    }
    # The receiver streams and caps webhook bodies itself; this caps anything else that reads one.
    app = web.Application(
        client_max_size=MAX_BODY,
        middlewares=[errors_as_json_lines],
        logger=http_logger,
        handler_args=handler_args,
    )
    bot = Ringbot(settings, now=now)
    app[SETTINGS] = settings
    app[RINGBOT] = bot

    async def on_startup(_: web.Application) -> None:
        await bot.start()

    async def on_cleanup(_: web.Application) -> None:
        await bot.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_post("/webhook", bot.receiver.handle)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app
