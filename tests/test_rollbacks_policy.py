"""Rollbacks that stay, `/rollback <ring> to <sha>`, `/promote <first ring>` after a rollback,
and the rules a `/promote --dry-run` lays out: pure decisions, table-tested."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.commands import Promote, Rollback
from bot.config import DEFAULT_CONFIG
from bot.ledger import DeploymentRecord, RingState, rollback_hold
from bot.models import Permission
from bot.policy.dry_run import decide_dry_run, flag_changes, rule_results
from bot.policy.features import RECORD_VARIABLE
from bot.policy.refusals import Code, Refusal
from bot.policy.rings import Promotion, decide_auto_entry, decide_promotion, decide_rollback
from bot.policy.visibility import CommitNode, History, MergedPull

from .builders.features import features_config
from .builders.rings import (
    BOT,
    CD,
    NEWER,
    NOW,
    OLDER,
    OLDEST,
    RELEASE,
    ask,
    in_ring,
    live,
    rejected_by,
    ring,
    ring_state,
    rings_view,
)


def codes(decision: Promotion) -> list[str]:
    return [r.code for r in decision.refusals]


def rolled_back(sha: str = OLDER, ring: str = "dev", **kw: Any) -> DeploymentRecord:
    """ringbot's `/rollback by @alice` deployment of `sha`, live an hour ago."""
    fields: dict[str, Any] = {"promoter": "alice", "rollback": True, "at": NOW - timedelta(hours=1)}
    return live(sha, ring=ring, signers=(), **(fields | kw))


def dev(*deployments: DeploymentRecord) -> RingState:
    return ring_state("dev", *deployments)


# The release rolled back from, live in dev for a day before the rollback.
ROLLED_FROM = live(RELEASE, ring="dev", at=NOW - timedelta(days=1), signers=())


# --- the hold -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "held"),
    [
        pytest.param(dev(), False, id="nothing-deployed"),
        pytest.param(dev(ROLLED_FROM), False, id="no-rollback"),
        pytest.param(dev(rolled_back(), ROLLED_FROM), True, id="rolled-back"),
        pytest.param(
            dev(in_ring(OLDER, "dev", "in_progress"), ROLLED_FROM),
            False,
            id="an-automatic-deploy-is-no-rollback",
        ),
        pytest.param(
            dev(
                DeploymentRecord(
                    99,
                    OLDER,
                    "dev",
                    NOW,
                    BOT,
                    in_ring(OLDER, "dev", "in_progress").statuses,
                    promoter="alice",
                    rollback=True,
                ),
                ROLLED_FROM,
            ),
            True,
            id="rollback-on-its-way",
        ),
        pytest.param(
            dev(
                DeploymentRecord(
                    99,
                    OLDER,
                    "dev",
                    NOW,
                    BOT,
                    in_ring(OLDER, "dev", "failure").statuses,
                    promoter="alice",
                    rollback=True,
                ),
                ROLLED_FROM,
            ),
            True,
            id="rollback-failed",
        ),
        pytest.param(
            dev(live(NEWER, ring="dev", at=NOW, promoter="bob"), rolled_back(), ROLLED_FROM),
            False,
            id="a-person-promoted-since",
        ),
        pytest.param(
            dev(in_ring(NEWER, "dev", "in_progress"), rolled_back(), ROLLED_FROM),
            True,
            id="an-automatic-entry-since-does-not-lift-it",
        ),
        pytest.param(
            dev(rolled_back(creator=CD), ROLLED_FROM),
            False,
            id="forged-by-someone-else",
        ),
        pytest.param(
            dev(live(NEWER, ring="dev", at=NOW, creator=CD), rolled_back(), ROLLED_FROM),
            True,  # a deploy around ringbot lifts nothing: only a person's `/promote` does
            id="a-release-live-since-around-ringbot-lifts-nothing",
        ),
    ],
)
def test_a_rollback_holds_the_ring_until_a_person_promotes(state: RingState, held: bool) -> None:
    assert (rollback_hold(state, BOT) is not None) is held


