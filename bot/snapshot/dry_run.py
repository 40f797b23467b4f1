"""The reads a `/promote <ring> --dry-run` makes beyond the promotion's own: the default
branch's history and merged pull requests (what would ship) and the ring's variables (which
`FEATURE_` values would change). Reads only: a dry run writes nothing but its reply."""

from __future__ import annotations

from ..context import Ctx
from ..policy.visibility import History, MergedPull
from .history import default_branch, merged_pulls, read_history


async def read_shipping(ctx: Ctx, sha: str | None) -> tuple[History | None, list[MergedPull]]:
    """The history page and merged pull requests, when a release would move (else nothing)."""
    if not sha:
        return None, []
    branch = await default_branch(ctx)
    history = await read_history(ctx, branch)
    if sha not in history:
        return history, []
    return history, await merged_pulls(ctx, branch, history)
