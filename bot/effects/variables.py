"""Environment variables of the rings' GitHub Environments: read them, and apply planned writes.

The reads live here rather than in snapshot/ because the writers need them too: a write that may
have happened (5xx, time-out) is re-read before it is tried again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gidgethub import BadRequest

from ..context import Ctx
from ..logs import log
from ..policy.features import VariableWrite
from ..snapshot.reads import every, get_or_none
from . import write_once

# GitHub serves at most 30 variables a page.
VARIABLES_PAGE = "per_page=30"


class EnvironmentMissing(Exception):
    """A ring's environment does not exist and the App may not create it."""

    def __init__(self, environment: str) -> None:
        super().__init__(
            f"the environment `{environment}` does not exist and ringbot may not create it: "
            "create it under Settings → Environments (or grant the App Administration: write), "
            "so its feature flags can be set before a release enters it"
        )
        self.environment = environment


def _environment_url(ctx: Ctx, environment: str) -> str:
    # The name is one URL segment: GitHub asks for slashes as %2F.
    return f"/repos/{ctx.repo}/environments/{quote(environment, safe='')}"


async def read_variables(ctx: Ctx, environment: str) -> dict[str, str] | None:
    """Every variable on the environment, name -> value; None when the environment does not exist."""
    url = f"{_environment_url(ctx, environment)}/variables?{VARIABLES_PAGE}"
    try:
        return {
            str(v["name"]).upper(): str(v.get("value", ""))
            async for v in every(ctx.gh, url, "variables")
        }
    except BadRequest as exc:
        if exc.status_code != 404:
            raise
        return None


async def _read_one(ctx: Ctx, environment: str, name: str) -> str | None:
    """One variable's value, or None when it does not exist."""
    data = await get_or_none(ctx.gh, f"{_environment_url(ctx, environment)}/variables/{name}")
    return str(data.get("value", "")) if data is not None else None


async def apply(ctx: Ctx, environment: str, write: VariableWrite) -> None:
    """Make one planned write; each is safe to repeat, and one that may have happened is re-read."""
    base = _environment_url(ctx, environment)
    variables = f"{base}/variables"

    async def reread() -> bool | None:
        if write.action == "create_environment":
            return True if await read_variables(ctx, environment) is not None else None
        value = await _read_one(ctx, environment, write.name)
        if write.action == "delete":
            return True if value is None else None
        return True if value == write.value else None

    async def attempt() -> bool:
        if write.action == "create_environment":
            # Only ever sent for a missing environment: PUT on an existing one could reset settings.
            try:
                await ctx.gh.put(base, data={})
            except BadRequest as exc:
                if exc.status_code in (403, 404):
                    raise EnvironmentMissing(environment) from exc
                raise
        elif write.action == "create":
            try:
                await ctx.gh.post(variables, data={"name": write.name, "value": write.value})
            except BadRequest as exc:
                if exc.status_code != 409:
                    raise
                # Created meanwhile (another replica, or a person): set the value instead.
                await ctx.gh.patch(f"{variables}/{write.name}", data={"value": write.value})
        elif write.action == "update":
            await ctx.gh.patch(f"{variables}/{write.name}", data={"value": write.value})
        else:
            try:
                await ctx.gh.delete(f"{variables}/{write.name}")
            except BadRequest as exc:
                if exc.status_code != 404:
                    raise
        return True

    await write_once(attempt, reread)
    fields: dict[str, Any] = {"repo": ctx.repo, "environment": environment}
    if write.name:
        fields["variable"] = write.name
    if write.value is not None and write.name.startswith("FEATURE_"):
        fields["value"] = write.value
    log(20, f"environment {write.action.replace('_', ' ')}", reason=write.reason, **fields)
