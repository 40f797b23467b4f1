"""The hotfix lane: may `/hotfix <ring>` send the release carrying a pull request straight into
`<ring>` (skipping rings, bake times and sign-offs), and if not, why.

Everything here is pure. The release is the one that carries the pull request the command was
written on: the current (live) release of the target ring when it already holds the pull
request's merge commit (then nothing is deployed), else the current release of the highest ring
that holds it. So a hotfix ships a release that was built green and went live somewhere (in the
first ring at least), never an untested commit, and no pull request the lane did not look at
rides along beyond what is live already. It enters only when every condition holds:

- `hotfix:` is in the config (the lane is off without it);
- the pull request is merged and carries `hotfix.label`;
- it has `hotfix.approvals` approving reviews (each reviewer's latest verdict) from people with
  `hotfix.promoters` permission who are not its author;
- its `ringbot/merge-gate` run on its head was completed with success when it merged (an admin
  merge around a red gate never takes the lane);
- the release is not rejected in any ring;
- the asker has `hotfix.promoters` permission;
- the ring is open (windows and freezes), unless `hotfix.during_freeze` is true.

Every failed condition is a refusal of its own, saying what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import HotfixConfig, RingConfig
from bot.ledger import (
    DeploymentRecord,
    HotfixMark,
    current_release,
    has_in_ring,
    rejection_of,
    same_login,
)
from bot.messages.text import inert, short
from bot.models import Permission, Review
from bot.policy.refusals import Code, Refusal
from bot.policy.rings import RingsView, closed_refusal

_VERDICTS = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


@dataclass(frozen=True)
class GateRun:
    """ringbot's newest `ringbot/merge-gate` run on the pull request's head, as read back."""

    status: str  # queued | in_progress | completed
    conclusion: str | None
    completed_at: datetime | None = None


@dataclass(frozen=True)
class HotfixPull:
    """The pull request `/hotfix` was written on, read fresh (labels change after a merge)."""

    number: int
    author: str
    head_sha: str
    merged: bool
    merge_commit_sha: str | None = None
    merged_at: datetime | None = None
    labels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class HotfixView:
    """Everything a hotfix decision reads: the rings (every ring's current release, where the
    chosen release went elsewhere, freezes of the target), the pull request, its reviews with
    each reviewer's permission, and the gate run on its head (None: there is none)."""

    rings: RingsView
    pull: HotfixPull | None
    reviews: tuple[Review, ...] = ()
    gate: GateRun | None = None


@dataclass(frozen=True)
class HotfixDecision:
    """Deploy `sha` into `target` as a hotfix, or why not."""

    target: RingConfig | None
    sha: str | None = None
    source: RingConfig | None = None  # the ring whose current release it is
    approvers: tuple[str, ...] = ()  # whose approvals counted
    refusals: tuple[Refusal, ...] = ()
    already_done: bool = False  # the target already has (or is getting) this release
    mark: HotfixMark | None = field(default=None)  # what the deployment payload records

    @property
    def allowed(self) -> bool:
        """Every condition holds."""
        return self.sha is not None and not self.refusals

    @property
    def should_deploy(self) -> bool:
        """A new deployment is to be created now."""
        return self.allowed and not self.already_done


# --- facts --------------------------------------------------------------------------------------


def latest_verdicts(reviews: Sequence[Review]) -> list[Review]:
    """Each reviewer's latest review that states a verdict (COMMENTED changes nothing), by login."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state.upper() not in _VERDICTS:
            continue
        login = review.user.casefold()
        held = latest.get(login)
        if held is None or (review.submitted_at, review.id) > (held.submitted_at, held.id):
            latest[login] = review
    return [latest[login] for login in sorted(latest)]


def counted_approvals(
    reviews: Sequence[Review], author: str, least: Permission
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(who counts, why others do not): approvals by people with `least`, never the author."""
    counted: list[str] = []
    notes: list[str] = []
    for review in latest_verdicts(reviews):
        if review.state.upper() != "APPROVED":
            continue
        if same_login(review.user, author):
            notes.append(f"@{review.user} wrote it, so their approval does not count")
        elif review.permission < least:
            notes.append(
                f"@{review.user} has {review.permission.label} access, so their approval does "
                "not count"
            )
        else:
            counted.append(review.user)
    return tuple(counted), tuple(notes)


