"""Release visibility: where a release and each pull request in it stand in the rings.

Every deployment status (the user's CD, and ringbot's own sign-offs and rejections) reduces to
"look at release SHA again". The job reads the rings' deployments, one page of the default
branch's history and the merged pull requests, decides in pure code, and writes only what differs:
a sticky status comment and a `ring:<name>` label on each pull request the release carries, the
`ringbot/release` check run on the release commit, and a GitHub Release once the release is live
in a `release: true` ring. It writes no deployment statuses, so it never triggers itself.
"""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio

from ..config import Config, ConfigErrors
from ..context import Ctx
from ..effects.checks import CheckOutput, find_own_run, publish_check
from ..effects.labels import move_label
from ..effects.releases import publish_release, recent_releases
from ..effects.replies import reply
from ..ledger import DeploymentRecord, live_since
from ..logs import log
from ..messages import visibility as say
from ..messages.blocked import BLOCKED_TITLE
from ..messages.freezes import closed_note
from ..messages.verify import verify_note
from ..policy.verify import verification
from ..policy.visibility import (
    REJECTED_LABEL,
    check_conclusion,
    hotfixes,
    journey,
    label_change,
    label_color,
    previous_published,
    published_for,
    release_due,
    release_milestone,
    release_rows,
    ring_label,
    work_items,
)
from ..policy.windows import closure
from ..snapshot.freezes import read_freezes
from ..snapshot.history import ReleaseView, read_release
from ..snapshot.repo_config import load_config
from ..snapshot.verify import read_checks
from ..webhook import Triage
from ..work import ReleaseKey
from . import events

router = routing.Router()


@router.register("deployment_status", action="created")
async def deployment_reported(event: sansio.Event, triage: Triage) -> None:
    """Any report on a deployment, ringbot's own ledger entries included: show the release again."""
    data = event.data
    sha = str((data.get("deployment") or {}).get("sha") or "")
    if not sha or not events.deployment_settled(event, triage.identity.app_id):
        return
    triage.enqueue(
        ReleaseKey(
            events.installation(event), events.repo(event), events.default_branch(event), sha
        )
    )


# --- the job ------------------------------------------------------------------------------------


async def release_job(ctx: Ctx, key: ReleaseKey) -> None:
    """Converge everything that shows where the release is."""
    config = await load_config(ctx)
    if isinstance(config, ConfigErrors):
        log(30, "invalid config, release visibility left alone", repo=ctx.repo)
        return
    view = await read_release(ctx, config, key.default_branch, key.sha, config.rings, all_of=True)
    if view is None:
        return
    now, bot = ctx.now(), ctx.identity.bot_login
    records = list(view.records.values())
    links = view.history.url
    existing = await find_own_run(ctx, key.sha, say.RELEASE_CHECK)
    blocked = _still_blocked(config, existing, view.own())
    closed = await _closed_rings(ctx, config, records) if view.affected else {}
    verified = await _verify_notes(ctx, config, records, key.sha)
    notes = {
        ring: " · ".join(n for n in (closed.get(ring), verified.get(ring)) if n)
        for ring in {*closed, *verified}
    }
    for pull in view.affected:
        rows = journey(config, pull, records, view.history, now, bot)
        table = say.render_pr_status(config, rows, links, notes)
        await reply(
            ctx,
            pull.number,
            f"{blocked.summary}\n\n{table}" if blocked else table,
            marker=say.STATUS_MARKER,
            check_first=True,
        )
        change = label_change(config, pull.labels, ring_label(rows))
        if not change.empty:
            await move_label(
                ctx,
                pull.number,
                add=change.add,
                remove=change.remove,
                color=label_color(config, change.add or ""),
                description=_label_description(change.add or ""),
            )
    rows = release_rows(config, key.sha, records, now, bot)
    title, summary = say.render_release_check(config, key.sha, rows, links, verified)
    want = blocked or CheckOutput(
        say.RELEASE_CHECK,
        "completed",
        check_conclusion(rows),
        title,
        summary,
        # Where verification stands is a milestone too (the 🧊 notes are not: they tell time).
        milestone="\n".join([release_milestone(rows), *sorted(verified.values())]),
    )
    await publish_check(ctx, key.sha, want, existing)
    await _publish(ctx, config, view)


