"""Release visibility end to end: status tables, ring labels, rejection notices, the
ringbot/release check run and the GitHub Release of a `release: true` ring."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sim.state import CheckRun

from .builders import (
    REPO,
    cd,
    command,
    deployments,
    merge,
    ready_pr,
    released,
    setup_repo,
    to_internal,
    walk_to_on_premises,
)
from .harness import World

pytestmark = pytest.mark.e2e

STATUS = "<!-- ringbot:status -->"

RINGS = """
rings:
  - name: dev
    auto: true
    users: 10
  - name: internal
    users: 100
  - name: early-adopters
    bake: 24h
    users: 1000
  - name: production
    users: 10000
"""

RELEASING = """
release_tag: "v{date}-{sha7}"
rings:
  - name: dev
    auto: true
  - name: production
  - name: on-premises
    auto: true
    release: true
"""


def plain(text: str) -> str:
    """The text as people read it (the zero-width space that keeps a login from pinging goes)."""
    return text.replace("\u200b", "")


def status_comments(w: World, number: int) -> list[str]:
    """ringbot's status comments on the pull request."""
    return [
        plain(c.body)
        for c in w.sim.repo(REPO).comments.values()
        if c.number == number and STATUS in c.body and c.user.login == w.sim.bot_login
    ]


def table(w: World, number: int) -> str:
    """The one status comment of the pull request."""
    (body,) = status_comments(w, number)
    return body


def row(w: World, number: int, ring: str) -> str:
    """One ring's line of the pull request's status table."""
    (line,) = [x for x in table(w, number).splitlines() if x.startswith(f"| {ring} |")]
    return line


def ring_labels(w: World, number: int) -> list[str]:
    """The ring labels on the pull request."""
    return [n for n in w.sim.repo(REPO).pulls[number].labels if n.startswith("ring:")]


def notices(w: World, sha: str) -> dict[int, list[str]]:
    """Pull request -> ringbot's rejection notices about release `sha`."""
    marker = f"<!-- ringbot:rejected:{sha} -->"
    found: dict[int, list[str]] = {}
    for c in w.sim.repo(REPO).comments.values():
        if marker in c.body and c.user.login == w.sim.bot_login:
            found.setdefault(c.number, []).append(c.body)
    return found


def release_check(w: World, sha: str) -> CheckRun:
    """The one ringbot/release check run on the commit."""
    (run,) = [
        r
        for r in w.sim.repo(REPO).check_runs.values()
        if r.head_sha == sha and r.name == "ringbot/release"
    ]
    return run


async def test_a_deploy_under_way_costs_no_look_until_it_settles(w: World) -> None:
    setup_repo(w, config=RINGS)
    number = await ready_pr(w)
    await merge(w, number)
    w.sim.requests.clear()
    await cd(w, "dev", "in_progress")
    await cd(w, "dev", "queued")
    assert status_comments(w, number) == []
    assert [r for r in w.sim.requests if r.installation_id is not None] == []


async def test_the_table_shows_a_release_live_once_its_deploy_settles(w: World) -> None:
    setup_repo(w, config=RINGS)
    number = await ready_pr(w)
    sha = await merge(w, number)
    await cd(w, "dev", "in_progress")
    await cd(w, "dev")
    line = row(w, number, "dev")
    assert f"`{sha[:7]}`" in line and f"/commit/{sha}" in line
    assert "waiting" in row(w, number, "internal")
    assert "✅ live" in row(w, number, "dev") and "| 10 |" in row(w, number, "dev")
    assert "Live up to **dev** (10 users)" in table(w, number)
    assert len(status_comments(w, number)) == 1


async def test_the_table_shows_who_signed_off_and_the_bake_time_left(w: World) -> None:
    setup_repo(w, config=RINGS)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    assert "signed off by @carol" in row(w, number, "dev")
    await command(w, number, "/promote internal", by="bob")
    await cd(w, "internal")
    w.clock.advance(hours=20)
    await command(w, number, "/approve internal", by="alice")  # a ledger entry: a new look
    line = row(w, number, "internal")
    assert "signed off by @alice" in line and "baking, 4h left before early-adopters" in line
    assert "| 110 |" in line and "Live up to **internal** (110 users)" in table(w, number)


async def test_the_table_shows_a_failed_deploy(w: World) -> None:
    setup_repo(w, config=RINGS)
    number = await ready_pr(w)
    await merge(w, number)
    await cd(w, "dev", "failure")
    assert "❌ deploy failed" in row(w, number, "dev")
    assert "Not live in any ring yet" in table(w, number)
    assert ring_labels(w, number) == []


async def test_a_rejection_shows_in_the_table_and_the_label(w: World) -> None:
    setup_repo(w, config=RINGS)
    number, _ = await released(w)
    await command(w, number, "/reject dev crashes on start", by="carol")
    line = row(w, number, "dev")
    assert "⛔ rejected by @carol: crashes on start" in line
    assert ring_labels(w, number) == ["ring:rejected"]
    assert w.sim.repo(REPO).label("ring:rejected").color == "d73a4a"  # type: ignore[union-attr]


async def test_one_status_comment_across_updates_redeliveries_and_restarts(w: World) -> None:
    setup_repo(w, config=RINGS)
    number, sha = await released(w)
    await to_internal(w, number)
    await command(w, number, "/approve internal", by="alice")
    before = table(w, number)
    comments = len(w.sim.repo(REPO).comments)
    labels = list(w.sim.repo(REPO).pulls[number].labels)
    statuses = [d for d in w.sim.deliveries if d.event == "deployment_status"]
    await w.restart_bot()
    for delivery in statuses[-3:]:
        resp = await w.deliver("deployment_status", delivery.payload)
        assert resp.status == 202
    await w.settle()
    assert table(w, number) == before
    assert len(w.sim.repo(REPO).comments) == comments
    assert w.sim.repo(REPO).pulls[number].labels == labels
    assert release_check(w, sha).output["title"] == "Live in internal · 110 users"


