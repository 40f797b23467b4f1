"""Ring decisions: may a release enter a ring, be signed off, rejected or rolled back, and why.

Everything here is pure. Each decision takes a `RingsView` (one read of the rings, made by
`bot.snapshot.rings`) and what was asked, and returns a decision that carries every reason it was
refused and everything there is to write (the deployment to create, the statuses to mark, when to
look again), so a handler only applies it and the reply says what to do next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, assert_never

from bot.commands import Approve, Promote, Reject, Rollback
from bot.config import Config, RingConfig
from bot.ledger import (
    FAILED,
    IN_FLIGHT,
    DeploymentRecord,
    Rejection,
    RingState,
    SignOff,
    by_age,
    cd_state,
    current_release,
    encode_rejection,
    encode_signoff,
    has_in_ring,
    live_since,
    newest,
    rejection,
    rejection_of,
    release_at,
    rollback_hold,
    same_login,
    signoffs,
)
from bot.messages.text import humanise, inert, short
from bot.models import Permission, PullRequest
from bot.policy.guardrails import Unverified, unverified_refusal
from bot.policy.refusals import Code, Refusal
from bot.policy.signoff import (
    Memberships,
    in_a_team,
    needs_text,
    shortfall,
    team_names,
    unknown_text,
    who_text,
)
from bot.policy.verify import CheckFact, of_release, time_clears
from bot.policy.verify import refusal as verify_refusal
from bot.policy.windows import Closure, RingFreeze, closure, opens_text

# Signing off or rejecting a release needs write access, like approving a pull request.
SIGNOFF_PERMISSION: Final = Permission.WRITE
REJECT_PERMISSION: Final = Permission.WRITE

RingCommand = Promote | Approve | Reject | Rollback


@dataclass(frozen=True)
class RingsView:
    """Everything a ring decision reads, from one look at GitHub.

    A ring that was not read counts as empty: the reader reads every ring the decision asks about.
    """

    config: Config
    bot_login: str
    now: datetime
    rings: tuple[RingState, ...] = ()  # the rings read, in config order
    # The release about to move, wherever else it was deployed (beyond what `rings` read): a
    # rejection recorded in any ring stops it, and a rejection marks every one of them.
    others: tuple[RingState, ...] = ()
    # The permissions of the people who signed off a release a ring stricter than write would
    # take (None: no such ring is asked about; a write ring counts every recorded sign-off).
    permissions: Mapping[str, Permission] | None = None
    pull: PullRequest | None = None  # the pull request a command was written on
    # Release SHA -> whether it holds the pull request's change (None: GitHub could not say).
    contains: Mapping[str, bool | None] = field(default_factory=dict)
    # Release SHA -> who wrote the pull requests a sign-off of it vouches for (None: unknown).
    authors: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    green_head: str | None = None  # the default branch's head when its builds passed
    releases: frozenset[str] = frozenset()  # SHAs found to be releases (for the first ring)
    # (team, login) -> active member of a ring's `signoff.teams` team (None: unknown), read now
    memberships: Memberships = field(default_factory=dict)
    # Ring name -> its `/freeze`, for the rings read (a ring not here is not frozen).
    freezes: Mapping[str, RingFreeze] = field(default_factory=dict)
    # Release SHA -> the `verify:` checks read on it (absent: not read, so not verified yet).
    checks: Mapping[str, tuple[CheckFact, ...]] = field(default_factory=dict)
    # The commits of `green_head` (itself and those below it, down to what the first ring has
    # from ringbot) that went around the merge gate: see bot/policy/guardrails.py.
    unverified: tuple[Unverified, ...] = ()

    def state(self, ring: RingConfig) -> RingState:
        """The ring's state as read (empty when it was not read)."""
        for state in self.rings:
            if state.ring.name == ring.name:
                return state
        return RingState(ring)

    def before(self, ring: RingConfig) -> RingState | None:
        """The state of the ring before `ring`; None for the first ring."""
        source = self.config.previous(ring)
        return self.state(source) if source is not None else None

    def every_state(self) -> tuple[RingState, ...]:
        """Every deployment read, for looking up a release's rejection wherever it was recorded."""
        return (*self.rings, *self.others)


@dataclass(frozen=True)
class Ask:
    """A person's ring command, as the rules see it: what, by whom, their permission, and when
    they wrote it (None: now; a command acts on the release current when it was written)."""

    command: RingCommand
    actor: str
    permission: Permission
    written_at: datetime | None = None


