"""Guardrails' texts: the note on a pull request that went around the merge gate, and the
protection check's lines (what is missing, with the exact fix; what could not be read)."""

from __future__ import annotations

from bot.messages.text import short
from bot.policy.guardrails import Protection, Seen, Unverified, Why


def unverified_marker(sha: str) -> str:
    """The hidden marker of the one note a pull request gets for an unverified merge."""
    return f"<!-- ringbot:unverified:{sha} -->"


def render_unverified(found: Unverified, ring: str) -> str:
    """The note on the pull request whose merge went around the gate."""
    how = (
        "was pushed straight to the default branch"
        if found.why == Why.PUSHED
        else "brings more commits than ringbot can look through"
        if found.why == Why.TOO_DEEP
        else f"merged while `ringbot/merge-gate` was {found.gate} on its head"
    )
    return (
        f"⚠️ **Unverified merge**: `{short(found.sha)}` {how}, so it does not enter {ring} by "
        f"itself, nor does any later release that holds it.\n\n"
        f"Once someone with {ring}'s `promoters` permission has looked at it, they comment "
        f"`/promote {ring}` to accept it; the deployment names who did."
    )


def protection_lines(found: Protection, gate_check: str = "ringbot/merge-gate") -> list[str]:
    """One line per protection fact: ✅ present, ❌ missing with the fix, ❔ unknown."""
    lines: list[str] = []
    branch = f"`{found.branch}`"
    if found.gate_required == Seen.PRESENT:
        lines.append(f"✅ {branch} requires `{gate_check}` ({found.gate_how})")
    elif found.gate_required == Seen.MISSING:
        lines.append(
            f"❌ {branch} does not require `{gate_check}`: in Settings → Rules → Rulesets, add a "
            f'branch ruleset for {branch} with "Require status checks to pass" and '
            f"`{gate_check}` (or add it to the branch protection rule's required checks)"
        )
    else:
        lines.append(
            f"❔ whether {branch} requires `{gate_check}` is unknown (ringbot may not read its "
            f"rules): check Settings → Rules → Rulesets or Branches"
        )
    for environment, seen in found.environments:
        name = f"`{environment}`"
        if seen == Seen.PRESENT:
            lines.append(f"✅ environment {name} has ringbot as a deployment protection rule")
        elif seen == Seen.MISSING:
            lines.append(
                f"❌ environment {name} lets deploys in without ringbot: in Settings → "
                f'Environments → {environment}, enable ringbot under "Deployment protection rules"'
            )
        else:
            lines.append(
                f"❔ whether environment {name} has ringbot as its protection rule is unknown"
            )
    return lines


def render_protection(found: Protection) -> str:
    """The protection check as a markdown section ('' when everything is in place)."""
    if found.complete:
        return ""
    body = "\n".join(f"- {line}" for line in protection_lines(found))
    return f"**Protection check**\n\n{body}"
