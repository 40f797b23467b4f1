"""Release visibility: status comments, the ringbot/release check run, ring labels, rejection
notices and GitHub Releases. (Being built.)"""

from __future__ import annotations

from gidgethub import routing

from ..config import Config
from ..context import Ctx

router = routing.Router()


async def rejected(ctx: Ctx, config: Config, sha: str, ring: str, actor: str, reason: str) -> None:
    """Tell every pull request in the rejected release why it will not move on."""


JOBS: dict[type, object] = {}
