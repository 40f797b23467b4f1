"""The repository's `.github/ringbot.yml` on the default branch, parsed and cached."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from ..config import CONFIG_PATH, Config, ConfigErrors, parse_config, parse_contents
from ..context import Ctx
from .reads import get_or_none


async def load_config(ctx: Ctx) -> Config | ConfigErrors:
    """The repository's `.github/ringbot.yml` on the default branch, parsed (cached by blob sha)."""
    where = (ctx.installation, ctx.repo)
    cached = ctx.caches.repo_configs.get(where)
    if cached is not None:
        return cached
    if ctx.caches.no_configs.get(where):
        return parse_config(None)
    # The path is one URL segment (`/` as %2F), as octokit sends it and GitHub expects.
    data = await get_or_none(ctx.gh, f"/repos/{ctx.repo}/contents/{quote(CONFIG_PATH, safe='')}")
    result: Config | ConfigErrors
    if data is None:
        # A 404 carries no ETag, so asking again would be charged every time: remembered longer.
        ctx.caches.no_configs[where] = True
        return parse_config(None)
    else:
        # A directory at the path comes back as a list; parse_contents says so.
        blob = str(data.get("sha", "")) if isinstance(data, dict) else ""
        known = ctx.caches.configs.get(blob) if blob else None
        if known is not None:
            result = known
        else:
            # Decoding and parsing take time that grows with the file, which anyone who can push
            # writes: in a worker thread, so every other repository's webhooks are still answered.
            result = await asyncio.to_thread(parse_contents, data)
            if blob:
                ctx.caches.configs[blob] = result
    ctx.caches.repo_configs[where] = result
    return result


def forget_config(ctx: Ctx) -> None:
    """The config on the default branch changed: the next read fetches it again, here and (with
    replicas) on every other replica."""
    ctx.caches.drop_config(ctx.installation, ctx.repo)
    if ctx.caches.config_dropped is not None:
        ctx.caches.config_dropped(ctx.installation, ctx.repo)
