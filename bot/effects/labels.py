"""Ring labels: create them in the repository with their colour, put one on a pull request, take
stale ones off. Each write is safe to repeat."""

from __future__ import annotations

from urllib.parse import quote

from gidgethub import BadRequest

from ..context import Ctx
from ..logs import log
from ..messages.text import LABEL_DESCRIPTION, LABEL_NAME, shorten
from ..snapshot.reads import get_or_none
from . import write_once
from .replies import remove_label


def already_exists(exc: BadRequest) -> bool:
    """GitHub's 422 for a name that is taken: someone (maybe us, a moment ago) made it."""
    errors = getattr(exc, "errors", None) or []
    codes = {e.get("code") for e in errors if isinstance(e, dict)}
    return exc.status_code == 422 and ("already_exists" in codes or "already_exists" in str(exc))


async def _label_exists(ctx: Ctx, name: str) -> bool | None:
    found = await get_or_none(ctx.gh, f"/repos/{ctx.repo}/labels/{quote(name, safe='')}")
    return True if found is not None else None


async def ensure_label(ctx: Ctx, name: str, color: str, description: str) -> None:
    """The repository has the label (with our colour when we are the ones creating it)."""
    name = shorten(name, LABEL_NAME)
    known = (ctx.installation, ctx.repo, name.casefold())
    if ctx.caches.labels.get(known):
        return  # made or seen already: asking again would be a write answered 422

    async def create() -> bool:
        try:
            await ctx.gh.post(
                f"/repos/{ctx.repo}/labels",
                data={
                    "name": name,
                    "color": color,
                    "description": shorten(description, LABEL_DESCRIPTION),
                },
            )
        except BadRequest as exc:
            if not already_exists(exc):
                raise
        return True

    await write_once(create, lambda: _label_exists(ctx, name))
    ctx.caches.labels[known] = True


async def add_label(ctx: Ctx, number: int, name: str) -> None:
    """Put a label on a pull request; adding one it already has changes nothing on GitHub."""
    name = shorten(name, LABEL_NAME)

    async def attempt() -> bool:
        await ctx.gh.post(f"/repos/{ctx.repo}/issues/{number}/labels", data={"labels": [name]})
        return True

    async def reread() -> bool | None:
        url = f"/repos/{ctx.repo}/issues/{number}/labels?per_page=100"
        labels = await ctx.gh.getitem(url)
        return True if any(str(x["name"]).casefold() == name.casefold() for x in labels) else None

    await write_once(attempt, reread)


async def move_label(
    ctx: Ctx,
    number: int,
    *,
    add: str | None,
    remove: tuple[str, ...],
    color: str,
    description: str,
) -> None:
    """The new ring label on first (so the pull request is never without one), then the old off."""
    if add is not None:
        add = shorten(add, LABEL_NAME)
        # A name cut to GitHub's limit may be the one already on: never take off what was put on.
        remove = tuple(n for n in remove if shorten(n, LABEL_NAME).casefold() != add.casefold())
        await ensure_label(ctx, add, color, description)
        await add_label(ctx, number, add)
    for name in remove:
        await remove_label(ctx, number, name)
    log(20, "ring label moved", repo=ctx.repo, number=number, added=add, removed=list(remove))
