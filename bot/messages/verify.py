"""Pure markdown for verification: the 🔬 note a table shows on a ring with `verify:`."""

from __future__ import annotations

from bot.messages.text import inert, link_target
from bot.policy.verify import Verification


def verify_note(found: Verification) -> str:
    """🔬 pending (what), verified, or failed (which, linked), for a table cell."""
    if found.state == "verified":
        return "🔬 verified"
    link = link_target(found.link())
    if found.state == "failed" and found.failed is not None:
        name = inert(found.failed.name)
        return f"🔬 failed: [{name}]({link})" if link else f"🔬 failed: {name}"
    waiting = ", ".join(inert(name) for name in found.pending) or "the watch"
    return f"🔬 pending: [{waiting}]({link})" if link else f"🔬 pending: {waiting}"
