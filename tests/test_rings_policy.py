"""The ring rules: promotion, automatic entry, sign-off, rejection, rollback and the protection rule."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from bot.commands import Approve, Promote, Reject, Rollback
from bot.config import DEFAULT_CONFIG, Config
from bot.ledger import (
    DeploymentRecord,
    DeploymentStatusRecord,
    RingState,
    current_release,
    encode_rejection,
    encode_signoff,
    release_at,
)
from bot.messages.text import humanise
from bot.models import Permission
from bot.policy.rings import (
    Promotion,
    ProtectionDecision,
    RejectionDecision,
    SignOffDecision,
    decide,
    decide_auto_entry,
    decide_promotion,
    decide_protection_rule,
    decide_rejection,
    decide_rollback,
    decide_signoff,
)

from .builders.rings import (
    BOT,
    CD,
    LIVE,
    NEWER,
    NOW,
    OLDER,
    OLDEST,
    RELEASE,
    ask,
    config_with,
    contained_in,
    deployment,
    entry,
    in_ring,
    live,
    rejected_by,
    ring,
    ring_state,
    rings_view,
    status,
)

SIGNERS: Mapping[str, Permission] = {
    "alice": Permission.WRITE,
    "maria": Permission.MAINTAIN,
    "rita": Permission.READ,
}


def promote(**kw: Any) -> Promotion:
    """`/promote early-adopters` by a writer, of a release live, signed off and baked in internal."""
    fields: dict[str, Any] = {
        "config": DEFAULT_CONFIG,
        "target": "early-adopters",
        "previous": ring_state("internal", live()),
        "target_state": ring_state("early-adopters"),
        "actor": "carol",
        "actor_permission": Permission.WRITE,
        "signer_permissions": SIGNERS,
        "pr_merged": True,
        "pr_contained": True,
        "elsewhere": (),
        "written_at": None,
    }
    f = fields | kw
    view = rings_view(
        f["previous"],
        f["target_state"],
        config=f["config"],
        others=f["elsewhere"],
        permissions=f["signer_permissions"],
        merged=f["pr_merged"],
        contains=contained_in(f["previous"], answer=f["pr_contained"]),
    )
    command = ask(
        Promote(f["target"]),
        actor=f["actor"],
        permission=f["actor_permission"],
        written_at=f["written_at"],
    )
    return decide_promotion(view, command)


def codes(decision: Promotion | SignOffDecision | RejectionDecision) -> list[str]:
    return [r.code for r in decision.refusals]


# --- current release ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deployments", "expected"),
    [
        pytest.param((), None, id="nothing-deployed"),
        pytest.param(
            (live(NEWER), live(OLDER, at=LIVE - timedelta(days=1))), NEWER, id="newest-success-wins"
        ),
        pytest.param(
            (in_ring(NEWER, "internal", "failure"), live(OLDER)), OLDER, id="failed-newer-ignored"
        ),
        pytest.param(
            (in_ring(NEWER, "internal", "in_progress"), live(OLDER)),
            OLDER,
            id="deploying-newer-ignored",
        ),
        pytest.param(
            (live(NEWER), live(OLDER, extra=(status(state="inactive", created_at=NOW),))),
            NEWER,
            id="auto-inactivated-older",
        ),
        pytest.param(
            (live(OLDER, extra=(status(state="inactive", created_at=NOW),)),),
            None,
            id="only-inactive",
        ),
        pytest.param(
            (
                deployment(
                    sha=NEWER,
                    statuses=(status(state="success", creator=BOT, description="ringbot:x"),),
                ),
            ),
            None,
            id="success-written-by-the-bot-is-not-the-cd",
        ),
        pytest.param(
            (live(NEWER, foreign=True), live(OLDER, at=LIVE - timedelta(days=1))),
            OLDER,
            id="a-foreign-deploy-is-passed-over",
        ),
        pytest.param((live(NEWER, foreign=True),), None, id="only-a-foreign-deploy"),
    ],
)
def test_current_release_is_the_newest_deployment_the_cd_reports_successful(
    deployments: tuple[DeploymentRecord, ...], expected: str | None
) -> None:
    found = current_release(ring_state("internal", *deployments), BOT)

    assert (found.sha if found else None) == expected


def test_current_release_does_not_trust_the_order_it_is_given() -> None:
    old = live(OLDER, at=LIVE - timedelta(days=1))
    new = live(NEWER)

    found = current_release(ring_state("internal", old, new), BOT)

    assert found is not None and found.sha == NEWER


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        pytest.param(timedelta(hours=3, minutes=20), "3h 20m", id="hours-minutes"),
        pytest.param(timedelta(seconds=30), "1m", id="rounds-up"),
        pytest.param(timedelta(hours=24), "1d", id="a-day"),
        pytest.param(timedelta(days=1, hours=23, minutes=59), "1d 23h 59m", id="all-units"),
        pytest.param(timedelta(0), "0m", id="nothing"),
    ],
)
def test_durations_read_like_people_write_them(delta: timedelta, text: str) -> None:
    assert humanise(delta) == text


# --- /promote -----------------------------------------------------------------------------------


def test_a_release_live_signed_off_and_baked_is_promoted_from_the_previous_ring() -> None:
    source = live()

    decision = promote(previous=ring_state("internal", source))

    assert decision.allowed and decision.should_deploy
    assert (decision.target, decision.sha, decision.source_deployment_id) == (
        ring("early-adopters"),
        RELEASE,
        source.id,
    )
    assert decision.refusals == () and not decision.already_done


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"target": "staging"}, "unknown_ring", id="unknown-ring"),
        pytest.param({"target": "dev"}, "first_ring", id="first-ring"),
        pytest.param({"actor_permission": Permission.TRIAGE}, "permission", id="permission"),
        pytest.param({"pr_merged": False}, "not_merged", id="not-merged"),
        pytest.param({"pr_contained": False}, "not_contained", id="not-contained"),
        pytest.param({"pr_contained": None}, "not_contained", id="containment-unknown"),
        pytest.param({"previous": ring_state("internal")}, "not_in_previous", id="not-in-previous"),
        pytest.param(
            {"previous": ring_state("internal", in_ring(RELEASE, "internal", "in_progress"))},
            "not_in_previous",
            id="still-deploying-in-previous",
        ),
        pytest.param(
            {"previous": ring_state("internal", in_ring(RELEASE, "internal", "failure"))},
            "failed",
            id="failed-in-previous",
        ),
        pytest.param(
            {"previous": ring_state("internal", live(signers=()))},
            "needs_signoff",
            id="needs-signoff",
        ),
        pytest.param(
            {"previous": ring_state("internal", live(at=NOW - timedelta(hours=20)))},
            "baking",
            id="baking",
        ),
        pytest.param(
            {"previous": ring_state("internal", live(extra=(rejected_by(),)))},
            "rejected",
            id="rejected",
        ),
    ],
)
def test_each_failed_condition_alone_refuses_the_promotion(
    overrides: dict[str, Any], code: str
) -> None:
    decision = promote(**overrides)

    assert codes(decision) == [code]
    assert not decision.allowed and not decision.should_deploy


def test_an_unknown_ring_is_answered_with_the_valid_rings() -> None:
    (refusal,) = promote(target="staging").refusals

    assert "staging" in refusal.message
    assert "`dev`, `internal`, `early-adopters`, `production`, `on-premises`" in refusal.hint


def test_the_first_ring_is_said_to_be_entered_automatically() -> None:
    (refusal,) = promote(target="dev").refusals

    assert refusal.hint == "dev is entered automatically when the default branch is green"


def test_the_permission_refusal_names_the_permission_needed() -> None:
    decision = promote(
        target="production",
        previous=ring_state("early-adopters", live(ring="early-adopters", signers=("maria",))),
        target_state=ring_state("production"),
    )

    assert codes(decision) == ["permission"]
    assert "needs maintain permission; @carol has write" in decision.refusals[0].message


def test_not_live_in_the_previous_ring_names_that_ring() -> None:
    (refusal,) = promote(previous=ring_state("internal")).refusals

    assert refusal.message == "the release is not live in internal yet"


def test_a_failed_deploy_in_the_previous_ring_is_said_to_have_failed() -> None:
    previous = ring_state("internal", in_ring(RELEASE, "internal", "error"))

    (refusal,) = promote(previous=previous).refusals

    assert refusal.message == "the newest deployment in internal (`c0ffee0`) failed"


def test_a_missing_signoff_says_how_many_and_the_command_to_give() -> None:
    (refusal,) = promote(previous=ring_state("internal", live(signers=()))).refusals

    assert refusal.message == "needs 1 more sign-off in internal"
    assert "`/approve internal`" in refusal.hint


@pytest.mark.parametrize(
    ("live_for", "left"),
    [
        pytest.param(timedelta(hours=20, minutes=40), "3h 20m", id="hours-and-minutes"),
        pytest.param(timedelta(hours=24) - timedelta(seconds=30), "1m", id="less-than-a-minute"),
        pytest.param(timedelta(0), "1d", id="just-live"),
    ],
)
def test_the_bake_refusal_says_how_much_time_is_left(live_for: timedelta, left: str) -> None:
    previous = ring_state("internal", live(at=NOW - live_for))

    (refusal,) = promote(previous=previous).refusals

    assert refusal.code == "baking"
    assert refusal.message.endswith(f"{left} left")


def test_the_bake_time_is_over_exactly_at_its_end() -> None:
    previous = ring_state("internal", live(at=NOW - timedelta(hours=24)))

    assert promote(previous=previous).allowed


def test_every_failed_condition_is_reported_in_order() -> None:
    previous = ring_state("internal", live(signers=(), at=NOW - timedelta(hours=1)))

    decision = promote(previous=previous, actor_permission=Permission.READ)

    assert codes(decision) == ["permission", "needs_signoff", "baking"]


def test_the_release_of_someone_elses_change_is_not_judged_on_its_ring_rules() -> None:
    previous = ring_state("internal", live(signers=(), at=NOW - timedelta(hours=1)))

    assert codes(promote(previous=previous, pr_contained=False)) == ["not_contained"]


# --- sign-offs ----------------------------------------------------------------------------------


def test_signoffs_count_distinct_people_only() -> None:
    config = config_with("early-adopters", approvals=2)
    twice = live(
        extra=(entry(encode_signoff("alice"), at=LIVE + timedelta(hours=1)),), signers=("alice",)
    )

    decision = promote(config=config, previous=ring_state("internal", twice, config=config))

    assert codes(decision) == ["needs_signoff"]
    assert decision.refusals[0].message == "needs 1 more sign-off in internal"


def test_two_people_meet_a_two_signoff_ring() -> None:
    config = config_with("early-adopters", approvals=2)
    previous = ring_state("internal", live(signers=("alice", "maria")), config=config)

    assert promote(config=config, previous=previous).allowed


@pytest.mark.parametrize(
    ("signer", "target", "source"),
    [
        pytest.param("rita", "early-adopters", "internal", id="read-below-write"),
        pytest.param("alice", "production", "early-adopters", id="write-below-maintain"),
        pytest.param("stranger", "early-adopters", "internal", id="permission-unknown"),
    ],
)
def test_signoffs_from_people_below_the_rings_promoters_do_not_count(
    signer: str, target: str, source: str
) -> None:
    decision = promote(
        target=target,
        previous=ring_state(source, live(ring=source, signers=(signer,))),
        target_state=ring_state(target),
        actor_permission=Permission.ADMIN,
    )

    assert codes(decision) == ["needs_signoff"]
    assert f"@{signer}" in decision.refusals[0].message


def test_signer_permissions_are_looked_up_without_case() -> None:
    decision = promote(signer_permissions={"Alice": Permission.WRITE})

    assert decision.allowed


def test_a_forged_signoff_does_not_count() -> None:
    forged = entry(encode_signoff("maria"), creator="mallory")
    previous = ring_state("internal", live(signers=(), extra=(forged,)))

    assert codes(promote(previous=previous)) == ["needs_signoff"]


def test_a_ring_needing_no_signoff_is_promoted_without_one() -> None:
    config = config_with("early-adopters", approvals=0)
    previous = ring_state("internal", live(signers=()), config=config)

    assert promote(config=config, previous=previous).allowed


# --- rejection is final -------------------------------------------------------------------------


def test_a_rejection_names_who_and_why() -> None:
    previous = ring_state("internal", live(extra=(rejected_by("dave", "breaks login"),)))

    (refusal,) = promote(previous=previous).refusals

    assert refusal.message == "`c0ffee0` was rejected by @dave: breaks login"


def test_a_release_rejected_in_an_earlier_ring_never_moves_on() -> None:
    # Rejected while it was in internal: the mark is on its deployment there too.
    previous = ring_state(
        "early-adopters", live(ring="early-adopters", signers=("maria",), extra=(rejected_by(),))
    )

    decision = promote(
        target="production",
        previous=previous,
        target_state=ring_state("production"),
        actor_permission=Permission.ADMIN,
    )

    assert codes(decision) == ["rejected"]


def test_a_rejection_found_only_in_the_target_ring_still_refuses() -> None:
    earlier = live(ring="early-adopters", extra=(rejected_by(), status(state="inactive")))

    decision = promote(
        target_state=ring_state(
            "early-adopters", in_ring(NEWER, "early-adopters", "success"), earlier
        )
    )

    assert codes(decision) == ["rejected"]


def test_a_forged_rejection_does_not_block() -> None:
    forged = status(description=encode_rejection("dave", "nope"))
    previous = ring_state("internal", live(extra=(forged,)))

    assert promote(previous=previous).allowed


# --- idempotence --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target_deployments",
    [
        pytest.param((live(ring="early-adopters"),), id="already-live-there"),
        pytest.param(
            (in_ring(RELEASE, "early-adopters", "pending"),), id="deployment-not-started-yet"
        ),
        pytest.param(
            (in_ring(RELEASE, "early-adopters", "in_progress"), live(OLDER, ring="early-adopters")),
            id="deploying-there",
        ),
    ],
)
def test_promoting_a_release_the_target_already_has_deploys_nothing(
    target_deployments: tuple[DeploymentRecord, ...],
) -> None:
    decision = promote(target_state=ring_state("early-adopters", *target_deployments))

    assert decision.already_done and decision.refusals == ()
    assert not decision.should_deploy


def test_a_release_that_failed_in_the_target_can_be_promoted_again() -> None:
    target = ring_state("early-adopters", in_ring(RELEASE, "early-adopters", "failure"))

    decision = promote(target_state=target)

    assert decision.should_deploy and not decision.already_done


# --- automatic entry ----------------------------------------------------------------------------


def auto(**kw: Any) -> Promotion:
    """Automatic entry of the newest green commit into dev."""
    fields: dict[str, Any] = {
        "config": DEFAULT_CONFIG,
        "ring": ring("dev"),
        "previous": None,
        "target_state": ring_state("dev", live(OLDER, ring="dev")),
        "candidate_sha": RELEASE,
    }
    return auto_entry(**(fields | kw))


def auto_entry(**f: Any) -> Promotion:
    """decide_auto_entry on a view of the previous and target rings."""
    config = f.get("config", DEFAULT_CONFIG)
    view = rings_view(
        f.get("previous"),
        f["target_state"],
        config=config,
        others=f.get("elsewhere", ()),
        permissions=f.get("signer_permissions"),
        green_head=f.get("candidate_sha"),
    )
    return decide_auto_entry(view, f["ring"])


def test_the_first_ring_takes_the_newest_green_commit() -> None:
    decision = auto()

    assert decision.should_deploy and decision.sha == RELEASE
    assert decision.source_deployment_id is None


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"candidate_sha": None}, "no_candidate", id="nothing-green"),
        pytest.param(
            {
                "target_state": ring_state(
                    "dev",
                    live(OLDER, ring="dev"),  # rolled back after the rejection
                    live(ring="dev", at=LIVE - timedelta(hours=1), extra=(rejected_by(),)),
                )
            },
            "rejected",
            id="candidate-rejected",
        ),
        pytest.param(
            {"ring": ring("internal"), "previous": ring_state("dev", live(ring="dev"))},
            "manual",
            id="manual-ring",
        ),
    ],
)
def test_the_first_ring_refuses(overrides: dict[str, Any], code: str) -> None:
    assert codes(auto(**overrides)) == [code]


def test_the_first_ring_already_on_the_candidate_gets_nothing_new() -> None:
    decision = auto(target_state=ring_state("dev", in_ring(RELEASE, "dev", "queued")))

    assert decision.already_done and not decision.should_deploy


def on_premises(**kw: Any) -> Promotion:
    """Automatic entry into on-premises of production's current release."""
    fields: dict[str, Any] = {
        "config": DEFAULT_CONFIG,
        "ring": ring("on-premises"),
        "previous": ring_state("production", live(ring="production", signers=())),
        "target_state": ring_state("on-premises", live(OLDER, ring="on-premises")),
        "candidate_sha": None,
    }
    return auto_entry(**(fields | kw))


