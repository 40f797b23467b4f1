"""Windows and freezes: when a ring may be entered. Pure: no I/O, table-tested.

A ring is *closed* while a `deny` window or a freeze covers it, or while it has `allow` windows
and none is open. Window times are wall-clock times in the config's `timezone`, so "09:00" is
09:00 there in winter and in summer: each occurrence is placed on the local calendar first and
only then turned into an instant (a wall-clock time skipped by a daylight-saving change counts
as the instant right after the gap; one that happens twice, as the first of the two).

Three forms, parsed by `parse_span`:

- an absolute range, `2026-12-20 00:00 .. 2027-01-04 00:00`;
- a weekly range, `Fri 15:00 .. Mon 08:00` (it wraps around the week's end);
- days and hours, `Mon-Fri 09:00-16:00`, `Sat 10:00-12:00` or `Mon,Wed 22:00-02:00` (hours that
  end at or before they start run into the next day; `24:00` is the day's end).

Each range holds its start and not its end. A freeze (`/freeze`) is stored by the App as a small
JSON document in an environment variable of the ring's environment (`FREEZE_VARIABLE`); anyone
who can edit that variable can write anything there, so `decode_freeze` trusts nothing in it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from bot.messages.text import humanise, inert

FREEZE_VARIABLE: Final = "RINGBOT_FREEZE"
MAX_FREEZE_REASON: Final = 200  # characters of a freeze's reason kept and shown
MAX_FREEZE: Final = timedelta(days=366)  # the longest `/freeze ... for <duration>`
# Entries under `windows:`. Finding when a ring opens steps through every window's occurrences,
# up to MAX_STEPS times: a bound on the windows is a bound on that work (anyone who can push
# writes the file).
MAX_WINDOWS: Final = 20
# How far ahead the next opening is looked for, and in how many steps at most: past either,
# the ring is taken to stay closed (a deny range of years, or an allow range in the past).
HORIZON: Final = timedelta(days=400)
MAX_STEPS: Final = 100

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Kind = Literal["allow", "deny"]

_TIME = r"(\d{1,2}):(\d{2})"
_DATE = r"(\d{4})-(\d{2})-(\d{2})"
_ABSOLUTE = re.compile(rf"{_DATE}\s+{_TIME}\s*\.\.\s*{_DATE}\s+{_TIME}")
_WEEKLY = re.compile(rf"([A-Za-z]{{3}})\s+{_TIME}\s*\.\.\s*([A-Za-z]{{3}})\s+{_TIME}")
_HOURS = re.compile(rf"([A-Za-z,\- ]+?)\s+{_TIME}\s*-\s*{_TIME}")
_MAX_SPAN_TEXT = 100


# --- the forms ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AbsoluteRange:
    """From one local date and time to another, once."""

    start: datetime  # naive, local to the zone
    end: datetime

    def occurrences(self, zone: ZoneInfo, around: datetime) -> Iterator[tuple[datetime, datetime]]:
        yield _instant(self.start, zone), _instant(self.end, zone)


@dataclass(frozen=True)
class WeeklyRange:
    """From a weekday and time to another, every week (Fri 15:00 .. Mon 08:00)."""

    start_day: int  # 0 = Monday
    start: time
    end_day: int
    end: time

    def occurrences(self, zone: ZoneInfo, around: datetime) -> Iterator[tuple[datetime, datetime]]:
        for day in _days_around(around, zone):
            if day.weekday() != self.start_day:
                continue
            ahead = (self.end_day - self.start_day) % 7
            if ahead == 0 and self.end <= self.start:
                ahead = 7
            begin = datetime.combine(day, self.start)
            finish = datetime.combine(day + timedelta(days=ahead), self.end)
            yield _instant(begin, zone), _instant(finish, zone)


@dataclass(frozen=True)
class DailyHours:
    """The same hours on some weekdays (Mon-Fri 09:00-16:00)."""

    days: frozenset[int]
    start: time
    end: time | None  # None: 24:00, the day's end

    def occurrences(self, zone: ZoneInfo, around: datetime) -> Iterator[tuple[datetime, datetime]]:
        for day in _days_around(around, zone):
            if day.weekday() not in self.days:
                continue
            begin = datetime.combine(day, self.start)
            if self.end is None or self.end <= self.start:
                finish = datetime.combine(day + timedelta(days=1), self.end or time(0))
            else:
                finish = datetime.combine(day, self.end)
            yield _instant(begin, zone), _instant(finish, zone)


Span = AbsoluteRange | WeeklyRange | DailyHours


@functools.lru_cache(maxsize=16_384)
def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as an instant in UTC (fold 0: see the module's docstring)."""
    return local.replace(tzinfo=zone).astimezone(UTC)


