"""Pure markdown for release visibility: the status table on pull requests, the ringbot/release
check run, rejection notices and GitHub Release notes.

Texts are rewritten only when they change, so they hold absolute times ("since 2024-05-01 12:00
UTC") rather than "3h ago"; only a bake still running says how long is left.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

from bot.config import Config
from bot.ledger import HotfixMark, Rejection
from bot.messages.hotfix import hotfix_note
from bot.messages.text import humanise, inert, one_line, short
from bot.policy.visibility import MergedPull, Row, declares_users, widest

STATUS_MARKER: Final = "<!-- ringbot:status -->"
RELEASE_CHECK: Final = "ringbot/release"
NONE: Final = "—"

Links = Callable[[str], str]  # sha -> the commit's page ("" when unknown)


def notice_marker(sha: str) -> str:
    """The hidden marker of the one rejection notice a pull request gets for release `sha`."""
    return f"<!-- ringbot:rejected:{sha} -->"


def when(moment: datetime | None) -> str:
    """A time people in any zone read the same way."""
    if moment is None:
        return NONE
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def users(count: int | None) -> str:
    """A user count with thousands separators."""
    return f"{count:,}" if count is not None else NONE


def release_link(sha: str | None, links: Links) -> str:
    """The short SHA, linked to its commit when the link is known."""
    if not sha:
        return NONE
    url = links(sha)
    return f"[`{short(sha)}`]({url})" if url else f"`{short(sha)}`"


def who(login: str) -> str:
    """A login shown without pinging: the table is rewritten on many pull requests."""
    return inert(f"@{login}")


def state_cell(row: Row) -> str:
    """What the release is doing in the ring, in a few words."""
    if row.state == "waiting":
        return "⚪ waiting"
    if row.state == "deploying" and row.hotfix is not None:
        return f"🚀 deploying · {hotfix_note(row.hotfix)}"
    if row.state == "deploying":
        return "🚀 deploying"
    if row.state == "failed":
        return "❌ deploy failed"
    if row.state == "replaced":
        return "↪️ replaced by a newer release"
    if row.state == "rejected" and row.rejection is not None:
        why = f": {inert(row.rejection.reason)}" if row.rejection.reason else ""
        return f"⛔ rejected by {who(row.rejection.user)}{why}"
    parts = ["✅ live"]
    if row.hotfix is not None:
        parts.append(hotfix_note(row.hotfix))
    if row.signed_off_by:
        parts.append("signed off by " + ", ".join(who(u) for u in row.signed_off_by))
    if row.bake_left is not None and row.next_ring:
        parts.append(f"⏳ baking, {humanise(row.bake_left)} left before {row.next_ring}")
    return " · ".join(parts)


def render_table(
    config: Config, rows: Sequence[Row], links: Links, closed: Mapping[str, str] | None = None
) -> str:
    """Ring, release, state, since, and the users reached when rings say how many they reach.

    `closed` (ring -> a 🧊 note, see messages.freezes) marks the rings closed now."""
    counted = declares_users(config)
    head = "| ring | release | state | since |" + (" users reached |" if counted else "")
    rule = "|---|---|---|---|" + ("---|" if counted else "")
    lines = [head, rule]
    for r in rows:
        state = state_cell(r)
        if closed and r.ring.name in closed:
            state += f" · {closed[r.ring.name]}"
        line = f"| {r.ring.name} | {release_link(r.sha, links)} | {state} | {when(r.since)} |"
        lines.append(line + (f" {users(r.users)} |" if counted else ""))
    return "\n".join(lines)


def blast_radius(config: Config, rows: Sequence[Row]) -> str:
    """One line: the widest ring reached, and how many users that is."""
    top = widest(rows)
    if top is None and any(r.state == "rejected" for r in rows):
        return "⛔ Rejected: it moves on only in a later release."
    if top is None:
        return "Not live in any ring yet."
    reached = f" ({users(top.users)} users)" if declares_users(config) and top.users else ""
    return f"Live up to **{top.ring.name}**{reached}."


def render_pr_status(
    config: Config, rows: Sequence[Row], links: Links, closed: Mapping[str, str] | None = None
) -> str:
    """The sticky status comment of a merged pull request (the marker is added by the writer)."""
    return "\n".join(
        [
            "### 🛰️ Where this change is",
            "",
            render_table(config, rows, links, closed),
            "",
            blast_radius(config, rows),
            "",
            "<sub>Kept up to date by ringbot as releases move through the rings.</sub>",
        ]
    )


def render_release_check(
    config: Config,
    sha: str,
    rows: Sequence[Row],
    links: Links,
    notes: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """(title, summary) of the ringbot/release check run on the release commit."""
    rejected = next((r for r in rows if r.state == "rejected"), None)
    top = widest(rows)
    moving = next((r for r in rows if r.state in ("deploying", "failed")), None)
    if rejected is not None and rejected.rejection is not None:
        # The ledger marks every deployment of a rejected release, so it names no single ring.
        # A title is plain text: markdown escapes would show, and nothing in it pings.
        reason = one_line(rejected.rejection.reason)
        title = f"Rejected: {reason}" if reason else "Rejected"
    elif moving is not None and moving.state == "failed":
        title = f"Deploy to {moving.ring.name} failed"
    elif moving is not None:
        title = f"Deploying to {moving.ring.name}"
    elif top is not None:
        title = f"Live in {top.ring.name}"
        if declares_users(config) and top.users:
            title += f" · {users(top.users)} users"
    else:
        title = "Not deployed yet"
    hotfix = next((r for r in reversed(rows) if r.hotfix is not None), None)
    if hotfix is not None and hotfix.hotfix is not None and rejected is None:
        # A title is plain text: nothing in it pings.
        mark = hotfix.hotfix
        title = f"⚡ Hotfix into {hotfix.ring.name} by {mark.asker} · {title}"
    summary = "\n".join(
        [
            f"Release {release_link(sha, links)} in each ring:",
            "",
            render_table(config, rows, links, notes),
            "",
            blast_radius(config, rows),
        ]
    )
    return title, summary


def render_notice(sha: str, ring: str, found: Rejection, links: Links) -> str:
    """The one note each pull request in a rejected release gets."""
    why = f": {inert(found.reason)}" if found.reason else "."
    return (
        f"⛔ Release {release_link(sha, links)}, which contains this pull request, was rejected "
        f"in **{ring}** by @{found.user}{why}\n\n"
        "It will not move on; a fix merged later starts a new release."
    )


def render_release_notes(
    sha: str,
    ring: str,
    pulls: Sequence[MergedPull],
    previous_tag: str | None,
    hotfixes: Sequence[tuple[str, HotfixMark]] = (),
) -> str:
    """GitHub Release notes: the pull requests since the previous release ringbot published;
    `hotfixes` (environment, mark) say where it went through the hotfix lane, and who said so."""
    since = f" since {previous_tag}" if previous_tag else ""
    items = [f"- {inert(p.title)} (#{p.number}) @{p.author}" for p in pulls]
    lanes = [f"{hotfix_note(mark, ping=True)}, into {env}." for env, mark in hotfixes]
    return "\n".join(
        [
            f"Release `{short(sha)}` went live in {ring}.",
            *(["", *lanes] if lanes else []),
            "",
            f"## Pull requests{since}",
            "",
            *(items or ["- (none)"]),
        ]
    )
