"""Read-only fetchers: GitHub state in, frozen models out. Nothing here writes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

from .config import CONFIG_PATH, Config, ConfigErrors, parse_config, parse_contents
from .context import Ctx
from .models import Check, Permission, PullRequest, Review

PAGE = "per_page=100"


def parse_time(text: str | None) -> datetime | None:
    """GitHub's ISO-8601 timestamps ("...Z") as aware datetimes."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def every(gh: GitHubAPI, url: str, key: str | None = None) -> AsyncIterator[Any]:
    """Every item of a paginated list, all pages: a decision on half a list is not safe."""
    if key is None:
        async for item in gh.getiter(url):
            yield item
    else:
        async for item in gh.getiter(url, iterable_key=key):
            yield item


async def load_config(ctx: Ctx) -> Config | ConfigErrors:
    """The repository's `.github/ringbot.yml` on the default branch, parsed (cached by blob sha)."""
    cached = ctx.caches.repo_configs.get((ctx.installation, ctx.repo))
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    try:
        # The path is one URL segment (`/` as %2F), as octokit sends it and GitHub expects.
        data = await ctx.gh.getitem(f"/repos/{ctx.repo}/contents/{quote(CONFIG_PATH, safe='')}")
    except BadRequest as exc:
        if exc.status_code != 404:
            raise
        result: Config | ConfigErrors = parse_config(None)
    else:
        # A directory at the path comes back as a list; parse_contents says so.
        blob = str(data.get("sha", "")) if isinstance(data, dict) else ""
        known: Config | ConfigErrors | None = ctx.caches.configs.get(blob) if blob else None
        if known is not None:
            result = known
        else:
            # Decoding and parsing take time that grows with the file, which anyone who can push
            # writes: in a worker thread, so every other repository's webhooks are still answered.
            result = await asyncio.to_thread(parse_contents, data)
            if blob:
                ctx.caches.configs[blob] = result
    ctx.caches.repo_configs[(ctx.installation, ctx.repo)] = result
    return result


async def permission(ctx: Ctx, user: str) -> Permission:
    """A user's permission on the repository, from the collaborator-permission API (cached briefly)."""
    key = (ctx.installation, ctx.repo, user.lower())
    cached = ctx.caches.permissions.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    try:
        data = await ctx.gh.getitem(
            f"/repos/{ctx.repo}/collaborators/{quote(user, safe='')}/permission"
        )
    except BadRequest as exc:
        # 404: not a collaborator (or not a user at all): no permission, fail closed.
        if exc.status_code != 404:
            raise
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
    result = []
    for r in raw:
        user = str((r.get("user") or {}).get("login", ""))
        state = str(r.get("state", ""))
        submitted = parse_time(r.get("submitted_at"))
        if not user or submitted is None or state == "PENDING":
            continue
        # Only the people whose reviews can count need a permission read.
        perm = (
            await permission(ctx, user)
            if state in ("APPROVED", "CHANGES_REQUESTED")
            else Permission.NONE
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
    runs = await check_runs(ctx, sha)
    own = [r for r in runs if int((r.get("app") or {}).get("id", 0)) == ctx.identity.app_id]
    checks = [to_check(r) for r in runs if r not in own]
    memo = (ctx.installation, ctx.repo, sha)
    if not (memo_ok and ctx.caches.no_statuses.get(memo)):
        statuses = await commit_statuses(ctx, sha)
        if not statuses:
            ctx.caches.no_statuses[memo] = True
        checks += statuses
    return own, checks
