"""World behaviour: commit graph, checks, reactions, deployments and their echoes."""

from __future__ import annotations

from bot.sim import Simulator

from .api import Api, split

COMPARE = "/repos/{owner}/{repo}/compare/{basehead}"


async def test_compare_reports_ahead_behind_identical_diverged(
    sim: Simulator, api: Api, repo: str
) -> None:
    """Statuses and counts follow the commit graph."""
    base = sim.repo(repo).branches["main"]
    a = sim.push(repo, {"a": "1"})
    side = sim.push(repo, {"s": "1"}, branch="side")  # branches from a
    b = sim.push(repo, {"b": "1"})
    await api.login(repo)

    async def cmp(x: str, y: str) -> tuple[str, int, int]:
        body = (await api.call("GET", COMPARE, basehead=f"{x}...{y}", **split(repo))).body
        return body["status"], body["ahead_by"], body["behind_by"]

    assert await cmp(base, b) == ("ahead", 2, 0)
    assert await cmp(b, base) == ("behind", 0, 2)
    assert await cmp(a, a) == ("identical", 0, 0)
    assert await cmp(b, side) == ("diverged", 1, 1)
    body = (await api.call("GET", COMPARE, basehead="main...side", **split(repo))).body
    assert body["merge_base_commit"]["sha"] == a


async def test_merge_commit_has_two_parents_and_pulls_lookup(
    sim: Simulator, api: Api, repo: str
) -> None:
    """merge_pull_request makes a merge commit whose /pulls lists the PR."""
    n = sim.open_pull_request(repo, author="bob", title="x", files={"x": "1"})
    head = sim.repo(repo).pulls[n].head_sha
    merge = sim.merge_pull_request(repo, n, by="alice")
    assert sim.repo(repo).commits[merge].parents[1] == head
    assert sim.repo(repo).commits[merge].files["x"] == "1"
    await api.login(repo)
    pulls = await api.call(
        "GET", "/repos/{owner}/{repo}/commits/{sha}/pulls", sha=merge, **split(repo)
    )
    assert [p["number"] for p in pulls.body] == [n]
    events = [(d.event, d.action) for d in sim.emitted][-3:]
    assert ("pull_request", "closed") in events and ("push", None) in events


async def test_reaction_repeat_is_200_new_is_201(sim: Simulator, api: Api, repo: str) -> None:
    """POST reaction: 201 first, 200 with the same reaction the second time."""
    n = sim.open_pull_request(repo, author="bob", title="x")
    cid = sim.comment(repo, n, "alice", "/status")
    await api.login(repo)
    path = "/repos/{owner}/{repo}/issues/comments/{cid}/reactions"
    a = await api.call("POST", path, cid=cid, json={"content": "eyes"}, **split(repo))
    b = await api.call("POST", path, cid=cid, json={"content": "eyes"}, **split(repo))
    assert (a.status, b.status) == (201, 200) and a.body["id"] == b.body["id"]


async def test_only_the_creating_app_may_update_a_check_run(
    sim: Simulator, api: Api, repo: str
) -> None:
    """A CI app's run is 403 to ringbot; its own run carries app.slug ringbot."""
    sha = sim.repo(repo).branches["main"]
    ci = sim.set_check_run(repo, sha, "build")
    await api.login(repo)
    path = "/repos/{owner}/{repo}/check-runs/{id}"
    denied = await api.call("PATCH", path, id=ci, json={"status": "completed"}, **split(repo))
    mine = await api.call(
        "POST",
        "/repos/{owner}/{repo}/check-runs",
        json={"name": "ringbot/merge-gate", "head_sha": sha},
        **split(repo),
    )
    assert denied.status == 403 and mine.body["app"]["slug"] == "ringbot"
    assert sim.repo(repo).check_runs[ci].app.slug == "ci"


async def test_check_suite_completes_when_all_runs_complete(sim: Simulator, repo: str) -> None:
    """Two runs of one app: check_suite completed only after the second completes."""
    sha = sim.repo(repo).branches["main"]
    sim.set_check_run(repo, sha, "build", status="in_progress", conclusion=None)
    sim.set_check_run(repo, sha, "lint", status="completed", conclusion="success")
    assert not [d for d in sim.emitted if d.event == "check_suite" and d.action == "completed"]
    sim.set_check_run(repo, sha, "build", status="completed", conclusion="failure")
    done = [d for d in sim.emitted if d.event == "check_suite" and d.action == "completed"]
    assert len(done) == 1 and done[0].payload["check_suite"]["conclusion"] == "failure"


async def test_bot_writes_are_echoed_with_bot_sender(sim: Simulator, api: Api, repo: str) -> None:
    """The App's label and comment come back as webhooks sent by ringbot[bot]."""
    n = sim.open_pull_request(repo, author="bob", title="x")
    await api.login(repo)
    await api.call(
        "POST",
        "/repos/{owner}/{repo}/issues/{n}/labels",
        n=n,
        json={"labels": ["ring:dev"]},
        **split(repo),
    )
    await api.call(
        "POST", "/repos/{owner}/{repo}/issues/{n}/comments", n=n, json={"body": "hi"}, **split(repo)
    )
    echoed = [
        d for d in sim.deliveries if d.action in ("labeled", "created") and d.event != "check_run"
    ]
    assert {d.event for d in echoed} >= {"pull_request", "issue_comment"}
    assert all(d.payload["sender"]["login"] == "ringbot[bot]" for d in echoed)


