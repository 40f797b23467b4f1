"""The reads of `/hotfix <ring>` (see bot/policy/hotfix.py): the pull request fresh (its labels
change after a merge), its reviews with each reviewer's permission, ringbot's merge gate run on
its head, every ring's current release, which of them holds the pull request (asked one at a
time, from the target down, until one does), where else the chosen release went (a rejection
anywhere counts) and the target's freeze. Reads that do not depend on each other go together."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from ..config import Config
from ..context import Ctx
from ..policy.gate import GATE_CHECK_NAME
from ..policy.hotfix import GateRun, HotfixPull, HotfixView, candidates
from ..policy.rings import RingsView
from .deployments import recent_deployments
from .freezes import read_freeze
from .pulls import ok, reviews
from .reads import parse_time
from .rings import _others, _states, contains


def to_hotfix_pull(data: dict[str, Any]) -> HotfixPull:
    """A pull request's JSON as the lane reads it."""
    return HotfixPull(
        number=int(data["number"]),
        author=str((data.get("user") or {}).get("login", "")),
        head_sha=str((data.get("head") or {}).get("sha", "")),
        merged=bool(data.get("merged") or data.get("merged_at")),
        merge_commit_sha=data.get("merge_commit_sha") or None,
        merged_at=parse_time(data.get("merged_at")),
        labels=frozenset(str(label.get("name", "")) for label in data.get("labels") or []),
    )


def to_gate_run(run: dict[str, Any] | None) -> GateRun | None:
    """ringbot's gate run as read back (None: it never ran on that commit)."""
    if run is None:
        return None
    return GateRun(
        status=str(run.get("status") or ""),
        conclusion=run.get("conclusion"),
        completed_at=parse_time(run.get("completed_at")),
    )


async def _gate(ctx: Ctx, sha: str) -> GateRun | None:
    """The newest gate run on the head: the gate is not run again once a pull request closed,
    so this is how it stood at the merge. Asked of GitHub, never a remembered copy."""
    url = (
        f"/repos/{ctx.repo}/commits/{sha}/check-runs?check_name={quote(GATE_CHECK_NAME, safe='')}"
        f"&app_id={ctx.identity.app_id}&filter=latest"
    )
    data = await ctx.gh.getitem(url)
    runs = [r for r in data.get("check_runs", []) if r.get("name") == GATE_CHECK_NAME]
    return to_gate_run(max(runs, key=lambda r: int(r["id"]), default=None))


async def read_for_hotfix(ctx: Ctx, config: Config, number: int, ring_name: str) -> HotfixView:
    """What `/hotfix <ring_name>` on pull request `number` is decided on (the lane is on)."""
    first = await asyncio.gather(
        ctx.gh.getitem(f"/repos/{ctx.repo}/pulls/{number}"),
        recent_deployments(ctx),
        return_exceptions=True,
    )
    pull, deployments = to_hotfix_pull(ok(first[0])), ok(first[1])
    view = RingsView(config, ctx.identity.bot_login, ctx.now())
    target = config.ring(ring_name)
    if target is None or not pull.merged or not pull.merge_commit_sha:
        return HotfixView(view, pull)
    second = await asyncio.gather(
        _states(ctx, config, config.rings, deployments),
        reviews(ctx, number),
        _gate(ctx, pull.head_sha),
        read_freeze(ctx, target),
        return_exceptions=True,
    )
    freeze = ok(second[3])
    view = replace(
        view, rings=ok(second[0]), freezes={target.name: freeze} if freeze is not None else {}
    )
    found: dict[str, bool | None] = {}
    for release in candidates(view, target):
        found[release.sha] = await contains(ctx, pull.merge_commit_sha, release.sha)
        if found[release.sha] is True:
            others = await _others(ctx, config, release.sha, deployments, view.rings)
            view = replace(view, others=others)
            break
    view = replace(view, contains=found)
    return HotfixView(view, pull, tuple(ok(second[1])), ok(second[2]))
