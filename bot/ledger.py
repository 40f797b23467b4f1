"""ringbot's ledger: the facts it records as deployment statuses, and the pure reading of them.

A ring is a GitHub Environment and entering it is a Deployment of the exact SHA. The user's CD posts
deployment statuses; ringbot adds its own statuses (same state as the CD's, `auto_inactive: false`)
whose `description` encodes a sign-off or a rejection. Only statuses created by the App's own login
count as ledger entries: nobody else can post as `ringbot[bot]`, so nobody can forge one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from .config import RingConfig

# GitHub refuses a deployment status description longer than this.
DESCRIPTION_LIMIT: Final = 140
ELLIPSIS: Final = "…"

_PREFIX: Final = "ringbot:"
_SIGNOFF_RE: Final = re.compile(r"^ringbot:signoff @(?P<user>\S+)$")
_REJECT_RE: Final = re.compile(r"^ringbot:reject @(?P<user>\S+)(?: (?P<reason>.*))?$", re.DOTALL)

CdState = Literal["pending", "queued", "in_progress", "success", "failure", "error", "inactive"]
CD_STATES: Final[frozenset[str]] = frozenset(
    {"pending", "queued", "in_progress", "success", "failure", "error", "inactive"}
)
# A deployment in one of these states is still on its way into the ring.
IN_FLIGHT: Final[frozenset[str]] = frozenset({"pending", "queued", "in_progress"})
FAILED: Final[frozenset[str]] = frozenset({"failure", "error"})


@dataclass(frozen=True)
class DeploymentStatusRecord:
    """One deployment status as read from GitHub."""

    id: int
    state: str
    creator: str
    description: str
    created_at: datetime


@dataclass(frozen=True)
class HotfixMark:
    """A deployment ringbot made through the hotfix lane (read from its payload, which only the
    App writes): who asked, who approved the pull request, and which one it was."""

    asker: str
    approvers: tuple[str, ...] = ()
    pull: int = 0


@dataclass(frozen=True)
class DeploymentRecord:
    """One deployment of a SHA into an environment, with its statuses oldest first."""

    id: int
    sha: str
    environment: str
    created_at: datetime
    creator: str
    statuses: tuple[DeploymentStatusRecord, ...] = ()
    # Not a release: a commit that is not on the default branch, or whose builds did not pass,
    # deployed around ringbot. Shown for what it is, never counted as a ring's release.
    foreign: bool = False
    # Who asked ringbot for this deployment (`/promote by @bob`); "" for automatic entries and
    # for deployments made around ringbot.
    promoter: str = ""
    # ringbot deployed it for a `/rollback` (its payload says `"rollback": true`, or its
    # description `/rollback by @x`); see rollback_hold.
    rollback: bool = False
    # ringbot deployed it through `/hotfix` (its payload's "hotfix"); see hotfix_of.
    hotfix: HotfixMark | None = None


@dataclass(frozen=True)
class SignOff:
    """A person vouched for a release in a ring."""

    user: str
    at: datetime


@dataclass(frozen=True)
class Rejection:
    """A person rejected a release; it never moves on."""

    user: str
    reason: str
    at: datetime


def same_login(a: str, b: str) -> bool:
    """GitHub logins are case-insensitive."""
    return a.casefold() == b.casefold()


def _one_line(text: str) -> str:
    """Collapse whitespace (newlines included) so the description stays one line."""
    return " ".join(text.split())


def encode_signoff(user: str) -> str:
    """The description that records `user`'s sign-off."""
    return f"{_PREFIX}signoff @{user.lstrip('@')}"


def encode_rejection(user: str, reason: str) -> str:
    """The description that records a rejection; the reason is cut with "…" to fit 140 chars."""
    head = f"{_PREFIX}reject @{user.lstrip('@')}"
    reason = _one_line(reason)
    if not reason:
        return head[:DESCRIPTION_LIMIT]
    text = f"{head} {reason}"
    if len(text) <= DESCRIPTION_LIMIT:
        return text
    room = DESCRIPTION_LIMIT - len(head) - 1 - len(ELLIPSIS)
    return f"{head} {reason[: max(room, 0)].rstrip()}{ELLIPSIS}"


def decode(
    description: str, creator: str, *, bot_login: str, at: datetime
) -> SignOff | Rejection | None:
    """Read a ledger entry; None unless the status was created by the bot itself and parses."""
    if not same_login(creator, bot_login) or not description.startswith(_PREFIX):
        return None
    if match := _SIGNOFF_RE.match(description):
        return SignOff(user=match["user"], at=at)
    if match := _REJECT_RE.match(description):
        return Rejection(user=match["user"], reason=(match["reason"] or "").strip(), at=at)
    return None


def _entries(dep: DeploymentRecord, bot_login: str) -> list[SignOff | Rejection]:
    """The ledger entries on a deployment, oldest first."""
    found = (
        decode(s.description, s.creator, bot_login=bot_login, at=s.created_at) for s in dep.statuses
    )
    return [entry for entry in found if entry is not None]


