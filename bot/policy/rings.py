"""Ring decisions: may a release enter a ring, be signed off, rejected or rolled back, and why.

Everything here is pure. The caller reads each ring's deployments (newest first) and passes the time
in; a decision carries every reason it was refused, so the reply can say what to do next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.config import Config, RingConfig
from bot.ledger import (
    FAILED,
    IN_FLIGHT,
    DeploymentRecord,
    DeploymentStatusRecord,
    Rejection,
    SignOff,
    cd_state,
    cd_statuses,
    encode_rejection,
    encode_signoff,
    live_since,
    rejection,
    same_login,
    signoffs,
)
from bot.messages.text import inert as text_inert
from bot.models import Permission

__all__ = [
    "DeploymentRecord",
    "DeploymentStatusRecord",
    "Promotion",
    "ProtectionDecision",
    "Refusal",
    "Rejection",
    "RejectionDecision",
    "RingState",
    "SignOff",
    "SignOffDecision",
    "cd_state",
    "counted_signoffs",
    "current_release",
    "decide_auto_entry",
    "decide_promotion",
    "decide_protection_rule",
    "decide_rejection",
    "decide_rollback",
    "decide_signoff",
    "humanise",
    "inert",
    "live_since",
    "newest",
    "rejection",
    "rejection_of",
    "release_at",
    "short",
    "signoffs",
]

# Signing off or rejecting a release needs write access, like approving a pull request.
SIGNOFF_PERMISSION: Final = Permission.WRITE
REJECT_PERMISSION: Final = Permission.WRITE


@dataclass(frozen=True)
class RingState:
    """One ring and its deployments, newest first (the first page is enough to find the current one)."""

    ring: RingConfig
    deployments: tuple[DeploymentRecord, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """One failed condition: a stable code, what is wrong, and what to do about it."""

    code: str
    message: str
    hint: str = ""


@dataclass(frozen=True)
class Promotion:
    """Deploy `sha` into `target` (a promotion, an automatic entry or a rollback), or why not."""

    target: RingConfig | None  # None only when the ring named in the command does not exist
    sha: str | None
    source_deployment_id: int | None
    refusals: tuple[Refusal, ...] = ()
    already_done: bool = False  # the target already has (or is getting) this SHA: deploy nothing

    @property
    def allowed(self) -> bool:
        """The rules allow this SHA in the target."""
        return self.sha is not None and not self.refusals

    @property
    def should_deploy(self) -> bool:
        """A new deployment is to be created now."""
        return self.allowed and not self.already_done


@dataclass(frozen=True)
class SignOffDecision:
    """Record a sign-off on one deployment, or why not."""

    ring: RingConfig | None
    deployment_id: int | None
    sha: str | None
    refusals: tuple[Refusal, ...] = ()
    already_done: bool = False  # the person had already signed off this release here
    description: str = ""  # the ledger text to write on the deployment

    @property
    def allowed(self) -> bool:
        """The sign-off may be recorded (or already was)."""
        return self.deployment_id is not None and not self.refusals

    @property
    def should_write(self) -> bool:
        """A ledger status is to be written now."""
        return self.allowed and not self.already_done


@dataclass(frozen=True)
class RejectionDecision:
    """Record a rejection on every deployment of a release, or why not."""

    ring: RingConfig | None
    sha: str | None
    deployment_ids_to_mark: tuple[int, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    already_done: bool = False  # the release was already rejected; only missing marks are healed
    description: str = ""  # the ledger text to write on each deployment to mark
    rejection: Rejection | None = None  # the earlier rejection, when already_done

    @property
    def allowed(self) -> bool:
        """The release may be (or already is) rejected."""
        return self.sha is not None and not self.refusals


@dataclass(frozen=True)
class ProtectionDecision:
    """The answer to a deployment protection rule request."""

    approved: bool
    comment: str


# --- derived facts ------------------------------------------------------------------------------


def short(sha: str | None) -> str:
    """The 7-character form people read."""
    return (sha or "")[:7]


def inert(text: str) -> str:
    """Someone's free text made safe to quote: one line, no @-mention that pings anyone, nothing
    that changes the markdown around it (one rule for every echo: `bot.messages.text.inert`)."""
    return text_inert(text)


def humanise(delta: timedelta) -> str:
    """A duration as people write it: "3h 20m", "1d 2h", "45m"; never "0m" for time still left."""
    minutes = -(-int(delta.total_seconds()) // 60)  # round up: "1m left", not "0m left"
    if minutes <= 0:
        return "0m"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n]
    return " ".join(parts)


def newest(state: RingState) -> DeploymentRecord | None:
    """The ring's newest deployment, whatever its state."""
    return _by_age(state.deployments)[0] if state.deployments else None


