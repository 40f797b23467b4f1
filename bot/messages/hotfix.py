"""Pure markdown for the hotfix lane: the reply to `/hotfix`, and the ⚡ note every table, the
release check run and the GitHub Release notes show for a hotfix deployment."""

from __future__ import annotations

from bot.ledger import HotfixMark
from bot.messages.text import inert, short
from bot.policy.hotfix import HotfixDecision

HOTFIX: str = "⚡ hotfix"


def _people(logins: tuple[str, ...], *, ping: bool) -> str:
    names = [f"@{login}" for login in logins]
    return ", ".join(names if ping else [inert(name) for name in names]) or "nobody"


def hotfix_note(mark: HotfixMark, *, ping: bool = False) -> str:
    """`⚡ hotfix (#12) by @alice, approved by @dave, @erin`; inert (pings nobody) unless `ping`."""
    asker = f"@{mark.asker}" if ping else inert(f"@{mark.asker}")
    pull = f" (#{mark.pull})" if mark.pull else ""
    return f"{HOTFIX}{pull} by {asker}, approved by {_people(mark.approvers, ping=ping)}"


def render_hotfix(decision: HotfixDecision, *, deployment_id: int | None = None) -> str:
    """The reply to `/hotfix <ring>`."""
    target = decision.target
    if target is None or not decision.allowed:
        name = f" into {target.name}" if target is not None else ""
        bullets = [f"- {r.message}" + (f" — {r.hint}" if r.hint else "") for r in decision.refusals]
        return "\n".join([f"😕 Cannot hotfix{name}:", "", *bullets])
    sha = f"`{short(decision.sha)}`"
    if decision.already_done:
        return f"👍 {sha}, which carries this pull request, is already in {target.name} (or on its way); nothing new was deployed."
    source = f" (live in {decision.source.name})" if decision.source is not None else ""
    created = f": deployment {deployment_id} created" if deployment_id is not None else ""
    approved = _people(decision.approvers, ping=False)
    return (
        f"⚡ Hotfix: deploying {sha}{source} straight to {target.name}{created}.\n\n"
        f"Rings, bake times and sign-offs before {target.name} were skipped; approved by "
        f"{approved}. The deployment records who asked and who approved."
    )
