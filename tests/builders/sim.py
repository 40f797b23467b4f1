"""Builders for the simulator's own tests: a repository, a pull request, and one scenario that
calls every REST route and makes the simulator emit every event it can."""

from __future__ import annotations

from bot.sim import Simulator

from ..sim.api import Api, split

R = "/repos/{owner}/{repo}"


def widgets(sim: Simulator, name: str = "acme/widgets") -> str:
    """A repository with a config file and alice (write), bob (none) and mia (maintain)."""
    sim.create_repo(name, files={".github/ringbot.yml": "merge_gate:\n  approvals: 1\n"})
    sim.add_collaborator(name, "alice", "write")
    sim.add_collaborator(name, "mia", "maintain")
    return name


async def pull_as_app(
    sim: Simulator, api: Api, repo: str, *, author: str = "bob", title: str = "Add x"
) -> int:
    """A pull request by `author`, with `api` logged in as the App's installation."""
    await api.login(repo)
    return sim.open_pull_request(repo, author=author, title=title)


async def run_everything(sim: Simulator, api: Api, repo: str) -> None:
    """Drive the Python API and the REST API (as the App) through every feature."""
    p = split(repo)
    app_auth = f"Bearer {api.app_jwt()}"
    await api.call("GET", "/app", auth=app_auth)
    insts = await api.call("GET", "/app/installations", auth=app_auth)
    inst_id = insts.body[0]["id"]
    await api.call(
        "GET", "/app/installations/{installation_id}", installation_id=inst_id, auth=app_auth
    )
    await api.login(repo)
    main = sim.push(repo, {"src/a.py": "print(1)\n"}, author="alice", message="Add a")
    org = p["owner"]
    sim.create_team(f"{org}/qa")
    sim.add_team_member(f"{org}/qa", "carol")
    membership = "/orgs/{org}/teams/{team_slug}/memberships/{username}"
    await api.call("GET", membership, org=org, team_slug="qa", username="carol")
    n = sim.open_pull_request(repo, author="bob", title="Add x", files={"x.txt": "x\n"})
    fork_n = sim.open_pull_request(repo, author="carol", title="From fork", fork=True)
    pr = sim.repo(repo).pulls[n]
    sha = sim.push_to_pull_request(repo, n, {"x.txt": "x2\n"})
    sim.push_to_pull_request(repo, fork_n, {"f.txt": "f\n"})
    sim.set_draft(repo, n, True)
    sim.set_draft(repo, n, False)
    sim.add_label(repo, n, "hold", by="alice")
    sim.remove_label(repo, n, "hold", by="alice")
    sim.close_pull_request(repo, fork_n)
    sim.reopen_pull_request(repo, fork_n)
    ci = sim.set_check_run(repo, sha, "build", status="in_progress", conclusion=None)
    sim.set_check_run(repo, sha, "build", status="completed", conclusion="success")
    sim.rerequest_check_run(repo, ci, by="alice")
    sim.set_status(repo, sha, "ci/jenkins", "pending")
    sim.set_status(
        repo, sha, "ci/jenkins", "success", description="ok", target_url="https://ci.example/1"
    )
    rv = sim.review(repo, n, "alice", "APPROVED")
    sim.review(repo, n, "mia", "CHANGES_REQUESTED", body="no")
    sim.review(repo, n, "mia", "COMMENTED", body="hm")
    sim.dismiss_review(repo, n, rv, by="mia")
    cid = sim.comment(repo, n, "alice", "/promote internal")
    sim.edit_comment(repo, cid, "/promote dev", by="alice")

    # The App's own REST writes, each echoed back as a webhook.
    await api.call("GET", R, **p)
    await api.call(
        "GET", R + "/contents/{path}", path=".github/ringbot.yml", query={"ref": "main"}, **p
    )
    await api.call("GET", R + "/contents/{path}", path="missing.txt", **p)
    await api.call("GET", R + "/pulls", query={"state": "all", "per_page": "1"}, **p)
    await api.call("GET", R + "/pulls", query={"base": "main"}, **p)
    await api.call("GET", R + "/pulls/{pull_number}", pull_number=n, **p)
    await api.call("GET", R + "/pulls/{pull_number}", pull_number=fork_n, **p)
    await api.call("GET", R + "/pulls/{pull_number}/reviews", pull_number=n, **p)
    run = await api.call(
        "POST",
        R + "/check-runs",
        json={"name": "ringbot/merge-gate", "head_sha": sha, "status": "in_progress"},
        **p,
    )
    await api.call("GET", R + "/check-runs/{check_run_id}", check_run_id=run.body["id"], **p)
    await api.call(
        "PATCH",
        R + "/check-runs/{check_run_id}",
        check_run_id=run.body["id"],
        json={"conclusion": "success", "output": {"title": "ok", "summary": "all good"}},
        **p,
    )
    await api.call(
        "PATCH",
        R + "/check-runs/{check_run_id}",
        check_run_id=ci,
        json={"status": "completed"},
        **p,
    )
    sim.rerequest_check_run(repo, run.body["id"], by="alice")
    await api.call("GET", R + "/commits/{ref}/check-runs", ref=sha, **p)
    await api.call(
        "GET", R + "/commits/{ref}/check-runs", ref=sha, query={"check_name": "build"}, **p
    )
    await api.call("GET", R + "/commits/{ref}/status", ref=sha, **p)
    await api.call("GET", R + "/commits/{ref}/statuses", ref=sha, **p)
    for who in ("alice", "mia", "acme", "stranger"):
        await api.call("GET", R + "/collaborators/{username}/permission", username=who, **p)
    await api.call("GET", R + "/issues/{issue_number}/comments", issue_number=n, **p)
    await api.call("GET", R + "/issues/comments/{comment_id}", comment_id=cid, **p)
    mine = await api.call(
        "POST", R + "/issues/{issue_number}/comments", issue_number=n, json={"body": "hi"}, **p
    )
    await api.call(
        "PATCH",
        R + "/issues/comments/{comment_id}",
        comment_id=mine.body["id"],
        json={"body": "hey"},
        **p,
    )
    await api.call(
        "PATCH", R + "/issues/comments/{comment_id}", comment_id=cid, json={"body": "x"}, **p
    )
    for _ in range(2):
        await api.call(
            "POST",
            R + "/issues/comments/{comment_id}/reactions",
            comment_id=cid,
            json={"content": "eyes"},
            **p,
        )
    await api.call("GET", R + "/issues/comments/{comment_id}/reactions", comment_id=cid, **p)
    await api.call("POST", R + "/labels", json={"name": "ring:dev", "color": "00ff00"}, **p)
    await api.call("POST", R + "/labels", json={"name": "ring:dev"}, **p)
    await api.call("POST", R + "/labels", json={"name": "needs review: ringbot 🚀"}, **p)
    await api.call("GET", R + "/labels", **p)
    await api.call("GET", R + "/labels/{name}", name="ring:dev", **p)
    await api.call("GET", R + "/labels/{name}", name="nope", **p)
    await api.call(
        "POST",
        R + "/issues/{issue_number}/labels",
        issue_number=n,
        json={"labels": ["ring:dev"]},
        **p,
    )
    await api.call(
        "GET", R + "/issues/{issue_number}/labels", issue_number=n, query={"per_page": "1"}, **p
    )
    await api.call(
        "DELETE", R + "/issues/{issue_number}/labels/{name}", issue_number=n, name="ring:dev", **p
    )
    await api.call(
        "DELETE", R + "/issues/{issue_number}/labels/{name}", issue_number=n, name="ring:dev", **p
    )
    await too_long(api, p, n, sha)
    await api.call("GET", R + "/commits/{ref}", ref=sha, **p)
    await api.call("GET", R + "/commits/{ref}", ref="f" * 40, **p)
    await api.call("GET", R + "/commits", query={"sha": sha, "per_page": "2"}, **p)

    merge_sha = sim.merge_pull_request(repo, n, by="alice")
    await api.call("GET", R + "/compare/{basehead}", basehead=f"{main}...{merge_sha}", **p)
    await api.call("GET", R + "/compare/{basehead}", basehead=f"{merge_sha}...{main}", **p)
    await api.call("GET", R + "/commits/{commit_sha}/pulls", commit_sha=merge_sha, **p)
    await api.call("GET", R + "/commits/{commit_sha}/pulls", commit_sha=pr.commit_shas[0], **p)
    sim.start_merge_group(repo, fork_n)
    await run_deployments(sim, api, repo, merge_sha)
    await run_hook_log(sim, api)


