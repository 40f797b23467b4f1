"""Read-only fetchers for rings: deployments and their statuses, as ledger records."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from gidgethub import BadRequest

from .config import Config, RingConfig
from .context import Ctx
from .ledger import (
    IN_FLIGHT,
    DeploymentRecord,
    DeploymentStatusRecord,
    cd_state,
    live_since,
    same_login,
    signoffs,
)
from .models import Permission, PullRequest
from .policy.gate import GateInput, evaluate_gate
from .policy.rings import RingState, current_release, release_at
from .snapshot import PAGE, builds, every, parse_time, permission


def _login(user: Any) -> str:
    return str((user or {}).get("login", ""))


async def recent_deployments(ctx: Ctx, *, sha: str | None = None) -> list[dict[str, Any]]:
    """The repository's newest deployments across every ring (one page of 100), raw JSON."""
    url = f"/repos/{ctx.repo}/deployments?{PAGE}" + (f"&sha={sha}" if sha else "")
    data: list[dict[str, Any]] = await ctx.gh.getitem(url)
    return data


async def statuses(ctx: Ctx, deployment_id: int) -> tuple[DeploymentStatusRecord, ...]:
    """Every status of a deployment, oldest first."""
    url = f"/repos/{ctx.repo}/deployments/{deployment_id}/statuses?{PAGE}"
    raw = [s async for s in every(ctx.gh, url)]
    records = [
        DeploymentStatusRecord(
            id=int(s["id"]),
            state=str(s["state"]),
            creator=_login(s.get("creator")),
            description=str(s.get("description") or ""),
            created_at=parse_time(s["created_at"]) or ctx.now(),
        )
        for s in raw
    ]
    return tuple(sorted(records, key=lambda r: (r.created_at, r.id)))


_PROMOTER = re.compile(r"^ringbot: /(?:promote|rollback|hotfix) by @(?P<user>[A-Za-z0-9-]+)")


def _record(dep: dict[str, Any], found: tuple[DeploymentStatusRecord, ...]) -> DeploymentRecord:
    promoter = _PROMOTER.match(str(dep.get("description") or ""))
    return DeploymentRecord(
        id=int(dep["id"]),
        sha=str(dep["sha"]),
        environment=str(dep["environment"]),
        created_at=parse_time(dep["created_at"]) or parse_time("1970-01-01T00:00:00Z"),  # type: ignore[arg-type]
        creator=_login(dep.get("creator")),
        statuses=found,
        promoter=promoter["user"] if promoter else "",
    )


# How many deployments older than a command ring_state reads to find what was live when it was
# written: deploys that failed in a row, no more (a bound on the statuses reads a comment costs).
BACK_TO_DEPTH = 10


async def ring_state(
    ctx: Ctx,
    config: Config,
    ring: RingConfig,
    deployments: Sequence[dict[str, Any]],
    *,
    whole: bool = False,
    back_to: datetime | None = None,
) -> RingState:
    """A ring's deployments, newest first, with statuses read down to its current release.

    Older deployments are only read with `whole` (a rollback looks further back) or down to
    the release that was current at `back_to` (a command acts on what was current when it was
    written); the rest are left without statuses, which no decision reads. A live deployment
    that is not a release (see `is_release`) is marked foreign and the reading goes on past it.
    """
    bot = ctx.identity.bot_login
    mine = [d for d in deployments if str(d["environment"]).lower() == ring.environment.lower()]
    mine.sort(key=lambda d: int(d["id"]), reverse=True)
    records: list[DeploymentRecord] = []
    found_current = found_then = False
    older = 0  # deployments made before `back_to` read so far
    for dep in mine:
        if found_current and (found_then or older >= BACK_TO_DEPTH) and not whole:
            break  # (past BACK_TO_DEPTH, "nothing was live then": a command is refused)
        record = _record(dep, await statuses(ctx, int(dep["id"])))
        state = cd_state(record, bot)
        live = state == "success"
        # Whatever is, was or is about to be live counts only as a release: a foreign one may
        # not be the current release, nor what a rollback or an automatic entry goes back to.
        counts = live or state in IN_FLIGHT or live_since(record, bot) is not None
        if counts and not await is_release(ctx, config, record.sha, record.creator):
            record = replace(record, foreign=True)
            live = False
        records.append(record)
        found_current = found_current or live
        found_then = (
            found_then
            or back_to is None
            or release_at(RingState(ring, (record,)), bot, back_to) is not None
        )
        older += back_to is not None and record.created_at <= back_to
    return RingState(ring=ring, deployments=tuple(records))


async def all_rings(
    ctx: Ctx, config: Config, *, whole: bool = False, back_to: datetime | None = None
) -> list[RingState]:
    """Every ring's state from one read of the repository's deployments."""
    deployments = await recent_deployments(ctx)
    return [
        await ring_state(ctx, config, ring, deployments, whole=whole, back_to=back_to)
        for ring in config.rings
    ]