def _by_age(deployments: Iterable[DeploymentRecord]) -> list[DeploymentRecord]:
    """Newest first; ids break ties because GitHub hands them out in order."""
    return sorted(deployments, key=lambda d: (d.created_at, d.id), reverse=True)


def current_release(state: RingState, bot_login: str) -> DeploymentRecord | None:
    """The newest release deployment whose latest CD state is success (an auto-inactivated one
    is not). A foreign deployment (a commit that is no release) never counts."""
    for dep in _by_age(state.deployments):
        if not dep.foreign and cd_state(dep, bot_login) == "success":
            return dep
    return None


def release_at(state: RingState, bot_login: str, at: datetime) -> DeploymentRecord | None:
    """The ring's current release as it was at `at`: what someone writing then had in front of them."""
    for dep in _by_age(state.deployments):
        if dep.foreign or dep.created_at > at:
            continue
        seen = [s for s in cd_statuses(dep, bot_login) if s.created_at <= at]
        if seen and seen[-1].state == "success":
            return dep
    return None


def _moved_on(state: RingState, bot_login: str, written_at: datetime | None) -> Refusal | None:
    """A command acts on the release that was current when it was written, never a newer one:
    a retried `/approve` must not sign off a release the person never tested."""
    if written_at is None:
        return None
    now_current = current_release(state, bot_login)
    then = release_at(state, bot_login, written_at)
    now_sha = now_current.sha if now_current is not None else None
    then_sha = then.sha if then is not None else None
    if now_sha == then_sha:
        return None
    name = state.ring.name
    was = f"`{short(then_sha)}` was" if then_sha else "nothing was"
    is_now = f"`{short(now_sha)}` is" if now_sha else "nothing is"
    return Refusal(
        "moved_on",
        f"the release in {name} changed since your comment: {was} live there when you wrote "
        f"it, {is_now} now",
        f"check what is live in {name} now and comment again",
    )


def rejection_of(sha: str, states: Iterable[RingState], bot_login: str) -> Rejection | None:
    """The earliest rejection of `sha` on any of its deployments in the given rings."""
    found = [
        r
        for state in states
        for dep in state.deployments
        if dep.sha == sha and (r := rejection(dep, bot_login)) is not None
    ]
    return min(found, key=lambda r: r.at) if found else None


def _permission_of(user: str, permissions: Mapping[str, Permission]) -> Permission:
    """A person's permission; logins compare case-insensitively; unknown means none."""
    if user in permissions:
        return permissions[user]
    for login, permission in permissions.items():
        if same_login(login, user):
            return permission
    return Permission.NONE


