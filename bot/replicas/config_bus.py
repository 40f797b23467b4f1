"""Dropping a repository's cached config on every replica: a message on `<prefix>config`.

`bot.snapshot.repo_config.forget_config(ctx)` is what a job calls when the config on the default
branch changed: it drops this replica's entry at once and, through the `config_dropped` hook this
bus sets on the caches, publishes; every replica (this one included) drops its entry when the
message arrives.
"""

from __future__ import annotations

import asyncio

import orjson
from redis.asyncio import Redis

from ..context import Caches
from ..logs import log
from .queue import Failure


class ConfigBus:
    """Publishes config drops and applies the ones that arrive to this replica's caches."""

    def __init__(self, redis: Redis, caches: Caches, *, prefix: str = "ringbot:") -> None:
        self._redis = redis
        self._caches = caches
        self.channel = prefix + "config"
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self) -> None:
        """Publish every config drop a job makes with these caches."""
        self._caches.config_dropped = self.publish

    def detach(self) -> None:
        """Undo `attach`."""
        if self._caches.config_dropped == self.publish:
            self._caches.config_dropped = None

    def publish(self, installation: int, repo: str) -> None:
        """Tell every replica (in the background) to drop the entry."""
        task = asyncio.create_task(self._publish(installation, repo))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, installation: int, repo: str) -> None:
        try:
            await self._redis.publish(self.channel, orjson.dumps([installation, repo]))
        except Failure as exc:  # the entry's TTL heals the other replicas
            log(30, "could not publish a config drop", repo=repo, error=type(exc).__name__)

    def received(self, data: bytes | str) -> None:
        """A message on the channel: drop the entry it names."""
        try:
            installation, repo = orjson.loads(data)
            self._caches.drop_config(int(installation), str(repo))
        except (ValueError, TypeError):
            log(30, "ignored a malformed config drop")

    async def drain(self) -> None:
        """Wait for publishes in flight."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
