"""Sign-off rules per team (`signoff.teams`): only the listed teams' members count, read from
GitHub at decision time, and every reply says who is still missing."""

from __future__ import annotations

import pytest

from .builders import (
    REPO,
    TWO_RINGS,
    cd,
    command,
    deployments,
    merge,
    ready_pr,
    released,
    setup_repo,
)
from .harness import World

pytestmark = pytest.mark.e2e

# dev's release needs a sign-off from acme/qa before it enters internal.
QA_RINGS = TWO_RINGS.replace(
    "    auto: true\n", "    auto: true\n    signoff:\n      teams: {acme/qa: 1}\n"
)
MISSING = "needs 1 more sign-off from a member of @acme/qa in dev"


def qa_team(w: World, *members: str) -> None:
    w.sim.create_team("acme/qa", members)


async def test_a_team_members_sign_off_counts_and_the_release_moves_on(w: World) -> None:
    setup_repo(w, config=QA_RINGS)
    qa_team(w, "carol")
    number, sha = await released(w, author="bob")
    reply = await command(w, number, "/approve dev", by="carol")
    assert f"✅ @carol signed off `{sha[:7]}` in dev" in reply
    assert "Next: `/promote internal`" in reply
    assert "🚀" in await command(w, number, "/promote internal", by="alice")
    assert [d.sha for d in deployments(w, "internal")] == [sha]


async def test_a_non_members_sign_off_is_refused_and_says_who_is_missing(w: World) -> None:
    setup_repo(w, config=QA_RINGS)
    qa_team(w, "carol")
    number, _ = await released(w, author="bob")
    reply = await command(w, number, "/approve dev", by="alice")
    assert "😕 Cannot sign off in dev:" in reply
    assert "@alice is not a member of @acme/qa" in reply
    assert MISSING in reply
    assert "a member of @acme/qa comments `/approve dev`" in reply


async def test_a_promote_waits_for_the_teams_sign_off(w: World) -> None:
    setup_repo(w, config=QA_RINGS)
    qa_team(w, "carol")
    number, sha = await released(w, author="bob")
    refused = await command(w, number, "/promote internal", by="alice")
    assert "😕" in refused and MISSING in refused
    assert deployments(w, "internal") == []
    await command(w, number, "/approve dev", by="carol")
    assert "🚀" in await command(w, number, "/promote internal", by="alice")
    assert [d.sha for d in deployments(w, "internal")] == [sha]


async def test_the_status_table_says_who_is_still_missing(w: World) -> None:
    setup_repo(w, config=QA_RINGS)
    qa_team(w, "carol")
    number, _ = await released(w, author="bob")
    table = await command(w, number, "/status", by="bob")
    dev = next(line for line in table.splitlines() if line.startswith("| dev |"))
    assert "needs 1 more sign-off from a member of @acme/qa" in dev
    await command(w, number, "/approve dev", by="carol")
    table = await command(w, number, "/status", by="bob")
    dev = next(line for line in table.splitlines() if line.startswith("| dev |"))
    assert "@carol" in dev and "needs" not in dev


async def test_two_sign_offs_one_from_the_team_says_what_is_left(w: World) -> None:
    config = QA_RINGS + "    approvals: 2\n"
    setup_repo(w, config=config)
    qa_team(w, "carol")
    number, _ = await released(w, author="bob")
    # alice is in no team, but approvals asks for more people than the team does: she counts.
    reply = await command(w, number, "/approve dev", by="alice")
    assert "✅ @alice signed off" in reply
    assert f"Before internal, the release still {MISSING}." in reply
    # A second person outside the team would not bring the release closer: refused.
    w.sim.add_collaborator(REPO, "dave", "write")
    refused = await command(w, number, "/approve dev", by="dave")
    assert "😕" in refused and "@dave is not a member of @acme/qa" in refused
    reply = await command(w, number, "/approve dev", by="carol")
    assert "✅ @carol signed off" in reply and "Next: `/promote internal`" in reply
    assert "🚀" in await command(w, number, "/promote internal", by="alice")


async def test_a_member_who_left_the_team_no_longer_counts(w: World) -> None:
    setup_repo(w, config=QA_RINGS)
    qa_team(w, "carol")
    number, _ = await released(w, author="bob")
    await command(w, number, "/approve dev", by="carol")
    w.sim.remove_team_member("acme/qa", "carol")
    w.clock.advance(minutes=2)  # past the minute a membership is remembered
    reply = await command(w, number, "/promote internal", by="alice")
    assert "😕" in reply and MISSING in reply
    assert deployments(w, "internal") == []


async def test_an_invitation_still_pending_does_not_count(w: World) -> None:
    setup_repo(w, config=QA_RINGS)
    w.sim.add_team_member("acme/qa", "carol", state="pending")
    number, _ = await released(w, author="bob")
    reply = await command(w, number, "/approve dev", by="carol")
    assert "😕" in reply and "@carol is not a member of @acme/qa" in reply


async def test_an_authors_sign_off_is_refused_even_from_a_team_member(w: World) -> None:
    setup_repo(w, config=QA_RINGS)
    qa_team(w, "bob", "carol")
    number, _ = await released(w, author="bob")
    reply = await command(w, number, "/approve dev", by="bob")
    assert "😕" in reply and "nobody signs off their own change" in reply
    assert "🚀" not in await command(w, number, "/promote internal", by="alice")


async def test_a_sign_off_stops_counting_when_its_person_becomes_an_author_of_the_release(
    w: World,
) -> None:
    # carol signs off bob's release; then internal rolls back past carol's own earlier change,
    # so a sign-off of dev's release would now vouch for her change too: it no longer counts.
    config = TWO_RINGS + "  - name: production\n"
    setup_repo(w, config=config)
    first, _ = await released(w, author="dave")
    await command(w, first, "/approve dev", by="carol")
    await command(w, first, "/promote internal", by="alice")
    await cd(w, "internal")
    mine = await ready_pr(w, author="carol")
    await merge(w, mine)
    await cd(w, "dev")
    await command(w, mine, "/approve dev", by="alice")
    await command(w, mine, "/promote internal", by="alice")
    await cd(w, "internal")
    third = await ready_pr(w, author="bob")
    await merge(w, third)
    await cd(w, "dev")
    assert "✅" in await command(w, third, "/approve dev", by="carol")
    # internal goes back to the first release: dev's release now also carries carol's change.
    assert "⏪" in await command(w, mine, "/rollback internal", by="alice")
    await cd(w, "internal")
    reply = await command(w, third, "/promote internal", by="alice")
    assert "😕" in reply and "@carol: wrote a pull request in it, not counted" in reply


async def test_a_membership_github_will_not_show_is_not_counted_and_says_so(w: World) -> None:
    setup_repo(w, config=QA_RINGS)
    qa_team(w, "carol")
    w.sim.teams.unreadable.add("acme")
    number, _ = await released(w, author="bob")
    reply = await command(w, number, "/approve dev", by="carol")
    assert "😕" in reply and "could not read whether @carol is a member of @acme/qa" in reply
    assert "Members: read" in reply
