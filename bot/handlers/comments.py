"""Commands: `/promote`, `/approve`, `/reject`, `/rollback`, `/hotfix`, `/status`, `/help` in pull-request
comments, and `promote:<ring>` labels. Each runs: snapshot -> decide -> apply -> reply."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from typing import assert_never

from gidgethub import BadRequest, routing, sansio

from ..commands import (
    HELP,
    LABEL_PREFIX,
    Approve,
    Command,
    CommandError,
    Freeze,
    Help,
    Hotfix,
    ListFeatures,
    Promote,
    Reject,
    Rollback,
    SetFeature,
    Status,
    Unfreeze,
    parse_commands,
    parse_label,
)
from ..config import Config, ConfigErrors
from ..context import Ctx
from ..effects import rings as ring_effects
from ..effects.deployments import record
from ..effects.freezes import remove_freeze, write_freeze
from ..effects.replies import react, remove_label, reply, reply_marker
from ..effects.toggles import apply_sync
from ..effects.variables import EnvironmentMissing, read_variables
from ..github import is_throttled
from ..ledger import current_release
from ..logs import log
from ..messages import rings as say
from ..messages.dry_run import render_dry_run
from ..messages.features import render_feature, render_features
from ..messages.freezes import closed_note, render_freeze, render_unfreeze
from ..messages.guardrails import render_protection
from ..messages.hotfix import render_hotfix
from ..messages.text import inert
from ..messages.verify import verify_note
from ..policy.dry_run import decide_dry_run
from ..policy.features import (
    RECORD_VARIABLE,
    decide_feature_command,
    decode_record,
    feature_table,
    plan_ring_sync,
    split_overrides,
)
from ..policy.freezes import decide_freeze
from ..policy.guardrails import accept_text
from ..policy.hotfix import HotfixDecision, decide_hotfix, lane_off
from ..policy.rings import (
    Ask,
    Promotion,
    RejectionDecision,
    RingCommand,
    RingsView,
    SignOffDecision,
    closure_of,
    decide,
    missing_signoffs,
)
from ..policy.verify import of_release
from ..snapshot.dry_run import read_shipping
from ..snapshot.freezes import read_freeze, read_freezes
from ..snapshot.guardrails import read_protection
from ..snapshot.history import default_branch
from ..snapshot.hotfix import read_for_hotfix
from ..snapshot.pulls import ok, permission
from ..snapshot.reads import parse_time
from ..snapshot.repo_config import load_config
from ..snapshot.rings import read_for_command, read_status
from ..webhook import Triage
from ..work import CommandKey, LabelKey, RingsKey
from . import events

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
class Outcome:
    """What a command did: the reply text and whether it was refused."""

    text: str
    refused: bool


async def command_job(ctx: Ctx, key: CommandKey) -> None:
    """Acknowledge, run every command of the comment, reply once, react with the result."""
    config = await load_config(ctx)
    rings = [r.name for r in config.rings] if isinstance(config, Config) else []
    parsed = parse_commands(key.body, rings)
    if not parsed:
        return
    # 👀 goes up while the commands run: nothing they do waits for it. 200 instead of 201 means
    # we saw this comment before (a redelivery): the reply then looks before writing.
    eyes = asyncio.ensure_future(react(ctx, key.comment_id, "eyes"))
    written_at = parse_time(key.written_at)
    try:
        outcomes = [
            await run_safely(ctx, config, key.number, key.author, item, written_at)
            for item in parsed
        ]
    finally:
        # Awaited however the commands ended, so the reaction is never left running.
        done = await asyncio.gather(eyes, return_exceptions=True)
    # The commands have run by now: a failed 👀 must not cost their reply (nor, on a retry, run
    # them again). Without its answer the reply looks before it writes.
    first_time = done[0] if isinstance(done[0], bool) else False
    if not isinstance(done[0], bool):
        log(30, "could not react to a command", repo=ctx.repo, error=type(done[0]).__name__)
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
    config = await load_config(ctx)
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
    was `written_at`. The one place commands are told apart."""
    if isinstance(config, ConfigErrors):
        # The errors quote the file, and a file can say anything: echo them inert.
        errors = "\n".join(f"- {inert(str(e))}" for e in config.errors)
        return Outcome(
            "😕 ringbot will not act on this repository until `.github/ringbot.yml` is fixed:\n"
            + errors,
            True,
        )
    match item:
        case CommandError():
            return Outcome(f"😕 `{item.line}`: {item.message}", True)
        case Help():
            return Outcome(HELP, False)
        case Status():
            view = await read_status(ctx, config)
            view = replace(view, freezes=await read_freezes(ctx, config.rings))
            notes = {
                ring.name: closed_note(found, config.timezone, view.now)
                for ring in config.rings
                if (found := closure_of(view, ring)) is not None
            }
            for ring in config.rings:
                # 🔬 where the ring verifies its current release.
                release = current_release(view.state(ring), view.bot_login)
                if not ring.verify or release is None:
                    continue
                found_v = of_release(ring, release, view.checks, view.now, view.bot_login)
                if found_v is not None:
                    note = verify_note(found_v)
                    notes[ring.name] = (
                        f"{notes[ring.name]} · {note}" if ring.name in notes else note
                    )
            table = say.render_ring_table(
                config,
                view.rings,
                view.now,
                view.bot_login,
                closed=notes,
                missing=missing_signoffs(view),
            )
            # Guardrails: what the repository's settings do not enforce (cached an hour).
            guard = render_protection(await read_protection(ctx, config))
            return Outcome(f"{table}\n\n{guard}" if guard else table, False)
        case ListFeatures():
            return await list_features(ctx, config)
        case SetFeature():
            return await set_feature(ctx, config, actor, item)
        case Freeze() | Unfreeze():
            return await freeze_command(ctx, config, actor, item)
        case Hotfix():
            return await hotfix_command(ctx, config, number, item, actor)
        case Promote() if item.dry_run:
            return await dry_run(ctx, config, number, item, actor, written_at)
        case Promote() | Approve() | Reject() | Rollback():
            return await ring_command(ctx, config, number, item, actor, written_at)
        case _:
            assert_never(item)


