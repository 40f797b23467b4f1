"""An in-memory GitHub simulator (REST API + signed webhooks) for tests, sandbox and benchmarks."""

from bot.sim.delivery import Delivery
from bot.sim.server import Fault, RequestRecord
from bot.sim.simulator import Simulator

__all__ = ["Delivery", "Fault", "RequestRecord", "Simulator"]
