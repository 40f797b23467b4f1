"""REST routes for the App's webhook delivery log: list (cursor pages), get one, redeliver."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.sim import shapes
from bot.sim.errors import SimError, not_found
from bot.sim.hook_log import HookLog, full, item
from bot.sim.http import LINK, int_arg, reply, sim_of

HOOK_LOG = web.AppKey("hook_log", HookLog)
PER_PAGE_DEFAULT, PER_PAGE_MAX = 30, 100


def _log(request: web.Request) -> HookLog:
    return request.app[HOOK_LOG]


def _cursor(text: str) -> int | None:
    """GitHub's cursors are opaque (`v1_<id>`-like); ours is the id the page starts at."""
    if not text:
        return None
    digits = text.removeprefix("v1_")
    if not digits.isdigit():
        raise SimError(400, shapes.error("Invalid cursor"))
    return int(digits)


async def list_deliveries(request: web.Request) -> web.Response:
    """GET /app/hook/deliveries?per_page=&cursor=&status= (newest first)."""
    try:
        per_page = min(max(int(request.query.get("per_page", PER_PAGE_DEFAULT)), 1), PER_PAGE_MAX)
    except ValueError:
        per_page = PER_PAGE_DEFAULT
    status = request.query.get("status") or None
    if status not in (None, "success", "failure"):
        raise SimError(
            422, shapes.error("Validation Failed", errors=[{"field": "status", "code": "invalid"}])
        )
    page, next_id = _log(request).page(
        before=_cursor(request.query.get("cursor", "")), per_page=per_page, status=status
    )
    if next_id is not None:
        query = {"per_page": str(per_page), "cursor": f"v1_{next_id}"}
        if status:
            query["status"] = status
        api = sim_of(request).state.api
        request[LINK] = f'<{api}/app/hook/deliveries?{urlencode(query)}>; rel="next"'
    return reply([item(a) for a in page])


async def get_delivery(request: web.Request) -> web.Response:
    """GET /app/hook/deliveries/{delivery_id}: one attempt with its request and response."""
    attempt = _log(request).get(int_arg(request, "delivery_id"))
    if attempt is None:
        raise not_found()
    return reply(full(attempt))


async def redeliver(request: web.Request) -> web.Response:
    """POST /app/hook/deliveries/{delivery_id}/attempts: 202, the delivery goes out again."""
    if not _log(request).redeliver(int_arg(request, "delivery_id")):
        raise not_found()
    return reply({}, 202)


def add(router: web.UrlDispatcher) -> None:
    """Register the delivery-log routes."""
    router.add_get("/app/hook/deliveries", list_deliveries)
    router.add_get("/app/hook/deliveries/{delivery_id}", get_delivery)
    router.add_post("/app/hook/deliveries/{delivery_id}/attempts", redeliver)
