"""The merge gate: which events re-evaluate it, and the evaluation job (snapshot -> decide -> apply)."""

from __future__ import annotations

import asyncio
from typing import Any

from gidgethub import GitHubBroken, routing, sansio

from ..config import Config
from ..context import Ctx
from ..effects.checks import CheckOutput, newest, publish_check
from ..logs import log
from ..messages.gate import render_gate
from ..messages.guardrails import render_protection
from ..models import Mark, PullRequest, Review
from ..policy.gate import (
    GATE_CHECK_NAME,
    BuildsSeen,
    GateInput,
    builds_input,
    builds_seen,
    ci_event_matters,
    ci_mark,
    evaluate_gate,
)
from ..snapshot.guardrails import read_protection
from ..snapshot.pulls import (
    builds,
    forget_statuses,
    ok,
    open_pulls,
    pull_request,
    pulls_with_head,
    reviews,
)
from ..snapshot.repo_config import forget_config, load_config
from ..webhook import Triage
from ..work import BuildsKey, CommitKey, GateKey, MergeGroupKey, RepoGatesKey
from . import events

router = routing.Router()
# GitHub's merge queue builds each group on a branch named like this.
MERGE_QUEUE_PREFIX = "gh-readonly-queue/"


def _from_us(event: sansio.Event, triage: Triage) -> bool:
    sender = event.data.get("sender") or {}
    return str(sender.get("login", "")).lower() == triage.identity.bot_login.lower()


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
@router.register("pull_request", action="converted_to_draft")
@router.register("pull_request", action="labeled")
@router.register("pull_request", action="unlabeled")
@router.register("pull_request", action="edited")
async def pull_request_changed(event: sansio.Event, triage: Triage) -> None:
    """A pull request changed in a way the gate reads."""
    action = event.data["action"]
    if action in ("labeled", "unlabeled") and _from_us(event, triage):
        return  # our own ring labels are not gate inputs
    if action == "edited" and "base" not in (event.data.get("changes") or {}):
        return  # a new title or body changes nothing the gate reads
    pull = event.data["pull_request"]
    triage.enqueue(GateKey(events.installation(event), events.repo(event), int(pull["number"])))


@router.register("pull_request_review", action="submitted")
@router.register("pull_request_review", action="edited")
@router.register("pull_request_review", action="dismissed")
async def review_changed(event: sansio.Event, triage: Triage) -> None:
    """Approvals and requested changes feed the gate."""
    review = event.data.get("review") or {}
    if event.data["action"] == "submitted" and str(review.get("state", "")).lower() == "commented":
        return  # a comment-only review never changes the gate
    number = int(event.data["pull_request"]["number"])
    triage.enqueue(GateKey(events.installation(event), events.repo(event), number))


@router.register("check_run", action="created")
@router.register("check_run", action="completed")
@router.register("check_run", action="rerequested")
async def check_run_changed(event: sansio.Event, triage: Triage) -> None:
    """A build finished, or someone asked to re-run our gate."""
    run = event.data["check_run"]
    ours = int((run.get("app") or {}).get("id", 0)) == triage.identity.app_id
    if ours and event.data["action"] in ("created", "completed"):
        return  # our own check appearing or completing: re-evaluating would loop
    if ours and run.get("name") != GATE_CHECK_NAME:
        return
    branch = (run.get("check_suite") or {}).get("head_branch")
    if ours or event.data["action"] == "rerequested":
        # Someone asked to re-run the gate: always read and publish it again.
        _commit_changed(event, triage, str(run["head_sha"]), run.get("pull_requests") or [], branch)
        return
    outcome = ci_mark(str(run.get("status") or ""), run.get("conclusion"))
    _builds_changed(event, triage, run, str(run.get("name") or ""), outcome, branch)


@router.register("check_suite", action="completed")
async def check_suite_completed(event: sansio.Event, triage: Triage) -> None:
    """A whole suite of builds finished."""
    suite = event.data["check_suite"]
    if int((suite.get("app") or {}).get("id", 0)) == triage.identity.app_id:
        return
    outcome = ci_mark(str(suite.get("status") or ""), suite.get("conclusion"))
    _builds_changed(event, triage, suite, "", outcome, suite.get("head_branch"))


