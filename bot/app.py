"""create_app(settings): the composition root. It wires the clock, the GitHub clients, the job
runner, the queue and the webhook receiver together, and serves /webhook, /healthz and /metrics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from gidgethub import routing
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .auth import AppAuth
from .catchup import CatchUp
from .clock import Clock, SystemClock
from .context import Caches, Ctx
from .github import AppIdentity, GitHubClients
from .handlers import HANDLERS
from .jobs import Job, JobRunner
from .logs import log_exception, register_secret
from .metrics import Metrics
from .queue import Queue, WorkKey, WorkQueue
from .replicas import Replicas
from .settings import Settings
from .webhook import MAX_BODY, WebhookReceiver

LATER_AT_MOST = 7 * 24 * 3600.0  # a week: a restart forgets a timer anyway
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
RINGBOT: web.AppKey[Ringbot] = web.AppKey("ringbot")


class Ringbot:
    """The running bot: one clock, the GitHub clients, the job runner, the queue and the receiver."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        assert settings.app_id is not None and settings.private_key is not None
        self._settings = settings
        self.clock: Clock = clock or SystemClock()
        self.metrics = Metrics()
        self.auth = AppAuth(
            settings.app_id, settings.private_key, now=lambda: self.clock.now().timestamp()
        )
        register_secret(settings.private_key)
        register_secret(settings.webhook_secret)
        self.caches = Caches(
            timer=lambda: self.clock.now().timestamp(), sole=settings.redis_url is None
        )
        # With REDIS_URL, replicas share the dedupe, the queue, timers and config drops.
        self.replicas = Replicas(settings.redis_url, self.caches) if settings.redis_url else None
        self.github = GitHubClients(settings, self.auth, self.metrics, self.clock)
        self.identity = AppIdentity(self.github, int(settings.app_id))
        routers = []
        jobs: dict[type, Job] = {}
        for module in HANDLERS:
            routers.append(module.router)
            jobs.update(module.JOBS)
        self.router = routing.Router(*routers)
        self.jobs = JobRunner(
            jobs,
            context=self.context,
            forget_token=self.auth.forget,
            put=lambda key: self.queue.put(key),
            settings=settings,
            clock=self.clock,
            metrics=self.metrics,
            later=(lambda key, delay: self.queue.put(key, delay)) if self.replicas else None,
        )
        self.queue: Queue
        if self.replicas is not None:
            self.queue = self.replicas.work_queue(
                self.jobs.run,
                concurrency=settings.concurrency,
                metrics=self.metrics,
                clock=self.clock,
                lease=settings.lease_seconds,
            )
        else:
            self.queue = WorkQueue(
                self.jobs.run,
                concurrency=settings.concurrency,
                metrics=self.metrics,
                clock=self.clock,
            )
        self.receiver = WebhookReceiver(
            secret=settings.webhook_secret,
            router=self.router,
            enqueue=self.enqueue,
            identity=self.identity.or_default,
            metrics=self.metrics,
            dedupe=self.replicas.dedupe if self.replicas else None,
            durable=self.replicas.queue.flush if self.replicas and self.replicas.queue else None,
        )
        self.catchup = CatchUp(
            github=self.github,
            receiver=self.receiver,
            enqueue=self.enqueue,
            settings=lambda: self.settings,
            clock=self.clock,
            metrics=self.metrics,
        )

    @property
    def settings(self) -> Settings:
        """The settings every part reads now."""
        return self._settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        # Settings are swapped whole (tests tune one value): every part that reads them per use
        # sees the new ones.
        self._settings = settings
        self.github.settings = settings
        self.jobs.settings = settings

    def enqueue(self, key: WorkKey) -> bool:
        """Queue work; keys that come in bursts wait a moment so the burst becomes one job."""
        delay = self.settings.debounce_seconds if getattr(key, "DEBOUNCE", False) else 0.0
        queued = self.queue.put(key, delay)
        if queued:
            self.jobs.queued(key)
        return queued

    def later(self, key: WorkKey, seconds: float) -> None:
        """Queue `key` again after `seconds`, a week at most (a restart forgets it: events heal)."""
        delay = min(max(seconds, 0.0), LATER_AT_MOST)
        if self.replicas is not None:
            self.queue.put(key, delay)  # kept in Redis: it survives restarts
            return
        self.clock.call_later(delay, self.queue.put, key)

    async def context(self, key: WorkKey) -> Ctx:
        """What the job for `key` works with: its installation's client, who we are, the clock."""
        identity = await self.identity.load()
        gh = await self.github.installation_client(key.installation)
        return Ctx(
            gh, key.installation, key.repo, identity, self.clock.now, self.caches, self.later
        )

    async def start(self) -> None:
        """Open the session and start the workers; touch neither GitHub nor Redis, so that the
        server listens at once (a delivery made while we start gets its answer within GitHub's
        10 s). Who we are is read in the background; a job waits for it, catch-up's first pass
        too, and triage goes by the App id from the settings until then."""
        self.github.open()
        if self.replicas is not None:
            self.replicas.start()  # its listener connects in the background
        self.queue.start()
        self.identity.start()
        # Make up for deliveries missed while we were down, in the background.
        self.catchup.start(ready=self.identity.load)

    async def stop(self) -> None:
        """Drain in-flight work for a bounded time, then close the session."""
        await self.catchup.stop()
        await self.queue.close(self.settings.drain_seconds)
        await self.identity.close()  # a read still in flight (jobs waited for it until now)
        if self.replicas is not None:
            await self.replicas.stop()
        await self.github.close()


async def healthz(request: web.Request) -> web.Response:
    """Liveness: 200 with the queue's depth; 503 naming a dependency that is down."""
    bot = request.app[RINGBOT]
    if bot.replicas is not None and not await bot.replicas.healthy():
        body = {"status": "degraded", "redis": "down", "queue": bot.queue.depth}
        return web.json_response(body, status=503)
    return web.json_response(
        {"status": "ok", "queue": bot.queue.depth, "sandbox": bot.settings.sandbox}
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    bot = request.app[RINGBOT]
    body = generate_latest(bot.metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
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
    bot = Ringbot(settings, clock=clock)
    app[SETTINGS] = settings
    app[RINGBOT] = bot

    async def on_startup(_: web.Application) -> None:
        await bot.start()  # returns at once: the server listens right after it

    async def on_cleanup(_: web.Application) -> None:
        await bot.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_post("/webhook", bot.receiver.handle)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app
