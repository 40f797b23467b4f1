"""Slash commands in pull-request comments and `promote:<ring>` labels, parsed without any I/O.

A command is a line whose first non-blank character is `/` followed by a known command name (any
case). Only a line that GitHub shows as a plain line of its own counts: not one inside code (fenced
or indented), a block quote (lazy continuation lines too), an HTML block or comment, link or image
syntax, or a link reference definition. People quote and template commands, and nothing hidden may
act. An unknown `/word` is ignored, since it may belong to another bot; a known command with bad
arguments becomes a CommandError that says how to write it. What a CommandError repeats of the
person's text is inert (`inert_text`), so a reply that quotes it pings nobody and forges nothing.
Each command is a frozen class of its own and `Command` is their union, for one `match`.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar, TypeAlias

from bot.config import format_duration, is_flag_name, parse_duration
from bot.markdown_lines import command_lines
from bot.policy.windows import MAX_FREEZE, MAX_FREEZE_REASON

# A comment may not start more work than this; the rest is refused with a CommandError.
MAX_COMMANDS = 10
LABEL_PREFIX = "promote:"
# How much of a person's text a reply repeats: enough to recognise it, too little to abuse.
ECHO_LIMIT = 100
WORD_LIMIT = 40

USAGE = {
    "promote": "/promote <ring>",
    "approve": "/approve [ring]",
    "reject": "/reject [ring] <reason>",
    "rollback": "/rollback <ring>",
    "freeze": "/freeze <ring|all> [for <duration>] <reason>",
    "unfreeze": "/unfreeze <ring|all>",
    "hotfix": "/hotfix <ring>",
    "feature": "/feature <flag> on|off <ring>",
    "features": "/features",
    "status": "/status",
    "help": "/help",
}
COMMANDS = tuple(USAGE)

_SUMMARY = {
    "promote": "deploy the current release of the ring before `<ring>` into `<ring>`, "
    "if the rules allow it",
    "approve": "sign off the current release of that ring (default: the highest ring whose "
    "current release contains this pull request)",
    "reject": "reject that release; it can never be promoted again; every pull request in it is "
    "told why",
    "rollback": "redeploy the last release that succeeded in that ring before the current one "
    "and is not rejected",
    "feature": "override one feature toggle in one ring (maintainers)",
    "features": "reply with the flag × ring table and where each value comes from",
    "status": "reply with the ring table: each ring, its release, state, since when, by whom",
    "help": "list the commands",
    "freeze": "close rings to every entry until `/unfreeze` or the duration (like 2h or 3d) "
    "ends (promoters of the ring; of every ring for `all`)",
    "unfreeze": "open frozen rings again (promoters of the ring; of every ring for `all`)",
    "hotfix": "the emergency lane: deploy the release that carries this pull request straight "
    "into `<ring>`, skipping rings, bake times and sign-offs, when it has the `hotfix` label and "
    "its approvals, its merge gate was green and the release is not rejected (needs `hotfix:` "
    "in `.github/ringbot.yml`)",
}

# Other forms of the commands above, for /help and the error that says how to write them.
DRY_RUN = "--dry-run"
PROMOTE_DRY_RUN = f"/promote <ring> {DRY_RUN}"
ROLLBACK_TO = "/rollback <ring> to <sha>"
VARIANTS = {
    "promote": (
        PROMOTE_DRY_RUN,
        "say what `/promote` would do: every rule with ✅ or ❌, the pull requests and the "
        "`FEATURE_` changes it would ship; nothing is written but the reply",
    ),
    "rollback": (
        ROLLBACK_TO,
        "redeploy that earlier release (full SHA or at least 7 characters), which was live in "
        "the ring and is not rejected",
    ),
}


def _help_lines(name: str) -> list[str]:
    """A command's line in /help, and its other form as a bullet under it."""
    lines = [f"- `{USAGE[name]}`: {_SUMMARY[name]}"]
    if name in VARIANTS:
        usage, summary = VARIANTS[name]
        lines.append(f"  - `{usage}`: {summary}")
    return lines


HELP = "\n".join(
    [
        "**ringbot commands** (one per line, at the start of the line):",
        "",
        *(line for name in COMMANDS for line in _help_lines(name)),
        "",
        f"A label `{LABEL_PREFIX}<ring>` works like `/promote <ring>`.",
        "After a `/rollback`, an automatic ring stays on that release until someone "
        "`/promote`s into it again (into the first ring, that deploys the default branch's "
        "green head).",
    ]
)


