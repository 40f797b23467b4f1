"""Pure markdown for ring decisions: replies to ring commands, the `/status` table and `/help`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.config import Config
from bot.ledger import (
    FAILED,
    IN_FLIGHT,
    RingState,
    cd_state,
    cd_state_at,
    current_release,
    hotfix_of,
    live_since,
    newest,
    rejection,
    rollback_hold,
    signoffs,
)
from bot.messages.hotfix import hotfix_note
from bot.messages.text import code, humanise, inert, short
from bot.policy.refusals import Refusal
from bot.policy.rings import Promotion, RejectionDecision, SignOffDecision
from bot.policy.visibility import reach

NONE = "—"


def render_label_reply(actor: str, label: str, text: str) -> str:
    """The reply to a `promote:<ring>` label: who added it, the label as they named it, the text."""
    # The label is anyone's text: in a code span it pings no one and holds no marker.
    return f"@{actor} (label {code(label)})\n\n{text}"


def render_refusals(title: str, refusals: Sequence[Refusal]) -> str:
    """😕 A title, then one bullet per failed condition with what to do about it."""
    bullets = [f"- {r.message}" + (f" — {r.hint}" if r.hint else "") for r in refusals]
    return "\n".join([f"😕 {title}", "", *bullets])


def render_promotion(
    config: Config, promotion: Promotion, *, deployment_id: int | None = None
) -> str:
    """The reply to `/promote` (or the note on an automatic entry)."""
    target = promotion.target
    if target is None or not promotion.allowed:
        name = f" to {target.name}" if target is not None else ""
        return render_refusals(f"Cannot promote{name}:", promotion.refusals)
    sha = f"`{short(promotion.sha)}`"
    if promotion.already_done:
        return f"👍 {sha} is already in {target.name} (or on its way); nothing new was deployed."
    source = config.previous(target)
    what = (
        f"Promoting {sha} from {source.name} to {target.name}"
        if source is not None
        else f"Deploying {sha} to {target.name}"
    )
    created = f": deployment {deployment_id} created" if deployment_id is not None else ""
    return f"🚀 {what}{created}"


def render_rollback(promotion: Promotion, *, deployment_id: int | None = None) -> str:
    """The reply to `/rollback`."""
    target = promotion.target
    if target is None or not promotion.allowed:
        name = f" {target.name}" if target is not None else ""
        return render_refusals(f"Cannot roll back{name}:", promotion.refusals)
    sha = f"`{short(promotion.sha)}`"
    if promotion.already_done:
        return f"👍 {target.name} is already on {sha} (or rolling back to it); nothing new was deployed."
    created = f": deployment {deployment_id} created" if deployment_id is not None else ""
    return f"⏪ Rolling back {target.name} to {sha}{created}"


def render_signoff(config: Config, decision: SignOffDecision, actor: str) -> str:
    """The reply to `/approve`, with the next step when there is one."""
    ring = decision.ring
    if ring is None or not decision.allowed:
        name = f" in {ring.name}" if ring is not None else ""
        return render_refusals(f"Cannot sign off{name}:", decision.refusals)
    sha = f"`{short(decision.sha)}`"
    following = config.next(ring)
    # Who is still missing (signoff.teams, approvals): said instead of the next step.
    still = (
        f"Before {following.name}, the release still {decision.missing}."
        if decision.missing and following is not None
        else ""
    )
    if decision.already_done:
        done = f"👍 @{actor} had already signed off {sha} in {ring.name}."
        return f"{done}\n\n{still}" if still else done
    lines = [f"✅ @{actor} signed off {sha} in {ring.name}."]
    if still:
        lines.append(still)
    elif following is not None and following.auto:
        lines.append(f"It enters {following.name} by itself once the ring rules allow it.")
    elif following is not None:
        lines.append(f"Next: `/promote {following.name}`.")
    return "\n\n".join(lines)


def render_rejection(decision: RejectionDecision, actor: str, reason: str) -> str:
    """The reply to `/reject`."""
    ring = decision.ring
    if ring is None or not decision.allowed:
        name = f" in {ring.name}" if ring is not None else ""
        return render_refusals(f"Cannot reject{name}:", decision.refusals)
    sha = f"`{short(decision.sha)}`"
    if decision.already_done and decision.rejection is not None:
        earlier = decision.rejection
        why = f": {inert(earlier.reason)}" if earlier.reason else ""
        return f"⛔ {sha} was already rejected by @{earlier.user}{why}"
    return (
        f"⛔ @{actor} rejected {sha} in {ring.name}: {inert(reason)}\n\n"
        "It will never be promoted again; every pull request in it is told why."
    )


def _ago(now: datetime, then: datetime) -> str:
    minutes = int((now - then).total_seconds()) // 60
    return f"{humanise(timedelta(minutes=minutes))} ago" if minutes > 0 else "just now"


def _row(state: RingState, now: datetime, bot_login: str) -> tuple[str, str, str, str]:
    """(release, state, since, by) for one ring."""
    current = current_release(state, bot_login)
    latest = newest(state)
    if current is not None:
        status = "rejected" if rejection(current, bot_login) is not None else "live"
        if latest is not None and latest is not current:
            latest_state = cd_state(latest, bot_login)
            if latest_state in IN_FLIGHT:
                status += f" · `{short(latest.sha)}` deploying"
            elif latest_state in FAILED:
                status += f" · `{short(latest.sha)}` failed"
        since = live_since(current, bot_login) or current.created_at
        names = ", ".join(f"@{s.user}" for s in signoffs(current, bot_login)) or NONE
        return f"`{short(current.sha)}`", status, _ago(now, since), names
    if latest is None:
        return NONE, "waiting", NONE, NONE
    latest_state = cd_state(latest, bot_login)
    if rejection(latest, bot_login) is not None:
        status = "rejected"
    elif latest_state in IN_FLIGHT:
        status = "deploying"
    elif latest_state in FAILED:
        status = "failed"
    else:
        status = "waiting"
    return f"`{short(latest.sha)}`", status, _ago(now, cd_state_at(latest, bot_login)), NONE


def held_note(state: RingState, bot_login: str) -> str:
    """` · ⏪ held …` on an automatic ring a rollback holds (see `ledger.rollback_hold`)."""
    held = rollback_hold(state, bot_login) if state.ring.auto else None
    if held is None:
        return ""
    who = f" by @{held.promoter}" if held.promoter else ""
    return f" · ⏪ held: rolled back{who}, waits for `/promote {state.ring.name}`"


def render_ring_table(
    config: Config,
    rings: Sequence[RingState],
    now: datetime,
    bot_login: str,
    *,
    closed: Mapping[str, str] | None = None,
    missing: Mapping[str, str] | None = None,
) -> str:
    """The `/status` table: each ring, its release, state, since when, signed off by, reach;
    `closed` (ring -> a 🧊 note, see messages.freezes) marks the rings closed now; `missing`
    (ring -> "needs 1 more sign-off from a member of @acme/qa") says who is still missing."""
    by_name = {state.ring.name: state for state in rings}
    lines = [
        "| ring | release | state | since | signed off by | users reached |",
        "|---|---|---|---|---|---|",
    ]
    for ring in config.rings:
        state = by_name.get(ring.name, RingState(ring))
        release, status, since, names = _row(state, now, bot_login)
        if missing and ring.name in missing:
            names = f"{names} · {missing[ring.name]}" if names != NONE else missing[ring.name]
        status += held_note(state, bot_login)
        current = current_release(state, bot_login)
        mark = hotfix_of(current, bot_login) if current is not None else None
        if mark is not None:
            status += f" · {hotfix_note(mark)}"
        if closed and ring.name in closed:
            status += f" · {closed[ring.name]}"
        users = reach(config, ring)
        reached = f"{users:,}" if users is not None else NONE
        lines.append(f"| {ring.name} | {release} | {status} | {since} | {names} | {reached} |")
    return "\n".join(lines)
