"""Per-ring feature toggles: FEATURE_<FLAG> variables on each ring's GitHub Environment."""

from __future__ import annotations

from gidgethub import routing

from ..commands import Command
from ..config import Config, RingConfig
from ..context import Ctx
from ..models import Permission

router = routing.Router()


async def command(
    ctx: Ctx, config: Config, actor: str, permission: Permission, item: Command
) -> tuple[str, bool]:
    """`/feature` and `/features`: (reply text, refused)."""
    return f"😕 `{item.line}` is not available yet.", True


async def before_deploy(ctx: Ctx, config: Config, ring: RingConfig) -> None:
    """Bring the ring's flags in line with the config before a release enters it."""


JOBS: dict[type, object] = {}
