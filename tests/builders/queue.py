"""Builders for the work queues' tests: a work key, and a worker that records what it ran."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    """A work key for tests."""

    repo: str = "acme/widgets"
    number: int = 1
    installation: int = 1


class Recorder:
    """A worker that records what it ran and how many ran at once.

    Each job yields to the loop a few times, so the other workers start theirs meanwhile; with
    `hold`, each job also waits until `release` is set (after `started` says it is running).
    """

    def __init__(self, hold: bool = False) -> None:
        self.ran: list[Key] = []
        self.running: dict[str, int] = {}
        self.max_per_repo = 0
        self.max_total = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def __call__(self, key: Key) -> None:
        self.running[key.repo] = self.running.get(key.repo, 0) + 1
        self.max_per_repo = max(self.max_per_repo, self.running[key.repo])
        self.max_total = max(self.max_total, sum(self.running.values()))
        self.started.set()
        for _ in range(3):
            await asyncio.sleep(0)
        await self.release.wait()
        self.running[key.repo] -= 1
        self.ran.append(key)
