"""Pure markdown for windows and freezes: the replies to `/freeze` and `/unfreeze`, and the 🧊
note a table shows on a closed ring."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.messages.text import inert
from bot.policy.freezes import FreezeDecision
from bot.policy.refusals import Refusal
from bot.policy.windows import Closure, when


def _refused(title: str, refusals: Sequence[Refusal]) -> str:
    bullets = [f"- {r.message}" + (f" — {r.hint}" if r.hint else "") for r in refusals]
    return "\n".join([f"😕 {title}", "", *bullets])


def _names(decision: FreezeDecision) -> str:
    return ", ".join(ring.name for ring in decision.rings)


def render_freeze(decision: FreezeDecision, zone: ZoneInfo, now: datetime) -> str:
    """The reply to `/freeze`."""
    freeze = decision.freeze
    if not decision.allowed or freeze is None:
        return _refused("Cannot freeze:", decision.refusals)
    until = (
        f"until {when(freeze.until, zone, now)}"
        if freeze.until is not None
        else "until someone comments `/unfreeze`"
    )
    return (
        f"🧊 Frozen: {_names(decision)}, {until}: {inert(freeze.reason)}\n\n"
        "Nothing enters a frozen ring: no `/promote`, no automatic entry, no deployment "
        "approved by its protection rule. `/approve`, `/reject` and `/rollback` still work."
    )


def render_unfreeze(decision: FreezeDecision, removed: Sequence[str]) -> str:
    """The reply to `/unfreeze`: which rings were frozen and are open to their windows again."""
    if not decision.allowed:
        return _refused("Cannot unfreeze:", decision.refusals)
    if not removed:
        return f"👍 {_names(decision)}: not frozen; nothing to do."
    return f"🔓 Unfrozen: {', '.join(removed)}. Automatic rings catch up now (windows still apply)."


def closed_note(closure: Closure, zone: ZoneInfo, now: datetime) -> str:
    """🧊 why a ring is closed and until when, for a table cell (no pipe breaks the cell)."""
    end = (
        f"until {when(closure.opens_at, zone, now)}"
        if closure.opens_at is not None
        else "until `/unfreeze`"
        if closure.freeze is not None and closure.freeze.until is None
        else "no end in sight"
    )
    return f"🧊 {'; '.join(closure.reasons)}, {end}"
