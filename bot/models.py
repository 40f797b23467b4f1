"""Frozen domain models shared by snapshots, policy and messages."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Permission(enum.IntEnum):
    """A repository permission, ordered so that a higher value grants more."""

    NONE = 0
    READ = 1
    TRIAGE = 2
    WRITE = 3
    MAINTAIN = 4
    ADMIN = 5

    @classmethod
    def parse(cls, text: str | None) -> Permission:
        """Map GitHub's permission names (`pull` and `push` too) to a Permission; unknown is NONE."""
        aliases = {"pull": "read", "push": "write"}
        name = (text or "none").lower()
        name = aliases.get(name, name)
        try:
            return cls[name.upper()]
        except KeyError:
            return cls.NONE

    @property
    def label(self) -> str:
        """The lower-case name GitHub uses ("write", "maintain", ...)."""
        return self.name.lower()


class Mark(enum.Enum):
    """The state of one requirement: passed, still waiting, or failed."""

    PASS = "pass"
    PENDING = "pending"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One check run or commit status on a commit, as read from GitHub."""

    name: str
    source: str  # "check_run" or "status"
    status: str  # check run: queued | in_progress | completed; status: pending | completed
    conclusion: str | None  # success | failure | neutral | skipped | cancelled | timed_out | ...
    url: str = ""
    app_slug: str = ""  # the App that owns a check run; "" for commit statuses
    started_at: datetime | None = None
    id: int = 0


@dataclass(frozen=True)
class Review:
    """One submitted pull-request review, with its author's permission read from GitHub."""

    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    commit_id: str
    submitted_at: datetime
    permission: Permission = Permission.NONE
    id: int = 0


@dataclass(frozen=True)
class PullRequest:
    """The parts of a pull request the bot reasons about."""

    repo: str  # "owner/name"
    number: int
    author: str
    head_sha: str
    base_ref: str
    default_branch: str
    state: str = "open"  # open | closed
    draft: bool = False
    merged: bool = False
    merge_commit_sha: str | None = None
    labels: frozenset[str] = field(default_factory=frozenset)
    title: str = ""
    html_url: str = ""
