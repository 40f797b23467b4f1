"""Commands: `/promote`, `/approve`, `/reject`, `/rollback`, `/status`, `/help` in pull-request
comments, and `promote:<ring>` labels. Each runs: snapshot -> decide -> apply -> reply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from gidgethub import BadRequest, routing, sansio

from .. import ring_snapshot, snapshot
from ..commands import HELP, LABEL_PREFIX, Command, CommandError, parse_commands, parse_label
from ..config import Config, ConfigErrors
from ..context import Ctx
from ..effects import deployments as deploy
from ..effects.replies import react, remove_label, reply, reply_marker
from ..effects.variables import EnvironmentMissing
from ..github import is_throttled
from ..ledger import DeploymentRecord, cd_state, encode_rejection
from ..logs import log
from ..messages import rings as say
from ..messages.text import inert
from ..models import Permission, PullRequest
from ..policy.rings import (
    RingState,
    current_release,
    decide_promotion,
    decide_rejection,
    decide_rollback,
    decide_signoff,
    newest,
    rejection_of,
)
from ..snapshot import parse_time
from ..webhook import Triage
from ..work import CommandKey, LabelKey
from . import events, features, visibility
from .rings import enter

router = routing.Router()


@router.register("issue_comment", action="created")
async def comment_created(event: sansio.Event, triage: Triage) -> None:
    """A new pull-request comment from a person may carry commands (edits never count)."""
    data = event.data
    comment, issue = data["comment"], data["issue"]
    user = comment.get("user") or {}
    if user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]"):
        return  # bots, ourselves included, never command us
    if "pull_request" not in issue or "/" not in (comment.get("body") or ""):
        return
    triage.enqueue(
        CommandKey(
            events.installation(event),
            events.repo(event),
            int(issue["number"]),
            int(comment["id"]),
            str(user.get("login", "")),
            str(comment.get("body") or ""),
            _timestamp(comment.get("created_at")),
        )
    )


def _timestamp(value: object) -> str:
    """A GitHub timestamp from a payload, checked now so that a job never meets a bad one
    (GitHub's carry their zone; one without cannot be compared with the ledger's)."""
    at = parse_time(value) if isinstance(value, str) else None
    if at is None or at.tzinfo is None:
        raise ValueError("a timestamp is missing or has no time zone")
    return str(value)


@router.register("pull_request", action="labeled")
async def labeled(event: sansio.Event, triage: Triage) -> None:
    """A `promote:<ring>` label works like `/promote <ring>` for whoever added it."""
    data = event.data
    name = str((data.get("label") or {}).get("name", ""))
    sender = data.get("sender") or {}
    if not name.lower().startswith(LABEL_PREFIX) or sender.get("type") == "Bot":
        return
    triage.enqueue(
        LabelKey(
            events.installation(event),
            events.repo(event),
            int(data["pull_request"]["number"]),
            name,
            str(sender.get("login", "")),
            _timestamp(data["pull_request"].get("updated_at")),
        )
    )


@dataclass(frozen=True)
class Asker:
    """Who asked, with what permission, and when they wrote the command."""

    login: str
    permission: Permission
    written_at: datetime | None


@dataclass(frozen=True)
class Outcome:
    """What a command did: the reply text and whether it was refused."""

    text: str
    refused: bool


async def command_job(ctx: Ctx, key: CommandKey) -> None:
    """Acknowledge, run every command of the comment, reply once, react with the result."""
    config = await snapshot.load_config(ctx)
    rings = [r.name for r in config.rings] if isinstance(config, Config) else []
    parsed = parse_commands(key.body, rings)
    if not parsed:
        return
    # 200 instead of 201 means we saw this comment before (a redelivery): look before writing.
    first_time = await react(ctx, key.comment_id, "eyes")
    written_at = parse_time(key.written_at)
    outcomes = [
        await run_safely(ctx, config, key.number, key.author, item, written_at) for item in parsed
    ]
    text = "\n\n".join(o.text for o in outcomes)
    await reply(
        ctx,
        key.number,
        f"@{key.author}\n\n{text}",
        marker=reply_marker(key.comment_id),
        check_first=not first_time,
    )
    refused = any(o.refused for o in outcomes)
    await react(ctx, key.comment_id, "confused" if refused else "rocket")


async def label_job(ctx: Ctx, key: LabelKey) -> None:
    """Run a `promote:<ring>` label as a command, then take the label off."""
    config = await snapshot.load_config(ctx)
    rings = [r.name for r in config.rings] if isinstance(config, Config) else []
    command = parse_label(key.label, rings)
    if command is None:
        return
    outcome = await run_safely(
        ctx, config, key.number, key.actor, command, parse_time(key.written_at)
    )
    # One reply per label and person: a retried job edits it instead of replying twice.
    marker = f"<!-- ringbot:label:{key.label}:{key.actor} -->"
    await reply(
        ctx,
        key.number,
        say.render_label_reply(key.actor, key.label, outcome.text),
        marker=marker,
        check_first=True,
    )
    await remove_label(ctx, key.number, key.label)


async def run_safely(
    ctx: Ctx,
    config: Config | ConfigErrors,
    number: int,
    actor: str,
    item: Command | CommandError,
    written_at: datetime | None = None,
) -> Outcome:
    """Run one command; a missing ring environment is a refusal with what to do, not a crash."""
    try:
        return await run(ctx, config, number, actor, item, written_at)
    except EnvironmentMissing as exc:
        log(30, "ring environment missing", repo=ctx.repo, environment=exc.environment)
        return Outcome(f"😕 {exc}", True)
    except BadRequest as exc:
        if is_throttled(exc):
            raise  # the job runs again once GitHub lets us
        # GitHub refused for good: say so rather than leave the 👀 hanging.
        log(30, "command refused by GitHub", repo=ctx.repo, status=int(exc.status_code))
        return Outcome(
            f"😕 GitHub refused a request ringbot needed (HTTP {int(exc.status_code)}): "
            f"{str(exc)[:200]}. Nothing was changed; check the App's permissions and try again.",
            True,
        )


async def run(
    ctx: Ctx,
    config: Config | ConfigErrors,
    number: int,
    actor: str,
    item: Command | CommandError,
    written_at: datetime | None = None,
) -> Outcome:
    """Run one parsed command and say what happened; it acts on the releases current when it
    was `written_at`."""
    if isinstance(config, ConfigErrors):
        # The errors quote the file, and a file can say anything: echo them inert.
        errors = "\n".join(f"- {inert(str(e))}" for e in config.errors)
        return Outcome(
            "😕 ringbot will not act on this repository until `.github/ringbot.yml` is fixed:\n"
            + errors,
            True,
        )
    if isinstance(item, CommandError):
        return Outcome(f"😕 `{item.line}`: {item.message}", True)
    if item.name == "help":
        return Outcome(HELP, False)
    if item.name == "status":
        states = await ring_snapshot.all_rings(ctx, config)
        return Outcome(
            say.render_ring_table(config, states, ctx.now(), ctx.identity.bot_login), False
        )
    permission = await snapshot.permission(ctx, actor)
    if item.name in ("feature", "features"):
        text, refused = await features.command(ctx, config, actor, permission, item)
        return Outcome(text, refused)
    pull = await snapshot.pull_request(ctx, number)
    asker = Asker(actor, permission, written_at)
    if item.name == "promote" and item.ring:
        return await promote(ctx, config, pull, asker, item.ring)
    if item.name == "approve":
        return await sign_off(ctx, config, pull, asker, item.ring)
    if item.name == "reject":
        return await reject(ctx, config, pull, asker, item.ring, item.reason)
    if item.name == "rollback" and item.ring:
        return await rollback(ctx, config, pull, asker, item.ring)
    text, refused = await features.command(ctx, config, actor, permission, item)
    return Outcome(text, refused)


async def _contained(ctx: Ctx, pull: PullRequest, state: RingState) -> bool | None:
    release = current_release(state, ctx.identity.bot_login)
    if release is None or not pull.merged or not pull.merge_commit_sha:
        return None
    return await ring_snapshot.contains(ctx, pull.merge_commit_sha, release.sha)


async def promote(
    ctx: Ctx, config: Config, pull: PullRequest, asker: Asker, target: str
) -> Outcome:
    """`/promote <ring>`: deploy the previous ring's current release, if the rules allow."""
    ring = config.ring(target)
    before = config.previous(ring) if ring else None
    deployments = await ring_snapshot.recent_deployments(ctx)
    previous = (
        await ring_snapshot.ring_state(ctx, config, before, deployments, back_to=asker.written_at)
        if before
        else None
    )
    into = await ring_snapshot.ring_state(ctx, config, ring, deployments) if ring else None
    contained = await _contained(ctx, pull, previous) if previous else None
    signers = await ring_snapshot.signer_permissions(ctx, ring, previous) if ring else None

    decide = partial(
        decide_promotion,
        config=config,
        target=target,
        previous=previous,
        target_state=into,
        actor=asker.login,
        actor_permission=asker.permission,
        signer_permissions=signers,
        pr_merged=pull.merged,
        pr_contained=contained,
        now=ctx.now(),
        bot_login=ctx.identity.bot_login,
        written_at=asker.written_at,
    )
    decision = decide()
    if decision.should_deploy and decision.sha:
        # Before anything moves: a rejection recorded in any other ring counts too.
        others = await ring_snapshot.elsewhere(
            ctx, config, decision.sha, deployments, (previous, into)
        )
        decision = decide(elsewhere=others) if others else decision
    deployment_id = None
    if decision.should_deploy and into is not None and decision.sha:
        deployment_id = await enter(ctx, config, into, decision.sha, f"/promote by @{asker.login}")
    return Outcome(
        say.render_promotion(config, decision, deployment_id=deployment_id), not decision.allowed
    )