def test_a_later_auto_ring_follows_the_previous_rings_current_release() -> None:
    source = live(ring="production", signers=())

    decision = on_premises(previous=ring_state("production", source))

    assert decision.should_deploy
    assert (decision.sha, decision.source_deployment_id) == (RELEASE, source.id)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"previous": ring_state("production")}, "not_in_previous", id="not-live"),
        pytest.param(
            {"previous": ring_state("production", live(ring="production", extra=(rejected_by(),)))},
            "rejected",
            id="rejected",
        ),
        pytest.param(
            {
                "target_state": ring_state(
                    "on-premises",
                    live(NEWER, ring="on-premises"),
                    live(RELEASE, ring="on-premises", at=LIVE - timedelta(days=2)),
                )
            },
            "skip",
            id="never-goes-back",
        ),
    ],
)
def test_a_later_auto_ring_refuses(overrides: dict[str, Any], code: str) -> None:
    assert codes(on_premises(**overrides)) == [code]


def test_a_later_auto_ring_waits_for_its_signoffs_and_bake_time() -> None:
    config = config_with("on-premises", approvals=1, bake=timedelta(hours=2))
    previous = ring_state(
        "production",
        live(ring="production", signers=(), at=NOW - timedelta(hours=1)),
        config=config,
    )

    decision = on_premises(config=config, ring=ring("on-premises", config), previous=previous)

    assert codes(decision) == ["needs_signoff", "baking"]


