"""GitHub Releases: read what exists, publish one per release SHA, never two.

The reads live here because the writer needs them too: a create that may have happened (5xx,
time-out) is looked up by its tag before it is tried again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gidgethub import BadRequest

from ..context import Ctx
from ..logs import log
from ..messages.text import RELEASE_BODY, RELEASE_NAME, cut, defuse, shorten
from ..policy.visibility import PublishedRelease
from ..snapshot.reads import get_or_none
from . import write_once
from .labels import already_exists


def _published(data: dict[str, Any]) -> PublishedRelease:
    return PublishedRelease(
        tag=str(data.get("tag_name") or ""),
        target=str(data.get("target_commitish") or ""),
        author=str((data.get("author") or {}).get("login", "")),
    )


async def recent_releases(ctx: Ctx) -> list[PublishedRelease]:
    """The repository's newest GitHub Releases (one page of 100)."""
    data = await ctx.gh.getitem(f"/repos/{ctx.repo}/releases?per_page=100")
    return [_published(r) for r in data]


async def release_by_tag(ctx: Ctx, tag: str) -> PublishedRelease | None:
    """The release with this tag, if there is one."""
    data = await get_or_none(ctx.gh, f"/repos/{ctx.repo}/releases/tags/{quote(tag, safe='')}")
    return _published(data) if data is not None else None


async def publish_release(ctx: Ctx, *, tag: str, sha: str, name: str, body: str) -> bool:
    """Publish the GitHub Release `tag` at exactly `sha`; True when this call created it."""
    if await release_by_tag(ctx, tag) is not None:
        return False
    name = shorten(name, RELEASE_NAME)
    body = cut(defuse(body), RELEASE_BODY)  # the notes echo titles people wrote

    async def create() -> bool:
        try:
            await ctx.gh.post(
                f"/repos/{ctx.repo}/releases",
                data={
                    "tag_name": tag,
                    "target_commitish": sha,  # the exact SHA, never the branch
                    "name": name,
                    "body": body,
                    "draft": False,
                    "prerelease": False,
                },
            )
        except BadRequest as exc:
            if not already_exists(exc):
                raise
            return False  # someone (another replica) published it a moment ago
        return True

    async def reread() -> bool | None:
        return False if await release_by_tag(ctx, tag) is not None else None

    created = await write_once(create, reread)
    if created:
        log(20, "github release published", repo=ctx.repo, tag=tag, sha=sha)
    return created
