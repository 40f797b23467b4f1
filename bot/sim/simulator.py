"""Simulator: the world, its REST server and its webhook deliveries behind one object."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from aiohttp import web

from bot.sim.auth import TokenStore, generate_key
from bot.sim.delivery import Deliverer, Delivery
from bot.sim.deploys import DeployWorld
from bot.sim.server import Bucket, Fault, RequestRecord, build_app

APP_YML = Path(__file__).resolve().parents[2] / "app.yml"
FALLBACK_EVENTS = ["check_run", "check_suite", "issue_comment", "pull_request", "push"]


def default_events(path: Path = APP_YML) -> list[str]:
    """The App manifest's `default_events` (what GitHub would deliver)."""
    try:
        manifest = yaml.safe_load(path.read_text())
    except OSError:
        return list(FALLBACK_EVENTS)
    return [str(e) for e in manifest.get("default_events", FALLBACK_EVENTS)]


class Simulator(DeployWorld):
    """An in-memory GitHub: REST API (`app`), signed webhooks and a Python API to build worlds.

    Read-back: `repo("o/r")` returns the `bot.sim.state.Repo` dataclass (pulls, commits,
    check_runs, statuses, comments, reactions, labels, deployments, deployment_statuses,
    environments[name].variables, releases, tags, branches, reviews, collaborators).
    """

    def __init__(
        self, webhook_secret: str = "s3cret", clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(clock, default_events())
        self.webhook_secret = webhook_secret
        self.app_id = self.github_app.id
        self.app_slug = self.github_app.slug
        self.bot_login = self.bot.login
        self.private_key_pem, self.public_key_pem = generate_key()
        self.token_ttl = timedelta(hours=1)
        self.tokens = TokenStore(self.clock)
        self.requests: list[RequestRecord] = []
        # Requests no route served (the simulator lacks what the caller asked for); tests assert
        # there are none, since `requests` may be cleared by them.
        self.unrouted: list[RequestRecord] = []
        self.faults: list[Fault] = []
        self.buckets: dict[str, Bucket] = {}
        self.forced_limit: tuple[int, float] | None = None
        self.protection_rule_reviews = []
        self.url: str | None = None
        self._public_url: str | None = None
        self._deliverer = Deliverer(webhook_secret)
        self._runner: web.AppRunner | None = None
        self.app = build_app(self)

    @property
    def api(self) -> str:
        """Base URL used inside JSON and Link headers."""
        return self.public_url

    @property
    def public_url(self) -> str:
        """URL clients see (defaults to the served URL)."""
        return (self._public_url or self.url or "http://localhost").rstrip("/")

    @public_url.setter
    def public_url(self, value: str | None) -> None:
        self._public_url = value

    @property
    def webhook_url(self) -> str | None:
        """Where deliveries are POSTed; None records them without delivering."""
        return self._deliverer.url

    @webhook_url.setter
    def webhook_url(self, value: str | None) -> None:
        self._deliverer.url = value

    def _queue(self, d: Delivery) -> None:
        self._deliverer.enqueue(d)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the REST API and start delivering; returns the base URL."""
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = port
        for sock in getattr(site._server, "sockets", None) or []:
            bound = sock.getsockname()[1]
        self.url = f"http://{host}:{bound}"
        self._deliverer.start()
        return self.url

    async def close(self) -> None:
        """Stop delivering and serving."""
        await self._deliverer.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def idle(self) -> bool:
        """True when no delivery is queued or in flight."""
        return self._deliverer.idle

    async def settle(self) -> None:
        """Return when every delivery queued so far has been POSTed and answered."""
        await self._deliverer.settle()

    def user_token(self, login: str) -> str:
        """A token that acts as `login` on the REST API (like a personal access token)."""
        return self.tokens.issue_user(self.user(login)).token

    def installation_token(self, repo: str) -> str:
        """A fresh installation token for the installation that holds `repo`."""
        inst = self.repo(repo).installation_id
        assert inst is not None, f"{repo} has no installation"
        return self.tokens.issue(inst, self.token_ttl).token

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
        self.forced_limit = (remaining, self.clock().timestamp() + reset_in)
