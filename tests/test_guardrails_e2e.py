"""Guardrails end to end: merges around the gate stay out of the first ring until a promoter
accepts them, and a later release that holds one does not ride in unseen."""

from __future__ import annotations

import pytest

from .builders import (
    REPO,
    TWO_RINGS,
    build,
    cd,
    command,
    deployments,
    gate,
    head,
    merge,
    open_pr,
    ready_pr,
    released,
    setup_repo,
)
from .harness import World

pytestmark = pytest.mark.e2e

LABEL = "unverified-merge"


def notes(w: World, number: int) -> list[str]:
    """ringbot's unverified-merge notes on the pull request."""
    found = w.sim.repo(REPO).comments.values()
    return [c.body for c in found if c.number == number and "ringbot:unverified:" in c.body]


def labels(w: World, number: int) -> list[str]:
    return list(w.sim.repo(REPO).pulls[number].labels)


def dev_shas(w: World) -> list[str]:
    return [d.sha for d in deployments(w, "dev")]


async def bypassed(w: World) -> tuple[int, str]:
    """A pull request whose build failed, merged anyway (an admin bypass), built green on main."""
    number = open_pr(w)
    build(w, head(w, number), conclusion="failure")
    await w.settle()
    return number, await merge(w, number)


async def test_an_admin_bypass_stays_out_of_dev_until_a_promoter_accepts_it(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    await released(w)
    number, sha = await bypassed(w)
    assert sha not in dev_shas(w)
    assert LABEL in labels(w, number)
    (note,) = notes(w, number)
    assert "Unverified merge" in note and "/promote dev" in note and "failure" in note
    # Another event about the branch changes nothing: still out, still one note.
    build(w, sha, name="lint")
    await w.settle()
    assert sha not in dev_shas(w) and len(notes(w, number)) == 1
    refused = await command(w, number, "/promote dev", by="rita")
    assert "😕" in refused and sha not in dev_shas(w)
    accepted = await command(w, number, "/promote dev", by="bob")
    assert "🚀" in accepted
    dep = deployments(w, "dev")[-1]
    assert dep.sha == sha
    assert dep.payload["accepted"] == {"by": "bob", "unverified": [sha]}
    assert "@bob" in dep.description and "unverified" in dep.description
    await cd(w, "dev")
    # Accepted: the next verified release enters dev by itself again.
    later = await ready_pr(w)
    following = await merge(w, later)
    assert dev_shas(w)[-1] == following


async def test_a_direct_push_stays_out_of_dev_until_a_promoter_accepts_it(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    pushed = w.sim.push(REPO, {"hot.txt": "x\n"}, author="alice")
    await w.settle()
    build(w, pushed)
    await w.settle()
    assert pushed not in dev_shas(w)
    # Nobody to tell on a pull request; a promoter accepts it from any merged pull request
    # the head holds.
    assert "🚀" in await command(w, number, "/promote dev", by="alice")
    dep = deployments(w, "dev")[-1]
    assert dep.sha == pushed and dep.payload["accepted"]["by"] == "alice"


async def test_a_later_release_holding_an_unverified_commit_waits_too(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    await released(w)
    number, sha = await bypassed(w)
    later = await ready_pr(w)
    following = await merge(w, later)
    # The later release went through the gate, but it holds the bypassed commit.
    assert following not in dev_shas(w) and sha not in dev_shas(w)
    assert len(notes(w, number)) == 1 and notes(w, later) == []
    reply = await command(w, later, "/promote dev", by="carol")
    assert "🚀" in reply
    dep = deployments(w, "dev")[-1]
    assert dep.sha == following and dep.payload["accepted"]["unverified"] == [sha]


# --- the protection check -----------------------------------------------------------------------


def environments(w: World, *names: str) -> None:
    for name in names:
        w.sim.deployments.environment(w.sim.repo(REPO), name)


async def test_status_says_nothing_when_protection_is_in_place(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    environments(w, "dev", "internal")
    w.sim.guards.rulesets[REPO] = ["ringbot/merge-gate"]
    for env in ("dev", "internal"):
        w.sim.guards.env_rules[(REPO, env)] = [w.sim.state.github_app.id]
    w.bot.caches.protection.clear()  # the gate read it earlier: as if the settings changed
    w.bot.caches.protection_unknown.clear()
    status = await command(w, number, "/status")
    assert "Protection check" not in status


async def test_status_shows_missing_protection_with_the_fix(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    environments(w, "dev", "internal")
    w.sim.guards.protection[REPO] = ["build"]  # protected, but not by the gate
    w.sim.guards.env_rules[(REPO, "dev")] = [w.sim.state.github_app.id]
    w.bot.caches.protection.clear()  # the gate read it earlier: as if the settings changed
    w.bot.caches.protection_unknown.clear()
    status = await command(w, number, "/status")
    assert "❌ `main` does not require `ringbot/merge-gate`" in status
    assert "Rulesets" in status
    assert "✅ environment `dev`" in status
    assert "❌ environment `internal`" in status and "Deployment protection rules" in status


async def test_status_shows_unreadable_protection_as_unknown(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    w.sim.guards.unreadable.add(REPO)
    w.bot.caches.protection.clear()  # the gate read it earlier: as if the settings changed
    w.bot.caches.protection_unknown.clear()
    status = await command(w, number, "/status")
    assert "❔ whether `main` requires `ringbot/merge-gate` is unknown" in status
    assert "❔ whether environment `dev`" in status and "✅" not in status.split("Protection")[1]


async def test_the_protection_check_is_read_once_an_hour(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    number, _ = await released(w)
    await command(w, number, "/status")
    w.sim.requests.clear()
    await command(w, number, "/status")
    assert not [r for r in w.sim.requests if "/rules/" in r.path or "protection" in r.path]


async def test_the_merge_gate_says_what_protection_is_missing(w: World) -> None:
    setup_repo(w, config=TWO_RINGS)
    w.sim.guards.protection[REPO] = ["build"]  # protected, but not by the gate
    number = open_pr(w)
    await w.settle()
    summary = str(gate(w, number).output.get("summary"))
    assert "**Protection check**" in summary
    assert "❌ `main` does not require `ringbot/merge-gate`" in summary
