"""Pagination, ETags, rate-limit headers and fault injection."""

from __future__ import annotations

import time

from bot.clock import ManualClock
from bot.sim import Simulator

from .api import Api, split

RUNS = "/repos/{owner}/{repo}/commits/{ref}/check-runs"


async def test_more_than_100_check_runs_paginate_with_links(
    sim: Simulator, api: Api, repo: str
) -> None:
    """150 runs: page 1 of 100 links next/last; page 2 has 50 and no next."""
    sha = sim.repo(repo).branches["main"]
    for i in range(150):
        sim.set_check_run(repo, sha, f"job-{i}")
    await api.login(repo)
    first = await api.call("GET", RUNS, ref=sha, query={"per_page": "100"}, **split(repo))
    second = await api.call(
        "GET", RUNS, ref=sha, query={"per_page": "100", "page": "2"}, **split(repo)
    )
    assert first.body["total_count"] == 150 and len(first.body["check_runs"]) == 100
    assert 'rel="next"' in first.headers["Link"] and 'rel="last"' in first.headers["Link"]
    assert sim.public_url in first.headers["Link"]
    assert len(second.body["check_runs"]) == 50 and 'rel="next"' not in second.headers["Link"]


async def test_per_page_defaults_to_30(sim: Simulator, api: Api, repo: str) -> None:
    """Lists default to 30 items."""
    for i in range(31):
        sim.open_pull_request(repo, author="bob", title=f"pr {i}")
    await api.login(repo)
    resp = await api.call("GET", "/repos/{owner}/{repo}/pulls", **split(repo))
    assert len(resp.body) == 30 and 'rel="next"' in resp.headers["Link"]


async def test_if_none_match_answers_304_without_spending_rate_limit(api: Api, repo: str) -> None:
    """A matching ETag gives 304 with an empty body and the same remaining count."""
    await api.login(repo)
    first = await api.call("GET", "/repos/{owner}/{repo}", **split(repo))
    again = await api.call(
        "GET",
        "/repos/{owner}/{repo}",
        headers={"If-None-Match": first.headers["ETag"]},
        **split(repo),
    )
    assert again.status == 304 and again.body is None
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]


async def test_etag_changes_when_state_changes(sim: Simulator, api: Api, repo: str) -> None:
    """After a write, the old ETag no longer matches."""
    await api.login(repo)
    first = await api.call("GET", "/repos/{owner}/{repo}/pulls", **split(repo))
    sim.open_pull_request(repo, author="bob", title="new")
    again = await api.call(
        "GET",
        "/repos/{owner}/{repo}/pulls",
        headers={"If-None-Match": first.headers["ETag"]},
        **split(repo),
    )
    assert again.status == 200 and len(again.body) == 1


async def test_rate_limit_headers_count_down(api: Api, repo: str) -> None:
    """Every response carries x-ratelimit-*; remaining drops by one per request."""
    await api.login(repo)
    a = await api.call("GET", "/repos/{owner}/{repo}", **split(repo))
    b = await api.call("GET", "/repos/{owner}/{repo}", **split(repo))
    assert a.headers["x-ratelimit-limit"] == "5000" and a.headers["x-ratelimit-resource"] == "core"
    assert int(a.headers["x-ratelimit-remaining"]) - int(b.headers["x-ratelimit-remaining"]) == 1
    assert int(b.headers["x-ratelimit-reset"]) > time.time()


async def test_exhausted_rate_limit_is_403_until_reset(
    sim: Simulator, api: Api, repo: str, clock: ManualClock
) -> None:
    """set_rate_limit(0): 403 "API rate limit exceeded" until the reset time passes."""
    await api.login(repo)
    sim.set_rate_limit(remaining=0, reset_in=2)
    blocked = await api.call("GET", "/repos/{owner}/{repo}", **split(repo))
    clock.advance(seconds=3)
    after = await api.call("GET", "/repos/{owner}/{repo}", **split(repo))
    assert blocked.status == 403 and "rate limit exceeded" in blocked.body["message"]
    assert blocked.headers["x-ratelimit-remaining"] == "0"
    assert after.status == 200


async def test_fault_answers_the_next_matching_request_only(
    sim: Simulator, api: Api, repo: str
) -> None:
    """A 502 fault with count=1 hits one POST /deployments; the retry works."""
    sim.fault(method="POST", path=r"^/repos/.+/deployments$", status=502, count=1)
    await api.login(repo)
    body = {"ref": "main", "environment": "dev", "required_contexts": []}
    first = await api.call("POST", "/repos/{owner}/{repo}/deployments", json=body, **split(repo))
    second = await api.call("POST", "/repos/{owner}/{repo}/deployments", json=body, **split(repo))
    assert (first.status, second.status) == (502, 201)
    assert len(sim.repo(repo).deployments) == 1
    assert [r.status for r in sim.requests if r.path.endswith("/deployments")] == [502, 201]


async def test_fault_after_does_the_write_but_loses_the_answer(
    sim: Simulator, api: Api, repo: str
) -> None:
    """after=True: state changes, the client sees the error (a retry must re-read first)."""
    n = sim.open_pull_request(repo, author="bob", title="x")
    sim.fault(
        method="POST", path=r"/comments$", status=500, after=True, headers={"retry-after": "1"}
    )
    await api.login(repo)
    resp = await api.call(
        "POST", "/repos/{owner}/{repo}/issues/{n}/comments", n=n, json={"body": "hi"}, **split(repo)
    )
    assert resp.status == 500 and resp.headers["retry-after"] == "1"
    assert [c.body for c in sim.repo(repo).comments.values()] == ["hi"]


async def test_request_log_records_installation(sim: Simulator, api: Api, repo: str) -> None:
    """sim.requests has method, path, status and the installation id."""
    await api.login(repo)
    sim.requests.clear()
    await api.call("GET", "/repos/{owner}/{repo}", **split(repo))
    rec = sim.requests[-1]
    assert (rec.method, rec.path, rec.status) == ("GET", "/repos/acme/widgets", 200)
    assert rec.installation_id == sim.repo(repo).installation_id
