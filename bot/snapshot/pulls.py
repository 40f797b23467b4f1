"""The merge gate's reads: pull requests, their builds and reviews, and people's permissions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar
from urllib.parse import quote

from ..context import Ctx
from ..models import Check, Permission, PullRequest, Review
from .reads import PAGE, every, get_or_none, parse_time

T = TypeVar("T")
# How many reads one job makes at once at most (Settings.concurrency is sized by it).
PARALLEL_READS = 3


def ok(result: T | BaseException) -> T:
    """A result of `asyncio.gather(..., return_exceptions=True)`, or its exception raised.

    Independent reads run together and every one is awaited to its end (none is left running),
    then the first failure in the order they are listed is raised: the one the same reads made
    one after the other would have raised.
    """
    if isinstance(result, BaseException):
        raise result
    return result


async def permission(ctx: Ctx, user: str) -> Permission:
    """A user's permission on the repository, from the collaborator-permission API (cached briefly)."""
    key = (ctx.installation, ctx.repo, user.lower())
    cached = ctx.caches.permissions.get(key)
    if cached is not None:
        return cached
    url = f"/repos/{ctx.repo}/collaborators/{quote(user, safe='')}/permission"
    data = await get_or_none(ctx.gh, url)
    if data is None:
        # Not a collaborator (or not a user at all): no permission, fail closed.
        result = Permission.NONE
    else:
        result = Permission.parse(data.get("role_name") or data.get("permission"))
        # role_name carries maintain/triage, which `permission` folds into write/read.
        result = max(result, Permission.parse(data.get("permission")))
    ctx.caches.permissions[key] = result
    return result


def to_pull(data: dict[str, Any], default_branch: str | None = None) -> PullRequest:
    """A pull request's JSON as the model."""
    base = data["base"]
    return PullRequest(
        repo=str(base["repo"]["full_name"]),
        number=int(data["number"]),
        author=str((data.get("user") or {}).get("login", "")),
        head_sha=str(data["head"]["sha"]),
        base_ref=str(base["ref"]),
        default_branch=default_branch or str(base["repo"].get("default_branch", base["ref"])),
        state=str(data.get("state", "open")),
        draft=bool(data.get("draft", False)),
        merged=bool(data.get("merged") or data.get("merged_at")),
        merge_commit_sha=data.get("merge_commit_sha"),
        labels=frozenset(str(label["name"]) for label in data.get("labels", [])),
        title=str(data.get("title", "")),
        html_url=str(data.get("html_url", "")),
    )


async def pull_request(ctx: Ctx, number: int) -> PullRequest:
    """The pull request, read fresh."""
    return to_pull(await ctx.gh.getitem(f"/repos/{ctx.repo}/pulls/{number}"))


async def merge_of(ctx: Ctx, number: int) -> PullRequest:
    """The pull request, for whether and where it merged: a merged one is read once (its merge
    commit never changes, while its ETag does with every comment), an open one every time. Only
    `merged` and `merge_commit_sha` of the answer are to be relied on."""
    where = (ctx.installation, ctx.repo, number)
    known = ctx.caches.merges.get(where)
    if known is not None:
        return known
    pull = await pull_request(ctx, number)
    if pull.merged and pull.merge_commit_sha:
        ctx.caches.merges[where] = pull
    return pull


async def check_runs(ctx: Ctx, sha: str) -> list[dict[str, Any]]:
    """Every check run on a commit, older re-runs included, raw JSON."""
    url = f"/repos/{ctx.repo}/commits/{sha}/check-runs?filter=all&{PAGE}"
    return [run async for run in every(ctx.gh, url, "check_runs")]


def to_check(run: dict[str, Any]) -> Check:
    """A check run's JSON as a Check."""
    return Check(
        name=str(run["name"]),
        source="check_run",
        status=str(run["status"]),
        conclusion=run.get("conclusion"),
        url=str(run.get("html_url") or run.get("details_url") or ""),
        app_slug=str((run.get("app") or {}).get("slug", "")),
        started_at=parse_time(run.get("started_at")),
        id=int(run["id"]),
    )


async def commit_statuses(ctx: Ctx, sha: str) -> list[Check]:
    """The newest commit status of each context on a commit (GitHub's combined view)."""
    url = f"/repos/{ctx.repo}/commits/{sha}/status?{PAGE}"
    statuses = [s async for s in every(ctx.gh, url, "statuses")]
    return [
        Check(
            name=str(s["context"]),
            source="status",
            status="pending" if s["state"] == "pending" else "completed",
            conclusion=None if s["state"] == "pending" else str(s["state"]),
            url=str(s.get("target_url") or ""),
            id=int(s["id"]),
        )
        for s in statuses
    ]


