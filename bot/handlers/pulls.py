"""The merge gate: which events re-evaluate it, and the evaluation job (snapshot -> decide -> apply)."""

from __future__ import annotations

from typing import Any

from gidgethub import GitHubBroken, routing, sansio

from ..context import Ctx
from ..effects.checks import CheckOutput, newest, publish_check
from ..messages.gate import render_gate
from ..models import PullRequest
from ..policy.gate import GATE_CHECK_NAME, GateInput, builds_input, evaluate_gate
from ..snapshot.pulls import (
    builds,
    forget_statuses,
    open_pulls,
    pull_request,
    pulls_with_head,
    reviews,
)
from ..snapshot.repo_config import forget_config, load_config
from ..webhook import Triage
from ..work import CommitKey, GateKey, MergeGroupKey, RepoGatesKey
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
    _commit_changed(event, triage, str(run["head_sha"]), run.get("pull_requests") or [], branch)


@router.register("check_suite", action="completed")
async def check_suite_completed(event: sansio.Event, triage: Triage) -> None:
    """A whole suite of builds finished."""
    suite = event.data["check_suite"]
    if int((suite.get("app") or {}).get("id", 0)) == triage.identity.app_id:
        return
    pulls = suite.get("pull_requests") or []
    _commit_changed(event, triage, str(suite["head_sha"]), pulls, suite.get("head_branch"))


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
    pull = pull or await pull_request(ctx, number)
    if pull.state != "open" or pull.base_ref != pull.default_branch:
        return
    await _gate(ctx, pull.head_sha, pull, config)


async def _gate(ctx: Ctx, sha: str, pull: PullRequest | None, config: Any) -> None:
    """Gate commit `sha`: a pull request's head, or (without a pull request) a merge group's."""
    existing: dict[str, Any] | None = None
    try:
        own, checks = await builds(ctx, sha)
        existing = newest([r for r in own if r.get("name") == GATE_CHECK_NAME])
        found = await reviews(ctx, pull.number) if pull is not None else []
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
    want = CheckOutput(GATE_CHECK_NAME, decision.status, decision.conclusion, title, summary)
    await publish_check(ctx, sha, want, existing)


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
    MergeGroupKey: merge_group_job,
    RepoGatesKey: repo_gates_job,
    CommitKey: commit_job,
}
