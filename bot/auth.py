"""GitHub App authentication: the App JWT and installation tokens cached per installation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import jwt
from cachetools import LRUCache
from gidgethub.abc import GitHubAPI

from .logs import register_secret

# Refresh this long before GitHub's expiry: clocks drift, and a job may run for a while.
REFRESH_MARGIN = 5 * 60
# How many installations anything kept per installation remembers (tokens, their locks, rate
# states), the most recently used first; one forgotten is simply fetched or learnt again.
MAX_INSTALLATIONS = 10_000


@dataclass(frozen=True)
class Token:
    """An installation token and when it stops working (epoch seconds)."""

    value: str
    expires_at: float


class AppAuth:
    """Makes App JWTs and hands out installation tokens, fetching each one once (single flight)."""

    def __init__(self, app_id: str, private_key: str, now: Callable[[], float] = time.time) -> None:
        # PyJWT refuses an integer issuer, so the id stays a string.
        self.app_id = str(app_id)
        self._now = now
        self._key = private_key
        self._tokens: LRUCache[int, Token] = LRUCache(maxsize=MAX_INSTALLATIONS)
        # A lock evicted while held costs at most one extra fetch for that installation.
        self._locks: LRUCache[int, asyncio.Lock] = LRUCache(maxsize=MAX_INSTALLATIONS)
        self.fetches = 0  # how many tokens were fetched from GitHub (tests, metrics)

    def jwt(self) -> str:
        """A fresh App JWT for /app endpoints, dated by our clock (back-dated a minute for skew)."""
        now = int(self._now())
        claims = {"iat": now - 60, "exp": now + 9 * 60, "iss": self.app_id}
        token = jwt.encode(claims, self._key, algorithm="RS256")
        # Masked in the logs by its exact value, whatever shape it has.
        register_secret(token, rotating=True)
        return token

    async def token(self, gh: GitHubAPI, installation_id: int) -> str:
        """A valid token for the installation; concurrent callers share one fetch."""
        cached = self._tokens.get(installation_id)
        if cached and cached.expires_at - REFRESH_MARGIN > self._now():
            return cached.value
        lock = self._locks.get(installation_id)
        if lock is None:
            lock = self._locks[installation_id] = asyncio.Lock()
        async with lock:
            cached = self._tokens.get(installation_id)
            if cached and cached.expires_at - REFRESH_MARGIN > self._now():
                return cached.value
            data = await gh.post(
                f"/app/installations/{installation_id}/access_tokens", data=b"", jwt=self.jwt()
            )
            self.fetches += 1
            expires = datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00"))
            token = Token(str(data["token"]), expires.timestamp())
            # Masked in the logs by its exact value, should GitHub change how tokens look; the
            # log module keeps only the newest of these.
            register_secret(token.value, rotating=True)
            self._tokens[installation_id] = token
            return token.value

    def forget(self, installation_id: int) -> None:
        """Drop a token GitHub refused (401), so the next call fetches a new one."""
        self._tokens.pop(installation_id, None)
