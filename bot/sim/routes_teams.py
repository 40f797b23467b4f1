"""REST routes for organization teams: GET a user's team membership (Members: read)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from bot.sim import shapes
from bot.sim.errors import SimError, not_found
from bot.sim.http import caller_of, reply, sim_of
from bot.sim.teams import Teams

TEAMS = web.AppKey("teams", Teams)


async def get_membership(request: web.Request) -> web.Response:
    """GET /orgs/{org}/teams/{team_slug}/memberships/{username}: `team-membership`, or 404
    when the user is not a member. An installation sees only its own organization's teams."""
    teams = request.app[TEAMS]
    org, slug = request.match_info["org"], request.match_info["team_slug"]
    login = request.match_info["username"]
    caller = caller_of(request)
    if caller.kind == "installation":
        installation = sim_of(request).state.installations.get(caller.installation_id or 0)
        if installation is None or installation.account.login.lower() != org.lower():
            raise not_found()
    if org.lower() in {o.lower() for o in teams.unreadable}:
        raise SimError(403, shapes.error("Resource not accessible by integration"))
    state = teams.membership(org, slug, login)
    if state is None:
        raise not_found()
    api = sim_of(request).state.api
    org_, slug_, login_ = (quote(part, safe="") for part in (org, slug, login))
    url = f"{api}/orgs/{org_}/teams/{slug_}/memberships/{login_}"
    return reply({"url": url, "role": "member", "state": state})


def add(router: web.UrlDispatcher) -> None:
    """Register the team routes."""
    router.add_get("/orgs/{org}/teams/{team_slug}/memberships/{username}", get_membership)
