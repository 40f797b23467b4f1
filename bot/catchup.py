"""Catch-up: read the App's webhook delivery log and make up for what never reached us.

GitHub sends a webhook once and never retries by itself, so a delivery made while ringbot was
down, or refused by it, is lost unless someone looks. At start and every `catchup_seconds`, the
log (`GET /app/hook/deliveries`, newest first) is read back to where the last complete pass
looked. A delivery whose newest attempt was not answered 2xx is replayed: its logged payload is
fetched and triaged like a fresh delivery. The first pass after a start also replays every
delivery of the lookback window this process did not accept itself, since work accepted before a
crash may never have run (jobs are idempotent, so replaying finished work changes nothing).

Replays are triaged into work keys first and queued together at the end of the pass, so that a
thousand missed deliveries about fifty pull requests become about fifty jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cachetools import LRUCache
from gidgethub import HTTPException

from .clock import Clock, Timer
from .github import GitHubClients
from .logs import DELIVERY, log, log_exception
from .metrics import Metrics
from .queue import WorkKey
from .settings import Settings
from .snapshot.reads import parse_time
from .webhook import Replayed, WebhookReceiver

RETENTION = timedelta(days=3)  # GitHub keeps a webhook's deliveries this long
# Each pass reads a little before where the last one looked: GitHub's clock is not ours, and a
# delivery logged while a pass was reading must not fall between two passes. Deliveries seen
# twice are recognised by their GUID.
OVERLAP = timedelta(minutes=1)
PER_PAGE = 100  # the most GitHub lists at once
FETCHES_AT_ONCE = 8  # payload reads in flight together (and payloads held at once)
JWT_REUSE_SECONDS = 300.0  # a JWT lives nine minutes: mint a new one well before that
GIVEN_UP = 10_000  # GUIDs whose payload triage refused, not fetched again
GONE, REDELIVERED = "gone", "redelivered"  # what a fetch answers instead of a payload
STOP_GRACE_SECONDS = 5.0  # how long a stop waits for a pass in flight


@dataclass(frozen=True)
class Logged:
    """A delivery in the log, by its newest attempt: what to fetch and what it was."""

    attempt_id: int
    guid: str
    event: str


@dataclass
class PassReport:
    """What one pass did; logged as one line and counted in the metrics."""

    fresh: bool
    listed: int = 0  # attempts read from the log inside the window
    wanted: int = 0  # deliveries to make up for
    fetched: int = 0  # payloads read
    replayed: int = 0  # payloads triaged
    skipped: int = 0  # accepted here before, or delivered fine elsewhere
    failed: int = 0  # payloads gone or refused by triage
    deferred: int = 0  # over the budget: left for the next pass
    redelivered: int = 0  # no payload kept: GitHub was asked to send it again
    keys: int = 0  # work keys the replays produced
    queued: int = 0  # of which were new to the queue
    error: str | None = None
    complete: bool = False
    _order: list[tuple[WorkKey, str]] = field(default_factory=list, repr=False)
    _replayed: list[str] = field(default_factory=list, repr=False)  # GUIDs to confirm


class CatchUp:
    """Reads the delivery log on the clock and replays what was missed; never raises."""

    def __init__(
        self,
        *,
        github: GitHubClients,
        receiver: WebhookReceiver,
        enqueue: Callable[[WorkKey], bool],
        settings: Callable[[], Settings],
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self._github = github
        self._receiver = receiver
        self._enqueue = enqueue
        self._settings = settings
        self._clock = clock
        self._metrics = metrics
        self._mark: datetime | None = None  # where the last complete pass started looking from
        self._fresh = True  # no pass has completed since this process started
        self._first_horizon: datetime | None = None  # where the first pass looks back to
        self._timer: Timer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = True
        self._jwt: tuple[str, float] | None = None
        self._given_up: LRUCache[str, bool] = LRUCache(GIVEN_UP)
        self.last: PassReport | None = None

    def start(self, ready: Callable[[], Awaitable[object]] | None = None) -> None:
        """Run a pass now and then every `catchup_seconds` (nothing when that is 0). With
        `ready`, the first pass awaits it first, in the background (its failure is its own to
        report): replays are then triaged knowing who the App is."""
        if self._settings().catchup_seconds <= 0:
            return
        self._stopped = False
        if ready is None:
            self._spawn()
            return

        async def first() -> None:
            with contextlib.suppress(Exception):
                await ready()
            await self._tick()

        self._task = asyncio.create_task(first())

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop the timer; let a pass in flight finish for up to `grace` seconds (its reads are
        short, and one cut off mid-request leaves GitHub's side hanging), then cancel it. The next
        start looks again either way."""
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None:
            # A deadline on the outside world, like a request time-out: real time, not the clock.
            await asyncio.wait({self._task}, timeout=grace)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def idle(self) -> None:
        """Return once no pass is in flight."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})  # never raises: a pass reports its own failures

    def _spawn(self) -> None:
        self._timer = None
        if self._stopped or (self._task is not None and not self._task.done()):
            return
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        try:
            await self.run_pass()
        except Exception:  # run_pass reports its own failures; this is the last line
            log_exception("catch-up pass crashed")
        finally:
            seconds = self._settings().catchup_seconds
            if not self._stopped and seconds > 0:
                self._timer = self._clock.call_later(seconds, self._spawn)

    async def run_pass(self) -> PassReport:
        """One pass: read the log back to the mark, replay what was missed, queue the work."""
        settings = self._settings()
        started = self._clock.now()
        report = PassReport(fresh=self._fresh)
        if self._mark is None:
            # Fixed at the first attempt: a first pass that keeps failing must not let the
            # window slide past deliveries missed before the start.
            if self._first_horizon is None:
                lookback = timedelta(seconds=settings.catchup_lookback_seconds)
                self._first_horizon = started - lookback
            horizon = self._first_horizon
        else:
            horizon = self._mark - OVERLAP
        horizon = max(horizon, started - RETENTION)
        try:
            wanted = await self._list(horizon, report)
            budget = max(settings.catchup_max_deliveries, 0)
            # Oldest first, so commands replay in the order people wrote them; what is over the
            # budget is the newest, and the next pass takes it up where this one stopped.
            now, later = wanted[:budget], wanted[budget:]
            report.deferred = len(later)
            for start in range(0, len(now), FETCHES_AT_ONCE):
                await self._replay(now[start : start + FETCHES_AT_ONCE], report)
            report.complete = not later
        except HTTPException as exc:
            report.error = f"GitHub answered {int(exc.status_code)}"
        except Exception as exc:
            report.error = type(exc).__name__
        finally:
            self._queue(report)
            # Only once the work is kept does a replayed delivery count as taken for good.
            replayed, report._replayed = report._replayed, []
            if not await self._receiver.confirm_replays(replayed):
                report.complete = False
                report.error = report.error or "replayed work could not be queued"
            self._finish(report, started)
        return report

    async def _list(self, horizon: datetime, report: PassReport) -> list[Logged]:
        """The deliveries to make up for since `horizon`, oldest first."""
        gh = self._github.app_client()
        judged: set[str] = set()
        wanted: list[Logged] = []
        url = f"/app/hook/deliveries?per_page={PER_PAGE}"
        async for entry in gh.getiter(url, jwt=self._app_jwt()):
            at = parse_time(entry.get("delivered_at"))
            if at is not None and at < horizon:
                break  # newest first: everything after this is older still
            report.listed += 1
            guid = str(entry.get("guid", ""))
            if not guid or guid in judged:
                continue  # an older attempt: the newest, read first, decides
            judged.add(guid)
            code = entry.get("status_code")
            delivered = isinstance(code, int) and 200 <= code < 300
            if self._receiver.accepted(guid) or guid in self._given_up:
                report.skipped += 1
            elif delivered and not report.fresh:
                report.skipped += 1  # another process accepted it
            else:
                wanted.append(Logged(int(entry["id"]), guid, str(entry.get("event", ""))))
        wanted.reverse()
        report.wanted = len(wanted)
        return wanted

    async def _replay(self, batch: list[Logged], report: PassReport) -> None:
        """Fetch a batch's payloads together, then triage them in order."""
        fetched = await asyncio.gather(*(self._fetch(item) for item in batch))
        report.fetched += len(batch)
        for item, payload in zip(batch, fetched, strict=True):
            if isinstance(payload, str):  # GONE or REDELIVERED
                report.failed += payload == GONE
                report.redelivered += payload == REDELIVERED
                continue
            if self._receiver.accepted(item.guid):
                report.skipped += 1  # it arrived by itself meanwhile
                continue

            def collect(key: WorkKey, guid: str = item.guid) -> bool:
                report._order.append((key, guid))
                return True

            outcome = await self._receiver.replay(item.event, item.guid, payload, enqueue=collect)
            if outcome is Replayed.TRIAGED:
                report.replayed += 1
                report._replayed.append(item.guid)
            elif outcome is Replayed.DUPLICATE:
                # Taken elsewhere, perhaps by a replica that died before queuing it: its mark
                # lapses, and the next pass (whose window still holds it) looks again.
                report.skipped += 1
            else:
                report.failed += 1
                self._given_up[item.guid] = True

    async def _fetch(self, item: Logged) -> dict[str, Any] | str:
        """The logged payload, or GONE (past retention) or REDELIVERED (GitHub sends it again)."""
        gh = self._github.app_client()
        jwt = self._app_jwt()
        try:
            data = await gh.getitem(f"/app/hook/deliveries/{item.attempt_id}", jwt=jwt)
        except HTTPException as exc:
            if int(exc.status_code) != 404:
                raise
            return GONE  # past retention since it was listed
        request = data.get("request") if isinstance(data, dict) else None
        payload = request.get("payload") if isinstance(request, dict) else None
        if isinstance(payload, dict):
            return payload
        # GitHub kept no payload to read: ask it to deliver the event again instead.
        # No body: the endpoint takes none (b"" is gidgethub's way of sending nothing).
        await gh.post(f"/app/hook/deliveries/{item.attempt_id}/attempts", data=b"", jwt=jwt)
        self._given_up[item.guid] = True  # the redelivery is a new attempt: do not ask twice
        return REDELIVERED

    def _queue(self, report: PassReport) -> None:
        """Queue every key the replays produced, each under the delivery that asked for it."""
        order, report._order = report._order, []
        report.keys = len(order)
        for key, guid in order:
            token = DELIVERY.set(guid)
            try:
                report.queued += bool(self._enqueue(key))
            finally:
                DELIVERY.reset(token)

    def _finish(self, report: PassReport, started: datetime) -> None:
        """Move the mark after a complete pass; count and log the pass."""
        if report.complete:
            self._mark = started
            self._fresh = False
        result = "complete" if report.complete else ("failed" if report.error else "partial")
        counter = self._metrics.catchup
        for outcome in ("fetched", "replayed", "skipped", "failed", "deferred", "redelivered"):
            if value := getattr(report, outcome):
                counter.labels(outcome).inc(value)
        self._metrics.catchup_passes.labels(result).inc()
        if report.deferred:
            log(30, "catch-up over budget, the rest waits for the next pass", **_fields(report))
        log(20 if not report.error else 30, "catch-up pass", result=result, **_fields(report))
        self.last = report

    def _app_jwt(self) -> str:
        """An App JWT, reused for a few minutes (a pass may read hundreds of payloads)."""
        now = self._clock.now().timestamp()
        if self._jwt is None or now - self._jwt[1] > JWT_REUSE_SECONDS:
            self._jwt = (self._github.auth.jwt(), now)
        return self._jwt[0]


def _fields(report: PassReport) -> dict[str, object]:
    """The report as log fields."""
    return {
        name: getattr(report, name)
        for name in (
            "fresh",
            "listed",
            "wanted",
            "fetched",
            "replayed",
            "skipped",
            "failed",
            "deferred",
            "redelivered",
            "keys",
            "queued",
            "error",
        )
    }
