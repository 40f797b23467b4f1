"""Deployments and their statuses, read as ledger records."""

from __future__ import annotations

import re
from typing import Any

from ..context import Ctx
from ..ledger import DeploymentRecord, DeploymentStatusRecord, HotfixMark
from .reads import PAGE, every, parse_time

_EPOCH = "1970-01-01T00:00:00Z"
_PROMOTER = re.compile(r"^ringbot: /(?:promote|rollback|hotfix) by @(?P<user>[A-Za-z0-9-]+)")
_ROLLBACK = re.compile(r"^ringbot: /rollback by @")


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


def record(dep: dict[str, Any], found: tuple[DeploymentStatusRecord, ...] = ()) -> DeploymentRecord:
    """A deployment's JSON as a ledger record, with the statuses read for it (none: a skeleton,
    enough to order and place it)."""
    promoter = _PROMOTER.match(str(dep.get("description") or ""))
    created = parse_time(dep.get("created_at")) or parse_time(_EPOCH)
    assert created is not None
    return DeploymentRecord(
        id=int(dep["id"]),
        sha=str(dep["sha"]),
        environment=str(dep["environment"]),
        created_at=created,
        creator=_login(dep.get("creator")),
        statuses=found,
        promoter=promoter["user"] if promoter else "",
        rollback=_is_rollback(dep),
        hotfix=_hotfix(dep),
    )


def _hotfix(dep: dict[str, Any]) -> HotfixMark | None:
    """The payload's `"hotfix": {"asker", "approvers", "pull"}` (see effects.deployments), read
    leniently; whose deployment it is, `ledger.hotfix_of` checks."""
    payload = dep.get("payload")
    found = payload.get("hotfix") if isinstance(payload, dict) else None
    if not isinstance(found, dict) or not isinstance(found.get("asker"), str):
        return None
    approvers = found.get("approvers")
    names = tuple(str(a) for a in approvers) if isinstance(approvers, list) else ()
    pull = found.get("pull")
    return HotfixMark(str(found["asker"]), names[:20], pull if isinstance(pull, int) else 0)


def _is_rollback(dep: dict[str, Any]) -> bool:
    """ringbot made the deployment for a `/rollback` (the payload's marker, or the description
    of a rollback made before the marker existed). Whose deployment it is, the ledger checks."""
    payload = dep.get("payload")
    if isinstance(payload, dict) and payload.get("rollback") is True:
        return True
    return bool(_ROLLBACK.match(str(dep.get("description") or "")))