def cd_statuses(dep: DeploymentRecord, bot_login: str) -> tuple[DeploymentStatusRecord, ...]:
    """The statuses posted by anyone but the bot: the CD's own view of the deployment."""
    return tuple(s for s in dep.statuses if not same_login(s.creator, bot_login))


def cd_state(dep: DeploymentRecord, bot_login: str) -> CdState:
    """The CD's latest state for the deployment; "pending" before the CD has said anything."""
    for status in reversed(cd_statuses(dep, bot_login)):
        if status.state in CD_STATES:
            return status.state  # type: ignore[return-value]  # narrowed by the membership test
    return "pending"


def cd_state_at(dep: DeploymentRecord, bot_login: str) -> datetime:
    """When the CD last changed the deployment's state (its creation before any status)."""
    statuses = cd_statuses(dep, bot_login)
    return statuses[-1].created_at if statuses else dep.created_at


def live_since(dep: DeploymentRecord, bot_login: str) -> datetime | None:
    """When the CD first reported success: the start of the bake time."""
    for status in cd_statuses(dep, bot_login):
        if status.state == "success":
            return status.created_at
    return None


def signoffs(dep: DeploymentRecord, bot_login: str) -> tuple[SignOff, ...]:
    """The sign-offs on a deployment, one per person, each person's first one."""
    seen: set[str] = set()
    result: list[SignOff] = []
    for entry in _entries(dep, bot_login):
        if isinstance(entry, SignOff) and entry.user.casefold() not in seen:
            seen.add(entry.user.casefold())
            result.append(entry)
    return tuple(result)


def rejection(dep: DeploymentRecord, bot_login: str) -> Rejection | None:
    """The first rejection on a deployment; a rejection is final, so later ones change nothing."""
    for entry in _entries(dep, bot_login):
        if isinstance(entry, Rejection):
            return entry
    return None


# --- a ring's deployments: which release is live, was live, or is on its way ----------------


@dataclass(frozen=True)
class RingState:
    """One ring and its deployments, newest first (read down to its current release)."""

    ring: RingConfig
    deployments: tuple[DeploymentRecord, ...] = ()


def by_age(deployments: Iterable[DeploymentRecord]) -> list[DeploymentRecord]:
    """Newest first; ids break ties because GitHub hands them out in order."""
    return sorted(deployments, key=lambda d: (d.created_at, d.id), reverse=True)


def newest(state: RingState) -> DeploymentRecord | None:
    """The ring's newest deployment, whatever its state."""
    return by_age(state.deployments)[0] if state.deployments else None


def current_release(state: RingState, bot_login: str) -> DeploymentRecord | None:
    """The newest release deployment whose latest CD state is success (an auto-inactivated one
    is not). A foreign deployment (a commit that is no release) never counts."""
    for dep in by_age(state.deployments):
        if not dep.foreign and cd_state(dep, bot_login) == "success":
            return dep
    return None


def release_at(state: RingState, bot_login: str, at: datetime) -> DeploymentRecord | None:
    """The ring's current release as it was at `at`: what someone writing then had in front of them."""
    for dep in by_age(state.deployments):
        if dep.foreign or dep.created_at > at:
            continue
        seen = [s for s in cd_statuses(dep, bot_login) if s.created_at <= at]
        if seen and seen[-1].state == "success":
            return dep
    return None


def has_in_ring(state: RingState, sha: str, bot_login: str) -> bool:
    """The ring is live on `sha`, or its newest deployment is already bringing `sha` there."""
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


def rejection_of(sha: str, states: Iterable[RingState], bot_login: str) -> Rejection | None:
    """The earliest rejection of `sha` on any of its deployments in the given rings."""
    found = [
        r
        for state in states
        for dep in state.deployments
        if dep.sha == sha and (r := rejection(dep, bot_login)) is not None
    ]
    return min(found, key=lambda r: r.at) if found else None


def hotfix_of(dep: DeploymentRecord, bot_login: str) -> HotfixMark | None:
    """The hotfix a deployment was made for, when ringbot made it (nobody else can forge one)."""
    return dep.hotfix if same_login(dep.creator, bot_login) else None


def rollback_hold(state: RingState, bot_login: str) -> DeploymentRecord | None:
    """The rollback that holds the ring, if one does: automation never undoes a rollback.

    Looking from the newest deployment down to the ring's current release, the first one that
    a person asked ringbot for decides: a `/rollback` holds the ring (whether it is live, on
    its way or failed), a `/promote` (or any other person's entry) lets automation in again.
    Only ringbot's own deployments count, so nobody can forge a hold or lift one.
    """
    current = current_release(state, bot_login)
    for dep in by_age(state.deployments):
        if not same_login(dep.creator, bot_login):
            continue  # a deploy around ringbot (a CD re-running the live release) lifts nothing
        if dep.rollback:
            return dep
        if dep.promoter or dep is current:
            return None
    return None
