"""Answer a custom deployment protection rule: the held job goes on, or is stopped with why."""

from __future__ import annotations

from ..context import Ctx
from ..logs import log


async def answer_protection_rule(
    ctx: Ctx, run_id: int, environment: str, approved: bool, comment: str
) -> None:
    """Approve or reject the workflow run's deployment to `environment`."""
    # GitHub keeps the first answer for a run; repeating the same answer changes nothing.
    await ctx.gh.post(
        f"/repos/{ctx.repo}/actions/runs/{run_id}/deployment_protection_rule",
        data={
            "environment_name": environment,
            "state": "approved" if approved else "rejected",
            "comment": comment[:1000],
        },
    )
    log(20, "protection rule answered", repo=ctx.repo, environment=environment, approved=approved)
