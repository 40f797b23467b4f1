"""`/freeze` and `/unfreeze`: who may, which rings, and the freeze to store. Pure.

Freezing or unfreezing a ring takes its `promoters` permission; `all` takes that of every ring
(the strictest). A freeze replaces one already on the ring (a new reason or end); unfreezing a
ring that is not frozen is no error (the reply says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.commands import Freeze, Unfreeze
from bot.config import Config, RingConfig
from bot.models import Permission
from bot.policy.refusals import Code, Refusal
from bot.policy.windows import RingFreeze


@dataclass(frozen=True)
class FreezeDecision:
    """The rings to freeze (with the freeze to store) or unfreeze, or why not."""

    rings: tuple[RingConfig, ...]
    freeze: RingFreeze | None  # None: unfreeze them
    refusals: tuple[Refusal, ...] = ()

    @property
    def allowed(self) -> bool:
        """The rings may be frozen (or unfrozen)."""
        return bool(self.rings) and not self.refusals


def decide_freeze(
    config: Config, command: Freeze | Unfreeze, actor: str, permission: Permission, now: datetime
) -> FreezeDecision:
    """Freeze or unfreeze the rings the command names, if `actor` may."""
    named = config.ring(command.ring) if command.ring is not None else None
    rings = config.rings if command.ring is None else ((named,) if named is not None else ())
    if not rings:
        unknown = Refusal(
            Code.UNKNOWN_RING,
            f"there is no ring `{command.ring}`",
            "the rings are " + ", ".join(f"`{r.name}`" for r in config.rings),
        )
        return FreezeDecision((), None, (unknown,))
    needs = max(ring.promoters for ring in rings)
    refusals: tuple[Refusal, ...] = ()
    if permission < needs:
        what = "every ring" if command.ring is None else command.ring
        verb = command.name
        refusals = (
            Refusal(
                Code.PERMISSION,
                f"to {verb} {what} needs {needs.label} permission; @{actor} has {permission.label}",
                f"ask someone with {needs.label} access",
            ),
        )
    if isinstance(command, Unfreeze):
        return FreezeDecision(rings, None, refusals)
    until = now + command.duration if command.duration is not None else None
    return FreezeDecision(rings, RingFreeze(actor, command.reason, now, until), refusals)
