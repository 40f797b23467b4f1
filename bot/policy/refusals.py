"""A refused condition: a stable code, what is wrong and what to do. Shared by every decision."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Code(StrEnum):
    """Why something was refused; stable, so tests and logs can name it."""

    # Who asked
    PERMISSION = "permission"
    SELF_SIGNOFF = "self_signoff"
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


@dataclass(frozen=True)
class Refusal:
    """One failed condition: a stable code, what is wrong, and what to do about it."""

    code: Code
    message: str
    hint: str = ""
