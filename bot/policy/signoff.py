"""Sign-off rules (`signoff.teams`): how many more sign-offs a ring's release needs, and from whom.

Pure: the memberships are read by `bot.snapshot.signoff` at decision time (never stored as
truth), keyed by (team, login), both lower case.

Decisions where SPEC is silent:

- `approvals` (of the next ring) and `signoff.teams` (of this ring) both hold: `approvals` counts
  every sign-off that counts (distinct people with the next ring's `promoters` permission, not
  excluded by `signoff.not`), and each team needs at least its N of those from its members. One
  person counts for every listed team they are in. So `teams: {acme/qa: 1}` with the default
  `approvals: 1` means "one sign-off, from QA"; with `approvals: 2`, "two, one of them from QA".
- A team member's membership counts only while it is `active` (an invitation still `pending` does
  not). 404 means not a member. When the membership cannot be read (403: the installation has not
  accepted Members: read, or the team is in another organization), it does not count, and the
  reply says it could not be read.
- A person in none of the listed teams may sign off only while that brings the release closer to
  leaving the ring (`approvals` asks for more people than the teams do); otherwise the `/approve`
  is refused, and the reply says who is still missing.
- A sign-off stops counting when its person leaves the team, or becomes an author of the release
  (under `not: [author]`, when a rollback in the next ring widens what the sign-off vouches for).
  An author list that cannot be read at that point keeps the recorded sign-offs: each was checked
  when it was written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.config import RingConfig

# (team "org/slug", login), both lower case -> member (True), not (False), unknown (None)
Memberships = Mapping[tuple[str, str], bool | None]


def membership_key(team: str, login: str) -> tuple[str, str]:
    """How a membership is looked up: team and login compare without case, like GitHub's."""
    return team.lower(), login.lower()


def is_member(memberships: Memberships, team: str, login: str) -> bool | None:
    """Whether `login` is an active member of `team`; None when that was not (or could not be) read."""
    return memberships.get(membership_key(team, login))


@dataclass(frozen=True)
class TeamNeed:
    """One team of a ring's `signoff.teams` whose members have not signed off enough."""

    team: str
    needs: int  # how many more sign-offs from its members
    unknown: tuple[str, ...] = ()  # signers whose membership could not be read


@dataclass(frozen=True)
class Shortfall:
    """What a ring's release still needs before it may leave the ring."""

    total: int  # more sign-offs overall (the next ring's `approvals`)
    teams: tuple[TeamNeed, ...] = ()

    @property
    def people(self) -> int:
        """The fewest more people who could still be needed (one may count for several teams)."""
        return max(self.total, sum(t.needs for t in self.teams))

    @property
    def met(self) -> bool:
        """Nothing more is needed."""
        return self.people == 0


def shortfall(
    ring: RingConfig, approvals: int, signers: Sequence[str], memberships: Memberships
) -> Shortfall:
    """What the release in `ring` needs beyond the `signers` (who count) to leave it."""
    people = list({s.lower(): s for s in signers}.values())
    teams: list[TeamNeed] = []
    for team, least in ring.signoff_teams:
        known = [is_member(memberships, team, s) for s in people]
        have = sum(1 for member in known if member is True)
        if have < least:
            unknown = tuple(s for s, m in zip(people, known, strict=True) if m is None)
            teams.append(TeamNeed(team, least - have, unknown))
    return Shortfall(max(approvals - len(people), 0), tuple(teams))


def in_a_team(ring: RingConfig, login: str, memberships: Memberships) -> bool | None:
    """Whether `login` is in one of the ring's teams (None: not known for some, in none known)."""
    found = [is_member(memberships, team, login) for team, _ in ring.signoff_teams]
    if any(member is True for member in found):
        return True
    return None if any(member is None for member in found) else False


def _some(count: int, team: str) -> str:
    return f"a member of @{team}" if count == 1 else f"members of @{team}"


def needs_text(need: Shortfall, ring: str) -> str:
    """ "needs 1 more sign-off from a member of @acme/qa in dev", and the like."""
    teams = need.teams
    if not teams:
        noun = "sign-off" if need.total == 1 else "sign-offs"
        return f"needs {need.total} more {noun} in {ring}"
    first, *rest = teams
    noun = "sign-off" if first.needs == 1 else "sign-offs"
    parts = [f"{first.needs} more {noun} from {_some(first.needs, first.team)}"]
    parts += [f"{t.needs} more from {_some(t.needs, t.team)}" for t in rest]
    text = " and ".join(parts)
    named = sum(t.needs for t in teams)
    if need.total > named:
        noun = "sign-off" if need.total == 1 else "sign-offs"
        return f"needs {need.total} more {noun} in {ring}, including {text}"
    return f"needs {text} in {ring}"


def unknown_text(need: Shortfall) -> str:
    """ " (could not read whether @bob is in @acme/qa)" for memberships GitHub did not tell."""
    notes = [f"@{', @'.join(t.unknown)} in @{t.team}" for t in need.teams if t.unknown]
    if not notes:
        return ""
    return f" (could not read whether {'; '.join(notes)}: ringbot needs Members: read)"


def who_text(need: Shortfall) -> str:
    """Who could sign off next: "a member of @acme/qa", "a member of @acme/qa or @acme/sec"."""
    if not need.teams:
        return ""
    return "a member of " + " or ".join(f"@{t.team}" for t in need.teams)


def team_names(teams: Iterable[tuple[str, int]]) -> str:
    """ "@acme/qa or @acme/sec"."""
    return " or ".join(f"@{team}" for team, _ in teams)
