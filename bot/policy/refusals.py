"""A refused condition: a stable code, what is wrong and what to do. Shared by every decision."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Code(StrEnum):
    """Why something was refused; stable, so tests and logs can name it."""

    # Who asked
    PERMISSION = "permission"
    SELF_SIGNOFF = "self_signoff"
    NOT_IN_TEAM = "not_in_team"  # signoff.teams: in none of the ring's teams
    # What was named
    UNKNOWN_RING = "unknown_ring"
    UNKNOWN_FLAG = "unknown_flag"
    FIRST_RING = "first_ring"
    MANUAL = "manual"
    NO_REASON = "no_reason"
    # The pull request and its release
    NOT_MERGED = "not_merged"
    NOT_LIVE = "not_live"
    NOT_IN_PREVIOUS = "not_in_previous"
    NOT_CONTAINED = "not_contained"
    NO_CANDIDATE = "no_candidate"
    MOVED_ON = "moved_on"
    # The ring rules on the release
    REJECTED = "rejected"
    NEEDS_SIGNOFF = "needs_signoff"
    BAKING = "baking"
    FAILED = "failed"
    SKIP = "skip"
    NOTHING_TO_ROLL_BACK = "nothing_to_roll_back"
    CLOSED = "closed"  # a deny window, a freeze, or outside every allow window
    AMBIGUOUS_SHA = "ambiguous_sha"
    NEVER_LIVE = "never_live"
    ROLLED_BACK = "rolled_back"  # a rollback holds the ring until a person promotes
    VERIFY_PENDING = "verify_pending"  # a `verify:` check of the ring before is not green yet
    VERIFY_WATCH = "verify_watch"  # its checks are green; the `watch` has not ended yet
    VERIFY_FAILED = "verify_failed"  # one of its checks failed
    HOTFIX_OFF = "hotfix_off"  # no `hotfix:` in the config
    HOTFIX_LABEL = "hotfix_label"  # the pull request lacks `hotfix.label`
    HOTFIX_APPROVALS = "hotfix_approvals"  # too few approvals from `hotfix.promoters`
    GATE_NOT_GREEN = "gate_not_green"  # the merge gate was not green at merge
    UNVERIFIED = "unverified"  # the release holds a commit that went around the merge gate


@dataclass(frozen=True)
class Refusal:
    """One failed condition: a stable code, what is wrong, and what to do about it."""

    code: Code
    message: str
    hint: str = ""