def counted_signoffs(
    dep: DeploymentRecord,
    bot_login: str,
    least: Permission,
    signer_permissions: Mapping[str, Permission] | None,
) -> tuple[tuple[SignOff, ...], tuple[SignOff, ...]]:
    """(counted, ignored) sign-offs: only distinct people with at least `least` permission count.

    Without `signer_permissions` every recorded sign-off counts toward a ring that asks for
    write: the bot wrote it only after checking write access. A stricter ring needs the
    signers' permissions; without them nothing counts (fail closed).
    """
    all_signoffs = signoffs(dep, bot_login)
    if signer_permissions is None:
        return (all_signoffs, ()) if least <= Permission.WRITE else ((), all_signoffs)
    counted = tuple(s for s in all_signoffs if _permission_of(s.user, signer_permissions) >= least)
    ignored = tuple(s for s in all_signoffs if s not in counted)
    return counted, ignored


def _has_in_target(state: RingState, sha: str, bot_login: str) -> bool:
    """The target is live on `sha`, or its newest deployment is already bringing `sha` there."""
    current = current_release(state, bot_login)
    if current is not None and current.sha == sha:
        return True
    latest = newest(state)
    return (
        latest is not None
        and not latest.foreign
        and latest.sha == sha
        and cd_state(latest, bot_login) in IN_FLIGHT
    )


# --- refusals -----------------------------------------------------------------------------------


def _ring_names(config: Config) -> str:
    return ", ".join(f"`{ring.name}`" for ring in config.rings)


def _unknown_ring(config: Config, name: str) -> Refusal:
    return Refusal(
        "unknown_ring",
        f"there is no ring `{name}`",
        f"the rings are {_ring_names(config)}",
    )


def _first_ring(ring: RingConfig) -> Refusal:
    return Refusal(
        "first_ring",
        f"`{ring.name}` is the first ring",
        f"{ring.name} is entered automatically when the default branch is green",
    )


def _permission(actor: str, has: Permission, needs: Permission, what: str) -> Refusal:
    return Refusal(
        "permission",
        f"{what} needs {needs.label} permission; @{actor} has {has.label}",
        f"ask someone with {needs.label} access",
    )


def _not_live(state: RingState, bot_login: str, code: str) -> Refusal:
    """Nothing is live in the ring: say so, or say that its newest deployment failed."""
    name = state.ring.name
    latest = newest(state)
    if latest is not None and cd_state(latest, bot_login) in FAILED:
        return Refusal(
            "failed",
            f"the newest deployment in {name} (`{short(latest.sha)}`) failed",
            f"fix the deploy, or roll back with `/rollback {name}`",
        )
    if latest is not None:
        return Refusal(
            code,
            f"the release is not live in {name} yet (`{short(latest.sha)}` is deploying)",
            f"wait until its deployment in {name} succeeds",
        )
    return Refusal(code, f"the release is not live in {name} yet", f"wait until it reaches {name}")


def _not_contained(ring: str, release: DeploymentRecord, contained: bool | None) -> Refusal:
    if contained is None:
        return Refusal(
            "not_contained",
            f"could not check that the release live in {ring} (`{short(release.sha)}`) "
            "contains this pull request",
            "try again in a minute",
        )
    return Refusal(
        "not_contained",
        f"the release live in {ring} (`{short(release.sha)}`) does not contain this pull request",
        f"wait until a release with this pull request is live in {ring}",
    )


def _rejected(sha: str, found: Rejection) -> Refusal:
    why = f": {inert(found.reason)}" if found.reason else ""
    return Refusal(
        "rejected",
        f"`{short(sha)}` was rejected by @{found.user}{why}",
        "a rejection is final; merge a fix and let the next release go through the rings",
    )