async def _rings_with_containment(
    ctx: Ctx, config: Config, pull: PullRequest, asker: Asker, ring: str | None
) -> tuple[list[RingState], dict[str, bool]]:
    """Every ring's state, and whether its current release holds the PR (only the named ring,
    when one is named; the default needs them all)."""
    states = await ring_snapshot.all_rings(ctx, config, back_to=asker.written_at)
    contained: dict[str, bool] = {}
    checked: dict[str, bool] = {}  # release SHA -> answer: rings often share a release
    for state in states:
        if ring is not None and state.ring.name != ring:
            continue
        release = current_release(state, ctx.identity.bot_login)
        if release is not None and release.sha not in checked:
            checked[release.sha] = await _contained(ctx, pull, state) is True
        contained[state.ring.name] = checked.get(release.sha, False) if release else False
    return states, contained


async def sign_off(
    ctx: Ctx, config: Config, pull: PullRequest, asker: Asker, ring: str | None
) -> Outcome:
    """`/approve [ring]`: record a sign-off on that ring's current release."""
    states, contained = await _rings_with_containment(ctx, config, pull, asker, ring)
    decide = partial(
        decide_signoff,
        config=config,
        ring=ring,
        rings=states,
        pr_contained_in=contained,
        actor=asker.login,
        actor_permission=asker.permission,
        now=ctx.now(),
        bot_login=ctx.identity.bot_login,
        written_at=asker.written_at,
    )
    decision = decide(release_authors=frozenset())
    if decision.should_write and decision.ring and "author" in decision.ring.signoff_not:
        # Only a sign-off that would be written needs to know who wrote the release's changes:
        # every change it lets past the next ring, not only those new in this ring (else an
        # author signs off their own change once someone else's is merged on top).
        after = config.next(decision.ring)
        ahead = next((st for st in states if after and st.ring.name == after.name), None)
        live = current_release(ahead, ctx.identity.bot_login) if ahead else None
        authors = await visibility.release_authors(
            ctx, decision.sha or "", live.sha if live else None
        )
        decision = decide(release_authors=authors)
    if decision.should_write and decision.deployment_id is not None:
        await deploy.record(ctx, decision.deployment_id, "success", decision.description)
    return Outcome(say.render_signoff(config, decision, asker.login), not decision.allowed)


