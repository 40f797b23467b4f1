"""The state every part of the simulator shares: the clock, ids, accounts, Apps and repositories."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from bot.sim.errors import not_found
from bot.sim.state import App, Installation, PullRequest, Repo, User


def _localhost() -> str:
    return "http://localhost"


class State:
    """Users, Apps, installations and repositories, with the lookups every part needs."""

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        events: Iterable[str] = (),
        base_url: Callable[[], str] = _localhost,
    ) -> None:
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        # Asked on every use: the URL clients see can change after the parts are built.
        self._base_url = base_url
        self._ids = 1000
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}
        self.installations: dict[int, Installation] = {}
        owner = self.user("ringbot-dev")
        self.github_app = App(1, "ringbot", "ringbot", owner, self.clock(), list(events))
        self.apps: dict[str, App] = {"ringbot": self.github_app}
        self.bot = self.user("ringbot[bot]")

    @property
    def api(self) -> str:
        """Base URL clients see, used inside JSON bodies and payloads."""
        return self._base_url()

    def next_id(self) -> int:
        """A fresh id, unique across every object kind."""
        self._ids += 1
        return self._ids

    def user(self, login: str) -> User:
        """The account with this login, created on first use; `...[bot]` logins are bots."""
        if login not in self.users:
            kind = "Bot" if login.endswith("[bot]") else "User"
            self.users[login] = User(login, 100 + len(self.users), kind)
        return self.users[login]

    def other_app(self, slug: str) -> App:
        """A third-party App (e.g. CI) by slug, created on first use."""
        if slug not in self.apps:
            owner = self.user(f"{slug}-org")
            ident = len(self.apps) + 1
            self.apps[slug] = App(ident, slug, slug, owner, self.clock(), ["check_run"])
        return self.apps[slug]

    def bot_app(self, u: User) -> App | None:
        """The App a user acts for: ringbot for its bot account, none for people."""
        return self.github_app if u is self.bot else None

    def repo(self, full_name: str) -> Repo:
        """The repository state (dataclasses in bot.sim.state) for owner/name."""
        try:
            return self.repos[full_name]
        except KeyError:
            raise KeyError(f"no repository {full_name!r} in the simulator") from None

    def pull(self, r: Repo, number: int) -> PullRequest:
        """A pull request or 404."""
        if number not in r.pulls:
            raise not_found()
        return r.pulls[number]

    def role(self, r: Repo, login: str) -> str:
        """A user's role on the repository: the owner is admin, strangers have none."""
        if login == r.owner.login:
            return "admin"
        return r.collaborators.get(login, "none")

    def head_repo(self, r: Repo, p: PullRequest) -> Repo:
        """The repository holding a pull request's head branch."""
        return self.repos.get(p.head_repo, r)
