"""Sign-off rules (`signoff.teams` and `signoff.not`) as tables: what counts, what is refused and
what the reply says is still missing."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.commands import Approve, Promote
from bot.config import Config
from bot.models import Permission
from bot.policy.rings import (
    RingsView,
    decide_promotion,
    decide_signoff,
    missing_signoffs,
)
from bot.policy.signoff import Shortfall, TeamNeed, membership_key, needs_text, shortfall

from .builders.rings import (
    RELEASE,
    ask,
    config_with,
    contained_in,
    live,
    ring,
    ring_state,
    rings_view,
)

QA = "acme/qa"
SEC = "acme/sec"


def teams_config(*teams: tuple[str, int], approvals: int = 1, **changes: Any) -> Config:
    """The default rings, with internal asking `teams` before early-adopters (`approvals`)."""
    config = config_with("internal", signoff_teams=tuple(teams), **changes)
    rings = tuple(
        dataclasses.replace(r, approvals=approvals) if r.name == "early-adopters" else r
        for r in config.rings
    )
    return dataclasses.replace(config, rings=rings)


def members(**teams: tuple[str, ...]) -> dict[tuple[str, str], bool | None]:
    """qa=("carol",) -> carol is in acme/qa; everyone else named anywhere is not."""
    return {
        membership_key(f"acme/{team}", login): True
        for team, logins in teams.items()
        for login in logins
    }


def view_of(
    config: Config,
    signers: tuple[str, ...],
    memberships: dict[tuple[str, str], bool | None],
    **kw: Any,
) -> RingsView:
    previous = ring_state("internal", live(signers=signers), config=config)
    target = ring_state("early-adopters", config=config)
    view = rings_view(
        previous,
        target,
        config=config,
        contains=contained_in(previous),
        authors=kw.pop("authors", {RELEASE: frozenset({"bob"})}),
        permissions=kw.pop("permissions", None),
    )
    return dataclasses.replace(view, memberships=memberships, **kw)


def not_members(
    *logins: str, teams: tuple[str, ...] = (QA, SEC)
) -> dict[tuple[str, str], bool | None]:
    return {membership_key(team, login): False for team in teams for login in logins}


# --- how many more, from whom -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("teams", "approvals", "signers", "in_qa", "in_sec", "expected"),
    [
        pytest.param((), 1, (), (), (), Shortfall(1), id="no-teams-nobody-yet"),
        pytest.param((), 1, ("alice",), (), (), Shortfall(0), id="no-teams-met"),
        pytest.param(((QA, 1),), 1, (), (), (), Shortfall(1, (TeamNeed(QA, 1),)), id="qa-nobody"),
        pytest.param(
            ((QA, 1),), 1, ("alice",), (), (), Shortfall(0, (TeamNeed(QA, 1),)), id="qa-outsider"
        ),
        pytest.param(((QA, 1),), 1, ("carol",), ("carol",), (), Shortfall(0), id="qa-member"),
        pytest.param(
            ((QA, 2),),
            1,
            ("carol",),
            ("carol",),
            (),
            Shortfall(0, (TeamNeed(QA, 1),)),
            id="qa-two-of-them",
        ),
        pytest.param(
            ((QA, 1), (SEC, 1)),
            1,
            ("carol",),
            ("carol",),
            ("carol",),
            Shortfall(0),
            id="one-person-in-both-teams",
        ),
        pytest.param(
            ((QA, 1), (SEC, 1)),
            2,
            ("carol",),
            ("carol",),
            (),
            Shortfall(1, (TeamNeed(SEC, 1),)),
            id="one-team-left",
        ),
        pytest.param(
            ((QA, 1),),
            3,
            ("carol", "CAROL"),
            ("carol",),
            (),
            Shortfall(2),
            id="one-person-counts-once",
        ),
    ],
)
def test_what_a_release_still_needs(
    teams: tuple[tuple[str, int], ...],
    approvals: int,
    signers: tuple[str, ...],
    in_qa: tuple[str, ...],
    in_sec: tuple[str, ...],
    expected: Shortfall,
) -> None:
    config = teams_config(*teams)
    memberships = {**not_members(*signers), **members(qa=in_qa, sec=in_sec)}
    assert shortfall(ring("internal", config), approvals, signers, memberships) == expected


def test_a_membership_not_read_is_not_counted_and_named() -> None:
    config = teams_config((QA, 1))
    need = shortfall(ring("internal", config), 1, ("carol",), {})
    assert need == Shortfall(0, (TeamNeed(QA, 1, ("carol",)),))


@pytest.mark.parametrize(
    ("need", "text"),
    [
        pytest.param(Shortfall(1), "needs 1 more sign-off in dev", id="one"),
        pytest.param(Shortfall(2), "needs 2 more sign-offs in dev", id="two"),
        pytest.param(
            Shortfall(1, (TeamNeed(QA, 1),)),
            "needs 1 more sign-off from a member of @acme/qa in dev",
            id="one-from-a-team",
        ),
        pytest.param(
            Shortfall(0, (TeamNeed(QA, 2),)),
            "needs 2 more sign-offs from members of @acme/qa in dev",
            id="two-from-a-team",
        ),
        pytest.param(
            Shortfall(1, (TeamNeed(QA, 1), TeamNeed(SEC, 2))),
            "needs 1 more sign-off from a member of @acme/qa and 2 more from members of "
            "@acme/sec in dev",
            id="two-teams",
        ),
        pytest.param(
            Shortfall(3, (TeamNeed(QA, 1),)),
            "needs 3 more sign-offs in dev, including 1 more sign-off from a member of @acme/qa",
            id="more-than-the-teams-ask",
        ),
    ],
)
def test_what_is_missing_is_said_in_words(need: Shortfall, text: str) -> None:
    assert needs_text(need, "dev") == text


# --- /promote -----------------------------------------------------------------------------------


def promote(view: RingsView, **kw: Any) -> list[str]:
    decision = decide_promotion(view, ask(Promote("early-adopters"), **kw))
    return [r.message for r in decision.refusals]


@pytest.mark.parametrize(
    ("teams", "approvals", "signers", "memberships", "refused"),
    [
        pytest.param(((QA, 1),), 1, ("carol",), members(qa=("carol",)), [], id="member-signed"),
        pytest.param(
            ((QA, 1),),
            1,
            ("alice",),
            not_members("alice"),
            ["needs 1 more sign-off from a member of @acme/qa in internal"],
            id="outsider-signed",
        ),
        pytest.param(
            ((QA, 1),),
            1,
            ("carol",),
            not_members("carol"),
            ["needs 1 more sign-off from a member of @acme/qa in internal"],
            id="member-left-the-team",
        ),
        pytest.param(
            ((QA, 1),),
            2,
            ("carol",),
            members(qa=("carol",)),
            ["needs 1 more sign-off in internal"],
            id="team-met-approvals-not",
        ),
        pytest.param(
            ((QA, 1),),
            0,
            (),
            {},
            ["needs 1 more sign-off from a member of @acme/qa in internal"],
            id="teams-hold-when-approvals-is-0",
        ),
        pytest.param(
            ((QA, 1),),
            1,
            ("carol",),
            {},
            [
                "needs 1 more sign-off from a member of @acme/qa in internal (could not read "
                "whether @carol in @acme/qa: ringbot needs Members: read)"
            ],
            id="membership-unreadable",
        ),
    ],
)
def test_a_promotion_counts_sign_offs_as_the_rule_says(
    teams: tuple[tuple[str, int], ...],
    approvals: int,
    signers: tuple[str, ...],
    memberships: dict[tuple[str, str], bool | None],
    refused: list[str],
) -> None:
    config = teams_config(*teams, approvals=approvals)
    assert promote(view_of(config, signers, memberships)) == refused


def test_a_sign_off_by_someone_who_became_an_author_no_longer_counts() -> None:
    config = teams_config()
    view = view_of(config, ("carol",), {}, authors={RELEASE: frozenset({"bob", "carol"})})
    assert promote(view) == [
        "needs 1 more sign-off in internal (@carol: wrote a pull request in it, not counted)"
    ]


def test_authors_that_cannot_be_read_at_promotion_keep_the_recorded_sign_offs() -> None:
    view = view_of(teams_config(), ("carol",), {}, authors={RELEASE: None})
    assert promote(view) == []


def test_without_not_author_an_authors_sign_off_counts() -> None:
    config = teams_config(signoff_not=frozenset())
    view = view_of(config, ("carol",), {}, authors={RELEASE: frozenset({"carol"})})
    assert promote(view) == []


def test_the_hint_names_the_team() -> None:
    config = teams_config((QA, 1))
    decision = decide_promotion(view_of(config, (), {}), ask(Promote("early-adopters")))
    assert [r.hint for r in decision.refusals] == [
        "a member of @acme/qa comments `/approve internal`"
    ]


# --- /approve -----------------------------------------------------------------------------------


def approve(view: RingsView, actor: str, permission: Permission = Permission.WRITE) -> Any:
    return decide_signoff(view, ask(Approve("internal"), actor=actor, permission=permission))


@pytest.mark.parametrize(
    ("approvals", "signers", "actor", "memberships", "codes", "missing"),
    [
        pytest.param(1, (), "carol", members(qa=("carol",)), [], "", id="member"),
        pytest.param(
            1,
            (),
            "dave",
            not_members("dave"),
            ["not_in_team"],
            "needs 1 more sign-off from a member of @acme/qa in internal",
            id="outsider-brings-nothing",
        ),
        pytest.param(
            2,
            (),
            "dave",
            not_members("dave"),
            [],
            "needs 1 more sign-off from a member of @acme/qa in internal",
            id="outsider-while-approvals-asks-for-more",
        ),
        pytest.param(
            2,
            ("erin",),
            "dave",
            not_members("dave", "erin"),
            ["not_in_team"],
            "needs 1 more sign-off from a member of @acme/qa in internal",
            id="second-outsider-brings-nothing",
        ),
        pytest.param(
            1,
            ("carol",),
            "dave",
            {**members(qa=("carol",)), **not_members("dave")},
            [],
            "",
            id="outsider-after-the-rule-is-met",
        ),
        pytest.param(
            2,
            (),
            "carol",
            members(qa=("carol",)),
            [],
            "needs 1 more sign-off in internal",
            id="member-when-more-people-are-asked-for",
        ),
        pytest.param(
            1,
            (),
            "dave",
            {},
            ["not_in_team"],
            "needs 1 more sign-off from a member of @acme/qa in internal",
            id="membership-unreadable",
        ),
    ],
)
def test_a_sign_off_in_a_team_ring(
    approvals: int,
    signers: tuple[str, ...],
    actor: str,
    memberships: dict[tuple[str, str], bool | None],
    codes: list[str],
    missing: str,
) -> None:
    config = teams_config((QA, 1), approvals=approvals)
    decision = approve(view_of(config, signers, memberships), actor)
    assert [r.code for r in decision.refusals] == codes
    assert (missing in decision.missing) if missing else decision.missing == ""


def test_an_outsiders_refusal_says_who_is_missing() -> None:
    config = teams_config((QA, 1))
    decision = approve(view_of(config, (), not_members("dave")), "dave")
    assert [(r.message, r.hint) for r in decision.refusals] == [
        (
            "@dave is not a member of @acme/qa, and the release needs 1 more sign-off from a "
            "member of @acme/qa in internal",
            "a member of @acme/qa comments `/approve internal`",
        )
    ]


def test_a_ring_without_teams_says_how_many_are_still_missing() -> None:
    config = teams_config(approvals=2)
    decision = approve(view_of(config, (), {}), "dave")
    assert decision.allowed and decision.missing == "needs 1 more sign-off in internal"


def test_an_author_in_the_team_is_still_refused() -> None:
    config = teams_config((QA, 1))
    decision = approve(view_of(config, (), members(qa=("bob",))), "bob")
    assert [r.code for r in decision.refusals] == ["self_signoff"]


# --- the status table ---------------------------------------------------------------------------


def test_the_tables_say_what_each_ring_still_needs() -> None:
    config = teams_config((QA, 1))
    view = view_of(config, ("alice",), not_members("alice"))
    assert missing_signoffs(view) == {"internal": "needs 1 more sign-off from a member of @acme/qa"}
    view = view_of(config, ("carol",), members(qa=("carol",)))
    assert missing_signoffs(view) == {}