@dataclass(frozen=True)
class Promotion:
    """Deploy `sha` into `target` (a promotion, an automatic entry or a rollback), or why not."""

    target: RingConfig | None  # None only when the ring named in the command does not exist
    sha: str | None
    source_deployment_id: int | None
    refusals: tuple[Refusal, ...] = ()
    already_done: bool = False  # the target already has (or is getting) this SHA: deploy nothing
    # Only the bake time stands in the way: look again then (nothing else would wake us).
    retry_at: datetime | None = None
    # The unverified commits a person accepts into the first ring with this deployment.
    accepts: tuple[Unverified, ...] = ()

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
    # What the release still needs (with this sign-off) before the next ring; "" for nothing
    missing: str = ""

    @property
    def allowed(self) -> bool:
        """The sign-off may be recorded (or already was)."""
        return self.deployment_id is not None and not self.refusals

    @property
    def should_write(self) -> bool:
        """A ledger status is to be written now."""
        return self.allowed and not self.already_done


@dataclass(frozen=True)
class Mark:
    """One deployment to mark rejected, repeating its CD state (a failed deploy stays failed)."""

    deployment_id: int
    state: str


@dataclass(frozen=True)
class RejectionDecision:
    """Record a rejection on every deployment of a release, or why not."""

    ring: RingConfig | None
    sha: str | None
    marks: tuple[Mark, ...] = ()  # every deployment of the release not marked yet
    refusals: tuple[Refusal, ...] = ()
    already_done: bool = False  # the release was already rejected; only missing marks are healed
    description: str = ""  # the ledger text to write on each deployment to mark
    rejection: Rejection | None = None  # the rejection that stands (the earlier one, or this one)

    @property
    def allowed(self) -> bool:
        """The release may be (or already is) rejected."""
        return self.sha is not None and not self.refusals

    @property
    def deployment_ids_to_mark(self) -> tuple[int, ...]:
        """The ids of the deployments to mark."""
        return tuple(m.deployment_id for m in self.marks)


@dataclass(frozen=True)
class ProtectionDecision:
    """The answer to a deployment protection rule request."""

    approved: bool
    comment: str


RingDecision = Promotion | SignOffDecision | RejectionDecision


def decide(view: RingsView, ask: Ask) -> RingDecision:
    """Any person's ring command: the one place commands are told apart."""
    match ask.command:
        case Promote():
            return decide_promotion(view, ask)
        case Approve():
            return decide_signoff(view, ask)
        case Reject():
            return decide_rejection(view, ask)
        case Rollback():
            return decide_rollback(view, ask)
        case _:
            assert_never(ask.command)


# --- derived facts ------------------------------------------------------------------------------


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
        Code.MOVED_ON,
        f"the release in {name} changed since your comment: {was} live there when you wrote "
        f"it, {is_now} now",
        f"check what is live in {name} now and comment again",
    )


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


def ready_at(target: RingConfig, release: DeploymentRecord, bot_login: str) -> datetime | None:
    """When `release` has baked long enough in the ring before `target` (None: not live there)."""
    since = live_since(release, bot_login)
    return since + target.bake if since is not None else None


def resolve_ring(
    view: RingsView, name: str | None, verb: str
) -> tuple[RingConfig | None, Refusal | None]:
    """The ring a command names, or by default the highest ring live on a release with the PR."""
    config = view.config
    if name is not None:
        ring = config.ring(name)
        return (ring, None) if ring is not None else (None, _unknown_ring(config, name))
    for ring in reversed(config.rings):
        release = current_release(view.state(ring), view.bot_login)
        if release is not None and view.contains.get(release.sha) is True:
            return ring, None
    return None, Refusal(
        Code.NOT_LIVE,
        "no ring has a live release that contains this pull request",
        f"wait until it is live in {config.rings[0].name}, or name the ring: `/{verb} <ring>`",
    )


def moving_release(view: RingsView, ring: RingConfig) -> DeploymentRecord | None:
    """The release that would enter `ring` next: the ring before's current release."""
    before = view.before(ring)
    return current_release(before, view.bot_login) if before is not None else None


def rollback_pivot(state: RingState, bot_login: str) -> DeploymentRecord | None:
    """What a rollback rolls back from: the current release, else the newest (broken) deployment."""
    return current_release(state, bot_login) or newest(state)


def closure_of(view: RingsView, ring: RingConfig) -> Closure | None:
    """Why `ring` is closed now (windows and freezes), or None when it is open."""
    config = view.config
    freeze = view.freezes.get(ring.name)
    return closure(ring.name, view.now, config.windows, config.timezone, freeze)


def closed_refusal(view: RingsView, ring: RingConfig) -> tuple[Refusal, datetime | None] | None:
    """The refusal of a closed ring and when it opens; None when it is open."""
    found = closure_of(view, ring)
    if found is None:
        return None
    message = f"{ring.name} is closed 🧊: " + "; ".join(found.reasons)
    hint = opens_text(found, view.config.timezone, view.now)
    return Refusal(Code.CLOSED, message, hint), found.opens_at


def _retry_at(
    refusals: Sequence[Refusal], ready: datetime | None, opens: datetime | None
) -> datetime | None:
    """When to look again: only when the bake time and a closed ring stand in the way, each
    with a known end, does time alone clear the way."""
    codes = {r.code for r in refusals}
    if not codes or not codes <= {Code.BAKING, Code.CLOSED}:
        return None
    ends = [ready if Code.BAKING in codes else None, opens if Code.CLOSED in codes else None]
    if (Code.BAKING in codes and ready is None) or (Code.CLOSED in codes and opens is None):
        return None
    return max(end for end in ends if end is not None)


