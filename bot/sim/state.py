"""The simulated GitHub world as plain mutable dataclasses (no I/O, no JSON)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSON = dict[str, Any]

# Legacy `permission` values GitHub reports for each role (triage reads as read, maintain as write).
ROLE_PERMISSION = {
    "none": "none",
    "read": "read",
    "triage": "read",
    "write": "write",
    "maintain": "write",
    "admin": "admin",
}
ROLE_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}


def blob_sha(content: str) -> str:
    """Git's blob object id for a file's content."""
    data = content.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class User:
    """A GitHub account; bots have type "Bot" and a login ending in "[bot]"."""

    login: str
    id: int
    type: str = "User"


@dataclass
class App:
    """A GitHub App (ringbot itself, or a CI app that owns other check runs)."""

    id: int
    slug: str
    name: str
    owner: User
    created_at: datetime
    events: list[str] = field(default_factory=list)


@dataclass
class Installation:
    """The App installed on one account (all of that account's repositories)."""

    id: int
    account: User
    created_at: datetime


@dataclass
class Token:
    """An installation access token, or a user token when `user` is set."""

    token: str
    installation_id: int | None
    expires_at: datetime | None
    user: User | None = None


@dataclass
class Commit:
    """A commit; `files` is the full tree snapshot (path -> content)."""

    sha: str
    seq: int
    parents: list[str]
    message: str
    author: User
    date: datetime
    files: dict[str, str]

    @property
    def tree_sha(self) -> str:
        """A stable tree id derived from the snapshot."""
        text = "\n".join(f"{p}\0{blob_sha(c)}" for p, c in sorted(self.files.items()))
        return hashlib.sha1(text.encode()).hexdigest()


@dataclass
class Label:
    """A repository label."""

    id: int
    name: str
    color: str = "ededed"
    description: str = ""


@dataclass
class PullRequest:
    """A pull request; it is also issue number `number`."""

    id: int
    number: int
    title: str
    body: str
    user: User
    head_ref: str
    head_sha: str
    head_repo: str  # full name of the repository holding the head branch
    base_ref: str
    created_at: datetime
    updated_at: datetime
    draft: bool = False
    state: str = "open"
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: User | None = None
    merge_commit_sha: str | None = None
    closed_at: datetime | None = None
    labels: list[str] = field(default_factory=list)
    commit_shas: list[str] = field(default_factory=list)


@dataclass
class Review:
    """A pull request review; state is REST's upper-case form."""

    id: int
    number: int
    user: User
    state: str
    body: str
    commit_id: str
    submitted_at: datetime


@dataclass
class CheckSuite:
    """One app's check suite on one commit."""

    id: int
    head_sha: str
    head_branch: str | None
    app: App
    created_at: datetime
    updated_at: datetime


@dataclass
class CheckRun:
    """A check run; `app` is the App that created it (only it may update it)."""

    id: int
    head_sha: str
    name: str
    app: App
    suite_id: int
    status: str
    conclusion: str | None
    started_at: datetime
    completed_at: datetime | None
    external_id: str = ""
    details_url: str | None = None
    output: JSON = field(default_factory=dict)


@dataclass
class Status:
    """A commit status."""

    id: int
    sha: str
    context: str
    state: str
    description: str | None
    target_url: str | None
    creator: User
    created_at: datetime


@dataclass
class Comment:
    """An issue comment (on a pull request)."""

    id: int
    number: int
    user: User
    body: str
    created_at: datetime
    updated_at: datetime
    via_app: App | None = None


@dataclass
class Reaction:
    """A reaction on an issue comment."""

    id: int
    comment_id: int
    user: User
    content: str
    created_at: datetime


@dataclass
class Deployment:
    """A deployment of one SHA to one environment."""

    id: int
    sha: str
    ref: str
    task: str
    environment: str
    payload: Any
    description: str | None
    creator: User
    created_at: datetime
    updated_at: datetime
    production_environment: bool = False
    transient_environment: bool = False
    via_app: App | None = None


@dataclass
class DeploymentStatus:
    """One status of a deployment."""

    id: int
    deployment_id: int
    state: str
    description: str
    environment: str
    environment_url: str
    log_url: str
    creator: User
    created_at: datetime
    via_app: App | None = None


@dataclass
class Variable:
    """An environment variable (Actions variable scoped to an environment)."""

    name: str
    value: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Environment:
    """A deployment environment and its variables (keyed by upper-case name)."""

    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    variables: dict[str, Variable] = field(default_factory=dict)


@dataclass
class Release:
    """A GitHub Release."""

    id: int
    tag_name: str
    target_commitish: str
    name: str | None
    body: str
    draft: bool
    prerelease: bool
    author: User
    created_at: datetime
    published_at: datetime | None


@dataclass
class ProtectionRuleReview:
    """What the App posted to a deployment protection rule callback."""

    repo: str
    run_id: int
    environment_name: str
    state: str
    comment: str
    by: str


@dataclass
class Repo:
    """A repository with its git graph and everything hanging off it."""

    id: int
    owner: User
    name: str
    default_branch: str
    created_at: datetime
    installation_id: int | None
    fork_of: str | None = None
    pushed_at: datetime | None = None
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    reviews: list[Review] = field(default_factory=list)
    check_suites: dict[int, CheckSuite] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    comments: dict[int, Comment] = field(default_factory=dict)
    reactions: list[Reaction] = field(default_factory=list)
    labels: dict[str, Label] = field(default_factory=dict)
    deployments: dict[int, Deployment] = field(default_factory=dict)
    deployment_statuses: list[DeploymentStatus] = field(default_factory=list)
    environments: dict[str, Environment] = field(default_factory=dict)
    releases: list[Release] = field(default_factory=list)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        """owner/name."""
        return f"{self.owner.login}/{self.name}"

    def label(self, name: str) -> Label | None:
        """The label with this name, compared case-insensitively like GitHub."""
        return self.labels.get(name.lower())

    def resolve(self, ref: str) -> str | None:
        """A branch, tag, refs/... name, or (abbreviated) SHA -> full SHA, or None."""
        for prefix in ("refs/heads/", "heads/"):
            if ref.startswith(prefix) and ref[len(prefix) :] in self.branches:
                return self.branches[ref[len(prefix) :]]
        for prefix in ("refs/tags/", "tags/"):
            if ref.startswith(prefix) and ref[len(prefix) :] in self.tags:
                return self.tags[ref[len(prefix) :]]
        if ref in self.branches:
            return self.branches[ref]
        if ref in self.tags:
            return self.tags[ref]
        if ref in self.commits:
            return ref
        if len(ref) >= 7:
            found = [s for s in self.commits if s.startswith(ref)]
            if len(found) == 1:
                return found[0]
        return None

    def ancestors(self, sha: str) -> set[str]:
        """Every commit reachable from `sha`, itself included."""
        seen: set[str] = set()
        todo = [sha]
        while todo:
            cur = todo.pop()
            if cur in seen or cur not in self.commits:
                continue
            seen.add(cur)
            todo.extend(self.commits[cur].parents)
        return seen

    def history(self, sha: str) -> list[Commit]:
        """Commits reachable from `sha`, newest first."""
        return sorted((self.commits[s] for s in self.ancestors(sha)), key=lambda c: -c.seq)

    def merge_base(self, a: str, b: str) -> str | None:
        """The newest common ancestor of two commits."""
        common = self.ancestors(a) & self.ancestors(b)
        if not common:
            return None
        return max(common, key=lambda s: self.commits[s].seq)

    def branches_at(self, sha: str) -> list[str]:
        """Names of branches whose head is `sha`."""
        return [b for b, s in self.branches.items() if s == sha]