def _ring_rules(
    *,
    target: RingConfig,
    source: RingState,
    release: DeploymentRecord,
    states: Sequence[RingState],
    now: datetime,
    bot_login: str,
    signer_permissions: Mapping[str, Permission] | None,
) -> list[Refusal]:
    """Not rejected, signed off and baked in the source ring: the rules on the release itself."""
    found = rejection_of(release.sha, states, bot_login)
    if found is not None:
        # Sign-offs and bake time cannot help a rejected release, so they are not asked for.
        return [_rejected(release.sha, found)]
    refusals: list[Refusal] = []
    ring = source.ring.name
    counted, ignored = counted_signoffs(release, bot_login, target.promoters, signer_permissions)
    own: tuple[SignOff, ...] = ()
    if release.promoter and "promoter" in source.ring.signoff_not:
        # Recorded before the rule was set: still not a second pair of eyes.
        own = tuple(s for s in counted if same_login(s.user, release.promoter))
        counted = tuple(s for s in counted if s not in own)
    missing = target.approvals - len(counted)
    if missing > 0:
        noun = "sign-off" if missing == 1 else "sign-offs"
        message = f"needs {missing} more {noun} in {ring}"
        if ignored:
            names = ", ".join(f"@{s.user}" for s in ignored)
            message += f" ({names}: below {target.promoters.label}, not counted)"
        if own:
            message += f" (@{own[0].user} deployed it there, not counted)"
        refusals.append(
            Refusal(
                "needs_signoff",
                message,
                f"someone with {target.promoters.label} access comments `/approve {ring}`",
            )
        )
    since = live_since(release, bot_login)
    if since is not None and target.bake > timedelta(0):
        left = since + target.bake - now
        if left > timedelta(0):
            refusals.append(
                Refusal(
                    "baking",
                    f"`{short(release.sha)}` has baked {humanise(now - since)} of "
                    f"{humanise(target.bake)} in {ring}; {humanise(left)} left",
                    f"try again in {humanise(left)}",
                )
            )
    return refusals


# --- decisions ----------------------------------------------------------------------------------


def decide_promotion(
    *,
    config: Config,
    target: str,
    previous: RingState | None,
    target_state: RingState | None,
    actor: str,
    actor_permission: Permission,
    signer_permissions: Mapping[str, Permission] | None,
    pr_merged: bool,
    pr_contained: bool | None,
    now: datetime,
    bot_login: str,
    elsewhere: Sequence[RingState] = (),  # other rings holding the SHA: a rejection anywhere counts
    written_at: datetime | None = None,  # when the command was written (None: a label, now)
) -> Promotion:
    """`/promote <target>`: deploy the previous ring's current release into `target`, or why not."""
    ring = config.ring(target)
    if ring is None:
        return Promotion(None, None, None, (_unknown_ring(config, target),))
    source_ring = config.previous(ring)
    if source_ring is None:
        return Promotion(ring, None, None, (_first_ring(ring),))
    source = previous if previous is not None else RingState(source_ring)
    into = target_state if target_state is not None else RingState(ring)

    refusals: list[Refusal] = []
    if actor_permission < ring.promoters:
        refusals.append(
            _permission(actor, actor_permission, ring.promoters, f"promoting to {target}")
        )
    release = current_release(source, bot_login)
    if not pr_merged:
        refusals.append(
            Refusal(
                "not_merged",
                "this pull request is not merged",
                "merge it first; its release enters the rings once the default branch is green",
            )
        )
    elif release is None:
        refusals.append(_not_live(source, bot_login, "not_in_previous"))
    elif pr_contained is not True:
        refusals.append(_not_contained(source_ring.name, release, pr_contained))
    if release is None:
        return Promotion(ring, None, None, tuple(refusals))
    moved = _moved_on(source, bot_login, written_at)
    if moved is not None:
        return Promotion(ring, release.sha, release.id, (*refusals, moved))
    if not pr_merged or pr_contained is not True:
        # The release is not this pull request's, so its sign-offs and bake time are no concern here.
        return Promotion(ring, release.sha, release.id, tuple(refusals))
    if _has_in_target(into, release.sha, bot_login):
        # Idempotent: a repeated command deploys nothing, whatever the ring rules say now.
        return Promotion(ring, release.sha, release.id, tuple(refusals), already_done=True)
    refusals += _ring_rules(
        target=ring,
        source=source,
        release=release,
        states=(source, into, *elsewhere),
        now=now,
        bot_login=bot_login,
        signer_permissions=signer_permissions,
    )
    return Promotion(ring, release.sha, release.id, tuple(refusals))