# --- refusals -----------------------------------------------------------------------------------


def _ring_names(config: Config) -> str:
    return ", ".join(f"`{ring.name}`" for ring in config.rings)


def _unknown_ring(config: Config, name: str) -> Refusal:
    return Refusal(
        Code.UNKNOWN_RING,
        f"there is no ring `{name}`",
        f"the rings are {_ring_names(config)}",
    )


def _first_ring(ring: RingConfig) -> Refusal:
    return Refusal(
        Code.FIRST_RING,
        f"`{ring.name}` is the first ring",
        f"{ring.name} is entered automatically when the default branch is green",
    )


def _permission(actor: str, has: Permission, needs: Permission, what: str) -> Refusal:
    return Refusal(
        Code.PERMISSION,
        f"{what} needs {needs.label} permission; @{actor} has {has.label}",
        f"ask someone with {needs.label} access",
    )


def _not_live(state: RingState, bot_login: str, code: Code) -> Refusal:
    """Nothing is live in the ring: say so, or say that its newest deployment failed."""
    name = state.ring.name
    latest = newest(state)
    if latest is not None and cd_state(latest, bot_login) in FAILED:
        return Refusal(
            Code.FAILED,
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
            Code.NOT_CONTAINED,
            f"could not check that the release live in {ring} (`{short(release.sha)}`) "
            "contains this pull request",
            "try again in a minute",
        )
    return Refusal(
        Code.NOT_CONTAINED,
        f"the release live in {ring} (`{short(release.sha)}`) does not contain this pull request",
        f"wait until a release with this pull request is live in {ring}",
    )


def _rejected(sha: str, found: Rejection) -> Refusal:
    why = f": {inert(found.reason)}" if found.reason else ""
    return Refusal(
        Code.REJECTED,
        f"`{short(sha)}` was rejected by @{found.user}{why}",
        "a rejection is final; merge a fix and let the next release go through the rings",
    )


def _ring_rules(
    view: RingsView, target: RingConfig, source: RingState, release: DeploymentRecord
) -> list[Refusal]:
    """Not rejected, signed off and baked in the source ring: the rules on the release itself."""
    bot_login, now = view.bot_login, view.now
    found = rejection_of(release.sha, view.every_state(), bot_login)
    if found is not None:
        # Sign-offs and bake time cannot help a rejected release, so they are not asked for.
        return [_rejected(release.sha, found)]
    refusals: list[Refusal] = []
    ring = source.ring.name
    counted, ignored, own, authored = _counting(view, target, source.ring, release)
    need = shortfall(source.ring, target.approvals, [s.user for s in counted], view.memberships)
    if not need.met:
        message = needs_text(need, ring)
        if ignored:
            names = ", ".join(f"@{s.user}" for s in ignored)
            message += f" ({names}: below {target.promoters.label}, not counted)"
        if own:
            message += f" (@{own[0].user} deployed it there, not counted)"
        if authored:
            names = ", ".join(f"@{s.user}" for s in authored)
            message += f" ({names}: wrote a pull request in it, not counted)"
        message += unknown_text(need)
        who = who_text(need) or f"someone with {target.promoters.label} access"
        refusals.append(Refusal(Code.NEEDS_SIGNOFF, message, f"{who} comments `/approve {ring}`"))
    # `verify:` of the ring it leaves: its checks green, and watched long enough.
    verified = of_release(source.ring, release, view.checks, now, bot_login)
    refusals += filter(None, [verify_refusal(source.ring, release, verified, now)])
    since = live_since(release, bot_login)
    if since is not None and target.bake > timedelta(0):
        left = since + target.bake - now
        if left > timedelta(0):
            refusals.append(
                Refusal(
                    Code.BAKING,
                    f"`{short(release.sha)}` has baked {humanise(now - since)} of "
                    f"{humanise(target.bake)} in {ring}; {humanise(left)} left",
                    f"try again in {humanise(left)}",
                )
            )
    return refusals


def _counting(
    view: RingsView, target: RingConfig, source: RingConfig, release: DeploymentRecord
) -> tuple[tuple[SignOff, ...], tuple[SignOff, ...], tuple[SignOff, ...], tuple[SignOff, ...]]:
    """The sign-offs of `release` in `source` that count toward `target`, then those that do not:
    below the target's `promoters`, by whoever deployed it (`not: [promoter]`), and by an author
    of the release (`not: [author]`; the authors as read now, when the view has them)."""
    counted, ignored = counted_signoffs(release, view.bot_login, target.promoters, view.permissions)
    own: tuple[SignOff, ...] = ()
    if release.promoter and "promoter" in source.signoff_not:
        # Recorded before the rule was set: still not a second pair of eyes.
        own = tuple(s for s in counted if same_login(s.user, release.promoter))
        counted = tuple(s for s in counted if s not in own)
    authored: tuple[SignOff, ...] = ()
    authors = view.authors.get(release.sha)
    if authors and "author" in source.signoff_not:
        # A sign-off recorded before its person's change came into what it vouches for.
        authored = tuple(s for s in counted if any(same_login(s.user, a) for a in authors))
        counted = tuple(s for s in counted if s not in authored)
    return counted, ignored, own, authored