def _still_blocked(
    config: Config, run: dict[str, Any] | None, own: list[DeploymentRecord]
) -> CheckOutput | None:
    """The release check run's "Blocked before <ring>" (written by the rings job when a ring's
    environment cannot be created), while the release has not entered that ring: the check run
    is where that fact lives, so this job keeps showing it instead of drawing over it."""
    output = (run or {}).get("output") or {}
    title = str(output.get("title") or "")
    ring = (
        config.ring(title.removeprefix(BLOCKED_TITLE)) if title.startswith(BLOCKED_TITLE) else None
    )
    if ring is None or any(d.environment.lower() == ring.environment.lower() for d in own):
        return None
    summary = str(output.get("summary") or "")
    return CheckOutput(say.RELEASE_CHECK, "completed", "action_required", title, summary)


async def _verify_notes(
    ctx: Ctx, config: Config, records: list[DeploymentRecord], sha: str
) -> dict[str, str]:
    """Ring -> its 🔬 note, for the rings with `verify:` that the release went live in (one read
    of the release commit's checks, and none when no ring verifies)."""
    rings = [r for r in config.rings if r.verify]
    if not rings:
        return {}
    facts = await read_checks(ctx, sha, {name for ring in rings for name in ring.verify})
    now, bot = ctx.now(), ctx.identity.bot_login
    notes = {}
    for ring in rings:
        own = [
            d for d in records if d.sha == sha and d.environment.lower() == ring.environment.lower()
        ]
        release = max(own, key=lambda d: d.id, default=None)
        if release is None or live_since(release, bot) is None:
            continue
        found = verification(ring, release, facts, now, bot)
        if found is not None:
            notes[ring.name] = verify_note(found)
    return notes


async def _closed_rings(
    ctx: Ctx, config: Config, records: list[DeploymentRecord]
) -> dict[str, str]:
    """Ring -> its 🧊 note, for the rings closed now: windows from the config; freezes read for
    the rings whose environment exists (it has deployments: a list answered 304 while nothing
    changed), where a ring never deployed to would cost a charged 404 on every look."""
    deployed = {d.environment.lower() for d in records}
    rings = [r for r in config.rings if r.environment.lower() in deployed]
    freezes = await read_freezes(ctx, rings)
    now = ctx.now()
    notes = {}
    for ring in config.rings:
        found = closure(ring.name, now, config.windows, config.timezone, freezes.get(ring.name))
        if found is not None:
            notes[ring.name] = closed_note(found, config.timezone, now)
    return notes


def _label_description(name: str) -> str:
    if name.casefold() == REJECTED_LABEL:
        return "ringbot: the release with this change was rejected"
    return "ringbot: the widest ring this change is live in"


async def _publish(ctx: Ctx, config: Config, view: ReleaseView) -> None:
    """A GitHub Release once the release is live in a `release: true` ring; never two per SHA."""
    bot = ctx.identity.bot_login
    due = release_due(config, view.sha, view.own(), bot)
    if due is None:
        return
    releases = await recent_releases(ctx)
    if published_for(releases, view.sha, bot) is not None:
        return
    previous = previous_published(view.history, releases, view.sha, bot)
    items = work_items(
        view.history, view.pulls, view.sha, previous.target if previous is not None else None
    )
    notes = say.render_release_notes(
        view.sha,
        due.ring.name,
        items,
        previous.tag if previous is not None else None,
        hotfixes(view.sha, view.own(), bot),
    )
    await publish_release(ctx, tag=due.tag, sha=view.sha, name=due.tag, body=notes)


JOBS = {ReleaseKey: release_job}
