"""Bring a ring's feature toggles (FEATURE_<FLAG> variables on its environment) in line with
the config and its overrides: read the environment, plan the differences, write only those."""

from __future__ import annotations

from ..config import Config, RingConfig
from ..context import Ctx
from ..logs import log
from ..messages.features import render_cleared
from ..policy.features import RingSync, plan_ring_sync
from .variables import apply, read_variables


async def apply_sync(ctx: Ctx, ring: RingConfig, sync: RingSync, why: str) -> RingSync:
    """Apply a ring's planned writes in order and log what became of its overrides."""
    for write in sync.writes:
        await apply(ctx, ring.environment, write)
    for cleared in sync.cleared:
        log(
            20,
            "feature override cleared",
            repo=ctx.repo,
            ring=ring.name,
            flag=cleared.override.flag,
            by=cleared.override.by,
            detail=render_cleared(cleared),
        )
    if sync.writes:
        log(
            20,
            "feature toggles synced",
            repo=ctx.repo,
            ring=ring.name,
            why=why,
            writes=len(sync.writes),
        )
    return sync


async def sync_ring(ctx: Ctx, config: Config, ring: RingConfig, why: str) -> RingSync:
    """Bring one ring's environment in line with the config and its overrides."""
    variables = await read_variables(ctx, ring.environment)
    sync = plan_ring_sync(config, ring, variables, ctx.now())
    return await apply_sync(ctx, ring, sync, why)


async def before_deploy(ctx: Ctx, config: Config, ring: RingConfig) -> None:
    """Bring the ring's flags in line with the config before a release enters it."""
    if not config.features:
        # Nothing to keep; a config that dropped its last flag is cleaned up by the push sync.
        return
    await sync_ring(ctx, config, ring, "release entering")
