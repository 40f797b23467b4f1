"""Release visibility decisions: where each pull request's change is in the rings, which ring label
it wears, which pull requests a release carries, and when a GitHub Release is due.

Everything here is pure. The caller reads one page of the default branch's history (newest first,
with parents), the merged pull requests, and the deployments with their statuses; containment is
decided inside that page, so no compare call is needed per pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, Literal

from bot.config import Config, RingConfig
from bot.ledger import (
    FAILED,
    IN_FLIGHT,
    DeploymentRecord,
    HotfixMark,
    Rejection,
    cd_state,
    cd_state_at,
    hotfix_of,
    live_since,
    rejection,
    same_login,
    signoffs,
)

RING_LABEL_PREFIX: Final = "ring:"
REJECTED_LABEL: Final = "ring:rejected"
REJECTED_COLOR: Final = "d73a4a"
# Greens that deepen ring by ring: the wider the ring, the darker the label.
RING_COLORS: Final = ("c2e0c6", "9be9a8", "40c463", "30a14e", "216e39", "0e4429")

RowState = Literal["waiting", "deploying", "live", "replaced", "rejected", "failed"]


@dataclass(frozen=True)
class CommitNode:
    """One commit of the default branch's history page."""

    sha: str
    parents: tuple[str, ...] = ()
    url: str = ""  # the commit's page on GitHub


@dataclass(frozen=True)
class MergedPull:
    """A pull request merged into the default branch."""

    number: int
    title: str
    author: str
    merge_sha: str
    labels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PublishedRelease:
    """A GitHub Release as read back: its tag, the commit it was made from, and who made it."""

    tag: str
    target: str
    author: str


class History:
    """The newest commits of the default branch (one page, newest first) and ancestry inside it.

    A commit outside the page is unknown: it contains nothing and nothing contains it, so an old
    pull request is left alone rather than guessed about.
    """

    def __init__(self, commits: Iterable[CommitNode]) -> None:
        self.commits = tuple(commits)
        self._position = {c.sha: i for i, c in enumerate(self.commits)}
        self._parents = {c.sha: c.parents for c in self.commits}
        self._ancestry: dict[str, frozenset[str]] = {}

    def __contains__(self, sha: object) -> bool:
        return sha in self._position

    def position(self, sha: str) -> int | None:
        """0 for the newest commit of the page; None outside it."""
        return self._position.get(sha)

    def url(self, sha: str) -> str:
        """The commit's page, when the history page knows it."""
        position = self._position.get(sha)
        return self.commits[position].url if position is not None else ""

    def ancestry(self, sha: str) -> frozenset[str]:
        """`sha` and every commit of the page it reaches; empty when `sha` is not in the page."""
        known = self._ancestry.get(sha)
        if known is not None:
            return known
        seen: set[str] = set()
        todo = [sha] if sha in self._position else []
        while todo:
            current = todo.pop()
            if current in seen or current not in self._position:
                continue
            seen.add(current)
            todo.extend(self._parents[current])
        result = frozenset(seen)
        self._ancestry[sha] = result
        return result

    def contains(self, release: str, commit: str) -> bool:
        """Whether release `release` contains commit `commit`."""
        return commit in self.ancestry(release)


@dataclass(frozen=True)
class Row:
    """Where a release stands in one ring: for a pull request's journey, or for the release itself."""

    ring: RingConfig
    state: RowState
    sha: str | None = None
    since: datetime | None = None
    signed_off_by: tuple[str, ...] = ()
    rejection: Rejection | None = None
    bake_left: timedelta | None = None  # time until the next ring may take the release
    next_ring: str | None = None
    users: int | None = None  # users reached once a release is in this ring (cumulative)
    hotfix: HotfixMark | None = None  # it came into this ring through the hotfix lane

    @property
    def reached(self) -> bool:
        """The release went live in the ring (and was not rejected)."""
        return self.state in ("live", "replaced") and self.since is not None


