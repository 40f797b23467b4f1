"""Builders for end-to-end scenarios: every argument has a default, tests override what they test."""

from __future__ import annotations

from typing import Any

from bot.sim.state import CheckRun

from .harness import World

REPO = "acme/widgets"
GATE = "ringbot/merge-gate"


def setup_repo(
    w: World,
    *,
    config: str | None = None,
    people: dict[str, str] | None = None,
    repo: str = REPO,
) -> str:
    """A repository with the App installed, an optional ringbot.yml, and collaborators."""
    files = {"README.md": "widgets\n"}
    if config is not None:
        files[".github/ringbot.yml"] = config
    w.sim.create_repo(repo, default_branch="main", files=files)
    roles = {"alice": "maintain", "bob": "write", "carol": "write", "rita": "read"}
    roles.update(people or {})
    for login, role in roles.items():
        w.sim.add_collaborator(repo, login, role)
    return repo


def open_pr(w: World, *, author: str = "bob", repo: str = REPO, **kw: Any) -> int:
    """A pull request into main."""
    kw.setdefault("title", "Add a widget")
    kw.setdefault("files", {f"widget-{len(w.sim.repo(repo).pulls) + 1}.txt": "w\n"})
    return int(w.sim.open_pull_request(repo, author=author, **kw))


def head(w: World, number: int, repo: str = REPO) -> str:
    """The pull request's head SHA."""
    return str(w.sim.repo(repo).pulls[number].head_sha)


def build(
    w: World, sha: str, *, name: str = "build", conclusion: str | None = "success", repo: str = REPO
) -> int:
    """CI reports a check run on `sha` (completed, unless conclusion is None)."""
    status = "completed" if conclusion else "in_progress"
    return int(w.sim.set_check_run(repo, sha, name, status=status, conclusion=conclusion, app="ci"))


def gate_runs(w: World, sha: str, repo: str = REPO) -> list[CheckRun]:
    """Every ringbot/merge-gate run on a commit, oldest first."""
    runs = [r for r in w.sim.repo(repo).check_runs.values() if r.head_sha == sha and r.name == GATE]
    return sorted(runs, key=lambda r: r.id)


def gate(w: World, number: int, repo: str = REPO) -> CheckRun:
    """The gate's newest run on the pull request's head."""
    runs = gate_runs(w, head(w, number, repo), repo)
    assert runs, "ringbot published no merge gate"
    return runs[-1]


def verdict(w: World, number: int, repo: str = REPO) -> str:
    """The gate in one word: success, failure or in_progress."""
    run = gate(w, number, repo)
    return str(run.conclusion) if run.status == "completed" else str(run.status)


async def ready_pr(w: World, *, approver: str = "alice", **kw: Any) -> int:
    """A pull request with a green build and an approval: the gate passes."""
    number = open_pr(w, **kw)
    build(w, head(w, number))
    w.sim.review(REPO, number, approver, "APPROVED")
    await w.settle()
    return number
