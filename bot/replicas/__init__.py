"""Replicas sharing work through Redis (`REDIS_URL`): the parts Ringbot uses instead of its
in-memory ones, and the one subscriber each replica keeps (queue wake-ups, config drops)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from redis.asyncio import Redis

from ..clock import Clock
from ..context import Caches
from ..logs import log, register_secret
from ..metrics import Metrics
from ..queue import Worker
from .config_bus import ConfigBus
from .dedupe import RedisDedupe
from .queue import LEASE_SECONDS, RENEW_SECONDS, Failure, RedisWorkQueue

__all__ = ["Replicas"]

PREFIX = "ringbot:"
HEALTH_SECONDS = 1.0  # /healthz waits this long for Redis's PONG


class Replicas:
    """One replica's connection to Redis and the parts built on it."""

    def __init__(self, url: str, caches: Caches, *, prefix: str = PREFIX) -> None:
        password = urlsplit(url).password
        if password:
            register_secret(password)  # masked in every log line, like the App's secrets
        self.redis: Redis = Redis.from_url(
            url, socket_connect_timeout=2.0, socket_timeout=5.0, health_check_interval=30
        )
        self.prefix = prefix
        self.dedupe = RedisDedupe(self.redis, prefix=prefix)
        self.config = ConfigBus(self.redis, caches, prefix=prefix)
        self.queue: RedisWorkQueue | None = None
        self._listener: asyncio.Task[None] | None = None

    def work_queue(
        self,
        worker: Worker,
        *,
        concurrency: int,
        metrics: Metrics,
        clock: Clock,
        lease: float = LEASE_SECONDS,
    ) -> RedisWorkQueue:
        """The shared work queue (one per replica); `lease`: how long a dead replica's job waits
        before another replica runs it (Settings.lease_seconds), renewed three times per lease."""
        self.queue = RedisWorkQueue(
            worker,
            self.redis,
            concurrency=concurrency,
            metrics=metrics,
            clock=clock,
            prefix=self.prefix,
            lease=lease,
            renew=min(RENEW_SECONDS, lease / 3),
        )
        return self.queue

    def start(self) -> None:
        """Listen for wake-ups and config drops; route config drops of this process's jobs."""
        self.config.attach()
        self._listener = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        """Stop listening and close the connections."""
        self.config.detach()
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self.config.drain()
        await self.redis.aclose()

    async def healthy(self) -> bool:
        """Redis answers a PING in time."""
        try:
            async with asyncio.timeout(HEALTH_SECONDS):
                return bool(await self.redis.ping())
        except (*Failure, TimeoutError):
            return False

    async def _listen(self) -> None:
        wake = self.prefix + "wake"
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(wake, self.config.channel)
                    if self.queue is not None:
                        self.queue.wake(tick=True)  # what was published while we were away
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        channel = message["channel"]
                        channel = channel.decode() if isinstance(channel, bytes) else channel
                        if channel == wake:
                            if self.queue is not None:
                                self.queue.wake()
                        else:
                            self.config.received(message["data"])
            except asyncio.CancelledError:
                raise
            except Failure as exc:
                log(30, "redis subscription lost", error=type(exc).__name__)
                await asyncio.sleep(1.0)
