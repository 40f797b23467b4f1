"""What a job works with: a client for its installation, who we are, the clock and caches."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import LRUCache, TTLCache

from .config import Config, ConfigErrors
from .github import RingbotGitHub
from .models import Permission, PullRequest
from .policy.gate import BuildsSeen
from .policy.visibility import MergedPull
from .webhook import Identity

Timer = Callable[[], float]


class Caches:
    """Caches shared by every job; each is bounded, none is the source of truth.

    Their TTLs run on `timer`, the bot's clock in seconds, so a test clock ages them too.
    """

    def __init__(self, timer: Timer = time.monotonic, *, sole: bool = True) -> None:
        # True when this process runs every job of its installations (no replicas). Only then
        # are memos of what it last read or wrote (builds_seen, pulls, own_runs, own_comments)
        # what GitHub shows: with replicas another process may have moved on since.
        self.sole = sole

        def ttl(seconds: float) -> TTLCache[Any, Any]:
            return TTLCache(maxsize=10_000, ttl=seconds, timer=timer)

        # (installation, repo, user) -> Permission; short-lived so a revoked write does not linger.
        self.permissions: TTLCache[tuple[int, str, str], Permission] = ttl(60)
        # (installation, "org/team", user) -> an active member of that team, for as briefly:
        # someone who leaves a team stops counting toward its sign-offs within a minute.
        self.memberships: TTLCache[tuple[int, str, str], bool] = ttl(60)
        # blob sha -> parsed config (a blob sha names the exact file content: never stale).
        self.configs: LRUCache[str, Config | ConfigErrors] = LRUCache(maxsize=1_000)
        # (installation, repo) -> parsed config, or None when the repository has none. A push
        # to the default branch drops the entry, and the TTL heals a lost push: five minutes
        # for a file (its re-read is a free 304), six hours for no file (a 404 is charged).
        self.repo_configs: TTLCache[tuple[int, str], Config | ConfigErrors] = ttl(300)
        self.no_configs: TTLCache[tuple[int, str], bool] = ttl(6 * 3600)
        # (installation, repo, sha) -> True when that commit had no commit statuses at all, so
        # a re-evaluation of the same head need not ask again. A `status` webhook for the
        # commit drops it; the day-long TTL only bounds a lost webhook (catch-up replays those).
        self.no_statuses: TTLCache[tuple[int, str, str], bool] = ttl(24 * 3600)
        # (installation, repo, sha) -> True once a commit deployed around ringbot proved to be
        # a release (the default branch pointed at it, builds green), for an hour.
        self.releases: TTLCache[tuple[int, str, str], bool] = ttl(3600)
        # The negative answers, for five minutes: a foreign deploy is read on every ring decision.
        self.not_releases: TTLCache[tuple[int, str, str], bool] = ttl(300)
        # (installation, repo, pull number) -> what the gate last read of its head's builds, so
        # that news of a check that cannot change the gate costs no request (policy.gate).
        self.builds_seen: TTLCache[tuple[int, str, int], BuildsSeen] = ttl(3600)
        # (installation, repo, pull number) -> the pull request as the gate last read it. Only
        # news of a check on its head uses it; every event about the pull request reads it anew.
        self.pulls: TTLCache[tuple[int, str, int], PullRequest] = ttl(3600)
        # The App's own check runs ((installation, repo, sha, name) -> run) and marked comments
        # ((installation, repo, number, marker) -> comment) as this process last wrote or read
        # them. Only the App writes them, so they need not be listed again to be found.
        self.own_runs: TTLCache[tuple[int, str, str, str], dict[str, Any]] = ttl(3600)
        self.own_comments: TTLCache[tuple[int, str, int, str], dict[str, Any]] = ttl(3600)
        # (installation, repo, pull number) -> a merged pull request: where it merged never changes.
        self.merges: TTLCache[tuple[int, str, int], PullRequest] = ttl(24 * 3600)
        # (installation, repo, branch, head sha) -> the pull requests merged into the branch, as
        # listed while the branch had that head (snapshot.history.merged_pulls).
        self.merged_pulls: TTLCache[tuple[int, str, str, str], tuple[MergedPull, ...]] = ttl(3600)
        # (installation, repo, label name casefolded) -> True once the label is known to exist.
        # Should someone delete it, adding it to a pull request makes it again (without colour).
        self.labels: TTLCache[tuple[int, str, str], bool] = ttl(7 * 24 * 3600)
        # Guardrails (bot/snapshot/guardrails.py). (installation, repo, sha) -> a default-branch
        # commit's verdict (an Unverified, or False: verified); how a merge stood never changes.
        self.verdicts: TTLCache[tuple[int, str, str], Any] = ttl(24 * 3600)
        # (installation, repo, candidate, stops) -> the unverified commits it brings, per look.
        self.unverified: TTLCache[tuple[int, str, str, str], Any] = ttl(3600)
        # (installation, repo) -> the protection check; an hour, dropped by settings webhooks.
        self.protection: TTLCache[tuple[int, str], Any] = ttl(3600)
        # The same, when part of it could not be read (403, 5xx): asked again after 5 minutes.
        self.protection_unknown: TTLCache[tuple[int, str], Any] = ttl(300)
        # (installation, repo) -> the default branch's name; renames are rare, the TTL heals them.
        self.default_branches: TTLCache[tuple[int, str], str] = ttl(6 * 3600)
        # Told (installation, repo) when a job drops that repository's config: with replicas,
        # every other replica drops its copy too (bot/replicas/config_bus.py sets it).
        self.config_dropped: Callable[[int, str], None] | None = None

    def drop_config(self, installation: int, repo: str) -> None:
        """Forget what is known of the repository's config, file or no file."""
        self.repo_configs.pop((installation, repo), None)
        self.no_configs.pop((installation, repo), None)


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
