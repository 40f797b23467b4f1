"""Replica parts around the queue: config drops reach every replica; REDIS_URL in the settings."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from bot.config import DEFAULT_CONFIG
from bot.context import Caches, Ctx
from bot.replicas import Replicas
from bot.settings import Settings, SettingsError
from bot.snapshot.repo_config import forget_config
from bot.webhook import Identity

from .redis_server import RedisServer

REPO = "acme/widgets"


async def until(check: object, seconds: float = 5.0) -> None:
    """Poll (real sockets are involved) for a bounded time."""
    deadline = time.monotonic() + seconds
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_dropping_a_config_reaches_every_replica(redis_server: RedisServer) -> None:
    caches = [Caches(), Caches(), Caches()]
    replicas = [Replicas(redis_server.url, c) for c in caches]
    for r in replicas:
        r.start()
    try:

        async def subscribed() -> bool:
            ((_, count),) = await replicas[0].redis.pubsub_numsub("ringbot:config")
            return int(count) == 3

        await until(subscribed)
        for c in caches:
            c.repo_configs[(1, REPO)] = DEFAULT_CONFIG
            c.repo_configs[(1, "acme/other")] = DEFAULT_CONFIG
        identity = Identity(1, "ringbot")
        ctx = Ctx(None, 1, REPO, identity, lambda: datetime.now(UTC), caches[0])  # type: ignore[arg-type]
        forget_config(ctx)
        assert (1, REPO) not in caches[0].repo_configs  # at once where it was called

        async def dropped() -> bool:
            return all((1, REPO) not in c.repo_configs for c in caches)

        await until(dropped)
        assert all((1, "acme/other") in c.repo_configs for c in caches)
    finally:
        for r in replicas:
            await r.stop()
    # Detached: a job of a stopped replica drops only its own entry.
    caches[1].repo_configs[(1, REPO)] = DEFAULT_CONFIG
    forget_config(Ctx(None, 1, REPO, Identity(1, "x"), datetime.now, caches[1]))  # type: ignore[arg-type]
    assert (1, REPO) not in caches[1].repo_configs


async def test_healthy_says_whether_redis_answers(redis_server: RedisServer) -> None:
    replicas = Replicas(redis_server.url, Caches())
    assert await replicas.healthy()
    redis_server.stop()
    assert not await replicas.healthy()
    await replicas.redis.aclose()


def test_redis_url_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).redis_url is None
    assert Settings.from_env({"REDIS_URL": " redis://cache:6379/0 "}).redis_url == (
        "redis://cache:6379/0"
    )
    with pytest.raises(SettingsError, match="REDIS_URL"):
        Settings.from_env({"REDIS_URL": "http://cache"})
    assert ":pw@" not in repr(Settings.from_env({"REDIS_URL": "redis://:pw@cache/0"}))