async def test_the_label_moves_ring_by_ring(w: World) -> None:
    setup_repo(w, config=RINGS)
    number = await ready_pr(w)
    await merge(w, number)
    await cd(w, "dev", "in_progress")
    assert ring_labels(w, number) == []
    await cd(w, "dev")
    assert ring_labels(w, number) == ["ring:dev"]
    await to_internal(w, number)
    assert ring_labels(w, number) == ["ring:internal"]
    repo = w.sim.repo(REPO)
    assert {name: repo.labels[name].color for name in ("ring:dev", "ring:internal")} == {
        "ring:dev": "c2e0c6",
        "ring:internal": "9be9a8",
    }


async def test_a_later_release_carries_a_rejected_change_on(w: World) -> None:
    setup_repo(w, config=RINGS)
    first, _ = await released(w)
    await command(w, first, "/reject dev crashes on start", by="carol")
    assert ring_labels(w, first) == ["ring:rejected"]
    second, fix = await released(w, author="carol")
    assert ring_labels(w, first) == ["ring:dev"] and ring_labels(w, second) == ["ring:dev"]
    assert f"`{fix[:7]}`" in row(w, first, "dev") and "✅ live" in row(w, first, "dev")


async def test_rejection_notices_reach_every_work_item_and_nothing_else(w: World) -> None:
    setup_repo(w, config=RINGS)
    before, _ = await released(w)
    second = await ready_pr(w, author="carol")
    await merge(w, second, green=False)  # dev never takes this commit alone
    third = await ready_pr(w, author="bob")
    sha = await merge(w, third)
    await cd(w, "dev")
    assert [d.sha for d in deployments(w, "dev")][-1] == sha
    await command(w, third, "/reject dev corrupts the cache", by="alice")
    await command(w, second, "/reject dev corrupts the cache again", by="bob")
    found = notices(w, sha)
    assert sorted(found) == [second, third]
    assert all(len(bodies) == 1 for bodies in found.values())
    (text,) = found[second]
    assert "rejected in **dev** by @alice: corrupts the cache" in text
    assert before not in found and ring_labels(w, before) == ["ring:dev"]
    assert ring_labels(w, second) == ["ring:rejected"] == ring_labels(w, third)


async def test_the_release_check_run_carries_the_release_table(w: World) -> None:
    setup_repo(w, config=RINGS)
    number, sha = await released(w)
    run = release_check(w, sha)
    assert run.status == "completed" and run.conclusion == "neutral"
    assert run.output["title"] == "Live in dev · 10 users"
    await to_internal(w, number)
    run = release_check(w, sha)
    assert run.output["title"] == "Live in internal · 110 users"
    summary = plain(run.output["summary"])
    assert f"Release [`{sha[:7]}`]" in summary
    assert "| internal |" in summary and "baking, 1d left before early-adopters" in summary
    await command(w, number, "/reject internal flaky login", by="carol")
    run = release_check(w, sha)
    assert run.conclusion == "failure" and run.output["title"] == "Rejected: flaky login"


def release_of(w: World, sha: str) -> list[Any]:
    return [r for r in w.sim.repo(REPO).releases if r.target_commitish == sha]


async def test_a_release_ring_publishes_one_github_release_with_its_pull_requests(
    w: World,
) -> None:
    setup_repo(w, config=RELEASING)
    first, first_sha = await released(w)
    await walk_to_on_premises(w, first)
    (published,) = release_of(w, first_sha)
    tag = f"v{w.clock().strftime('%Y.%m.%d')}-{first_sha[:7]}"
    assert published.tag_name == tag and w.sim.repo(REPO).tags[tag] == first_sha
    assert published.author.login == w.sim.bot_login
    assert f"(#{first}) @bob" in published.body

    second = await ready_pr(w, author="carol", title="Faster widgets")
    await merge(w, second, green=False)
    third = await ready_pr(w, author="bob", title="Cheaper widgets")
    sha = await merge(w, third)
    await cd(w, "dev")
    await walk_to_on_premises(w, third)
    (published,) = release_of(w, sha)
    lines = [x for x in published.body.splitlines() if x.startswith("- ")]
    assert lines == [f"- Faster widgets (#{second}) @carol", f"- Cheaper widgets (#{third}) @bob"]
    assert f"since {tag}" in published.body

    statuses = [d for d in w.sim.deliveries if d.event == "deployment_status"]
    await w.restart_bot()
    await w.deliver("deployment_status", statuses[-1].payload)
    await w.settle()
    assert len(w.sim.repo(REPO).releases) == 2
    assert ring_labels(w, second) == ["ring:on-premises"]


async def test_a_release_step_costs_a_bounded_number_of_requests(w: World) -> None:
    setup_repo(w, config=RINGS)
    number, _ = await released(w)
    await command(w, number, "/approve dev", by="carol")
    await command(w, number, "/promote internal", by="bob")
    await cd(w, "internal", "in_progress")
    before = len(w.sim.requests)
    await cd(w, "internal")
    spent = [r for r in w.sim.requests[before:] if r.installation_id is not None]
    # rings job 4, visibility 12 (4 of them 304s): deployments, history, pulls, statuses,
    # the comment (list + edit), the label (create, add, remove), the check run (find + edit).
    assert len(spent) <= 18, [(r.method, r.path) for r in spent]
