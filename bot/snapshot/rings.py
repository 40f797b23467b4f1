"""The rings' reads: deployments and their statuses as ledger records, gathered into one
`RingsView` per job. Each reader reads what its decision needs and no more; a read that only
matters for the release about to move is made once that release is known (the pure helpers of
`policy.rings` say which it is), so a refused command costs no more than it did."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from gidgethub import BadRequest

from ..commands import Approve, Promote, Reject, Rollback
from ..config import Config, RingConfig
from ..context import Ctx
from ..ledger import (
    IN_FLIGHT,
    DeploymentRecord,
    RingState,
    cd_state,
    current_release,
    has_in_ring,
    live_since,
    release_at,
    rollback_hold,
    same_login,
    signoffs,
)
from ..models import Permission, PullRequest
from ..policy.gate import builds_input, evaluate_gate
from ..policy.rings import RingCommand, RingsView, moving_release, resolve_ring, rollback_pivot
from ..policy.verify_failure import waiting
from .deployments import recent_deployments, record, statuses
from .guardrails import unverified_in
from .history import default_branch, release_authors
from .pulls import PARALLEL_READS, builds, merge_of, ok, permission
from .reads import PAGE, every, get_or_none
from .signoff import with_signoff_facts
from .verify import with_checks

# How many deployments older than a command ring_state reads to find what was live when it was
# written: deploys that failed in a row, no more (a bound on the statuses reads a comment costs).
BACK_TO_DEPTH = 10


def _in(ring: RingConfig, dep: dict[str, Any]) -> bool:
    return str(dep["environment"]).lower() == ring.environment.lower()


async def ring_state(
    ctx: Ctx,
    config: Config,
    ring: RingConfig,
    deployments: Sequence[dict[str, Any]],
    *,
    whole: bool = False,
    back_to: datetime | None = None,
) -> RingState:
    """A ring's deployments, newest first, with statuses read down to its current release.

    Older deployments are only read with `whole` (a rollback looks further back) or down to
    the release that was current at `back_to` (a command acts on what was current when it was
    written); the rest are left out, since no decision reads them. A live deployment that is
    not a release (see `is_release`) is marked foreign and the reading goes on past it.
    """
    bot = ctx.identity.bot_login
    mine = sorted(
        (d for d in deployments if _in(ring, d)), key=lambda d: int(d["id"]), reverse=True
    )
    records: list[DeploymentRecord] = []
    found_current = found_then = False
    older = 0  # deployments made before `back_to` read so far
    for dep in mine:
        if found_current and (found_then or older >= BACK_TO_DEPTH) and not whole:
            break  # (past BACK_TO_DEPTH, "nothing was live then": a command is refused)
        read = record(dep, await statuses(ctx, int(dep["id"])))
        state = cd_state(read, bot)
        live = state == "success"
        # Whatever is, was or is about to be live counts only as a release: a foreign one may
        # not be the current release, nor what a rollback or an automatic entry goes back to.
        counts = live or state in IN_FLIGHT or live_since(read, bot) is not None
        if counts and not await is_release(ctx, config, read.sha, read.creator):
            read = replace(read, foreign=True)
            live = False
        records.append(read)
        # Read on past a release that went live around ringbot (a CD redeploying it by hand):
        # ringbot's own entries below it still decide, a rollback's hold among them.
        found_current = found_current or (live and same_login(read.creator, bot))
        found_then = (
            found_then
            or back_to is None
            or release_at(RingState(ring, (read,)), bot, back_to) is not None
        )
        older += back_to is not None and read.created_at <= back_to
    return RingState(ring=ring, deployments=tuple(records))


async def _states(
    ctx: Ctx,
    config: Config,
    rings: Iterable[RingConfig],
    deployments: Sequence[dict[str, Any]],
    *,
    whole: bool = False,
    back_to: datetime | None = None,
) -> tuple[RingState, ...]:
    """Each ring's state (see ring_state), a few rings read at once, in the rings' order."""
    rings = list(rings)
    found: list[RingState] = []
    for at in range(0, len(rings), PARALLEL_READS):
        batch = rings[at : at + PARALLEL_READS]
        read = await asyncio.gather(
            *(
                ring_state(ctx, config, ring, deployments, whole=whole, back_to=back_to)
                for ring in batch
            ),
            return_exceptions=True,
        )
        found += map(ok, read)
    return tuple(found)


async def _nothing() -> None:
    """A read that is not needed, in a gather."""
    return None


async def _others(
    ctx: Ctx,
    config: Config,
    sha: str,
    deployments: Sequence[dict[str, Any]],
    known: Sequence[RingState],
) -> tuple[RingState, ...]:
    """The SHA's deployments in any ring that are not read yet, with their statuses.

    Read only for the release about to move (or be rejected): a rejection recorded in any ring
    must stop it, even when the ring it comes from was reached around ringbot.
    """
    seen = {d.id for state in known for d in state.deployments}
    found: list[RingState] = []
    for ring in config.rings:
        mine = [d for d in deployments if d["sha"] == sha and int(d["id"]) not in seen]
        mine = [d for d in mine if _in(ring, d)]
        records = [record(d, await statuses(ctx, int(d["id"]))) for d in mine]
        if records:
            found.append(RingState(ring, tuple(records)))
    return tuple(found)


# --- what a release is, and what it holds -------------------------------------------------------


async def head_of(ctx: Ctx, branch: str) -> str:
    """The commit a branch points at now."""
    data = await ctx.gh.getitem(f"/repos/{ctx.repo}/commits/{quote(branch, safe='')}")
    return str(data["sha"])


async def builds_green(ctx: Ctx, sha: str, config: Config) -> bool:
    """Every build on the commit passed, read as strictly as the merge gate reads them."""
    _, checks = await builds(ctx, sha, memo_ok=False)
    return evaluate_gate(builds_input(checks, config)).conclusion == "success"


async def is_release(ctx: Ctx, config: Config, sha: str, creator: str = "") -> bool:
    """Whether `sha` is a release: a commit the default branch pointed at (a pull request's
    merge commit, or the branch's head) whose builds passed.

    ringbot itself deploys nothing else (its first ring takes the green head, later rings the
    release before them, a rollback an earlier release), so its own deployments need no
    reading. Anything deployed around it (a workflow run by hand) is checked: a pull request's
    head, or a commit in the middle of a merged pull request, was never reviewed as it stands.
    """
    if creator and same_login(creator, ctx.identity.bot_login):
        return True
    key = (ctx.installation, ctx.repo, sha)
    if ctx.caches.releases.get(key):
        return True
    if key in ctx.caches.not_releases:
        return False
    verdict = await _pointed_at(ctx, sha) and await builds_green(ctx, sha, config)
    # A "no" is kept briefly: the commit may yet turn green or be merged fast-forward.
    (ctx.caches.releases if verdict else ctx.caches.not_releases)[key] = verdict
    return verdict


async def _pointed_at(ctx: Ctx, sha: str) -> bool:
    """The default branch pointed at `sha`: it merged a pull request, or it is the head."""
    branch = await default_branch(ctx)
    async for pull in every(ctx.gh, f"/repos/{ctx.repo}/commits/{sha}/pulls?{PAGE}"):
        base = str((pull.get("base") or {}).get("ref") or "")
        if pull.get("merged_at") and pull.get("merge_commit_sha") == sha and base == branch:
            return True
    return await head_of(ctx, branch) == sha


async def contains(ctx: Ctx, ancestor: str, release: str) -> bool | None:
    """Whether `release` contains commit `ancestor`; None when GitHub cannot say."""
    if ancestor == release:
        return True
    url = f"/repos/{ctx.repo}/compare/{ancestor}...{release}?per_page=1"
    try:
        data = await get_or_none(ctx.gh, url)  # 404: a commit GitHub no longer knows
    except BadRequest as exc:
        if exc.status_code != 422:  # 422: nor does it, in its other words
            raise
        return None
    status = (data or {}).get("status")
    if status in ("ahead", "identical"):
        return True
    if status in ("behind", "diverged"):
        return False
    return None


async def merged_commits(
    ctx: Ctx, pull: PullRequest, releases: Iterable[DeploymentRecord | None]
) -> dict[str, bool | None]:
    """Release SHA -> whether it holds the pull request's merge commit (each asked once)."""
    found: dict[str, bool | None] = {}
    for release in releases:
        if release is None or release.sha in found:
            continue
        if not pull.merged or not pull.merge_commit_sha:
            found[release.sha] = None
        else:
            found[release.sha] = await contains(ctx, pull.merge_commit_sha, release.sha)
    return found


async def _signers(
    ctx: Ctx, targets: Iterable[RingConfig], view: RingsView
) -> dict[str, Permission] | None:
    """The permissions of those who signed off the releases the `targets` would take.

    None when every target asks for write: a sign-off was recorded only after a write check.
    Once one target is stricter, the signers of every target's release are read, since a
    decision holding permissions counts only the sign-offs of people found in them.
    """
    targets = list(targets)
    if all(ring.promoters <= Permission.WRITE for ring in targets):
        return None
    found: dict[str, Permission] = {}
    for ring in targets:
        release = moving_release(view, ring)
        for signoff in signoffs(release, view.bot_login) if release else ():
            if signoff.user not in found:
                found[signoff.user] = await permission(ctx, signoff.user)
    return found


# --- the views ----------------------------------------------------------------------------------


def _view(ctx: Ctx, config: Config, rings: tuple[RingState, ...]) -> RingsView:
    return RingsView(config, ctx.identity.bot_login, ctx.now(), rings)


async def read_status(ctx: Ctx, config: Config) -> RingsView:
    """Every ring as it stands, for the `/status` table."""
    deployments = await recent_deployments(ctx)
    view = _view(ctx, config, await _states(ctx, config, config.rings, deployments))
    # Who is still missing in each ring: the signers' permissions and memberships.
    view = replace(view, permissions=await _signers(ctx, config.rings[1:], view))
    view = await with_checks(ctx, view, config.rings)  # 🔬 for each ring with `verify:`
    return await with_signoff_facts(ctx, view, config.rings)


async def read_for_command(
    ctx: Ctx,
    config: Config,
    number: int,
    command: RingCommand,
    written_at: datetime | None,
    actor: str | None = None,
) -> RingsView:
    """What a person's ring command is decided on, read as it was when they wrote it.

    Reads that do not depend on each other are made together (see `ok`)."""
    first = await asyncio.gather(
        merge_of(ctx, number), recent_deployments(ctx), return_exceptions=True
    )
    pull, deployments = ok(first[0]), ok(first[1])
    bot = ctx.identity.bot_login
    match command:
        case Promote(ring=name):
            target = config.ring(name)
            source = config.previous(target) if target is not None else None
            if target is None:
                return replace(_view(ctx, config, ()), pull=pull)
            if source is None:
                return await _read_first_ring(ctx, config, target, deployments, pull)
            # The ring before as it was when the command was written; the target as it is.
            states = await asyncio.gather(
                ring_state(ctx, config, source, deployments, back_to=written_at),
                ring_state(ctx, config, target, deployments),
                return_exceptions=True,
            )
            before, into = ok(states[0]), ok(states[1])
            view = replace(_view(ctx, config, (before, into)), pull=pull)
            release = current_release(before, bot)
            # What the release holds, who signed it off, and where else it went: none of these
            # reads needs another's answer.
            elsewhere = release is not None and not has_in_ring(into, release.sha, bot)
            more = await asyncio.gather(
                merged_commits(ctx, pull, [release]),
                _signers(ctx, [target], view),
                _others(ctx, config, release.sha, deployments, view.rings)
                if release is not None and elsewhere
                else _nothing(),
                return_exceptions=True,
            )
            view = replace(view, contains=ok(more[0]), permissions=ok(more[1]))
            others = ok(more[2])
            if others is not None:
                view = replace(view, others=others)
            if elsewhere:
                view = await with_checks(ctx, view, [source])  # `verify:` of the ring it leaves
            return await with_signoff_facts(ctx, view, [source])
        case Rollback(ring=name):
            rings = await _states(ctx, config, config.rings, deployments, whole=True)
            view = replace(_view(ctx, config, rings), pull=pull)
            target = config.ring(name)
            pivot = rollback_pivot(view.state(target), bot) if target is not None else None
            return replace(view, contains=await merged_commits(ctx, pull, [pivot]))
        case Approve(ring=name) | Reject(ring=name):
            rings = await _states(ctx, config, config.rings, deployments, back_to=written_at)
            view = replace(_view(ctx, config, rings), pull=pull)
            named = [s for s in rings if name is None or s.ring.name == name]
            releases = [current_release(state, bot) for state in named]
            view = replace(view, contains=await merged_commits(ctx, pull, releases))
            chosen, _ = resolve_ring(view, name, command.name)
            release = current_release(view.state(chosen), bot) if chosen is not None else None
            if release is None or chosen is None:
                return view
            if isinstance(command, Reject):
                return replace(
                    view, others=await _rejected_everywhere(ctx, config, release.sha, view)
                )
            if "author" in chosen.signoff_not:
                after = config.next(chosen)
                ahead = current_release(view.state(after), bot) if after is not None else None
                authors = await release_authors(ctx, release.sha, ahead.sha if ahead else None)
                view = replace(view, authors={release.sha: authors})
            # Who is still missing once this sign-off counts: the signers' permissions for the
            # next ring, and memberships in the ring's teams (the asker's too).
            after = config.next(chosen)
            view = replace(view, permissions=await _signers(ctx, [after] if after else [], view))
            return await with_signoff_facts(ctx, view, [chosen], actor)


async def _read_first_ring(
    ctx: Ctx,
    config: Config,
    ring: RingConfig,
    deployments: Sequence[dict[str, Any]],
    pull: PullRequest,
) -> RingsView:
    """`/promote <first ring>`: the ring; and, only while a rollback holds it (else the command
    is refused), the default branch's green head, whether it holds the pull request, and its
    deployments elsewhere (a rejection anywhere counts)."""
    state = await ring_state(ctx, config, ring, deployments)
    view = replace(_view(ctx, config, (state,)), pull=pull)
    bot = ctx.identity.bot_login
    branch = await default_branch(ctx)
    head = await head_of(ctx, branch)
    ours = any(d.sha == head and same_login(d.creator, bot) for d in state.deployments)
    # Besides a rollback's hold, an unverified green head is what a person may send in.
    unverified = () if ours else await unverified_in(ctx, state, head, branch)
    if rollback_hold(state, bot) is None and not unverified:
        return view
    if not ours and not await builds_green(ctx, head, config):
        return view
    view = replace(view, unverified=unverified)
    held = {head: await contains(ctx, pull.merge_commit_sha, head)} if pull.merge_commit_sha else {}
    others = await _others(ctx, config, head, deployments, view.rings)
    return replace(view, green_head=head, contains=held, others=others)


async def _rejected_everywhere(
    ctx: Ctx, config: Config, sha: str, view: RingsView
) -> tuple[RingState, ...]:
    """Every deployment of the release to reject that the rings' reading left out, with its
    statuses: a rejection marks all of them (those beyond the first page too, read by SHA)."""
    by_sha = await recent_deployments(ctx, sha=sha)
    return await _others(ctx, config, sha, by_sha, view.rings)


async def read_for_auto(ctx: Ctx, config: Config, branch: str) -> RingsView:
    """What the automatic rings are decided on: every ring, and the default branch's head when
    its builds passed (the first ring's candidate)."""
    first = await asyncio.gather(
        head_of(ctx, branch), recent_deployments(ctx), return_exceptions=True
    )
    head, deployments = ok(first[0]), ok(first[1])
    rings = await _states(ctx, config, config.rings, deployments)
    view = _view(ctx, config, rings)
    bot = ctx.identity.bot_login
    first = config.rings[0]
    if first.auto:
        # Reading the builds again is only needed for a commit the ring does not have from
        # ringbot itself (a deploy made around ringbot proves nothing).
        newest_first = view.state(first).deployments[:1]
        known = any(
            d.sha == head and same_login(d.creator, bot) and not d.foreign for d in newest_first
        )
        if known or await builds_green(ctx, head, config):
            view = replace(view, green_head=head)
            if not has_in_ring(view.state(first), head, bot):
                # Guardrails: what went around the merge gate waits for a person.
                found = await unverified_in(ctx, view.state(first), head, branch)
                view = replace(view, unverified=found)
    autos = [ring for ring in config.rings if ring.auto]
    view = replace(view, permissions=await _signers(ctx, autos, view))
    sources = [config.previous(ring) for ring in autos]
    view = await with_signoff_facts(ctx, view, [ring for ring in sources if ring is not None])
    # The releases about to move, wherever else they were deployed: a rejection anywhere counts.
    moving = {view.green_head} if first.auto else set()
    for ring in autos:
        release = moving_release(view, ring)
        if release is not None and not has_in_ring(view.state(ring), release.sha, bot):
            moving.add(release.sha)
    others: list[RingState] = []
    for sha in sorted(s for s in moving if s):
        others += await _others(ctx, config, sha, deployments, view.rings)
    # The `verify:` checks of each release waiting in a ring that verifies it.
    return await with_checks(ctx, replace(view, others=tuple(others)), waiting(view))


async def read_for_protection(ctx: Ctx, config: Config, ring: RingConfig, sha: str) -> RingsView:
    """What a deployment protection rule request is decided on: the ring, the one before it,
    and everywhere else the SHA was deployed."""
    deployments = await recent_deployments(ctx)
    source = config.previous(ring)
    read = [r for r in config.rings if r.name in (ring.name, source.name if source else None)]
    rings = await _states(ctx, config, read, deployments)
    view = _view(ctx, config, rings)
    view = replace(view, permissions=await _signers(ctx, [ring], view))
    view = replace(view, others=await _others(ctx, config, sha, deployments, rings))
    if source is not None:
        view = await with_signoff_facts(ctx, view, [source])
        view = await with_checks(ctx, view, [source])
    bot = ctx.identity.bot_login
    ours = any(d.sha == sha and same_login(d.creator, bot) for d in view.state(ring).deployments)
    # The first ring takes only a release: a commit on the default branch whose builds passed.
    # (Later rings take only the previous ring's current release, a release too.)
    if source is None and (ours or await is_release(ctx, config, sha)):
        view = replace(view, releases=frozenset({sha}))
        if not ours:
            # Guardrails: a deploy around ringbot must not carry what went around the gate.
            found = await unverified_in(ctx, view.state(ring), sha)
            view = replace(view, unverified=found)
    return view