async def run_hook_log(sim: Simulator, api: Api) -> None:
    """The App's delivery log: attempts listed a page at a time, one read, one redelivered."""
    for d in sim.deliveries[-2:]:  # two attempts that found nobody listening
        sim.hook_log.record(d, url="http://127.0.0.1:9/webhook", duration=0.01, request_headers={})
    app_auth = f"Bearer {api.app_jwt()}"
    listed = await api.call("GET", "/app/hook/deliveries", query={"per_page": "1"}, auth=app_auth)
    delivery_id = listed.body[0]["id"]
    await api.call(
        "GET", "/app/hook/deliveries/{delivery_id}", delivery_id=delivery_id, auth=app_auth
    )
    await api.call(
        "POST",
        "/app/hook/deliveries/{delivery_id}/attempts",
        delivery_id=delivery_id,
        auth=app_auth,
    )


async def run_deployments(sim: Simulator, api: Api, repo: str, sha: str) -> None:
    """Stage 2: deployments, statuses, environments, variables, releases, protection rules."""
    p = split(repo)
    sim.set_status(repo, sha, "ci/jenkins", "failure")
    conflict = await api.call(
        "POST", R + "/deployments", json={"ref": sha, "environment": "dev"}, **p
    )
    assert conflict.status == 409
    body = {
        "ref": sha,
        "environment": "dev",
        "auto_merge": False,
        "required_contexts": [],
        "payload": {"ring": "dev"},
    }
    d1 = await api.call("POST", R + "/deployments", json=body, **p)
    await api.call(
        "POST",
        R + "/deployments/{deployment_id}/statuses",
        deployment_id=d1.body["id"],
        json={"state": "success"},
        **p,
    )
    d2 = await api.call("POST", R + "/deployments", json={**body, "description": "again"}, **p)
    sim.post_deployment_status(repo, d2.body["id"], "in_progress")
    sim.post_deployment_status(
        repo, d2.body["id"], "success", environment_url="https://dev.example"
    )
    await api.call("GET", R + "/deployments", query={"environment": "dev"}, **p)
    await api.call("GET", R + "/deployments/{deployment_id}", deployment_id=d1.body["id"], **p)
    await api.call(
        "GET", R + "/deployments/{deployment_id}/statuses", deployment_id=d1.body["id"], **p
    )
    await api.call(
        "PUT", R + "/environments/{environment_name}", environment_name="internal", json={}, **p
    )
    await api.call("GET", R + "/environments/{environment_name}", environment_name="internal", **p)
    # The settings the protection check reads: unset, then set.
    await api.call("GET", R + "/rules/branches/{branch}", branch="main", **p)
    protection = R + "/branches/{branch}/protection/required_status_checks"
    await api.call("GET", protection, branch="main", **p)
    sim.guards.rulesets[repo.lower()] = ["ringbot/merge-gate"]
    sim.guards.protection[repo.lower()] = ["ringbot/merge-gate"]
    sim.guards.env_rules[(repo.lower(), "internal")] = [sim.state.github_app.id]
    await api.call("GET", R + "/rules/branches/{branch}", branch="main", **p)
    await api.call("GET", protection, branch="main", **p)
    rules = R + "/environments/{environment_name}/deployment_protection_rules"
    await api.call("GET", rules, environment_name="internal", **p)
    await api.call("GET", R + "/environments", **p)
    env = {"environment_name": "dev", **p}
    await api.call(
        "POST",
        R + "/environments/{environment_name}/variables",
        json={"name": "FEATURE_X", "value": "on"},
        **env,
    )
    await api.call("GET", R + "/environments/{environment_name}/variables", **env)
    await api.call(
        "GET", R + "/environments/{environment_name}/variables/{name}", name="FEATURE_X", **env
    )
    await api.call(
        "PATCH",
        R + "/environments/{environment_name}/variables/{name}",
        name="FEATURE_X",
        json={"value": "off"},
        **env,
    )
    await api.call(
        "DELETE", R + "/environments/{environment_name}/variables/{name}", name="FEATURE_X", **env
    )
    long_status = await api.call(
        "POST",
        R + "/deployments/{deployment_id}/statuses",
        deployment_id=d1.body["id"],
        json={"state": "success", "description": "d" * 141},
        **p,
    )
    long_notes = {"tag_name": "v0", "target_commitish": sha, "body": "b" * 125_001}
    long_release = await api.call("POST", R + "/releases", json=long_notes, **p)
    assert long_status.status == long_release.status == 422
    rel = {"tag_name": "v1.0.0", "target_commitish": sha, "name": "v1.0.0", "body": "notes"}
    await api.call("POST", R + "/releases", json=rel, **p)
    await api.call("POST", R + "/releases", json=rel, **p)
    await api.call("GET", R + "/releases", **p)
    await api.call("GET", R + "/releases/tags/{tag}", tag="v1.0.0", **p)
    sim.request_protection_rule(repo, "production", sha, run_id=77)
    await api.call(
        "POST",
        R + "/actions/runs/{run_id}/deployment_protection_rule",
        run_id=77,
        json={"environment_name": "production", "state": "approved", "comment": "ok"},
        **p,
    )


async def too_long(api: Api, p: dict[str, str], n: int, sha: str) -> None:
    """Writes over GitHub's size limits: each is refused with GitHub's 422 body."""
    refused = [
        await api.call(
            "POST",
            R + "/issues/{issue_number}/comments",
            issue_number=n,
            json={"body": "x" * 65_537},
            **p,
        ),
        await api.call(
            "POST",
            R + "/check-runs",
            json={"name": "n", "head_sha": sha, "output": {"title": "t", "summary": "x" * 65_536}},
            **p,
        ),
        await api.call(
            "POST",
            R + "/check-runs",
            json={"name": "n", "head_sha": sha, "output": {"title": "t", "summary": "é" * 40_000}},
            **p,
        ),
        await api.call("POST", R + "/labels", json={"name": "x" * 51}, **p),
        await api.call("POST", R + "/labels", json={"name": "ok", "description": "d" * 101}, **p),
    ]
    assert [r.status for r in refused] == [422] * len(refused)
