"""What GitHub refuses for size (422), the labels of an issue, and requests no route serves."""

from __future__ import annotations

import pytest

from bot.sim import Simulator
from bot.sim.errors import SimError

from ..builders.sim import pull_as_app
from .api import Api, split

R = "/repos/{owner}/{repo}"


async def test_a_comment_of_65536_characters_is_accepted(
    sim: Simulator, api: Api, repo: str
) -> None:
    n = await pull_as_app(sim, api, repo)
    resp = await api.call(
        "POST", R + "/issues/{n}/comments", n=n, json={"body": "x" * 65_536}, **split(repo)
    )
    assert resp.status == 201


async def test_a_longer_comment_is_refused_like_github(sim: Simulator, api: Api, repo: str) -> None:
    n = await pull_as_app(sim, api, repo)
    resp = await api.call(
        "POST", R + "/issues/{n}/comments", n=n, json={"body": "x" * 65_537}, **split(repo)
    )
    assert resp.status == 422
    assert resp.body["errors"][0]["message"] == "Body is too long (maximum is 65536 characters)"


async def test_an_edit_past_the_limit_is_refused(sim: Simulator, api: Api, repo: str) -> None:
    n = await pull_as_app(sim, api, repo)
    mine = await api.call(
        "POST", R + "/issues/{n}/comments", n=n, json={"body": "hi"}, **split(repo)
    )
    resp = await api.call(
        "PATCH",
        R + "/issues/comments/{id}",
        id=mine.body["id"],
        json={"body": "x" * 65_537},
        **split(repo),
    )
    assert resp.status == 422 and sim.repo(repo).comments[mine.body["id"]].body == "hi"


def test_a_person_cannot_comment_past_the_limit_either(sim: Simulator, repo: str) -> None:
    n = sim.open_pull_request(repo, author="bob", title="Add x")
    with pytest.raises(SimError) as refused:
        sim.comment(repo, n, "alice", "x" * 65_537)
    assert refused.value.status == 422


@pytest.mark.parametrize(
    ("summary", "message"),
    [
        pytest.param("x" * 65_536, "Only 65535 characters are allowed", id="characters"),
        pytest.param("é" * 40_000, "summary exceeds a maximum bytesize of 65535", id="bytes"),
    ],
)
async def test_a_check_run_summary_over_65535_is_refused(
    sim: Simulator, api: Api, repo: str, summary: str, message: str
) -> None:
    await api.login(repo)
    sha = sim.repo(repo).branches["main"]
    resp = await api.call(
        "POST",
        R + "/check-runs",
        json={"name": "n", "head_sha": sha, "output": {"title": "t", "summary": summary}},
        **split(repo),
    )
    assert resp.status == 422 and message in str(resp.body)
    assert not sim.repo(repo).check_runs


async def test_a_check_run_update_over_the_limit_is_refused(
    sim: Simulator, api: Api, repo: str
) -> None:
    await api.login(repo)
    sha = sim.repo(repo).branches["main"]
    run = await api.call(
        "POST", R + "/check-runs", json={"name": "n", "head_sha": sha}, **split(repo)
    )
    resp = await api.call(
        "PATCH",
        R + "/check-runs/{id}",
        id=run.body["id"],
        json={"output": {"title": "t", "summary": "s", "text": "x" * 65_536}},
        **split(repo),
    )
    assert resp.status == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": "x" * 51}, "name", id="name"),
        pytest.param({"name": "ok", "description": "d" * 101}, "description", id="description"),
    ],
)
async def test_a_label_over_githubs_limits_is_refused(
    sim: Simulator, api: Api, repo: str, body: dict[str, str], field: str
) -> None:
    await api.login(repo)
    resp = await api.call("POST", R + "/labels", json=body, **split(repo))
    assert resp.status == 422 and resp.body["errors"][0]["field"] == field
    assert not sim.repo(repo).labels


async def test_a_deployment_status_description_over_140_is_refused(
    sim: Simulator, api: Api, repo: str
) -> None:
    await api.login(repo)
    sha = sim.repo(repo).branches["main"]
    dep = await api.call(
        "POST", R + "/deployments", json={"ref": sha, "required_contexts": []}, **split(repo)
    )
    resp = await api.call(
        "POST",
        R + "/deployments/{id}/statuses",
        id=dep.body["id"],
        json={"state": "success", "description": "d" * 141},
        **split(repo),
    )
    assert resp.status == 422 and not sim.repo(repo).deployment_statuses


async def test_a_release_body_over_125000_is_refused(sim: Simulator, api: Api, repo: str) -> None:
    await api.login(repo)
    body = {"tag_name": "v1", "target_commitish": "main", "body": "b" * 125_001}
    resp = await api.call("POST", R + "/releases", json=body, **split(repo))
    assert resp.status == 422 and not sim.repo(repo).releases


async def test_the_labels_of_an_issue_are_listed_page_by_page(
    sim: Simulator, api: Api, repo: str
) -> None:
    n = await pull_as_app(sim, api, repo)
    for name in ("hold", "ring:dev", "bug"):
        sim.add_label(repo, n, name, by="alice")
    first = await api.call(
        "GET", R + "/issues/{n}/labels", n=n, query={"per_page": "2"}, **split(repo)
    )
    second = await api.call(
        "GET", R + "/issues/{n}/labels", n=n, query={"per_page": "2", "page": "2"}, **split(repo)
    )
    assert [x["name"] for x in first.body + second.body] == ["hold", "ring:dev", "bug"]
    assert 'rel="next"' in first.headers["Link"]


async def test_a_request_no_route_serves_answers_404_and_is_recorded(
    sim: Simulator, api: Api, repo: str
) -> None:
    n = await pull_as_app(sim, api, repo)
    wrong_method = await api.call("PATCH", R + "/issues/{n}/comments", n=n, json={}, **split(repo))
    no_path = await api.call("GET", R + "/no-such-thing", **split(repo))
    assert wrong_method.status == no_path.status == 404
    assert wrong_method.body["message"] == "Not Found"
    assert [(r.method, r.status) for r in sim.unrouted] == [("PATCH", 404), ("GET", 404)]


async def test_a_missing_resource_is_a_404_but_not_a_missing_route(
    sim: Simulator, api: Api, repo: str
) -> None:
    await api.login(repo)
    resp = await api.call("GET", R + "/contents/{path}", path="nope.txt", **split(repo))
    assert resp.status == 404 and sim.unrouted == []
