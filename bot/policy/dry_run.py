"""`/promote <ring> --dry-run`: what `/promote` would do, decided by the same rules, written nowhere.

Everything here is pure. The verdict is `decide_promotion`'s own; this module only lays its
refusals out as one line per rule (✅ held, ❌ broken, ➖ not looked at, with why), adds the pull
requests the release would ship into the ring and the `FEATURE_` variables the entry would
change, so nothing about the rules is decided twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.commands import Promote
from bot.config import Config, RingConfig
from bot.ledger import current_release
from bot.messages.text import humanise
from bot.policy.features import VariableWrite, plan_ring_sync
from bot.policy.refusals import Code, Refusal
from bot.policy.rings import Ask, Promotion, RingsView, decide_promotion
from bot.policy.visibility import History, MergedPull, work_items

FEATURE_PREFIX = "FEATURE_"


@dataclass(frozen=True)
class RuleResult:
    """One rule of the promotion: held (no refusal), broken (its refusal), or not looked at."""

    rule: str
    refusal: Refusal | None = None
    skipped: str = ""  # why the rule was not looked at ("" when it was)

    @property
    def passed(self) -> bool:
        return self.refusal is None and not self.skipped


@dataclass(frozen=True)
class FlagChange:
    """One `FEATURE_` variable the entry would write: from what (None: absent) to what (None:
    deleted)."""

    variable: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Shipping:
    """The pull requests a release would bring into a ring."""

    pulls: tuple[MergedPull, ...] = ()
    since: str | None = None  # the ring's current release (None: nothing is live there)
    # Why the list could not be made ("" when it was); or that it holds only the history read.
    unknown: str = ""
    partial: bool = False  # the ring's release is older than the history read: at least these


@dataclass(frozen=True)
class DryRun:
    """The answer to `/promote <ring> --dry-run`."""

    promotion: Promotion
    rules: tuple[RuleResult, ...]
    shipping: Shipping | None = None  # None: no release would move
    flags: tuple[FlagChange, ...] | None = None  # None: the ring has no feature toggles


def as_promotion(ask: Ask) -> Ask:
    """The `/promote` a dry run asks about."""
    assert isinstance(ask.command, Promote)
    return replace(ask, command=replace(ask.command, dry_run=False))


# The rules a promotion into a later ring checks, in the order people read them, with the codes
# that say each one is broken.
def _later_ring_rules(
    view: RingsView, ask: Ask, ring: RingConfig, source: RingConfig
) -> list[tuple[str, frozenset[Code]]]:
    approvals = ring.approvals
    signoff = (
        f"{approvals} sign-off{'s' if approvals != 1 else ''} in {source.name}"
        if approvals > 0
        else f"no sign-off needed in {source.name}"
    )
    bake = (
        f"baked {humanise(ring.bake)} in {source.name}"
        if ring.bake.total_seconds() > 0
        else f"no bake time in {source.name}"
    )
    return [
        (
            f"@{ask.actor} may promote to {ring.name} ({ring.promoters.label} access)",
            frozenset({Code.PERMISSION}),
        ),
        ("this pull request is merged", frozenset({Code.NOT_MERGED})),
        (f"a release is live in {source.name}", frozenset({Code.NOT_IN_PREVIOUS, Code.FAILED})),
        (
            f"the release live in {source.name} contains this pull request",
            frozenset({Code.NOT_CONTAINED}),
        ),
        (
            f"the release in {source.name} is the one live when you wrote",
            frozenset({Code.MOVED_ON}),
        ),
        ("the release is not rejected", frozenset({Code.REJECTED})),
        (signoff, frozenset({Code.NEEDS_SIGNOFF, Code.SELF_SIGNOFF})),
        (bake, frozenset({Code.BAKING})),
    ]


def _first_ring_rules(ask: Ask, ring: RingConfig) -> list[tuple[str, frozenset[Code]]]:
    return [
        (
            f"{ring.name} is held by a rollback (otherwise it is entered automatically)",
            frozenset({Code.FIRST_RING}),
        ),
        (
            f"@{ask.actor} may promote to {ring.name} ({ring.promoters.label} access)",
            frozenset({Code.PERMISSION}),
        ),
        ("this pull request is merged", frozenset({Code.NOT_MERGED})),
        ("the default branch's head is green", frozenset({Code.NO_CANDIDATE})),
        ("the default branch's head contains this pull request", frozenset({Code.NOT_CONTAINED})),
        ("the release is not rejected", frozenset({Code.REJECTED})),
    ]


# A broken rule after which decide_promotion looks at none of the rules below it, and why.
_STOPS: tuple[tuple[frozenset[Code], str], ...] = (
    (frozenset({Code.FIRST_RING}), "the ring is entered automatically"),
    (frozenset({Code.NOT_MERGED}), "this pull request is not merged"),
    (frozenset({Code.NOT_IN_PREVIOUS, Code.FAILED, Code.NO_CANDIDATE}), "no release to move"),
    (frozenset({Code.NOT_CONTAINED}), "the release does not hold this pull request"),
    (frozenset({Code.MOVED_ON}), "the release changed since your comment"),
    (frozenset({Code.REJECTED}), "a rejected release never moves"),
)
_ALWAYS = frozenset({Code.PERMISSION, Code.NOT_MERGED})  # looked at whatever else fails
_ON_THE_RELEASE = frozenset({Code.REJECTED, Code.NEEDS_SIGNOFF, Code.SELF_SIGNOFF, Code.BAKING})


def rule_results(view: RingsView, ask: Ask, promotion: Promotion) -> tuple[RuleResult, ...]:
    """Every rule of the promotion, with what `decide_promotion` found. A rule it did not look
    at (the release is missing, not this pull request's, rejected, or already in the ring: the
    rules after that are moot) says so; a refusal that no rule here names (a rule added later)
    is listed as a rule of its own."""
    ring = promotion.target
    if ring is None:
        return tuple(RuleResult(r.message, r) for r in promotion.refusals)
    source = view.config.previous(ring)
    rules = (
        _first_ring_rules(ask, ring)
        if source is None
        else _later_ring_rules(view, ask, ring, source)
    )
    found = {r.code: r for r in reversed(promotion.refusals)}  # each code's first refusal
    results: list[RuleResult] = []
    moot = ""  # why the rules from here on were not looked at
    for label, codes in rules:
        refusal = next((found[code] for code in codes if code in found), None)
        if refusal is not None:
            results.append(RuleResult(label, refusal))
            moot = moot or next((why for stop, why in _STOPS if codes & stop), "")
            continue
        skipped = "" if codes & _ALWAYS else moot
        if not skipped and promotion.already_done and codes & _ON_THE_RELEASE:
            skipped = f"the release is already in {ring.name}"
        results.append(RuleResult(label, None, skipped))
    named = {code for _, codes in rules for code in codes}
    results += [RuleResult(r.message, r) for r in promotion.refusals if r.code not in named]
    return tuple(results)


def shipping(
    view: RingsView, promotion: Promotion, history: History | None, pulls: Sequence[MergedPull]
) -> Shipping | None:
    """The pull requests merged into the moving release after the ring's current release."""
    if promotion.target is None or not promotion.sha:
        return None
    current = current_release(view.state(promotion.target), view.bot_login)
    since = current.sha if current is not None else None
    if history is None or promotion.sha not in history:
        return Shipping(since=since, unknown="the release is older than the history read")
    partial = since is not None and since not in history
    found = work_items(history, pulls, promotion.sha, None if partial else since)
    return Shipping(found, since, partial=partial)