def test_a_later_auto_ring_already_on_the_release_gets_nothing_new() -> None:
    decision = on_premises(target_state=ring_state("on-premises", live(ring="on-premises")))

    assert decision.already_done and not decision.should_deploy


# --- /approve -----------------------------------------------------------------------------------


def everywhere(*extra: DeploymentStatusRecord) -> tuple[RingState, ...]:
    """RELEASE live in dev and internal, OLDER live in early-adopters."""
    return (
        ring_state("dev", live(ring="dev", signers=(), extra=extra)),
        ring_state("internal", live(ring="internal", signers=(), extra=extra)),
        ring_state("early-adopters", live(OLDER, ring="early-adopters")),
        ring_state("production"),
        ring_state("on-premises"),
    )


CONTAINED = {"dev": True, "internal": True, "early-adopters": False}


def approve(**kw: Any) -> SignOffDecision:
    """`/approve` by a writer on a PR contained in dev and internal."""
    fields: dict[str, Any] = {
        "config": DEFAULT_CONFIG,
        "ring": None,
        "rings": everywhere(),
        "pr_contained_in": CONTAINED,
        "actor": "alice",
        "actor_permission": Permission.WRITE,
        "release_authors": frozenset({"bob"}),
        "written_at": None,
    }
    f = fields | kw
    view = rings_view(
        *f["rings"],
        config=f["config"],
        contains=_contains(f["rings"], f["pr_contained_in"]),
        authors={sha: f["release_authors"] for sha in _releases(f["rings"])},
    )
    command = ask(
        Approve(f["ring"]),
        actor=f["actor"],
        permission=f["actor_permission"],
        written_at=f["written_at"],
    )
    return decide_signoff(view, command)