def test_the_first_ring_stays_put_after_a_rollback() -> None:
    view = rings_view(dev(rolled_back(), ROLLED_FROM), green_head=NEWER)
    decision = decide_auto_entry(view, ring("dev"))
    assert codes(decision) == [Code.ROLLED_BACK] and not decision.should_deploy
    assert "/promote dev" in decision.refusals[0].hint


def test_a_later_automatic_ring_stays_put_after_a_rollback() -> None:
    production = ring_state("production", live(NEWER, ring="production"))
    onprem = ring_state(
        "on-premises",
        rolled_back(ring="on-premises"),
        live(RELEASE, ring="on-premises", at=NOW - timedelta(days=1)),
    )
    view = rings_view(production, onprem)
    decision = decide_auto_entry(view, ring("on-premises"))
    assert codes(decision) == [Code.ROLLED_BACK] and not decision.should_deploy


def test_without_a_rollback_the_first_ring_takes_the_green_head() -> None:
    view = rings_view(dev(ROLLED_FROM), green_head=NEWER)
    assert decide_auto_entry(view, ring("dev")).sha == NEWER


# --- /promote <first ring> ----------------------------------------------------------------------


def promote_dev(**kw: Any) -> Promotion:
    """`/promote dev` by a writer, dev rolled back, the green head NEWER holding the PR."""
    fields: dict[str, Any] = {
        "state": dev(rolled_back(), ROLLED_FROM),
        "green_head": NEWER,
        "contained": True,
        "permission": Permission.WRITE,
        "merged": True,
        "others": (),
    }
    f = fields | kw
    view = rings_view(
        f["state"],
        green_head=f["green_head"],
        merged=f["merged"],
        contains={f["green_head"]: f["contained"]} if f["green_head"] else {},
        others=f["others"],
    )
    return decide_promotion(view, ask(Promote("dev"), permission=f["permission"]))


def test_a_person_promotes_the_green_head_into_a_rolled_back_first_ring() -> None:
    decision = promote_dev()
    assert decision.should_deploy and decision.sha == NEWER


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"state": dev(ROLLED_FROM)}, [Code.FIRST_RING], id="not-held"),
        pytest.param({"green_head": None}, [Code.NO_CANDIDATE], id="head-not-green"),
        pytest.param({"contained": False}, [Code.NOT_CONTAINED], id="not-in-the-head"),
        pytest.param({"contained": None}, [Code.NOT_CONTAINED], id="unknown"),
        pytest.param({"merged": False}, [Code.NOT_MERGED], id="unmerged"),
        pytest.param({"permission": Permission.READ}, [Code.PERMISSION], id="reader"),
        pytest.param(
            {"others": (ring_state("internal", live(NEWER, extra=(rejected_by(),))),)},
            [Code.REJECTED],
            id="head-rejected",
        ),
    ],
)
def test_promoting_into_the_first_ring_refuses(
    overrides: dict[str, Any], expected: list[str]
) -> None:
    decision = promote_dev(**overrides)
    assert set(codes(decision)) == set(expected)
    assert not decision.should_deploy


def test_promoting_the_head_already_in_the_first_ring_deploys_nothing() -> None:
    state = dev(in_ring(NEWER, "dev", "in_progress"), rolled_back(), ROLLED_FROM)
    decision = promote_dev(state=state)
    assert decision.already_done and not decision.should_deploy


# --- /rollback <ring> to <sha> ------------------------------------------------------------------

PRODUCTION = ring_state(
    "production",
    live(RELEASE, ring="production", at=NOW - timedelta(hours=1)),
    in_ring(NEWER, "production", "failure", at=NOW - timedelta(days=1)),
    live(OLDER, ring="production", at=NOW - timedelta(days=2)),
    live(OLDEST, ring="production", at=NOW - timedelta(days=4), extra=(rejected_by(),)),
)


