"""Publish ringbot's own check runs: create once per commit, update in place, skip when unchanged."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from ..context import Ctx
from ..logs import log
from ..messages.text import CHECK_NAME, CHECK_SUMMARY, CHECK_TEXT, CHECK_TITLE, cut, defuse, shorten
from . import write_once


@dataclass(frozen=True)
class CheckOutput:
    """What a check run should show."""

    name: str
    status: str  # queued | in_progress | completed
    conclusion: str | None
    title: str
    summary: str
    text: str = ""


def fitted(want: CheckOutput) -> CheckOutput:
    """What GitHub accepts of `want`: no marker of its own, every field cut to GitHub's limit."""
    return replace(
        want,
        name=shorten(want.name, CHECK_NAME),
        title=shorten(defuse(want.title), CHECK_TITLE),
        summary=cut(defuse(want.summary), CHECK_SUMMARY),
        text=cut(defuse(want.text), CHECK_TEXT),
    )


def unchanged(run: dict[str, Any], want: CheckOutput) -> bool:
    """True when the published run already says exactly this."""
    output = run.get("output") or {}
    return (
        run.get("status") == want.status
        and run.get("conclusion") == want.conclusion
        and (output.get("title") or "") == want.title
        and (output.get("summary") or "") == want.summary
        and (output.get("text") or "") == want.text
    )


async def publish_check(
    ctx: Ctx, sha: str, want: CheckOutput, existing: dict[str, Any] | None
) -> bool:
    """Make the App's check run `want.name` on `sha` say `want`; True if something was written."""
    want = fitted(want)  # compared as written, or a cut text would be rewritten every time
    if existing is not None and unchanged(existing, want):
        return False
    body: dict[str, Any] = {
        "status": want.status,
        "output": {"title": want.title, "summary": want.summary},
    }
    if want.text:
        body["output"]["text"] = want.text
    if want.status == "completed":
        body["conclusion"] = want.conclusion
        body["completed_at"] = ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    if existing is not None:
        await ctx.gh.patch(f"/repos/{ctx.repo}/check-runs/{existing['id']}", data=body)
        log(20, "check run updated", repo=ctx.repo, name=want.name, sha=sha, status=want.status)
        return True

    async def create() -> dict[str, Any]:
        data: dict[str, Any] = await ctx.gh.post(
            f"/repos/{ctx.repo}/check-runs", data={"name": want.name, "head_sha": sha, **body}
        )
        return data

    async def reread() -> dict[str, Any] | None:
        return await find_own_run(ctx, sha, want.name)

    await write_once(create, reread)
    log(20, "check run created", repo=ctx.repo, name=want.name, sha=sha, status=want.status)
    return True


async def find_own_run(ctx: Ctx, sha: str, name: str) -> dict[str, Any] | None:
    """The App's newest check run with that name on the commit, if any."""
    name = shorten(name, CHECK_NAME)  # as `publish_check` named it
    url = (
        f"/repos/{ctx.repo}/commits/{sha}/check-runs"
        f"?check_name={quote(name, safe='')}&app_id={ctx.identity.app_id}&filter=latest"
    )
    data = await ctx.gh.getitem(url)
    runs = data.get("check_runs", [])
    return newest(runs)


def newest(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest run of a list (highest id)."""
    return max(runs, key=lambda r: int(r["id"]), default=None)