def _releases(rings: tuple[RingState, ...]) -> list[str]:
    return [r.sha for state in rings if (r := current_release(state, BOT)) is not None]


def _contains(
    rings: tuple[RingState, ...], per_ring: Mapping[str, bool | None]
) -> dict[str, bool | None]:
    """The old per-ring containment as the view's per-release one."""
    found: dict[str, bool | None] = {}
    for state in rings:
        release = current_release(state, BOT)
        if release is not None and state.ring.name in per_ring:
            found[release.sha] = per_ring[state.ring.name]
    return found


def test_approve_signs_off_the_highest_ring_whose_release_contains_the_pr() -> None:
    rings = everywhere()

    decision = approve(rings=rings)

    assert decision.ring == ring("internal") and decision.sha == RELEASE
    assert decision.deployment_id == rings[1].deployments[0].id
    assert decision.description == "ringbot:signoff @alice"
    assert decision.should_write


def test_approve_signs_off_the_ring_it_names() -> None:
    rings = everywhere()

    decision = approve(ring="dev", rings=rings)

    assert decision.deployment_id == rings[0].deployments[0].id


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"ring": "staging"}, "unknown_ring", id="unknown-ring"),
        pytest.param({"actor_permission": Permission.TRIAGE}, "permission", id="permission"),
        pytest.param({"ring": "production"}, "not_live", id="not-live-there"),
        pytest.param({"ring": "early-adopters"}, "not_contained", id="not-contained"),
        pytest.param({"pr_contained_in": {}}, "not_live", id="no-ring-contains-it"),
        pytest.param(
            {"ring": "internal", "pr_contained_in": {}}, "not_contained", id="containment-unknown"
        ),
        pytest.param({"rings": everywhere(rejected_by())}, "rejected", id="rejected"),
    ],
)
def test_approve_refuses(overrides: dict[str, Any], code: str) -> None:
    decision = approve(**overrides)

    assert codes(decision) == [code]
    assert not decision.allowed and not decision.should_write


