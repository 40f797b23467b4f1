"""Every webhook the simulator emits and every REST body it serves match GitHub's descriptions."""

from __future__ import annotations

from bot.sim import Simulator

from ..builders.sim import run_everything
from .api import Api
from .schemas import need_specs, response_errors, webhook_errors


async def test_every_emitted_webhook_matches_its_schema(
    sim: Simulator, api: Api, repo: str
) -> None:
    """Each event+action payload validates against @octokit/openapi-webhooks."""
    need_specs()
    await run_everything(sim, api, repo)
    kinds = {(d.event, d.action) for d in sim.emitted}
    problems = []
    for d in sim.emitted:
        for err in webhook_errors(d.event, d.action, d.payload)[:5]:
            problems.append(f"{d.event}.{d.action}: {err}")
    assert not problems, "\n".join(sorted(set(problems)))
    assert len(kinds) >= 20, sorted(kinds, key=str)


async def test_every_rest_response_matches_its_schema(sim: Simulator, api: Api, repo: str) -> None:
    """Each route answered at least once, and its body validates for that path/method/status."""
    need_specs()
    await run_everything(sim, api, repo)
    problems = []
    for c in api.calls:
        for err in response_errors(c.method, c.template, c.status, c.body)[:5]:
            problems.append(f"{c.method} {c.template} {c.status}: {err}")
    assert not problems, "\n".join(sorted(set(problems)))
    routes = [r for r in sim.app.router.routes() if r.method != "HEAD"]
    assert len({(c.method, c.template) for c in api.calls}) == len(routes)
