"""Release visibility: where a release and each pull request in it stand in the rings.

Every deployment status (the user's CD, and ringbot's own sign-offs and rejections) reduces to
"look at release SHA again". The job reads the rings' deployments, one page of the default
branch's history and the merged pull requests, decides in pure code, and writes only what differs:
a sticky status comment and a `ring:<name>` label on each pull request the release carries, the
`ringbot/release` check run on the release commit, and a GitHub Release once the release is live
in a `release: true` ring. It writes no deployment statuses, so it never triggers itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gidgethub import routing, sansio

from .. import ring_snapshot, snapshot
from ..config import Config, ConfigErrors, RingConfig
from ..context import Ctx
from ..effects.checks import CheckOutput, find_own_run, publish_check
from ..effects.labels import move_label
from ..effects.releases import publish_release, recent_releases
from ..effects.replies import find_reply, reply
from ..ledger import DeploymentRecord, Rejection
from ..logs import log
from ..messages import visibility as say
from ..messages.blocked import BLOCKED_TITLE
from ..policy.visibility import (
    REJECTED_LABEL,
    CommitNode,
    History,
    MergedPull,
    check_conclusion,
    is_good,
    journey,
    label_change,
    label_color,
    previous_candidates,
    previous_published,
    published_for,
    rejections,
    release_due,
    release_rows,
    ring_label,
    work_items,
)
from ..snapshot import PAGE, parse_time
from ..webhook import Triage
from ..work import ReleaseKey
from . import events

router = routing.Router()


@router.register("deployment_status", action="created")
async def deployment_reported(event: sansio.Event, triage: Triage) -> None:
    """Any report on a deployment, ringbot's own ledger entries included: show the release again."""
    data = event.data
    sha = str((data.get("deployment") or {}).get("sha") or "")
    if not sha:
        return
    triage.enqueue(
        ReleaseKey(
            events.installation(event), events.repo(event), events.default_branch(event), sha
        )
    )


# --- reading ------------------------------------------------------------------------------------


async def _history(ctx: Ctx, ref: str) -> History:
    """The newest 100 commits reachable from `ref`, newest first, with their parents."""
    url = f"/repos/{ctx.repo}/commits?sha={quote(ref, safe='')}&{PAGE}"
    data: list[dict[str, Any]] = await ctx.gh.getitem(url)
    return History(
        CommitNode(
            str(c["sha"]),
            tuple(str(p["sha"]) for p in c.get("parents") or []),
            str(c.get("html_url") or ""),
        )
        for c in data
    )


async def _merged_pulls(ctx: Ctx, branch: str) -> list[MergedPull]:
    """The most recently updated closed pull requests into the branch that were merged."""
    url = (
        f"/repos/{ctx.repo}/pulls?state=closed&base={quote(branch, safe='')}"
        f"&sort=updated&direction=desc&{PAGE}"
    )
    data: list[dict[str, Any]] = await ctx.gh.getitem(url)
    return [
        MergedPull(
            number=int(p["number"]),
            title=str(p.get("title") or ""),
            author=str((p.get("user") or {}).get("login", "")),
            merge_sha=str(p["merge_commit_sha"]),
            labels=frozenset(str(label["name"]) for label in p.get("labels") or []),
        )
        for p in data
        if p.get("merged_at") and p.get("merge_commit_sha")
    ]


def _skeleton(dep: dict[str, Any]) -> DeploymentRecord:
    """A deployment without its statuses: enough to order and place it."""
    return DeploymentRecord(
        id=int(dep["id"]),
        sha=str(dep["sha"]),
        environment=str(dep["environment"]),
        created_at=parse_time(dep["created_at"]) or parse_time("1970-01-01T00:00:00Z"),  # type: ignore[arg-type]
        creator=str((dep.get("creator") or {}).get("login", "")),
    )


