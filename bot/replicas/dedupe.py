"""The delivery dedupe shared by replicas: `SET <prefix>seen:<guid> 1 NX EX <ttl>`."""

from __future__ import annotations

from redis.asyncio import Redis

from ..webhook import Unavailable
from .queue import Failure

SEEN_SECONDS = 3 * 24 * 3600  # as long as GitHub keeps its delivery log (the catch-up's reach)


class RedisDedupe:
    """A delivery is first on exactly one replica; raises Unavailable when Redis is down."""

    def __init__(self, redis: Redis, *, prefix: str = "ringbot:", ttl: int = SEEN_SECONDS) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl

    async def first(self, delivery: str) -> bool:
        """True for the first time `delivery` is seen (and remember it), False after."""
        try:
            return bool(
                await self._redis.set(self._prefix + "seen:" + delivery, 1, nx=True, ex=self._ttl)
            )
        except Failure as exc:
            raise Unavailable("redis") from exc

    async def forget(self, delivery: str) -> None:
        """It was not accepted after all: a later attempt counts as new."""
        try:
            await self._redis.delete(self._prefix + "seen:" + delivery)
        except Failure as exc:
            raise Unavailable("redis") from exc