def test_a_ring_missing_from_the_snapshot_has_nothing_live() -> None:
    assert codes(approve(ring="internal", rings=())) == ["not_live"]


def test_approving_twice_is_already_done() -> None:
    decision = approve(rings=everywhere(entry(encode_signoff("Alice"))))

    assert decision.already_done and decision.allowed and not decision.should_write


# --- /reject ------------------------------------------------------------------------------------


def reject(**kw: Any) -> RejectionDecision:
    """`/reject` by a writer on a PR contained in dev and internal."""
    fields: dict[str, Any] = {
        "config": DEFAULT_CONFIG,
        "ring": None,
        "rings": everywhere(),
        "pr_contained_in": CONTAINED,
        "actor": "dave",
        "actor_permission": Permission.WRITE,
        "reason": "breaks login",
        "written_at": None,
    }
    f = fields | kw
    view = rings_view(
        *f["rings"], config=f["config"], contains=_contains(f["rings"], f["pr_contained_in"])
    )
    command = ask(
        Reject(f["ring"], f["reason"]),
        actor=f["actor"],
        permission=f["actor_permission"],
        written_at=f["written_at"],
    )
    return decide_rejection(view, command)


def test_reject_marks_every_deployment_of_the_release_in_every_ring() -> None:
    rings = everywhere()
    dev, internal = rings[0].deployments[0], rings[1].deployments[0]

    decision = reject(rings=rings)

    assert decision.allowed and not decision.already_done
    assert decision.sha == RELEASE and decision.ring == ring("internal")
    assert decision.deployment_ids_to_mark == tuple(sorted((dev.id, internal.id)))
    assert decision.description == "ringbot:reject @dave breaks login"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"actor_permission": Permission.READ}, "permission", id="permission"),
        pytest.param({"reason": "  "}, "no_reason", id="no-reason"),
        pytest.param({"ring": "staging"}, "unknown_ring", id="unknown-ring"),
        pytest.param({"ring": "production"}, "not_live", id="not-live"),
        pytest.param({"ring": "early-adopters"}, "not_contained", id="not-contained"),
    ],
)
def test_reject_refuses(overrides: dict[str, Any], code: str) -> None:
    decision = reject(**overrides)

    assert codes(decision) == [code]
    assert not decision.allowed


def test_a_second_rejection_keeps_the_first_and_heals_missing_marks() -> None:
    rings = everywhere()
    first = entry(encode_rejection("erin", "slow"))
    dev = dataclasses.replace(
        rings[0].deployments[0], statuses=(*rings[0].deployments[0].statuses, first)
    )
    rings = (ring_state("dev", dev), *rings[1:])

    decision = reject(rings=rings)

    assert decision.already_done and decision.allowed
    assert decision.rejection is not None and decision.rejection.user == "erin"
    assert decision.deployment_ids_to_mark == (rings[1].deployments[0].id,)
    assert decision.description == "ringbot:reject @erin slow"


# --- /rollback ----------------------------------------------------------------------------------


