"""Pure markdown for feature toggles: the replies to `/feature` and `/features`."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import CONFIG_PATH, feature_variable
from bot.messages.rings import render_refusals
from bot.messages.text import code, inert
from bot.policy.features import Cell, Cleared, FeatureDecision, FeatureTable, Override


def when(moment: datetime) -> str:
    """A timestamp people read: 2026-05-10 12:00 UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _state(enabled: bool) -> str:
    return "on" if enabled else "off"


def _by(override: Override) -> str:
    # No ping: the table is read often, and the person already knows.
    return f"{inert('@' + override.by)}, {when(override.at)}"


def render_feature(decision: FeatureDecision, command: str) -> str:
    """The reply to `/feature <flag> on|off <ring>`."""
    flag, ring = decision.flag, decision.ring
    if flag is None or ring is None or not decision.allowed:
        return render_refusals(f"Cannot change {code(command)}:", decision.refusals)
    state = _state(decision.enabled)
    variable = f"`{feature_variable(flag)}={'true' if decision.enabled else 'false'}`"
    where = f"on environment {code(ring.environment)}"
    if decision.outcome == "set":
        return (
            f"🎛️ `{flag}` is now **{state}** in {ring.name} ({variable} {where}); the config says "
            f"{_state(decision.config_value)}. Deployments to {ring.name} read it from now on. "
            f"The override stands until `{CONFIG_PATH}` changes `{flag}` in {ring.name}."
        )
    if decision.outcome == "reverted" and decision.previous is not None:
        return (
            f"🎛️ `{flag}` is **{state}** in {ring.name} again, as the config says ({variable} "
            f"{where}); the override by {_by(decision.previous)} is removed."
        )
    if decision.previous is not None:
        return (
            f"👍 `{flag}` is already **{state}** in {ring.name}: override by "
            f"{_by(decision.previous)}; nothing changed."
        )
    return f"👍 `{flag}` is already **{state}** in {ring.name}, from the config; nothing changed."


def _cell(cell: Cell) -> str:
    text = f"**{_state(cell.enabled)}**" if cell.override else _state(cell.enabled)
    text += f" · override {_by(cell.override)}" if cell.override else " · config"
    if cell.drift:
        # The value is whatever someone set on the environment; it sits in a table cell.
        found = code(cell.actual, table=True) if cell.actual is not None else "nothing"
        text += f" ⚠️ environment has {found} until the next sync"
    return text


def render_cleared(cleared: Cleared) -> str:
    """One cleared override, for `/features` and the sync's log."""
    o = cleared.override
    return (
        f"{code(o.flag)} {_state(o.enabled)} in {o.ring} (override by {_by(o)}) was cleared "
        f"{when(cleared.at)}: {cleared.why}"
    )


def render_features(table: FeatureTable) -> str:
    """The reply to `/features`: flag × ring, each value with where it comes from."""
    if not table.flags:
        return (
            f"🎛️ No feature flags are configured. Add them under `features:` in `{CONFIG_PATH}`, "
            "e.g. `new-grid: [dev, internal]`."
        )
    lines = [
        "🎛️ **Feature toggles** (environment variable `FEATURE_<FLAG>` on each ring's environment)",
        "",
        "| flag | " + " | ".join(table.rings) + " |",
        "|---|" + "---|" * len(table.rings),
    ]
    for flag in table.flags:
        cells = [_cell(table.cells[(flag, ring)]) for ring in table.rings]
        lines.append(f"| `{flag}` | " + " | ".join(cells) + " |")
    if table.cleared:
        lines += ["", "**Overrides cleared by config changes:**", ""]
        lines += [f"- {render_cleared(c)}" for c in table.cleared]
    lines += [
        "",
        "Override one ring with `/feature <flag> on|off <ring>`; the config wins again once "
        f"`{CONFIG_PATH}` changes that flag in that ring.",
    ]
    return "\n".join(lines)