def decide_auto_entry(
    *,
    config: Config,
    ring: RingConfig,
    previous: RingState | None,
    target_state: RingState,
    candidate_sha: str | None,
    now: datetime,
    bot_login: str,
    signer_permissions: Mapping[str, Permission] | None = None,
    elsewhere: Sequence[RingState] = (),  # other rings holding the SHA: a rejection anywhere counts
) -> Promotion:
    """Enter an `auto: true` ring without a command, once the previous stage is satisfied.

    The first ring takes `candidate_sha`, the newest green default-branch commit. A later ring
    follows the previous ring's current release once it is signed off and baked there.
    """
    source_ring = config.previous(ring)
    if not ring.auto:
        return Promotion(
            ring,
            None,
            None,
            (
                Refusal(
                    "manual",
                    f"`{ring.name}` is not entered automatically",
                    f"comment `/promote {ring.name}`",
                ),
            ),
        )
    if source_ring is None:
        if candidate_sha is None:
            return Promotion(
                ring,
                None,
                None,
                (
                    Refusal(
                        "no_candidate",
                        "no default-branch commit is green yet",
                        "wait for the checks on the default branch",
                    ),
                ),
            )
        if _has_in_target(target_state, candidate_sha, bot_login):
            return Promotion(ring, candidate_sha, None, already_done=True)
        failed = _failed_before(target_state, candidate_sha, bot_login)
        if failed is not None:
            return Promotion(ring, candidate_sha, None, (failed,))
        found = rejection_of(candidate_sha, (target_state, *elsewhere), bot_login)
        refused = (_rejected(candidate_sha, found),) if found is not None else ()
        return Promotion(ring, candidate_sha, None, refused)

    source = previous if previous is not None else RingState(source_ring)
    release = current_release(source, bot_login)
    if release is None:
        return Promotion(ring, None, None, (_not_live(source, bot_login, "not_in_previous"),))
    if _has_in_target(target_state, release.sha, bot_login):
        return Promotion(ring, release.sha, release.id, already_done=True)
    failed = _failed_before(target_state, release.sha, bot_login)
    if failed is not None:
        return Promotion(ring, release.sha, release.id, (failed,))
    if any(d.sha == release.sha and live_since(d, bot_login) for d in target_state.deployments):
        # The ring had this release before and moved on: following the previous ring back would
        # be a rollback nobody asked for.
        return Promotion(
            ring,
            release.sha,
            release.id,
            (
                Refusal(
                    "skip",
                    f"`{short(release.sha)}` was live in {ring.name} before; "
                    "an automatic entry never goes back",
                    f"to go back, comment `/rollback {ring.name}`",
                ),
            ),
        )
    refusals = _ring_rules(
        target=ring,
        source=source,
        release=release,
        states=(source, target_state, *elsewhere),
        now=now,
        bot_login=bot_login,
        signer_permissions=signer_permissions,
    )
    return Promotion(ring, release.sha, release.id, tuple(refusals))


def _failed_before(state: RingState, sha: str, bot_login: str) -> Refusal | None:
    """An automatic entry never retries a deploy that failed: each retry would fail the same
    way and loop. A person retries with `/promote` (or ships a fix)."""
    latest = newest(state)
    if latest is None or latest.sha != sha or cd_state(latest, bot_login) not in FAILED:
        return None
    return Refusal(
        "failed",
        f"the deploy of `{short(sha)}` to {state.ring.name} failed",
        "merge a fix, or re-run the deploy in your CD so it posts a new status",
    )


def _state_of(rings: Sequence[RingState], ring: RingConfig) -> RingState:
    for state in rings:
        if state.ring.name == ring.name:
            return state
    return RingState(ring)


