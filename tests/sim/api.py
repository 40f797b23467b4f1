"""A small REST client for the simulator's own tests: it records each call by its OpenAPI path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

from bot.sim import Simulator


@dataclass
class Resp:
    """A REST answer."""

    status: int
    headers: Any
    body: Any


@dataclass
class Call:
    """One recorded call, keyed by its OpenAPI path template."""

    method: str
    template: str
    status: int
    body: Any


class Api:
    """A small REST client that records (method, OpenAPI template, status, body)."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session
        self.calls: list[Call] = []
        self.auth: str | None = None

    def app_jwt(self, iat_offset: int = -30, exp_offset: int = 540, key: str | None = None) -> str:
        """An App JWT signed with the simulator's key (or another key)."""
        now = int(self.sim.clock().timestamp())
        claims = {"iat": now + iat_offset, "exp": now + exp_offset, "iss": str(self.sim.app_id)}
        return jwt.encode(claims, key or self.sim.private_key_pem, algorithm="RS256")

    async def login(self, repo: str) -> str:
        """Get an installation token through the App JWT flow and use it from now on."""
        jwt_auth = f"Bearer {self.app_jwt()}"
        inst = await self.call(
            "GET", "/repos/{owner}/{repo}/installation", auth=jwt_auth, **split(repo)
        )
        tok = await self.call(
            "POST",
            "/app/installations/{installation_id}/access_tokens",
            auth=jwt_auth,
            installation_id=inst.body["id"],
        )
        self.auth = f"token {tok.body['token']}"
        return str(tok.body["token"])

    async def call(
        self,
        method: str,
        template: str,
        *,
        json: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: str | None = None,
        **params: Any,
    ) -> Resp:
        """Fill the template from params, send, record and return the answer."""
        path = re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), template)
        sent = {"Accept": "application/vnd.github+json", **(headers or {})}
        if auth or self.auth:
            sent["Authorization"] = auth or self.auth or ""
        async with self.session.request(
            method, f"{self.sim.url}{path}", json=json, params=query, headers=sent
        ) as r:
            raw = await r.read()
            body = None if not raw else await r.json(content_type=None)
            self.calls.append(Call(method, template, r.status, body))
            return Resp(r.status, r.headers, body)


def split(repo: str) -> dict[str, str]:
    """owner/repo -> template params."""
    owner, name = repo.split("/")
    return {"owner": owner, "repo": name}
