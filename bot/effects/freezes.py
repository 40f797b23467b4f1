"""Write and remove a ring's freeze: the `RINGBOT_FREEZE` variable on its environment (creating
the environment first when it is missing, as feature toggles do). Each write is safe to repeat.

Feature-toggle syncs never touch this variable: they delete only `FEATURE_` variables they wrote.
"""

from __future__ import annotations

from urllib.parse import quote

from ..config import RingConfig
from ..context import Ctx
from ..policy.features import Action, VariableWrite
from ..policy.windows import FREEZE_VARIABLE, RingFreeze, encode_freeze
from ..snapshot.reads import get_or_none
from .variables import apply, read_variables


async def write_freeze(ctx: Ctx, ring: RingConfig, freeze: RingFreeze) -> None:
    """RingFreeze the ring (a freeze already there is replaced)."""
    variables = await read_variables(ctx, ring.environment)
    value = encode_freeze(freeze)
    if variables is None:
        await apply(ctx, ring.environment, VariableWrite(ring.name, "create_environment"))
        variables = {}
    action: Action = "update" if FREEZE_VARIABLE in variables else "create"
    if variables.get(FREEZE_VARIABLE) == value:
        return
    write = VariableWrite(ring.name, action, FREEZE_VARIABLE, value, f"/freeze by @{freeze.by}")
    await apply(ctx, ring.environment, write)


async def remove_freeze(ctx: Ctx, ring: RingConfig, by: str) -> bool:
    """Unfreeze the ring; whether there was a freeze variable to remove."""
    environment = quote(ring.environment, safe="")
    url = f"/repos/{ctx.repo}/environments/{environment}/variables/{FREEZE_VARIABLE}"
    if await get_or_none(ctx.gh, url) is None:
        return False
    write = VariableWrite(ring.name, "delete", FREEZE_VARIABLE, None, f"/unfreeze by @{by}")
    await apply(ctx, ring.environment, write)
    return True
