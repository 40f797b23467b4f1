"""Organization teams and their members: what `signoff.teams` reads (Members: read)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.sim.shared import State

MEMBERSHIP_STATES = ("active", "pending")


class Teams:
    """Teams by "org/slug" (compared without case, like GitHub), each login -> its state."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.members: dict[str, dict[str, str]] = {}  # "org/slug" lower -> login lower -> state
        self.unreadable: set[str] = set()  # orgs whose teams the App may not read (403)

    def create_team(self, team: str, members: Iterable[str] = ()) -> None:
        """An org team ("acme/qa") with these active members (a team already there is kept)."""
        org, _, slug = team.partition("/")
        if not org or not slug:
            raise ValueError(f"a team is org/slug, not {team!r}")
        self.members.setdefault(team.lower(), {})
        for login in members:
            self.add_team_member(team, login)

    def add_team_member(self, team: str, login: str, state: str = "active") -> None:
        """Add `login` to `team` (created on first use); `pending`: invited, not yet a member."""
        if state not in MEMBERSHIP_STATES:
            raise ValueError(f"state must be one of {MEMBERSHIP_STATES}")
        self.state.user(login)
        self.members.setdefault(team.lower(), {})[login.lower()] = state

    def remove_team_member(self, team: str, login: str) -> None:
        """`login` leaves `team`."""
        self.members.get(team.lower(), {}).pop(login.lower(), None)

    def membership(self, org: str, slug: str, login: str) -> str | None:
        """The member's state ("active", "pending"), or None when not a member (or no team)."""
        return self.members.get(f"{org}/{slug}".lower(), {}).get(login.lower())
