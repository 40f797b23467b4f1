"""The merge gate end to end: real bot, simulator, signed webhooks."""

from __future__ import annotations

import pytest

from .builders import gate, open_pr, ready_pr, setup_repo, verdict
from .harness import World

pytestmark = pytest.mark.e2e


async def test_green_build_and_approval_pass_the_gate(w: World) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    assert verdict(w, number) == "success"
    assert gate(w, number).output["title"]


async def test_a_new_pull_request_waits_for_builds_and_approval(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    await w.settle()
    assert verdict(w, number) == "in_progress"
