"""Windows and freezes, as pure rules: every time form, daylight-saving changes, the next opening,
the config's errors, `/freeze` and what a closed ring refuses."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.commands import Freeze, Promote, Unfreeze, parse_commands
from bot.config import Config, ConfigErrors, parse_config
from bot.models import Permission
from bot.policy.freezes import decide_freeze
from bot.policy.refusals import Code
from bot.policy.rings import decide_auto_entry, decide_promotion, decide_protection_rule
from bot.policy.windows import (
    AbsoluteRange,
    DailyHours,
    WeeklyRange,
    closure,
    decode_freeze,
    encode_freeze,
    next_open,
    parse_span,
    when,
)

from .builders.rings import (
    RELEASE,
    ask,
    config_with,
    contained_in,
    in_ring,
    live,
    ring,
    ring_state,
    rings_view,
)
from .builders.windows import BERLIN, FRI, frozen, utc, window

UTC_ZONE = ZoneInfo("UTC")

# -- the forms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span"),
    [
        pytest.param(
            "2026-12-20 00:00 .. 2027-01-04 00:00",
            AbsoluteRange(datetime(2026, 12, 20), datetime(2027, 1, 4)),
            id="absolute",
        ),
        pytest.param(
            "Fri 15:00 .. Mon 08:00",
            WeeklyRange(4, time(15), 0, time(8)),
            id="weekly-range",
        ),
        pytest.param(
            "mon 08:00..mon 07:00",
            WeeklyRange(0, time(8), 0, time(7)),
            id="weekly-range-almost-a-week",
        ),
        pytest.param(
            "Mon-Fri 09:00-16:00",
            DailyHours(frozenset(range(5)), time(9), time(16)),
            id="days-and-hours",
        ),
        pytest.param(
            "Sat 10:00-12:00", DailyHours(frozenset({5}), time(10), time(12)), id="one-day"
        ),
        pytest.param(
            "Fri-Mon 22:00-02:00",
            DailyHours(frozenset({4, 5, 6, 0}), time(22), time(2)),
            id="wrapping-days-overnight",
        ),
        pytest.param(
            "Mon,Wed-Thu 00:00-24:00",
            DailyHours(frozenset({0, 2, 3}), time(0), None),
            id="list-whole-days",
        ),
    ],
)
def test_each_form_is_read(text: str, span: object) -> None:
    assert parse_span(text) == span


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("always", "is not a window", id="nonsense"),
        pytest.param("", "is not a window", id="empty"),
        pytest.param(
            "2026-02-30 00:00 .. 2026-03-01 00:00", "has no date 2026-02-30", id="no-date"
        ),
        pytest.param(
            "2026-03-01 00:00 .. 2026-02-01 00:00", "ends before it starts", id="backwards"
        ),
        pytest.param("2026-03-01 25:00 .. 2026-03-02 00:00", "has no time 25:00", id="no-hour"),
        pytest.param("Fri 15:00 .. Mun 08:00", "has no day 'Mun'", id="weekly-bad-day"),
        pytest.param(
            "Fri 15:00 .. Fri 15:00", "starts and ends at the same moment", id="empty-week"
        ),
        pytest.param("Mon-Fry 09:00-16:00", "has no day 'Fry'", id="hours-bad-day"),
        pytest.param("Mon-Fri 09:00-09:00", "starts and ends at the same time", id="no-hours"),
        pytest.param("Mon-Fri 09:60-16:00", "has no time 09:60", id="no-minute"),
        pytest.param("Mon " * 40 + "09:00-10:00", "is longer than 100 characters", id="too-long"),
    ],
)
def test_a_bad_form_says_what_is_wrong(text: str, problem: str) -> None:
    found = parse_span(text)
    assert isinstance(found, str) and found.startswith(problem)


# -- closed or open, and when it opens -----------------------------------------------------------

OFFICE = window("Mon-Fri 09:00-16:00")
WEEKEND = window("Fri 15:00 .. Mon 08:00", "deny", reason="weekend")
HOLIDAYS = window("2026-12-20 00:00 .. 2027-01-04 00:00", "deny", reason="holiday freeze")
# The hour after 02:00 on 29 March does not exist in Berlin: this covers 01:00-02:00 UTC.
GAP = window("Sun 02:00-04:00", "deny")


@pytest.mark.parametrize(
    ("windows", "zone", "now", "opens"),
    [
        # A weekly allow window, local hours on both sides of the change to summer time.
        pytest.param(
            [OFFICE], BERLIN, "2026-03-27 07:59", "2026-03-27 08:00", id="allow-before-cet"
        ),
        pytest.param([OFFICE], BERLIN, "2026-03-27 08:00", None, id="allow-opens-cet"),
        pytest.param([OFFICE], BERLIN, "2026-03-27 14:59", None, id="allow-open-cet"),
        pytest.param(
            [OFFICE], BERLIN, "2026-03-27 15:00", "2026-03-30 07:00", id="allow-weekend-over-dst"
        ),
        pytest.param([OFFICE], BERLIN, "2026-03-30 07:00", None, id="allow-opens-cest"),
        pytest.param(
            [OFFICE], BERLIN, "2026-03-30 14:00", "2026-03-31 07:00", id="allow-closes-cest"
        ),
        # And back to winter time.
        pytest.param(
            [OFFICE], BERLIN, "2026-10-23 14:00", "2026-10-26 08:00", id="allow-weekend-back-to-cet"
        ),
        pytest.param([OFFICE], UTC_ZONE, "2026-03-27 08:00", "2026-03-27 09:00", id="allow-utc"),
        # A weekly deny range over the weekend.
        pytest.param([WEEKEND], BERLIN, "2026-03-27 13:59", None, id="deny-before"),
        pytest.param(
            [WEEKEND], BERLIN, "2026-03-27 14:00", "2026-03-30 06:00", id="deny-weekend-over-dst"
        ),
        pytest.param([WEEKEND], BERLIN, "2026-03-30 06:00", None, id="deny-over"),
        # An absolute holiday range.
        pytest.param([HOLIDAYS], BERLIN, "2026-12-19 22:59", None, id="holiday-before"),
        pytest.param(
            [HOLIDAYS], BERLIN, "2026-12-19 23:00", "2027-01-03 23:00", id="holiday-starts"
        ),
        pytest.param([HOLIDAYS], BERLIN, "2027-01-03 23:00", None, id="holiday-over"),
        # Wall-clock hours that a daylight-saving change skips.
        pytest.param([GAP], BERLIN, "2026-03-29 00:59", None, id="gap-before"),
        pytest.param([GAP], BERLIN, "2026-03-29 01:30", "2026-03-29 02:00", id="gap-one-real-hour"),
        pytest.param([GAP], BERLIN, "2026-03-22 02:30", "2026-03-22 03:00", id="gap-week-before"),
        # Overnight hours and one-day windows.
        pytest.param(
            [window("Mon-Fri 22:00-02:00", "deny")],
            UTC_ZONE,
            "2026-03-28 01:00",
            "2026-03-28 02:00",
            id="overnight-into-saturday",
        ),
        pytest.param(
            [window("Sat 10:00-12:00")],
            UTC_ZONE,
            "2026-03-27 12:00",
            "2026-03-28 10:00",
            id="one-day-allow",
        ),
        # Windows together: every deny and the allow windows must clear.
        pytest.param(
            [OFFICE, window("2026-03-30 00:00 .. 2026-03-31 12:00", "deny")],
            BERLIN,
            "2026-03-27 15:00",
            "2026-03-31 10:00",
            id="allow-and-deny",
        ),
        pytest.param(
            [window("Mon-Sun 00:00-24:00", "deny")],
            UTC_ZONE,
            "2026-03-27 15:00",
            "never",
            id="never-opens",
        ),
        pytest.param(
            [window("2020-01-01 00:00 .. 2020-02-01 00:00")],
            UTC_ZONE,
            "2026-03-27 15:00",
            "never",
            id="allow-only-in-the-past",
        ),
        pytest.param(
            [window("Mon-Fri 09:00-16:00", "deny", rings=frozenset({"production"}))],
            UTC_ZONE,
            "2026-03-27 10:00",
            None,
            id="another-ring's-window",
        ),
    ],
)
def test_a_ring_is_closed_until_every_window_clears(
    windows: list[object], zone: ZoneInfo, now: str, opens: str | None
) -> None:
    found = closure("dev", utc(now), windows, zone)  # type: ignore[arg-type]
    if opens is None:
        assert found is None
        return
    assert found is not None and found.reasons
    assert found.opens_at == (None if opens == "never" else utc(opens))
    if found.opens_at is not None:
        # The moment it opens, it is open.
        assert closure("dev", found.opens_at, windows, zone) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("freeze", "windows", "now", "opens"),
    [
        pytest.param(frozen(), [], "2026-03-27 12:00", "never", id="until-unfreeze"),
        pytest.param(frozen(hours=5), [], "2026-03-27 04:59", "2026-03-27 05:00", id="for-5h"),
        pytest.param(frozen(hours=5), [], "2026-03-27 05:00", None, id="ended"),
        pytest.param(
            frozen(hours=16),
            [OFFICE],
            "2026-03-27 09:00",
            "2026-03-30 07:00",
            id="ends-outside-allow",
        ),
    ],
)
def test_a_freeze_closes_a_ring_until_it_ends(
    freeze: object, windows: list[object], now: str, opens: str | None
) -> None:
    found = closure("dev", utc(now), windows, BERLIN, freeze)  # type: ignore[arg-type]
    if opens is None:
        assert found is None
        return
    assert found is not None
    assert found.opens_at == (None if opens == "never" else utc(opens))
    assert found.reasons[0].startswith("frozen by @")


def test_the_reasons_say_why_and_quote_people_inertly() -> None:
    freeze = frozen(by="alice", reason="ping @bob | `rm`")
    found = closure("dev", utc("2026-12-24 12:00"), [HOLIDAYS], BERLIN, freeze)
    assert found is not None
    assert found.reasons[0].startswith("frozen by @alice: ping @\u200bbob &#124; &#96;rm&#96;")
    assert "deny window 2026-12-20 00:00 .. 2027-01-04 00:00 (holiday freeze)" in found.reasons[1]


def test_next_open_is_now_when_open() -> None:
    assert next_open("dev", FRI, [], BERLIN) == FRI


def test_a_moment_reads_in_the_repository_zone() -> None:
    assert when(utc("2026-03-30 07:00"), BERLIN, utc("2026-03-27 15:00")) == (
        "Mon 30 Mar 2026 09:00 CEST (in 2d 16h)"
    )


# -- the stored freeze ---------------------------------------------------------------------------


def test_a_freeze_survives_its_encoding() -> None:
    freeze = frozen(hours=2)
    assert decode_freeze(encode_freeze(freeze)) == freeze
    assert decode_freeze(encode_freeze(frozen())) == frozen()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("not json", id="not-json"),
        pytest.param("[1]", id="not-a-mapping"),
        pytest.param('{"by": 1, "reason": "x", "at": "2026-03-27T00:00:00+00:00"}', id="bad-by"),
        pytest.param('{"by": "a", "reason": "x", "at": "yesterday"}', id="bad-at"),
        pytest.param(
            '{"by": "a", "reason": "x", "at": "2026-03-27T00:00:00+00:00", "until": 5}',
            id="bad-until",
        ),
    ],
)
def test_a_freeze_ringbot_cannot_read_still_freezes(value: str) -> None:
    found = decode_freeze(value)
    assert found is not None and found.until is None


def test_a_hand_written_freeze_is_bounded() -> None:
    value = encode_freeze(frozen(by="x" * 100, reason="r" * 5000))
    found = decode_freeze(value)
    assert found is not None and len(found.by) == 39 and len(found.reason) == 200
    assert decode_freeze(None) is None


# -- the config ----------------------------------------------------------------------------------


def config(text: str) -> Config | ConfigErrors:
    return parse_config(textwrap.dedent(text))


def test_timezone_and_windows_are_read() -> None:
    found = config(
        """
        timezone: Europe/Berlin
        windows:
          - allow: "Mon-Fri 09:00-16:00"
            rings: [production, on-premises]
          - deny: "2026-12-20 00:00 .. 2027-01-04 00:00"
            rings: all
            reason: holiday freeze
        """
    )
    assert isinstance(found, Config)
    assert found.timezone == BERLIN
    allow, deny = found.windows
    assert (allow.kind, allow.rings, allow.reason) == (
        "allow",
        frozenset({"production", "on-premises"}),
        "",
    )
    assert (deny.kind, deny.rings, deny.reason) == ("deny", None, "holiday freeze")
    assert isinstance(deny.span, AbsoluteRange)


def test_without_them_every_ring_is_always_open_in_utc() -> None:
    found = config("rings:\n  - name: dev\n")
    assert isinstance(found, Config)
    assert (found.timezone, found.windows) == (UTC_ZONE, ())


RINGS = "rings:\n  - name: dev\n  - name: internal\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "timezone: Mars/Olympus\n",
            "timezone: 'Mars/Olympus' is not a time zone; use an IANA name like Europe/Berlin "
            "or UTC (line 1)",
            id="unknown-zone",
        ),
        pytest.param(
            "timezone: ../../etc/passwd\n",
            "timezone: '../../etc/passwd' is not a time zone; use an IANA name like "
            "Europe/Berlin or UTC (line 1)",
            id="zone-path",
        ),
        pytest.param(
            "timezone: 3\n",
            "timezone: expected a string, got 3 (a number); quote it as '3' (line 1)",
            id="zone-number",
        ),
        pytest.param(
            "windows: Mon-Fri\n",
            "windows: expected a list of windows, got 'Mon-Fri' (a string) (line 1)",
            id="not-a-list",
        ),
        pytest.param(
            "windows:\n  - allow: Mon 09:00-10:00\n    deny: Tue 09:00-10:00\n    rings: all\n",
            "windows[0]: a window needs exactly one of allow or deny; this has both (line 2)",
            id="both",
        ),
        pytest.param(
            "windows:\n  - rings: all\n",
            "windows[0]: a window needs exactly one of allow or deny; this has neither (line 2)",
            id="neither",
        ),
        pytest.param(
            "windows:\n  - deny: Mon 09:00-10:00\n",
            "windows[0]: a window needs `rings`: a list of ring names, or all (line 2)",
            id="no-rings",
        ),
        pytest.param(
            "windows:\n  - deny: Mon 09:00-10:00\n    rings: all\n    reson: x\n",
            "windows[0].reson: unknown key 'reson'; did you mean 'reason'? (line 4)",
            id="did-you-mean",
        ),
        pytest.param(
            f"{RINGS}windows:\n  - deny: Mon 09:00-10:00\n    rings: [internl]\n",
            "windows[0].rings[0]: unknown ring 'internl'; did you mean 'internal'? (line 6)",
            id="unknown-ring",
        ),
        pytest.param(
            "windows:\n  - deny: Mon 09:00-10:00\n    rings: every\n",
            "windows[0].rings: expected a list of ring names or all, got 'every' (a string) "
            "(line 3)",
            id="rings-not-all",
        ),
        pytest.param(
            "windows:\n  - deny: Mon-Fry 09:00-10:00\n    rings: all\n",
            "windows[0].deny: 'Mon-Fry 09:00-10:00' has no day 'Fry': use Mon, Tue, Wed, Thu, "
            "Fri, Sat or Sun (line 2)",
            id="bad-day",
        ),
        pytest.param(
            "windows:\n  - allow: weekdays\n    rings: all\n",
            "windows[0].allow: 'weekdays' is not a window: write a range like '2026-12-20 00:00 "
            ".. 2027-01-04 00:00' or 'Fri 15:00 .. Mon 08:00', or days and hours like "
            "'Mon-Fri 09:00-16:00' (line 2)",
            id="bad-form",
        ),
        pytest.param(
            "windows:\n  - allow: 2026-12-20\n    rings: all\n",
            "windows[0].allow: expected a string, got 2026-12-20 (a YAML date); quote it as "
            "'2026-12-20' (line 2)",
            id="yaml-date",
        ),
        pytest.param(
            f"windows:\n  - deny: Mon 09:00-10:00\n    rings: all\n    reason: {'x' * 201}\n",
            "windows[0].reason: a reason is at most 200 characters (line 4)",
            id="long-reason",
        ),
        pytest.param(
            "windows:\n" + "  - {deny: 'Mon 09:00-10:00', rings: all}\n" * 21,
            "windows: 21 windows are more than ringbot allows here (20) (line 2)",
            id="too-many",
        ),
    ],
)
def test_each_window_mistake_names_field_and_line(text: str, message: str) -> None:
    found = parse_config(text)
    assert isinstance(found, ConfigErrors), found
    assert [str(error) for error in found.errors] == [message]


# -- /freeze and /unfreeze -----------------------------------------------------------------------

STRICT = config_with("production", promoters=Permission.MAINTAIN)


@pytest.mark.parametrize(
    ("command", "permission", "rings", "refused"),
    [
        pytest.param(
            Freeze("internal", "incident"), Permission.WRITE, ["internal"], None, id="ring"
        ),
        pytest.param(
            Freeze("production", "incident"),
            Permission.WRITE,
            ["production"],
            Code.PERMISSION,
            id="strict-ring",
        ),
        pytest.param(
            Freeze(None, "incident"), Permission.WRITE, [], Code.PERMISSION, id="all-needs-every"
        ),
        pytest.param(
            Freeze(None, "incident"),
            Permission.MAINTAIN,
            ["dev", "internal", "early-adopters", "production", "on-premises"],
            None,
            id="all",
        ),
        pytest.param(Freeze("dev", "x"), Permission.READ, ["dev"], Code.PERMISSION, id="read"),
        pytest.param(Unfreeze("dev"), Permission.WRITE, ["dev"], None, id="unfreeze"),
        pytest.param(Unfreeze(None), Permission.TRIAGE, [], Code.PERMISSION, id="unfreeze-all"),
        pytest.param(Freeze("nope", "x"), Permission.ADMIN, [], Code.UNKNOWN_RING, id="unknown"),
    ],
)
def test_freezing_takes_the_promoters_of_every_ring_named(
    command: Freeze | Unfreeze, permission: Permission, rings: list[str], refused: Code | None
) -> None:
    decision = decide_freeze(STRICT, command, "bob", permission, FRI)
    assert [r.code for r in decision.refusals] == ([refused] if refused else [])
    if refused is None:
        assert [r.name for r in decision.rings] == rings
        assert (decision.freeze is None) == isinstance(command, Unfreeze)


def test_a_freeze_for_a_duration_ends() -> None:
    command = Freeze("dev", "deploys broken", timedelta(hours=2))
    decision = decide_freeze(STRICT, command, "bob", Permission.WRITE, FRI)
    assert decision.freeze == frozen(by="bob", reason="deploys broken", hours=2)


@pytest.mark.parametrize(
    ("body", "parsed"),
    [
        pytest.param("/freeze all incident 42", Freeze(None, "incident 42"), id="all"),
        pytest.param(
            "/freeze DEV for 2h deploys broken",
            Freeze("dev", "deploys broken", timedelta(hours=2)),
            id="for",
        ),
        pytest.param(
            "/freeze dev for the holidays", Freeze("dev", "for the holidays"), id="for-is-reason"
        ),
        pytest.param("/unfreeze all", Unfreeze(None), id="unfreeze-all"),
        pytest.param("/unfreeze internal", Unfreeze("internal"), id="unfreeze"),
        pytest.param("/freeze dev", "/freeze needs a reason", id="no-reason"),
        pytest.param("/freeze dev for 2h", "/freeze needs a reason", id="only-duration"),
        pytest.param("/freeze", "/freeze needs a ring, or all", id="nothing"),
        pytest.param("/freeze dev for 2x no", "/freeze: `2x` is not a duration", id="bad-for"),
        pytest.param("/freeze dev for 0 x", "/freeze: `0` is not a duration", id="zero"),
        pytest.param("/freeze dev for 400d x", "/freeze: a freeze lasts at most 366d", id="long"),
        pytest.param("/freeze prod x", "/freeze: unknown ring `prod`", id="unknown"),
        pytest.param("/unfreeze dev now", "/unfreeze takes one ring, or all", id="unfreeze-more"),
    ],
)
def test_freeze_commands_are_parsed(body: str, parsed: object) -> None:
    (found,) = parse_commands(body, ["dev", "internal"])
    if isinstance(parsed, str):
        assert found.message.startswith(parsed)  # type: ignore[union-attr]
    else:
        assert replace(found, line="") == parsed  # type: ignore[type-var]


def test_a_freeze_reason_is_bounded() -> None:
    (found,) = parse_commands("/freeze dev " + "x" * 1000, ["dev"])
    assert isinstance(found, Freeze) and len(found.reason) == 200


# -- what a closed ring refuses ------------------------------------------------------------------

NOW = utc("2026-03-27 12:00")  # a Friday, in office hours
LIVE = NOW - timedelta(days=3)  # signed off and baked long enough


def test_a_frozen_ring_refuses_a_promote_saying_when_it_opens() -> None:
    before = ring_state("internal", live(RELEASE, ring="internal", at=LIVE))
    view = rings_view(before, ring_state("early-adopters"), contains=contained_in(before), now=NOW)
    view = replace(view, freezes={"early-adopters": frozen(at=NOW, hours=3)})
    decision = decide_promotion(view, ask(Promote("early-adopters"), actor="bob"))
    (closed,) = [r for r in decision.refusals if r.code == Code.CLOSED]
    assert closed.message == "early-adopters is closed 🧊: frozen by @alice: incident 42"
    assert closed.hint == "it opens Fri 27 Mar 2026 15:00 UTC (in 3h)"
    assert not decision.should_deploy


def test_an_auto_ring_outside_its_window_looks_again_when_it_opens() -> None:
    config = config_with("on-premises", auto=True)
    config = replace(config, timezone=BERLIN, windows=(window("Mon-Fri 09:00-16:00"),))
    before = ring_state("production", live(RELEASE, ring="production", at=LIVE))
    view = rings_view(before, ring_state("on-premises"), config=config, now=utc("2026-03-27 15:00"))
    decision = decide_auto_entry(view, ring("on-premises", config))
    assert [r.code for r in decision.refusals] == [Code.CLOSED]
    assert decision.retry_at == utc("2026-03-30 07:00")
    opened = decide_auto_entry(
        replace(view, now=utc("2026-03-30 07:00")), ring("on-premises", config)
    )
    assert opened.should_deploy


def test_an_auto_ring_frozen_without_end_waits_for_unfreeze() -> None:
    config = config_with("on-premises", auto=True)
    before = ring_state("production", live(RELEASE, ring="production", at=LIVE))
    view = rings_view(before, ring_state("on-premises"), config=config, now=NOW)
    view = replace(view, freezes={"on-premises": frozen()})
    decision = decide_auto_entry(view, ring("on-premises", config))
    assert [r.code for r in decision.refusals] == [Code.CLOSED]
    assert decision.retry_at is None
    assert "`/unfreeze on-premises`" in decision.refusals[0].hint


def test_the_first_ring_closed_looks_again_when_it_opens() -> None:
    config = replace(config_with("dev"), windows=(window("Mon-Fri 09:00-16:00", "deny"),))
    view = rings_view(ring_state("dev"), config=config, green_head=RELEASE, now=NOW)
    decision = decide_auto_entry(view, ring("dev", config))
    assert [r.code for r in decision.refusals] == [Code.CLOSED]
    assert decision.retry_at == utc("2026-03-27 16:00")


def test_a_closed_ring_refuses_a_protection_rule_request_but_not_ringbot_s_own() -> None:
    before = ring_state("internal", live(RELEASE, ring="internal", at=LIVE))
    view = rings_view(before, ring_state("early-adopters"), now=NOW)
    view = replace(view, freezes={"early-adopters": frozen()})
    refused = decide_protection_rule(view, ring("early-adopters"), RELEASE)
    assert not refused.approved and "frozen by @alice" in refused.comment
    ours = ring_state("early-adopters", in_ring(RELEASE, "early-adopters", "pending"))
    view = replace(view, rings=(before, ours))
    assert decide_protection_rule(view, ring("early-adopters"), RELEASE).approved


def test_an_expired_freeze_closes_nothing() -> None:
    before = ring_state("internal", live(RELEASE, ring="internal", at=LIVE))
    view = rings_view(before, ring_state("early-adopters"), now=NOW)
    view = replace(view, freezes={"early-adopters": frozen(at=NOW - timedelta(hours=3), hours=1)})
    assert decide_protection_rule(view, ring("early-adopters"), RELEASE).approved


def test_a_freeze_value_nested_past_the_parser_reads_as_unreadable() -> None:
    found = decode_freeze("[" * 3000)
    assert found is not None and found.reason == "the freeze record could not be read"