def history(*deployments: DeploymentRecord) -> RingState:
    return ring_state("production", *deployments)


def rollback(**kw: Any) -> Promotion:
    """`/rollback production` by a maintainer."""
    fields: dict[str, Any] = {
        "config": DEFAULT_CONFIG,
        "ring": "production",
        "ring_state": history(
            live(RELEASE, ring="production", at=NOW - timedelta(hours=1)),
            live(OLDER, ring="production", at=NOW - timedelta(days=2)),
            live(OLDEST, ring="production", at=NOW - timedelta(days=4)),
        ),
        "rejected_shas": frozenset(),
        "actor_permission": Permission.MAINTAIN,
        "pr_contained": True,
        "actor": "",
        "written_at": None,
    }
    f = fields | kw
    state = f["ring_state"]
    pivot = current_release(state, BOT) or (state.deployments[0] if state.deployments else None)
    # Releases known rejected in other rings: a rejection recorded on a deployment there.
    elsewhere = tuple(
        ring_state("internal", live(sha, ring="internal", extra=(rejected_by(),)))
        for sha in sorted(f["rejected_shas"])
    )
    view = rings_view(
        state,
        config=f["config"],
        others=elsewhere,
        contains={pivot.sha: f["pr_contained"]} if pivot is not None else {},
    )
    command = ask(
        Rollback(f["ring"]),
        actor=f["actor"],
        permission=f["actor_permission"],
        written_at=f["written_at"],
    )
    return decide_rollback(view, command)


@pytest.mark.parametrize(
    "contained", [pytest.param(False, id="not-contained"), pytest.param(None, id="unknown")]
)
def test_rollback_needs_the_pull_requests_change_in_the_ring(contained: bool | None) -> None:
    decision = rollback(pr_contained=contained)
    assert not decision.should_deploy
    assert "not_contained" in codes(decision)


def test_a_rejection_in_any_other_ring_stops_a_promotion() -> None:
    rejected_in_dev = live(RELEASE, ring="dev", extra=(rejected_by(),))
    decision = promote(elsewhere=(ring_state("dev", rejected_in_dev),))
    assert not decision.should_deploy
    assert "rejected" in codes(decision)


def test_an_auto_ring_above_write_counts_no_signoff_without_permissions() -> None:
    strict = config_with("on-premises", promoters=Permission.MAINTAIN, approvals=1)
    decision = auto_entry(
        config=strict,
        ring=ring("on-premises", strict),
        previous=ring_state("production", live(RELEASE, ring="production"), config=strict),
        target_state=ring_state("on-premises", config=strict),
        candidate_sha=None,
    )
    assert "needs_signoff" in codes(decision)


def test_rollback_redeploys_the_release_before_the_current_one() -> None:
    decision = rollback()

    assert decision.should_deploy and decision.sha == OLDER
    assert decision.target == ring("production")


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(
            history(
                live(RELEASE, ring="production", at=NOW - timedelta(hours=1)),
                live(OLDER, ring="production", at=NOW - timedelta(days=2), extra=(rejected_by(),)),
                live(OLDEST, ring="production", at=NOW - timedelta(days=4)),
            ),
            id="rejected-in-the-ledger",
        ),
        pytest.param(
            history(
                live(RELEASE, ring="production", at=NOW - timedelta(hours=1)),
                in_ring(OLDER, "production", "failure", at=NOW - timedelta(days=2)),
                live(OLDEST, ring="production", at=NOW - timedelta(days=4)),
            ),
            id="never-succeeded",
        ),
        pytest.param(
            history(
                live(RELEASE, ring="production", at=NOW - timedelta(hours=1)),
                live(OLDER, ring="production", at=NOW - timedelta(days=2), foreign=True),
                live(OLDEST, ring="production", at=NOW - timedelta(days=4)),
            ),
            id="foreign",
        ),
    ],
)
def test_rollback_skips_releases_that_are_rejected_or_never_succeeded(state: RingState) -> None:
    assert rollback(ring_state=state).sha == OLDEST


def test_rollback_skips_releases_known_rejected_elsewhere() -> None:
    assert rollback(rejected_shas=frozenset({OLDER})).sha == OLDEST


def test_rollback_from_a_broken_newest_deployment_goes_to_the_last_good_one() -> None:
    state = history(
        in_ring(NEWER, "production", "failure"),
        live(
            RELEASE,
            ring="production",
            at=NOW - timedelta(hours=1),
            extra=(status(state="inactive"),),
        ),
        live(
            OLDER, ring="production", at=NOW - timedelta(days=2), extra=(status(state="inactive"),)
        ),
    )

    assert rollback(ring_state=state).sha == RELEASE


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"actor_permission": Permission.WRITE}, "permission", id="permission"),
        pytest.param({"ring": "staging"}, "unknown_ring", id="unknown-ring"),
        pytest.param({"ring_state": history()}, "nothing_to_roll_back", id="nothing-deployed"),
        pytest.param(
            {"ring_state": history(live(ring="production"))},
            "nothing_to_roll_back",
            id="nothing-earlier",
        ),
    ],
)
def test_rollback_refuses(overrides: dict[str, Any], code: str) -> None:
    decision = rollback(**overrides)

    assert codes(decision) == [code]
    assert not decision.should_deploy