# --- commands -----------------------------------------------------------------------------------

# Each command is a frozen class whose `name` is its USAGE key; `Command` is their union, for a
# `match`. A ring is always as configured, whatever case the comment used. `line` is the line as
# the person wrote it, stripped and without HTML comments (for a label: the label). It is not
# inert: pass it through inert_text() before a reply repeats it.


@dataclass(frozen=True)
class Promote:
    """`/promote <ring>`, or a `promote:<ring>` label; `--dry-run` only says what it would do."""

    name: ClassVar[str] = "promote"
    ring: str
    line: str = ""
    dry_run: bool = False


@dataclass(frozen=True)
class Approve:
    """`/approve [ring]`; no ring means the highest ring whose release contains the pull request."""

    name: ClassVar[str] = "approve"
    ring: str | None = None
    line: str = ""


@dataclass(frozen=True)
class Reject:
    """`/reject [ring] <reason>`; the reason is never empty."""

    name: ClassVar[str] = "reject"
    ring: str | None = None
    reason: str = ""
    line: str = ""


@dataclass(frozen=True)
class Rollback:
    """`/rollback <ring>` (to the previous good release), or `/rollback <ring> to <sha>`."""

    name: ClassVar[str] = "rollback"
    ring: str
    line: str = ""
    to: str | None = None  # 7 to 40 hex digits, lower case, as written


@dataclass(frozen=True)
class SetFeature:
    """`/feature <flag> on|off <ring>`: on -> enabled, off -> not."""

    name: ClassVar[str] = "feature"
    flag: str  # as written (flag names keep their case)
    enabled: bool
    ring: str
    line: str = ""


@dataclass(frozen=True)
class ListFeatures:
    """`/features`."""

    name: ClassVar[str] = "features"
    line: str = ""


@dataclass(frozen=True)
class Status:
    """`/status`."""

    name: ClassVar[str] = "status"
    line: str = ""


@dataclass(frozen=True)
class Help:
    """`/help`."""

    name: ClassVar[str] = "help"
    line: str = ""


@dataclass(frozen=True)
class Freeze:
    """`/freeze <ring|all> [for <duration>] <reason>`; ring None: every ring."""

    name: ClassVar[str] = "freeze"
    ring: str | None
    reason: str  # never empty; at most MAX_FREEZE_REASON characters, not inert
    duration: timedelta | None = None  # None: until `/unfreeze`
    line: str = ""


@dataclass(frozen=True)
class Hotfix:
    """`/hotfix <ring>`: the emergency lane (see bot/policy/hotfix.py)."""

    name: ClassVar[str] = "hotfix"
    ring: str
    line: str = ""


@dataclass(frozen=True)
class Unfreeze:
    """`/unfreeze <ring|all>`; ring None: every ring."""

    name: ClassVar[str] = "unfreeze"
    ring: str | None
    line: str = ""


Command: TypeAlias = (
    Promote
    | Approve
    | Reject
    | Rollback
    | SetFeature
    | ListFeatures
    | Status
    | Help
    | Freeze
    | Unfreeze
    | Hotfix
)


@dataclass(frozen=True)
class CommandError:
    """A known command written wrongly, with how to write it; both are inert, ready to quote."""

    line: str  # inert_text() of the line; a reply may put it in a code span
    message: str


# --- echoing a person's text --------------------------------------------------------------------

