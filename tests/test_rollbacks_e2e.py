"""Rollbacks that stay, `/rollback <ring> to <sha>` and `/promote <ring> --dry-run`, end to end."""

from __future__ import annotations

import pytest

from bot.sim.state import Variable

from .builders import (
    REPO,
    cd,
    command,
    deployments,
    merge,
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
"""
# dev, then staging by itself once dev is live: an automatic ring after the first.
AUTO_AFTER = """
rings:
  - name: dev
    auto: true
  - name: staging
    auto: true
"""


# --- /rollback <ring> to <sha> ------------------------------------------------------------------


@pytest.mark.parametrize("length", [pytest.param(40, id="full"), pytest.param(7, id="short")])
async def test_rollback_to_a_named_release(w: World, length: int) -> None:
    setup_repo(w, config=RINGS)
    _, first = await released(w)
    await released(w, author="carol")
    third, _ = await released(w, author="carol")
    reply = await command(w, third, f"/rollback dev to {first[:length].upper()}", by="alice")
    assert "⏪" in reply and first[:7] in reply
    newest = deployments(w, "dev")[-1]
    assert newest.sha == first
    assert newest.payload["rollback"] is True and "/rollback by @alice" in newest.description


async def test_rollback_to_a_release_never_live_there_is_refused(w: World) -> None:
    setup_repo(w, config=RINGS)
    number, _ = await released(w)
    failed_pr = await ready_pr(w, author="carol")
    failed = await merge(w, failed_pr)
    await cd(w, "dev", "failure")  # deployed to dev, never live there
    before = len(deployments(w))
    reply = await command(w, number, f"/rollback dev to {failed[:7]}", by="alice")
    assert "😕" in reply and "never went live" in reply and "/rollback dev" in reply
    reply = await command(w, number, "/rollback dev to 1234567", by="alice")
    assert "😕" in reply and "never deployed to dev" in reply
    assert len(deployments(w)) == before


async def test_rollback_to_a_rejected_release_is_refused(w: World) -> None:
    setup_repo(w, config=RINGS)
    first_pr, first = await released(w)
    await command(w, first_pr, "/reject dev it loses data", by="carol")
    second, _ = await released(w, author="carol")
    before = len(deployments(w, "dev"))
    comment_id = w.sim.comment(REPO, second, "alice", f"/rollback dev to {first[:9]}")
    await w.settle()
    reply = reply_to(w, comment_id)
    assert "😕" in reply and "rejected" in reply and "it loses data" in reply
    assert reactions(w, comment_id) == ["eyes", "confused"]
    assert len(deployments(w, "dev")) == before


# --- rollbacks that stay ------------------------------------------------------------------------


async def test_the_first_ring_stays_put_after_a_rollback_until_someone_promotes(w: World) -> None:
    setup_repo(w, config=RINGS)
    _, first = await released(w)
    second, _ = await released(w, author="carol")
    await command(w, second, "/rollback dev", by="alice")
    await cd(w, "dev")  # the rollback is live: the CD's status wakes the rings job
    assert [d.sha for d in deployments(w, "dev")][-1] == first
    count = len(deployments(w, "dev"))

    # A new green commit on main: dev is not entered by itself.
    third = await ready_pr(w, author="carol")
    third_sha = await merge(w, third)
    assert len(deployments(w, "dev")) == count
    status = await command(w, third, "/status", by="bob")
    assert "held" in status and "/promote dev" in status

    # A person promotes into dev again: the green head goes in and the hold ends.
    reply = await command(w, third, "/promote dev", by="bob")
    assert "🚀" in reply
    assert deployments(w, "dev")[-1].sha == third_sha
    await cd(w, "dev")
    fourth = await ready_pr(w, author="carol")
    fourth_sha = await merge(w, fourth)
    assert deployments(w, "dev")[-1].sha == fourth_sha  # automatic again


async def test_promote_into_the_first_ring_is_refused_without_a_rollback(w: World) -> None:
    setup_repo(w, config=RINGS)
    number, _ = await released(w)
    reply = await command(w, number, "/promote dev", by="bob")
    assert "😕" in reply and "automatically" in reply


async def test_a_later_automatic_ring_stays_put_after_a_rollback(w: World) -> None:
    setup_repo(w, config=AUTO_AFTER)
    _, first = await released(w)
    await cd(w, "staging")
    second, second_sha = await released(w, author="carol")
    await cd(w, "staging")
    assert deployments(w, "staging")[-1].sha == second_sha
    await command(w, second, "/rollback staging", by="alice")
    await cd(w, "staging")
    assert deployments(w, "staging")[-1].sha == first
    count = len(deployments(w, "staging"))

    third, third_sha = await released(w, author="carol")  # live in dev
    assert deployments(w, "dev")[-1].sha == third_sha
    assert len(deployments(w, "staging")) == count  # staging waits for a person

    reply = await command(w, third, "/promote staging", by="bob")
    assert "🚀" in reply and deployments(w, "staging")[-1].sha == third_sha


# --- /promote <ring> --dry-run ------------------------------------------------------------------

FEATURES = (
    RINGS
    + """
features:
  new-grid: [dev, internal]
"""
)


async def test_a_dry_run_says_everything_and_writes_nothing(w: World) -> None:
    setup_repo(w, config=FEATURES)
    number, sha = await released(w)
    await command(w, number, "/approve dev", by="carol")
    # Someone turned the flag off by hand in internal: the promotion would turn it on again.
    env = w.sim.environment(w.sim.repo(REPO), "internal")
    now = w.clock()
    env.variables["FEATURE_NEW_GRID"] = Variable("FEATURE_NEW_GRID", "false", now, now)
    before = len(w.sim.requests)
    deployments_before = len(deployments(w))

    comment_id = w.sim.comment(REPO, number, "bob", "/promote internal --dry-run")
    await w.settle()

    reply = reply_to(w, comment_id)
    assert f"would deploy `{sha[:7]}` to internal" in reply
    assert "✅ @bob may promote to internal" in reply
    assert "✅ 1 sign-off in dev" in reply
    assert f"#{number} " in reply
    assert "`FEATURE_NEW_GRID`: `false` → `true`" in reply
    assert reactions(w, comment_id) == ["eyes", "rocket"]
    writes = [
        (r.method, r.path)
        for r in w.sim.requests[before:]
        if r.method != "GET" and not r.path.endswith("/access_tokens")
    ]
    assert sorted(writes) == sorted(
        [
            ("POST", f"/repos/{REPO}/issues/comments/{comment_id}/reactions"),
            ("POST", f"/repos/{REPO}/issues/comments/{comment_id}/reactions"),
            ("POST", f"/repos/{REPO}/issues/{number}/comments"),
        ]
    )
    assert len(deployments(w)) == deployments_before
    assert w.sim.repo(REPO).environments["internal"].variables["FEATURE_NEW_GRID"].value == "false"


async def test_a_dry_run_of_a_refused_promotion_says_which_rules_fail(w: World) -> None:
    setup_repo(w, config=RINGS)
    number, _ = await released(w)
    comment_id = w.sim.comment(REPO, number, "rita", "/promote internal --dry-run")
    await w.settle()
    reply = reply_to(w, comment_id)
    assert "would be refused" in reply
    assert "❌ @rita may promote to internal" in reply
    assert "❌ 1 sign-off in dev" in reply
    assert reactions(w, comment_id) == ["eyes", "confused"]
    assert deployments(w, "internal") == []


async def rolled_back_dev(w: World) -> tuple[str, str]:
    """Two releases through dev, then `/rollback dev` to the first, live: (first, second)."""
    setup_repo(w, config=RINGS)
    _, first = await released(w)
    second_pr, second = await released(w, author="carol")
    await command(w, second_pr, "/rollback dev", by="alice")
    await cd(w, "dev")
    return first, second


async def test_a_deploy_around_ringbot_of_the_live_release_does_not_lift_a_hold(w: World) -> None:
    first, _ = await rolled_back_dev(w)
    dep_id = w.sim.request_protection_rule(REPO, "dev", first)  # the CD redeploys it by hand
    await w.settle()
    w.sim.post_deployment_status(REPO, dep_id, "success", by="deploy-bot")
    await w.settle()
    count = len(deployments(w, "dev"))
    await merge(w, await ready_pr(w, author="carol"))  # a new green release on main
    assert len(deployments(w, "dev")) == count


async def test_a_held_ring_refuses_a_deploy_around_ringbot(w: World) -> None:
    _, second = await rolled_back_dev(w)
    w.sim.request_protection_rule(REPO, "dev", second, run_id=77)
    await w.settle()
    answer = w.sim.protection_rule_reviews[-1]
    assert answer.state == "rejected" and "rolled back" in answer.comment


async def test_a_person_may_lift_a_hold_but_not_a_freeze(w: World) -> None:
    await rolled_back_dev(w)
    third = await ready_pr(w, author="carol")
    await merge(w, third)
    await command(w, third, "/freeze dev incident 7", by="alice")
    count = len(deployments(w, "dev"))
    reply = await command(w, third, "/promote dev", by="bob")
    assert "😕" in reply and "dev is closed 🧊" in reply
    dry = await command(w, third, "/promote dev --dry-run", by="bob")
    assert "closed 🧊" in dry
    assert len(deployments(w, "dev")) == count