@dataclass
class View:
    """What one look at a release read: its history, pull requests and the deployments that matter."""

    sha: str
    history: History
    pulls: list[MergedPull]
    affected: tuple[MergedPull, ...]  # the pull requests whose place this release may change
    records: dict[int, DeploymentRecord]  # deployments read with their statuses

    def own(self) -> list[DeploymentRecord]:
        """The release's own deployments."""
        return [d for d in self.records.values() if d.sha == self.sha]


async def _read(
    ctx: Ctx, config: Config, branch: str, sha: str, rings: tuple[RingConfig, ...], *, all_of: bool
) -> View | None:
    """Read the release's place: deployments of the rings, the history page, merged pulls.

    Statuses are read only for the deployments a decision looks at: the release's own, the
    previous good release of each ring it entered, and (with `all_of`) every deployment of a
    release that carries one of the affected pull requests.
    """
    environments = {r.environment.lower() for r in config.rings}
    raw = [
        d
        for d in await ring_snapshot.recent_deployments(ctx)
        if str(d["environment"]).lower() in environments
    ]
    skeletons = [_skeleton(d) for d in raw]
    if not any(d.sha == sha for d in skeletons):
        log(20, "release not in the rings' recent deployments", repo=ctx.repo, sha=sha)
        return None
    history = await _history(ctx, branch)
    if sha not in history:
        log(20, "release not in the default branch's recent history", repo=ctx.repo, sha=sha)
        return None
    pulls = await _merged_pulls(ctx, branch)
    records: dict[int, DeploymentRecord] = {}

    async def load(dep: DeploymentRecord) -> DeploymentRecord:
        if dep.id not in records:
            found = await ring_snapshot.statuses(ctx, dep.id)
            records[dep.id] = DeploymentRecord(
                dep.id, dep.sha, dep.environment, dep.created_at, dep.creator, found
            )
        return records[dep.id]

    for dep in skeletons:
        if dep.sha == sha:
            await load(dep)
    affected: dict[int, MergedPull] = {}
    for ring in rings:
        entered = (d for d in records.values() if d.sha == sha)
        if not any(d.environment.lower() == ring.environment.lower() for d in entered):
            continue  # the release never entered this ring
        since = None
        for candidate in previous_candidates(ring, skeletons, history, sha):
            if is_good(await load(candidate), {}, ctx.identity.bot_login):
                since = candidate.sha
                break
        for pull in work_items(history, pulls, sha, since):
            affected[pull.number] = pull
    if all_of:
        for dep in skeletons:
            if any(history.contains(dep.sha, p.merge_sha) for p in affected.values()):
                await load(dep)
    ordered = tuple(sorted(affected.values(), key=lambda p: p.number))
    return View(sha, history, pulls, ordered, records)


# --- the job ------------------------------------------------------------------------------------


async def release_job(ctx: Ctx, key: ReleaseKey) -> None:
    """Converge everything that shows where the release is."""
    config = await snapshot.load_config(ctx)
    if isinstance(config, ConfigErrors):
        log(30, "invalid config, release visibility left alone", repo=ctx.repo)
        return
    view = await _read(ctx, config, key.default_branch, key.sha, config.rings, all_of=True)
    if view is None:
        return
    now, bot = ctx.now(), ctx.identity.bot_login
    records = list(view.records.values())
    links = view.history.url
    existing = await find_own_run(ctx, key.sha, say.RELEASE_CHECK)
    blocked = _still_blocked(config, existing, view.own())
    for pull in view.affected:
        rows = journey(config, pull, records, view.history, now, bot)
        table = say.render_pr_status(config, rows, links)
        await reply(
            ctx,
            pull.number,
            f"{blocked.summary}\n\n{table}" if blocked else table,
            marker=say.STATUS_MARKER,
            check_first=True,
        )
        change = label_change(config, pull.labels, ring_label(rows))
        if not change.empty:
            await move_label(
                ctx,
                pull.number,
                add=change.add,
                remove=change.remove,
                color=label_color(config, change.add or ""),
                description=_label_description(change.add or ""),
            )
    rows = release_rows(config, key.sha, records, now, bot)
    title, summary = say.render_release_check(config, key.sha, rows, links)
    want = blocked or CheckOutput(
        say.RELEASE_CHECK, "completed", check_conclusion(rows), title, summary
    )
    await publish_check(ctx, key.sha, want, existing)
    await _publish(ctx, config, view)