# Control and format characters (bidi overrides, zero-width marks, soft hyphens...) change how the
# rest reads, or hide text; whitespace is handled separately, as word breaks.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def inert_text(text: str, limit: int = ECHO_LIMIT) -> str:
    """A person's text, safe in a code span: one short line, no mention, backtick or `<!--`."""
    flat = " ".join(_INVISIBLE.sub("", " ".join(text.split())).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    # A backtick would end the code span; `@login` would ping even in a bot's reply, and
    # `<!--` could forge or hide one of ringbot's hidden markers.
    return (
        flat.replace("`", "ˋ")
        .replace("@", "@\u200b")
        .replace("<!--", "<\u200b!--")
        .replace("-->", "--\u200b>")
    )


def inert_code(text: str, limit: int = WORD_LIMIT) -> str:
    """A person's text as an inline code span of inert_text(); `(empty)` for empty text."""
    inert = inert_text(text, limit)
    return f"`{inert}`" if inert else "(empty)"


# --- parsing ------------------------------------------------------------------------------------

# The commands built from their name and line alone, or from a ring too.
_BARE: dict[str, type[ListFeatures | Status | Help]] = {
    "features": ListFeatures,
    "status": Status,
    "help": Help,
}
_ONE_RING: dict[str, type[Promote | Rollback | Hotfix]] = {
    "promote": Promote,
    "rollback": Rollback,
    "hotfix": Hotfix,
}


def parse_commands(body: str | None, rings: Sequence[str]) -> tuple[Command | CommandError, ...]:
    """Every command in a comment body, in order, without repeated lines."""
    results: list[Command | CommandError] = []
    seen: set[Command | CommandError] = set()
    for line in command_lines(body or ""):
        parsed = _parse_line(line, rings)
        if parsed is None:
            continue
        # The same command twice (`/promote internal`, `/Promote Internal`) runs once.
        same = dataclasses.replace(parsed, line="")
        if same in seen:
            continue
        seen.add(same)
        if len(results) == MAX_COMMANDS:
            message = f"a comment runs at most {MAX_COMMANDS} commands; put the rest in another one"
            results.append(CommandError(inert_text(line), message))
            break
        results.append(parsed)
    return tuple(results)


def parse_label(label: str, rings: Sequence[str]) -> Promote | CommandError | None:
    """A `promote:<ring>` label as a /promote command; None for any other label."""
    text = label.strip()
    if not text.lower().startswith(LABEL_PREFIX):
        return None
    word = text[len(LABEL_PREFIX) :].strip()
    ring = _ring(word, rings)
    if ring is None:
        message = f"label {inert_code(label, ECHO_LIMIT)}: {_unknown_ring(word, rings)}"
        return CommandError(inert_text(label), message)
    return Promote(ring=ring, line=label)


def _parse_line(line: str, rings: Sequence[str]) -> Command | CommandError | None:
    """One `/word ...` line; None when the word is not one of ours."""
    head, *tail = line.split(maxsplit=1)
    rest = tail[0] if tail else ""
    name = head[1:].lower()
    if name not in USAGE:
        return None
    args = rest.split()
    usage = f"`{USAGE[name]}`"

    def error(message: str) -> CommandError:
        return CommandError(inert_text(line), message)

    if name in _BARE:
        return error(f"/{name} takes no arguments: {usage}") if args else _BARE[name](line=line)
    if name == "promote" and DRY_RUN in (arg.lower() for arg in args):
        return _parse_dry_run(line, args, rings)
    if name == "rollback" and len(args) > 1 and args[1].lower() == "to":
        return _parse_rollback_to(line, args, rings)
    if name in ("freeze", "unfreeze"):
        return _parse_freeze(line, name, rest, rings)
    if name in _ONE_RING:
        if not args:
            return error(f"/{name} needs a ring: {usage}")
        if len(args) > 1:
            return error(f"/{name} takes one ring: {usage}")
        ring = _ring(args[0], rings)
        if ring is None:
            return error(f"/{name}: {_unknown_ring(args[0], rings)}")
        return _ONE_RING[name](ring=ring, line=line)
    if name == "approve":
        if len(args) > 1:
            return error(f"/approve takes at most one ring: {usage}")
        ring = _ring(args[0], rings) if args else None
        if args and ring is None:
            return error(f"/approve: {_unknown_ring(args[0], rings)}")
        return Approve(ring=ring, line=line)
    if name == "reject":
        # The first word is the ring only when it names one; otherwise the reason starts there.
        ring = _ring(args[0], rings) if args else None
        words = rest.split(maxsplit=1)
        reason = (words[1] if len(words) > 1 else "") if ring is not None else rest
        reason = reason.strip()
        if not reason:
            return error(f"/reject needs a reason: {usage}")
        return Reject(ring=ring, reason=reason, line=line)
    return _parse_feature(line, args, rings)


def _parse_dry_run(line: str, args: list[str], rings: Sequence[str]) -> Promote | CommandError:
    """`/promote <ring> --dry-run` (the flag may stand anywhere after the command)."""
    words = [arg for arg in args if arg.lower() != DRY_RUN]
    usage = f"`{PROMOTE_DRY_RUN}`"
    if len(words) != 1:
        return CommandError(inert_text(line), f"/promote --dry-run takes one ring: {usage}")
    ring = _ring(words[0], rings)
    if ring is None:
        return CommandError(inert_text(line), f"/promote: {_unknown_ring(words[0], rings)}")
    return Promote(ring=ring, line=line, dry_run=True)


_SHA = re.compile(r"^[0-9a-f]{7,40}$")


def _parse_rollback_to(line: str, args: list[str], rings: Sequence[str]) -> Rollback | CommandError:
    """`/rollback <ring> to <sha>`: a full SHA or at least its first 7 hex digits."""
    usage = f"`{ROLLBACK_TO}`"

    def error(message: str) -> CommandError:
        return CommandError(inert_text(line), message)

    if len(args) != 3:
        return error(f"/rollback to needs a ring and one SHA: {usage}")
    ring = _ring(args[0], rings)
    if ring is None:
        return error(f"/rollback: {_unknown_ring(args[0], rings)}")
    sha = args[2].lower()
    if not _SHA.match(sha):
        return error(
            f"/rollback: {inert_code(args[2])} is not a commit SHA (7 to 40 hex digits): {usage}"
        )
    return Rollback(ring=ring, line=line, to=sha)


def _parse_freeze(
    line: str, name: str, rest: str, rings: Sequence[str]
) -> Freeze | Unfreeze | CommandError:
    """`/freeze <ring|all> [for <duration>] <reason>` and `/unfreeze <ring|all>`."""
    usage = f"`{USAGE[name]}`"

    def error(message: str) -> CommandError:
        return CommandError(inert_text(line), message)

    words = rest.split(maxsplit=1)
    if not words:
        return error(f"/{name} needs a ring, or all: {usage}")
    ring = None if words[0].lower() == "all" else _ring(words[0], rings)
    if ring is None and words[0].lower() != "all":
        return error(f"/{name}: {_unknown_ring(words[0], rings)} (or all)")
    after = words[1].strip() if len(words) > 1 else ""
    if name == "unfreeze":
        return (
            error(f"/unfreeze takes one ring, or all: {usage}") if after else Unfreeze(ring, line)
        )
    duration = None
    parts = after.split(maxsplit=2)
    # "for" starts a duration only when a number follows: "for the holidays" is a reason.
    if len(parts) >= 2 and parts[0].lower() == "for" and parts[1][:1].isdigit():
        duration = parse_duration(parts[1])
        if duration is None or duration <= timedelta(0):
            return error(
                f"/freeze: {inert_code(parts[1])} is not a duration like 2h or 3d: {usage}"
            )
        if duration > MAX_FREEZE:
            longest = format_duration(MAX_FREEZE)
            return error(
                f"/freeze: a freeze lasts at most {longest}; to hold longer, leave out `for`"
            )
        after = parts[2] if len(parts) > 2 else ""
    reason = " ".join(after.split())[:MAX_FREEZE_REASON]
    if not reason:
        return error(f"/freeze needs a reason: {usage}")
    return Freeze(ring, reason, duration, line)


def _parse_feature(line: str, args: list[str], rings: Sequence[str]) -> SetFeature | CommandError:
    """`/feature <flag> on|off <ring>`."""
    usage = f"`{USAGE['feature']}`"

    def error(message: str) -> CommandError:
        return CommandError(inert_text(line), message)

    if len(args) != 3:
        return error(f"/feature needs a flag, on or off, and a ring: {usage}")
    flag, state, word = args
    if not is_flag_name(flag):
        return error(
            f"/feature: {inert_code(flag)} is not a flag name (letters, digits, '_' and '-'): "
            f"{usage}"
        )
    if state.lower() not in ("on", "off"):
        return error(f"/feature: {inert_code(state)} is neither on nor off: {usage}")
    ring = _ring(word, rings)
    if ring is None:
        return error(f"/feature: {_unknown_ring(word, rings)}")
    return SetFeature(flag=flag, enabled=state.lower() == "on", ring=ring, line=line)


def _ring(word: str, rings: Sequence[str]) -> str | None:
    """The configured ring `word` names, ignoring case."""
    return next((ring for ring in rings if ring.lower() == word.lower()), None)


def _unknown_ring(word: str, rings: Sequence[str]) -> str:
    """Why `word` is not a ring, with the closest ring (or the only one it begins) as a hint."""
    starts = [ring for ring in rings if ring.lower().startswith(word.lower())]
    close = starts if len(starts) == 1 else difflib.get_close_matches(word.lower(), rings, n=1)
    hint = f" (did you mean `{close[0]}`?)" if close else ""
    known = ", ".join(rings) if rings else "none"
    what = f"unknown ring {inert_code(word)}" if word else "no ring given"
    return f"{what}{hint}. Rings: {known}"
