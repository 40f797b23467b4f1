"""Pure markdown for `/promote <ring> --dry-run`: every rule, what would ship, flag changes."""

from __future__ import annotations

from bot.messages.text import inert, short
from bot.policy.dry_run import DryRun, FlagChange, RuleResult, Shipping

NOTHING_WRITTEN = "_Dry run: nothing was deployed or changed._"


def _rule(result: RuleResult) -> str:
    if result.refusal is not None:
        hint = f" — {result.refusal.hint}" if result.refusal.hint else ""
        return f"- ❌ {result.rule}: {result.refusal.message}{hint}"
    if result.skipped:
        return f"- ➖ {result.rule} (not checked: {result.skipped})"
    return f"- ✅ {result.rule}"


def _shipping(ships: Shipping, ring: str) -> list[str]:
    since = (
        f"merged after `{short(ships.since)}`, live in {ring} now"
        if ships.since
        else f"nothing is live in {ring} yet: every one in the history read"
    )
    if ships.unknown:
        return [f"**Pull requests it would ship:** unknown, {ships.unknown}."]
    head = f"**Pull requests it would ship** ({since})"
    if ships.partial:
        head += f"; at least these, the release in {ring} is older than the history read"
    if not ships.pulls:
        return [f"{head}: none."]
    items = [f"- #{p.number} {inert(p.title)} (@{p.author})" for p in ships.pulls]
    return [f"{head}:", "", *items]


def _value(value: str | None) -> str:
    return "(unset)" if value is None else f"`{inert(value)}`"


def _flags(flags: tuple[FlagChange, ...], ring: str) -> list[str]:
    head = f"**`FEATURE_` changes it would make in {ring}**"
    if not flags:
        return [f"{head}: none."]
    items = [f"- `{f.variable}`: {_value(f.before)} → {_value(f.after)}" for f in flags]
    return [f"{head}:", "", *items]


def render_dry_run(dry: DryRun) -> str:
    """The reply to `/promote <ring> --dry-run`."""
    promotion = dry.promotion
    ring = promotion.target
    name = ring.name if ring is not None else "?"
    sha = f"`{short(promotion.sha)}`" if promotion.sha else "nothing"
    if promotion.already_done:
        verdict = f"👍 `/promote {name}` would deploy nothing: {sha} is already in {name}."
    elif promotion.allowed:
        verdict = f"🧪 `/promote {name}` would deploy {sha} to {name}."
    else:
        verdict = f"🧪 `/promote {name}` would be refused."
    lines = [verdict, "", "**Rules:**", "", *(_rule(r) for r in dry.rules)]
    if dry.shipping is not None:
        lines += ["", *_shipping(dry.shipping, name)]
    if dry.flags is not None and not promotion.already_done:
        lines += ["", *_flags(dry.flags, name)]
    lines += ["", NOTHING_WRITTEN]
    return "\n".join(lines)