def _after_signoff(
    view: RingsView, ring: RingConfig, release: DeploymentRecord, ask: Ask
) -> tuple[str, Refusal | None]:
    """What the release in `ring` still needs once `ask`'s sign-off counts, and a refusal when
    the ring has `signoff.teams`, the person is in none of them and signing brings nothing."""
    target = view.config.next(ring)
    if target is None or has_in_ring(view.state(target), release.sha, view.bot_login):
        return "", None  # nothing waits for this sign-off
    counted = [s.user for s in _counting(view, target, ring, release)[0]]
    before = shortfall(ring, target.approvals, counted, view.memberships)
    counts = ask.permission >= target.promoters and not any(
        same_login(user, ask.actor) for user in counted
    )
    after = shortfall(
        ring, target.approvals, [*counted, ask.actor] if counts else counted, view.memberships
    )
    member = in_a_team(ring, ask.actor, view.memberships)
    if ring.signoff_teams and not before.met and after.people >= before.people and not member:
        teams = team_names(ring.signoff_teams)
        message = (
            f"could not read whether @{ask.actor} is a member of {teams}: ringbot needs the "
            "organization permission Members: read"
            if member is None
            else f"@{ask.actor} is not a member of {teams}, and the release {needs_text(before, ring.name)}"
        )
        refusal = Refusal(
            Code.NOT_IN_TEAM, message, f"{who_text(before)} comments `/approve {ring.name}`"
        )
        return needs_text(before, ring.name) + unknown_text(before), refusal
    return ("" if after.met else needs_text(after, ring.name) + unknown_text(after)), None


def missing_signoffs(view: RingsView) -> dict[str, str]:
    """Ring name -> what its current release still needs before the next ring, for the tables
    (rings whose release is already in the next ring, or rejected, need nothing)."""
    found: dict[str, str] = {}
    for ring in view.config.rings:
        target = view.config.next(ring)
        release = current_release(view.state(ring), view.bot_login)
        if target is None or release is None:
            continue
        if has_in_ring(view.state(target), release.sha, view.bot_login):
            continue
        if rejection_of(release.sha, view.every_state(), view.bot_login) is not None:
            continue
        counted = [s.user for s in _counting(view, target, ring, release)[0]]
        need = shortfall(ring, target.approvals, counted, view.memberships)
        if not need.met:
            found[ring.name] = needs_text(need, ring.name).removesuffix(f" in {ring.name}")
    return found


def _baking_only(
    refusals: Sequence[Refusal], target: RingConfig, release: DeploymentRecord, bot_login: str
) -> datetime | None:
    """When to look again, if the bake time is all that stands in the way."""
    if [r.code for r in refusals] != [Code.BAKING]:
        return None
    return ready_at(target, release, bot_login)


# --- decisions ----------------------------------------------------------------------------------


def decide_promotion(view: RingsView, ask: Ask) -> Promotion:
    """`/promote <ring>`: deploy the previous ring's current release into it, or why not."""
    assert isinstance(ask.command, Promote)
    config, bot_login = view.config, view.bot_login
    name = ask.command.ring
    ring = config.ring(name)
    if ring is None:
        return Promotion(None, None, None, (_unknown_ring(config, name),))
    source = view.before(ring)
    if source is None:
        return promote_first_ring(view, ask, ring)
    into = view.state(ring)

    refusals: list[Refusal] = []
    if ask.permission < ring.promoters:
        refusals.append(
            _permission(ask.actor, ask.permission, ring.promoters, f"promoting to {name}")
        )
    release = current_release(source, bot_login)
    merged = view.pull is not None and view.pull.merged
    contained = view.contains.get(release.sha) if release is not None else None
    if not merged:
        refusals.append(
            Refusal(
                Code.NOT_MERGED,
                "this pull request is not merged",
                "merge it first; its release enters the rings once the default branch is green",
            )
        )
    elif release is None:
        refusals.append(_not_live(source, bot_login, Code.NOT_IN_PREVIOUS))
    elif contained is not True:
        refusals.append(_not_contained(source.ring.name, release, contained))
    if release is None:
        return Promotion(ring, None, None, tuple(refusals))
    moved = _moved_on(source, bot_login, ask.written_at)
    if moved is not None:
        return Promotion(ring, release.sha, release.id, (*refusals, moved))
    if not merged or contained is not True:
        # The release is not this pull request's, so its sign-offs and bake time are no concern here.
        return Promotion(ring, release.sha, release.id, tuple(refusals))
    if has_in_ring(into, release.sha, bot_login):
        # Idempotent: a repeated command deploys nothing, whatever the ring rules say now.
        return Promotion(ring, release.sha, release.id, tuple(refusals), already_done=True)
    refusals += _ring_rules(view, ring, source, release)
    closed = closed_refusal(view, ring)
    if closed is not None:
        refusals.append(closed[0])
    return Promotion(ring, release.sha, release.id, tuple(refusals))