def test_a_rollback_already_under_way_deploys_nothing_more() -> None:
    state = history(
        in_ring(OLDER, "production", "in_progress"),
        live(RELEASE, ring="production", at=NOW - timedelta(hours=1)),
        live(OLDER, ring="production", at=NOW - timedelta(days=2)),
    )

    decision = rollback(ring_state=state)

    assert decision.already_done and not decision.should_deploy


# --- deployment protection rule -----------------------------------------------------------------


def protect(**kw: Any) -> bool:
    """May RELEASE be deployed to early-adopters? Internal has it live, signed off and baked."""
    fields: dict[str, Any] = {
        "config": DEFAULT_CONFIG,
        "ring": ring("early-adopters"),
        "sha": RELEASE,
        "previous": ring_state("internal", live()),
        "target_state": ring_state("early-adopters"),
        "signer_permissions": SIGNERS,
    }
    decision = protection(**(fields | kw))
    assert decision.comment.startswith("ringbot: ")
    return decision.approved


def protection(**f: Any) -> ProtectionDecision:
    """decide_protection_rule on a view of the ring and the one before it."""
    view = rings_view(
        f.get("previous"),
        f["target_state"],
        config=f.get("config", DEFAULT_CONFIG),
        others=f.get("elsewhere", ()),
        permissions=f.get("signer_permissions"),
        releases=frozenset({f["sha"]}) if f.get("sha_is_release") else frozenset(),
    )
    return decide_protection_rule(view, f["ring"], f["sha"])


@pytest.mark.parametrize(
    ("overrides", "approved"),
    [
        pytest.param({}, True, id="ring-rules-met"),
        pytest.param(
            {
                "previous": ring_state("internal"),
                "target_state": ring_state(
                    "early-adopters", in_ring(RELEASE, "early-adopters", "pending")
                ),
            },
            True,
            id="deployed-by-ringbot",
        ),
        pytest.param(
            {
                "previous": ring_state("internal"),
                "target_state": ring_state(
                    "early-adopters",
                    deployment(sha=RELEASE, creator=CD, statuses=()),
                ),
            },
            False,
            id="started-by-hand",
        ),
        pytest.param({"previous": ring_state("internal")}, False, id="not-in-previous"),
        pytest.param({"sha": NEWER}, False, id="another-release"),
        pytest.param(
            {"previous": ring_state("internal", live(signers=()))}, False, id="not-signed-off"
        ),
        pytest.param(
            {"previous": ring_state("internal", live(at=NOW - timedelta(hours=1)))},
            False,
            id="not-baked",
        ),
        pytest.param(
            {"previous": ring_state("internal", live(extra=(rejected_by(),)))},
            False,
            id="rejected",
        ),
        pytest.param(
            {
                "ring": ring("dev"),
                "previous": None,
                "target_state": ring_state("dev"),
                "sha_is_release": True,
            },
            True,
            id="first-ring",
        ),
        pytest.param(
            {"ring": ring("dev"), "previous": None, "target_state": ring_state("dev")},
            False,
            id="first-ring-not-a-release",
        ),
        pytest.param(
            {"previous": ring_state("internal", live(NEWER, foreign=True), live())},
            True,
            id="a-foreign-deploy-in-the-previous-ring-is-passed-over",
        ),
        pytest.param(
            {"previous": ring_state("internal", live(foreign=True))},
            False,
            id="only-a-foreign-deploy-in-the-previous-ring",
        ),
        pytest.param(
            {
                "ring": ring("dev"),
                "previous": None,
                "target_state": ring_state("dev", live(ring="dev", extra=(rejected_by(),))),
                "sha_is_release": True,
            },
            False,
            id="first-ring-rejected",
        ),
    ],
)
def test_the_protection_rule_approves_only_what_the_ring_rules_allow(
    overrides: dict[str, Any], approved: bool
) -> None:
    assert protect(**overrides) is approved


def test_the_protection_rule_says_why_it_refused() -> None:
    decision = protection(
        ring=ring("early-adopters"),
        sha=RELEASE,
        previous=ring_state("internal", live(signers=())),
        target_state=ring_state("early-adopters"),
        signer_permissions=SIGNERS,
    )

    assert decision.comment == "ringbot: needs 1 more sign-off in internal."


def test_an_automatic_entry_never_retries_a_failed_deploy() -> None:
    dev = DEFAULT_CONFIG.rings[0]
    failed = deployment(sha="a" * 40, statuses=(status(state="failure"),))
    decision = auto_entry(
        ring=dev, previous=None, target_state=ring_state("dev", failed), candidate_sha="a" * 40
    )
    assert not decision.should_deploy
    assert [r.code for r in decision.refusals] == ["failed"]


# --- separation of duty and the time a command was written ---------------------------------------


