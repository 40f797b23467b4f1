"""The hotfix lane end to end, through the simulator: each refusal alone, and a hotfix into
production that skips internal and early-adopters (payload, status table, release check run and
GitHub Release all marked ⚡ with who asked and who approved)."""

from __future__ import annotations

import pytest

from .builders import (
    REPO,
    build,
    cd,
    command,
    deployments,
    head,
    merge,
    open_pr,
    reactions,
    ready_pr,
    released,
    reply_to,
    setup_repo,
)
from .harness import World

pytestmark = pytest.mark.e2e

RINGS = """
rings:
  - name: dev
    auto: true
  - name: internal
  - name: early-adopters
    bake: 24h
  - name: production
    bake: 48h
    promoters: maintain
    release: true
"""
LANE = (
    RINGS
    + """
hotfix:
  label: hotfix
  approvals: 2
  promoters: maintain
"""
)
PEOPLE = {"dave": "maintain", "erin": "maintain"}
STATUS = "<!-- ringbot:status -->"


def plain(text: str) -> str:
    return text.replace("\u200b", "")


def bullets(reply: str) -> list[str]:
    return [line for line in reply.splitlines() if line.startswith("- ")]


async def hotfix_pr(
    w: World,
    *,
    label: bool = True,
    approvers: tuple[str, ...] = ("alice", "dave"),
    gate_green: bool = True,
) -> tuple[int, str]:
    """bob's fix, labelled and approved, merged (around a red gate unless `gate_green`), built
    green on main and live in dev: (number, release sha)."""
    number = open_pr(w, author="bob", title="Stop the outage")
    build(w, head(w, number), conclusion="success" if gate_green else "failure")
    for person in approvers:
        w.sim.review(REPO, number, person, "APPROVED")
    if label:
        w.sim.add_label(REPO, number, "hotfix", by="alice")
    await w.settle()
    sha = await merge(w, number)  # the simulator merges whatever the gate says (an admin)
    if not gate_green:
        # Around the gate, it waits outside dev for a person (guardrails): alice accepts it.
        await command(w, number, "/promote dev", by="alice")
    await cd(w, "dev")
    return number, sha


async def refused_alone(w: World, number: int, by: str = "alice") -> str:
    """/hotfix production is refused for exactly one reason, and nothing is deployed there."""
    comment_id = w.sim.comment(REPO, number, by, "/hotfix production")
    await w.settle()
    reply = plain(reply_to(w, comment_id))
    assert reply.startswith(f"@{by}\n\n😕 Cannot hotfix into production:"), reply
    assert len(bullets(reply)) == 1, reply
    assert reactions(w, comment_id)[-1] == "confused"
    assert deployments(w, "production") == []
    return bullets(reply)[0]


async def test_a_hotfix_goes_straight_into_production_and_says_so_everywhere(w: World) -> None:
    setup_repo(w, config=LANE, people=PEOPLE)
    number, sha = await hotfix_pr(w)
    comment_id = w.sim.comment(REPO, number, "erin", "/hotfix production")
    await w.settle()
    reply = plain(reply_to(w, comment_id))
    assert "⚡ Hotfix: deploying" in reply and sha[:7] in reply and "(live in dev)" in reply
    assert "approved by @alice, @dave" in reply
    assert reactions(w, comment_id)[-1] == "rocket"
    assert deployments(w, "internal") == [] and deployments(w, "early-adopters") == []
    (deployed,) = deployments(w, "production")
    assert deployed.sha == sha and "/hotfix by @erin" in deployed.description
    assert deployed.payload["ring"] == "production" and deployed.payload["release"] == sha
    assert deployed.payload["hotfix"] == {
        "pull": number,
        "asker": "erin",
        "approvers": ["alice", "dave"],
    }

    await cd(w, "production")
    status = [
        plain(c.body)
        for c in w.sim.repo(REPO).comments.values()
        if c.number == number and STATUS in c.body
    ]
    (line,) = [x for x in status[0].splitlines() if x.startswith("| production |")]
    assert (
        "✅ live" in line and f"⚡ hotfix (#{number}) by @erin, approved by @alice, @dave" in line
    )
    (run,) = [
        r
        for r in w.sim.repo(REPO).check_runs.values()
        if r.head_sha == sha and r.name == "ringbot/release"
    ]
    assert run.output["title"].startswith("⚡ Hotfix into production by erin")
    assert "⚡ hotfix" in plain(run.output["summary"])
    (published,) = [r for r in w.sim.repo(REPO).releases if r.target_commitish == sha]
    assert f"⚡ hotfix (#{number}) by @erin, approved by @alice, @dave, into production" in (
        published.body
    )
    table = plain(await command(w, number, "/status", by="bob"))
    (line,) = [x for x in table.splitlines() if x.startswith("| production |")]
    assert "⚡ hotfix" in line and "@erin" in line

    # Asked again: it is there already, nothing new is deployed.
    again = await command(w, number, "/hotfix production", by="alice")
    assert "👍" in again and len(deployments(w, "production")) == 1