def decide_auto_entry(view: RingsView, ring: RingConfig) -> Promotion:
    """Enter an `auto: true` ring without a command, once the previous stage is satisfied.

    The first ring takes the view's `green_head`, the default branch's head once its builds
    passed. A later ring follows the previous ring's current release once it is signed off and
    baked there; while only the bake time is left, the decision says when to look again.
    """
    bot_login = view.bot_login
    target_state = view.state(ring)
    if not ring.auto:
        manual = Refusal(
            Code.MANUAL,
            f"`{ring.name}` is not entered automatically",
            f"comment `/promote {ring.name}`",
        )
        return Promotion(ring, None, None, (manual,))
    held = rollback_hold(target_state, bot_login)
    if held is not None:
        return Promotion(ring, None, None, (_held(ring, held),))
    source = view.before(ring)
    if source is None:
        candidate = view.green_head
        if candidate is None:
            waiting = Refusal(
                Code.NO_CANDIDATE,
                "no default-branch commit is green yet",
                "wait for the checks on the default branch",
            )
            return Promotion(ring, None, None, (waiting,))
        if has_in_ring(target_state, candidate, bot_login):
            return Promotion(ring, candidate, None, already_done=True)
        failed = _failed_before(target_state, candidate, bot_login)
        if failed is not None:
            return Promotion(ring, candidate, None, (failed,))
        found = rejection_of(candidate, view.every_state(), bot_login)
        refused = (_rejected(candidate, found),) if found is not None else ()
        if view.unverified:
            # Around the gate: only a person accepts it (guardrails).
            refused = (*refused, unverified_refusal(ring.name, view.unverified))
        closed = closed_refusal(view, ring)
        if closed is not None:
            refused = (*refused, closed[0])
            opens = _retry_at(refused, None, closed[1])
            return Promotion(ring, candidate, None, refused, retry_at=opens)
        return Promotion(ring, candidate, None, refused)

    release = current_release(source, bot_login)
    if release is None:
        return Promotion(ring, None, None, (_not_live(source, bot_login, Code.NOT_IN_PREVIOUS),))
    if has_in_ring(target_state, release.sha, bot_login):
        return Promotion(ring, release.sha, release.id, already_done=True)
    failed = _failed_before(target_state, release.sha, bot_login)
    if failed is not None:
        return Promotion(ring, release.sha, release.id, (failed,))
    if any(d.sha == release.sha and live_since(d, bot_login) for d in target_state.deployments):
        # The ring had this release before and moved on: following the previous ring back would
        # be a rollback nobody asked for.
        skip = Refusal(
            Code.SKIP,
            f"`{short(release.sha)}` was live in {ring.name} before; "
            "an automatic entry never goes back",
            f"to go back, comment `/rollback {ring.name}`",
        )
        return Promotion(ring, release.sha, release.id, (skip,))
    refusals = _ring_rules(view, ring, source, release)
    closed = closed_refusal(view, ring)
    if closed is not None:
        refusals.append(closed[0])
    # Time alone ends a bake time, a closed ring with a known opening and a verification watch.
    watched = of_release(source.ring, release, view.checks, view.now, bot_login)
    ends = {
        Code.BAKING: ready_at(ring, release, bot_login),
        Code.CLOSED: closed[1] if closed is not None else None,
        Code.VERIFY_WATCH: watched.ends_at if watched is not None else None,
    }
    retry_at = time_clears(refusals, ends)
    return Promotion(ring, release.sha, release.id, tuple(refusals), retry_at=retry_at)


def _failed_before(state: RingState, sha: str, bot_login: str) -> Refusal | None:
    """An automatic entry never retries a deploy that failed: each retry would fail the same
    way and loop. A person retries with `/promote` (or ships a fix)."""
    latest = newest(state)
    if latest is None or latest.sha != sha or cd_state(latest, bot_login) not in FAILED:
        return None
    return Refusal(
        Code.FAILED,
        f"the deploy of `{short(sha)}` to {state.ring.name} failed",
        "merge a fix, or re-run the deploy in your CD so it posts a new status",
    )


def _live_release_for(
    view: RingsView, ring: RingConfig
) -> tuple[DeploymentRecord | None, Refusal | None]:
    """The ring's current release, provided it contains the pull request (unknown: refused)."""
    state = view.state(ring)
    release = current_release(state, view.bot_login)
    if release is None:
        return None, _not_live(state, view.bot_login, Code.NOT_LIVE)
    contained = view.contains.get(release.sha)
    if contained is not True:
        return None, _not_contained(ring.name, release, contained)
    return release, None


