"""Rings that move by themselves: the first ring on a green default branch, later auto rings
once the ring before is satisfied, and answers to deployment protection rules."""

from __future__ import annotations

from dataclasses import replace

from gidgethub import routing, sansio

from ..config import ConfigErrors
from ..context import Ctx
from ..effects.guardrails import flag_unverified
from ..effects.protection import answer_protection_rule
from ..effects.rings import enter, say_blocked
from ..effects.variables import EnvironmentMissing
from ..effects.verify import on_failures
from ..logs import log
from ..policy.refusals import Code
from ..policy.rings import decide_auto_entry, decide_protection_rule
from ..snapshot.freezes import read_freeze
from ..snapshot.repo_config import load_config
from ..snapshot.rings import read_for_auto, read_for_protection
from ..webhook import Triage
from ..work import ProtectionKey, RingsKey
from . import events

router = routing.Router()


def _key(event: sansio.Event) -> RingsKey:
    return RingsKey(events.installation(event), events.repo(event), events.default_branch(event))


@router.register("check_run", action="completed")
@router.register("check_suite", action="completed")
async def build_finished(event: sansio.Event, triage: Triage) -> None:
    """A build on the default branch finished: maybe the first ring can take it."""
    item = event.data.get("check_run") or event.data.get("check_suite") or {}
    if int((item.get("app") or {}).get("id", 0)) == triage.identity.app_id:
        return  # our own checks are not builds
    branch = item.get("head_branch") or (item.get("check_suite") or {}).get("head_branch")
    # No branch: a check on a commit that is no branch's head, like a release's `verify:` check.
    if branch == event.data["repository"].get("default_branch") or not branch:
        triage.enqueue(_key(event))


@router.register("status")
async def status_changed(event: sansio.Event, triage: Triage) -> None:
    """A commit status on the default branch changed."""
    default = event.data["repository"].get("default_branch")
    if any(b.get("name") == default for b in event.data.get("branches") or []):
        triage.enqueue(_key(event))


@router.register("push")
async def pushed(event: sansio.Event, triage: Triage) -> None:
    """A new release candidate; it enters once green (its builds report later)."""
    if events.pushed_to_default_branch(event):
        triage.enqueue(_key(event))


@router.register("deployment_status", action="created")
async def deployment_reported(event: sansio.Event, triage: Triage) -> None:
    """The CD reported on a deployment, or we recorded a sign-off: an auto ring may follow.

    Our own ledger entries count too (a sign-off can let an auto ring follow). That cannot loop:
    the rings job writes deployments, never deployment statuses.
    """
    if events.deployment_settled(event, triage.identity.app_id):
        triage.enqueue(_key(event))


@router.register("deployment_protection_rule", action="requested")
async def protection_requested(event: sansio.Event, triage: Triage) -> None:
    """A deployment waits for our approval as a custom protection rule."""
    data = event.data
    url = str(data.get("deployment_callback_url") or "")
    run_id = int(url.rstrip("/").split("/runs/")[1].split("/")[0]) if "/runs/" in url else 0
    triage.enqueue(
        ProtectionKey(
            events.installation(event),
            events.repo(event),
            str(data["environment"]),
            str((data.get("deployment") or {}).get("sha") or ""),
            run_id,
        )
    )


async def rings_job(ctx: Ctx, key: RingsKey) -> None:
    """Converge the auto rings: deploy what the rules allow, nothing else."""
    config = await load_config(ctx)
    if isinstance(config, ConfigErrors):
        log(30, "invalid config, rings left alone", repo=ctx.repo)
        return
    view = await read_for_auto(ctx, config, key.default_branch)
    if await on_failures(ctx, config, view):
        return  # a failed verification rolled a ring back; its deploy's result wakes us
    for ring in config.rings:
        if not ring.auto:
            continue
        decision = decide_auto_entry(view, ring)
        if decision.should_deploy:
            # Only a ring about to be entered has its freeze read (one request, not one per ring).
            freeze = await read_freeze(ctx, ring)
            if freeze is not None:
                view = replace(view, freezes={**view.freezes, ring.name: freeze})
                decision = decide_auto_entry(view, ring)
        if any(r.code == Code.UNVERIFIED for r in decision.refusals):
            # Around the merge gate: each pull request is told once; a person accepts it.
            log(20, "unverified release held", repo=ctx.repo, ring=ring.name, sha=decision.sha)
            await flag_unverified(ctx, ring.name, view.unverified)
        if any(r.code == Code.ROLLED_BACK for r in decision.refusals):
            # A rollback holds the ring until a person promotes; /status shows it too.
            log(20, "ring held after a rollback", repo=ctx.repo, ring=ring.name)
        if decision.should_deploy and decision.sha:
            try:
                await enter(ctx, config, view.state(ring), decision.sha, "automatic entry")
            except EnvironmentMissing as exc:
                # Every event would crash here again and nobody would know: say it once
                # where people look, with the fix, and wait for the next event.
                log(30, "ring environment missing", repo=ctx.repo, environment=exc.environment)
                await say_blocked(ctx, decision.sha, ring.name, str(exc))
            return  # the ring after this one waits for this deployment's result
        if decision.retry_at is not None:
            # Only the bake time or a closed ring (a window, a freeze with an end) stands in
            # the way: look again the moment it is over.
            ctx.later(key, (decision.retry_at - view.now).total_seconds() + 1)


async def protection_job(ctx: Ctx, key: ProtectionKey) -> None:
    """Approve the waiting deployment only if the ring rules allow that SHA in that ring."""
    config = await load_config(ctx)
    ring = None
    if not isinstance(config, ConfigErrors):
        ring = next(
            (r for r in config.rings if r.environment.lower() == key.environment.lower()), None
        )
    if isinstance(config, ConfigErrors) or ring is None or not key.sha:
        approved, comment = (
            False,
            "ringbot: this environment is not a ring in a valid .github/ringbot.yml",
        )
    else:
        view = await read_for_protection(ctx, config, ring, key.sha)
        freeze = await read_freeze(ctx, ring)
        if freeze is not None:
            view = replace(view, freezes={ring.name: freeze})
        decision = decide_protection_rule(view, ring, key.sha)
        approved, comment = decision.approved, decision.comment
    await answer_protection_rule(ctx, key.run_id, key.environment, approved, comment)


JOBS = {RingsKey: rings_job, ProtectionKey: protection_job}