async def ring_command(
    ctx: Ctx,
    config: Config,
    number: int,
    command: RingCommand,
    actor: str,
    written_at: datetime | None,
) -> Outcome:
    """A ring command: read the rings once, decide, apply the decision, say what happened."""
    # Who asks and what the rings hold do not depend on each other: read together.
    both = await asyncio.gather(
        permission(ctx, actor),
        read_for_command(ctx, config, number, command, written_at, actor),
        return_exceptions=True,
    )
    ask = Ask(command, actor, ok(both[0]), written_at)
    view = await _with_freeze(ctx, config, ok(both[1]), command)
    decision = decide(view, ask)
    command, actor = ask.command, ask.actor
    match decision:
        case Promotion() if isinstance(command, Rollback):
            reason = f"/rollback by @{actor}"
            created = await _deploy(ctx, config, view, decision, reason, rollback=True)
            text = say.render_rollback(decision, deployment_id=created)
        case Promotion():
            why = f"/promote by @{actor}" + (
                accept_text(decision.accepts) if decision.accepts else ""
            )
            accepted = (actor, tuple(u.sha for u in decision.accepts)) if decision.accepts else None
            created = await _deploy(ctx, config, view, decision, why, accepted=accepted)
            text = say.render_promotion(config, decision, deployment_id=created)
        case SignOffDecision():
            if decision.should_write and decision.deployment_id is not None:
                await record(ctx, decision.deployment_id, "success", decision.description)
            text = say.render_signoff(config, decision, actor)
        case RejectionDecision():
            if decision.allowed:
                await ring_effects.reject(ctx, config, decision)
            log(20, "release rejected", repo=ctx.repo, sha=decision.sha, allowed=decision.allowed)
            reason = command.reason if isinstance(command, Reject) else ""
            text = say.render_rejection(decision, actor, reason)
        case _:
            assert_never(decision)
    return Outcome(text, not decision.allowed)


async def _with_freeze(
    ctx: Ctx, config: Config, view: RingsView, command: RingCommand
) -> RingsView:
    """The view with the freeze of the ring a `/promote` would enter: nothing enters a frozen
    ring, and the freeze is read from the ring's environment."""
    target = config.ring(command.ring) if isinstance(command, Promote) else None
    if target is None:
        return view
    freeze = await read_freeze(ctx, target)
    return replace(view, freezes={target.name: freeze} if freeze else {})


async def _deploy(
    ctx: Ctx,
    config: Config,
    view: RingsView,
    decision: Promotion,
    reason: str,
    *,
    rollback: bool = False,
    accepted: tuple[str, tuple[str, ...]] | None = None,
) -> int | None:
    """Create the deployment a promotion or rollback decided on, if it decided on one."""
    if not decision.should_deploy or decision.target is None or not decision.sha:
        return None
    state = view.state(decision.target)
    return await ring_effects.enter(
        ctx, config, state, decision.sha, reason, rollback=rollback, accepted=accepted
    )


