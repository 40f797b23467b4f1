"""The rings' freezes, read from where the App keeps them: one variable (`RINGBOT_FREEZE`) on each
ring's environment, so a restart or another replica sees the same freezes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from urllib.parse import quote

from gidgethub import BadRequest

from ..config import RingConfig
from ..context import Ctx
from ..policy.windows import FREEZE_VARIABLE, RingFreeze, decode_freeze
from .reads import every


def variables_url(ctx: Ctx, ring: RingConfig) -> str:
    """The variables of the ring's environment, every page (the same list the toggles read)."""
    environment = quote(ring.environment, safe="")
    # GitHub's largest page of variables is 30; the same URL as the toggles' read shares its ETag.
    return f"/repos/{ctx.repo}/environments/{environment}/variables?per_page=30"


async def read_freeze(ctx: Ctx, ring: RingConfig) -> RingFreeze | None:
    """The ring's freeze, ended or not; None when it has none (or no environment yet).

    Read from the environment's list of variables, not the one variable: the list answers 304
    (free) while nothing changed, where asking for a variable that is not there is a charged
    404 every time, and most rings are not frozen."""
    try:
        async for variable in every(ctx.gh, variables_url(ctx, ring), "variables"):
            if str(variable.get("name", "")).upper() == FREEZE_VARIABLE:
                return decode_freeze(str(variable.get("value", "")))
    except BadRequest as exc:
        if exc.status_code != 404:
            raise
    return None


async def read_freezes(ctx: Ctx, rings: Iterable[RingConfig]) -> dict[str, RingFreeze]:
    """Ring name -> its freeze, for the rings that have one (one request per ring, together)."""
    rings = list(rings)
    found = await asyncio.gather(*(read_freeze(ctx, ring) for ring in rings))
    return {ring.name: freeze for ring, freeze in zip(rings, found, strict=True) if freeze}