def _resolve_ring(
    config: Config,
    name: str | None,
    rings: Sequence[RingState],
    pr_contained_in: Mapping[str, bool],
    bot_login: str,
    verb: str,
) -> tuple[RingConfig | None, Refusal | None]:
    """The ring a command names, or by default the highest ring live on a release with this PR."""
    if name is not None:
        ring = config.ring(name)
        return (ring, None) if ring is not None else (None, _unknown_ring(config, name))
    for ring in reversed(config.rings):
        live = current_release(_state_of(rings, ring), bot_login) is not None
        if live and pr_contained_in.get(ring.name) is True:
            return ring, None
    return None, Refusal(
        "not_live",
        "no ring has a live release that contains this pull request",
        f"wait until it is live in {config.rings[0].name}, or name the ring: `/{verb} <ring>`",
    )


def _live_release_for(
    ring: RingConfig,
    rings: Sequence[RingState],
    pr_contained_in: Mapping[str, bool],
    bot_login: str,
) -> tuple[DeploymentRecord | None, Refusal | None]:
    """The ring's current release, provided it contains the pull request (unknown: refused)."""
    state = _state_of(rings, ring)
    release = current_release(state, bot_login)
    if release is None:
        return None, _not_live(state, bot_login, "not_live")
    contained = pr_contained_in.get(ring.name)
    if contained is not True:
        return None, _not_contained(ring.name, release, contained)
    return release, None


def decide_signoff(
    *,
    config: Config,
    ring: str | None,
    rings: Sequence[RingState],
    pr_contained_in: Mapping[str, bool],
    actor: str,
    actor_permission: Permission,
    now: datetime,
    bot_login: str,
    written_at: datetime | None = None,  # when the command was written
    release_authors: frozenset[str] | None = None,  # who wrote its pull requests (None: unknown)
) -> SignOffDecision:
    """`/approve [ring]`: sign off the current release of that ring, or why not."""
    del now  # part of the decision's signature; a sign-off does not depend on the time
    refusals: list[Refusal] = []
    if actor_permission < SIGNOFF_PERMISSION:
        refusals.append(_permission(actor, actor_permission, SIGNOFF_PERMISSION, "signing off"))
    chosen, problem = _resolve_ring(config, ring, rings, pr_contained_in, bot_login, "approve")
    if chosen is None or problem is not None:
        return SignOffDecision(chosen, None, None, (*refusals, *filter(None, [problem])))
    release, problem = _live_release_for(chosen, rings, pr_contained_in, bot_login)
    if release is None or problem is not None:
        return SignOffDecision(chosen, None, None, (*refusals, *filter(None, [problem])))
    moved = _moved_on(_state_of(rings, chosen), bot_login, written_at)
    if moved is not None:
        return SignOffDecision(chosen, None, release.sha, (*refusals, moved))
    found = rejection_of(release.sha, rings, bot_login)
    if found is not None:
        refusals.append(_rejected(release.sha, found))
    refusals += _separation_of_duty(chosen, release, actor, release_authors, bot_login)
    done = any(same_login(s.user, actor) for s in signoffs(release, bot_login))
    return SignOffDecision(
        chosen,
        release.id,
        release.sha,
        tuple(refusals),
        already_done=done,
        description=encode_signoff(actor),
    )


def _separation_of_duty(
    ring: RingConfig,
    release: DeploymentRecord,
    actor: str,
    authors: frozenset[str] | None,
    bot_login: str,
) -> list[Refusal]:
    """`signoff.not`: the author of a change in the release, or whoever deployed it, does not
    vouch for it (a second pair of eyes is the point of a sign-off)."""
    refusals: list[Refusal] = []
    hint = f"ask a teammate to `/approve {ring.name}`"
    if "author" in ring.signoff_not:
        if authors is None:
            refusals.append(
                Refusal(
                    "self_signoff",
                    f"could not tell who wrote the pull requests in `{short(release.sha)}`",
                    "try again in a minute",
                )
            )
        elif any(same_login(a, actor) for a in authors):
            refusals.append(
                Refusal(
                    "self_signoff",
                    f"@{actor} wrote a pull request in `{short(release.sha)}`; in "
                    f"{ring.name} nobody signs off their own change",
                    hint,
                )
            )
    if "promoter" in ring.signoff_not and release.promoter and same_login(release.promoter, actor):
        refusals.append(
            Refusal(
                "self_signoff",
                f"@{actor} deployed `{short(release.sha)}` to {ring.name}; in {ring.name} "
                "nobody signs off what they deployed",
                hint,
            )
        )
    del bot_login  # part of the shared signature of ring rules
    return refusals


