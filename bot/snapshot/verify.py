"""Verification's reads: the `verify:` checks on a ring's current release, only for rings that
have `verify:`, added to a `RingsView` (see bot/policy/verify.py for what they mean).

Cost: one `GET …/commits/{sha}/check-runs` per release looked at (the runs are read once per SHA
even when several rings verify it), and one `GET …/commits/{sha}/status` more only when a named
check is not among the check runs. Both are conditional reads (an unchanged answer is a 304).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ..config import RingConfig
from ..context import Ctx
from ..ledger import DeploymentRecord, current_release
from ..policy.rings import RingsView
from ..policy.verify import CheckFact
from .pulls import check_runs
from .reads import PAGE, every, parse_time


def _run_fact(run: dict[str, Any]) -> CheckFact:
    output = run.get("output") or {}
    title = str(output.get("title") or "")
    summary = str(output.get("summary") or "")
    text = f"{title}: {summary}" if title and summary and summary != title else title or summary
    done = run.get("status") == "completed"
    return CheckFact(
        name=str(run["name"]),
        source="check_run",
        conclusion=str(run.get("conclusion")) if done and run.get("conclusion") else None,
        at=parse_time(run.get("completed_at")) if done else None,
        url=str(run.get("html_url") or run.get("details_url") or ""),
        summary=text,
        id=int(run["id"]),
    )


def _status_fact(status: dict[str, Any]) -> CheckFact:
    state = str(status.get("state") or "pending")
    return CheckFact(
        name=str(status["context"]),
        source="status",
        conclusion=None if state == "pending" else state,
        at=parse_time(status.get("updated_at") or status.get("created_at")),
        url=str(status.get("target_url") or ""),
        summary=str(status.get("description") or ""),
        id=int(status["id"]),
    )


async def read_checks(ctx: Ctx, sha: str, names: Iterable[str]) -> tuple[CheckFact, ...]:
    """The named check runs on `sha` (every run, re-runs included) and, for names no check run
    has, the newest commit status of each such context."""
    wanted = set(names)
    app_id = ctx.identity.app_id
    runs = [
        _run_fact(run)
        for run in await check_runs(ctx, sha)
        if str(run.get("name")) in wanted and int((run.get("app") or {}).get("id", 0)) != app_id
    ]
    missing = wanted - {f.name for f in runs}
    if not missing:
        return tuple(runs)
    url = f"/repos/{ctx.repo}/commits/{sha}/status?{PAGE}"
    statuses = [
        _status_fact(s) async for s in every(ctx.gh, url, "statuses") if s.get("context") in missing
    ]
    return (*runs, *statuses)


def watched(view: RingsView, rings: Iterable[RingConfig]) -> dict[str, set[str]]:
    """Release SHA -> the check names to read on it: the current release of each ring given
    that has `verify:` (and whose checks the view does not hold yet)."""
    wanted: dict[str, set[str]] = {}
    for ring in rings:
        if not ring.verify:
            continue
        release: DeploymentRecord | None = current_release(view.state(ring), view.bot_login)
        if release is None or release.sha in view.checks:
            continue
        wanted.setdefault(release.sha, set()).update(ring.verify)
    return wanted


async def with_checks(ctx: Ctx, view: RingsView, rings: Iterable[RingConfig]) -> RingsView:
    """The view with the `verify:` checks of each given ring's current release (none to read
    when no ring given has `verify:`)."""
    wanted = watched(view, rings)
    if not wanted:
        return view
    checks = dict(view.checks)
    for sha in sorted(wanted):
        checks[sha] = await read_checks(ctx, sha, wanted[sha])
    return replace(view, checks=checks)
