"""Automatic rings of different strictness in one repository: each counts its own sign-offs."""

from __future__ import annotations

import pytest

from .builders import cd, command, deployments, released, setup_repo
from .harness import World

pytestmark = pytest.mark.e2e

# internal follows dev by itself after one sign-off; early-adopters follows internal by itself
# too, but only a maintainer's sign-off counts for it.
MIXED = """
rings:
  - name: dev
    auto: true
  - name: internal
    auto: true
    approvals: 1
  - name: early-adopters
    auto: true
    approvals: 1
    promoters: maintain
"""


async def test_a_writers_signoff_moves_a_write_ring_beside_a_stricter_one(w: World) -> None:
    setup_repo(w, config=MIXED)
    number, sha = await released(w)

    await command(w, number, "/approve dev", by="carol")

    (entered,) = deployments(w, "internal")
    assert entered.sha == sha


async def test_a_stricter_auto_ring_waits_for_a_signoff_of_its_own_level(w: World) -> None:
    setup_repo(w, config=MIXED)
    number, sha = await released(w)
    await command(w, number, "/approve dev", by="carol")
    await cd(w, "internal")

    await command(w, number, "/approve internal", by="carol")  # write: not enough
    assert deployments(w, "early-adopters") == []

    await command(w, number, "/approve internal", by="alice")  # maintain
    (entered,) = deployments(w, "early-adopters")
    assert entered.sha == sha