def decide_rejection(
    *,
    config: Config,
    ring: str | None,
    rings: Sequence[RingState],
    pr_contained_in: Mapping[str, bool],
    actor: str,
    actor_permission: Permission,
    reason: str,
    bot_login: str,
    written_at: datetime | None = None,  # when the command was written
) -> RejectionDecision:
    """`/reject [ring] <reason>`: mark every deployment of that ring's current release, or why not."""
    refusals: list[Refusal] = []
    if actor_permission < REJECT_PERMISSION:
        refusals.append(_permission(actor, actor_permission, REJECT_PERMISSION, "rejecting"))
    if not reason.strip():
        refusals.append(
            Refusal(
                "no_reason",
                "a rejection needs a reason",
                f"comment `/reject {ring or '<ring>'} <reason>`",
            )
        )
    chosen, problem = _resolve_ring(config, ring, rings, pr_contained_in, bot_login, "reject")
    if chosen is None or problem is not None:
        return RejectionDecision(chosen, None, refusals=(*refusals, *filter(None, [problem])))
    release, problem = _live_release_for(chosen, rings, pr_contained_in, bot_login)
    if release is None or problem is not None:
        return RejectionDecision(chosen, None, refusals=(*refusals, *filter(None, [problem])))
    moved = _moved_on(_state_of(rings, chosen), bot_login, written_at)
    if moved is not None:
        return RejectionDecision(chosen, None, refusals=(*refusals, moved))
    earlier = rejection_of(release.sha, rings, bot_login)
    # An earlier rejection stands as written; marks it is missing (an interrupted write) are healed.
    description = (
        encode_rejection(earlier.user, earlier.reason)
        if earlier is not None
        else encode_rejection(actor, reason)
    )
    to_mark = sorted(
        {
            dep.id
            for state in rings
            for dep in state.deployments
            if dep.sha == release.sha and rejection(dep, bot_login) is None
        }
    )
    if earlier is not None:
        refusals = [r for r in refusals if r.code == "permission"]
    return RejectionDecision(
        chosen,
        release.sha,
        tuple(to_mark),
        tuple(refusals),
        already_done=earlier is not None,
        description=description,
        rejection=earlier,
    )