async def reject(
    ctx: Ctx, config: Config, pull: PullRequest, asker: Asker, ring: str | None, reason: str
) -> Outcome:
    """`/reject [ring] <reason>`: mark the release rejected on every deployment it has."""
    actor = asker.login
    states, contained = await _rings_with_containment(ctx, config, pull, asker, ring)
    decision = decide_rejection(
        config=config,
        ring=ring,
        rings=states,
        pr_contained_in=contained,
        actor=actor,
        actor_permission=asker.permission,
        reason=reason,
        bot_login=ctx.identity.bot_login,
        written_at=asker.written_at,
    )
    if decision.allowed and decision.sha:
        # Deployments of this SHA beyond the first page of any ring are read by SHA.
        extra = await ring_snapshot.recent_deployments(ctx, sha=decision.sha)
        marks = set(decision.deployment_ids_to_mark)
        marked = {d.id for s in states for d in s.deployments if d.sha == decision.sha} - marks
        description = decision.description or encode_rejection(actor, reason)
        for dep in extra:
            if int(dep["id"]) not in marked:
                marks.add(int(dep["id"]))
        known = {d.id: d for s in states for d in s.deployments}
        for dep_id in sorted(marks):
            # The entry repeats the deployment's own state, so GitHub keeps showing what the CD
            # said (a failed deploy must not turn green because it was rejected).
            record = known.get(dep_id) or DeploymentRecord(
                dep_id, decision.sha, "", ctx.now(), "", await ring_snapshot.statuses(ctx, dep_id)
            )
            state = cd_state(record, ctx.identity.bot_login)
            await deploy.record(ctx, dep_id, state, description)
        if decision.ring is not None:
            await visibility.rejected(ctx, config, decision.sha, decision.ring.name, actor, reason)
    log(20, "release rejected", repo=ctx.repo, sha=decision.sha, allowed=decision.allowed)
    return Outcome(say.render_rejection(decision, actor, reason), not decision.allowed)