def rollback_to(to: str, state: RingState = PRODUCTION, **kw: Any) -> Promotion:
    view = rings_view(state, contains={RELEASE: True})
    command = Rollback("production", to=to)
    return decide_rollback(view, ask(command, permission=kw.get("permission", Permission.MAINTAIN)))


@pytest.mark.parametrize(
    "to", [pytest.param(OLDER, id="full"), pytest.param(OLDER[:7], id="short")]
)
def test_rollback_to_a_named_release_that_was_live_there(to: str) -> None:
    decision = rollback_to(to)
    assert decision.should_deploy and decision.sha == OLDER


@pytest.mark.parametrize(
    ("to", "state", "code"),
    [
        pytest.param("1234567", PRODUCTION, Code.NEVER_LIVE, id="never-deployed-there"),
        pytest.param(NEWER[:8], PRODUCTION, Code.NEVER_LIVE, id="deployed-but-failed"),
        pytest.param(OLDEST[:7], PRODUCTION, Code.REJECTED, id="rejected"),
        pytest.param(
            "c0ffee0",
            ring_state(
                "production",
                live(RELEASE, ring="production", at=NOW - timedelta(hours=1)),
                live("c0ffee0" + "1" * 33, ring="production", at=NOW - timedelta(days=2)),
            ),
            Code.AMBIGUOUS_SHA,
            id="ambiguous",
        ),
        pytest.param(
            OLDER[:7],
            ring_state(
                "production",
                live(RELEASE, ring="production", at=NOW - timedelta(hours=1)),
                live(OLDER, ring="production", at=NOW - timedelta(days=2), foreign=True),
            ),
            Code.NEVER_LIVE,
            id="foreign",
        ),
    ],
)
def test_rollback_to_refuses(to: str, state: RingState, code: str) -> None:
    decision = rollback_to(to, state)
    assert codes(decision) == [code] and not decision.should_deploy
    assert decision.refusals[0].hint


def test_rollback_to_needs_permission_too() -> None:
    decision = rollback_to(OLDER, permission=Permission.WRITE)
    assert codes(decision) == [Code.PERMISSION]


def test_rollback_to_the_current_release_deploys_nothing() -> None:
    decision = rollback_to(RELEASE[:10])
    assert decision.already_done and not decision.should_deploy and decision.allowed


# --- the dry run's rules ------------------------------------------------------------------------


def dry_view(**kw: Any) -> Any:
    """`/promote early-adopters`: the release live, signed off and baked in internal."""
    fields: dict[str, Any] = {
        "previous": ring_state("internal", live()),
        "target": ring_state("early-adopters", live(OLDER, ring="early-adopters")),
        "merged": True,
        "contained": True,
    }
    f = fields | kw
    return rings_view(
        f["previous"], f["target"], merged=f["merged"], contains={RELEASE: f["contained"]}
    )


def marks(view: Any, permission: Permission = Permission.WRITE) -> list[str]:
    """Each rule as ✅, ❌ or ➖, in order."""
    command = ask(Promote("early-adopters", dry_run=True), permission=permission)
    promotion = decide_promotion(view, command)
    results = rule_results(view, command, promotion)
    return ["❌" if r.refusal else "➖" if r.skipped else "✅" for r in results]


