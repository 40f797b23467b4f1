"""Verification: is a ring's live release verified by its `verify:` checks, and for how long more?

Pure. The facts are the named check runs and commit statuses on the release commit (read by
`bot.snapshot.verify`); the answer is pending, verified or failed.

Decisions where the contract is silent:

- Each name counts by its newest result: the newest check run of that name (a re-run replaces the
  run before it) or, without one, the newest commit status of that context. A check run wins over
  a commit status of the same name.
- Green is `success` only. `failure`, `error`, `cancelled`, `timed_out`, `action_required`,
  `startup_failure` and `stale` are failures. A check still running, `neutral`, `skipped` or one
  never reported is pending: it neither verifies nor fails the release.
- The watch starts at the later of the moment the release went live in the ring and the moment the
  last of its checks turned green (completed, or the status was posted); the release is verified
  once `watch` has passed since. A check that turns red or is re-run meanwhile starts it over.
- The verdict follows the newest results: a check that fails after the watch ended still counts
  as a failure while the release is the ring's current release and waits there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from bot.config import RingConfig
from bot.ledger import DeploymentRecord, live_since
from bot.messages.text import humanise, inert, link_target, short
from bot.policy.refusals import Code, Refusal

GREEN: Final = frozenset({"success"})
RED: Final = frozenset(
    {
        "failure",
        "error",
        "cancelled",
        "timed_out",
        "action_required",
        "startup_failure",
        "stale",
    }
)
SUMMARY_LIMIT: Final = 200  # characters of a check's summary quoted in a rejection

State = Literal["pending", "verified", "failed"]


@dataclass(frozen=True)
class CheckFact:
    """One check run or commit status on a release commit, as verification reads it."""

    name: str
    source: str  # "check_run" or "status"
    conclusion: str | None  # None while it runs (or a status is pending)
    at: datetime | None  # when it completed (a status: when it was posted)
    url: str = ""
    summary: str = ""  # the check run's output title/summary, or the status's description
    id: int = 0


@dataclass(frozen=True)
class Verification:
    """Where a release stands against its ring's `verify:` checks."""

    state: State
    pending: tuple[str, ...] = ()  # names not green yet
    failed: CheckFact | None = None  # the first failed check, in `verify:` order
    ends_at: datetime | None = None  # every check is green: the watch ends then
    checks: tuple[tuple[str, CheckFact | None], ...] = ()  # each name and its newest result

    def link(self) -> str:
        """The failed check's link, or the first pending one's, for tables ("" for none)."""
        if self.failed is not None:
            return self.failed.url
        found = dict(self.checks)
        for name in self.pending:
            fact = found.get(name)
            if fact is not None and fact.url:
                return fact.url
        return ""


def newest(facts: Iterable[CheckFact], name: str) -> CheckFact | None:
    """The newest result of `name`: a check run first, else a commit status."""
    mine = [f for f in facts if f.name == name]
    runs = [f for f in mine if f.source == "check_run"]
    pool = runs or mine
    return max(pool, key=lambda f: f.id) if pool else None


def verification(
    ring: RingConfig,
    release: DeploymentRecord,
    facts: Sequence[CheckFact] | None,
    now: datetime,
    bot_login: str,
) -> Verification | None:
    """The release's verification in `ring`; None when the ring verifies nothing.

    `facts` None: the checks were not read, so the release is pending (fail closed).
    """
    if not ring.verify:
        return None
    found = tuple((name, newest(facts or (), name)) for name in ring.verify)
    failed = next(
        (f for _, f in found if f is not None and f.conclusion in RED),
        None,
    )
    if failed is not None:
        return Verification("failed", failed=failed, checks=found)
    pending = tuple(
        name for name, f in found if f is None or f.conclusion not in GREEN or f.at is None
    )
    since = live_since(release, bot_login)
    if pending or since is None or facts is None:
        return Verification("pending", pending=pending or ring.verify, checks=found)
    green = max([since, *(f.at for _, f in found if f is not None and f.at is not None)])
    ends = green + ring.watch
    if now < ends:
        return Verification("pending", pending=ring.verify, ends_at=ends, checks=found)
    return Verification("verified", ends_at=ends, checks=found)


def of_release(
    ring: RingConfig,
    release: DeploymentRecord,
    checks: Mapping[str, tuple[CheckFact, ...]],
    now: datetime,
    bot_login: str,
) -> Verification | None:
    """`verification` with the facts read for the release's SHA (absent: not read)."""
    return verification(ring, release, checks.get(release.sha), now, bot_login)


def summary_of(fact: CheckFact) -> str:
    """The check's summary on one line, cut to SUMMARY_LIMIT characters."""
    text = " ".join(fact.summary.split())
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1].rstrip() + "…"


def failure_reason(ring: RingConfig, fact: CheckFact) -> str:
    """The rejection's reason: the check's name, its conclusion and its summary."""
    summary = summary_of(fact)
    tail = f": {summary}" if summary else ""
    return f"verification in {ring.name} failed: {fact.name} {fact.conclusion}{tail}"


def refusal(
    ring: RingConfig, release: DeploymentRecord, found: Verification | None, now: datetime
) -> Refusal | None:
    """Why `release` cannot leave `ring` yet, as far as verification goes; None when it may."""
    if found is None or found.state == "verified":
        return None
    sha = short(release.sha)
    if found.state == "failed":
        assert found.failed is not None
        summary = summary_of(found.failed)
        what = f": {inert(summary)}" if summary else ""
        url = link_target(found.failed.url)
        link = f" ({url})" if url else ""
        return Refusal(
            Code.VERIFY_FAILED,
            f"`{sha}` failed verification in {ring.name}: {found.failed.name} "
            f"{found.failed.conclusion}{what}{link}",
            "merge a fix and let the next release go through the rings",
        )
    names = ", ".join(found.pending)
    if found.ends_at is not None:
        left = found.ends_at - now
        return Refusal(
            Code.VERIFY_WATCH,
            f"waiting for verification: {names} green, watched {humanise(ring.watch - left)} "
            f"of {humanise(ring.watch)} in {ring.name}; {humanise(left)} left",
            f"try again in {humanise(left)}",
        )
    return Refusal(
        Code.VERIFY_PENDING,
        f"waiting for verification: {names}",
        f"wait until {names} {'is' if len(found.pending) == 1 else 'are'} green on "
        f"`{sha}` (then {humanise(ring.watch)} of watch)"
        if ring.watch
        else f"wait until {names} {'is' if len(found.pending) == 1 else 'are'} green on `{sha}`",
    )


def time_clears(
    refusals: Sequence[Refusal], ends: Mapping[Code, datetime | None]
) -> datetime | None:
    """When to look again: only when every refusal is one that time alone ends (a bake time, a
    closed ring that opens, a verification watch), each with a known end."""
    codes = {r.code for r in refusals}
    if not codes or not codes <= set(ends):
        return None
    times = [ends[code] for code in codes]
    if any(t is None for t in times):
        return None
    return max(t for t in times if t is not None)