def with_signoff_not(name: str, who: frozenset[str]) -> Config:
    """The default config with `signoff.not` of one ring set to `who`."""
    rings = tuple(
        dataclasses.replace(r, signoff_not=who) if r.name == name else r
        for r in DEFAULT_CONFIG.rings
    )
    return dataclasses.replace(DEFAULT_CONFIG, rings=rings)


@pytest.mark.parametrize(
    ("overrides", "allowed"),
    [
        pytest.param({}, True, id="someone-else-wrote-the-changes"),
        pytest.param({"actor": "bob"}, False, id="the-author"),
        pytest.param({"actor": "BOB"}, False, id="the-author-in-another-case"),
        pytest.param({"release_authors": None}, False, id="authors-unknown-fails-closed"),
        pytest.param(
            {"actor": "bob", "config": with_signoff_not("internal", frozenset())},
            True,
            id="self-sign-off-allowed-by-config",
        ),
    ],
)
def test_a_sign_off_needs_someone_who_did_not_write_the_release(
    overrides: dict[str, Any], allowed: bool
) -> None:
    assert approve(**overrides).allowed is allowed


def test_a_promoter_may_not_sign_off_what_they_deployed_where_the_ring_says_so() -> None:
    config = with_signoff_not("internal", frozenset({"promoter"}))
    rings = (
        ring_state("dev", live(ring="dev", signers=())),
        ring_state("internal", live(ring="internal", signers=(), promoter="alice")),
    )
    decision = approve(config=config, ring="internal", rings=rings)
    assert [r.code for r in decision.refusals] == ["self_signoff"]


@pytest.mark.parametrize(
    ("written_at", "moved"),
    [
        pytest.param(None, False, id="no-time-given"),
        pytest.param(NOW, False, id="written-after-the-release-went-live"),
        pytest.param(LIVE - timedelta(hours=1), True, id="written-before-the-release-went-live"),
    ],
)
def test_a_command_acts_only_on_the_release_current_when_it_was_written(
    written_at: Any, moved: bool
) -> None:
    decision = approve(written_at=written_at)
    assert ("moved_on" in [r.code for r in decision.refusals]) is moved


def test_release_at_is_the_release_live_at_that_moment() -> None:
    older = live(OLDER, at=LIVE - timedelta(days=1))
    state = ring_state("internal", live(), older)
    assert release_at(state, BOT, LIVE - timedelta(hours=1)) == older
    assert release_at(state, BOT, LIVE) is not None and release_at(state, BOT, LIVE).sha == RELEASE
    assert release_at(state, BOT, LIVE - timedelta(days=2)) is None


# --- what a decision carries to write -----------------------------------------------------------


@pytest.mark.parametrize(
    ("signers", "baked_for", "retry_in"),
    [
        pytest.param((), timedelta(hours=1), None, id="a-sign-off-missing-too-waits-for-people"),
        pytest.param(("alice",), timedelta(hours=1), timedelta(hours=1), id="only-baking-left"),
        pytest.param(("alice",), timedelta(hours=3), None, id="baked-goes-now"),
    ],
)
def test_an_auto_ring_held_only_by_its_bake_time_says_when_to_look_again(
    signers: tuple[str, ...], baked_for: timedelta, retry_in: timedelta | None
) -> None:
    config = config_with("on-premises", approvals=1, bake=timedelta(hours=2))
    since = NOW - baked_for
    previous = ring_state(
        "production", live(ring="production", signers=signers, at=since), config=config
    )

    decision = on_premises(config=config, ring=ring("on-premises", config), previous=previous)

    assert decision.retry_at == (NOW + retry_in if retry_in is not None else None)


def test_a_rejection_marks_each_deployment_with_the_state_its_cd_gave_it() -> None:
    failed_in_early = in_ring(RELEASE, "early-adopters", "failure")
    rings = (*everywhere()[:2], ring_state("early-adopters", failed_in_early))

    decision = reject(rings=rings, ring="internal")

    assert {(m.deployment_id, m.state) for m in decision.marks} == {
        (rings[0].deployments[0].id, "success"),
        (rings[1].deployments[0].id, "success"),
        (failed_in_early.id, "failure"),
    }


def test_a_rejection_marks_the_releases_deployments_read_beyond_the_rings_too() -> None:
    beyond = ring_state("dev", live(ring="dev", signers=(), at=LIVE - timedelta(days=5)))
    view = rings_view(*everywhere(), others=(beyond,), contains=contained_in(*everywhere()[:2]))

    decision = decide_rejection(view, ask(Reject("internal", "breaks login")))

    assert beyond.deployments[0].id in decision.deployment_ids_to_mark


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        pytest.param(Promote("early-adopters"), Promotion, id="promote"),
        pytest.param(Approve("internal"), SignOffDecision, id="approve"),
        pytest.param(Reject("internal", "breaks login"), RejectionDecision, id="reject"),
        pytest.param(Rollback("internal"), Promotion, id="rollback"),
    ],
)
def test_each_ring_command_has_its_own_decision(command: Any, kind: type) -> None:
    view = rings_view(*everywhere(), contains=contained_in(*everywhere()))

    assert isinstance(decide(view, ask(command)), kind)