@pytest.mark.parametrize(
    ("view", "permission", "expected"),
    [
        pytest.param(dry_view(), Permission.WRITE, ["✅"] * 8, id="all-hold"),
        pytest.param(dry_view(), Permission.READ, ["❌"] + ["✅"] * 7, id="reader"),
        pytest.param(
            dry_view(previous=ring_state("internal", live(signers=()))),
            Permission.WRITE,
            ["✅"] * 6 + ["❌", "✅"],
            id="needs-signoff",
        ),
        pytest.param(
            dry_view(previous=ring_state("internal", live(at=NOW - timedelta(hours=2)))),
            Permission.WRITE,
            ["✅"] * 7 + ["❌"],
            id="baking",
        ),
        pytest.param(
            dry_view(previous=ring_state("internal", live(extra=(rejected_by(),)))),
            Permission.WRITE,
            ["✅"] * 5 + ["❌", "➖", "➖"],
            id="rejected",
        ),
        pytest.param(
            dry_view(merged=False),
            Permission.WRITE,
            ["✅", "❌", "➖", "➖", "➖", "➖", "➖", "➖"],
            id="unmerged",
        ),
        pytest.param(
            dry_view(previous=ring_state("internal")),
            Permission.WRITE,
            ["✅", "✅", "❌", "➖", "➖", "➖", "➖", "➖"],
            id="nothing-live-before",
        ),
        pytest.param(
            dry_view(target=ring_state("early-adopters", live(ring="early-adopters"))),
            Permission.WRITE,
            ["✅"] * 5 + ["➖"] * 3,
            id="already-there",
        ),
    ],
)
def test_a_dry_run_marks_every_rule(view: Any, permission: Permission, expected: list[str]) -> None:
    assert marks(view, permission) == expected


def test_a_refusal_no_rule_names_is_listed_as_its_own_rule() -> None:
    view = dry_view()
    command = ask(Promote("early-adopters", dry_run=True))
    extra = Refusal(Code.MANUAL, "something new", "do something")
    promotion = Promotion(ring("early-adopters"), RELEASE, 1, (extra,))
    results = rule_results(view, command, promotion)
    assert results[-1].rule == "something new" and results[-1].refusal == extra


def test_a_dry_run_lists_the_pull_requests_and_flag_changes() -> None:
    config = features_config({"new-grid": ("dev", "internal", "early-adopters")})
    view = rings_view(
        ring_state("internal", live(), config=config),
        ring_state("early-adopters", live(OLDER, ring="early-adopters"), config=config),
        config=config,
        contains={RELEASE: True},
    )
    history = History(
        [
            CommitNode(RELEASE, (NEWER,)),
            CommitNode(NEWER, (OLDER,)),
            CommitNode(OLDER, (OLDEST,)),
            CommitNode(OLDEST),
        ]
    )
    pulls = [
        MergedPull(3, "third", "bob", RELEASE),
        MergedPull(2, "second", "carol", NEWER),
        MergedPull(1, "first", "dave", OLDER),
    ]
    variables = {"FEATURE_NEW_GRID": "false"}
    dry = decide_dry_run(
        view,
        ask(Promote("early-adopters", dry_run=True)),
        history=history,
        pulls=pulls,
        variables=variables,
    )
    assert dry.promotion.should_deploy
    assert dry.shipping is not None and [p.number for p in dry.shipping.pulls] == [2, 3]
    assert dry.flags is not None
    assert [(f.variable, f.before, f.after) for f in dry.flags] == [
        ("FEATURE_NEW_GRID", "false", "true")
    ]


def test_a_ring_without_flags_has_no_flag_changes() -> None:
    assert flag_changes(DEFAULT_CONFIG, ring("internal"), {}, NOW) is None


def test_the_record_variable_is_not_a_flag_change() -> None:
    config = features_config()
    changes = flag_changes(config, ring("dev", config), None, NOW)
    assert changes is not None
    assert all(c.variable != RECORD_VARIABLE for c in changes)
    assert all(c.variable.startswith("FEATURE_") for c in changes)


def test_the_dry_run_reply_marks_each_rule_and_says_nothing_was_written() -> None:
    from bot.messages.dry_run import NOTHING_WRITTEN, render_dry_run

    view = dry_view(previous=ring_state("internal", live(extra=(rejected_by(),))))
    dry = decide_dry_run(view, ask(Promote("early-adopters", dry_run=True)))
    text = render_dry_run(dry)
    assert "would be refused" in text
    assert "- ❌ the release is not rejected: `c0ffee0` was rejected by @dave" in text
    assert "- ➖ 1 sign-off in internal (not checked: a rejected release never moves)" in text
    assert text.endswith(NOTHING_WRITTEN)