@dataclass(frozen=True)
class LabelChange:
    """The ring label to add (if missing) and the stale ring labels to take off."""

    add: str | None
    remove: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Nothing to write."""
        return self.add is None and not self.remove


@dataclass(frozen=True)
class ReleaseDue:
    """A GitHub Release to publish: the release entered a `release: true` ring."""

    ring: RingConfig
    sha: str
    tag: str
    live_since: datetime


# --- facts --------------------------------------------------------------------------------------


def reach(config: Config, ring: RingConfig) -> int | None:
    """Users reached once a release is in `ring`: every ring up to it adds its `users`."""
    upto = config.rings[: config.index(ring.name) + 1]
    known = [r.users for r in upto if r.users is not None]
    return sum(known) if known else None


def declares_users(config: Config) -> bool:
    """Some ring says how many users it reaches, so the blast radius can be shown."""
    return any(r.users is not None for r in config.rings)


def rejections(deployments: Iterable[DeploymentRecord], bot_login: str) -> dict[str, Rejection]:
    """Release SHA -> its earliest rejection, from the ledger on any of its deployments."""
    found: dict[str, Rejection] = {}
    for dep in deployments:
        entry = rejection(dep, bot_login)
        if entry is not None and (dep.sha not in found or entry.at < found[dep.sha].at):
            found[dep.sha] = entry
    return found


def in_ring(ring: RingConfig, deployments: Iterable[DeploymentRecord]) -> list[DeploymentRecord]:
    """The ring's deployments, oldest first (ids break ties: GitHub hands them out in order)."""
    mine = [d for d in deployments if d.environment.lower() == ring.environment.lower()]
    return sorted(mine, key=lambda d: (d.created_at, d.id))


def is_good(dep: DeploymentRecord, rejected: Mapping[str, Rejection], bot_login: str) -> bool:
    """The deployment went live and its release is not rejected: it delivered its changes."""
    return (
        live_since(dep, bot_login) is not None
        and dep.sha not in rejected
        and rejection(dep, bot_login) is None
    )


def row(
    config: Config,
    ring: RingConfig,
    dep: DeploymentRecord | None,
    rejected: Mapping[str, Rejection],
    now: datetime,
    bot_login: str,
    *,
    own: bool = False,
) -> Row:
    """One ring's row for the deployment that represents the release there (None: not yet).

    `own` is the release's own table: a deployment a newer one replaced shows as replaced. In a
    pull request's journey the change stays live, since every later release carries it too.
    A deployment ringbot made through `/hotfix` carries its mark (⚡, who asked and approved).
    """
    found = _row(config, ring, dep, rejected, now, bot_login, own=own)
    mark = hotfix_of(dep, bot_login) if dep is not None else None
    return replace(found, hotfix=mark) if mark is not None else found


def _row(
    config: Config,
    ring: RingConfig,
    dep: DeploymentRecord | None,
    rejected: Mapping[str, Rejection],
    now: datetime,
    bot_login: str,
    *,
    own: bool = False,
) -> Row:
    """The row without the hotfix mark (see row)."""
    users = reach(config, ring)
    if dep is None:
        return Row(ring, "waiting", users=users)
    found = rejected.get(dep.sha) or rejection(dep, bot_login)
    names = tuple(s.user for s in signoffs(dep, bot_login))
    since = live_since(dep, bot_login)
    state = cd_state(dep, bot_login)
    if found is not None:
        return Row(ring, "rejected", dep.sha, found.at, names, found, users=users)
    if since is not None and own and state == "inactive":
        return Row(ring, "replaced", dep.sha, since, names, users=users)
    if since is not None:
        following = config.next(ring)
        left = None
        if following is not None and following.bake > timedelta(0):
            remaining = since + following.bake - now
            left = remaining if remaining > timedelta(0) else None
        return Row(
            ring,
            "live",
            dep.sha,
            since,
            names,
            bake_left=left,
            next_ring=following.name if following is not None else None,
            users=users,
        )
    if state in IN_FLIGHT:
        return Row(ring, "deploying", dep.sha, dep.created_at, users=users)
    if state in FAILED:
        return Row(ring, "failed", dep.sha, cd_state_at(dep, bot_login), users=users)
    # Made inactive before it ever went live: a newer deployment took its place.
    return Row(ring, "replaced", dep.sha, cd_state_at(dep, bot_login), users=users)


