"""The REST front door: auth, faults, rate limits, ETags and the request log, before the routes."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.sim import routes, routes_deploy, shapes
from bot.sim.auth import AuthError, verify_jwt
from bot.sim.errors import SimError
from bot.sim.http import CALLER, LINK, SIM, Backend, Caller, reply

RATE_LIMIT = 5000
WINDOW_S = 3600
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JWT_PATHS = re.compile(r"^/app(/|$)|^/repos/[^/]+/[^/]+/installation$")


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
class Bucket:
    """Rate-limit usage in the current window."""

    reset: float
    used: int = 0


class Server:
    """The REST API served over HTTP: the front door's own state, the routes, and the listener."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.requests: list[RequestRecord] = []
        # Requests no route served (the simulator lacks what the caller asked for); tests assert
        # there are none, since `requests` may be cleared by them.
        self.unrouted: list[RequestRecord] = []
        self.faults: list[Fault] = []
        self.buckets: dict[str, Bucket] = {}
        self.forced_limit: tuple[int, float] | None = None
        # Seconds every REST request waits, on the real clock, before it is served (GitHub's
        # round trip; the latency bench sets it). 0: answered at once.
        self.latency: float = 0.0
        # Requests waiting out that latency now, and the most there have been at once: what
        # shows that the bot's reads overlap, without timing anything.
        self.in_flight = 0
        self.most_in_flight = 0
        self.url: str | None = None
        self.app = web.Application(middlewares=[front_door])
        self.app[SIM] = backend
        self.app[SERVER] = self
        routes.add(self.app.router)
        routes_deploy.add(self.app.router)
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> str:
        """Listen on host:port (0 picks a free port); returns the served base URL."""
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = port
        for sock in getattr(site._server, "sockets", None) or []:
            bound = sock.getsockname()[1]
        self.url = f"http://{host}:{bound}"
        return self.url

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def fault(
        self,
        method: str | None = None,
        path: str = ".*",
        status: int = 502,
        count: int = 1,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        body: object = None,
        after: bool = False,
    ) -> Fault:
        """The next `count` requests matching method and path regex answer `status`."""
        re.compile(path)
        f = Fault(method, path, status, count, dict(headers or {}), delay, body, after)
        self.faults.append(f)
        return f

    def set_rate_limit(self, remaining: int = 0, reset_in: float = 2) -> None:
        """From now on report `remaining`; at 0 answer 403 until `reset_in` seconds pass."""
        self.forced_limit = (remaining, self.backend.state.clock().timestamp() + reset_in)


SERVER = web.AppKey("server", Server)


def authenticate(backend: Backend, request: web.Request) -> Caller:
    """Resolve the Authorization header; raise SimError 401 like GitHub."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if not value or scheme.lower() not in ("token", "bearer"):
        raise SimError(401, shapes.error("Requires authentication"))
    state, credentials = backend.state, backend.credentials
    if JWT_PATHS.search(request.path):
        try:
            verify_jwt(value, credentials.public_key_pem, state.github_app.id, state.clock())
        except AuthError as exc:
            raise SimError(401, shapes.error(str(exc))) from exc
        return Caller("app", state.bot)
    try:
        tok = credentials.tokens.check(value)
    except AuthError as exc:
        raise SimError(401, shapes.error(str(exc))) from exc
    if tok.user is not None:
        return Caller("user", tok.user)
    return Caller("installation", state.bot, tok.installation_id)


def rate_headers(server: Server, caller: Caller | None, count: bool) -> tuple[dict[str, str], bool]:
    """Rate-limit headers for this response and whether the caller is over the limit."""
    now = server.backend.state.clock().timestamp()
    key = caller.bucket if caller else "anonymous"
    b = server.buckets.get(key)
    if b is None or b.reset <= now:
        b = server.buckets[key] = Bucket(now + WINDOW_S)
    forced = server.forced_limit
    if forced is not None and forced[1] <= now:
        server.forced_limit = forced = None
        server.buckets.clear()
        b = server.buckets[key] = Bucket(now + WINDOW_S)
    if forced is not None:
        remaining, reset = forced
        exceeded = remaining <= 0
        if count and not exceeded:
            server.forced_limit = (remaining - 1, reset)
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
    server: Server, request: web.Request, handler: Handler
) -> web.StreamResponse | None:
    fault = next((f for f in server.faults if f.matches(request)), None)
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
    """Every request: latency, fault, auth, rate limit, handler, ETag, headers, log."""
    server = request.app[SERVER]
    if server.latency > 0:
        await request.read()  # GitHub has the whole request, then takes its time to answer
        server.in_flight += 1
        server.most_in_flight = max(server.most_in_flight, server.in_flight)
        try:
            await asyncio.sleep(server.latency)
        finally:
            server.in_flight -= 1
    caller: Caller | None = None
    resp: web.StreamResponse
    try:
        caller = authenticate(server.backend, request)
        request[CALLER] = caller
        faulted = await _fault(server, request, handler)
        if faulted is not None:
            resp = faulted
        else:
            limit, exceeded = rate_headers(server, caller, count=False)
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
    limit, _ = rate_headers(server, caller, count=counted)
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
        server.backend.state.clock(),
    )
    server.requests.append(record)
    if unrouted(request):
        server.unrouted.append(record)
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
