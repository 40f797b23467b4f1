"""The markdown ringbot replies with for ring commands, the `/status` table and `/help`."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bot.config import DEFAULT_CONFIG
from bot.ledger import DeploymentRecord, Rejection, RingState
from bot.messages.rings import (
    render_promotion,
    render_refusals,
    render_rejection,
    render_ring_table,
    render_rollback,
    render_signoff,
)
from bot.policy.refusals import Refusal
from bot.policy.rings import Mark, Promotion, RejectionDecision, SignOffDecision

from .builders.rings import (
    BOT,
    NOW,
    OLDER,
    RELEASE,
    T0,
    deployment,
    in_ring,
    live,
    rejected_by,
    ring,
    ring_state,
    status,
)

REFUSALS = (
    Refusal("needs_signoff", "needs 1 more sign-off in internal", "comment `/approve internal`"),
    Refusal("baking", "3h 20m left", "try again in 3h 20m"),
)

# --- replies ------------------------------------------------------------------------------------


def test_an_allowed_promotion_names_the_release_both_rings_and_the_deployment() -> None:
    promotion = Promotion(ring("early-adopters"), RELEASE, 9)

    text = render_promotion(DEFAULT_CONFIG, promotion, deployment_id=42)

    assert text == "🚀 Promoting `c0ffee0` from internal to early-adopters: deployment 42 created"


def test_entering_the_first_ring_is_a_deploy_not_a_promotion() -> None:
    text = render_promotion(DEFAULT_CONFIG, Promotion(ring("dev"), RELEASE, None), deployment_id=7)

    assert text == "🚀 Deploying `c0ffee0` to dev: deployment 7 created"


def test_a_promotion_already_done_says_nothing_new_was_deployed() -> None:
    promotion = Promotion(ring("early-adopters"), RELEASE, 9, already_done=True)

    text = render_promotion(DEFAULT_CONFIG, promotion)

    assert text.startswith("👍 `c0ffee0` is already in early-adopters")


def test_a_refused_promotion_lists_each_reason_with_what_to_do() -> None:
    promotion = Promotion(ring("early-adopters"), RELEASE, 9, REFUSALS)

    text = render_promotion(DEFAULT_CONFIG, promotion)

    assert text == (
        "😕 Cannot promote to early-adopters:\n\n"
        "- needs 1 more sign-off in internal — comment `/approve internal`\n"
        "- 3h 20m left — try again in 3h 20m"
    )


def test_a_promotion_to_an_unknown_ring_is_refused_without_a_ring_name() -> None:
    refusal = Refusal("unknown_ring", "there is no ring `staging`", "the rings are `dev`")

    text = render_promotion(DEFAULT_CONFIG, Promotion(None, None, None, (refusal,)))

    assert text.startswith("😕 Cannot promote:\n\n- there is no ring `staging`")


def test_a_refusal_without_a_hint_has_no_dash() -> None:
    assert render_refusals("No.", (Refusal("x", "because"),)) == "😕 No.\n\n- because"


@pytest.mark.parametrize(
    ("promotion", "expected"),
    [
        pytest.param(
            Promotion(ring("production"), OLDER, 3),
            "⏪ Rolling back production to `bbbbbbb`: deployment 5 created",
            id="allowed",
        ),
        pytest.param(
            Promotion(ring("production"), OLDER, 3, already_done=True),
            "👍 production is already on `bbbbbbb` (or rolling back to it); nothing new was deployed.",
            id="already-under-way",
        ),
        pytest.param(
            Promotion(ring("production"), None, None, (Refusal("permission", "no", "ask"),)),
            "😕 Cannot roll back production:\n\n- no — ask",
            id="refused",
        ),
    ],
)
def test_rollback_replies(promotion: Promotion, expected: str) -> None:
    assert render_rollback(promotion, deployment_id=5) == expected


@pytest.mark.parametrize(
    ("ring_name", "next_step"),
    [
        pytest.param("internal", "Next: `/promote early-adopters`.", id="manual-next-ring"),
        pytest.param(
            "production",
            "It enters on-premises by itself once the ring rules allow it.",
            id="auto-next-ring",
        ),
    ],
)
def test_a_signoff_reply_says_what_comes_next(ring_name: str, next_step: str) -> None:
    decision = SignOffDecision(ring(ring_name), 4, RELEASE)

    text = render_signoff(DEFAULT_CONFIG, decision, "alice")

    assert text == f"✅ @alice signed off `c0ffee0` in {ring_name}.\n\n{next_step}"


def test_a_signoff_in_the_last_ring_has_no_next_step() -> None:
    decision = SignOffDecision(ring("on-premises"), 4, RELEASE)

    assert render_signoff(DEFAULT_CONFIG, decision, "alice") == (
        "✅ @alice signed off `c0ffee0` in on-premises."
    )


def test_a_repeated_signoff_says_so() -> None:
    decision = SignOffDecision(ring("internal"), 4, RELEASE, already_done=True)

    assert "had already signed off" in render_signoff(DEFAULT_CONFIG, decision, "alice")


def test_a_refused_signoff_lists_its_reasons() -> None:
    decision = SignOffDecision(ring("internal"), None, None, REFUSALS[:1])

    assert render_signoff(DEFAULT_CONFIG, decision, "alice").startswith(
        "😕 Cannot sign off in internal:"
    )


def test_a_rejection_reply_quotes_the_reason_without_pinging_anyone() -> None:
    decision = RejectionDecision(
        ring("internal"), RELEASE, (Mark(1, "success"), Mark(2, "failure"))
    )

    text = render_rejection(decision, "dave", "ask @team-x")

    assert text.startswith("⛔ @dave rejected `c0ffee0` in internal: ask @\u200bteam-x")


def test_a_refused_rejection_lists_its_reasons() -> None:
    decision = RejectionDecision(ring("internal"), None, refusals=REFUSALS[:1])

    assert render_rejection(decision, "dave", "x").startswith("😕 Cannot reject in internal:")


def test_a_second_rejection_reports_the_first() -> None:
    first = Rejection("erin", "slow", T0)
    decision = RejectionDecision(ring("internal"), RELEASE, (), already_done=True, rejection=first)

    assert (
        render_rejection(decision, "dave", "again")
        == "⛔ `c0ffee0` was already rejected by @erin: slow"
    )


# --- the /status table --------------------------------------------------------------------------


def rows(rings: tuple[RingState, ...]) -> dict[str, list[str]]:
    """The default table's cells by ring name."""
    lines = render_ring_table(DEFAULT_CONFIG, rings, NOW, BOT).splitlines()
    assert lines[0] == "| ring | release | state | since | signed off by | users reached |"
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    return {c[0]: c[1:] for c in cells}