def candidates(view: RingsView, target: RingConfig) -> list[DeploymentRecord]:
    """The releases that could carry the pull request, in the order they are looked at: the
    target's current release, then every other ring's from the highest down (each distinct)."""
    rings = [target, *(ring for ring in reversed(view.config.rings) if ring.name != target.name)]
    found: list[DeploymentRecord] = []
    for ring in rings:
        release = current_release(view.state(ring), view.bot_login)
        if release is not None and all(r.sha != release.sha for r in found):
            found.append(release)
    return found


def carrying(view: RingsView, target: RingConfig) -> tuple[DeploymentRecord | None, bool]:
    """The release the hotfix takes (see the module's docstring), and whether some release's
    containment was unknown (GitHub could not say) before one was found."""
    unknown = False
    for release in candidates(view, target):
        held = view.contains.get(release.sha)
        if held is True:
            return release, unknown
        unknown = unknown or (release.sha in view.contains and held is None)
    return None, unknown


def ring_of(view: RingsView, release: DeploymentRecord) -> RingConfig | None:
    """The ring whose current release `release` is (the highest, when several)."""
    for ring in reversed(view.config.rings):
        current = current_release(view.state(ring), view.bot_login)
        if current is not None and current.id == release.id:
            return ring
    return None


# --- the decision -------------------------------------------------------------------------------


def decide_hotfix(
    view: HotfixView, ring_name: str, asker: str, permission: Permission
) -> HotfixDecision:
    """`/hotfix <ring>`: every condition of the lane, each failure its own refusal."""
    rings = view.rings
    config = rings.config
    settings = config.hotfix
    if settings is None:
        return HotfixDecision(config.ring(ring_name), refusals=(lane_off(),))
    target = config.ring(ring_name)
    if target is None:
        names = ", ".join(f"`{ring.name}`" for ring in config.rings)
        no_ring = Refusal(
            Code.UNKNOWN_RING, f"there is no ring `{ring_name}`", f"the rings are {names}"
        )
        return HotfixDecision(None, refusals=(no_ring,))
    refusals: list[Refusal] = []
    if permission < settings.promoters:
        refusals.append(
            Refusal(
                Code.PERMISSION,
                f"a hotfix needs {settings.promoters.label} permission (`hotfix.promoters`); "
                f"@{asker} has {permission.label}",
                f"ask someone with {settings.promoters.label} access to comment "
                f"`/hotfix {target.name}`",
            )
        )
    pull = view.pull
    if pull is None or not pull.merged or not pull.merge_commit_sha:
        refusals.append(
            Refusal(
                Code.NOT_MERGED,
                "this pull request is not merged",
                "merge it through the merge gate first; its release must be live in a ring "
                f"before it can take the hotfix lane into {target.name}",
            )
        )
        return HotfixDecision(target, refusals=tuple(refusals))
    refusals += pull_rules(view, settings, pull)
    release, unknown = carrying(rings, target)
    if release is None:
        refusals.append(_no_release(rings, target, unknown))
        return HotfixDecision(target, refusals=tuple(refusals))
    found = rejection_of(release.sha, rings.every_state(), rings.bot_login)
    if found is not None:
        why = f": {inert(found.reason)}" if found.reason else ""
        refusals.append(
            Refusal(
                Code.REJECTED,
                f"the release carrying this pull request (`{short(release.sha)}`) was rejected "
                f"by @{found.user}{why}",
                "a rejection is final, even for a hotfix; merge the fix again so that a new "
                "release carries it, then comment `/hotfix` there",
            )
        )
    if not settings.during_freeze:
        closed = closed_refusal(rings, target)
        if closed is not None:
            message, hint = closed[0].message, closed[0].hint
            extra = "; or set `hotfix.during_freeze: true` to let hotfixes into closed rings"
            refusals.append(Refusal(Code.CLOSED, message, hint + extra))
    approvers, _ = counted_approvals(view.reviews, pull.author, settings.promoters)
    done = has_in_ring(rings.state(target), release.sha, rings.bot_login)
    return HotfixDecision(
        target,
        release.sha,
        ring_of(rings, release),
        approvers,
        tuple(refusals),
        already_done=done,
        mark=HotfixMark(asker, approvers, pull.number),
    )


