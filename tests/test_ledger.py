"""The ledger: how ringbot writes sign-offs and rejections into deployment statuses, and reads them back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.ledger import (
    DESCRIPTION_LIMIT,
    Rejection,
    SignOff,
    cd_state,
    decode,
    encode_rejection,
    encode_signoff,
    live_since,
    rejection,
    signoffs,
)

from .builders.rings import BOT, CD, T0, deployment, entry, status

# --- encoding -----------------------------------------------------------------------------------


def test_a_signoff_is_written_with_the_users_login() -> None:
    assert encode_signoff("alice") == "ringbot:signoff @alice"


def test_a_rejection_is_written_with_who_and_why() -> None:
    assert encode_rejection("alice", "breaks login") == "ringbot:reject @alice breaks login"


def test_a_rejection_reason_is_kept_on_one_line() -> None:
    assert (
        encode_rejection("alice", "breaks\nlogin\t now") == "ringbot:reject @alice breaks login now"
    )


def test_a_long_rejection_reason_is_cut_with_an_ellipsis_to_fit_140_characters() -> None:
    text = encode_rejection("alice", "x" * 500)

    assert len(text) == DESCRIPTION_LIMIT
    assert text.endswith("x…")
    assert text.startswith("ringbot:reject @alice xxx")


def test_a_rejection_that_fits_exactly_is_not_cut() -> None:
    head = "ringbot:reject @alice "
    reason = "y" * (DESCRIPTION_LIMIT - len(head))

    assert encode_rejection("alice", reason) == head + reason


# --- decoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        pytest.param(encode_signoff("alice"), SignOff("alice", T0), id="signoff"),
        pytest.param(
            encode_rejection("bob", "breaks login"),
            Rejection("bob", "breaks login", T0),
            id="rejection",
        ),
        pytest.param(
            "ringbot:reject @bob", Rejection("bob", "", T0), id="rejection-without-reason"
        ),
        pytest.param("Deployed by the workflow", None, id="cd-text"),
        pytest.param("ringbot:signoff alice", None, id="no-at-sign"),
        pytest.param("ringbot:launch @alice", None, id="unknown-verb"),
        pytest.param("", None, id="empty"),
    ],
)
def test_decode_reads_what_encode_wrote(description: str, expected: object) -> None:
    assert decode(description, BOT, bot_login=BOT, at=T0) == expected


def test_a_long_rejection_round_trips_to_its_truncated_reason() -> None:
    decoded = decode(encode_rejection("bob", "z" * 300), BOT, bot_login=BOT, at=T0)

    assert isinstance(decoded, Rejection)
    assert decoded.user == "bob"
    assert decoded.reason.endswith("…")


@pytest.mark.parametrize(
    "creator",
    [
        pytest.param(CD, id="the-cd"),
        pytest.param("mallory", id="a-person"),
        pytest.param("ringbot", id="a-user-named-like-the-bot"),
    ],
)
def test_a_ledger_text_forged_by_anyone_but_the_bot_is_ignored(creator: str) -> None:
    assert decode(encode_signoff("mallory"), creator, bot_login=BOT, at=T0) is None


def test_the_bot_login_is_compared_without_case() -> None:
    assert decode(encode_signoff("alice"), "RingBot[bot]", bot_login=BOT, at=T0) is not None


# --- derived facts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        pytest.param((), "pending", id="no-status-yet"),
        pytest.param(("queued",), "queued", id="queued"),
        pytest.param(("queued", "in_progress"), "in_progress", id="in-progress"),
        pytest.param(("in_progress", "success"), "success", id="success"),
        pytest.param(("in_progress", "failure"), "failure", id="failure"),
        pytest.param(("success", "inactive"), "inactive", id="auto-inactivated"),
    ],
)
def test_cd_state_is_the_latest_cd_status(states: tuple[str, ...], expected: str) -> None:
    dep = deployment(statuses=tuple(status(state=s) for s in states))

    assert cd_state(dep, BOT) == expected


def test_cd_state_ignores_the_bots_own_statuses() -> None:
    bot_status = status(state="success", creator=BOT, description=encode_signoff("alice"))
    dep = deployment(statuses=(status(state="failure"), bot_status))

    assert cd_state(dep, BOT) == "failure"


def test_live_since_is_the_first_cd_success() -> None:
    first = T0 + timedelta(hours=1)
    dep = deployment(
        statuses=(
            status(state="in_progress", created_at=T0),
            status(state="success", created_at=first),
            status(state="success", created_at=first + timedelta(hours=1)),
        )
    )

    assert live_since(dep, BOT) == first


def test_live_since_is_none_before_success() -> None:
    assert live_since(deployment(statuses=(status(state="in_progress"),)), BOT) is None


def test_a_success_written_by_the_bot_does_not_make_a_deployment_live() -> None:
    dep = deployment(statuses=(status(state="success", creator=BOT, description="x"),))

    assert live_since(dep, BOT) is None


def test_signoffs_count_each_person_once_with_their_first_signoff() -> None:
    later = T0 + timedelta(hours=1)
    dep = deployment(
        statuses=(
            status(),
            entry(encode_signoff("alice"), at=T0),
            entry(encode_signoff("bob"), at=T0),
            entry(encode_signoff("Alice"), at=later),
        )
    )

    assert signoffs(dep, BOT) == (SignOff("alice", T0), SignOff("bob", T0))


def test_signoffs_forged_by_someone_else_do_not_count() -> None:
    dep = deployment(statuses=(status(), entry(encode_signoff("mallory"), creator="mallory")))

    assert signoffs(dep, BOT) == ()


def test_the_first_rejection_is_the_one_that_stands() -> None:
    later = T0 + timedelta(hours=1)
    dep = deployment(
        statuses=(
            status(),
            entry(encode_rejection("alice", "first"), at=T0),
            entry(encode_rejection("bob", "second"), at=later),
        )
    )

    assert rejection(dep, BOT) == Rejection("alice", "first", T0)


def test_a_rejection_forged_by_the_cd_is_ignored() -> None:
    dep = deployment(statuses=(status(description=encode_rejection("alice", "nope")),))

    assert rejection(dep, BOT) is None
