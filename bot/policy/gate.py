"""The merge gate: decide from a frozen snapshot whether a pull request may merge, and why."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from bot.config import CONFIG_PATH, Config, ConfigErrors
from bot.models import Check, Mark, Permission, PullRequest, Review

GATE_CHECK_NAME = "ringbot/merge-gate"

# How many names a detail or title spells out before it says "and N more".
_NAMES_SHOWN = 10

# Any other conclusion of a completed check fails, unknown values included: the gate fails closed.
_PASSING_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
# Review states that replace a reviewer's earlier verdict; COMMENTED does not (GitHub's rule).
_VERDICTS = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
# The order in which marks are worse; a tie between two checks is broken towards the worse one.
_SEVERITY = {Mark.PASS: 0, Mark.PENDING: 1, Mark.FAIL: 2}


@dataclass(frozen=True)
class GateInput:
    """Everything the gate looks at, read fresh from GitHub."""

    pull: PullRequest | None  # None: a commit alone (a merge-group head, a release candidate)
    # Every check run (all pages, all runs, older reruns too) and every commit status on the head, raw.
    checks: tuple[Check, ...]
    # Every review on the pull request, raw, each with its author's permission.
    reviews: tuple[Review, ...]
    config: Config | ConfigErrors
    # A merge-queue group head: approvals, draft and labels were enforced before queueing.
    merge_group: bool = False


def builds_input(checks: Sequence[Check], config: Config | ConfigErrors) -> GateInput:
    """The gate's input for a commit that is no pull request: only its builds are judged."""
    return GateInput(None, tuple(checks), (), config, merge_group=True)


@dataclass(frozen=True)
class Requirement:
    """One condition of the gate, with its state and the reason for it."""

    key: str  # "draft" | "labels" | "checks" | "approvals" | "changes_requested" | "config"
    title: str  # "Builds", "Approvals", ...
    mark: Mark
    detail: str  # "needs 1 more approval from someone with write access"
    links: tuple[tuple[str, str], ...] = ()  # (name, url), e.g. failing checks
    action: str = ""  # what to do next, when the requirement is not met
    errors: tuple[str, ...] = ()  # the exact configuration errors, for key "config"
    error_count: int = 0  # how many there are, listed or not (a huge file lists the first 100)


@dataclass(frozen=True)
class GateDecision:
    """The merge gate's verdict, ready to be published as the ringbot/merge-gate check run."""

    status: str  # "in_progress" | "completed"
    conclusion: str | None  # None while in progress; "success" | "failure"
    title: str  # one line, e.g. "Ready to merge"
    requirements: tuple[Requirement, ...]

    def milestone(self) -> str:
        """What is worth rewriting the check run for: the verdict, whether each requirement is
        met, and what failed. Progress within a requirement (one more build finished, a first
        of two approvals) is not: each rewrite is a write against GitHub's limits, and the
        summary already names what is missing."""
        parts = [self.status, self.conclusion or ""]
        for requirement in self.requirements:
            parts.append(f"{requirement.key}:{requirement.mark.value}")
            if requirement.mark is Mark.FAIL:
                parts.append(requirement.detail)  # a new failure is news
                parts.extend(requirement.errors)  # and so is each config error, same count or not
        return "\n".join(parts)


@dataclass(frozen=True)
class _Rule:
    """A requirement together with the short phrase the decision title is built from."""

    requirement: Requirement
    # FAIL: the whole title, "Changes requested by @alice"; PENDING: what follows "Waiting for".
    headline: str = ""


def evaluate_gate(gate: GateInput) -> GateDecision:
    """Decide the merge gate for one pull request (or merge-group head) from a snapshot."""
    config = gate.config
    if isinstance(config, ConfigErrors):
        # An invalid file is never guessed around: nothing else is evaluated, so nothing passes.
        return _decide([_config_rule(config)])
    settings = config.merge_gate
    rules = [_checks_rule(gate.checks, settings.required_checks)]
    if gate.pull is not None and not gate.merge_group:
        latest = _latest_reviews(gate.reviews, gate.pull.author)
        rules = [
            _draft_rule(gate.pull),
            _labels_rule(gate.pull, settings.blocking_labels),
            *rules,
            _approvals_rule(
                latest, gate.pull, settings.approvals, settings.dismiss_stale_approvals
            ),
            _changes_requested_rule(latest),
        ]
    return _decide(rules)


def _decide(rules: Sequence[_Rule]) -> GateDecision:
    """Fold the rules into a status, a conclusion and a one-line title."""
    failing = [r for r in rules if r.requirement.mark is Mark.FAIL]
    pending = [r for r in rules if r.requirement.mark is Mark.PENDING]
    requirements = tuple(r.requirement for r in rules)
    if failing:
        title = failing[0].headline
        if len(failing) > 1:
            title += f" (+{len(failing) - 1} more)"
        return GateDecision("completed", "failure", title, requirements)
    if pending:
        title = "Waiting for " + _join([r.headline for r in pending])
        return GateDecision("in_progress", None, title, requirements)
    return GateDecision("completed", "success", "Ready to merge", requirements)


