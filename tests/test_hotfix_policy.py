"""The hotfix lane's pure decision, table-tested: every condition alone, and which release it takes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from bot.config import DEFAULT_CONFIG, HotfixConfig, parse_config
from bot.ledger import HotfixMark
from bot.models import Permission, Review
from bot.policy.hotfix import (
    GateRun,
    HotfixPull,
    HotfixView,
    counted_approvals,
    decide_hotfix,
)
from bot.policy.refusals import Code
from bot.policy.windows import RingFreeze

from .builders.rings import (
    NOW,
    OLDER,
    RELEASE,
    in_ring,
    live,
    rejected_by,
    ring_state,
    rings_view,
)

LANE = dataclasses.replace(DEFAULT_CONFIG, hotfix=HotfixConfig())
MERGED_AT = NOW - timedelta(hours=2)


def review(
    user: str, state: str = "APPROVED", *, perm: Permission = Permission.MAINTAIN, at: int = 0
) -> Review:
    return Review(user, state, "e" * 40, MERGED_AT - timedelta(hours=1, minutes=-at), perm, id=at)


APPROVED = (review("alice"), review("dave", at=1))


def pull(**kw: Any) -> HotfixPull:
    fields: dict[str, Any] = {
        "number": 7,
        "author": "bob",
        "head_sha": "e" * 40,
        "merged": True,
        "merge_commit_sha": RELEASE,
        "merged_at": MERGED_AT,
        "labels": frozenset({"Hotfix"}),
    }
    return HotfixPull(**(fields | kw))


GREEN = GateRun("completed", "success", MERGED_AT - timedelta(minutes=5))


def view(
    *,
    config: Any = LANE,
    dev: Any = None,
    production: Any = None,
    contains: dict[str, bool | None] | None = None,
    reviews: tuple[Review, ...] = APPROVED,
    gate: GateRun | None = GREEN,
    the_pull: HotfixPull | None = None,
    freezes: dict[str, RingFreeze] | None = None,
) -> HotfixView:
    dev = dev if dev is not None else live(RELEASE, ring="dev")
    states = [ring_state("dev", dev, config=config)]
    if production is not None:
        states.append(ring_state("production", production, config=config))
    rings = rings_view(
        *states, config=config, contains=contains if contains is not None else {RELEASE: True}
    )
    if freezes:
        rings = dataclasses.replace(rings, freezes=freezes)
    return HotfixView(rings, the_pull or pull(), reviews, gate)


def decide(v: HotfixView, *, by: str = "erin", perm: Permission = Permission.MAINTAIN) -> Any:
    return decide_hotfix(v, "production", by, perm)


def test_every_condition_holding_deploys_the_release_live_in_dev_with_its_mark() -> None:
    decision = decide(view())
    assert decision.allowed and decision.should_deploy and decision.sha == RELEASE
    assert decision.source is not None and decision.source.name == "dev"
    assert decision.mark == HotfixMark("erin", ("alice", "dave"), 7)


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        pytest.param({"config": DEFAULT_CONFIG}, Code.HOTFIX_OFF, "add `hotfix:`", id="off"),
        pytest.param(
            {"the_pull": pull(labels=frozenset())}, Code.HOTFIX_LABEL, "label", id="label"
        ),
        pytest.param({"reviews": APPROVED[:1]}, Code.HOTFIX_APPROVALS, "1 more", id="too-few"),
        pytest.param(
            {"reviews": (APPROVED[0], review("bob", at=2))},
            Code.HOTFIX_APPROVALS,
            "@bob wrote it",
            id="author",
        ),
        pytest.param(
            {"reviews": (APPROVED[0], review("carol", perm=Permission.WRITE, at=2))},
            Code.HOTFIX_APPROVALS,
            "@carol has write access",
            id="writer",
        ),
        pytest.param(
            {"reviews": (*APPROVED, review("dave", "CHANGES_REQUESTED", at=5))},
            Code.HOTFIX_APPROVALS,
            "1 more",
            id="approval-withdrawn",
        ),
        pytest.param({"gate": None}, Code.GATE_NOT_GREEN, "never ran", id="no-gate"),
        pytest.param(
            {"gate": GateRun("completed", "failure", MERGED_AT)},
            Code.GATE_NOT_GREEN,
            "it was failure",
            id="red-gate",
        ),
        pytest.param(
            {"gate": GateRun("in_progress", None)},
            Code.GATE_NOT_GREEN,
            "it was in progress",
            id="pending-gate",
        ),
        pytest.param(
            {"gate": GateRun("completed", "success", MERGED_AT + timedelta(minutes=1))},
            Code.GATE_NOT_GREEN,
            "only after",
            id="green-after-merge",
        ),
        pytest.param(
            {"dev": live(RELEASE, ring="dev", extra=(rejected_by("carol", "eats data"),))},
            Code.REJECTED,
            "rejected by @carol: eats data",
            id="rejected",
        ),
        pytest.param({"contains": {RELEASE: False}}, Code.NOT_LIVE, "no ring", id="not-live"),
        pytest.param({"contains": {RELEASE: None}}, Code.NOT_CONTAINED, "could not", id="unknown"),
        pytest.param(
            {"the_pull": pull(merged=False, merge_commit_sha=None)},
            Code.NOT_MERGED,
            "not merged",
            id="open",
        ),
        pytest.param(
            {"freezes": {"production": RingFreeze("alice", "incident", NOW - timedelta(hours=1))}},
            Code.CLOSED,
            "during_freeze",
            id="frozen",
        ),
    ],
)
def test_each_condition_alone_is_one_refusal(
    changes: dict[str, Any], code: Code, words: str
) -> None:
    decision = decide(view(**changes))
    assert [r.code for r in decision.refusals] == [code]
    refusal = decision.refusals[0]
    assert words in refusal.message + " " + refusal.hint
    assert not decision.should_deploy


def test_an_asker_without_promoters_is_refused() -> None:
    decision = decide(view(), by="carol", perm=Permission.WRITE)
    assert [r.code for r in decision.refusals] == [Code.PERMISSION]
    assert "@carol has write" in decision.refusals[0].message


def test_during_freeze_lets_a_hotfix_into_a_frozen_ring() -> None:
    config = dataclasses.replace(LANE, hotfix=HotfixConfig(during_freeze=True))
    frozen = {"production": RingFreeze("alice", "incident", NOW - timedelta(hours=1))}
    assert decide(view(config=config, freezes=frozen)).should_deploy


def test_an_unknown_ring_is_refused() -> None:
    decision = decide_hotfix(view(), "prod", "erin", Permission.MAINTAIN)
    assert [r.code for r in decision.refusals] == [Code.UNKNOWN_RING]


def test_a_release_already_in_the_ring_deploys_nothing() -> None:
    decision = decide(view(production=live(RELEASE, ring="production")))
    assert decision.allowed and decision.already_done and not decision.should_deploy


def test_a_release_on_its_way_into_the_ring_deploys_nothing() -> None:
    on_its_way = in_ring(RELEASE, "production", "in_progress")
    decision = decide(view(production=on_its_way))
    assert decision.allowed and decision.already_done


def test_the_highest_ring_holding_the_pull_request_gives_the_release() -> None:
    # production runs an older release without the fix; dev's release carries it.
    decision = decide(
        view(production=live(OLDER, ring="production"), contains={OLDER: False, RELEASE: True})
    )
    assert decision.should_deploy and decision.sha == RELEASE


def test_commented_reviews_do_not_replace_an_approval() -> None:
    reviews = (*APPROVED, review("dave", "COMMENTED", at=9))
    counted, notes = counted_approvals(reviews, "bob", Permission.MAINTAIN)
    assert counted == ("alice", "dave") and notes == ()


def test_config_reads_the_hotfix_keys_with_defaults() -> None:
    config = parse_config("hotfix:\n  approvals: 1\n  during_freeze: true\n")
    assert not hasattr(config, "errors")
    assert config.hotfix == HotfixConfig(approvals=1, during_freeze=True)  # type: ignore[union-attr]
    assert parse_config("hotfix:\n").hotfix == HotfixConfig()  # type: ignore[union-attr]
    assert parse_config("rings:\n  - name: dev\n").hotfix is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("hotfix:\n  lable: hotfix\n", "hotfix.lable: unknown key 'lable'; did you mean 'label'?"),
        ("hotfix:\n  approvals: 0\n", "hotfix.approvals"),
        ("hotfix:\n  promoters: maintainer\n", "did you mean 'maintain'?"),
        ("hotfix:\n  during_freeze: sometimes\n", "hotfix.during_freeze: expected true or false"),
        ("hotfix:\n  label: ''\n", "hotfix.label"),
        ("hotfix: [label]\n", "hotfix: expected a mapping"),
    ],
)
def test_config_errors_name_the_field_and_line(text: str, words: str) -> None:
    found = parse_config(text)
    errors = getattr(found, "errors", ())
    rendered = [str(e) for e in errors]
    assert any(words in e for e in rendered), rendered
    assert all(e.line is not None and e.line >= 1 for e in errors)
