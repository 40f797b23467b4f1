"""Guardrails, pure: which default-branch commits went around the merge gate, and what the
repository's protection is missing.

A commit on the default branch is *unverified* when it was pushed straight (no merged pull
request holds it) or when its pull request merged while `ringbot/merge-gate` was not success on
the merged head (an admin bypass). A release is unverified when it, or any commit between the
first ring's release and it, is: a bypassed change never rides into the first ring unseen inside
a later, verified release. Only a person with the first ring's `promoters` accepts it there
(`/promote <first ring>`), and the deployment names who did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from bot.messages.text import short
from bot.policy.refusals import Code, Refusal

UNVERIFIED_LABEL: Final = "unverified-merge"
# How many commits below a candidate are judged at most (one history page).
HISTORY_DEPTH: Final = 100


class Why(StrEnum):
    """Why a commit is unverified."""

    PUSHED = "pushed"  # pushed straight to the default branch
    BYPASSED = "bypassed"  # its pull request merged while the gate was not success
    TOO_DEEP = "too deep"  # what it brings reaches past the history ringbot reads


@dataclass(frozen=True)
class GateAtMerge:
    """ringbot's newest merge gate run on a merged pull request's head (None fields: no run)."""

    status: str = ""
    conclusion: str | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True)
class Unverified:
    """One default-branch commit that went around the gate."""

    sha: str
    why: Why
    pull: int = 0  # the pull request that merged it (0: pushed straight)
    gate: str = ""  # how the gate stood at the merge ("failure", "in_progress", "missing")


def gate_verdict(
    pull: int, sha: str, gate: GateAtMerge | None, merged_at: datetime | None
) -> Unverified | None:
    """A merged pull request's commit is verified only when ringbot's gate on its head was
    completed with success by the time it merged (the gate is not run on a closed pull request,
    so a run read later is how it stood then; a success stamped after the merge does not count)."""
    if gate is None or not gate.status:
        return Unverified(sha, Why.BYPASSED, pull, "missing")
    if gate.status != "completed":
        return Unverified(sha, Why.BYPASSED, pull, gate.status)
    if gate.conclusion != "success":
        return Unverified(sha, Why.BYPASSED, pull, str(gate.conclusion or "missing"))
    if merged_at is not None and gate.completed_at is not None and gate.completed_at > merged_at:
        return Unverified(sha, Why.BYPASSED, pull, "success only after the merge")
    return None


def chain(
    parents: Mapping[str, Sequence[str]], candidate: str, stops: Iterable[str]
) -> tuple[str, ...] | None:
    """The default branch's commits a candidate brings into the first ring: its first-parent
    chain, newest first, down to (not including) the first commit in `stops` (what ringbot has
    already deployed there, or the ring's current release).

    With no stop at all (nothing was deployed into the ring yet) only the candidate is judged:
    there is nothing to compare against, and the repository's first commits were pushed
    straight. A stop not found within `parents` (the history page) gives None: the caller
    judges the page, never fewer commits than it can see.
    """
    stop = frozenset(stops)
    if candidate in stop:
        return ()
    if not stop:
        return (candidate,)
    found: list[str] = []
    at: str | None = candidate
    while at is not None and at not in stop and len(found) < HISTORY_DEPTH:
        found.append(at)
        if at not in parents:
            return None
        first = parents[at][:1]
        at = first[0] if first else None
    return tuple(found) if at in stop else None


def accept_text(found: Sequence[Unverified]) -> str:
    """What a deployment that accepts unverified commits says after `/promote by @x`."""
    shas = ", ".join(short(u.sha) for u in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    return f", accepting unverified {shas}{more}"


# --- the protection check -----------------------------------------------------------------------


class Seen(StrEnum):
    """One protection fact as read: there, missing, or not readable (never taken as fine)."""

    PRESENT = "present"
    MISSING = "missing"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Protection:
    """What the repository's settings enforce: whether the default branch requires the merge
    gate, and per ring environment whether ringbot is its deployment protection rule."""

    branch: str
    gate_required: Seen
    gate_how: str = ""  # "ruleset" or "branch protection" when present
    environments: tuple[tuple[str, Seen], ...] = ()  # (environment, seen), in ring order

    @property
    def complete(self) -> bool:
        """Everything is in place (an unknown is not)."""
        return self.gate_required == Seen.PRESENT and all(
            seen == Seen.PRESENT for _, seen in self.environments
        )


def required_by_rules(rules: Iterable[Mapping[str, object]], context: str) -> bool:
    """Whether the rules in effect on a branch require the status check `context`."""
    for rule in rules:
        if rule.get("type") != "required_status_checks":
            continue
        parameters = rule.get("parameters")
        checks = parameters.get("required_status_checks") if isinstance(parameters, dict) else None
        for check in checks if isinstance(checks, list) else ():
            if isinstance(check, dict) and check.get("context") == context:
                return True
    return False


def required_by_protection(required: Mapping[str, object] | None, context: str) -> bool:
    """Whether branch protection's required status checks name `context`."""
    if not required:
        return False
    contexts = required.get("contexts")
    if isinstance(contexts, list) and context in contexts:
        return True
    checks = required.get("checks")
    return isinstance(checks, list) and any(
        isinstance(c, dict) and c.get("context") == context for c in checks
    )


def has_app_rule(rules: Iterable[Mapping[str, object]], app_slug: str, app_id: int) -> bool:
    """Whether an environment's custom deployment protection rules include this App."""
    for rule in rules:
        app = rule.get("app")
        if not isinstance(app, dict) or rule.get("enabled") is False:
            continue
        if app.get("slug") == app_slug or app.get("id") == app_id:
            return True
    return False


def unverified_refusal(ring: str, found: Sequence[Unverified]) -> Refusal:
    """The first ring does not take a release holding a commit that went around the gate."""
    first = found[0]
    what = ", ".join(_one(u) for u in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return Refusal(
        Code.UNVERIFIED,
        f"the release holds unverified commits ({what}{more}): they went around the merge gate",
        f"someone with {ring}'s `promoters` permission who has looked at "
        f"`{short(first.sha)}` comments `/promote {ring}` to accept it",
    )


def too_deep(sha: str) -> Unverified:
    """`sha` brings more commits than one page of history holds: none of them can be judged."""
    return Unverified(sha, Why.TOO_DEEP)


def _one(found: Unverified) -> str:
    if found.why == Why.PUSHED:
        return f"`{short(found.sha)}` pushed straight to the default branch"
    if found.why == Why.TOO_DEEP:
        return f"`{short(found.sha)}` brings more commits than ringbot can look through"
    return f"`{short(found.sha)}` merged by #{found.pull} while the gate was {found.gate}"