# --- configuration ---------------------------------------------------------------------------


def _config_rule(config: ConfigErrors) -> _Rule:
    """An invalid configuration fails the gate and lists every error."""
    errors = tuple(str(error) for error in config.errors)
    count = _plural(config.count, "error")
    return _Rule(
        Requirement(
            key="config",
            title="Configuration",
            mark=Mark.FAIL,
            detail=f"`{CONFIG_PATH}` is invalid ({count}); ringbot will not act until it is fixed",
            action=f"fix `{CONFIG_PATH}` on the default branch",
            errors=errors,
            error_count=config.count,
        ),
        headline=f"Invalid {CONFIG_PATH} ({count})",
    )


# --- draft and labels ------------------------------------------------------------------------


def _draft_rule(pull: PullRequest) -> _Rule:
    """A draft pull request is not ready to merge."""
    if not pull.draft:
        return _Rule(Requirement("draft", "Draft", Mark.PASS, "ready for review"))
    return _Rule(
        Requirement(
            "draft",
            "Draft",
            Mark.FAIL,
            "this pull request is a draft: mark it ready for review",
            action="mark the pull request ready for review",
        ),
        headline="Draft pull request",
    )


def _labels_rule(pull: PullRequest, blocking: Sequence[str]) -> _Rule:
    """A blocking label (matched case-insensitively) holds the pull request back."""
    order = {label.lower(): i for i, label in reversed(list(enumerate(blocking)))}
    found = sorted(
        (label for label in pull.labels if label.lower() in order),
        key=lambda label: (order[label.lower()], label),
    )
    if not found:
        return _Rule(Requirement("labels", "Labels", Mark.PASS, "no blocking labels"))
    noun = "label" if len(found) == 1 else "labels"
    names = _join([f"`{label}`" for label in found])
    return _Rule(
        Requirement(
            "labels",
            "Labels",
            Mark.FAIL,
            f"remove the {noun} {names}",
            action=f"remove the {noun} {names}",
        ),
        headline=f"Blocked by the {noun} {_join(found)}",
    )


# --- checks ----------------------------------------------------------------------------------


def _is_own(check: Check) -> bool:
    """ringbot's own check runs never gate a merge; counting them would wait on ourselves."""
    return check.app_slug == "ringbot" or check.name.startswith("ringbot/")


def _check_mark(check: Check) -> Mark:
    """Whether one check (run or status) has passed, is still running, or failed."""
    if check.status.lower() != "completed":
        return Mark.PENDING  # queued, in_progress, waiting, requested, pending
    conclusion = (check.conclusion or "").lower()
    if conclusion in _PASSING_CONCLUSIONS:
        return Mark.PASS
    if conclusion in ("", "pending"):
        return Mark.PENDING
    return Mark.FAIL


def _newest(checks: Sequence[Check]) -> dict[str, Check]:
    """The newest check per name and source.

    Check runs: the highest `started_at`, then the highest id. Statuses: the highest id, then the
    latest `started_at`, then the first listed (GitHub lists statuses newest first). A complete tie
    goes to the worse result, so the gate fails closed.
    """
    best: dict[tuple[str, str], tuple[tuple[float, ...], Check]] = {}
    for index, check in enumerate(checks):
        started = check.started_at.timestamp() if check.started_at else float("-inf")
        severity = float(_SEVERITY[_check_mark(check)])
        if check.source == "status":
            key: tuple[float, ...] = (check.id, started, -index, severity)
        else:
            key = (started, check.id, severity)
        slot = (check.name, check.source)
        if slot not in best or key > best[slot][0]:
            best[slot] = (key, check)
    newest: dict[str, Check] = {}
    # A check run and a status with the same name are one requirement; the worse of them counts.
    for (name, _source), (_key, check) in sorted(best.items()):
        held = newest.get(name)
        if held is None or _SEVERITY[_check_mark(check)] > _SEVERITY[_check_mark(held)]:
            newest[name] = check
    return newest


