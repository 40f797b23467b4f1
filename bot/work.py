"""Work keys: what a webhook is reduced to. A job re-reads GitHub for its key and converges.

Equal keys are the same work, so the queue runs a burst of them once. Keys carry only
what is needed to find the state again, never the state itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GateKey:
    """Evaluate the merge gate of one pull request."""

    installation: int
    repo: str
    number: int


@dataclass(frozen=True)
class MergeGroupKey:
    """Evaluate the merge gate on a merge queue's group head commit."""

    installation: int
    repo: str
    head_sha: str


@dataclass(frozen=True)
class RepoGatesKey:
    """Re-evaluate every open pull request of a repository (its config changed)."""

    installation: int
    repo: str


@dataclass(frozen=True)
class RingsKey:
    """Converge a repository's rings: auto-deploy the first ring and follow auto rings."""

    installation: int
    repo: str


@dataclass(frozen=True)
class CommandKey:
    """Run the commands of one pull-request comment (the comment is the request itself)."""

    installation: int
    repo: str
    number: int
    comment_id: int
    author: str
    body: str


@dataclass(frozen=True)
class LabelKey:
    """Act on a `promote:<ring>` label added to a pull request, on behalf of who added it."""

    installation: int
    repo: str
    number: int
    label: str
    actor: str


@dataclass(frozen=True)
class ProtectionKey:
    """Answer one deployment protection rule request."""

    installation: int
    repo: str
    environment: str
    sha: str
    run_id: int