def _still_blocked(
    config: Config, run: dict[str, Any] | None, own: list[DeploymentRecord]
) -> CheckOutput | None:
    """The release check run's "Blocked before <ring>" (written by the rings job when a ring's
    environment cannot be created), while the release has not entered that ring: the check run
    is where that fact lives, so this job keeps showing it instead of drawing over it."""
    output = (run or {}).get("output") or {}
    title = str(output.get("title") or "")
    ring = (
        config.ring(title.removeprefix(BLOCKED_TITLE)) if title.startswith(BLOCKED_TITLE) else None
    )
    if ring is None or any(d.environment.lower() == ring.environment.lower() for d in own):
        return None
    summary = str(output.get("summary") or "")
    return CheckOutput(say.RELEASE_CHECK, "completed", "action_required", title, summary)


def _label_description(name: str) -> str:
    if name.casefold() == REJECTED_LABEL:
        return "ringbot: the release with this change was rejected"
    return "ringbot: the widest ring this change is live in"


async def _publish(ctx: Ctx, config: Config, view: View) -> None:
    """A GitHub Release once the release is live in a `release: true` ring; never two per SHA."""
    bot = ctx.identity.bot_login
    due = release_due(config, view.sha, view.own(), bot)
    if due is None:
        return
    releases = await recent_releases(ctx)
    if published_for(releases, view.sha, bot) is not None:
        return
    previous = previous_published(view.history, releases, view.sha, bot)
    items = work_items(
        view.history, view.pulls, view.sha, previous.target if previous is not None else None
    )
    notes = say.render_release_notes(
        view.sha, due.ring.name, items, previous.tag if previous is not None else None
    )
    await publish_release(ctx, tag=due.tag, sha=view.sha, name=due.tag, body=notes)


async def release_authors(ctx: Ctx, sha: str, since: str | None) -> frozenset[str] | None:
    """Who wrote the pull requests a sign-off of `sha` vouches for: those merged after `since`
    (the release live in the next ring; None: every one in the history page). None when the
    release is not in the default branch's recent history, so the authors cannot be told."""
    branch = await ring_snapshot.default_branch(ctx)
    history = await _history(ctx, branch)
    if sha not in history or (since is not None and since not in history):
        return None
    pulls = await _merged_pulls(ctx, branch)
    return frozenset(p.author for p in work_items(history, pulls, sha, since))


async def rejected(ctx: Ctx, config: Config, sha: str, ring: str, actor: str, reason: str) -> None:
    """Tell every pull request in the rejected release why it will not move on: one note each."""
    target = config.ring(ring)
    if target is None:
        return
    repo = await ctx.gh.getitem(f"/repos/{ctx.repo}")
    branch = str(repo.get("default_branch") or "main")
    view = await _read(ctx, config, branch, sha, (target,), all_of=False)
    if view is None:
        return
    # The ledger's first rejection is the one that stands (a repeated /reject changes nothing).
    found = rejections(view.own(), ctx.identity.bot_login).get(sha) or Rejection(
        actor, reason, ctx.now()
    )
    marker = say.notice_marker(sha)
    for pull in view.affected:
        if await find_reply(ctx, pull.number, marker) is not None:
            continue
        text = say.render_notice(sha, ring, found, view.history.url)
        await reply(ctx, pull.number, text, marker=marker, check_first=False)
    log(20, "rejection notices", repo=ctx.repo, sha=sha, pulls=[p.number for p in view.affected])


JOBS = {ReleaseKey: release_job}
