"""Publish ringbot's own check runs: create once per commit, update in place, skip when unchanged."""

from __future__ import annotations

import hashlib
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
    # When set, the run is rewritten only when this changes (kept hashed in its external_id),
    # not whenever the text does: see GateDecision.milestone.
    milestone: str = ""


def milestone_id(milestone: str) -> str:
    """The external_id a milestone is kept as: short, and the same for the same milestone."""
    return "ringbot:" + hashlib.sha256(milestone.encode()).hexdigest()[:32]


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
    """True when the published run already says this: the same milestone, or exactly this text."""
    output = run.get("output") or {}
    same_verdict = run.get("status") == want.status and run.get("conclusion") == want.conclusion
    if want.milestone:
        return same_verdict and run.get("external_id") == milestone_id(want.milestone)
    return (
        same_verdict
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
    # Always written, so a run rewritten without a milestone (the gate's "could not read")
    # never keeps the milestone of what it said before.
    body["external_id"] = milestone_id(want.milestone) if want.milestone else ""
    if want.status == "completed":
        body["conclusion"] = want.conclusion
        body["completed_at"] = ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    if existing is not None:
        data = await ctx.gh.patch(f"/repos/{ctx.repo}/check-runs/{existing['id']}", data=body)
        _remember(ctx, sha, want.name, data)
        log(20, "check run updated", repo=ctx.repo, name=want.name, sha=sha, status=want.status)
        return True

    async def create() -> dict[str, Any]:
        data: dict[str, Any] = await ctx.gh.post(
            f"/repos/{ctx.repo}/check-runs", data={"name": want.name, "head_sha": sha, **body}
        )
        return data

    async def reread() -> dict[str, Any] | None:
        return await find_own_run(ctx, sha, want.name, remembered=False)

    _remember(ctx, sha, want.name, await write_once(create, reread))
    log(20, "check run created", repo=ctx.repo, name=want.name, sha=sha, status=want.status)
    return True


def _remember(ctx: Ctx, sha: str, name: str, run: Any) -> None:
    if isinstance(run, dict) and "id" in run:
        ctx.caches.own_runs[(ctx.installation, ctx.repo, sha, shorten(name, CHECK_NAME))] = run


async def find_own_run(
    ctx: Ctx, sha: str, name: str, *, remembered: bool = True
) -> dict[str, Any] | None:
    """The App's newest check run with that name on the commit, if any.

    Only the App writes its check runs, so the run as this process last wrote or read it is
    used when `remembered` (a re-read after a failed write asks GitHub)."""
    name = shorten(name, CHECK_NAME)  # as `publish_check` named it
    known = ctx.caches.own_runs.get((ctx.installation, ctx.repo, sha, name))
    if remembered and ctx.caches.sole and known is not None:
        return known
    url = (
        f"/repos/{ctx.repo}/commits/{sha}/check-runs"
        f"?check_name={quote(name, safe='')}&app_id={ctx.identity.app_id}&filter=latest"
    )
    data = await ctx.gh.getitem(url)
    found = newest(data.get("check_runs", []))
    _remember(ctx, sha, name, found)
    return found


def newest(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest run of a list (highest id)."""
    return max(runs, key=lambda r: int(r["id"]), default=None)