def _builds_changed(
    event: sansio.Event,
    triage: Triage,
    item: dict[str, Any],
    check: str,
    outcome: Mark,
    branch: str | None,
) -> None:
    """A check run or suite changed: each pull request it names is re-gated if that can matter."""
    sha, pulls = str(item["head_sha"]), item.get("pull_requests") or []
    if not pulls or (branch and branch.startswith(MERGE_QUEUE_PREFIX)):
        _commit_changed(event, triage, sha, pulls, branch)
        return
    installation, repo = events.installation(event), events.repo(event)
    for pull in pulls:
        number = int(pull["number"])
        triage.enqueue(BuildsKey(installation, repo, number, sha, check, outcome.value))


@router.register("status")
async def status_changed(event: sansio.Event, triage: Triage) -> None:
    """A commit status (another CI) changed."""
    branches = [str(b.get("name", "")) for b in event.data.get("branches") or []]
    branch = next((b for b in branches if b.startswith(MERGE_QUEUE_PREFIX)), None)
    _commit_changed(event, triage, str(event.data["sha"]), [], branch, statuses=True)


def _commit_changed(
    event: sansio.Event,
    triage: Triage,
    sha: str,
    pulls: list[dict[str, Any]],
    branch: str | None,
    *,
    statuses: bool = False,
) -> None:
    installation, repo = events.installation(event), events.repo(event)
    if branch and branch.startswith(MERGE_QUEUE_PREFIX):
        triage.enqueue(MergeGroupKey(installation, repo, sha))
        return
    if statuses or not pulls:
        # Statuses name no pull request, and check payloads leave out fork pull requests:
        # the commit job finds them from the SHA.
        triage.enqueue(CommitKey(installation, repo, sha, statuses))
    for pull in pulls:
        triage.enqueue(GateKey(installation, repo, int(pull["number"])))


@router.register("merge_group", action="checks_requested")
async def merge_group_requested(event: sansio.Event, triage: Triage) -> None:
    """The merge queue built a group: gate its head commit."""
    head = str(event.data["merge_group"]["head_sha"])
    triage.enqueue(MergeGroupKey(events.installation(event), events.repo(event), head))


@router.register("push")
async def pushed(event: sansio.Event, triage: Triage) -> None:
    """A change to `.github/ringbot.yml` on the default branch re-evaluates every open PR."""
    if events.config_changed(event):
        triage.enqueue(RepoGatesKey(events.installation(event), events.repo(event)))


async def evaluate(ctx: Ctx, number: int, pull: PullRequest | None = None) -> None:
    """Read the pull request's state, decide the gate, publish it if it changed."""
    config = await load_config(ctx)
    where = (ctx.installation, ctx.repo, number)
    # Whatever this evaluation sees replaces what the last one saw; should it fail first, news
    # of a check must read everything again rather than trust the older copies.
    ctx.caches.builds_seen.pop(where, None)
    if pull is None:
        ctx.caches.pulls.pop(where, None)
        pull = await pull_request(ctx, number)
        if ctx.caches.sole:
            ctx.caches.pulls[where] = pull
    if pull.state != "open" or pull.base_ref != pull.default_branch:
        return
    await _gate(ctx, pull.head_sha, pull, config)


