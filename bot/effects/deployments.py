"""Enter rings (deployments) and record sign-offs and rejections (the App's deployment statuses)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..config import RingConfig
from ..context import Ctx
from ..ledger import HotfixMark
from ..logs import log
from ..messages.text import DEPLOYMENT_DESCRIPTION, shorten
from . import write_once


async def create_deployment(
    ctx: Ctx,
    ring: RingConfig,
    sha: str,
    *,
    reason: str,
    newer_than: int,
    rollback: bool = False,
    hotfix: HotfixMark | None = None,
    accepted: tuple[str, tuple[str, ...]] | None = None,
) -> int:
    """Deploy exactly `sha` into the ring's environment; at most one deployment per attempt.

    `newer_than` is the newest deployment id the caller saw in that environment: after a failed
    create, only a deployment newer than that can be the one we made (a rollback's SHA was
    deployed there before). A `rollback` is marked in the payload: it holds the ring until a
    person promotes into it again (see `ledger.rollback_hold`). A `hotfix` names the pull
    request, who asked and who approved (read back by `snapshot.deployments`).
    """
    payload: dict[str, Any] = {"ring": ring.name, "release": sha, "reason": reason}
    if rollback:
        payload["rollback"] = True
    if accepted is not None:
        # Guardrails: who accepted which unverified commits into the first ring.
        payload["accepted"] = {"by": accepted[0], "unverified": list(accepted[1])}
    if hotfix is not None:
        payload["hotfix"] = {
            "pull": hotfix.pull,
            "asker": hotfix.asker,
            "approvers": list(hotfix.approvers),
        }
    body = {
        "ref": sha,  # the full SHA we checked, never a branch name
        "environment": ring.environment,
        "auto_merge": False,
        "required_contexts": [],  # ringbot has already checked them
        "production_environment": ring.production,
        "transient_environment": False,
        "description": shorten(f"ringbot: {reason}", DEPLOYMENT_DESCRIPTION),
        "payload": payload,
    }

    async def create() -> dict[str, Any]:
        data: dict[str, Any] = await ctx.gh.post(f"/repos/{ctx.repo}/deployments", data=body)
        return data

    async def reread() -> dict[str, Any] | None:
        environment = quote(ring.environment, safe="")
        url = f"/repos/{ctx.repo}/deployments?sha={sha}&environment={environment}"
        found = [
            d
            for d in await ctx.gh.getitem(url)
            if int(d["id"]) > newer_than
            and (d.get("creator") or {}).get("login", "").lower() == ctx.identity.bot_login.lower()
        ]
        return max(found, key=lambda d: int(d["id"]), default=None)

    data = await write_once(create, reread)
    log(20, "deployment created", repo=ctx.repo, ring=ring.name, sha=sha, id=data.get("id"))
    return int(data["id"])


async def record(ctx: Ctx, deployment_id: int, state: str, description: str) -> None:
    """Write one ledger entry on a deployment, keeping its state and every other deployment's."""
    url = f"/repos/{ctx.repo}/deployments/{deployment_id}/statuses"
    bot = ctx.identity.bot_login.lower()
    body = {"state": state, "description": description, "auto_inactive": False}

    async def create() -> dict[str, Any]:
        data: dict[str, Any] = await ctx.gh.post(url, data=body)
        return data

    async def reread() -> dict[str, Any] | None:
        async for status in ctx.gh.getiter(f"{url}?per_page=100"):
            mine = (status.get("creator") or {}).get("login", "").lower() == bot
            if mine and status.get("description") == description:
                return dict(status)
        return None

    await write_once(create, reread)
    log(20, "ledger entry written", repo=ctx.repo, deployment=deployment_id, entry=description)
