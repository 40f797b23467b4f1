"""Talk back on pull requests: reactions, replies, and removing a handled label."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gidgethub import BadRequest

from ..context import Ctx
from ..messages.text import COMMENT_BODY, LABEL_NAME, cut, defuse, hidden, shorten
from . import write_once


def reply_marker(comment_id: int) -> str:
    """The hidden marker that finds our reply to a comment again."""
    return f"<!-- ringbot:reply-to:{comment_id} -->"


async def react(ctx: Ctx, comment_id: int, content: str) -> bool:
    """Add a reaction; True when it is new (GitHub answers 200 for one that already exists)."""
    status, _ = await ctx.gh.post_status(
        f"/repos/{ctx.repo}/issues/comments/{comment_id}/reactions", data={"content": content}
    )
    return status == 201


def comment_body(body: str, marker: str) -> str:
    """The comment `reply` writes: the body with no marker of its own, cut to GitHub's limit if
    need be, then our marker, which is never cut (it is how the comment is found again)."""
    return cut(defuse(body), COMMENT_BODY, keep=f"\n\n{hidden(marker)}")


async def find_reply(
    ctx: Ctx, number: int, marker: str, *, remembered: bool = True
) -> dict[str, Any] | None:
    """Our earlier comment carrying `marker` on the pull request, if any.

    The comment as this process last wrote or found it is used when `remembered`: listing a
    busy pull request's comments is charged every time one is added. A re-read after a failed
    write asks GitHub."""
    where = (ctx.installation, ctx.repo, number, marker)
    known = ctx.caches.own_comments.get(where)
    if remembered and ctx.caches.sole and known is not None:
        return known
    url = f"/repos/{ctx.repo}/issues/{number}/comments?per_page=100"
    hidden_marker = hidden(marker)
    async for comment in ctx.gh.getiter(url):
        if hidden_marker in (comment.get("body") or "") and (
            (comment.get("user") or {}).get("login", "").lower() == ctx.identity.bot_login.lower()
        ):
            found = ctx.caches.own_comments[where] = dict(comment)
            return found
    return None


async def reply(
    ctx: Ctx, number: int, body: str, *, marker: str, check_first: bool
) -> dict[str, Any]:
    """Post (or, when one exists and `check_first`, edit) our marked reply on the pull request."""
    text = comment_body(body, marker)
    where = (ctx.installation, ctx.repo, number, marker)
    if check_first:
        found = await find_reply(ctx, number, marker)
        if found is not None:
            if found.get("body") == text:
                return found
            try:
                edited = await ctx.gh.patch(
                    f"/repos/{ctx.repo}/issues/comments/{found['id']}", data={"body": text}
                )
            except BadRequest as exc:
                if exc.status_code != 404:
                    raise
                # Someone deleted it since: a new one is written below.
                ctx.caches.own_comments.pop(where, None)
            else:
                ctx.caches.own_comments[where] = {**found, **(edited or {}), "body": text}
                return found

    async def create() -> dict[str, Any]:
        data: dict[str, Any] = await ctx.gh.post(
            f"/repos/{ctx.repo}/issues/{number}/comments", data={"body": text}
        )
        return data

    async def reread() -> dict[str, Any] | None:
        return await find_reply(ctx, number, marker, remembered=False)

    made = await write_once(create, reread)
    ctx.caches.own_comments[where] = made
    return made


async def remove_label(ctx: Ctx, number: int, label: str) -> None:
    """Take a label off a pull request; one already gone is fine."""
    label = shorten(label, LABEL_NAME)  # as `add_label` put it on
    try:
        await ctx.gh.delete(f"/repos/{ctx.repo}/issues/{number}/labels/{quote(label, safe='')}")
    except BadRequest as exc:
        if exc.status_code != 404:
            raise
