"""Which CI news re-reads the gate, and which gate changes are worth rewriting its check run."""

from __future__ import annotations

from typing import Any

import pytest

from bot.models import Mark
from bot.policy.gate import BuildsSeen, builds_seen, ci_event_matters, ci_mark, evaluate_gate

from .builders.gate_inputs import HEAD, check, gate_config, gate_input, review

PASS, PENDING, FAIL = Mark.PASS, Mark.PENDING, Mark.FAIL


def seen(**overrides: Any) -> BuildsSeen:
    """The gate waiting on `test` and `lint` on HEAD, every check counting."""
    fields: dict[str, Any] = {
        "sha": HEAD,
        "mark": PENDING,
        "waiting": frozenset({"test", "lint"}),
        "required": None,
    }
    return BuildsSeen(**{**fields, **overrides})


@pytest.mark.parametrize(
    ("before", "sha", "check_name", "outcome", "matters", "waiting"),
    [
        pytest.param(None, HEAD, "test", PASS, True, None, id="nothing-seen-reads"),
        pytest.param(seen(), "other", "test", PASS, True, {"test", "lint"}, id="another-head"),
        pytest.param(seen(), HEAD, "test", PASS, False, {"lint"}, id="one-of-two-passes"),
        pytest.param(
            seen(waiting=frozenset({"lint"})),
            HEAD,
            "lint",
            PASS,
            True,
            set(),
            id="the-last-awaited-passes",
        ),
        pytest.param(seen(), HEAD, "test", FAIL, True, {"test", "lint"}, id="a-failure-reads"),
        pytest.param(
            seen(),
            HEAD,
            "e2e",
            PENDING,
            False,
            {"test", "lint", "e2e"},
            id="another-starts-while-waiting",
        ),
        pytest.param(
            seen(mark=PASS, waiting=frozenset()),
            HEAD,
            "e2e",
            PENDING,
            True,
            set(),
            id="one-starts-after-all-passed",
        ),
        pytest.param(
            seen(mark=PASS, waiting=frozenset()),
            HEAD,
            "build",
            PASS,
            False,
            set(),
            id="a-pass-after-all-passed",
        ),
        pytest.param(
            seen(mark=FAIL),
            HEAD,
            "test",
            PENDING,
            True,
            {"test", "lint"},
            id="a-rerun-after-a-failure-reads",
        ),
        pytest.param(
            seen(mark=PENDING, waiting=frozenset()),
            HEAD,
            "build",
            PENDING,
            False,
            {"build"},
            id="first-build-starts-before-any-reported",
        ),
        pytest.param(
            seen(required=frozenset({"test", "lint"})),
            HEAD,
            "docs",
            FAIL,
            False,
            {"test", "lint"},
            id="not-required-never-gates",
        ),
        pytest.param(
            seen(), HEAD, None, PASS, True, {"test", "lint"}, id="suite-done-while-waiting-reads"
        ),
        pytest.param(
            seen(mark=PASS, waiting=frozenset()),
            HEAD,
            None,
            PASS,
            False,
            set(),
            id="suite-done-after-all-passed",
        ),
    ],
)
def test_ci_news_is_read_only_when_it_can_move_the_builds(
    before: BuildsSeen | None,
    sha: str,
    check_name: str | None,
    outcome: Mark,
    matters: bool,
    waiting: set[str] | None,
) -> None:
    got, after = ci_event_matters(before, sha, check_name, outcome)
    assert got is matters
    assert (None if after is None else set(after.waiting)) == waiting


@pytest.mark.parametrize(
    ("status", "conclusion", "mark"),
    [
        ("queued", None, PENDING),
        ("in_progress", None, PENDING),
        ("completed", "success", PASS),
        ("completed", "skipped", PASS),
        ("completed", "timed_out", FAIL),
        ("completed", "startup_failure", FAIL),
    ],
)
def test_ci_mark_counts_as_the_gate_does(status: str, conclusion: str | None, mark: Mark) -> None:
    assert ci_mark(status, conclusion) is mark


def test_builds_seen_names_the_required_checks_not_passed() -> None:
    gate = gate_input(
        checks=(check(), check(name="lint", status="in_progress", conclusion=None, id=2)),
        config=gate_config(required_checks=("build", "lint", "e2e")),
    )
    got = builds_seen(gate, HEAD)
    assert got == BuildsSeen(
        HEAD, PENDING, frozenset({"lint", "e2e"}), frozenset({"build", "lint", "e2e"})
    )


def milestone(**overrides: Any) -> str:
    return evaluate_gate(gate_input(**overrides)).milestone()


def test_a_build_finishing_while_others_run_is_no_milestone() -> None:
    running = check(name="lint", status="in_progress", conclusion=None, id=2)
    three = (check(), running, check(name="e2e", status="in_progress", conclusion=None, id=3))
    two = (check(), running, check(name="e2e", id=3))
    assert milestone(checks=three) == milestone(checks=two)


def test_a_requirement_met_is_a_milestone() -> None:
    running = check(status="in_progress", conclusion=None)
    assert milestone(checks=(running,)) != milestone(checks=(check(),))


def test_a_second_approval_is_no_milestone() -> None:
    two = (review(), review(user="bob", id=2))
    assert milestone(reviews=(review(),)) == milestone(reviews=two)


def test_a_new_failure_is_a_milestone() -> None:
    broken = check(conclusion="failure")
    other = check(name="lint", conclusion="failure", id=2)
    assert milestone(checks=(broken,)) != milestone(checks=(broken, other))
