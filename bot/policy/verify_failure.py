"""What a failed verification does (`on_failure`), decided purely from a `RingsView`.

- `reject`: a rejection by the App (the ledger's `ringbot:reject @<the App's bot> <reason>`) on
  every deployment of the release, the reason naming the check, its conclusion and its summary;
  every pull request in the release is told, as for a person's `/reject`.
- `rollback`: the same, then the ring's previous good release is deployed again (payload
  `"rollback": true`), once: only while the failed release is still the ring's current release
  and nothing was deployed to the ring after it. Like a person's `/rollback`, it holds the ring
  until someone `/promote`s into it (see "Rollbacks stay").
- `hold`: nothing is written; the release only stays blocked.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import RingConfig
from bot.ledger import (
    DeploymentRecord,
    Rejection,
    RingState,
    by_age,
    cd_state,
    current_release,
    encode_rejection,
    has_in_ring,
    live_since,
    newest,
    rejection,
    rejection_of,
)
from bot.policy.rings import Mark, RejectionDecision, RingsView
from bot.policy.verify import CheckFact, failure_reason, of_release


@dataclass(frozen=True)
class Failure:
    """A ring whose waiting release failed verification, and what `on_failure` asks for."""

    ring: RingConfig
    release: DeploymentRecord
    check: CheckFact
    reject: bool  # record the App's rejection (it is not rejected yet)
    roll_back: bool  # redeploy the previous good release (nothing newer was deployed yet)


def failures(view: RingsView) -> list[Failure]:
    """Each ring with `verify:` whose current release failed, with `on_failure` not `hold`.

    Only a release that still waits in its ring counts (see bot.snapshot.verify.waiting): one
    that moved on is judged by the next ring's own `verify:`, never its checks here again."""
    found = []
    bot = view.bot_login
    holding = {ring.name for ring in waiting(view)}
    for ring in view.config.rings:
        if not ring.verify or ring.on_failure == "hold" or ring.name not in holding:
            continue
        state = view.state(ring)
        release = current_release(state, bot)
        if release is None or release.sha not in view.checks:
            continue
        verdict = of_release(ring, release, view.checks, view.now, bot)
        if verdict is None or verdict.failed is None:
            continue
        rejected = rejection_of(release.sha, view.every_state(), bot) is not None
        latest = newest(state)
        # Never an automatic rollback away from a rollback: a release that fails again after
        # being rolled back to (the fault is elsewhere: a database down) would ping-pong between
        # rejected releases. The rejection stands, and the ring waits for a person.
        roll_back = (
            ring.on_failure == "rollback"
            and latest is not None
            and latest.id == release.id
            and not release.rollback
        )
        if rejected and not roll_back:
            continue
        found.append(Failure(ring, release, verdict.failed, not rejected, roll_back))
    return found


def rejection_decision(view: RingsView, failure: Failure) -> RejectionDecision:
    """The App's rejection of the failed release: every deployment of it not marked yet.

    The view must hold the release's deployments in every ring (`others`)."""
    bot = view.bot_login
    sha = failure.release.sha
    reason = failure_reason(failure.ring, failure.check)
    stands = rejection_of(sha, view.every_state(), bot)
    marks = {
        dep.id: Mark(dep.id, cd_state(dep, bot))
        for state in view.every_state()
        for dep in state.deployments
        if dep.sha == sha and rejection(dep, bot) is None
    }
    return RejectionDecision(
        failure.ring,
        sha,
        tuple(marks[i] for i in sorted(marks)),
        already_done=stands is not None,
        description=encode_rejection(bot, reason),
        rejection=stands or Rejection(bot, reason, view.now),
    )


def previous_good(
    state: RingState, failed: DeploymentRecord, everywhere: tuple[RingState, ...], bot: str
) -> DeploymentRecord | None:
    """The release a failed verification rolls back to: the newest earlier release that went
    live in the ring and is not rejected anywhere (as `/rollback` chooses)."""
    ordered = by_age(state.deployments)
    older = ordered[ordered.index(failed) + 1 :] if failed in ordered else []
    return next(
        (
            dep
            for dep in older
            if dep.sha != failed.sha
            and not dep.foreign
            and live_since(dep, bot) is not None
            and rejection_of(dep.sha, everywhere, bot) is None
        ),
        None,
    )


def waiting(view: RingsView) -> list[RingConfig]:
    """The rings with `verify:` whose current release waits there: it has not entered the next
    ring yet (the last ring's current release always waits). Their checks are watched."""
    found = []
    for ring in view.config.rings:
        after = view.config.next(ring)
        release = current_release(view.state(ring), view.bot_login)
        if not ring.verify or release is None:
            continue
        if after is None or not has_in_ring(view.state(after), release.sha, view.bot_login):
            found.append(ring)
    return found
