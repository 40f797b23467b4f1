"""Per-ring feature toggles: FEATURE_<FLAG> variables on each ring's GitHub Environment.

When they are written: a push to the default branch that changes `.github/ringbot.yml` syncs every
ring; a release about to enter a ring syncs that ring first (drift is repaired there); `/feature`
writes its ring at once. Each is level-triggered: read the environment, plan the differences, write
only those.
"""

from __future__ import annotations

from gidgethub import routing, sansio

from .. import snapshot
from ..commands import Command
from ..config import Config, ConfigErrors, RingConfig
from ..context import Ctx
from ..effects.variables import apply, read_variables
from ..logs import log
from ..messages.features import render_cleared, render_feature, render_features
from ..models import Permission
from ..policy.features import (
    RECORD_VARIABLE,
    RingSync,
    decide_feature_command,
    decode_record,
    feature_table,
    plan_ring_sync,
    split_overrides,
)
from ..webhook import Triage
from ..work import FeaturesKey
from . import events

router = routing.Router()


@router.register("push")
async def pushed(event: sansio.Event, triage: Triage) -> None:
    """A change to `.github/ringbot.yml` on the default branch may change the flags."""
    if events.config_changed(event):
        triage.enqueue(FeaturesKey(events.installation(event), events.repo(event)))


async def _sync(ctx: Ctx, ring: RingConfig, sync: RingSync, why: str) -> RingSync:
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
    return await _sync(ctx, ring, sync, why)


async def sync_job(ctx: Ctx, key: FeaturesKey) -> None:
    """The config changed: sync every ring."""
    # The gate's job drops the cached config too, but this job may run first.
    ctx.caches.repo_configs.pop((ctx.installation, ctx.repo), None)
    config = await snapshot.load_config(ctx)
    if isinstance(config, ConfigErrors):
        log(30, "invalid config, feature toggles left alone", repo=ctx.repo)
        return
    for ring in config.rings:
        await sync_ring(ctx, config, ring, "config changed")


async def before_deploy(ctx: Ctx, config: Config, ring: RingConfig) -> None:
    """Bring the ring's flags in line with the config before a release enters it."""
    if not config.features:
        # Nothing to keep; a config that dropped its last flag is cleaned up by the push sync.
        return
    await sync_ring(ctx, config, ring, "release entering")


async def command(
    ctx: Ctx, config: Config, actor: str, permission: Permission, item: Command
) -> tuple[str, bool]:
    """`/feature` and `/features`: (reply text, refused)."""
    if item.name == "features":
        environments = {
            ring.name: await read_variables(ctx, ring.environment)
            for ring in (config.rings if config.features else ())
        }
        return render_features(feature_table(config, environments, ctx.now())), False
    ring = config.ring(item.ring or "")
    variables = await read_variables(ctx, ring.environment) if ring is not None else None
    record = decode_record((variables or {}).get(RECORD_VARIABLE), ring.name if ring else "")
    live, _ = split_overrides(config, record.overrides, ctx.now())
    decision = decide_feature_command(
        config=config,
        flag=item.flag or "",
        enabled=bool(item.enabled),
        ring=item.ring or "",
        actor=actor,
        actor_permission=permission,
        overrides=live,
        now=ctx.now(),
    )
    if decision.allowed and ring is not None:
        # Even when the override set stays, the ring is synced: the reply must be true.
        sync = plan_ring_sync(config, ring, variables, ctx.now(), decision.overrides)
        await _sync(ctx, ring, sync, f"/feature by @{actor}")
        log(
            20,
            "feature override",
            repo=ctx.repo,
            ring=ring.name,
            flag=decision.flag,
            enabled=decision.enabled,
            outcome=decision.outcome,
            by=actor,
        )
    return render_feature(decision, item.line), not decision.allowed


JOBS: dict[type, object] = {FeaturesKey: sync_job}