def _days_around(moment: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Local dates from 8 days before `moment` to 8 days after: every weekly occurrence that can
    hold `moment`, and the next one to start after it."""
    today = moment.astimezone(zone).date()
    for offset in range(-8, 9):
        yield today + timedelta(days=offset)


def parse_span(text: str) -> Span | str:
    """A window's time form, or why it is none (a sentence to follow "'…' ")."""
    written = " ".join(text.split())
    if len(written) > _MAX_SPAN_TEXT:
        return f"is longer than {_MAX_SPAN_TEXT} characters"
    if "/" in written:
        return "is not a window"
    match = _ABSOLUTE.fullmatch(written)
    if match is not None:
        return _absolute(match.groups())
    match = _WEEKLY.fullmatch(written)
    if match is not None:
        return _weekly(match.groups())
    match = _HOURS.fullmatch(written)
    if match is not None:
        return _hours(match.groups())
    return (
        "is not a window: write a range like '2026-12-20 00:00 .. 2027-01-04 00:00' or "
        "'Fri 15:00 .. Mon 08:00', or days and hours like 'Mon-Fri 09:00-16:00'"
    )


def _clock(hours: str, minutes: str, *, day_end: bool = False) -> time | str | None:
    """A time of day; None for 24:00 where the day's end is allowed; a str says what is wrong."""
    h, m = int(hours), int(minutes)
    if day_end and (h, m) == (24, 0):
        return None
    if h > 23 or m > 59:
        return f"has no time {hours}:{minutes}"
    return time(h, m)


def _absolute(parts: Sequence[str]) -> Span | str:
    ends: list[datetime] = []
    for year, month, day, hours, minutes in (parts[:5], parts[5:]):
        at = _clock(hours, minutes)
        if not isinstance(at, time):
            return at or f"has no time {hours}:{minutes}"
        try:
            ends.append(datetime.combine(date(int(year), int(month), int(day)), at))
        except ValueError:
            return f"has no date {year}-{month}-{day}"
    start, end = ends
    if end <= start:
        return "ends before it starts"
    return AbsoluteRange(start, end)


def _day(word: str) -> int | None:
    word = word.strip().lower()
    return DAYS.index(word) if word in DAYS else None


def _unknown_day(word: str) -> str:
    return f"has no day '{word.strip()[:20]}': use Mon, Tue, Wed, Thu, Fri, Sat or Sun"


def _weekly(parts: Sequence[str]) -> Span | str:
    first, h1, m1, last, h2, m2 = parts
    start_day, end_day = _day(first), _day(last)
    if start_day is None:
        return _unknown_day(first)
    if end_day is None:
        return _unknown_day(last)
    start, end = _clock(h1, m1), _clock(h2, m2)
    if not isinstance(start, time):
        return start or f"has no time {h1}:{m1}"
    if not isinstance(end, time):
        return end or f"has no time {h2}:{m2}"
    if start_day == end_day and start == end:
        return "starts and ends at the same moment"
    return WeeklyRange(start_day, start, end_day, end)


def _hours(parts: Sequence[str]) -> Span | str:
    words, h1, m1, h2, m2 = parts
    days: set[int] = set()
    for item in words.replace(" ", "").split(","):
        first, dash, last = item.partition("-")
        begin = _day(first)
        if begin is None:
            return _unknown_day(first)
        finish = _day(last) if dash else begin
        if finish is None:
            return _unknown_day(last)
        days.update((begin + step) % 7 for step in range((finish - begin) % 7 + 1))
    start, end = _clock(h1, m1), _clock(h2, m2, day_end=True)
    if not isinstance(start, time):
        return start or f"has no time {h1}:{m1}"
    if isinstance(end, str):
        return end
    if end == start:
        return "starts and ends at the same time"
    return DailyHours(frozenset(days), start, end)


# --- windows and freezes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """One entry of `windows:`: allow or deny entry into some rings during a span."""

    kind: Kind
    text: str  # the span as written (white space tidied)
    span: Span
    rings: frozenset[str] | None = None  # None: every ring
    reason: str = ""

    def applies_to(self, ring: str) -> bool:
        """Whether the window speaks about `ring`."""
        return self.rings is None or ring in self.rings

    def covering(self, zone: ZoneInfo, at: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence that holds `at`, if one does."""
        return next(
            ((s, e) for s, e in self.span.occurrences(zone, at) if s <= at < e),
            None,
        )

    def next_start(self, zone: ZoneInfo, at: datetime) -> datetime | None:
        """The first occurrence to start after `at`, if one does (within a week, when weekly)."""
        return min((s for s, _ in self.span.occurrences(zone, at) if s > at), default=None)


@dataclass(frozen=True)
class RingFreeze:
    """A `/freeze` on one ring: who, why, since when and until when (None: until `/unfreeze`)."""

    by: str
    reason: str
    at: datetime
    until: datetime | None = None

    def active(self, now: datetime) -> bool:
        """Whether it still holds at `now`."""
        return self.until is None or now < self.until


def encode_freeze(freeze: RingFreeze) -> str:
    """The freeze as the variable's value: small JSON."""
    return json.dumps(
        {
            "by": freeze.by,
            "reason": freeze.reason[:MAX_FREEZE_REASON],
            "at": freeze.at.astimezone(UTC).isoformat(),
            "until": freeze.until.astimezone(UTC).isoformat() if freeze.until else None,
        },
        separators=(",", ":"),
    )


def decode_freeze(text: str | None) -> RingFreeze | None:
    """The variable's value as a freeze; None when there is none. A value ringbot cannot read
    (edited by hand) still freezes the ring, until `/unfreeze`: closed is the safe side."""
    if text is None:
        return None
    unreadable = RingFreeze(
        "unknown", "the freeze record could not be read", datetime.min.replace(tzinfo=UTC)
    )
    try:
        doc = json.loads(text[:4096])
    except (ValueError, RecursionError):  # "[[[[…" by hand nests past the parser's depth
        return unreadable
    if not isinstance(doc, Mapping):
        return unreadable
    by, reason = doc.get("by"), doc.get("reason")
    at, until = _time(doc.get("at")), _time(doc.get("until"))
    if not isinstance(by, str) or not isinstance(reason, str) or at is None:
        return unreadable
    if doc.get("until") is not None and until is None:
        return unreadable
    return RingFreeze(by[:39], reason[:MAX_FREEZE_REASON], at, until)


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


@dataclass(frozen=True)
class Closure:
    """Why a ring is closed at a moment, and when it next opens (None: not by itself)."""

    ring: str
    reasons: tuple[str, ...]  # markdown, safe to show: what people wrote is inert
    opens_at: datetime | None
    freeze: RingFreeze | None = None  # the freeze that holds, if one does


def _blockers(
    ring: str | None,
    at: datetime,
    windows: Sequence[Window],
    zone: ZoneInfo,
    freeze: RingFreeze | None,
) -> list[tuple[str, datetime | None]]:
    """What keeps `ring` closed at `at`: (why, until when it holds at least; None: no end known)."""
    found: list[tuple[str, datetime | None]] = []
    if freeze is not None and freeze.active(at):
        why = f"frozen by @{inert(freeze.by)}" + (
            f": {inert(freeze.reason)}" if freeze.reason else ""
        )
        found.append((why, freeze.until))
    allows: list[Window] = []
    for window in windows:
        if ring is not None and not window.applies_to(ring):
            continue  # (None: the windows given are the ring's already)
        if window.kind == "allow":
            allows.append(window)
            continue
        occurrence = window.covering(zone, at)
        if occurrence is not None:
            why = f"inside the deny window {inert(window.text)}"
            found.append(
                (why + (f" ({inert(window.reason)})" if window.reason else ""), occurrence[1])
            )
    if allows and not any(w.covering(zone, at) for w in allows):
        starts = [s for s in (w.next_start(zone, at) for w in allows) if s is not None]
        texts = ", ".join(inert(w.text) for w in allows)
        reasons = "; ".join(inert(w.reason) for w in allows if w.reason)
        why = f"outside its allow windows ({texts})" + (f": {reasons}" if reasons else "")
        found.append((why, min(starts, default=None)))
    return found


def closure(
    ring: str,
    now: datetime,
    windows: Sequence[Window] = (),
    zone: ZoneInfo | None = None,
    freeze: RingFreeze | None = None,
) -> Closure | None:
    """Whether `ring` is closed at `now`: None when it is open, else why and when it opens."""
    zone = zone or ZoneInfo("UTC")
    blockers = _blockers(ring, now, windows, zone, freeze)
    if not blockers:
        return None
    holding = freeze if freeze is not None and freeze.active(now) else None
    return Closure(
        ring,
        tuple(why for why, _ in blockers),
        next_open(ring, now, windows, zone, freeze),
        holding,
    )


def next_open(
    ring: str,
    now: datetime,
    windows: Sequence[Window] = (),
    zone: ZoneInfo | None = None,
    freeze: RingFreeze | None = None,
) -> datetime | None:
    """The first moment at or after `now` when `ring` is open; None when none is in sight (a
    freeze without end, or nothing open within HORIZON)."""
    mine = tuple(w for w in windows if w.applies_to(ring))
    return _next_open(mine, now, zone or ZoneInfo("UTC"), freeze)


# Rings under the same windows open at the same moment: a table of every ring works it out once.
@functools.lru_cache(maxsize=256)
def _next_open(
    windows: tuple[Window, ...], now: datetime, zone: ZoneInfo, freeze: RingFreeze | None
) -> datetime | None:
    at = now
    for _ in range(MAX_STEPS):
        blockers = _blockers(None, at, windows, zone, freeze)
        if not blockers:
            return at
        ends = [until for _, until in blockers]
        if any(until is None for until in ends):
            return None
        # Every blocker must be over before the ring opens; then look again (another may start).
        at = max(until for until in ends if until is not None)
        if at - now > HORIZON:
            return None
    return None


def when(moment: datetime, zone: ZoneInfo, now: datetime) -> str:
    """A moment as people read it in the repository's zone: "Mon 30 Mar 09:00 CEST (in 2d 1h)"."""
    local = moment.astimezone(zone)
    stamp = local.strftime("%a %d %b %Y %H:%M ") + (local.tzname() or str(zone))
    return f"{stamp} (in {humanise(moment - now)})" if moment > now else stamp


def opens_text(found: Closure, zone: ZoneInfo, now: datetime) -> str:
    """When a closed ring opens, in words."""
    if found.opens_at is not None:
        return f"it opens {when(found.opens_at, zone, now)}"
    if found.freeze is not None and found.freeze.until is None:
        return f"it opens when someone comments `/unfreeze {found.ring}`"
    return "no opening is in sight within a year"
