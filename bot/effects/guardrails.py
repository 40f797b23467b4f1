"""Guardrails' writes: the one note and the `unverified-merge` label on a pull request whose
merge went around the merge gate. Both are idempotent: the note carries a hidden marker and is
looked for first; adding a label a pull request has changes nothing."""

from __future__ import annotations

from collections.abc import Iterable

from ..context import Ctx
from ..logs import log
from ..messages.guardrails import render_unverified, unverified_marker
from ..policy.guardrails import UNVERIFIED_LABEL, Unverified
from .labels import add_label, ensure_label
from .replies import find_reply, reply

LABEL_COLOR = "d93f0b"


async def flag_unverified(ctx: Ctx, ring: str, found: Iterable[Unverified]) -> None:
    """Label and tell each pull request that merged around the gate, once."""
    for item in found:
        if not item.pull:
            continue  # pushed straight: no pull request to tell (the rings job logs it)
        marker = unverified_marker(item.sha)
        if await find_reply(ctx, item.pull, marker) is not None:
            continue
        await ensure_label(ctx, UNVERIFIED_LABEL, LABEL_COLOR, "merged around ringbot/merge-gate")
        await add_label(ctx, item.pull, UNVERIFIED_LABEL)
        await reply(ctx, item.pull, render_unverified(item, ring), marker=marker, check_first=False)
        log(20, "unverified merge flagged", repo=ctx.repo, pull=item.pull, sha=item.sha)
