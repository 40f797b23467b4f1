"""Builders for window and freeze tests: every field has a default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.policy.windows import Kind, RingFreeze, Window, parse_span

BERLIN = ZoneInfo("Europe/Berlin")
# Europe/Berlin, 2026: summer time starts on Sunday 29 March at 01:00 UTC (02:00 CET -> 03:00
# CEST) and ends on Sunday 25 October at 01:00 UTC. Friday 27 March is the last weekday in CET.
FRI = datetime(2026, 3, 27, tzinfo=UTC)
MON = datetime(2026, 3, 30, tzinfo=UTC)


def utc(text: str) -> datetime:
    """'2026-03-27 08:00' in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def window(
    text: str, kind: Kind = "allow", rings: frozenset[str] | None = None, reason: str = ""
) -> Window:
    """A window over every ring by default."""
    span = parse_span(text)
    assert not isinstance(span, str), span
    return Window(kind, text, span, rings, reason)


def frozen(
    by: str = "alice",
    reason: str = "incident 42",
    at: datetime = FRI,
    until: datetime | None = None,
    hours: float | None = None,
) -> RingFreeze:
    """A freeze since `at`, until `/unfreeze` unless `until` or `hours` says otherwise."""
    end = at + timedelta(hours=hours) if hours is not None else until
    return RingFreeze(by, reason, at, end)
