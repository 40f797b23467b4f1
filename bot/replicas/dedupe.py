"""The delivery dedupe shared by replicas: `SET <prefix>seen:<guid> 1 NX EX <pending>`, made
`EX <ttl>` once the delivery's work is queued. A replica that dies between the two leaves a mark
that lapses, so GitHub's redelivery (or the catch-up's replay) of that delivery is not refused."""

from __future__ import annotations

from redis.asyncio import Redis

from ..webhook import Unavailable
from .queue import Failure

SEEN_SECONDS = 3 * 24 * 3600  # as long as GitHub keeps its delivery log (the catch-up's reach)
PENDING_SECONDS = 60  # a mark whose work was never queued lapses after this


class RedisDedupe:
    """A delivery is first on exactly one replica; raises Unavailable when Redis is down."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "ringbot:",
        ttl: int = SEEN_SECONDS,
        pending: int = PENDING_SECONDS,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl
        self._pending = pending

    async def first(self, delivery: str) -> bool:
        """True for the first time `delivery` is seen (and remember it), False after."""
        try:
            return bool(
                await self._redis.set(
                    self._prefix + "seen:" + delivery, 1, nx=True, ex=self._pending
                )
            )
        except Failure as exc:
            raise Unavailable("redis") from exc

    async def forget(self, delivery: str) -> None:
        """It was not accepted after all: a later attempt counts as new."""
        try:
            await self._redis.delete(self._prefix + "seen:" + delivery)
        except Failure as exc:
            raise Unavailable("redis") from exc

    async def confirm(self, delivery: str) -> None:
        """The delivery's work is queued: keep its mark as long as GitHub keeps its log."""
        try:
            await self._redis.set(self._prefix + "seen:" + delivery, 1, xx=True, ex=self._ttl)
        except Failure as exc:
            raise Unavailable("redis") from exc