def pull_rules(view: HotfixView, settings: HotfixConfig, pull: HotfixPull) -> list[Refusal]:
    """The label, the approvals and the merge gate at merge: the rules on the pull request."""
    refusals: list[Refusal] = []
    if not any(label.casefold() == settings.label.casefold() for label in pull.labels):
        refusals.append(
            Refusal(
                Code.HOTFIX_LABEL,
                f"this pull request does not carry the `{inert(settings.label)}` label",
                f"add the `{inert(settings.label)}` label if this change is an emergency fix, "
                "then comment again",
            )
        )
    counted, notes = counted_approvals(view.reviews, pull.author, settings.promoters)
    if len(counted) < settings.approvals:
        more = settings.approvals - len(counted)
        have = f"approved by {', '.join(f'@{u}' for u in counted)}" if counted else "no approvals"
        detail = "; ".join([have, *notes])
        plural = "approval" if more == 1 else "approvals"
        refusals.append(
            Refusal(
                Code.HOTFIX_APPROVALS,
                f"a hotfix needs {settings.approvals} approving reviews from people with "
                f"{settings.promoters.label} permission who did not write it; it needs {more} "
                f"more {plural} ({detail})",
                f"ask {more} more {'person' if more == 1 else 'people'} with "
                f"{settings.promoters.label} access to approve this pull request",
            )
        )
    refusals += filter(None, [gate_refusal(view.gate, pull)])
    return refusals


def gate_refusal(gate: GateRun | None, pull: HotfixPull) -> Refusal | None:
    """The merge gate was green (completed, success) on the head when the pull request merged."""
    hint = (
        "a hotfix never takes a change that merged around the gate; open a new pull request "
        "with the fix, let the gate pass, merge it, then comment `/hotfix` there"
    )
    head = f"`{short(pull.head_sha)}`"
    if gate is None:
        return Refusal(
            Code.GATE_NOT_GREEN,
            f"ringbot's merge gate never ran on this pull request's head {head}",
            hint,
        )
    if gate.status != "completed" or gate.conclusion != "success":
        state = gate.conclusion if gate.status == "completed" else gate.status.replace("_", " ")
        return Refusal(
            Code.GATE_NOT_GREEN,
            f"the merge gate was not green when this pull request merged (it was {state} on "
            f"{head})",
            hint,
        )
    if gate.completed_at and pull.merged_at and gate.completed_at > pull.merged_at:
        return Refusal(
            Code.GATE_NOT_GREEN,
            f"the merge gate on {head} turned green only after this pull request merged",
            hint,
        )
    return None


def lane_off() -> Refusal:
    """The refusal of `/hotfix` in a repository without `hotfix:`."""
    return Refusal(
        Code.HOTFIX_OFF,
        "the hotfix lane is off in this repository",
        "to turn it on, add `hotfix:` to `.github/ringbot.yml` (for example "
        "`hotfix: {label: hotfix, approvals: 2, promoters: maintain}`)",
    )


def _no_release(view: RingsView, target: RingConfig, unknown: bool) -> Refusal:
    """No ring has a live release holding the pull request (or GitHub could not say)."""
    first = view.config.rings[0].name
    if unknown:
        return Refusal(
            Code.NOT_CONTAINED,
            "could not check which live release contains this pull request",
            "try again in a minute",
        )
    return Refusal(
        Code.NOT_LIVE,
        "no ring has a live release that contains this pull request",
        f"wait until it is live in {first} (it enters by itself once the default branch is "
        f"green), then comment `/hotfix {target.name}` again",
    )
