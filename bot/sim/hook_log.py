"""The App's webhook delivery log: every attempt, as GitHub keeps it for three days, and redelivery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.sim import shapes
from bot.sim.delivery import Delivery
from bot.sim.state import JSON

RETENTION = timedelta(days=3)  # GitHub keeps a webhook's deliveries for three days


@dataclass
class Attempt:
    """One delivery attempt: what was sent where, and what came back (if anything)."""

    id: int
    delivery: Delivery
    delivered_at: datetime
    url: str
    duration: float
    status: str
    status_code: int
    request_headers: dict[str, str]
    response_headers: dict[str, str] | None
    response_body: str | None

    @property
    def failed(self) -> bool:
        """Not answered with 2xx: what a catch-up must make up for."""
        return not 200 <= self.status_code < 300


def status_text(code: int) -> str:
    """The `status` GitHub shows for an HTTP answer."""
    return "OK" if 200 <= code < 300 else f"Invalid HTTP Response: {code}"


def _ids(payload: JSON) -> tuple[int | None, int | None]:
    """The installation and repository ids a payload names (either may be absent)."""
    inst, repo = payload.get("installation"), payload.get("repository")
    inst_id = inst.get("id") if isinstance(inst, dict) else None
    repo_id = repo.get("id") if isinstance(repo, dict) else None
    return (
        inst_id if isinstance(inst_id, int) else None,
        repo_id if isinstance(repo_id, int) else None,
    )


class HookLog:
    """Attempts in the order they were made; ids grow, so newest first is highest id first."""

    def __init__(
        self, clock: Callable[[], datetime], redeliver: Callable[[Delivery], None]
    ) -> None:
        self._clock = clock
        self._redeliver = redeliver
        self._attempts: list[Attempt] = []
        self._by_id: dict[int, Attempt] = {}
        self._next_id = 9_000_000_000  # int64 ids like GitHub's, far from the world's ids

    def record(
        self,
        d: Delivery,
        *,
        url: str,
        duration: float,
        request_headers: dict[str, str],
        status_code: int = 0,
        status: str | None = None,
        response_headers: dict[str, str] | None = None,
        response_body: str | None = None,
    ) -> Attempt:
        """Log one attempt (status_code 0 with `status` when no HTTP answer came)."""
        self._next_id += 1
        attempt = Attempt(
            self._next_id,
            d,
            self._clock(),
            url,
            round(duration, 3),
            status or status_text(status_code),
            status_code,
            dict(request_headers),
            response_headers,
            response_body,
        )
        self._attempts.append(attempt)
        self._by_id[attempt.id] = attempt
        return attempt

    @property
    def attempts(self) -> list[Attempt]:
        """Every attempt still kept, oldest first."""
        self._expire()
        return list(self._attempts)

    def get(self, attempt_id: int) -> Attempt | None:
        """One attempt still kept, or None."""
        self._expire()
        return self._by_id.get(attempt_id)

    def page(
        self, *, before: int | None, per_page: int, status: str | None
    ) -> tuple[list[Attempt], int | None]:
        """Up to `per_page` attempts, newest first, starting at id `before` (inclusive); the
        id the next page starts at, or None on the last page."""
        self._expire()
        wanted = [
            a
            for a in reversed(self._attempts)
            if (before is None or a.id <= before) and _status_matches(a, status)
        ]
        page = wanted[:per_page]
        return page, (wanted[per_page].id if len(wanted) > per_page else None)

    def redeliver(self, attempt_id: int) -> bool:
        """Send the attempt's delivery again: same guid and payload, a new attempt. False if gone."""
        attempt = self.get(attempt_id)
        if attempt is None:
            return False
        self._redeliver(replace(attempt.delivery, redelivery=True, status_code=None))
        return True

    def _expire(self) -> None:
        cutoff = self._clock() - RETENTION
        drop = 0
        while drop < len(self._attempts) and self._attempts[drop].delivered_at < cutoff:
            self._by_id.pop(self._attempts[drop].id, None)
            drop += 1
        if drop:
            del self._attempts[:drop]


def _status_matches(a: Attempt, status: str | None) -> bool:
    """GitHub's filter: success is 200-399, failure 400-599 (a connection failure, 0, is neither)."""
    if status == "success":
        return 200 <= a.status_code < 400
    if status == "failure":
        return 400 <= a.status_code < 600
    return True


def item(a: Attempt) -> JSON:
    """An attempt as `hook-delivery-item`."""
    inst_id, repo_id = _ids(a.delivery.payload)
    return {
        "id": a.id,
        "guid": a.delivery.id,
        "delivered_at": shapes.iso(a.delivered_at),
        "redelivery": a.delivery.redelivery,
        "duration": a.duration,
        "status": a.status,
        "status_code": a.status_code,
        "event": a.delivery.event,
        "action": a.delivery.action,
        "installation_id": inst_id,
        "repository_id": repo_id,
        "throttled_at": None,
    }


def full(a: Attempt) -> JSON:
    """An attempt as `hook-delivery`: the item with what was sent and what came back."""
    body: dict[str, Any] = item(a)
    body["url"] = a.url
    body["request"] = {"headers": dict(a.request_headers), "payload": a.delivery.payload}
    body["response"] = {"headers": a.response_headers, "payload": a.response_body}
    return body