async def test_without_a_hotfix_key_the_lane_is_off(w: World) -> None:
    setup_repo(w, config=RINGS, people=PEOPLE)
    number, _ = await hotfix_pr(w)
    before = len(w.sim.requests)
    reason = await refused_alone(w, number)
    assert "the hotfix lane is off" in reason and "add `hotfix:`" in reason
    reads = [
        r
        for r in w.sim.requests[before:]
        if r.method == "GET" and "/deployments" in r.path and r.installation_id is not None
    ]
    assert reads == []  # nothing is read for a lane that is off


async def test_no_label_is_refused(w: World) -> None:
    setup_repo(w, config=LANE, people=PEOPLE)
    number, _ = await hotfix_pr(w, label=False)
    reason = await refused_alone(w, number)
    assert "does not carry the `hotfix` label" in reason and "add the `hotfix` label" in reason


@pytest.mark.parametrize(
    ("approvers", "why"),
    [
        pytest.param(("alice",), "no other", id="too-few"),
        pytest.param(("alice", "bob"), "@bob wrote it", id="by-the-author"),
        pytest.param(("alice", "carol"), "@carol has write access", id="without-promoters"),
    ],
)
async def test_too_few_approvals_are_refused(
    w: World, approvers: tuple[str, ...], why: str
) -> None:
    setup_repo(w, config=LANE, people=PEOPLE)
    number, _ = await hotfix_pr(w, approvers=approvers)
    reason = await refused_alone(w, number)
    assert "needs 1 more approval" in reason and "approved by @alice" in reason
    if why != "no other":
        assert why in reason


async def test_a_rejected_release_is_refused(w: World) -> None:
    setup_repo(w, config=LANE, people=PEOPLE)
    number, sha = await hotfix_pr(w)
    await command(w, number, "/reject dev it corrupts carts", by="carol")
    reason = await refused_alone(w, number)
    assert f"(`{sha[:7]}`) was rejected by @carol: it corrupts carts" in reason


async def test_a_merge_around_a_red_gate_is_refused(w: World) -> None:
    setup_repo(w, config=LANE, people=PEOPLE)
    number, _ = await hotfix_pr(w, gate_green=False)
    reason = await refused_alone(w, number)
    assert "the merge gate was not green when this pull request merged" in reason
    assert "failure" in reason


async def test_an_asker_without_promoters_is_refused(w: World) -> None:
    setup_repo(w, config=LANE, people=PEOPLE)
    number, _ = await hotfix_pr(w)
    reason = await refused_alone(w, number, by="carol")
    assert "needs maintain permission (`hotfix.promoters`); @carol has write" in reason


async def test_a_frozen_ring_is_refused_unless_during_freeze(w: World) -> None:
    setup_repo(w, config=LANE, people=PEOPLE)
    number, _ = await hotfix_pr(w)
    await command(w, number, "/freeze production incident 7", by="alice")
    reason = await refused_alone(w, number)
    assert "production is closed 🧊" in reason and "during_freeze: true" in reason


async def test_during_freeze_lets_a_hotfix_into_a_frozen_ring(w: World) -> None:
    setup_repo(w, config=LANE + "  during_freeze: true\n", people=PEOPLE)
    number, sha = await hotfix_pr(w)
    await command(w, number, "/freeze production incident 7", by="alice")
    reply = await command(w, number, "/hotfix production", by="alice")
    assert "⚡ Hotfix" in reply
    assert [d.sha for d in deployments(w, "production")] == [sha]


async def test_a_pull_request_not_live_anywhere_is_refused(w: World) -> None:
    setup_repo(w, config=LANE, people=PEOPLE)
    await released(w)  # an older release is live in dev
    number = await ready_pr(w, author="bob")
    w.sim.review(REPO, number, "dave", "APPROVED")
    w.sim.add_label(REPO, number, "hotfix", by="alice")
    await w.settle()
    await merge(w, number)  # built green, on its way into dev, not live yet
    reason = await refused_alone(w, number)
    assert "no ring has a live release that contains this pull request" in reason
