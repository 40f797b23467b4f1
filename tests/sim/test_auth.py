"""App JWTs and installation tokens are checked like GitHub checks them."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.sim import Simulator
from bot.sim.auth import generate_key

from .api import Api, split


async def test_valid_jwt_reads_the_app(api: Api) -> None:
    """A JWT signed with the App key and iss == app id gets the App (slug ringbot)."""
    resp = await api.call("GET", "/app", auth=f"Bearer {api.app_jwt()}")
    assert resp.status == 200 and resp.body["slug"] == "ringbot"


async def test_jwt_signed_with_another_key_is_401(api: Api) -> None:
    """A JWT from a foreign key is refused with GitHub's message shape."""
    other, _ = generate_key()
    resp = await api.call("GET", "/app", auth=f"Bearer {api.app_jwt(key=other)}")
    assert resp.status == 401 and "documentation_url" in resp.body


async def test_expired_jwt_is_401_after_the_leeway(api: Api) -> None:
    """exp more than 60 s in the past is refused; within the leeway it passes."""
    late = await api.call(
        "GET", "/app", auth=f"Bearer {api.app_jwt(iat_offset=-700, exp_offset=-61)}"
    )
    lenient = await api.call(
        "GET", "/app", auth=f"Bearer {api.app_jwt(iat_offset=-500, exp_offset=-30)}"
    )
    assert (late.status, lenient.status) == (401, 200)


async def test_installation_token_cannot_call_app_endpoints(api: Api, repo: str) -> None:
    """/app needs a JWT; an installation token is not one."""
    await api.login(repo)
    assert (await api.call("GET", "/app")).status == 401


async def test_token_expires_by_the_simulator_clock(
    sim: Simulator, api: Api, repo: str, clock: ManualClock
) -> None:
    """After token_ttl the token is "Bad credentials"."""
    await api.login(repo)
    ok = await api.call("GET", "/repos/{owner}/{repo}", **split(repo))
    clock.advance(hours=1, seconds=1)
    gone = await api.call("GET", "/repos/{owner}/{repo}", **split(repo))
    assert ok.status == 200 and gone.status == 401 and gone.body["message"] == "Bad credentials"


async def test_unknown_token_is_bad_credentials(api: Api, repo: str) -> None:
    """A token the simulator never issued is 401."""
    resp = await api.call("GET", "/repos/{owner}/{repo}", auth="token ghs_nope", **split(repo))
    assert resp.status == 401 and resp.body["message"] == "Bad credentials"


async def test_token_of_another_installation_sees_404(sim: Simulator, api: Api, repo: str) -> None:
    """An installation token only reaches its own account's repositories."""
    sim.create_repo("other/thing")
    await api.login("other/thing")
    assert (await api.call("GET", "/repos/{owner}/{repo}", **split(repo))).status == 404


async def test_writes_are_attributed_to_the_bot(sim: Simulator, api: Api, repo: str) -> None:
    """A comment posted with an installation token is by ringbot[bot], a Bot."""
    n = sim.open_pull_request(repo, author="bob", title="x")
    await api.login(repo)
    resp = await api.call(
        "POST", "/repos/{owner}/{repo}/issues/{n}/comments", n=n, json={"body": "hi"}, **split(repo)
    )
    assert resp.body["user"]["login"] == "ringbot[bot]" and resp.body["user"]["type"] == "Bot"
