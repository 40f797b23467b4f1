"""Builders for release-visibility policy tests: a branch history, deployments and ring rows.

Times are minutes after NOW - 1 day, so that one table can order what happened.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from bot.config import Config, RingConfig, parse_config
from bot.ledger import DeploymentRecord, DeploymentStatusRecord, encode_rejection, encode_signoff
from bot.policy.visibility import CommitNode, History, MergedPull, Row

BOT = "ringbot[bot]"
DEPLOYER = "deploy-bot"  # the user's CD
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)

CONFIG = parse_config(
    """
rings:
  - name: dev
    auto: true
    users: 10
  - name: internal
    users: 100
  - name: early-adopters
    bake: 24h
    users: 1000
  - name: production
    users: 10000
  - name: on-premises
    auto: true
    release: true
"""
)
assert isinstance(CONFIG, Config)

# The default branch: m1 <- m2 <- m3 <- m4, each a merge of a one-commit pull request branch.
#   m1 merges #1 (p1), m2 merges #2 (p2), m3 merges #3 (p3), m4 merges #4 (p4).
ROOT = "r" * 40
M = {n: f"{n}" * 40 for n in range(1, 5)}
P = {n: f"{n}a".ljust(40, "b") for n in range(1, 5)}
PULLS = tuple(MergedPull(n, f"Change {n}", f"dev{n}", M[n]) for n in range(1, 5))


def ring(name: str = "dev", config: Config = CONFIG) -> RingConfig:
    """A ring of `config` by name."""
    found = config.ring(name)
    assert found is not None
    return found


def history() -> History:
    """The default branch above, as one page of history, newest first."""
    commits = [CommitNode(ROOT, (), "https://h/commit/root")]
    parent = ROOT
    for n in range(1, 5):
        commits.append(CommitNode(P[n], (parent,), ""))
        commits.append(CommitNode(M[n], (parent, P[n]), f"https://h/commit/{M[n]}"))
        parent = M[n]
    return History(reversed(commits))


def st(
    state: str = "success", minutes: int = 0, *, by: str = DEPLOYER, text: str = ""
) -> DeploymentStatusRecord:
    """A status `minutes` after NOW - 1 day."""
    at = NOW - timedelta(days=1) + timedelta(minutes=minutes)
    return DeploymentStatusRecord(next(_ids), state, by, text, at)


def dep(
    sha: str = M[1], env: str = "dev", minutes: int = 0, *states: DeploymentStatusRecord
) -> DeploymentRecord:
    """A deployment of `sha` into `env`, created `minutes` after NOW - 1 day."""
    at = NOW - timedelta(days=1) + timedelta(minutes=minutes)
    return DeploymentRecord(next(_ids), sha, env, at, BOT, tuple(states))


def went_live(
    sha: str = M[1], env: str = "dev", minutes: int = 0, *extra: DeploymentStatusRecord
) -> DeploymentRecord:
    """A deployment that the CD made live two minutes after it was created, then `extra`."""
    return dep(
        sha, env, minutes, st("in_progress", minutes + 1), st("success", minutes + 2), *extra
    )


def rejected_by(
    user: str = "carol", reason: str = "broken", minutes: int = 0
) -> DeploymentStatusRecord:
    """A rejection ringbot recorded."""
    return st("success", minutes, by=BOT, text=encode_rejection(user, reason))


def signed_by(user: str = "carol", minutes: int = 0) -> DeploymentStatusRecord:
    """A sign-off ringbot recorded."""
    return st("success", minutes, by=BOT, text=encode_signoff(user))


def rows_of(*states: str) -> tuple[Row, ...]:
    """Ring rows of CONFIG in order, one per state, all of release m1 for the last hour."""
    since = NOW - timedelta(hours=1)
    return tuple(
        Row(r, state, M[1], since)  # type: ignore[arg-type]
        for r, state in zip(CONFIG.rings, states, strict=False)
    )