def decide_signoff(view: RingsView, ask: Ask) -> SignOffDecision:
    """`/approve [ring]`: sign off the current release of that ring, or why not."""
    assert isinstance(ask.command, Approve)
    bot_login, actor = view.bot_login, ask.actor
    refusals: list[Refusal] = []
    if ask.permission < SIGNOFF_PERMISSION:
        refusals.append(_permission(actor, ask.permission, SIGNOFF_PERMISSION, "signing off"))
    chosen, problem = resolve_ring(view, ask.command.ring, "approve")
    if chosen is None or problem is not None:
        return SignOffDecision(chosen, None, None, (*refusals, *filter(None, [problem])))
    release, problem = _live_release_for(view, chosen)
    if release is None or problem is not None:
        return SignOffDecision(chosen, None, None, (*refusals, *filter(None, [problem])))
    moved = _moved_on(view.state(chosen), bot_login, ask.written_at)
    if moved is not None:
        return SignOffDecision(chosen, None, release.sha, (*refusals, moved))
    found = rejection_of(release.sha, view.every_state(), bot_login)
    if found is not None:
        refusals.append(_rejected(release.sha, found))
    authors = view.authors.get(release.sha)
    refusals += _separation_of_duty(chosen, release, actor, authors)
    missing, not_in_team = _after_signoff(view, chosen, release, ask)
    refusals += filter(None, [not_in_team])
    done = any(same_login(s.user, actor) for s in signoffs(release, bot_login))
    return SignOffDecision(
        chosen,
        release.id,
        release.sha,
        tuple(refusals),
        already_done=done,
        description=encode_signoff(actor),
        missing=missing,
    )


def _separation_of_duty(
    ring: RingConfig, release: DeploymentRecord, actor: str, authors: frozenset[str] | None
) -> list[Refusal]:
    """`signoff.not`: the author of a change in the release, or whoever deployed it, does not
    vouch for it (a second pair of eyes is the point of a sign-off)."""
    refusals: list[Refusal] = []
    hint = f"ask a teammate to `/approve {ring.name}`"
    if "author" in ring.signoff_not:
        if authors is None:
            refusals.append(
                Refusal(
                    Code.SELF_SIGNOFF,
                    f"could not tell who wrote the pull requests in `{short(release.sha)}`",
                    "try again in a minute",
                )
            )
        elif any(same_login(a, actor) for a in authors):
            refusals.append(
                Refusal(
                    Code.SELF_SIGNOFF,
                    f"@{actor} wrote a pull request in `{short(release.sha)}`; in "
                    f"{ring.name} nobody signs off their own change",
                    hint,
                )
            )
    if "promoter" in ring.signoff_not and release.promoter and same_login(release.promoter, actor):
        refusals.append(
            Refusal(
                Code.SELF_SIGNOFF,
                f"@{actor} deployed `{short(release.sha)}` to {ring.name}; in {ring.name} "
                "nobody signs off what they deployed",
                hint,
            )
        )
    return refusals


def decide_rejection(view: RingsView, ask: Ask) -> RejectionDecision:
    """`/reject [ring] <reason>`: mark every deployment of that ring's current release, or why not."""
    assert isinstance(ask.command, Reject)
    bot_login, actor = view.bot_login, ask.actor
    ring, reason = ask.command.ring, ask.command.reason
    refusals: list[Refusal] = []
    if ask.permission < REJECT_PERMISSION:
        refusals.append(_permission(actor, ask.permission, REJECT_PERMISSION, "rejecting"))
    if not reason.strip():
        refusals.append(
            Refusal(
                Code.NO_REASON,
                "a rejection needs a reason",
                f"comment `/reject {ring or '<ring>'} <reason>`",
            )
        )
    chosen, problem = resolve_ring(view, ring, "reject")
    if chosen is None or problem is not None:
        return RejectionDecision(chosen, None, refusals=(*refusals, *filter(None, [problem])))
    release, problem = _live_release_for(view, chosen)
    if release is None or problem is not None:
        return RejectionDecision(chosen, None, refusals=(*refusals, *filter(None, [problem])))
    moved = _moved_on(view.state(chosen), bot_login, ask.written_at)
    if moved is not None:
        return RejectionDecision(chosen, None, refusals=(*refusals, moved))
    earlier = rejection_of(release.sha, view.every_state(), bot_login)
    # An earlier rejection stands as written; marks it is missing (an interrupted write) are healed.
    stands = earlier or Rejection(actor, reason, view.now)
    marks = {
        dep.id: Mark(dep.id, cd_state(dep, bot_login))
        for state in view.every_state()
        for dep in state.deployments
        if dep.sha == release.sha and rejection(dep, bot_login) is None
    }
    if earlier is not None:
        refusals = [r for r in refusals if r.code == Code.PERMISSION]
    return RejectionDecision(
        chosen,
        release.sha,
        tuple(marks[i] for i in sorted(marks)),
        tuple(refusals),
        already_done=earlier is not None,
        description=encode_rejection(stands.user, stands.reason),
        rejection=stands,
    )