async def default_branch(ctx: Ctx) -> str:
    """The repository's default branch (cached briefly)."""
    key = (ctx.installation, ctx.repo)
    name = ctx.caches.default_branches.get(key)
    if name is None:
        data = await ctx.gh.getitem(f"/repos/{ctx.repo}")
        name = ctx.caches.default_branches[key] = str(data["default_branch"])
    return name


async def builds_green(ctx: Ctx, sha: str, config: Config) -> bool:
    """Every build on the commit passed, read as strictly as the merge gate reads them."""
    _, checks = await builds(ctx, sha, memo_ok=False)
    commit = PullRequest(
        repo=ctx.repo, number=0, author="", head_sha=sha, base_ref="", default_branch=""
    )
    decision = evaluate_gate(GateInput(commit, tuple(checks), (), config, merge_group=True))
    return decision.conclusion == "success"


async def is_release(ctx: Ctx, config: Config, sha: str, creator: str = "") -> bool:
    """Whether `sha` is a release: a commit the default branch pointed at (a pull request's
    merge commit, or the branch's head) whose builds passed.

    ringbot itself deploys nothing else (its first ring takes the green head, later rings the
    release before them, a rollback an earlier release), so its own deployments need no
    reading. Anything deployed around it (a workflow run by hand) is checked: a pull request's
    head, or a commit in the middle of a merged pull request, was never reviewed as it stands.
    """
    if creator and same_login(creator, ctx.identity.bot_login):
        return True
    key = (ctx.installation, ctx.repo, sha)
    if ctx.caches.releases.get(key):
        return True
    if key in ctx.caches.not_releases:
        return False
    verdict = await _pointed_at(ctx, sha) and await builds_green(ctx, sha, config)
    # A "no" is kept briefly: the commit may yet turn green or be merged fast-forward.
    (ctx.caches.releases if verdict else ctx.caches.not_releases)[key] = verdict
    return verdict


async def _pointed_at(ctx: Ctx, sha: str) -> bool:
    """The default branch pointed at `sha`: it merged a pull request, or it is the head."""
    branch = await default_branch(ctx)
    async for pull in every(ctx.gh, f"/repos/{ctx.repo}/commits/{sha}/pulls?{PAGE}"):
        base = str((pull.get("base") or {}).get("ref") or "")
        if pull.get("merged_at") and pull.get("merge_commit_sha") == sha and base == branch:
            return True
    head = await ctx.gh.getitem(f"/repos/{ctx.repo}/commits/{quote(branch, safe='')}")
    return str(head.get("sha")) == sha


async def contains(ctx: Ctx, ancestor: str, release: str) -> bool | None:
    """Whether `release` contains commit `ancestor`; None when GitHub cannot say."""
    if ancestor == release:
        return True
    try:
        data = await ctx.gh.getitem(f"/repos/{ctx.repo}/compare/{ancestor}...{release}?per_page=1")
    except BadRequest as exc:
        if exc.status_code in (404, 422):  # a commit GitHub no longer knows: cannot say
            return None
        raise
    status = data.get("status")
    if status in ("ahead", "identical"):
        return True
    if status in ("behind", "diverged"):
        return False
    return None


async def elsewhere(
    ctx: Ctx,
    config: Config,
    sha: str,
    deployments: Sequence[dict[str, Any]],
    known: Sequence[RingState | None],
) -> list[RingState]:
    """The SHA's other deployments (outside the rings already read), with their statuses.

    Read only before ringbot lets a release in somewhere: a rejection recorded in any ring must
    stop it, even when the ring it comes from was reached around ringbot.
    """
    seen = {d.id for state in known if state is not None for d in state.deployments}
    found: list[RingState] = []
    for ring in config.rings:
        mine = [
            d
            for d in deployments
            if d["sha"] == sha
            and int(d["id"]) not in seen
            and str(d["environment"]).lower() == ring.environment.lower()
        ]
        records = [_record(d, await statuses(ctx, int(d["id"]))) for d in mine]
        if records:
            found.append(RingState(ring=ring, deployments=tuple(records)))
    return found


async def signer_permissions(
    ctx: Ctx, target: RingConfig, previous: RingState | None
) -> dict[str, Permission] | None:
    """The permissions of those who signed off the release a stricter ring would take.

    None for a ring that asks for write: every sign-off was written after a write check.
    """
    if target.promoters <= Permission.WRITE or previous is None:
        return None
    release = current_release(previous, ctx.identity.bot_login)
    found = signoffs(release, ctx.identity.bot_login) if release else ()
    return {s.user: await permission(ctx, s.user) for s in found}