def journey(
    config: Config,
    pull: MergedPull,
    deployments: Sequence[DeploymentRecord],
    history: History,
    now: datetime,
    bot_login: str,
) -> tuple[Row, ...]:
    """A pull request's way through the rings: per ring, the first release carrying it that went
    live there and was not rejected; without one, the newest release carrying it that tried."""
    rejected = rejections(deployments, bot_login)
    rows = []
    for ring in config.rings:
        mine = [d for d in in_ring(ring, deployments) if history.contains(d.sha, pull.merge_sha)]
        good = next((d for d in mine if is_good(d, rejected, bot_login)), None)
        chosen = good or (mine[-1] if mine else None)
        rows.append(row(config, ring, chosen, rejected, now, bot_login))
    return tuple(rows)


def release_rows(
    config: Config,
    sha: str,
    deployments: Sequence[DeploymentRecord],
    now: datetime,
    bot_login: str,
) -> tuple[Row, ...]:
    """A release's own table: per ring, its newest deployment there."""
    mine = [d for d in deployments if d.sha == sha]
    rejected = rejections(mine, bot_login)
    rows = []
    for ring in config.rings:
        deps = in_ring(ring, mine)
        rows.append(
            row(config, ring, deps[-1] if deps else None, rejected, now, bot_login, own=True)
        )
    return tuple(rows)


def release_milestone(rows: Sequence[Row]) -> str:
    """What is worth rewriting the release check run for: per ring, whether the release reached
    it, is on its way, failed or was rejected there, and whether its sign-offs are complete. Not
    the bake time ticking down, a second sign-off, or a newer release replacing it in a ring:
    the run says where this release has been, and each rewrite is a write against the limit."""
    parts = []
    for r in rows:
        state = "reached" if r.state in ("live", "replaced") else r.state
        signed = len(r.signed_off_by) >= max(r.ring.approvals, 1)
        hotfix = ":hotfix" if r.hotfix is not None else ""
        parts.append(
            f"{r.ring.name}:{state}:{r.sha or ''}:{signed}:{r.rejection is not None}{hotfix}"
        )
    return "\n".join(parts)


def widest(rows: Sequence[Row]) -> Row | None:
    """The widest ring the release reached."""
    return next((r for r in reversed(rows) if r.reached), None)


# --- labels -------------------------------------------------------------------------------------


def ring_label(rows: Sequence[Row]) -> str | None:
    """`ring:<widest ring reached>`; `ring:rejected` when nothing unrejected carried it anywhere
    and a release with it was rejected; None while it is only on its way."""
    top = widest(rows)
    if top is not None:
        return f"{RING_LABEL_PREFIX}{top.ring.name}"
    if any(r.state == "rejected" for r in rows):
        return REJECTED_LABEL
    return None


def managed_labels(config: Config) -> frozenset[str]:
    """The labels ringbot owns, case-folded: one per ring, and the rejected one."""
    names = {f"{RING_LABEL_PREFIX}{r.name}".casefold() for r in config.rings}
    return frozenset(names | {REJECTED_LABEL})


def label_change(config: Config, current: Iterable[str], want: str | None) -> LabelChange:
    """What to write so that the pull request wears `want` and no other ring label.

    With no label wanted (the change is only on its way) nothing is taken off: a label is never
    removed for lack of knowledge.
    """
    if want is None:
        return LabelChange(None)
    have = list(current)
    managed = managed_labels(config)
    stale = tuple(n for n in have if n.casefold() in managed and n.casefold() != want.casefold())
    missing = not any(n.casefold() == want.casefold() for n in have)
    return LabelChange(want if missing else None, stale)