async def test_auto_inactive_marks_older_successful_deployments(
    sim: Simulator, api: Api, repo: str
) -> None:
    """A success deactivates older non-transient successes in the same environment, unless disabled."""
    await api.login(repo)
    body = {"ref": "main", "environment": "dev", "required_contexts": []}

    async def deploy(env: str = "dev", **extra: object) -> int:
        resp = await api.call(
            "POST",
            "/repos/{owner}/{repo}/deployments",
            json={**body, "environment": env, **extra},
            **split(repo),
        )
        return int(resp.body["id"])

    d1, other, d2 = await deploy(), await deploy("internal"), await deploy()
    for d in (d1, other):
        sim.post_deployment_status(repo, d, "success")
    sim.post_deployment_status(repo, d2, "success")
    assert sim.latest_status(sim.repo(repo), d1) == "inactive"
    assert sim.latest_status(sim.repo(repo), other) == "success"
    d3 = await deploy()
    sim.post_deployment_status(repo, d3, "success", auto_inactive=False)
    assert sim.latest_status(sim.repo(repo), d2) == "success"


async def test_deployment_needs_green_contexts_unless_told_otherwise(
    sim: Simulator, api: Api, repo: str
) -> None:
    """Omitting required_contexts checks every context (409 on a failure); [] skips the check."""
    sha = sim.repo(repo).branches["main"]
    sim.set_status(repo, sha, "ci/jenkins", "failure")
    await api.login(repo)
    path = "/repos/{owner}/{repo}/deployments"
    refused = await api.call("POST", path, json={"ref": sha, "environment": "dev"}, **split(repo))
    created = await api.call(
        "POST",
        path,
        json={"ref": sha, "environment": "dev", "required_contexts": []},
        **split(repo),
    )
    assert (refused.status, created.status) == (409, 201)
    assert created.body["creator"]["login"] == "ringbot[bot]"
    assert sim.emitted[-1].event == "deployment"


async def test_release_creates_tag_and_refuses_duplicates(
    sim: Simulator, api: Api, repo: str
) -> None:
    """A release tags target_commitish; the same tag again is 422."""
    await api.login(repo)
    body = {"tag_name": "v1", "target_commitish": "main"}
    first = await api.call("POST", "/repos/{owner}/{repo}/releases", json=body, **split(repo))
    again = await api.call("POST", "/repos/{owner}/{repo}/releases", json=body, **split(repo))
    assert (first.status, again.status) == (201, 422)
    assert sim.repo(repo).tags["v1"] == sim.repo(repo).branches["main"]


async def test_protection_rule_round_trip(sim: Simulator, api: Api, repo: str) -> None:
    """requested carries a callback URL on the sim; the App's answer is recorded."""
    sha = sim.repo(repo).branches["main"]
    sim.request_protection_rule(repo, "production", sha, run_id=5)
    event = sim.emitted[-1].payload
    url = event["deployment_callback_url"]
    assert url.startswith(sim.public_url) and url.endswith(
        "/actions/runs/5/deployment_protection_rule"
    )
    await api.login(repo)
    resp = await api.call(
        "POST",
        "/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule",
        run_id=5,
        json={"environment_name": "production", "state": "rejected", "comment": "skip"},
        **split(repo),
    )
    assert resp.status == 204
    assert sim.protection_rule_reviews[-1].state == "rejected"


async def test_variables_round_trip(api: Api, repo: str) -> None:
    """Create, read, update and delete an environment variable."""
    await api.login(repo)
    env = {"environment_name": "dev", **split(repo)}
    base = "/repos/{owner}/{repo}/environments/{environment_name}"
    await api.call("PUT", base, json={}, **env)
    await api.call("POST", base + "/variables", json={"name": "feature_x", "value": "on"}, **env)
    dup = await api.call(
        "POST", base + "/variables", json={"name": "FEATURE_X", "value": "on"}, **env
    )
    await api.call(
        "PATCH", base + "/variables/{name}", name="FEATURE_X", json={"value": "off"}, **env
    )
    got = await api.call("GET", base + "/variables/{name}", name="FEATURE_X", **env)
    await api.call("DELETE", base + "/variables/{name}", name="FEATURE_X", **env)
    gone = await api.call("GET", base + "/variables/{name}", name="FEATURE_X", **env)
    assert dup.status == 409 and got.body["value"] == "off" and gone.status == 404


async def test_collaborator_permission_levels(api: Api, repo: str) -> None:
    """Owner admin, maintain reads as write with role maintain, strangers none."""
    await api.login(repo)
    path = "/repos/{owner}/{repo}/collaborators/{username}/permission"
    got = {}
    for who in ("acme", "mia", "alice", "nobody"):
        body = (await api.call("GET", path, username=who, **split(repo))).body
        got[who] = (body["permission"], body["role_name"])
    assert got == {
        "acme": ("admin", "admin"),
        "mia": ("write", "maintain"),
        "alice": ("write", "write"),
        "nobody": ("none", "none"),
    }
