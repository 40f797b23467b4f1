"""The merge-gate policy: each rule alone and in combination, from parametrized tables."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bot.config import DEFAULT_CONFIG, ConfigError, ConfigErrors, MergeGateConfig
from bot.models import Check, Mark, Permission, Review
from bot.policy.gate import GATE_CHECK_NAME, GateDecision, Requirement, evaluate_gate

from .builders.gate_inputs import (
    OLD,
    T0,
    T1,
    T2,
    check,
    commit_status,
    config_errors,
    gate_config,
    gate_input,
    pull,
    review,
)


def requirement_of(decision: GateDecision, key: str) -> Requirement:
    """The one requirement with this key."""
    (found,) = [r for r in decision.requirements if r.key == key]
    return found


def test_defaults_pass() -> None:
    decision = evaluate_gate(gate_input())
    assert decision == GateDecision(
        status="completed",
        conclusion="success",
        title="Ready to merge",
        requirements=(
            Requirement("draft", "Draft", Mark.PASS, "ready for review"),
            Requirement("labels", "Labels", Mark.PASS, "no blocking labels"),
            Requirement("checks", "Builds", Mark.PASS, "`build` passed"),
            Requirement("approvals", "Approvals", Mark.PASS, "approved by @alice"),
            Requirement(
                "changes_requested",
                "Changes requested",
                Mark.PASS,
                "no outstanding change requests",
            ),
        ),
    )
    assert GATE_CHECK_NAME == "ringbot/merge-gate"


def test_default_config_is_the_one_in_the_spec() -> None:
    settings = DEFAULT_CONFIG.merge_gate
    assert isinstance(settings, MergeGateConfig)
    assert settings.approvals == 1
    assert settings.required_checks == ()
    assert settings.dismiss_stale_approvals is False
    assert settings.blocking_labels == ("do-not-merge", "hold")


# --- rule 1: draft and blocking labels -------------------------------------------------------


@pytest.mark.parametrize(
    ("pull_overrides", "gate_settings", "key", "mark", "detail"),
    [
        pytest.param({}, {}, "draft", Mark.PASS, "ready for review", id="ready"),
        pytest.param(
            {"draft": True},
            {},
            "draft",
            Mark.FAIL,
            "this pull request is a draft: mark it ready for review",
            id="draft",
        ),
        pytest.param({}, {}, "labels", Mark.PASS, "no blocking labels", id="no-labels"),
        pytest.param(
            {"labels": frozenset({"bug", "enhancement"})},
            {},
            "labels",
            Mark.PASS,
            "no blocking labels",
            id="harmless-labels",
        ),
        pytest.param(
            {"labels": frozenset({"hold"})},
            {},
            "labels",
            Mark.FAIL,
            "remove the label `hold`",
            id="hold",
        ),
        pytest.param(
            {"labels": frozenset({"do-not-merge"})},
            {},
            "labels",
            Mark.FAIL,
            "remove the label `do-not-merge`",
            id="do-not-merge",
        ),
        pytest.param(
            {"labels": frozenset({"HOLD"})},
            {},
            "labels",
            Mark.FAIL,
            "remove the label `HOLD`",
            id="case-insensitive",
        ),
        pytest.param(
            {"labels": frozenset({"hold", "bug", "do-not-merge"})},
            {},
            "labels",
            Mark.FAIL,
            "remove the labels `do-not-merge` and `hold`",
            id="both-labels-in-config-order",
        ),
        pytest.param(
            {"labels": frozenset({"hold"})},
            {"blocking_labels": ("WIP",)},
            "labels",
            Mark.PASS,
            "no blocking labels",
            id="custom-labels-hold-allowed",
        ),
        pytest.param(
            {"labels": frozenset({"wip"})},
            {"blocking_labels": ("WIP",)},
            "labels",
            Mark.FAIL,
            "remove the label `wip`",
            id="custom-label",
        ),
        pytest.param(
            {"labels": frozenset({"hold"})},
            {"blocking_labels": ()},
            "labels",
            Mark.PASS,
            "no blocking labels",
            id="no-blocking-labels-configured",
        ),
    ],
)
def test_draft_and_labels(
    pull_overrides: dict[str, Any],
    gate_settings: dict[str, Any],
    key: str,
    mark: Mark,
    detail: str,
) -> None:
    decision = evaluate_gate(
        gate_input(pull=pull(**pull_overrides), config=gate_config(**gate_settings))
    )
    found = requirement_of(decision, key)
    assert (found.mark, found.detail) == (mark, detail)
    assert decision.conclusion == ("failure" if mark is Mark.FAIL else "success")


@pytest.mark.parametrize(
    ("pull_overrides", "title", "action"),
    [
        pytest.param(
            {"draft": True},
            "Draft pull request",
            "mark the pull request ready for review",
            id="draft",
        ),
        pytest.param(
            {"labels": frozenset({"hold"})},
            "Blocked by the label hold",
            "remove the label `hold`",
            id="label",
        ),
        pytest.param(
            {"labels": frozenset({"hold", "do-not-merge"})},
            "Blocked by the labels do-not-merge and hold",
            "remove the labels `do-not-merge` and `hold`",
            id="labels",
        ),
    ],
)
def test_draft_and_label_titles(pull_overrides: dict[str, Any], title: str, action: str) -> None:
    decision = evaluate_gate(gate_input(pull=pull(**pull_overrides)))
    assert (decision.status, decision.conclusion, decision.title) == (
        "completed",
        "failure",
        title,
    )
    failing = [r for r in decision.requirements if r.mark is Mark.FAIL]
    assert [r.action for r in failing] == [action]


# --- rule 2: checks --------------------------------------------------------------------------

FAILING = ["failure", "cancelled", "timed_out", "action_required", "stale", "startup_failure"]


@pytest.mark.parametrize(
    ("checks", "required", "mark", "detail"),
    [
        # Nothing reported: fail closed, never pass by accident.
        pytest.param((), (), Mark.PENDING, "no builds have reported yet", id="no-checks"),
        pytest.param(
            (check(name=GATE_CHECK_NAME, app_slug="ringbot", conclusion="failure"),),
            (),
            Mark.PENDING,
            "no builds have reported yet",
            id="only-ringbot-gate",
        ),
        pytest.param(
            (check(name="release-train", app_slug="ringbot", conclusion="failure"), check()),
            (),
            Mark.PASS,
            "`build` passed",
            id="ringbot-app-run-ignored",
        ),
        pytest.param(
            (commit_status(name="ringbot/ring", conclusion="failure"), check()),
            (),
            Mark.PASS,
            "`build` passed",
            id="ringbot-status-ignored",
        ),
        pytest.param(
            (check(),),
            (GATE_CHECK_NAME, "build"),
            Mark.PASS,
            "`build` passed",
            id="ringbot-gate-listed-as-required-ignored",
        ),
        pytest.param(
            (check(conclusion="failure"),),
            (GATE_CHECK_NAME,),
            Mark.FAIL,
            "`build` failed (failure)",
            id="only-ringbot-required-means-all",
        ),
        # Required checks.
        pytest.param(
            (check(name="lint"),),
            ("build",),
            Mark.PENDING,
            "waiting for `build` to start",
            id="required-missing",
        ),
        pytest.param(
            (),
            ("build", "test"),
            Mark.PENDING,
            "waiting for `build` and `test` to start",
            id="required-both-missing",
        ),
        pytest.param(
            (check(status="queued", conclusion=None),),
            ("build",),
            Mark.PENDING,
            "waiting for `build` to finish",
            id="required-queued",
        ),
        pytest.param(
            (check(status="in_progress", conclusion=None),),
            ("build",),
            Mark.PENDING,
            "waiting for `build` to finish",
            id="required-in-progress",
        ),
        pytest.param(
            (check(conclusion="failure"),),
            ("build",),
            Mark.FAIL,
            "`build` failed (failure)",
            id="required-failed",
        ),
        pytest.param(
            (check(conclusion="neutral"),),
            ("build",),
            Mark.PASS,
            "`build` passed",
            id="required-neutral",
        ),
        pytest.param(
            (check(conclusion="skipped"),),
            ("build",),
            Mark.PASS,
            "`build` passed",
            id="required-skipped",
        ),
        pytest.param(
            (check(), check(name="lint", conclusion="failure")),
            ("build",),
            Mark.PASS,
            "`build` passed",
            id="unrequired-failure-ignored",
        ),
        pytest.param(
            (check(), check(name="lint", status="queued", conclusion=None)),
            ("build",),
            Mark.PASS,
            "`build` passed",
            id="unrequired-pending-ignored",
        ),
        pytest.param(
            (check(), check(name="lint", status="queued", conclusion=None)),
            ("build", "build"),
            Mark.PASS,
            "`build` passed",
            id="required-duplicate",
        ),
        pytest.param(
            (check(name="Build"),),
            ("build",),
            Mark.PENDING,
            "waiting for `build` to start",
            id="required-names-exact",
        ),
        pytest.param(
            (commit_status(name="build"),),
            ("build",),
            Mark.PASS,
            "`build` passed",
            id="required-as-status",
        ),
        # Empty required_checks: every other check is required.
        pytest.param(
            (check(), check(name="lint", id=2)),
            (),
            Mark.PASS,
            "all 2 checks passed: `build` and `lint`",
            id="all-pass",
        ),
        pytest.param(
            (check(), check(name="lint", id=2, conclusion="failure")),
            (),
            Mark.FAIL,
            "`lint` failed (failure)",
            id="all-one-fails",
        ),
        pytest.param(
            (check(), check(name="lint", id=2, status="in_progress", conclusion=None)),
            (),
            Mark.PENDING,
            "waiting for `lint` to finish",
            id="all-one-running",
        ),
        pytest.param(
            (
                check(conclusion="timed_out"),
                check(name="lint", id=2, conclusion="cancelled"),
                check(name="test", id=3, status="queued", conclusion=None),
            ),
            ("build", "lint", "test", "docs"),
            Mark.FAIL,
            "2 checks failed: `build` (timed out) and `lint` (cancelled); "
            "waiting for `test` to finish; waiting for `docs` to start",
            id="failed-running-missing",
        ),
        pytest.param(
            (check(conclusion="something_new"),),
            (),
            Mark.FAIL,
            "`build` failed (something new)",
            id="unknown-conclusion-fails-closed",
        ),
        pytest.param(
            (check(conclusion=None),),
            (),
            Mark.PENDING,
            "waiting for `build` to finish",
            id="completed-without-conclusion",
        ),
        # The newest run of a name wins, both ways.
        pytest.param(
            (check(conclusion="failure", id=1, started_at=T0), check(id=2, started_at=T1)),
            (),
            Mark.PASS,
            "`build` passed",
            id="rerun-passes-after-failure",
        ),
        pytest.param(
            (check(id=2, started_at=T1), check(conclusion="failure", id=1, started_at=T0)),
            (),
            Mark.PASS,
            "`build` passed",
            id="rerun-passes-after-failure-listed-first",
        ),
        pytest.param(
            (check(id=1, started_at=T0), check(conclusion="failure", id=2, started_at=T1)),
            (),
            Mark.FAIL,
            "`build` failed (failure)",
            id="rerun-fails-after-success",
        ),
        pytest.param(
            (check(id=1, started_at=T0), check(id=2, started_at=T1, status="queued")),
            (),
            Mark.PENDING,
            "waiting for `build` to finish",
            id="rerun-queued-after-success",
        ),
        pytest.param(
            (check(id=9, started_at=T0, conclusion="failure"), check(id=2, started_at=T1)),
            (),
            Mark.PASS,
            "`build` passed",
            id="started-at-beats-id",
        ),
        pytest.param(
            (check(id=2, conclusion="failure"), check(id=3)),
            (),
            Mark.PASS,
            "`build` passed",
            id="same-start-higher-id-wins-pass",
        ),
        pytest.param(
            (check(id=3, conclusion="failure"), check(id=2)),
            (),
            Mark.FAIL,
            "`build` failed (failure)",
            id="same-start-higher-id-wins-fail",
        ),
        pytest.param(
            (check(started_at=None, status="queued", conclusion=None), check(id=2)),
            (),
            Mark.PASS,
            "`build` passed",
            id="unstarted-run-is-oldest",
        ),
        pytest.param(
            (check(), check(conclusion="failure")),
            (),
            Mark.FAIL,
            "`build` failed (failure)",
            id="complete-tie-fails-closed",
        ),
        # Commit statuses: the newest per context; the list is newest first, ids come first.
        pytest.param((commit_status(),), (), Mark.PASS, "`ci/jenkins` passed", id="status-success"),
        pytest.param(
            (commit_status(status="pending", conclusion=None),),
            (),
            Mark.PENDING,
            "waiting for `ci/jenkins` to finish",
            id="status-pending",
        ),
        pytest.param(
            (commit_status(status="completed", conclusion="pending"),),
            (),
            Mark.PENDING,
            "waiting for `ci/jenkins` to finish",
            id="status-pending-as-conclusion",
        ),
        pytest.param(
            (commit_status(conclusion="failure"),),
            (),
            Mark.FAIL,
            "`ci/jenkins` failed (failure)",
            id="status-failure",
        ),
        pytest.param(
            (commit_status(conclusion="error"),),
            (),
            Mark.FAIL,
            "`ci/jenkins` failed (error)",
            id="status-error",
        ),
        pytest.param(
            (commit_status(), commit_status(conclusion="failure")),
            (),
            Mark.PASS,
            "`ci/jenkins` passed",
            id="status-list-order-newest-first-pass",
        ),
        pytest.param(
            (commit_status(conclusion="failure"), commit_status()),
            (),
            Mark.FAIL,
            "`ci/jenkins` failed (failure)",
            id="status-list-order-newest-first-fail",
        ),
        pytest.param(
            (commit_status(conclusion="failure", id=3), commit_status(id=5)),
            (),
            Mark.PASS,
            "`ci/jenkins` passed",
            id="status-higher-id-wins-over-list-order",
        ),
        pytest.param(
            (commit_status(id=5, status="pending", conclusion=None), commit_status(id=3)),
            (),
            Mark.PENDING,
            "waiting for `ci/jenkins` to finish",
            id="status-newer-pending-wins",
        ),
        pytest.param(
            (check(name="ci/jenkins"), commit_status(conclusion="failure")),
            (),
            Mark.FAIL,
            "`ci/jenkins` failed (failure)",
            id="run-and-status-same-name-worse-wins",
        ),
        pytest.param(
            (check(), commit_status()),
            (),
            Mark.PASS,
            "all 2 checks passed: `build` and `ci/jenkins`",
            id="runs-and-statuses-together",
        ),
    ],
)
def test_checks(
    checks: tuple[Check, ...], required: tuple[str, ...], mark: Mark, detail: str
) -> None:
    decision = evaluate_gate(
        gate_input(checks=checks, config=gate_config(required_checks=required))
    )
    found = requirement_of(decision, "checks")
    assert (found.title, found.mark, found.detail) == ("Builds", mark, detail)


@pytest.mark.parametrize("conclusion", FAILING)
def test_each_failing_conclusion_fails(conclusion: str) -> None:
    found = requirement_of(
        evaluate_gate(gate_input(checks=(check(conclusion=conclusion),))), "checks"
    )
    assert found.mark is Mark.FAIL
    assert found.links == (("build", "https://github.com/acme/app/runs/1"),)


@pytest.mark.parametrize("conclusion", ["success", "neutral", "skipped"])
def test_each_passing_conclusion_passes(conclusion: str) -> None:
    found = requirement_of(
        evaluate_gate(gate_input(checks=(check(conclusion=conclusion),))), "checks"
    )
    assert (found.mark, found.links) == (Mark.PASS, ())


def test_failing_checks_link_each_failure_in_name_order() -> None:
    checks = (
        check(name="zeta", conclusion="failure", url="https://x/z", id=3),
        check(name="alpha", conclusion="cancelled", url="https://x/a", id=2),
        check(name="mid", id=4),
        commit_status(name="legacy", conclusion="error", url="https://ci/l"),
    )
    decision = evaluate_gate(gate_input(checks=checks))
    found = requirement_of(decision, "checks")
    assert found.links == (
        ("alpha", "https://x/a"),
        ("legacy", "https://ci/l"),
        ("zeta", "https://x/z"),
    )
    assert decision.title == "3 checks failed"
    assert found.action == "fix the failing checks and push, or re-run them"


@pytest.mark.parametrize(
    ("checks", "required", "title", "action"),
    [
        pytest.param(
            (),
            (),
            "Waiting for builds to report",
            "wait for CI to report on the head commit; if none runs, set up CI "
            "or list `required_checks` in `.github/ringbot.yml`",
            id="no-checks",
        ),
        pytest.param(
            (),
            ("build",),
            "Waiting for build",
            "wait for `build` to start; if it never does, check that the workflow runs on this "
            "pull request or fix `required_checks` in `.github/ringbot.yml`",
            id="missing",
        ),
        pytest.param(
            (check(status="queued"), check(name="lint", status="queued")),
            (),
            "Waiting for 2 checks",
            "wait for the checks to finish",
            id="two-running",
        ),
        pytest.param(
            (check(conclusion="failure"),),
            (),
            "build failed",
            "fix the failing check and push, or re-run it",
            id="one-failed",
        ),
    ],
)
def test_check_titles_and_actions(
    checks: tuple[Check, ...], required: tuple[str, ...], title: str, action: str
) -> None:
    decision = evaluate_gate(
        gate_input(checks=checks, config=gate_config(required_checks=required))
    )
    assert decision.title == title
    assert requirement_of(decision, "checks").action == action


def test_long_check_lists_are_abbreviated() -> None:
    checks = tuple(check(name=f"job-{i:02}", id=i, status="queued") for i in range(25))
    found = requirement_of(evaluate_gate(gate_input(checks=checks)), "checks")
    names = ", ".join(f"`job-{i:02}`" for i in range(8))
    assert found.detail == f"waiting for {names}, `job-08` and 16 more to finish"


# --- rules 3 and 4: approvals and change requests --------------------------------------------


@pytest.mark.parametrize(
    ("reviews", "gate_settings", "mark", "detail"),
    [
        pytest.param(
            (),
            {},
            Mark.PENDING,
            "needs 1 more approval from someone with write access",
            id="no-reviews",
        ),
        pytest.param((review(),), {}, Mark.PASS, "approved by @alice", id="write-approval"),
        pytest.param(
            (review(permission=Permission.MAINTAIN),),
            {},
            Mark.PASS,
            "approved by @alice",
            id="maintain-approval",
        ),
        pytest.param(
            (review(permission=Permission.ADMIN),),
            {},
            Mark.PASS,
            "approved by @alice",
            id="admin-approval",
        ),
        pytest.param(
            (review(user="eve", permission=Permission.READ),),
            {},
            Mark.PENDING,
            "needs 1 more approval from someone with write access; "
            "@eve has read access, so their approval does not count",
            id="read-only-approval",
        ),
        pytest.param(
            (review(user="tri", permission=Permission.TRIAGE),),
            {},
            Mark.PENDING,
            "needs 1 more approval from someone with write access; "
            "@tri has triage access, so their approval does not count",
            id="triage-approval",
        ),
        pytest.param(
            (review(user="nobody", permission=Permission.NONE),),
            {},
            Mark.PENDING,
            "needs 1 more approval from someone with write access; "
            "@nobody has none access, so their approval does not count",
            id="no-permission-approval",
        ),
        pytest.param(
            (review(user="author", permission=Permission.ADMIN),),
            {},
            Mark.PENDING,
            "needs 1 more approval from someone with write access",
            id="self-approval",
        ),
        pytest.param(
            (review(user="Author", permission=Permission.ADMIN),),
            {},
            Mark.PENDING,
            "needs 1 more approval from someone with write access",
            id="self-approval-any-case",
        ),
        pytest.param(
            (review(),),
            {"approvals": 2},
            Mark.PENDING,
            "needs 1 more approval from someone with write access; approved by @alice",
            id="two-needed-one-given",
        ),
        pytest.param(
            (),
            {"approvals": 2},
            Mark.PENDING,
            "needs 2 more approvals from people with write access",
            id="two-needed-none-given",
        ),
        pytest.param(
            (review(), review(user="bob", id=2)),
            {"approvals": 2},
            Mark.PASS,
            "approved by @alice and @bob",
            id="two-needed-two-given",
        ),
        pytest.param(
            (review(), review(id=2, submitted_at=T1)),
            {"approvals": 2},
            Mark.PENDING,
            "needs 1 more approval from someone with write access; approved by @alice",
            id="same-reviewer-counts-once",
        ),
        pytest.param((), {"approvals": 0}, Mark.PASS, "no approvals required", id="none-required"),
        # Stale approvals, with both settings.
        pytest.param(
            (review(commit_id=OLD),),
            {"dismiss_stale_approvals": False},
            Mark.PASS,
            "approved by @alice",
            id="stale-approval-kept",
        ),
        pytest.param(
            (review(commit_id=OLD),),
            {"dismiss_stale_approvals": True},
            Mark.PENDING,
            "needs 1 more approval from someone with write access; "
            "1 approval is for an older commit (@alice)",
            id="stale-approval-dismissed",
        ),
        pytest.param(
            (review(commit_id=OLD), review(user="bob", commit_id=OLD, id=2)),
            {"dismiss_stale_approvals": True, "approvals": 2},
            Mark.PENDING,
            "needs 2 more approvals from people with write access; "
            "2 approvals are for an older commit (@alice and @bob)",
            id="two-stale-approvals-dismissed",
        ),
        pytest.param(
            (review(),),
            {"dismiss_stale_approvals": True},
            Mark.PASS,
            "approved by @alice",
            id="fresh-approval-with-dismissal",
        ),
        pytest.param(
            (review(commit_id=OLD), review(id=2, submitted_at=T1)),
            {"dismiss_stale_approvals": True},
            Mark.PASS,
            "approved by @alice",
            id="stale-then-reapproved",
        ),
        pytest.param(
            (review(), review(user="bob", commit_id=OLD, id=2)),
            {"dismiss_stale_approvals": True},
            Mark.PASS,
            "approved by @alice; 1 approval is for an older commit (@bob)",
            id="enough-despite-stale",
        ),
        # Which review is a reviewer's latest.
        pytest.param(
            (review(), review(state="COMMENTED", id=2, submitted_at=T1)),
            {},
            Mark.PASS,
            "approved by @alice",
            id="commented-does-not-replace-approval",
        ),
        pytest.param(
            (review(), review(state="DISMISSED", id=2, submitted_at=T1)),
            {},
            Mark.PENDING,
            "needs 1 more approval from someone with write access",
            id="dismissed-removes-approval",
        ),
        pytest.param(
            (review(), review(state="CHANGES_REQUESTED", id=2, submitted_at=T1)),
            {},
            Mark.PENDING,
            "needs 1 more approval from someone with write access",
            id="changes-requested-replaces-approval",
        ),
        pytest.param(
            (review(state="CHANGES_REQUESTED"), review(id=2, submitted_at=T1)),
            {},
            Mark.PASS,
            "approved by @alice",
            id="approval-replaces-changes-requested",
        ),
        pytest.param(
            (review(id=2, submitted_at=T1), review(state="DISMISSED", submitted_at=T0)),
            {},
            Mark.PASS,
            "approved by @alice",
            id="order-by-time-not-by-list",
        ),
        pytest.param(
            (review(id=3), review(state="DISMISSED", id=2)),
            {},
            Mark.PASS,
            "approved by @alice",
            id="same-time-higher-id-wins",
        ),
        pytest.param(
            (review(state="PENDING"),),
            {},
            Mark.PENDING,
            "needs 1 more approval from someone with write access",
            id="unsubmitted-review-ignored",
        ),
        pytest.param(
            (review(user="ALICE"), review(user="alice", state="DISMISSED", id=2, submitted_at=T1)),
            {},
            Mark.PENDING,
            "needs 1 more approval from someone with write access",
            id="logins-any-case",
        ),
    ],
)
def test_approvals(
    reviews: tuple[Review, ...], gate_settings: dict[str, Any], mark: Mark, detail: str
) -> None:
    decision = evaluate_gate(gate_input(reviews=reviews, config=gate_config(**gate_settings)))
    found = requirement_of(decision, "approvals")
    assert (found.mark, found.detail) == (mark, detail)


@pytest.mark.parametrize(
    ("reviews", "gate_settings", "title", "action"),
    [
        pytest.param(
            (),
            {},
            "Waiting for 1 more approval",
            "ask a reviewer with write access to approve",
            id="one-more",
        ),
        pytest.param(
            (),
            {"approvals": 3},
            "Waiting for 3 more approvals",
            "ask a reviewer with write access to approve",
            id="three-more",
        ),
        pytest.param(
            (review(commit_id=OLD),),
            {"dismiss_stale_approvals": True},
            "Waiting for 1 more approval",
            "ask @alice to approve the latest commit, or another reviewer with write access "
            "to approve",
            id="stale",
        ),
    ],
)
def test_approval_titles_and_actions(
    reviews: tuple[Review, ...], gate_settings: dict[str, Any], title: str, action: str
) -> None:
    decision = evaluate_gate(gate_input(reviews=reviews, config=gate_config(**gate_settings)))
    assert (decision.status, decision.conclusion, decision.title) == ("in_progress", None, title)
    assert requirement_of(decision, "approvals").action == action


@pytest.mark.parametrize(
    ("reviews", "mark", "detail"),
    [
        pytest.param((), Mark.PASS, "no outstanding change requests", id="no-reviews"),
        pytest.param(
            (review(state="CHANGES_REQUESTED"),),
            Mark.FAIL,
            "changes requested by @alice",
            id="write-user",
        ),
        pytest.param(
            (review(state="CHANGES_REQUESTED", permission=Permission.ADMIN),),
            Mark.FAIL,
            "changes requested by @alice",
            id="admin-user",
        ),
        pytest.param(
            (review(user="eve", state="CHANGES_REQUESTED", permission=Permission.READ),),
            Mark.PASS,
            "no outstanding change requests; @eve has read access, so their request does not block",
            id="read-user",
        ),
        pytest.param(
            (review(user="author", state="CHANGES_REQUESTED", permission=Permission.ADMIN),),
            Mark.PASS,
            "no outstanding change requests",
            id="author-own",
        ),
        pytest.param(
            (review(state="CHANGES_REQUESTED", commit_id=OLD),),
            Mark.FAIL,
            "changes requested by @alice",
            id="older-commit-still-blocks",
        ),
        pytest.param(
            (review(state="CHANGES_REQUESTED"), review(id=2, submitted_at=T1)),
            Mark.PASS,
            "no outstanding change requests",
            id="then-approved",
        ),
        pytest.param(
            (review(state="CHANGES_REQUESTED"), review(state="COMMENTED", id=2, submitted_at=T1)),
            Mark.FAIL,
            "changes requested by @alice",
            id="then-commented",
        ),
        pytest.param(
            (review(state="CHANGES_REQUESTED"), review(state="DISMISSED", id=2, submitted_at=T1)),
            Mark.PASS,
            "no outstanding change requests",
            id="then-dismissed",
        ),
        pytest.param(
            (
                review(user="bob", state="CHANGES_REQUESTED", id=2),
                review(state="CHANGES_REQUESTED"),
                review(user="eve", state="CHANGES_REQUESTED", permission=Permission.READ, id=3),
            ),
            Mark.FAIL,
            "changes requested by @alice and @bob; "
            "@eve has read access, so their request does not block",
            id="two-writers-and-a-reader",
        ),
    ],
)
def test_changes_requested(reviews: tuple[Review, ...], mark: Mark, detail: str) -> None:
    decision = evaluate_gate(gate_input(reviews=(review(user="carol", id=99), *reviews)))
    found = requirement_of(decision, "changes_requested")
    assert (found.mark, found.detail) == (mark, detail)


def test_changes_requested_title_and_action() -> None:
    decision = evaluate_gate(gate_input(reviews=(review(state="CHANGES_REQUESTED"),)))
    assert (decision.status, decision.conclusion) == ("completed", "failure")
    assert decision.title == "Changes requested by @alice"
    assert requirement_of(decision, "changes_requested").action == (
        "address the review and ask @alice to re-review, or have the review dismissed"
    )


# --- rule 5: configuration -------------------------------------------------------------------


def test_config_errors_fail_and_nothing_else_is_evaluated() -> None:
    errors = config_errors(
        ConfigError(path="rings[2].bake", message="'2 days' is not a duration like 36h", line=14),
        ConfigError(path="merge_gate.approvals", message="must be a whole number", line=None),
    )
    decision = evaluate_gate(gate_input(config=errors))
    assert decision == GateDecision(
        status="completed",
        conclusion="failure",
        title="Invalid .github/ringbot.yml (2 errors)",
        requirements=(
            Requirement(
                key="config",
                title="Configuration",
                mark=Mark.FAIL,
                detail="`.github/ringbot.yml` is invalid (2 errors); "
                "ringbot will not act until it is fixed",
                action="fix `.github/ringbot.yml` on the default branch",
                errors=tuple(str(e) for e in errors.errors),
                error_count=2,
            ),
        ),
    )
    assert decision.requirements[0].errors[0] == (
        "rings[2].bake: '2 days' is not a duration like 36h (line 14)"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="otherwise-passing"),
        pytest.param({"pull": pull(draft=True), "checks": (), "reviews": ()}, id="otherwise-bad"),
        pytest.param({"merge_group": True}, id="merge-group"),
    ],
)
def test_config_errors_always_fail(overrides: dict[str, Any]) -> None:
    decision = evaluate_gate(gate_input(config=config_errors(), **overrides))
    assert (decision.status, decision.conclusion) == ("completed", "failure")
    assert [(r.key, r.mark) for r in decision.requirements] == [("config", Mark.FAIL)]
    assert decision.title == "Invalid .github/ringbot.yml (1 error)"


# --- merge groups ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checks", "status_", "conclusion", "mark"),
    [
        pytest.param((check(),), "completed", "success", Mark.PASS, id="green"),
        pytest.param((check(conclusion="failure"),), "completed", "failure", Mark.FAIL, id="red"),
        pytest.param((check(status="queued"),), "in_progress", None, Mark.PENDING, id="running"),
        pytest.param((), "in_progress", None, Mark.PENDING, id="nothing-reported"),
    ],
)
def test_merge_group_only_builds_count(
    checks: tuple[Check, ...], status_: str, conclusion: str | None, mark: Mark
) -> None:
    decision = evaluate_gate(
        gate_input(
            merge_group=True,
            pull=pull(draft=True, labels=frozenset({"hold"})),
            checks=checks,
            reviews=(review(state="CHANGES_REQUESTED"),),
            config=gate_config(approvals=3),
        )
    )
    assert (decision.status, decision.conclusion) == (status_, conclusion)
    assert [(r.key, r.mark) for r in decision.requirements] == [("checks", mark)]


# --- combinations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "status_", "conclusion", "title", "marks"),
    [
        pytest.param(
            {},
            "completed",
            "success",
            "Ready to merge",
            "PPPPP",
            id="all-pass",
        ),
        pytest.param(
            {"checks": (check(status="in_progress"),), "reviews": ()},
            "in_progress",
            None,
            "Waiting for build and 1 more approval",
            "PP..P",
            id="pending-checks-and-approval",
        ),
        pytest.param(
            {
                "checks": (check(status="in_progress"),),
                "reviews": (review(state="CHANGES_REQUESTED"),),
            },
            "completed",
            "failure",
            "Changes requested by @alice",
            "PP..F",
            id="failure-beats-pending",
        ),
        pytest.param(
            {
                "pull": pull(draft=True, labels=frozenset({"hold"})),
                "checks": (check(conclusion="failure"),),
            },
            "completed",
            "failure",
            "Draft pull request (+2 more)",
            "FFFPP",
            id="several-failures",
        ),
        pytest.param(
            {"pull": pull(labels=frozenset({"hold"})), "reviews": ()},
            "completed",
            "failure",
            "Blocked by the label hold",
            "PFP.P",
            id="label-and-missing-approval",
        ),
    ],
)
def test_combinations(
    overrides: dict[str, Any], status_: str, conclusion: str | None, title: str, marks: str
) -> None:
    decision = evaluate_gate(gate_input(**overrides))
    symbols = {Mark.PASS: "P", Mark.PENDING: ".", Mark.FAIL: "F"}
    assert (decision.status, decision.conclusion, decision.title) == (status_, conclusion, title)
    assert "".join(symbols[r.mark] for r in decision.requirements) == marks
    assert [r.key for r in decision.requirements] == [
        "draft",
        "labels",
        "checks",
        "approvals",
        "changes_requested",
    ]


def test_decision_does_not_depend_on_input_order() -> None:
    checks = [
        check(id=1, started_at=T0, conclusion="failure"),
        check(id=2, started_at=T1),
        check(name="lint", id=3, conclusion="cancelled", url="https://x/lint"),
        check(name="test", id=4, conclusion="timed_out", url="https://x/test"),
        commit_status(id=10, conclusion="failure"),
        commit_status(id=11),
    ]
    reviews = [
        review(),
        review(user="bob", state="CHANGES_REQUESTED", id=2),
        review(user="carol", state="COMMENTED", id=3, submitted_at=T2),
        review(user="dan", permission=Permission.READ, id=4),
        review(user="bob", state="COMMENTED", id=5, submitted_at=T2),
    ]
    labels = frozenset({"hold", "do-not-merge", "Hold"})
    expected = evaluate_gate(
        gate_input(checks=tuple(checks), reviews=tuple(reviews), pull=pull(labels=labels))
    )
    for order in itertools.permutations(checks):
        assert (
            evaluate_gate(
                gate_input(checks=order, reviews=tuple(reviews), pull=pull(labels=labels))
            )
            == expected
        )
    for order in itertools.permutations(reviews):
        assert (
            evaluate_gate(gate_input(checks=tuple(checks), reviews=order, pull=pull(labels=labels)))
            == expected
        )
    assert (
        requirement_of(expected, "labels").detail
        == "remove the labels `do-not-merge`, `Hold` and `hold`"
    )


def test_a_file_with_more_errors_than_listed_counts_them_all() -> None:
    listed = tuple(ConfigError(path=f"rings[{n}]", message="bad", line=n) for n in range(100))
    more = ConfigError(path="", message="… and 5 more errors, not listed", line=None)
    decision = evaluate_gate(gate_input(config=ConfigErrors((*listed, more), omitted=5)))
    assert decision.title == "Invalid .github/ringbot.yml (105 errors)"
