"""The only writers. Each write is idempotent: read what is there, write only the difference.

A write that failed with 5xx or a time-out may still have happened, so before trying again
we read once more and take what we find.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gidgethub import GitHubBroken

T = TypeVar("T")
WRITE_ATTEMPTS = 3


async def write_once(
    attempt: Callable[[], Awaitable[T]], reread: Callable[[], Awaitable[T | None]]
) -> T:
    """Run a create at most once in effect: after a failure that may hide success, re-read first."""
    for tries in range(1, WRITE_ATTEMPTS + 1):
        try:
            return await attempt()
        except GitHubBroken:
            if tries == WRITE_ATTEMPTS:
                raise
            await asyncio.sleep(random.uniform(0, 0.1 * 2**tries))
            found = await reread()
            if found is not None:
                return found
    raise AssertionError("unreachable")
