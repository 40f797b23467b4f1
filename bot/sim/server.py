"""The REST front door: auth, faults, rate limits, ETags, pagination and the request log."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from bot.sim import shapes
from bot.sim.auth import AuthError, verify_jwt
from bot.sim.errors import SimError
from bot.sim.state import JSON, User

if TYPE_CHECKING:
    from bot.sim.simulator import Simulator

SIM: web.AppKey[Simulator] = web.AppKey("sim")

RATE_LIMIT = 5000
WINDOW_S = 3600
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RequestRecord:
    """One request the simulator answered."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    installation_id: int | None
    at: datetime


@dataclass
class Fault:
    """Answer the next `count` matching requests with `status` (after doing the work if `after`)."""

    method: str | None
    path: str
    status: int
    count: int
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: Any = None
    after: bool = False

    def matches(self, request: web.Request) -> bool:
        """Same method (or any) and the path regex is found in the path."""
        if self.count <= 0:
            return False
        if self.method is not None and self.method.upper() != request.method:
            return False
        return re.search(self.path, request.path) is not None


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


CALLER = web.RequestKey("caller", Caller)
LINK = web.RequestKey("link", str)


@dataclass
class Bucket:
    """Rate-limit usage in the current window."""

    reset: float
    used: int = 0


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response (an empty body for 204/304)."""
    if status in (204, 304):
        return web.Response(status=status, headers=headers)
    text = json.dumps(body)
    return web.Response(status=status, text=text, content_type="application/json", headers=headers)


def paginate(request: web.Request, items: list[Any]) -> list[Any]:
    """The requested page of `items`; stores the Link header for the middleware to add."""
    try:
        per_page = min(max(int(request.query.get("per_page", "30")), 1), 100)
        page = max(int(request.query.get("page", "1")), 1)
    except ValueError:
        per_page, page = 30, 1
    last = max(1, -(-len(items) // per_page))
    sim = request.app[SIM]

    def link(n: int, rel: str) -> str:
        query = {**request.query, "per_page": str(per_page), "page": str(n)}
        return f'<{sim.public_url}{request.path}?{urlencode(query)}>; rel="{rel}"'

    links = []
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(1, "first"), link(page - 1, "prev")]
    if links:
        request[LINK] = ", ".join(links)
    return items[(page - 1) * per_page : page * per_page]


JWT_PATHS = re.compile(r"^/app(/|$)|^/repos/[^/]+/[^/]+/installation$")


def authenticate(sim: Simulator, request: web.Request) -> Caller:
    """Resolve the Authorization header; raise SimError 401 like GitHub."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if not value or scheme.lower() not in ("token", "bearer"):
        raise SimError(401, shapes.error("Requires authentication"))
    if JWT_PATHS.search(request.path):
        try:
            verify_jwt(value, sim.public_key_pem, sim.app_id, sim.clock())
        except AuthError as exc:
            raise SimError(401, shapes.error(str(exc))) from exc
        return Caller("app", sim.bot)
    try:
        tok = sim.tokens.check(value)
    except AuthError as exc:
        raise SimError(401, shapes.error(str(exc))) from exc
    if tok.user is not None:
        return Caller("user", tok.user)
    return Caller("installation", sim.bot, tok.installation_id)


def rate_headers(sim: Simulator, caller: Caller | None, count: bool) -> tuple[dict[str, str], bool]:
    """Rate-limit headers for this response and whether the caller is over the limit."""
    now = sim.clock().timestamp()
    key = caller.bucket if caller else "anonymous"
    b = sim.buckets.get(key)
    if b is None or b.reset <= now:
        b = sim.buckets[key] = Bucket(now + WINDOW_S)
    forced = sim.forced_limit
    if forced is not None and forced[1] <= now:
        sim.forced_limit = forced = None
        sim.buckets.clear()
        b = sim.buckets[key] = Bucket(now + WINDOW_S)
    if forced is not None:
        remaining, reset = forced
        exceeded = remaining <= 0
        if count and not exceeded:
            sim.forced_limit = (remaining - 1, reset)
            remaining -= 1
        used = RATE_LIMIT - remaining
    else:
        exceeded = b.used >= RATE_LIMIT
        if count and not exceeded:
            b.used += 1
        remaining, reset, used = RATE_LIMIT - b.used, b.reset, b.used
    headers = {
        "x-ratelimit-limit": str(RATE_LIMIT),
        "x-ratelimit-remaining": str(max(remaining, 0)),
        "x-ratelimit-reset": str(int(reset)),
        "x-ratelimit-used": str(used),
        "x-ratelimit-resource": "core",
    }
    return headers, exceeded


