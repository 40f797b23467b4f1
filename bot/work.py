"""Work keys: what a webhook is reduced to. A job re-reads GitHub for its key and converges.

Equal keys are the same work, so the queue runs a burst of them once; keys marked DEBOUNCE
wait a moment in the queue first, so that a burst arriving over a few hundred milliseconds
is still one job. Keys carry only
what is needed to find the state again, never the state itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class GateKey:
    """Evaluate the merge gate of one pull request."""

    DEBOUNCE: ClassVar[bool] = True  # bursts of events about it land in one job

    installation: int
    repo: str
    number: int


@dataclass(frozen=True)
class BuildsKey:
    """A check on a pull request's commit started or finished: re-gate it if that can matter.

    Unlike the other keys this carries what the event said (which check, how it stands), but
    only to decide whether reading the builds again can change anything; the gate itself is
    always decided from a fresh read."""

    DEBOUNCE: ClassVar[bool] = True  # bursts of events about it land in one job

    installation: int
    repo: str
    number: int
    sha: str
    check: str  # the check run's name; "" for a whole suite
    outcome: str  # the gate's Mark value for it: pass | pending | fail


@dataclass(frozen=True)
class MergeGroupKey:
    """Evaluate the merge gate on a merge queue's group head commit."""

    DEBOUNCE: ClassVar[bool] = True  # bursts of events about it land in one job

    installation: int
    repo: str
    head_sha: str


@dataclass(frozen=True)
class CommitKey:
    """Builds changed on a commit: re-gate the pull requests whose head it is."""

    DEBOUNCE: ClassVar[bool] = True  # bursts of events about it land in one job

    installation: int
    repo: str
    sha: str
    statuses: bool = False  # a commit status changed (the repository uses them)


@dataclass(frozen=True)
class RepoGatesKey:
    """Re-evaluate every open pull request of a repository (its config changed)."""

    DEBOUNCE: ClassVar[bool] = True  # bursts of events about it land in one job

    installation: int
    repo: str


@dataclass(frozen=True)
class RingsKey:
    """Converge a repository's rings: auto-deploy the first ring and follow auto rings."""

    DEBOUNCE: ClassVar[bool] = True  # bursts of events about it land in one job

    installation: int
    repo: str
    default_branch: str


@dataclass(frozen=True)
class CommandKey:
    """Run the commands of one pull-request comment (the comment is the request itself)."""

    installation: int
    repo: str
    number: int
    comment_id: int
    author: str
    body: str
    written_at: str = ""  # the comment's created_at: commands act on the releases current then


@dataclass(frozen=True)
class LabelKey:
    """Act on a `promote:<ring>` label added to a pull request, on behalf of who added it."""

    installation: int
    repo: str
    number: int
    label: str
    actor: str
    written_at: str = ""  # when the label was added (the pull request's updated_at)


@dataclass(frozen=True)
class ProtectionKey:
    """Answer one deployment protection rule request."""

    installation: int
    repo: str
    environment: str
    sha: str
    run_id: int


@dataclass(frozen=True)
class FeaturesKey:
    """Sync every ring's feature toggles (the config changed)."""

    DEBOUNCE: ClassVar[bool] = True  # bursts of events about it land in one job

    installation: int
    repo: str


@dataclass(frozen=True)
class ReleaseKey:
    """Show where one release is: its pull requests' status comments and labels, its check run,
    and its GitHub Release once it reaches a `release: true` ring."""

    DEBOUNCE: ClassVar[bool] = True  # a CD posts several statuses in a row: one job for the burst

    installation: int
    repo: str
    default_branch: str
    sha: str
