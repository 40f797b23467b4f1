"""Simulator: the parts of the simulated GitHub, composed behind the one object callers use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import yaml
from aiohttp import web

from bot.sim import routes_guard, routes_hooks, routes_teams
from bot.sim.auth import Credentials
from bot.sim.delivery import Deliverer, Delivery, Webhooks
from bot.sim.deploys import Deployments
from bot.sim.hook_log import HookLog
from bot.sim.http import Backend
from bot.sim.server import RequestRecord, Server
from bot.sim.shared import State
from bot.sim.state import App, ProtectionRuleReview, User
from bot.sim.teams import Teams
from bot.sim.world import World

APP_YML = Path(__file__).resolve().parents[2] / "app.yml"
FALLBACK_EVENTS = ["check_run", "check_suite", "issue_comment", "pull_request", "push"]


def default_events(path: Path = APP_YML) -> list[str]:
    """The App manifest's `default_events` (what GitHub would deliver)."""
    try:
        manifest = yaml.safe_load(path.read_text())
    except OSError:
        return list(FALLBACK_EVENTS)
    return [str(e) for e in manifest.get("default_events", FALLBACK_EVENTS)]


class Simulator:
    """An in-memory GitHub: REST API (`app`), signed webhooks and a Python API to build worlds.

    The parts, each given what it uses: `state` (clock, ids, accounts, Apps, repositories) is
    shared by `world` (commits, pulls, checks, statuses, labels, reviews, comments) and
    `deployments` (deployments, environments, releases, protection rules); both emit through
    `webhooks`, which passes the events the App subscribes to on to the `deliverer`, which logs
    every attempt in `hook_log` (GitHub's delivery log, served with redelivery). `server`
    serves the same parts over REST, checking callers against `credentials` (keys, tokens).

    Read-back: `repo("o/r")` returns the `bot.sim.state.Repo` dataclass (pulls, commits,
    check_runs, statuses, comments, reactions, labels, deployments, deployment_statuses,
    environments[name].variables, releases, tags, branches, reviews, collaborators).
    """

    def __init__(
        self, webhook_secret: str = "s3cret", clock: Callable[[], datetime] | None = None
    ) -> None:
        events = default_events()
        self._public_url: str | None = None
        self.deliverer = Deliverer(webhook_secret)
        self.state = State(clock, events, lambda: self.public_url)
        self.webhooks = Webhooks(self.state.github_app, events, self.deliverer.enqueue)
        self.world = World(self.state, self.webhooks)
        self.deployments = Deployments(self.state, self.webhooks)
        self.credentials = Credentials(self.state.clock)
        self.server = Server(Backend(self.state, self.world, self.deployments, self.credentials))
        # The App's delivery log: every attempt the deliverer makes, served under /app/hook.
        self.hook_log = HookLog(self.state.clock, self.deliverer.enqueue)
        self.deliverer.log = self.hook_log
        self.server.app[routes_hooks.HOOK_LOG] = self.hook_log
        routes_hooks.add(self.server.app.router)
        # Organization teams (signoff.teams reads their memberships).
        self.teams = Teams(self.state)
        self.server.app[routes_teams.TEAMS] = self.teams
        routes_teams.add(self.server.app.router)
        # Repository settings the protection check reads (rulesets, branch protection, rules).
        self.guards = routes_guard.Guards()
        self.server.app[routes_guard.GUARDS] = self.guards
        routes_guard.add(self.server.app.router)

        # The Python API tests, benchmarks and the sandbox build worlds with, bound to the part
        # that owns each call so that the signature and docstring live in one place.
        self.clock: Callable[[], datetime] = self.state.clock
        self.repo = self.state.repo
        self.user = self.state.user
        self.create_repo = self.world.create_repo
        self.add_collaborator = self.world.add_collaborator
        self.create_team = self.teams.create_team
        self.add_team_member = self.teams.add_team_member
        self.remove_team_member = self.teams.remove_team_member
        self.push = self.world.push
        self.set_check_run = self.world.set_check_run
        self.rerequest_check_run = self.world.rerequest_check_run
        self.set_status = self.world.set_status
        self.open_pull_request = self.world.open_pull_request
        self.push_to_pull_request = self.world.push_to_pull_request
        self.set_draft = self.world.set_draft
        self.add_label = self.world.add_label
        self.remove_label = self.world.remove_label
        self.close_pull_request = self.world.close_pull_request
        self.reopen_pull_request = self.world.reopen_pull_request
        self.merge_pull_request = self.world.merge_pull_request
        self.start_merge_group = self.world.start_merge_group
        self.review = self.world.review
        self.dismiss_review = self.world.dismiss_review
        self.comment = self.world.comment
        self.edit_comment = self.world.edit_comment
        self.environment = self.deployments.environment
        self.latest_status = self.deployments.latest_status
        self.post_deployment_status = self.deployments.post_deployment_status
        self.request_protection_rule = self.deployments.request_protection_rule
        self.fault = self.server.fault
        self.set_rate_limit = self.server.set_rate_limit

    # -- who the App is -----------------------------------------------------------------------

    @property
    def github_app(self) -> App:
        """ringbot itself."""
        return self.state.github_app

    @property
    def bot(self) -> User:
        """The App's bot account, which every write by an installation token is attributed to."""
        return self.state.bot

    @property
    def app_id(self) -> int:
        """The App's id (the JWT issuer)."""
        return self.state.github_app.id

    @property
    def bot_login(self) -> str:
        """The login the App's writes appear under."""
        return self.state.bot.login

    @property
    def private_key_pem(self) -> str:
        """The App's private key: what the bot signs its JWTs with."""
        return self.credentials.private_key_pem

    def user_token(self, login: str) -> str:
        """A token that acts as `login` on the REST API (like a personal access token)."""
        return self.credentials.tokens.issue_user(self.state.user(login)).token

    def installation_token(self, repo: str) -> str:
        """A fresh installation token for the installation that holds `repo`."""
        inst = self.state.repo(repo).installation_id
        assert inst is not None, f"{repo} has no installation"
        return self.credentials.installation_token(inst).token

    # -- what happened ------------------------------------------------------------------------

    @property
    def emitted(self) -> list[Delivery]:
        """Every event emitted, subscribed to or not, in order."""
        return self.webhooks.emitted

    @property
    def deliveries(self) -> list[Delivery]:
        """The events the App receives, in order."""
        return self.webhooks.deliveries

    @property
    def protection_rule_reviews(self) -> list[ProtectionRuleReview]:
        """What the App posted to deployment protection rule callbacks."""
        return self.deployments.protection_rule_reviews

    @property
    def requests(self) -> list[RequestRecord]:
        """Every REST request answered, in order (tests may clear it)."""
        return self.server.requests

    @property
    def unrouted(self) -> list[RequestRecord]:
        """Requests no route served."""
        return self.server.unrouted

    # -- serving and delivering ---------------------------------------------------------------

    @property
    def app(self) -> web.Application:
        """The aiohttp application serving the REST API at the root."""
        return self.server.app

    @property
    def url(self) -> str | None:
        """Where the REST API is served (None before `start`)."""
        return self.server.url

    @property
    def public_url(self) -> str:
        """URL clients see (defaults to the served URL)."""
        return (self._public_url or self.server.url or "http://localhost").rstrip("/")

    @public_url.setter
    def public_url(self, value: str | None) -> None:
        self._public_url = value

    @property
    def webhook_url(self) -> str | None:
        """Where deliveries are POSTed; None records them without delivering."""
        return self.deliverer.url

    @webhook_url.setter
    def webhook_url(self, value: str | None) -> None:
        self.deliverer.url = value

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the REST API and start delivering; returns the base URL."""
        url = await self.server.start(host, port)
        self.deliverer.start()
        return url

    async def close(self) -> None:
        """Stop delivering and serving."""
        await self.deliverer.close()
        await self.server.close()

    @property
    def idle(self) -> bool:
        """True when no delivery is queued or in flight."""
        return self.deliverer.idle

    async def settle(self) -> None:
        """Return when every delivery queued so far has been POSTed and answered."""
        await self.deliverer.settle()