def etag_for(body: bytes, caller: Caller | None) -> str:
    """A weak ETag tied to the body and the caller (GitHub varies on Authorization)."""
    key = caller.bucket if caller else ""
    return 'W/"' + hashlib.sha256(key.encode() + b"\0" + body).hexdigest()[:40] + '"'


async def _fault(
    sim: Simulator, request: web.Request, handler: Handler
) -> web.StreamResponse | None:
    fault = next((f for f in sim.faults if f.matches(request)), None)
    if fault is None:
        return None
    fault.count -= 1
    if fault.delay:
        await request.read()  # GitHub has the whole request before it is slow to answer
        await asyncio.sleep(fault.delay)
    if fault.after:
        await handler(request)  # the write happens; only the answer is lost
    body = fault.body if fault.body is not None else shapes.error(f"Simulated {fault.status}")
    if isinstance(body, str | bytes):
        return web.Response(status=fault.status, body=body, headers=fault.headers)
    return reply(body, fault.status, dict(fault.headers))


@web.middleware
async def front_door(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request: fault, auth, rate limit, handler, ETag, headers, log."""
    sim = request.app[SIM]
    caller: Caller | None = None
    resp: web.StreamResponse
    try:
        caller = authenticate(sim, request)
        request[CALLER] = caller
        faulted = await _fault(sim, request, handler)
        if faulted is not None:
            resp = faulted
        else:
            limit, exceeded = rate_headers(sim, caller, count=False)
            if exceeded and caller.kind != "app":
                msg = f"API rate limit exceeded for {caller.bucket.replace(':', ' ID ')}."
                resp = reply(shapes.error(msg), 403, limit)
            else:
                resp = await handler(request)
    except SimError as exc:
        resp = reply(exc.body, exc.status)
    except web.HTTPException as exc:
        if unrouted(request):
            # GitHub answers 404 for a path or method it does not serve, 405 included.
            resp = reply(shapes.error("Not Found"), 404)
        else:
            resp = reply(shapes.error(exc.reason), exc.status)
    resp = _conditional(request, resp, caller)
    counted = resp.status != 304 and caller is not None and caller.kind != "app"
    limit, _ = rate_headers(sim, caller, count=counted)
    for k, v in limit.items():
        resp.headers.setdefault(k, v)
    resp.headers.setdefault("x-github-media-type", "github.v3; format=json")
    resp.headers.setdefault("x-github-api-version-selected", "2022-11-28")
    if LINK in request:
        resp.headers["Link"] = request[LINK]
    record = RequestRecord(
        request.method,
        request.path,
        dict(request.query),
        resp.status,
        caller.installation_id if caller else None,
        sim.clock(),
    )
    sim.requests.append(record)
    if unrouted(request):
        sim.unrouted.append(record)
    return resp


def unrouted(request: web.Request) -> bool:
    """True when no route serves the method and path: not a missing resource, a missing route."""
    return request.match_info.http_exception is not None


def _conditional(
    request: web.Request, resp: web.StreamResponse, caller: Caller | None
) -> web.StreamResponse:
    """Add ETag to GET 200s; answer 304 when If-None-Match matches."""
    if request.method != "GET" or resp.status != 200 or not isinstance(resp, web.Response):
        return resp
    tag = etag_for(resp.body if isinstance(resp.body, bytes) else b"", caller)
    wanted = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
    if tag in wanted or tag.removeprefix("W/") in wanted:
        not_modified = web.Response(status=304, headers={"ETag": tag})
        if LINK in request:
            del request[LINK]
        return not_modified
    resp.headers["ETag"] = tag
    resp.headers["Cache-Control"] = "private, max-age=60, s-maxage=60"
    resp.headers["Vary"] = "Accept, Authorization, Cookie, X-GitHub-OTP"
    return resp


def build_app(sim: Simulator) -> web.Application:
    """The aiohttp application serving the REST API at the root."""
    from bot.sim import routes, routes_deploy

    app = web.Application(middlewares=[front_door])
    app[SIM] = sim
    routes.add(app.router)
    routes_deploy.add(app.router)
    return app


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