def decide_rollback(
    *,
    config: Config,
    ring: str,
    ring_state: RingState,
    rejected_shas: frozenset[str],
    actor_permission: Permission,
    bot_login: str,
    pr_contained: bool | None,
    actor: str = "",
    written_at: datetime | None = None,  # when the command was written
) -> Promotion:
    """`/rollback <ring>`: redeploy the last earlier release that succeeded there and is not rejected.

    Like every command it acts only when the ring's release contains the pull request's change
    (`pr_contained`; None: could not tell, refused).
    """
    target = config.ring(ring)
    if target is None:
        return Promotion(None, None, None, (_unknown_ring(config, ring),))
    refusals: list[Refusal] = []
    if actor_permission < target.promoters:
        who = actor or "you"
        refusals.append(
            _permission(who, actor_permission, target.promoters, f"rolling back {target.name}")
        )
    ordered = _by_age(ring_state.deployments)
    # Roll back from the current release; when nothing is live, from the newest (broken) deployment.
    pivot = current_release(ring_state, bot_login) or (ordered[0] if ordered else None)
    if pivot is None:
        return Promotion(
            target,
            None,
            None,
            (
                *refusals,
                Refusal(
                    "nothing_to_roll_back",
                    f"nothing has been deployed to {target.name}",
                    "there is no earlier release to go back to",
                ),
            ),
        )
    if pr_contained is not True:
        refusals.append(_not_contained(target.name, pivot, pr_contained))
    moved = _moved_on(ring_state, bot_login, written_at)
    if moved is not None:
        return Promotion(target, None, None, (*refusals, moved))
    older = ordered[ordered.index(pivot) + 1 :]
    choice = next(
        (
            dep
            for dep in older
            if dep.sha != pivot.sha
            and not dep.foreign
            and live_since(dep, bot_login) is not None
            and dep.sha not in rejected_shas
            and rejection_of(dep.sha, (ring_state,), bot_login) is None
        ),
        None,
    )
    if choice is None:
        refusals.append(
            Refusal(
                "nothing_to_roll_back",
                f"no release before `{short(pivot.sha)}` succeeded in {target.name} "
                "without being rejected",
                "merge a fix and promote it instead",
            )
        )
        return Promotion(target, None, None, tuple(refusals))
    latest = ordered[0]
    in_flight = latest is not pivot and cd_state(latest, bot_login) in IN_FLIGHT
    done = in_flight and latest.sha == choice.sha
    return Promotion(target, choice.sha, choice.id, tuple(refusals), already_done=done)


def decide_protection_rule(
    *,
    config: Config,
    ring: RingConfig,
    sha: str,
    previous: RingState | None,
    target_state: RingState,
    now: datetime,
    bot_login: str,
    signer_permissions: Mapping[str, Permission] | None,
    elsewhere: Sequence[RingState] = (),  # other rings holding the SHA: a rejection anywhere counts
    sha_is_release: bool = False,  # on the default branch with green builds (the first ring asks)
) -> ProtectionDecision:
    """Approve a deployment of `sha` into `ring` only if the ring rules allow that SHA there."""
    states = (*((target_state,) if previous is None else (previous, target_state)), *elsewhere)
    found = rejection_of(sha, states, bot_login)
    if found is not None:
        return ProtectionDecision(False, f"ringbot: {_rejected(sha, found).message}.")
    if any(d.sha == sha and same_login(d.creator, bot_login) for d in target_state.deployments):
        return ProtectionDecision(
            True, f"ringbot: `{short(sha)}` was deployed to {ring.name} by ringbot."
        )
    source_ring = config.previous(ring)
    if source_ring is None:
        if not sha_is_release:
            return ProtectionDecision(
                False,
                f"ringbot: `{short(sha)}` is not a release: only a commit on the default branch "
                f"whose builds passed may enter {ring.name}; merge it through a pull request.",
            )
        return ProtectionDecision(
            True,
            f"ringbot: {ring.name} is the first ring; `{short(sha)}` is on the default branch, "
            "its builds passed and it is not rejected.",
        )
    source = previous if previous is not None else RingState(source_ring)
    release = current_release(source, bot_login)
    if release is None or release.sha != sha:
        live = f"`{short(release.sha)}`" if release is not None else "nothing"
        return ProtectionDecision(
            False,
            f"ringbot: `{short(sha)}` is not the release live in {source_ring.name} ({live} is); "
            "rings cannot be skipped.",
        )
    refusals = _ring_rules(
        target=ring,
        source=source,
        release=release,
        states=states,
        now=now,
        bot_login=bot_login,
        signer_permissions=signer_permissions,
    )
    if refusals:
        reasons = "; ".join(r.message for r in refusals)
        return ProtectionDecision(False, f"ringbot: {reasons}.")
    return ProtectionDecision(
        True,
        f"ringbot: `{short(sha)}` is live, signed off and baked in {source_ring.name}.",
    )
