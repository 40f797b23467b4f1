"""What every REST handler and the front door share: the request's parts, caller, body and answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.sim import shapes
from bot.sim.auth import Credentials
from bot.sim.deploys import Deployments
from bot.sim.errors import SimError, not_found
from bot.sim.shared import State
from bot.sim.state import JSON, Repo, User
from bot.sim.world import World


@dataclass(frozen=True)
class Backend:
    """The simulator's parts a request reaches: shared state, both sides of GitHub, credentials."""

    state: State
    world: World
    deployments: Deployments
    credentials: Credentials


@dataclass
class Caller:
    """Who is calling: the App itself (JWT), an installation, or a user token."""

    kind: str
    user: User | None = None
    installation_id: int | None = None

    @property
    def bucket(self) -> str:
        """The rate-limit bucket (GitHub counts per installation or per user)."""
        if self.installation_id is not None:
            return f"installation:{self.installation_id}"
        return f"user:{self.user.login if self.user else 'app'}"


SIM = web.AppKey("sim", Backend)
CALLER = web.RequestKey("caller", Caller)
LINK = web.RequestKey("link", str)


def sim_of(request: web.Request) -> Backend:
    """The simulator's parts serving this request."""
    return request.app[SIM]


def caller_of(request: web.Request) -> Caller:
    """The authenticated caller (set by the front door)."""
    return request[CALLER]


def repo_of(request: web.Request) -> Repo:
    """The addressed repository, or 404 when missing or not visible to this token."""
    name = f"{request.match_info['owner']}/{request.match_info['repo']}"
    r = sim_of(request).state.repos.get(name)
    caller = caller_of(request)
    if r is None or (caller.kind == "installation" and r.installation_id != caller.installation_id):
        raise not_found()
    return r


def int_arg(request: web.Request, key: str) -> int:
    """An integer path parameter, 404 if not a number."""
    try:
        return int(request.match_info[key])
    except ValueError:
        raise not_found() from None


def body_json(data: bytes) -> JSON:
    """A request's JSON object body, or 400 like GitHub."""
    if not data:
        return {}
    try:
        out = json.loads(data)
    except ValueError as exc:
        raise SimError(400, shapes.error("Problems parsing JSON")) from exc
    if not isinstance(out, dict):
        raise SimError(400, shapes.error("Problems parsing JSON"))
    return out


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response (an empty body for 204/304)."""
    if status in (204, 304):
        return web.Response(status=status, headers=headers)
    text = json.dumps(body)
    return web.Response(status=status, text=text, content_type="application/json", headers=headers)


def paginate(request: web.Request, items: list[Any]) -> list[Any]:
    """The requested page of `items`; stores the Link header for the front door to add."""
    try:
        per_page = min(max(int(request.query.get("per_page", "30")), 1), 100)
        page = max(int(request.query.get("page", "1")), 1)
    except ValueError:
        per_page, page = 30, 1
    last = max(1, -(-len(items) // per_page))
    api = sim_of(request).state.api

    def link(n: int, rel: str) -> str:
        query = {**request.query, "per_page": str(per_page), "page": str(n)}
        return f'<{api}{request.path}?{urlencode(query)}>; rel="{rel}"'

    links = []
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(1, "first"), link(page - 1, "prev")]
    if links:
        request[LINK] = ", ".join(links)
    return items[(page - 1) * per_page : page * per_page]