def decide_rollback(view: RingsView, ask: Ask) -> Promotion:
    """`/rollback <ring>`: redeploy the last earlier release that succeeded there and is not rejected.

    Like every command it acts only when the ring's release contains the pull request's change
    (unknown: refused). The view holds the ring's whole history.
    """
    assert isinstance(ask.command, Rollback)
    config, bot_login = view.config, view.bot_login
    target = config.ring(ask.command.ring)
    if target is None:
        return Promotion(None, None, None, (_unknown_ring(config, ask.command.ring),))
    refusals: list[Refusal] = []
    if ask.permission < target.promoters:
        refusals.append(
            _permission(
                ask.actor or "you",
                ask.permission,
                target.promoters,
                f"rolling back {target.name}",
            )
        )
    state = view.state(target)
    ordered = by_age(state.deployments)
    pivot = rollback_pivot(state, bot_login)
    if pivot is None:
        nothing = Refusal(
            Code.NOTHING_TO_ROLL_BACK,
            f"nothing has been deployed to {target.name}",
            "there is no earlier release to go back to",
        )
        return Promotion(target, None, None, (*refusals, nothing))
    contained = view.contains.get(pivot.sha)
    if contained is not True:
        refusals.append(_not_contained(target.name, pivot, contained))
    moved = _moved_on(state, bot_login, ask.written_at)
    if moved is not None:
        return Promotion(target, None, None, (*refusals, moved))
    if ask.command.to is not None:
        return rollback_to(view, target, ask.command.to, refusals)
    everywhere = view.every_state()
    older = ordered[ordered.index(pivot) + 1 :]
    choice = next(
        (
            dep
            for dep in older
            if dep.sha != pivot.sha
            and not dep.foreign
            and live_since(dep, bot_login) is not None
            and rejection_of(dep.sha, everywhere, bot_login) is None
        ),
        None,
    )
    if choice is None:
        refusals.append(
            Refusal(
                Code.NOTHING_TO_ROLL_BACK,
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


def decide_protection_rule(view: RingsView, ring: RingConfig, sha: str) -> ProtectionDecision:
    """Approve a deployment of `sha` into `ring` only if the ring rules allow that SHA there."""
    bot_login = view.bot_login
    target_state = view.state(ring)
    found = rejection_of(sha, view.every_state(), bot_login)
    if found is not None:
        return ProtectionDecision(False, f"ringbot: {_rejected(sha, found).message}.")
    if any(d.sha == sha and same_login(d.creator, bot_login) for d in target_state.deployments):
        return ProtectionDecision(
            True, f"ringbot: `{short(sha)}` was deployed to {ring.name} by ringbot."
        )
    closed = closed_refusal(view, ring)
    if closed is not None:
        # Nothing enters a closed ring around ringbot either; ringbot's own deployments above
        # were decided under the same rule (a rollback still goes through).
        return ProtectionDecision(False, f"ringbot: {closed[0].message}; {closed[0].hint}.")
    held = rollback_hold(target_state, bot_login)
    if held is not None:
        # A rollback holds the ring for a person's `/promote`: no deploy around ringbot lifts it.
        refusal = _held(ring, held)
        return ProtectionDecision(False, f"ringbot: {refusal.message}; {refusal.hint}.")
    source = view.before(ring)
    if source is None:
        if sha not in view.releases:
            return ProtectionDecision(
                False,
                f"ringbot: `{short(sha)}` is not a release: only a commit on the default branch "
                f"whose builds passed may enter {ring.name}; merge it through a pull request.",
            )
        if view.unverified:
            # What went around the merge gate enters only by a person's `/promote`.
            refusal = unverified_refusal(ring.name, view.unverified)
            return ProtectionDecision(False, f"ringbot: {refusal.message}; {refusal.hint}.")
        return ProtectionDecision(
            True,
            f"ringbot: {ring.name} is the first ring; `{short(sha)}` is on the default branch, "
            "its builds passed and it is not rejected.",
        )
    release = current_release(source, bot_login)
    if release is None or release.sha != sha:
        live = f"`{short(release.sha)}`" if release is not None else "nothing"
        return ProtectionDecision(
            False,
            f"ringbot: `{short(sha)}` is not the release live in {source.ring.name} ({live} is); "
            "rings cannot be skipped.",
        )
    refusals = _ring_rules(view, ring, source, release)
    if refusals:
        reasons = "; ".join(r.message for r in refusals)
        return ProtectionDecision(False, f"ringbot: {reasons}.")
    return ProtectionDecision(
        True,
        f"ringbot: `{short(sha)}` is live, signed off and baked in {source.ring.name}.",
    )


# --- rollbacks that stay ------------------------------------------------------------------------


def _held(ring: RingConfig, held: DeploymentRecord) -> Refusal:
    """Automation never undoes a rollback: the ring waits for a person's `/promote`."""
    who = f" by @{held.promoter}" if held.promoter else ""
    return Refusal(
        Code.ROLLED_BACK,
        f"{ring.name} was rolled back to `{short(held.sha)}`{who}; "
        "automatic entry waits until someone promotes into it again",
        f"comment `/promote {ring.name}` once the newer release is fit to go",
    )


def promote_first_ring(view: RingsView, ask: Ask, ring: RingConfig) -> Promotion:
    """`/promote <first ring>`: the first ring is entered automatically, so this is refused,
    except after a rollback holds it, or while the green head is unverified (guardrails). Then
    a person sends in the default branch's green head (what an automatic entry would take): the
    hold ends with that deployment, and it names who accepted the unverified commits."""
    bot_login = view.bot_login
    state = view.state(ring)
    if rollback_hold(state, bot_login) is None and not view.unverified:
        return Promotion(ring, None, None, (_first_ring(ring),))
    refusals: list[Refusal] = []
    if ask.permission < ring.promoters:
        refusals.append(
            _permission(ask.actor, ask.permission, ring.promoters, f"promoting to {ring.name}")
        )
    merged = view.pull is not None and view.pull.merged
    head = view.green_head
    if not merged:
        refusals.append(
            Refusal(
                Code.NOT_MERGED,
                "this pull request is not merged",
                f"merge it first; its release enters {ring.name} once the default branch is green",
            )
        )
    if head is None:
        refusals.append(
            Refusal(
                Code.NO_CANDIDATE,
                "the default branch's head is not green yet",
                "wait for the checks on the default branch, then comment again",
            )
        )
        return Promotion(ring, None, None, tuple(refusals))
    contained = view.contains.get(head)
    if merged and contained is not True:
        what = "could not check that" if contained is None else "it is not true that"
        refusals.append(
            Refusal(
                Code.NOT_CONTAINED,
                f"{what} the default branch's green head (`{short(head)}`) contains this "
                "pull request",
                "try again in a minute" if contained is None else "wait until it is merged",
            )
        )
    if not merged or contained is not True:
        return Promotion(ring, head, None, tuple(refusals))
    if has_in_ring(state, head, bot_login):
        return Promotion(ring, head, None, tuple(refusals), already_done=True)
    found = rejection_of(head, view.every_state(), bot_login)
    if found is not None:
        refusals.append(_rejected(head, found))
    closed = closed_refusal(view, ring)
    if closed is not None:
        refusals.append(closed[0])  # a person may lift a hold, never a freeze or a window
    return Promotion(ring, head, None, tuple(refusals), accepts=view.unverified)


def rollback_to(
    view: RingsView, target: RingConfig, prefix: str, refusals: Sequence[Refusal]
) -> Promotion:
    """`/rollback <ring> to <sha>`: the release `prefix` names (a full SHA or at least 7 hex
    digits), provided it was live in that ring (a release, not a foreign deploy) and is not
    rejected anywhere. The view holds the ring's history as far as it was read."""
    bot_login = view.bot_login
    state = view.state(target)
    name = target.name
    matching = [d for d in by_age(state.deployments) if d.sha.lower().startswith(prefix.lower())]
    shas = sorted({d.sha for d in matching})
    if len(shas) > 1:
        listed = ", ".join(f"`{sha[:12]}`" for sha in shas)
        ambiguous = Refusal(
            Code.AMBIGUOUS_SHA,
            f"`{prefix}` names more than one release deployed to {name}: {listed}",
            "write more of the SHA",
        )
        return Promotion(target, None, None, (*refusals, ambiguous))
    was_live = [d for d in matching if not d.foreign and live_since(d, bot_login) is not None]
    if not was_live:
        if not matching:
            why = f"`{prefix}` was never deployed to {name} (among its recent deployments)"
        elif all(d.foreign for d in matching):
            why = f"`{short(shas[0])}` is not a release (it was deployed to {name} around ringbot)"
        else:
            why = f"`{short(shas[0])}` was deployed to {name} but never went live there"
        never = Refusal(
            Code.NEVER_LIVE,
            why,
            f"name a release that was live in {name} (see `/status` and the environment's "
            f"deployments), or comment `/rollback {name}` for the previous good one",
        )
        return Promotion(target, None, None, (*refusals, never))
    choice = was_live[0]
    found = rejection_of(choice.sha, view.every_state(), bot_login)
    if found is not None:
        return Promotion(target, None, None, (*refusals, _rejected(choice.sha, found)))
    done = has_in_ring(state, choice.sha, bot_login)
    return Promotion(target, choice.sha, choice.id, tuple(refusals), already_done=done)
