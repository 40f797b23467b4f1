"""Guardrails' pure decisions, as tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.policy.guardrails import (
    GateAtMerge,
    Why,
    chain,
    gate_verdict,
    has_app_rule,
    required_by_protection,
    required_by_rules,
)

T = datetime(2026, 1, 1, tzinfo=UTC)
LATER = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("gate", "merged_at", "verified", "how"),
    [
        (GateAtMerge("completed", "success", T), LATER, True, ""),
        (GateAtMerge("completed", "success", LATER), T, False, "success only after the merge"),
        (GateAtMerge("completed", "failure", T), LATER, False, "failure"),
        (GateAtMerge("in_progress", None, None), LATER, False, "in_progress"),
        (None, LATER, False, "missing"),
    ],
)
def test_gate_verdict(
    gate: GateAtMerge | None, merged_at: datetime, verified: bool, how: str
) -> None:
    found = gate_verdict(7, "abc", gate, merged_at)
    assert (found is None) == verified
    if found is not None:
        assert found.why == Why.BYPASSED and found.gate == how and found.pull == 7


PARENTS = {"d": ("c",), "c": ("b", "x"), "b": ("a",), "a": ()}


@pytest.mark.parametrize(
    ("candidate", "stops", "expected"),
    [
        ("d", {"b"}, ("d", "c")),
        ("d", {"d"}, ()),
        ("d", set(), ("d",)),  # nothing deployed yet: only the candidate
        ("d", {"zzz"}, None),  # the stop is beyond the page
        ("c", {"a"}, ("c", "b")),  # first parents only: x came in through c
    ],
)
def test_chain(candidate: str, stops: set[str], expected: tuple[str, ...] | None) -> None:
    assert chain(PARENTS, candidate, stops) == expected


def test_rules_and_protection_are_read_for_the_gate() -> None:
    rule = {
        "type": "required_status_checks",
        "parameters": {"required_status_checks": [{"context": "ringbot/merge-gate"}]},
    }
    assert required_by_rules([rule], "ringbot/merge-gate")
    assert not required_by_rules([{"type": "deletion"}], "ringbot/merge-gate")
    assert required_by_protection({"contexts": ["ringbot/merge-gate"]}, "ringbot/merge-gate")
    assert not required_by_protection({"contexts": ["build"], "checks": []}, "ringbot/merge-gate")
    assert not required_by_protection(None, "ringbot/merge-gate")
    assert has_app_rule([{"enabled": True, "app": {"id": 1, "slug": "ringbot"}}], "ringbot", 1)
    assert not has_app_rule([{"enabled": True, "app": {"id": 2, "slug": "other"}}], "ringbot", 1)