async def rollback(ctx: Ctx, config: Config, pull: PullRequest, asker: Asker, ring: str) -> Outcome:
    """`/rollback <ring>`: redeploy the ring's previous good, unrejected release."""
    states = await ring_snapshot.all_rings(ctx, config, whole=True)
    target = next((s for s in states if s.ring.name == ring), None)
    shas = {d.sha for s in states for d in s.deployments}
    rejected = frozenset(
        sha for sha in shas if rejection_of(sha, states, ctx.identity.bot_login) is not None
    )
    state = target or RingState(config.rings[0])
    decision = decide_rollback(
        config=config,
        ring=ring,
        ring_state=state,
        rejected_shas=rejected,
        actor_permission=asker.permission,
        bot_login=ctx.identity.bot_login,
        pr_contained=await _rolled_back_contains(ctx, pull, state),
        actor=asker.login,
        written_at=asker.written_at,
    )
    deployment_id = None
    if decision.should_deploy and decision.sha:
        deployment_id = await enter(
            ctx, config, state, decision.sha, f"/rollback by @{asker.login}"
        )
    return Outcome(say.render_rollback(decision, deployment_id=deployment_id), not decision.allowed)


async def _rolled_back_contains(ctx: Ctx, pull: PullRequest, state: RingState) -> bool | None:
    """Whether the release being rolled back (the current one, else the newest) has the PR."""
    pivot = current_release(state, ctx.identity.bot_login) or newest(state)
    if pivot is None or not pull.merged or not pull.merge_commit_sha:
        return None
    return await ring_snapshot.contains(ctx, pull.merge_commit_sha, pivot.sha)


JOBS = {CommandKey: command_job, LabelKey: label_job}
