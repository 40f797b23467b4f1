"""GitHub's refusals: an HTTP status with GitHub's JSON error body."""

from __future__ import annotations

from bot.sim import shapes
from bot.sim.state import JSON


class SimError(Exception):
    """A request GitHub would refuse: HTTP status and JSON body."""

    def __init__(self, status: int, body: JSON) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


def not_found() -> SimError:
    """GitHub's 404."""
    return SimError(404, shapes.error("Not Found"))


def invalid(resource: str, field: str, code: str = "invalid", message: str = "") -> SimError:
    """GitHub's 422 Validation Failed."""
    err: JSON = {"resource": resource, "field": field, "code": code}
    if message:
        err["message"] = message
    return SimError(422, shapes.error("Validation Failed", errors=[err]))
