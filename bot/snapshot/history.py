"""Where a release stands: the default branch's history, the merged pull requests, and the
deployments of the release and of the releases before it in each ring it entered."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from ..config import Config, RingConfig
from ..context import Ctx
from ..ledger import DeploymentRecord
from ..logs import log
from ..policy.visibility import (
    CommitNode,
    History,
    MergedPull,
    is_good,
    previous_candidates,
    work_items,
)
from .deployments import recent_deployments, record, statuses
from .reads import PAGE


async def default_branch(ctx: Ctx) -> str:
    """The repository's default branch (cached briefly)."""
    key = (ctx.installation, ctx.repo)
    name = ctx.caches.default_branches.get(key)
    if name is None:
        data = await ctx.gh.getitem(f"/repos/{ctx.repo}")
        name = ctx.caches.default_branches[key] = str(data["default_branch"])
    return name


async def read_history(ctx: Ctx, ref: str) -> History:
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


async def merged_pulls(
    ctx: Ctx, branch: str, history: History, *, for_authors: bool = False
) -> list[MergedPull]:
    """The most recently updated closed pull requests into the branch that were merged.

    `for_authors`: only who wrote them and where they merged will be used. That is kept per head
    of the branch (`history`'s newest commit): until the branch moves nothing more merges into
    it, while the list's ETag changes whenever any of them gets a comment or a label (so labels
    and titles are always read fresh).
    """
    head = history.commits[0].sha if history.commits and for_authors else ""
    where = (ctx.installation, ctx.repo, branch, head)
    known = ctx.caches.merged_pulls.get(where) if head else None
    if known is not None:
        return list(known)
    url = (
        f"/repos/{ctx.repo}/pulls?state=closed&base={quote(branch, safe='')}"
        f"&sort=updated&direction=desc&{PAGE}"
    )
    data: list[dict[str, Any]] = await ctx.gh.getitem(url)
    found = [
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
    if head:
        ctx.caches.merged_pulls[where] = tuple(found)
    return found


@dataclass
class ReleaseView:
    """What one look at a release read: its history, pull requests and the deployments that matter."""

    sha: str
    history: History
    pulls: list[MergedPull]
    affected: tuple[MergedPull, ...]  # the pull requests whose place this release may change
    records: dict[int, DeploymentRecord]  # deployments read with their statuses

    def own(self) -> list[DeploymentRecord]:
        """The release's own deployments."""
        return [d for d in self.records.values() if d.sha == self.sha]


async def read_release(
    ctx: Ctx, config: Config, branch: str, sha: str, rings: tuple[RingConfig, ...], *, all_of: bool
) -> ReleaseView | None:
    """Read the release's place: deployments of the rings, the history page, merged pulls.

    Statuses are read only for the deployments a decision looks at: the release's own, the
    previous good release of each ring it entered, and (with `all_of`) every deployment of a
    release that carries one of the affected pull requests.
    """
    environments = {r.environment.lower() for r in config.rings}
    raw = [
        d for d in await recent_deployments(ctx) if str(d["environment"]).lower() in environments
    ]
    skeletons = [record(d) for d in raw]
    if not any(d.sha == sha for d in skeletons):
        log(20, "release not in the rings' recent deployments", repo=ctx.repo, sha=sha)
        return None
    commits = await read_history(ctx, branch)
    if sha not in commits:
        log(20, "release not in the default branch's recent history", repo=ctx.repo, sha=sha)
        return None
    pulls = await merged_pulls(ctx, branch, commits)
    records: dict[int, DeploymentRecord] = {}

    async def load(dep: DeploymentRecord) -> DeploymentRecord:
        if dep.id not in records:
            records[dep.id] = replace(dep, statuses=await statuses(ctx, dep.id))
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
        for candidate in previous_candidates(ring, skeletons, commits, sha):
            if is_good(await load(candidate), {}, ctx.identity.bot_login):
                since = candidate.sha
                break
        for pull in work_items(commits, pulls, sha, since):
            affected[pull.number] = pull
    if all_of:
        for dep in skeletons:
            if any(commits.contains(dep.sha, p.merge_sha) for p in affected.values()):
                await load(dep)
    ordered = tuple(sorted(affected.values(), key=lambda p: p.number))
    return ReleaseView(sha, commits, pulls, ordered, records)


async def release_authors(ctx: Ctx, sha: str, since: str | None) -> frozenset[str] | None:
    """Who wrote the pull requests a sign-off of `sha` vouches for: those merged after `since`
    (the release live in the next ring; None: every one in the history page). None when the
    release is not in the default branch's recent history, so the authors cannot be told."""
    branch = await default_branch(ctx)
    commits = await read_history(ctx, branch)
    if sha not in commits or (since is not None and since not in commits):
        return None
    pulls = await merged_pulls(ctx, branch, commits, for_authors=True)
    return frozenset(p.author for p in work_items(commits, pulls, sha, since))
