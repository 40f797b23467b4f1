"""Builders for end-to-end scenarios: every argument has a default, tests override what they test.

The topic modules beside this one build the pure inputs: `gate_inputs`, `visibility`, `features`,
`config` (ringbot.yml texts), `webhook` (what POST /webhook receives) and `sim` (the
simulator's own tests)."""

from __future__ import annotations

from typing import Any

from bot.sim.state import CheckRun

from ..harness import World

REPO = "acme/widgets"
GATE = "ringbot/merge-gate"
# The smallest ring process: dev, entered by itself, then internal by /promote; no bake time.
TWO_RINGS = """
rings:
  - name: dev
    auto: true
  - name: internal
"""


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


def deployments(w: World, ring: str | None = None, repo: str = REPO) -> list[Any]:
    """The repository's deployments (optionally of one environment), oldest first."""
    found = sorted(w.sim.repo(repo).deployments.values(), key=lambda d: d.id)
    return [d for d in found if ring is None or d.environment == ring]


async def cd(w: World, ring: str, state: str = "success", repo: str = REPO) -> int:
    """The user's CD finishes the newest deployment in `ring` with `state`."""
    newest = deployments(w, ring, repo)[-1]
    w.sim.post_deployment_status(repo, newest.id, state, by="deploy-bot")
    await w.settle()
    return int(newest.id)


async def merge(w: World, number: int, *, by: str = "alice", green: bool = True) -> str:
    """Merge the pull request; CI builds the merge commit on main."""
    sha = str(w.sim.merge_pull_request(REPO, number, by=by))
    await w.settle()
    if green:
        build(w, sha)
        await w.settle()
    return sha


async def command(w: World, number: int, body: str, *, by: str = "alice") -> str:
    """Comment on the pull request; return ringbot's reply to that comment."""
    comment_id = w.sim.comment(REPO, number, by, body)
    await w.settle()
    return reply_to(w, comment_id)


def reply_to(w: World, comment_id: int, repo: str = REPO) -> str:
    """ringbot's reply to a comment ('' when there is none)."""
    marker = f"<!-- ringbot:reply-to:{comment_id} -->"
    found = [c.body for c in w.sim.repo(repo).comments.values() if marker in c.body]
    assert len(found) <= 1, "more than one reply to one comment"
    return found[0] if found else ""


def reactions(w: World, comment_id: int, repo: str = REPO) -> list[str]:
    """The reactions ringbot left on a comment, in order."""
    return [
        r.content
        for r in w.sim.repo(repo).reactions
        if r.comment_id == comment_id and r.user.login == w.sim.bot_login
    ]


async def released(w: World, *, author: str = "bob") -> tuple[int, str]:
    """A pull request merged, built green on main and live in dev: (number, release sha)."""
    number = await ready_pr(w, author=author)
    sha = await merge(w, number)
    await cd(w, "dev")
    return number, sha


async def to_internal(w: World, number: int) -> None:
    """Sign the release off in dev, promote it and let the CD make it live in internal."""
    await command(w, number, "/approve dev", by="carol")
    await command(w, number, "/promote internal", by="bob")
    await cd(w, "internal")


async def walk_to_on_premises(w: World, number: int) -> None:
    """Sign off in dev, promote to production; an automatic on-premises follows; the CD deploys.

    For rings dev -> production -> on-premises (auto). alice signs off: she wrote none of the
    pull requests in these releases."""
    await command(w, number, "/approve dev", by="alice")
    await command(w, number, "/promote production", by="alice")
    await cd(w, "production")
    await cd(w, "on-premises")
