"""What the sign-off rules read at decision time: team memberships (`signoff.teams`) and who wrote
the release (`signoff.not: [author]`), for the sign-offs a decision counts.

Nothing here is stored as truth: a membership is cached for a minute, like a permission, so a
person who left a team stops counting within a minute of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import quote

from gidgethub import BadRequest

from ..config import RingConfig
from ..context import Ctx
from ..ledger import current_release, has_in_ring, signoffs
from ..logs import log
from ..policy.rings import RingsView
from ..policy.signoff import membership_key
from .history import release_authors
from .reads import get_or_none


async def team_member(ctx: Ctx, team: str, login: str) -> bool | None:
    """Whether `login` is an active member of `team` ("org/slug"); None when GitHub would not
    say (403: the App lacks Members: read there, or the team is in another organization)."""
    key = (ctx.installation, *membership_key(team, login))
    cached = ctx.caches.memberships.get(key)
    if cached is not None:
        return cached
    org, _, slug = team.partition("/")
    url = (
        f"/orgs/{quote(org, safe='')}/teams/{quote(slug, safe='')}"
        f"/memberships/{quote(login, safe='')}"
    )
    try:
        data = await get_or_none(ctx.gh, url)  # 404: not a member (or no such team)
    except BadRequest as exc:
        if int(exc.status_code) != 403:
            raise
        log(logging.WARNING, "team membership not readable", repo=ctx.repo, team=team)
        return None
    member = isinstance(data, dict) and data.get("state") == "active"  # "pending": not yet
    ctx.caches.memberships[key] = member
    return member


async def with_signoff_facts(
    ctx: Ctx, view: RingsView, rings: Iterable[RingConfig], actor: str | None = None
) -> RingsView:
    """The view, with what the sign-off rules need about each ring's current release: the
    memberships of its signers (and of `actor`, who is signing off) in the ring's teams, and,
    under `not: [author]`, who wrote it (once someone signed it off), read now."""
    bot = view.bot_login
    memberships = dict(view.memberships)
    authors = dict(view.authors)
    for ring in rings:
        release = current_release(view.state(ring), bot)
        if release is None:
            continue
        after = view.config.next(ring)
        ahead = current_release(view.state(after), bot) if after is not None else None
        if after is None or has_in_ring(view.state(after), release.sha, bot):
            continue  # nothing waits for this release's sign-offs
        people = [s.user for s in signoffs(release, bot)]
        if "author" in ring.signoff_not and people and release.sha not in authors:
            since = ahead.sha if ahead is not None else None
            authors[release.sha] = await release_authors(ctx, release.sha, since)
        people += [actor] if actor else []
        for team, _ in ring.signoff_teams:
            for login in people:
                key = membership_key(team, login)
                if key not in memberships:
                    memberships[key] = await team_member(ctx, team, login)
    return replace(view, memberships=memberships, authors=authors)
