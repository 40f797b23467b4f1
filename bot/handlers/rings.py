"""Rings that move by themselves: the first ring on a green default branch, later auto rings
once the ring before is satisfied, and answers to deployment protection rules."""

from __future__ import annotations

from functools import partial

from gidgethub import routing, sansio

from .. import ring_snapshot, snapshot
from ..config import Config, ConfigErrors
from ..context import Ctx
from ..effects.checks import CheckOutput, find_own_run, publish_check
from ..effects.deployments import create_deployment
from ..effects.protection import answer_protection_rule
from ..effects.replies import find_reply, reply
from ..effects.variables import EnvironmentMissing
from ..ledger import live_since, same_login
from ..logs import log
from ..messages.blocked import render_blocked, render_blocked_check
from ..messages.visibility import RELEASE_CHECK, STATUS_MARKER
from ..policy.rings import RingState, current_release, decide_auto_entry, decide_protection_rule
from ..webhook import Triage
from ..work import ProtectionKey, RingsKey
from . import events, features

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
    if branch == event.data["repository"].get("default_branch"):
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


async def enter(ctx: Ctx, config: Config, state: RingState, sha: str, reason: str) -> int:
    """A release enters a ring: its flags first (the deploy reads them), then the deployment."""
    await features.before_deploy(ctx, config, state.ring)
    newest_seen = max((d.id for d in state.deployments), default=0)
    return await create_deployment(ctx, state.ring, sha, reason=reason, newer_than=newest_seen)


async def rings_job(ctx: Ctx, key: RingsKey) -> None:
    """Converge the auto rings: deploy what the rules allow, nothing else."""
    config = await snapshot.load_config(ctx)
    if isinstance(config, ConfigErrors):
        log(30, "invalid config, rings left alone", repo=ctx.repo)
        return
    head = await ctx.gh.getitem(f"/repos/{ctx.repo}/commits/{key.default_branch}")
    head_sha = str(head["sha"])
    deployments = await ring_snapshot.recent_deployments(ctx)
    previous: RingState | None = None
    for index, ring in enumerate(config.rings):
        state = await ring_snapshot.ring_state(ctx, config, ring, deployments)
        if ring.auto:
            candidate = None
            if index == 0:
                # Reading the builds again is only needed for a commit the ring does not have
                # from ringbot itself (a deploy made around ringbot proves nothing).
                bot = ctx.identity.bot_login
                known = any(
                    d.sha == head_sha and same_login(d.creator, bot) and not d.foreign
                    for d in state.deployments[:1]
                )
                if known or await ring_snapshot.builds_green(ctx, head_sha, config):
                    candidate = head_sha
            signers = await ring_snapshot.signer_permissions(ctx, ring, previous)

            decide = partial(
                decide_auto_entry,
                config=config,
                ring=ring,
                previous=previous,
                target_state=state,
                candidate_sha=candidate,
                now=ctx.now(),
                bot_login=ctx.identity.bot_login,
                signer_permissions=signers,
            )
            decision = decide()
            if decision.should_deploy and decision.sha:
                # Before anything moves: a rejection recorded in any other ring counts too.
                others = await ring_snapshot.elsewhere(
                    ctx, config, decision.sha, deployments, (previous, state)
                )
                decision = decide(elsewhere=others) if others else decision
            if decision.should_deploy and decision.sha:
                try:
                    await enter(ctx, config, state, decision.sha, "automatic entry")
                except EnvironmentMissing as exc:
                    # Every event would crash here again and nobody would know: say it once
                    # where people look, with the fix, and wait for the next event.
                    log(30, "ring environment missing", repo=ctx.repo, environment=exc.environment)
                    await say_blocked(ctx, decision.sha, ring.name, str(exc))
                return  # the ring after this one waits for this deployment's result
            if [r.code for r in decision.refusals] == ["baking"] and previous is not None:
                # Only the bake time stands in the way: look again the moment it is over.
                release = current_release(previous, ctx.identity.bot_login)
                since = live_since(release, ctx.identity.bot_login) if release else None
                if since is not None:
                    left = (since + ring.bake - ctx.now()).total_seconds()
                    ctx.later(key, left + 1)
        previous = state


async def say_blocked(ctx: Ctx, sha: str, ring: str, problem: str) -> None:
    """Show that `sha` cannot enter `ring`: on its release check run and on the status comment
    of each pull request it merged. Both writes happen only when the text is not there yet."""
    title, summary = render_blocked_check(ring, sha, problem)
    want = CheckOutput(RELEASE_CHECK, "completed", "action_required", title, summary)
    await publish_check(ctx, sha, want, await find_own_run(ctx, sha, RELEASE_CHECK))
    notice = render_blocked(ring, sha, problem)
    pulls = await ctx.gh.getitem(f"/repos/{ctx.repo}/commits/{sha}/pulls")
    for pull in pulls:
        if not pull.get("merged_at") or pull.get("merge_commit_sha") != sha:
            continue
        number = int(pull["number"])
        found = await find_reply(ctx, number, STATUS_MARKER)
        body = str((found or {}).get("body") or "")
        if body.startswith(notice):
            continue  # said already (only ringbot's own text can start its status comment)
        # The status comment keeps its table; the notice goes on top until the ring is entered
        # and the table is drawn again.
        text = body.replace(f"\n\n{STATUS_MARKER}", "").strip()
        text = f"{notice}\n\n{text}" if text else notice
        await reply(ctx, number, text, marker=STATUS_MARKER, check_first=True)


async def protection_job(ctx: Ctx, key: ProtectionKey) -> None:
    """Approve the waiting deployment only if the ring rules allow that SHA in that ring."""
    config = await snapshot.load_config(ctx)
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
        deployments = await ring_snapshot.recent_deployments(ctx)
        before = config.previous(ring)
        previous = (
            await ring_snapshot.ring_state(ctx, config, before, deployments) if before else None
        )
        target = await ring_snapshot.ring_state(ctx, config, ring, deployments)
        # The first ring takes only a release: a commit on the default branch whose builds
        # passed. (Later rings take only the previous ring's current release, a release too.)
        ours = any(
            d.sha == key.sha and same_login(d.creator, ctx.identity.bot_login)
            for d in target.deployments
        )
        release = before is not None or ours or await ring_snapshot.is_release(ctx, config, key.sha)
        decision = decide_protection_rule(
            config=config,
            ring=ring,
            sha=key.sha,
            previous=previous,
            target_state=target,
            now=ctx.now(),
            bot_login=ctx.identity.bot_login,
            signer_permissions=await ring_snapshot.signer_permissions(ctx, ring, previous),
            elsewhere=await ring_snapshot.elsewhere(
                ctx, config, key.sha, deployments, (previous, target)
            ),
            sha_is_release=release,
        )
        approved, comment = decision.approved, decision.comment
    await answer_protection_rule(ctx, key.run_id, key.environment, approved, comment)


JOBS = {RingsKey: rings_job, ProtectionKey: protection_job}
