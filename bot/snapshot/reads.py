"""The shared ways of reading: every page of a list, GitHub's timestamps, a 404 as None."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

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


async def get_or_none(gh: GitHubAPI, url: str) -> Any:
    """The resource at `url`, or None when GitHub answers 404 (it does not exist, or we may not
    see it: either way there is nothing to act on). Every other error is raised."""
    try:
        return await gh.getitem(url)
    except BadRequest as exc:
        if exc.status_code != 404:
            raise
        return None
