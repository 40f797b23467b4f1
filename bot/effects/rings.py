"""The combined writes of the rings: a release entering a ring, a rejection with its notices, and
"blocked before <ring>" where people look. Each is made of the single writers beside it."""

from __future__ import annotations

from ..config import Config
from ..context import Ctx
from ..ledger import HotfixMark, RingState
from ..logs import log
from ..messages.blocked import render_blocked, render_blocked_check
from ..messages.visibility import RELEASE_CHECK, STATUS_MARKER, notice_marker, render_notice
from ..policy.rings import RejectionDecision
from ..snapshot.history import default_branch, read_release
from ..snapshot.pulls import merged_by
from .checks import CheckOutput, find_own_run, publish_check
from .deployments import create_deployment, record
from .replies import find_reply, reply
from .toggles import before_deploy


async def enter(
    ctx: Ctx,
    config: Config,
    state: RingState,
    sha: str,
    reason: str,
    *,
    rollback: bool = False,
    hotfix: HotfixMark | None = None,
    accepted: tuple[str, tuple[str, ...]] | None = None,
) -> int:
    """A release enters a ring: its flags first (the deploy reads them), then the deployment."""
    await before_deploy(ctx, config, state.ring)
    newest_seen = max((d.id for d in state.deployments), default=0)
    return await create_deployment(
        ctx,
        state.ring,
        sha,
        reason=reason,
        newer_than=newest_seen,
        rollback=rollback,
        hotfix=hotfix,
        accepted=accepted,
    )


async def reject(ctx: Ctx, config: Config, decision: RejectionDecision) -> None:
    """Mark every deployment the decision names, then tell each pull request in the release."""
    for mark in decision.marks:
        # The entry repeats the deployment's own state, so GitHub keeps showing what the CD
        # said (a failed deploy must not turn green because it was rejected).
        await record(ctx, mark.deployment_id, mark.state, decision.description)
    if decision.ring is not None and decision.sha and decision.rejection is not None:
        await _tell_rejected(ctx, config, decision)


async def _tell_rejected(ctx: Ctx, config: Config, decision: RejectionDecision) -> None:
    """Tell every pull request in the rejected release why it will not move on: one note each."""
    assert decision.ring is not None and decision.sha and decision.rejection is not None
    sha, ring = decision.sha, decision.ring
    branch = await default_branch(ctx)
    view = await read_release(ctx, config, branch, sha, (ring,), all_of=False)
    if view is None:
        return
    marker = notice_marker(sha)
    for pull in view.affected:
        if await find_reply(ctx, pull.number, marker) is not None:
            continue
        # The rejection that stands is the ledger's first (a repeated /reject changes nothing).
        text = render_notice(sha, ring.name, decision.rejection, view.history.url)
        await reply(ctx, pull.number, text, marker=marker, check_first=False)
    log(20, "rejection notices", repo=ctx.repo, sha=sha, pulls=[p.number for p in view.affected])


async def say_blocked(ctx: Ctx, sha: str, ring: str, problem: str) -> None:
    """Show that `sha` cannot enter `ring`: on its release check run and on the status comment
    of each pull request it merged. Both writes happen only when the text is not there yet."""
    title, summary = render_blocked_check(ring, sha, problem)
    want = CheckOutput(RELEASE_CHECK, "completed", "action_required", title, summary)
    await publish_check(ctx, sha, want, await find_own_run(ctx, sha, RELEASE_CHECK))
    notice = render_blocked(ring, sha, problem)
    for number in await merged_by(ctx, sha):
        found = await find_reply(ctx, number, STATUS_MARKER)
        body = str((found or {}).get("body") or "")
        if body.startswith(notice):
            continue  # said already (only ringbot's own text can start its status comment)
        # The status comment keeps its table; the notice goes on top until the ring is entered
        # and the table is drawn again.
        text = body.replace(f"\n\n{STATUS_MARKER}", "").strip()
        text = f"{notice}\n\n{text}" if text else notice
        await reply(ctx, number, text, marker=STATUS_MARKER, check_first=True)