async def _gate(ctx: Ctx, sha: str, pull: PullRequest | None, config: Any) -> None:
    """Gate commit `sha`: a pull request's head, or (without a pull request) a merge group's."""
    existing: dict[str, Any] | None = None
    try:
        # The builds and the reviews are read together, each awaited to its end: the gate's
        # own run (from the builds) is known even when the reviews failed.
        both = await asyncio.gather(builds(ctx, sha), _reviews(ctx, pull), return_exceptions=True)
        own, checks = ok(both[0])
        existing = newest([r for r in own if r.get("name") == GATE_CHECK_NAME])
        found = ok(both[1])
    except GitHubBroken as exc:
        # Fail closed: an earlier green must not stand while we cannot see the current state.
        await publish_check(ctx, sha, unreadable(exc), existing)
        raise
    gate = (
        GateInput(pull, tuple(checks), tuple(found), config)
        if pull is not None
        else builds_input(checks, config)
    )
    decision = evaluate_gate(gate)
    title, summary = render_gate(decision)
    if isinstance(config, Config):
        # What would let a merge or a deploy go around ringbot, with the fix (cached an hour).
        guard = render_protection(await read_protection(ctx, config))
        summary = f"{summary}\n\n{guard}" if guard else summary
    want = CheckOutput(
        GATE_CHECK_NAME,
        decision.status,
        decision.conclusion,
        title,
        summary,
        milestone=decision.milestone(),
    )
    await publish_check(ctx, sha, want, existing)
    if pull is not None:
        # Only once GitHub shows this decision: a memo of builds whose verdict failed to publish
        # would let the retry skip the very news it is about.
        _remember_builds(ctx, pull.number, builds_seen(gate, sha))


def _remember_builds(ctx: Ctx, number: int, seen: BuildsSeen | None) -> None:
    where = (ctx.installation, ctx.repo, number)
    if seen is None or not ctx.caches.sole:
        ctx.caches.builds_seen.pop(where, None)
    else:
        ctx.caches.builds_seen[where] = seen


async def _reviews(ctx: Ctx, pull: PullRequest | None) -> list[Review]:
    """The pull request's reviews; a merge group has none."""
    return await reviews(ctx, pull.number) if pull is not None else []


def unreadable(exc: GitHubBroken) -> CheckOutput:
    """The gate while GitHub's state cannot be read: waiting, never passed."""
    return CheckOutput(
        GATE_CHECK_NAME,
        "in_progress",
        None,
        "Waiting: could not read the pull request's state",
        f"GitHub answered {int(exc.status_code)} while ringbot read the builds and reviews. "
        "The gate stays closed; ringbot tries again in a moment. "
        "What to do next: nothing, or re-run this check.",
    )


async def gate_job(ctx: Ctx, key: GateKey) -> None:
    """Evaluate one pull request's gate."""
    await evaluate(ctx, key.number)


async def builds_job(ctx: Ctx, key: BuildsKey) -> None:
    """Re-gate a pull request after news of one of its checks, unless that cannot matter."""
    where = (ctx.installation, ctx.repo, key.number)
    seen = ctx.caches.builds_seen.get(where)
    matters, after = ci_event_matters(seen, key.sha, key.check or None, Mark(key.outcome))
    if not matters:
        if after is not None:
            ctx.caches.builds_seen[where] = after
        log(10, "gate not re-read", repo=ctx.repo, pull=key.number, check=key.check)
        return
    # A check changes the builds, not the pull request: its own events re-read that, so the
    # copy the last evaluation read serves while it still has this head.
    known = ctx.caches.pulls.get(where)
    await evaluate(ctx, key.number, known if known and known.head_sha == key.sha else None)


async def merge_group_job(ctx: Ctx, key: MergeGroupKey) -> None:
    """Gate a merge group's head: its builds and the config."""
    config = await load_config(ctx)
    await _gate(ctx, key.head_sha, None, config)


async def repo_gates_job(ctx: Ctx, key: RepoGatesKey) -> None:
    """The config changed: forget it and re-evaluate every open pull request."""
    forget_config(ctx)
    async for pull in open_pulls(ctx):
        await evaluate(ctx, pull.number, pull if pull.base_ref == pull.default_branch else None)


async def commit_job(ctx: Ctx, key: CommitKey) -> None:
    """Builds changed on a commit: re-gate the open pull requests whose head it is."""
    if key.statuses:
        forget_statuses(ctx, key.sha)
    async for pull in pulls_with_head(ctx, key.sha):
        # The list's item is as fresh as a read of the pull request itself.
        await evaluate(ctx, pull.number, pull)


JOBS = {
    GateKey: gate_job,
    BuildsKey: builds_job,
    MergeGroupKey: merge_group_job,
    RepoGatesKey: repo_gates_job,
    CommitKey: commit_job,
}