async def reviews(ctx: Ctx, number: int) -> list[Review]:
    """Every submitted review of a pull request, each with its author's permission."""
    url = f"/repos/{ctx.repo}/pulls/{number}/reviews?{PAGE}"
    raw = [r async for r in every(ctx.gh, url)]
    kept = []
    for r in raw:
        user = str((r.get("user") or {}).get("login", ""))
        state = str(r.get("state", ""))
        submitted = parse_time(r.get("submitted_at"))
        if not user or submitted is None or state == "PENDING":
            continue
        kept.append((r, user, state, submitted))
    # Only the people whose reviews can count need a permission read: one each (the cache is
    # keyed by login, case folded), a few at a time.
    people = list(
        dict.fromkeys(
            user.lower() for _, user, state, _ in kept if state in ("APPROVED", "CHANGES_REQUESTED")
        )
    )
    logins = {user.lower(): user for _, user, _, _ in reversed(kept)}
    perms: dict[str, Permission] = {}
    for at in range(0, len(people), PARALLEL_READS):
        batch = people[at : at + PARALLEL_READS]
        found = await asyncio.gather(
            *(permission(ctx, logins[login]) for login in batch), return_exceptions=True
        )
        perms.update(zip(batch, map(ok, found), strict=True))
    result = []
    for r, user, state, submitted in kept:
        perm = (
            perms[user.lower()] if state in ("APPROVED", "CHANGES_REQUESTED") else Permission.NONE
        )
        result.append(
            Review(
                user=user,
                state=state,
                commit_id=str(r.get("commit_id") or ""),
                submitted_at=submitted,
                permission=perm,
                id=int(r["id"]),
            )
        )
    return result


async def builds(
    ctx: Ctx, sha: str, *, memo_ok: bool = True
) -> tuple[list[dict[str, Any]], list[Check]]:
    """A commit's builds: (the App's own check runs, raw; every other check run and status).

    With `memo_ok`, statuses are not asked for again for a commit whose last read had none,
    until a `status` webhook for it arrives (it drops the memo). The gate may take that
    shortcut, since a late status re-evaluates it; a deployment may not.
    """
    memo = (ctx.installation, ctx.repo, sha)
    if memo_ok and ctx.caches.no_statuses.get(memo):
        runs = await check_runs(ctx, sha)
        statuses = None
    else:
        # The check runs and the statuses are read together.
        both = await asyncio.gather(
            check_runs(ctx, sha), commit_statuses(ctx, sha), return_exceptions=True
        )
        runs, statuses = ok(both[0]), ok(both[1])
        if not statuses:
            ctx.caches.no_statuses[memo] = True
    own = [r for r in runs if int((r.get("app") or {}).get("id", 0)) == ctx.identity.app_id]
    checks = [to_check(r) for r in runs if r not in own]
    return own, checks + (statuses or [])


def forget_statuses(ctx: Ctx, sha: str) -> None:
    """A commit status arrived for `sha`: its "no statuses" memo is wrong now."""
    ctx.caches.no_statuses.pop((ctx.installation, ctx.repo, sha), None)


async def open_pulls(ctx: Ctx) -> AsyncIterator[PullRequest]:
    """Every open pull request of the repository (the list's items are as fresh as a read of each)."""
    async for data in every(ctx.gh, f"/repos/{ctx.repo}/pulls?state=open&{PAGE}"):
        yield to_pull(data)


async def pulls_with_head(ctx: Ctx, sha: str) -> AsyncIterator[PullRequest]:
    """The open pull requests whose head is the commit `sha`."""
    async for data in every(ctx.gh, f"/repos/{ctx.repo}/commits/{sha}/pulls?{PAGE}"):
        if data.get("state") == "open" and data["head"]["sha"] == sha:
            yield to_pull(data)


async def merged_by(ctx: Ctx, sha: str) -> list[int]:
    """The pull requests whose merge commit `sha` is."""
    data: list[dict[str, Any]] = await ctx.gh.getitem(f"/repos/{ctx.repo}/commits/{sha}/pulls")
    return [
        int(pull["number"])
        for pull in data
        if pull.get("merged_at") and pull.get("merge_commit_sha") == sha
    ]
