"""Running a work key's job: its context, its delivery in the logs, and retries after GitHub failed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cachetools import LRUCache
from gidgethub import HTTPException

from .clock import Clock
from .context import Ctx
from .github import RateLimitTooLong, is_throttled
from .logs import DELIVERY, log, log_exception
from .metrics import Metrics
from .queue import WorkKey
from .settings import Settings

Job = Callable[[Ctx, Any], Awaitable[None]]
JOB_RETRIES = 3  # a job that failed on GitHub's side runs again this many times, backing off


class JobRunner:
    """Runs the job for a key (the queue's worker) and puts the key back after GitHub failed it.

    Jobs re-read everything, so a retry converges instead of repeating work.
    """

    def __init__(
        self,
        jobs: Mapping[type, Job],
        *,
        context: Callable[[WorkKey], Awaitable[Ctx]],
        forget_token: Callable[[int], None],
        put: Callable[[WorkKey], object],
        settings: Settings,
        clock: Clock,
        metrics: Metrics,
        later: Callable[[WorkKey, float], object] | None = None,
    ) -> None:
        self._jobs = dict(jobs)
        # Put a key back after a delay; default: a timer on the clock (Redis keeps its own).
        self._later = later
        self._context = context
        self._forget_token = forget_token
        self._put = put
        self.settings = settings  # swapped whole when the settings change; read per retry
        self._clock = clock
        self._metrics = metrics
        self._retries: LRUCache[WorkKey, int] = LRUCache(maxsize=10_000)
        # key -> the delivery that queued it, so a job's log lines name their delivery.
        self._origins: LRUCache[WorkKey, str] = LRUCache(maxsize=10_000)

    def queued(self, key: WorkKey) -> None:
        """Remember which delivery queued `key` (the one being handled now)."""
        self._origins[key] = DELIVERY.get() or ""

    def retry_later(self, key: WorkKey, exc: HTTPException) -> float | None:
        """GitHub was down or throttled us: put the key back later (a few times); the delay."""
        # A spent quota waits for its reset; other 4xx answers will not get better by waiting.
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
            delay = max(delay, exc.reset_at - self._clock.now().timestamp() + 1)
        if self._later is not None:
            self._later(key, delay)
        else:
            self._clock.call_later(delay, self._put, key)
        return delay

    async def run(self, key: WorkKey) -> None:
        """Run the job for `key`; failures are logged and counted here, never raised."""
        kind = type(key).__name__
        job = self._jobs.get(type(key))
        if job is None:
            log(40, "no job for key", kind=kind)
            return
        started = time.perf_counter()  # how long the job took, in real time, for the log line
        DELIVERY.set(self._origins.pop(key, None))
        try:
            await job(await self._context(key), key)
        except HTTPException as exc:
            status = int(exc.status_code)
            if status == 401:
                self._forget_token(key.installation)
            self._metrics.jobs.labels(kind, "github_error").inc()
            retry = self.retry_later(key, exc)
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
            self._metrics.jobs.labels(kind, "crashed").inc()
            log_exception("job crashed", kind=kind, repo=key.repo)
            return
        self._metrics.jobs.labels(kind, "ok").inc()
        self._retries.pop(key, None)
        log(
            20,
            "job done",
            kind=kind,
            repo=key.repo,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