def _checks_rule(checks: Sequence[Check], required_checks: Sequence[str]) -> _Rule:
    """Builds: the newest run of every required check must have passed."""
    newest = _newest([c for c in checks if not _is_own(c)])
    required = sorted({name for name in required_checks if not name.startswith("ringbot/")})
    if not required:
        # No list (or only ringbot's own names): every other check on the head commit is required.
        required = sorted(newest)
    if not required:
        return _Rule(
            Requirement(
                "checks",
                "Builds",
                Mark.PENDING,
                "no builds have reported yet",
                action="wait for CI to report on the head commit; if none runs, set up CI "
                f"or list `required_checks` in `{CONFIG_PATH}`",
            ),
            headline="builds to report",
        )

    missing = [name for name in required if name not in newest]
    present = [newest[name] for name in required if name in newest]
    failed = [c for c in present if _check_mark(c) is Mark.FAIL]
    running = [c.name for c in present if _check_mark(c) is Mark.PENDING]
    passed = [c.name for c in present if _check_mark(c) is Mark.PASS]

    parts: list[str] = []
    if failed:
        verdicts = [f"`{c.name}` ({_conclusion(c)})" for c in failed]
        if len(failed) == 1:
            parts.append(f"`{failed[0].name}` failed ({_conclusion(failed[0])})")
        else:
            parts.append(f"{len(failed)} checks failed: {_names(verdicts)}")
    if running:
        parts.append(f"waiting for {_names([f'`{n}`' for n in running])} to finish")
    if missing:
        parts.append(f"waiting for {_names([f'`{n}`' for n in missing])} to start")

    if failed:
        links = tuple((c.name, c.url) for c in failed)
        action = "fix the failing " + ("check" if len(failed) == 1 else "checks")
        action += " and push, or re-run " + ("it" if len(failed) == 1 else "them")
        headline = (
            f"{failed[0].name} failed" if len(failed) == 1 else f"{len(failed)} checks failed"
        )
        return _Rule(
            Requirement("checks", "Builds", Mark.FAIL, "; ".join(parts), links, action), headline
        )
    if running or missing:
        waiting = running + missing
        action = "wait for the checks to finish"
        if missing:
            never = "it never does" if len(missing) == 1 else "they never do"
            action = (
                f"wait for {_names([f'`{n}`' for n in missing])} to start; if {never}, check "
                f"that the workflow runs on this pull request or fix `required_checks` in "
                f"`{CONFIG_PATH}`"
            )
        headline = waiting[0] if len(waiting) == 1 else _plural(len(waiting), "check")
        return _Rule(
            Requirement("checks", "Builds", Mark.PENDING, "; ".join(parts), action=action),
            headline,
        )
    detail = f"{_names([f'`{n}`' for n in passed])} passed"
    if len(passed) > 1:
        detail = f"all {len(passed)} checks passed: {_names([f'`{n}`' for n in passed])}"
    return _Rule(Requirement("checks", "Builds", Mark.PASS, detail))


# --- which CI events can change the gate --------------------------------------------------------


@dataclass(frozen=True)
class BuildsSeen:
    """What the gate last read of a pull request's builds: enough to tell, without reading them
    again, whether news of one check can change whether the builds requirement is met."""

    sha: str  # the head commit they were read on
    mark: Mark  # the builds requirement then
    waiting: frozenset[str]  # required checks that had not passed
    required: frozenset[str] | None  # the configured `required_checks`; None: every check counts


def ci_mark(status: str, conclusion: str | None) -> Mark:
    """A check run's (or suite's) state as the gate counts it."""
    return _check_mark(Check("", "check_run", status, conclusion))


def builds_seen(gate: GateInput, sha: str) -> BuildsSeen | None:
    """What this evaluation saw of the builds on `sha` (None for an invalid config)."""
    config = gate.config
    if isinstance(config, ConfigErrors):
        return None
    newest = _newest([c for c in gate.checks if not _is_own(c)])
    listed = frozenset(n for n in config.merge_gate.required_checks if not n.startswith("ringbot/"))
    required = sorted(listed) if listed else sorted(newest)
    waiting = frozenset(
        n for n in required if n not in newest or _check_mark(newest[n]) is not Mark.PASS
    )
    mark = _checks_rule(gate.checks, config.merge_gate.required_checks).requirement.mark
    return BuildsSeen(sha, mark, waiting, listed or None)


def ci_event_matters(
    seen: BuildsSeen | None, sha: str, check: str | None, outcome: Mark
) -> tuple[bool, BuildsSeen | None]:
    """Whether news of check `check` (None: a whole suite) on `sha` needs the gate read again,
    and what is known of the builds after it.

    Only news that cannot move the builds requirement is let pass unread: a check starting or
    passing while others it waits on are still running. A failure, the last awaited check
    passing, a check starting after all had passed, a suite finishing while any were awaited,
    and anything about a head not seen are all read. So skipping can only leave the gate
    waiting a little longer, never open it.
    """
    if seen is None or seen.sha != sha or seen.mark is Mark.FAIL:
        return True, seen
    if check is None:
        return not (seen.mark is Mark.PASS and outcome is Mark.PASS), seen
    if seen.required is not None and check not in seen.required:
        return False, seen  # not a required check: it never gates
    if outcome is Mark.FAIL:
        return True, seen
    if outcome is Mark.PENDING:
        if seen.mark is Mark.PASS:
            return True, seen
        return False, replace(seen, waiting=seen.waiting | {check})
    if seen.mark is Mark.PASS:
        return False, seen
    left = seen.waiting - {check}
    return not left, replace(seen, waiting=left)