async def dry_run(
    ctx: Ctx,
    config: Config,
    number: int,
    command: Promote,
    actor: str,
    written_at: datetime | None,
) -> Outcome:
    """`/promote <ring> --dry-run`: the reads and rules of `/promote`, then what would ship and
    which `FEATURE_` values would change. Only reads: the caller's reply and reactions are the
    only writes."""
    both = await asyncio.gather(
        permission(ctx, actor),
        read_for_command(ctx, config, number, command, written_at),
        return_exceptions=True,
    )
    ask = Ask(command, actor, ok(both[0]), written_at)
    view = await _with_freeze(ctx, config, ok(both[1]), command)
    moving = decide_dry_run(view, ask).promotion
    ring = moving.target
    history, pulls = await read_shipping(ctx, moving.sha)
    variables = (
        await read_variables(ctx, ring.environment)
        if ring is not None and config.features
        else None
    )
    dry = decide_dry_run(view, ask, history=history, pulls=pulls, variables=variables)
    return Outcome(render_dry_run(dry), not dry.promotion.allowed)


async def hotfix_command(
    ctx: Ctx, config: Config, number: int, command: Hotfix, actor: str
) -> Outcome:
    """`/hotfix <ring>`: read the lane's facts, decide, deploy with the hotfix in the payload."""
    if config.hotfix is None:
        # The lane is off: nothing to read (see policy.hotfix.lane_off).
        decision = HotfixDecision(config.ring(command.ring), refusals=(lane_off(),))
        return Outcome(render_hotfix(decision), True)
    both = await asyncio.gather(
        permission(ctx, actor),
        read_for_hotfix(ctx, config, number, command.ring),
        return_exceptions=True,
    )
    view = ok(both[1])
    decision = decide_hotfix(view, command.ring, actor, ok(both[0]))
    created = None
    if decision.should_deploy and decision.target is not None and decision.sha:
        state = view.rings.state(decision.target)
        created = await ring_effects.enter(
            ctx, config, state, decision.sha, f"/hotfix by @{actor}", hotfix=decision.mark
        )
        log(20, "hotfix", repo=ctx.repo, ring=decision.target.name, sha=decision.sha, by=actor)
    return Outcome(render_hotfix(decision, deployment_id=created), not decision.allowed)


async def freeze_command(ctx: Ctx, config: Config, actor: str, item: Freeze | Unfreeze) -> Outcome:
    """`/freeze` and `/unfreeze`: store (or remove) the freeze on each ring's environment."""
    now = ctx.now()
    decision = decide_freeze(config, item, actor, await permission(ctx, actor), now)
    if not decision.allowed:
        text = (
            render_freeze(decision, config.timezone, now)
            if isinstance(item, Freeze)
            else render_unfreeze(decision, ())
        )
        return Outcome(text, True)
    if decision.freeze is not None:
        for ring in decision.rings:
            await write_freeze(ctx, ring, decision.freeze)
        log(20, "rings frozen", repo=ctx.repo, rings=item.ring or "all", by=actor)
        return Outcome(render_freeze(decision, config.timezone, now), False)
    removed = [ring.name for ring in decision.rings if await remove_freeze(ctx, ring, actor)]
    if removed:
        log(20, "rings unfrozen", repo=ctx.repo, rings=",".join(removed), by=actor)
        # The automatic rings catch up now, not at the next event.
        ctx.later(RingsKey(ctx.installation, ctx.repo, await default_branch(ctx)), 0)
    return Outcome(render_unfreeze(decision, removed), False)


async def list_features(ctx: Ctx, config: Config) -> Outcome:
    """`/features`: the flag × ring table and where each value comes from."""
    environments = {
        ring.name: await read_variables(ctx, ring.environment)
        for ring in (config.rings if config.features else ())
    }
    return Outcome(render_features(feature_table(config, environments, ctx.now())), False)


async def set_feature(ctx: Ctx, config: Config, actor: str, item: SetFeature) -> Outcome:
    """`/feature <flag> on|off <ring>`: override one flag in one ring, and sync that ring."""
    actor_permission = await permission(ctx, actor)
    ring = config.ring(item.ring)
    variables = await read_variables(ctx, ring.environment) if ring is not None else None
    stored = decode_record((variables or {}).get(RECORD_VARIABLE), ring.name if ring else "")
    live, _ = split_overrides(config, stored.overrides, ctx.now())
    decision = decide_feature_command(
        config=config,
        flag=item.flag,
        enabled=item.enabled,
        ring=item.ring,
        actor=actor,
        actor_permission=actor_permission,
        overrides=live,
        now=ctx.now(),
    )
    if decision.allowed and ring is not None:
        # Even when the override set stays, the ring is synced: the reply must be true.
        sync = plan_ring_sync(config, ring, variables, ctx.now(), decision.overrides)
        await apply_sync(ctx, ring, sync, f"/feature by @{actor}")
        log(
            20,
            "feature override",
            repo=ctx.repo,
            ring=ring.name,
            flag=decision.flag,
            enabled=decision.enabled,
            outcome=decision.outcome,
            by=actor,
        )
    return Outcome(render_feature(decision, item.line), not decision.allowed)


JOBS = {CommandKey: command_job, LabelKey: label_job}
