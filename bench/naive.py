"""The naive baseline: the same bot with every cache and the debounce turned off.

The performance benches measure ringbot side by side with this mode of itself, in the same run:
what the caches, the ETags and the debounce save is the difference between the two. Nothing in
`bot/` knows about it; it only swaps what a running bot reads per use.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.app import Ringbot
from bot.context import Caches


class Forgetful(dict[Any, Any]):
    """A cache that keeps nothing: every lookup misses."""

    def __setitem__(self, key: Any, value: Any) -> None:
        return None


def forgetful_caches() -> Caches:
    """Caches that never hold anything."""
    caches = Caches()
    for name, value in list(vars(caches).items()):
        if isinstance(value, dict) or hasattr(value, "maxsize"):
            setattr(caches, name, Forgetful())
    return caches


def make_naive(bot: Ringbot) -> None:
    """Turn a started bot naive: no caches, no ETag cache, no debounce."""
    bot.settings = dataclasses.replace(bot.settings, debounce_seconds=0.0, etag_cache_bytes=0)
    bot.github.etags.limit = 0
    bot.caches = forgetful_caches()
