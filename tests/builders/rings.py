"""Builders for ring tests: deployments, their statuses and ring states, a default for every field."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import DEFAULT_CONFIG, Config, RingConfig
from bot.ledger import (
    DeploymentRecord,
    DeploymentStatusRecord,
    RingState,
    current_release,
    encode_rejection,
    encode_signoff,
)
from bot.models import Permission, PullRequest
from bot.policy.rings import Ask, RingCommand, RingsView

BOT = "ringbot[bot]"
CD = "github-actions[bot]"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def status(**kw: Any) -> DeploymentStatusRecord:
    """A CD status, `success` by default."""
    fields: dict[str, Any] = {
        "id": next(_ids),
        "state": "success",
        "creator": CD,
        "description": "",
        "created_at": T0,
    }
    return DeploymentStatusRecord(**(fields | kw))


def entry(description: str, *, at: datetime = T0, creator: str = BOT) -> DeploymentStatusRecord:
    """A ledger status written by the bot."""
    return status(creator=creator, description=description, created_at=at)


def deployment(**kw: Any) -> DeploymentRecord:
    """A deployment the bot created, live since T0."""
    fields: dict[str, Any] = {
        "id": next(_ids),
        "sha": "a" * 40,
        "environment": "internal",
        "created_at": T0 - timedelta(minutes=5),
        "creator": BOT,
        "statuses": (status(),),
    }
    return DeploymentRecord(**(fields | kw))


NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
LIVE = NOW - timedelta(days=3)  # longer than any default bake time
RELEASE = "c0ffee" + "0" * 34
OLDER = "b" * 40
OLDEST = "a" * 40
NEWER = "d" * 40


def ring(name: str, config: Config = DEFAULT_CONFIG) -> RingConfig:
    """A ring of `config` by name."""
    found = config.ring(name)
    assert found is not None
    return found


def config_with(name: str, **changes: Any) -> Config:
    """DEFAULT_CONFIG with one ring changed."""
    rings = tuple(
        dataclasses.replace(r, **changes) if r.name == name else r for r in DEFAULT_CONFIG.rings
    )
    return dataclasses.replace(DEFAULT_CONFIG, rings=rings)


def live(
    sha: str = RELEASE,
    *,
    ring: str = "internal",
    at: datetime = LIVE,
    signers: tuple[str, ...] = ("alice",),
    extra: tuple[DeploymentStatusRecord, ...] = (),
    **kw: Any,
) -> DeploymentRecord:
    """A deployment of `sha` that succeeded in `ring` at `at` and was signed off by `signers`."""
    statuses = (
        status(state="in_progress", created_at=at - timedelta(minutes=2)),
        status(state="success", created_at=at),
        *(entry(encode_signoff(user), at=at + timedelta(minutes=1)) for user in signers),
        *extra,
    )
    fields: dict[str, Any] = {
        "sha": sha,
        "environment": ring,
        "created_at": at - timedelta(minutes=5),
        "statuses": statuses,
    }
    return deployment(**(fields | kw))


def in_ring(
    sha: str, ring: str, state: str, *, at: datetime = NOW - timedelta(minutes=1)
) -> DeploymentRecord:
    """A deployment whose CD is at `state`."""
    return deployment(
        sha=sha, environment=ring, created_at=at, statuses=(status(state=state, created_at=at),)
    )


def rejected_by(user: str = "dave", reason: str = "breaks login") -> DeploymentStatusRecord:
    """A rejection recorded by the bot."""
    return entry(encode_rejection(user, reason), at=NOW - timedelta(hours=1))


def ring_state(
    name: str = "internal", *deployments: DeploymentRecord, config: Config = DEFAULT_CONFIG
) -> RingState:
    """A ring and its deployments, newest first."""
    return RingState(ring(name, config), deployments)


def rings_view(
    *states: RingState | None,
    config: Config = DEFAULT_CONFIG,
    others: tuple[RingState, ...] = (),
    permissions: Mapping[str, Permission] | None = None,
    merged: bool = True,
    contains: Mapping[str, bool | None] | None = None,
    authors: Mapping[str, frozenset[str] | None] | None = None,
    green_head: str | None = None,
    releases: frozenset[str] = frozenset(),
    now: datetime = NOW,
) -> RingsView:
    """What a decision reads: the given ring states (None: not read), and the facts beside them."""
    pull = PullRequest(
        repo="acme/widgets",
        number=1,
        author="bob",
        head_sha="e" * 40,
        base_ref="main",
        default_branch="main",
        state="closed" if merged else "open",
        merged=merged,
        merge_commit_sha=RELEASE if merged else None,
    )
    return RingsView(
        config,
        BOT,
        now,
        tuple(s for s in states if s is not None),
        others,
        permissions,
        pull,
        contains or {},
        authors or {},
        green_head,
        releases,
    )


def contained_in(*states: RingState | None, answer: bool | None = True) -> dict[str, bool | None]:
    """Each state's current release SHA -> `answer` (whether it holds the pull request)."""
    found: dict[str, bool | None] = {}
    for state in states:
        release = current_release(state, BOT) if state is not None else None
        if release is not None:
            found[release.sha] = answer
    return found


def ask(
    command: RingCommand,
    *,
    actor: str = "carol",
    permission: Permission = Permission.WRITE,
    written_at: datetime | None = None,
) -> Ask:
    """A person's ring command, written now by a writer."""
    return Ask(command, actor, permission, written_at)
