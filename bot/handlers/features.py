"""Per-ring feature toggles: FEATURE_<FLAG> variables on each ring's GitHub Environment.

When they are written: a push to the default branch that changes `.github/ringbot.yml` syncs every
ring; a release about to enter a ring syncs that ring first (drift is repaired there); `/feature`
writes its ring at once (the command handler does that). Each is level-triggered: read the environment, plan the differences, write
only those.
"""

from __future__ import annotations

from gidgethub import routing, sansio

from ..config import ConfigErrors
from ..context import Ctx
from ..effects.toggles import sync_ring
from ..logs import log
from ..snapshot.repo_config import forget_config, load_config
from ..webhook import Triage
from ..work import FeaturesKey
from . import events

router = routing.Router()


@router.register("push")
async def pushed(event: sansio.Event, triage: Triage) -> None:
    """A change to `.github/ringbot.yml` on the default branch may change the flags."""
    if events.config_changed(event):
        triage.enqueue(FeaturesKey(events.installation(event), events.repo(event)))


async def sync_job(ctx: Ctx, key: FeaturesKey) -> None:
    """The config changed: sync every ring."""
    # The gate's job drops the cached config too, but this job may run first.
    forget_config(ctx)
    config = await load_config(ctx)
    if isinstance(config, ConfigErrors):
        log(30, "invalid config, feature toggles left alone", repo=ctx.repo)
        return
    for ring in config.rings:
        await sync_ring(ctx, config, ring, "config changed")


JOBS = {FeaturesKey: sync_job}