@pytest.mark.parametrize(
    ("deployments", "expected"),
    [
        pytest.param((), ["—", "waiting", "—", "—"], id="waiting"),
        pytest.param(
            (live(at=NOW - timedelta(hours=3, minutes=20), signers=("alice", "bob")),),
            ["`c0ffee0`", "live", "3h 20m ago", "@alice, @bob"],
            id="live",
        ),
        pytest.param(
            (in_ring(RELEASE, "internal", "in_progress", at=NOW - timedelta(minutes=5)),),
            ["`c0ffee0`", "deploying", "5m ago", "—"],
            id="deploying",
        ),
        pytest.param(
            (in_ring(RELEASE, "internal", "failure", at=NOW - timedelta(seconds=20)),),
            ["`c0ffee0`", "failed", "just now", "—"],
            id="failed",
        ),
        pytest.param(
            (live(at=NOW - timedelta(days=2), extra=(rejected_by(),)),),
            ["`c0ffee0`", "rejected", "2d ago", "@alice"],
            id="rejected",
        ),
        pytest.param(
            (
                deployment(
                    sha=RELEASE,
                    created_at=NOW - timedelta(hours=2),
                    statuses=(
                        status(state="failure", created_at=NOW - timedelta(hours=1)),
                        rejected_by(),
                    ),
                ),
            ),
            ["`c0ffee0`", "rejected", "1h ago", "—"],
            id="rejected-after-failing",
        ),
        pytest.param(
            (live(at=NOW - timedelta(hours=2), extra=(status(state="inactive", created_at=NOW),)),),
            ["`c0ffee0`", "waiting", "just now", "—"],
            id="inactive",
        ),
        pytest.param(
            (
                in_ring(RELEASE, "internal", "queued"),
                live(OLDER, at=NOW - timedelta(hours=1), signers=()),
            ),
            ["`bbbbbbb`", "live · `c0ffee0` deploying", "1h ago", "—"],
            id="live-while-the-next-deploys",
        ),
        pytest.param(
            (
                in_ring(RELEASE, "internal", "error"),
                live(OLDER, at=NOW - timedelta(hours=1), signers=()),
            ),
            ["`bbbbbbb`", "live · `c0ffee0` failed", "1h ago", "—"],
            id="live-after-the-next-failed",
        ),
    ],
)
def test_the_ring_table_shows_each_rings_release_state_since_and_signoffs(
    deployments: tuple[DeploymentRecord, ...], expected: list[str]
) -> None:
    table = rows((ring_state("internal", *deployments),))

    assert table["internal"][:4] == expected


def test_the_ring_table_lists_every_configured_ring_in_order() -> None:
    text = render_ring_table(DEFAULT_CONFIG, (), NOW, BOT)

    names = [line.split("|")[1].strip() for line in text.splitlines()[2:]]
    assert names == ["dev", "internal", "early-adopters", "production", "on-premises"]


def test_users_reached_adds_up_the_rings_so_far() -> None:
    counts = {"dev": 10, "internal": 200, "early-adopters": 5000}
    config = dataclasses.replace(
        DEFAULT_CONFIG,
        rings=tuple(dataclasses.replace(r, users=counts.get(r.name)) for r in DEFAULT_CONFIG.rings),
    )

    text = render_ring_table(config, (), NOW, BOT)

    reach = [line.split("|")[6].strip() for line in text.splitlines()[2:]]
    assert reach == ["10", "210", "5,210", "5,210", "5,210"]


def test_users_reached_is_blank_when_no_ring_says_how_many() -> None:
    text = render_ring_table(DEFAULT_CONFIG, (), NOW, BOT)

    assert all(line.split("|")[6].strip() == "—" for line in text.splitlines()[2:])


# --- /help --------------------------------------------------------------------------------------
