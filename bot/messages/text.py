"""Pure text helpers: GitHub's size limits and cutting text to fit them, hidden markers, and
echoing what people wrote without it pinging anyone, breaking the markdown or forging a marker."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

Unit = Literal["characters", "bytes"]


@dataclass(frozen=True)
class Limit:
    """The most GitHub accepts in one field, and how it counts."""

    field: str
    size: int
    unit: Unit = "characters"

    def measure(self, text: str) -> int:
        """The size of `text` as GitHub counts it for this field."""
        if self.unit == "bytes":
            return len(text.encode("utf-8", "surrogatepass"))
        return len(text)

    def fits(self, text: str) -> bool:
        """True when GitHub accepts `text` in this field."""
        return self.measure(text) <= self.size


# What GitHub answers 422 for. Characters are code points, as GitHub's "maximum is N characters"
# counts them. The check-run summary and text are counted in UTF-8 bytes: GitHub refuses more than
# 65 535 bytes ("summary exceeds a maximum bytesize of 65535") even where its description says
# characters, and bytes are never fewer than the UTF-16 units Prism counts for `maxLength`.
COMMENT_BODY: Final = Limit("issue comment body", 65_536)
CHECK_NAME: Final = Limit("check run name", 255)  # undocumented; 255 is the safe side
CHECK_TITLE: Final = Limit("check run output title", 1_000)  # undocumented
CHECK_SUMMARY: Final = Limit("check run output summary", 65_535, "bytes")
CHECK_TEXT: Final = Limit("check run output text", 65_535, "bytes")
LABEL_NAME: Final = Limit("label name", 50)
LABEL_DESCRIPTION: Final = Limit("label description", 100)
RELEASE_NAME: Final = Limit("release name", 256)
RELEASE_BODY: Final = Limit("release body", 125_000)
DEPLOYMENT_DESCRIPTION: Final = Limit("deployment (status) description", 140)

ELLIPSIS: Final = "…"
_NOTE: Final = "\n\n… (cut: {n} more characters)"
_INLINE_NOTE: Final = "… (cut: {n} more characters)"
_NOTED: Final = 200  # a field this long has room to say how much was cut
# A cut prefers the end of a line when one is this close to where the text must end.
_LINE_SLACK: Final = 1_000
_FENCE: Final = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_BACKTICKS: Final = re.compile(r"`+")
_ZWJ: Final = "\u200d"
_ZWSP: Final = "\u200b"


def cut(text: str, limit: Limit, *, keep: str = "") -> str:
    """`text` followed by `keep`, within `limit`: when `text` is too long it is cut, an open code
    fence is closed and a note says how much went. `keep` (a hidden marker) is never cut."""
    whole = text + keep
    if limit.fits(whole):
        return whole
    room = limit.size - limit.measure(keep) - limit.measure(_NOTE.format(n=len(text)))
    if room < 0:
        raise ValueError(f"{limit.field}: {len(keep)} characters to keep do not fit")
    while True:
        head = _tidy(text, _prefix(text, room, limit), lines=True)
        result = head + _close_fence(head) + _NOTE.format(n=len(text) - len(head)) + keep
        over = limit.measure(result) - limit.size
        if over <= 0:
            return result
        room -= over  # the closing fence took the room; cut that much more


def shorten(text: str, limit: Limit) -> str:
    """A one-line field (a name, a title, a description) within `limit`: when cut it ends in
    "…", and says how much went where there is room for that."""
    if limit.fits(text):
        return text
    note = _INLINE_NOTE if limit.size >= _NOTED else ELLIPSIS
    room = limit.size - limit.measure(note.format(n=len(text)))
    head = _tidy(text, _prefix(text, room, limit), lines=False).rstrip()
    return head + note.format(n=len(text) - len(head))


def _prefix(text: str, room: int, limit: Limit) -> str:
    """The longest start of `text` that measures at most `room`, whole code points only."""
    if room <= 0:
        return ""
    if limit.unit == "characters":
        return text[:room]
    used = 0
    # A character is at least one byte, so the answer is within the first `room` characters.
    for index, char in enumerate(text[:room]):
        used += len(char.encode("utf-8", "surrogatepass"))
        if used > room:
            return text[:index]
    return text[:room]


def _tidy(text: str, head: str, *, lines: bool) -> str:
    """Move a cut back so it splits no surrogate pair, joined emoji or accent from its letter,
    and (in long text) so it ends a line when a line ends close by."""
    for _ in range(8):
        if not head:
            break
        after = text[len(head)] if len(head) < len(text) else ""
        last = head[-1]
        if (
            "\ud800" <= last <= "\udbff"  # the first half of a surrogate pair
            or last == _ZWJ
            or (after and (unicodedata.combining(after) or _joins_previous(after)))
        ):
            head = head[:-1]
            continue
        break
    if lines:
        end = head.rfind("\n")
        if end > 0 and end >= len(head) - _LINE_SLACK and end >= len(head) // 2:
            head = head[:end]
    return head


def _joins_previous(char: str) -> bool:
    """Variation selectors, emoji skin tones, the joiner: they belong to the character before."""
    point = ord(char)
    return char == _ZWJ or 0xFE00 <= point <= 0xFE0F or 0x1F3FB <= point <= 0x1F3FF


def _close_fence(head: str) -> str:
    """The line that closes the code fence `head` leaves open ("" when none is open)."""
    open_fence: tuple[str, int] | None = None
    for line in head.split("\n"):
        match = _FENCE.match(line)
        if match is None:
            continue
        run, rest = match.group(1), match.group(2)
        if open_fence is None:
            if not (run[0] == "`" and "`" in rest):  # an info string with a backtick: no fence
                open_fence = (run[0], len(run))
        elif run[0] == open_fence[0] and len(run) >= open_fence[1] and not rest.strip():
            open_fence = None
    if open_fence is None:
        return ""
    return ("" if head.endswith("\n") else "\n") + open_fence[0] * open_fence[1]


def defuse(text: str) -> str:
    """Text with no HTML comment in it: so the only markers in what ringbot writes are the ones
    its writers add. A zero-width space keeps `<!--` looking the same, in code spans too."""
    return text.replace("<!--", f"<!{_ZWSP}--").replace("-->", f"--{_ZWSP}>")


def hidden(marker: str) -> str:
    """A writer's hidden marker `<!-- ... -->` with nothing inside that could end it early or
    start another (it may hold a label someone chose)."""
    inner = marker.strip().removeprefix("<!--").removesuffix("-->")
    inner = inner.replace("<", "&lt;").replace(">", "&gt;")
    return f"<!--{inner}-->"


def one_line(text: str) -> str:
    """Text on one line, runs of white space (new lines too) as single spaces."""
    return " ".join(text.split())


_INERT: Final = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",  # no HTML, and no `<!--` that could start a marker
        ">": "&gt;",
        "\\": "&#92;",  # no escape that could change what follows it
        "`": "&#96;",  # no code span that swallows the rest of the line
        "|": "&#124;",  # no cell break when it lands in a table
        "@": "@" + _ZWSP,  # no @-mention that pings anyone
    }
)


def inert(text: str) -> str:
    """Someone's free text made safe to quote in markdown: one line, no @-mention that pings, no
    backtick, pipe or HTML that changes what follows, no marker; it reads as they wrote it."""
    return one_line(text).translate(_INERT)


def code(text: str, *, table: bool = False) -> str:
    """Someone's text as one inline code span that nothing inside can end early (nothing in a
    code span pings); `table` escapes pipes for a table cell."""
    line = defuse(one_line(text))
    longest = max((len(run) for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * (longest + 1)
    # A space on both sides is dropped by markdown; it keeps a backtick at an edge inside.
    pad = " " if not line or line.startswith("`") or line.endswith("`") else ""
    span = f"{fence}{pad}{line}{pad}{fence}"
    return span.replace("|", "\\|") if table else span


def short(sha: str | None) -> str:
    """A commit SHA in the 7-character form people read."""
    return (sha or "")[:7]


def humanise(delta: timedelta) -> str:
    """A duration as people write it: "3h 20m", "1d 2h", "45m"; never "0m" for time still left."""
    minutes = -(-int(delta.total_seconds()) // 60)  # round up: "1m left", not "0m left"
    if minutes <= 0:
        return "0m"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n]
    return " ".join(parts)


def link_target(url: str) -> str:
    """A URL from someone else's check or status, safe as a markdown link's target: http(s) only,
    bounded, with what would end the link or a table cell percent-encoded; "" when unusable."""
    if not url.startswith(("https://", "http://")) or len(url) > 1_000 or not url.isascii():
        return ""
    for char, code in (
        (" ", "%20"),
        ("(", "%28"),
        (")", "%29"),
        ("|", "%7C"),
        ("<", "%3C"),
        (">", "%3E"),
        ("[", "%5B"),
        ("]", "%5D"),
        ("`", "%60"),
    ):
        url = url.replace(char, code)
    return url
