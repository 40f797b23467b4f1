"""Read-only fetchers for rings: deployments and their statuses, as ledger records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gidgethub import BadRequest

from .config import Config, RingConfig
from .context import Ctx
from .ledger import DeploymentRecord, DeploymentStatusRecord, cd_state, signoffs
from .models import Permission
from .policy.rings import RingState, current_release
from .snapshot import PAGE, every, parse_time, permission


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


def _record(dep: dict[str, Any], found: tuple[DeploymentStatusRecord, ...]) -> DeploymentRecord:
    return DeploymentRecord(
        id=int(dep["id"]),
        sha=str(dep["sha"]),
        environment=str(dep["environment"]),
        created_at=parse_time(dep["created_at"]) or parse_time("1970-01-01T00:00:00Z"),  # type: ignore[arg-type]
        creator=_login(dep.get("creator")),
        statuses=found,
    )


async def ring_state(
    ctx: Ctx, ring: RingConfig, deployments: Sequence[dict[str, Any]], *, whole: bool = False
) -> RingState:
    """A ring's deployments, newest first, with statuses read down to its current release.

    Older deployments are only read with `whole` (a rollback looks further back); the rest are
    left without statuses, which no decision reads.
    """
    mine = [d for d in deployments if str(d["environment"]).lower() == ring.environment.lower()]
    mine.sort(key=lambda d: int(d["id"]), reverse=True)
    records: list[DeploymentRecord] = []
    found_current = False
    for dep in mine:
        if found_current and not whole:
            break
        record = _record(dep, await statuses(ctx, int(dep["id"])))
        records.append(record)
        found_current = cd_state(record, ctx.identity.bot_login) == "success"
    return RingState(ring=ring, deployments=tuple(records))


async def all_rings(ctx: Ctx, config: Config, *, whole: bool = False) -> list[RingState]:
    """Every ring's state from one read of the repository's deployments."""
    deployments = await recent_deployments(ctx)
    return [await ring_state(ctx, ring, deployments, whole=whole) for ring in config.rings]


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
