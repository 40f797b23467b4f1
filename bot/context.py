"""What a job works with: a client for its installation, who we are, the clock and caches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cachetools import LRUCache, TTLCache

from .config import Config, ConfigErrors
from .github import RingbotGitHub
from .models import Permission
from .webhook import Identity


@dataclass
class Caches:
    """Caches shared by every job; each is bounded, none is the source of truth."""

    # (installation, repo, user) -> Permission; short-lived so a revoked write does not linger.
    permissions: TTLCache[tuple[int, str, str], Permission] = field(
        default_factory=lambda: TTLCache(maxsize=10_000, ttl=60)
    )
    # blob sha -> parsed config (a blob sha names the exact file content, so this never goes stale).
    configs: LRUCache[str, Config | ConfigErrors] = field(
        default_factory=lambda: LRUCache(maxsize=1_000)
    )
    # (installation, repo) -> parsed config; a push to the default branch drops the entry, and
    # the TTL heals a lost push.
    repo_configs: TTLCache[tuple[int, str], Config | ConfigErrors] = field(
        default_factory=lambda: TTLCache(maxsize=10_000, ttl=300)
    )
    # (installation, repo, sha) -> True when that commit had no commit statuses at all, so a
    # re-evaluation of the same head (a review, a label) need not ask again. A `status`
    # webhook for the commit drops it, and the TTL heals a lost one.
    no_statuses: TTLCache[tuple[int, str, str], bool] = field(
        default_factory=lambda: TTLCache(maxsize=10_000, ttl=600)
    )
    # (installation, repo, sha) -> True once a commit deployed around ringbot proved to be a
    # release (the default branch pointed at it, builds green), for an hour.
    releases: TTLCache[tuple[int, str, str], bool] = field(
        default_factory=lambda: TTLCache(maxsize=10_000, ttl=3600)
    )
    # The negative answers, for five minutes: a foreign deploy is read on every ring decision.
    not_releases: TTLCache[tuple[int, str, str], bool] = field(
        default_factory=lambda: TTLCache(maxsize=10_000, ttl=300)
    )
    # Told (installation, repo) when a job drops that repository's config: with replicas, every
    # other replica drops its copy too (bot/replicas/config_bus.py sets it).
    config_dropped: Callable[[int, str], None] | None = None
    # (installation, repo) -> the default branch's name; renames are rare and heal with the TTL.
    default_branches: TTLCache[tuple[int, str], str] = field(
        default_factory=lambda: TTLCache(maxsize=10_000, ttl=600)
    )


@dataclass
class Ctx:
    """The context of one job, for one repository."""

    gh: RingbotGitHub
    installation: int
    repo: str
    identity: Identity
    now: Callable[[], datetime]
    caches: Caches
    # Run a key again after some seconds (a bake time ending): nothing else would wake it.
    later: Callable[[Any, float], None] = lambda key, seconds: None
