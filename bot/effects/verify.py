"""A failed verification's writes: the App's rejection (with its notices) and, for
`on_failure: rollback`, the one rollback deployment (see bot/policy/verify_failure.py)."""

from __future__ import annotations

from dataclasses import replace

from ..config import Config
from ..context import Ctx
from ..logs import log
from ..policy.rings import RingsView
from ..policy.verify_failure import Failure, failures, previous_good, rejection_decision
from ..snapshot.deployments import recent_deployments
from ..snapshot.rings import _rejected_everywhere, ring_state
from .rings import enter, reject


async def on_failures(ctx: Ctx, config: Config, view: RingsView) -> bool:
    """Do what `on_failure` says for every ring whose waiting release failed verification.

    True when a deployment was made (the view no longer tells what the ring holds)."""
    deployed = False
    for failure in failures(view):
        if failure.reject:
            await _reject(ctx, config, view, failure)
        if failure.roll_back:
            deployed = await _roll_back(ctx, config, view, failure) or deployed
    return deployed


async def _reject(ctx: Ctx, config: Config, view: RingsView, failure: Failure) -> None:
    """Record the App's rejection on every deployment of the release, and tell its pulls."""
    others = await _rejected_everywhere(ctx, config, failure.release.sha, view)
    decision = rejection_decision(replace(view, others=others), failure)
    await reject(ctx, config, decision)
    log(
        30,
        "verification failed: release rejected",
        repo=ctx.repo,
        ring=failure.ring.name,
        sha=failure.release.sha,
        check=failure.check.name,
    )


async def _roll_back(ctx: Ctx, config: Config, view: RingsView, failure: Failure) -> bool:
    """Deploy the ring's previous good release again, marked as a rollback."""
    ring = failure.ring
    deployments = await recent_deployments(ctx)
    state = await ring_state(ctx, config, ring, deployments, whole=True)
    if not state.deployments or state.deployments[0].id != failure.release.id:
        return False  # something was deployed after it meanwhile: nothing to undo twice
    choice = previous_good(state, state.deployments[0], view.every_state(), view.bot_login)
    if choice is None:
        log(30, "verification failed: nothing to roll back to", repo=ctx.repo, ring=ring.name)
        return False
    reason = f"rollback: {failure.check.name} failed verification of {failure.release.sha[:7]}"
    await enter(ctx, config, state, choice.sha, reason, rollback=True)
    log(30, "verification failed: rolled back", repo=ctx.repo, ring=ring.name, sha=choice.sha)
    return True