def flag_changes(
    config: Config, ring: RingConfig, variables: Mapping[str, str] | None, now: datetime
) -> tuple[FlagChange, ...] | None:
    """The `FEATURE_` variables entering `ring` would write (see `effects.toggles.before_deploy`:
    the same plan, none of it applied). None when no feature toggle is configured."""
    if not config.features:
        return None
    sync = plan_ring_sync(config, ring, variables, now)
    return tuple(_change(write, variables or {}) for write in sync.writes if _is_flag(write))


def _is_flag(write: VariableWrite) -> bool:
    return write.name.upper().startswith(FEATURE_PREFIX)


def _change(write: VariableWrite, variables: Mapping[str, str]) -> FlagChange:
    before = variables.get(write.name.upper())
    after = None if write.action == "delete" else write.value
    return FlagChange(write.name, before, after)


def decide_dry_run(
    view: RingsView,
    ask: Ask,
    *,
    history: History | None = None,
    pulls: Sequence[MergedPull] = (),
    variables: Mapping[str, str] | None = None,
) -> DryRun:
    """`/promote <ring> --dry-run`: the promotion's verdict, rule by rule, with what it ships."""
    promotion = decide_promotion(view, as_promotion(ask))
    rules = rule_results(view, ask, promotion)
    ring = promotion.target
    ships = shipping(view, promotion, history, pulls)
    flags = flag_changes(view.config, ring, variables, view.now) if ring is not None else None
    return DryRun(promotion, rules, ships, flags)