def label_color(config: Config, name: str) -> str:
    """A label's colour: rings darken as they widen; rejected is red."""
    if name.casefold() == REJECTED_LABEL:
        return REJECTED_COLOR
    ring = name[len(RING_LABEL_PREFIX) :]
    position = config.ring_names.index(ring) if ring in config.ring_names else 0
    return RING_COLORS[min(position, len(RING_COLORS) - 1)]


# --- work items and releases -------------------------------------------------------------------


def previous_candidates(
    ring: RingConfig, deployments: Sequence[DeploymentRecord], history: History, sha: str
) -> list[DeploymentRecord]:
    """Deployments in the ring of releases older than `sha` that it contains, nearest first: the
    first good one is the previous release there."""
    older = [d for d in in_ring(ring, deployments) if d.sha != sha and history.contains(sha, d.sha)]
    return sorted(older, key=lambda d: (history.position(d.sha) or 0, -d.id))


def work_items(
    history: History, pulls: Iterable[MergedPull], sha: str, since: str | None
) -> tuple[MergedPull, ...]:
    """The pull requests merged into `sha` after release `since` (None: every one in the page)."""
    new = history.ancestry(sha) - (history.ancestry(since) if since else frozenset())
    return tuple(sorted((p for p in pulls if p.merge_sha in new), key=lambda p: p.number))


def previous_published(
    history: History, releases: Iterable[PublishedRelease], sha: str, bot_login: str
) -> PublishedRelease | None:
    """The newest earlier GitHub Release ringbot made, of a release that `sha` contains."""
    earlier = [
        r
        for r in releases
        if same_login(r.author, bot_login) and r.target != sha and history.contains(sha, r.target)
    ]
    return min(earlier, key=lambda r: history.position(r.target) or 0, default=None)


def published_for(
    releases: Iterable[PublishedRelease], sha: str, bot_login: str
) -> PublishedRelease | None:
    """ringbot's GitHub Release of exactly `sha`, if it made one."""
    return next((r for r in releases if r.target == sha and same_login(r.author, bot_login)), None)


def release_due(
    config: Config, sha: str, deployments: Sequence[DeploymentRecord], bot_login: str
) -> ReleaseDue | None:
    """A GitHub Release is due once `sha` went live in a `release: true` ring, unless rejected.

    The tag takes the time of its first success there, so every later look names the same tag.
    """
    mine = [d for d in deployments if d.sha == sha]
    if rejections(mine, bot_login):
        return None
    found: list[tuple[datetime, int, RingConfig]] = []
    for position, ring in enumerate(config.rings):
        if not ring.release:
            continue
        for dep in in_ring(ring, mine):
            since = live_since(dep, bot_login)
            if since is not None:
                found.append((since, position, ring))
    if not found:
        return None
    since, _, ring = min(found, key=lambda f: (f[0], f[1]))
    return ReleaseDue(ring, sha, config.tag_for(sha, ring.name, since), since)


def hotfixes(
    sha: str, deployments: Iterable[DeploymentRecord], bot_login: str
) -> tuple[tuple[str, HotfixMark], ...]:
    """(ring environment, mark) of every deployment of `sha` ringbot made through `/hotfix`,
    oldest first: for the GitHub Release notes."""
    mine = sorted((d for d in deployments if d.sha == sha), key=lambda d: (d.created_at, d.id))
    return tuple(
        (d.environment, mark) for d in mine if (mark := hotfix_of(d, bot_login)) is not None
    )


def check_conclusion(rows: Sequence[Row]) -> str:
    """The release check's conclusion: failure once rejected, success once it reached the last
    ring, neutral on the way (it is information, never a build)."""
    if any(r.state == "rejected" for r in rows):
        return "failure"
    if rows and rows[-1].reached:
        return "success"
    return "neutral"