# --- reviews ---------------------------------------------------------------------------------


def _latest_reviews(reviews: Iterable[Review], author: str) -> list[Review]:
    """Each reviewer's latest review that states a verdict, sorted by login.

    COMMENTED reviews do not replace an earlier verdict (GitHub's own rule). The author's own
    reviews never count.
    """
    latest: dict[str, Review] = {}
    for review in reviews:
        login = review.user.lower()
        if login == author.lower() or review.state.upper() not in _VERDICTS:
            continue
        held = latest.get(login)
        if held is None or (review.submitted_at, review.id) > (held.submitted_at, held.id):
            latest[login] = review
    return [latest[login] for login in sorted(latest)]


def _approvals_rule(
    latest: Sequence[Review], pull: PullRequest, needed: int, dismiss_stale: bool
) -> _Rule:
    """Approvals: enough reviewers with write access whose latest review approves."""
    approvals = [r for r in latest if r.state.upper() == "APPROVED"]
    readonly = [r for r in approvals if r.permission < Permission.WRITE]
    writers = [r for r in approvals if r.permission >= Permission.WRITE]
    stale = [r for r in writers if dismiss_stale and r.commit_id != pull.head_sha]
    counted = [r for r in writers if r not in stale]

    notes: list[str] = []
    if counted:
        notes.append("approved by " + _names([f"@{r.user}" for r in counted]))
    if stale:
        verb = "is" if len(stale) == 1 else "are"
        who = _names([f"@{r.user}" for r in stale])
        notes.append(f"{_plural(len(stale), 'approval')} {verb} for an older commit ({who})")
    for review in readonly:
        notes.append(
            f"@{review.user} has {review.permission.label} access, so their approval does not count"
        )

    if len(counted) >= needed:
        detail = "; ".join(notes) if counted else "; ".join(["no approvals required", *notes])
        return _Rule(Requirement("approvals", "Approvals", Mark.PASS, detail))

    more = needed - len(counted)
    whom = "someone" if more == 1 else "people"
    head = f"needs {more} more {'approval' if more == 1 else 'approvals'} from {whom} with write access"
    action = "ask a reviewer with write access to approve"
    if stale:
        action = "ask " + _names([f"@{r.user}" for r in stale]) + " to approve the latest commit"
        action += ", or another reviewer with write access to approve"
    return _Rule(
        Requirement(
            "approvals", "Approvals", Mark.PENDING, "; ".join([head, *notes]), action=action
        ),
        headline=f"{more} more {'approval' if more == 1 else 'approvals'}",
    )


def _changes_requested_rule(latest: Sequence[Review]) -> _Rule:
    """Changes requested: no reviewer with write access may have an outstanding request."""
    requests = [r for r in latest if r.state.upper() == "CHANGES_REQUESTED"]
    blocking = [r for r in requests if r.permission >= Permission.WRITE]
    ignored = [r for r in requests if r.permission < Permission.WRITE]
    notes = [
        f"@{r.user} has {r.permission.label} access, so their request does not block"
        for r in ignored
    ]
    if not blocking:
        detail = "; ".join(["no outstanding change requests", *notes])
        return _Rule(Requirement("changes_requested", "Changes requested", Mark.PASS, detail))
    who = _names([f"@{r.user}" for r in blocking])
    them = "them" if len(blocking) > 1 else f"@{blocking[0].user}"
    return _Rule(
        Requirement(
            "changes_requested",
            "Changes requested",
            Mark.FAIL,
            "; ".join([f"changes requested by {who}", *notes]),
            action=f"address the review and ask {them} to re-review, or have the review dismissed",
        ),
        headline=f"Changes requested by {who}",
    )


# --- wording ---------------------------------------------------------------------------------


def _conclusion(check: Check) -> str:
    """A check's conclusion in words: `timed out`, `failure`, `error`."""
    return (check.conclusion or "unknown").lower().replace("_", " ")


def _plural(count: int, noun: str) -> str:
    """`1 check`, `2 checks`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _join(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _names(items: Sequence[str]) -> str:
    """Join names, spelling out at most a few so that a detail stays one readable line."""
    if len(items) <= _NAMES_SHOWN:
        return _join(items)
    shown = list(items[: _NAMES_SHOWN - 1])
    return _join([*shown, f"{len(items) - len(shown)} more"])
