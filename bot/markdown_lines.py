"""Which lines of a comment GitHub shows as plain lines of their own: where commands may stand.

A line-by-line follower of the block structure of GitHub Flavored Markdown, as cmark-gfm (the
renderer GitHub uses, CommonMark 0.29) builds it: block quotes, list items and footnote
definitions hold blocks; fenced and indented code, HTML blocks, tables, headings and paragraphs
are the blocks. It must agree with GitHub about where each code block opens and closes: one
disagreement would swap code and text for the rest of the comment. Where it cannot be sure
that a line is plain text, the line is not a command. Pure, and linear in the comment's size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


def command_lines(body: str) -> Iterator[str]:
    """The stripped lines that start with `/` and that GitHub renders as plain lines of text."""
    blocks = _Blocks()
    pending: str | None = None
    # Markdown breaks lines at \n, \r\n and \r only; str.splitlines() also breaks at U+2028,
    # \x0b, \x1c... which GitHub shows inside one line, so a command could hide behind "LGTM".
    for raw in _LINE_BREAK.split(body):
        text = blocks.feed(raw)
        # A delimiter row turns the line before it into a table's header: a cell, not a line.
        if pending is not None and not blocks.took_header:
            yield pending
        pending = text
    if pending is not None:
        yield pending


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_QUOTE = ">"
_FOOTNOTE = "^"
# Deeper nesting only comes from hostile input; past it the rest of the comment is not read.
_MAX_DEPTH = 32
# A footnote reference whose `^` is an entity: cmark-gfm copies its label from past the end of the
# decoded entity, out of bounds, and what GitHub shows after it is anyone's guess.
_CARET_ENTITY_REFERENCE = re.compile(r"\[&(?:#0*94|#[Xx]0*5[Ee]|Hat);")
_ATX_HEADING = re.compile(r"#{1,6}(?: |$)")
# Backtick fences may not have a backtick in their info string (that is inline code instead).
_FENCE_OPENING = re.compile(r"(`{3,})[^`]*$|(~{3,})")
_SETEXT_UNDERLINE = re.compile(r"(?:=+|-+) *$")
_THEMATIC_BREAK = re.compile(r"(?:(?:\*[ ]*){3,}|(?:-[ ]*){3,}|(?:_[ ]*){3,})$")
_FOOTNOTE_DEFINITION = re.compile(r"\[\^[^\] \x00]+\]:")
_LIST_MARKER = re.compile(r"(?:[-+*]|(\d{1,9})[.)])(?= |$)")
_TABLE_DELIMITER = re.compile(r"\|?[ \v\f]*:?-+:?[ \v\f]*(?:\|[ \v\f]*:?-+:?[ \v\f]*)*\|?[ \v\f]*$")
_TABLE_PIPE = re.compile(r"\\[!-/:-@\[-`{-~]|\|")  # a pipe, or an escape (which hides a pipe)
_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|"
    "dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h1|h2|h3|h4|h5|h6|"
    "head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|"
    "p|param|section|source|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul"
)
# Possessive (`*+`, `++`): a line of a hostile comment must not make the regex backtrack.
_ATTRIBUTE = (
    r"(?:[ \v\f]++[A-Za-z_:][A-Za-z0-9_.:-]*+"
    r"""(?:[ \v\f]*+=[ \v\f]*+(?:[^ \v\f"'=<>`\x00]++|'[^']*+'|"[^"]*+"))?)"""
)
# (how a line starts an HTML block, the text that ends it or None for a blank line, and whether
# it may interrupt a paragraph), in the order cmark-gfm tries them.
_HTML_BLOCKS: tuple[tuple[re.Pattern[str], re.Pattern[str] | None, bool], ...] = (
    (
        re.compile(r"<(?:script|pre|style|textarea)(?:[ \v\f>]|$)", re.IGNORECASE),
        re.compile(r"</(?:script|pre|style|textarea)>", re.IGNORECASE),
        True,
    ),
    (re.compile(r"<!--"), re.compile(r"-->"), True),
    (re.compile(r"<\?"), re.compile(r"\?>"), True),
    (re.compile(r"<![A-Z]"), re.compile(r">"), True),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>"), True),
    (re.compile(rf"</?(?:{_BLOCK_TAGS})(?:[ \v\f]|/?>|$)", re.IGNORECASE), None, True),
    (
        re.compile(
            rf"(?:<[A-Za-z][A-Za-z0-9-]*+{_ATTRIBUTE}*+[ \v\f]*+/?>"
            r"|</[A-Za-z][A-Za-z0-9-]*+[ \v\f]*+>)[ \f]*$"
        ),
        None,
        False,
    ),
)


@dataclass
class _Item:
    """An open list item: how far its content is indented, and whether it holds nothing yet."""

    width: int
    empty: bool


class _Blocks:
    """Follows a comment's block structure line by line, as cmark-gfm builds it."""

    def __init__(self) -> None:
        self.containers: list[_Item | str] = []  # outermost first; _QUOTE, _FOOTNOTE or an item
        self.leaf: str | None = None  # paragraph | table | fence | code | html
        self.fence = ("", 0)  # the fence character and how many of them
        self.html_end: re.Pattern[str] | None = None  # None: the HTML block ends at a blank line
        self.html: list[str] = []  # the HTML block's lines so far
        self.previous = ""  # the paragraph's last line, which a table may take as its header
        self.inline = _Inline()
        self.before_previous = self.inline.snapshot()  # how inline syntax stood before it
        self.took_header = False  # the last line made the line before it a table header
        self.html_ended = False  # the last line ended an HTML block
        # A block quote and every non-blank line after it, until a blank line. Markdown ends a
        # quote sooner after some blocks; counting those lines as quoted is merely cautious.
        self.quoted = False
        # Nested too deep to follow, or past what cmark-gfm renders sanely: no later line is a
        # command.
        self.lost = False

    def feed(self, raw: str) -> str | None:
        """Take the next line; its text when it is a command line, else None."""
        blank = not raw.strip(" \t")
        self.took_header = False
        if blank:
            self.quoted = False
        else:
            for container in self.containers:
                if isinstance(container, _Item):
                    container.empty = False  # the line lands in every item it continues
        text = self._line(raw.expandtabs(4), raw)
        if _CARET_ENTITY_REFERENCE.search(raw):
            self.lost = True
        if _QUOTE in self.containers:
            self.quoted = True
        # A footnote shows at the bottom of the comment, or nowhere when nothing refers to it.
        if self.quoted or self.lost or _FOOTNOTE in self.containers:
            return None
        return text

    def _line(self, line: str, raw: str) -> str | None:
        """Place one line (tabs expanded) in the structure; its text when it is a command line."""
        pos, matched = self._match(line)
        rest = line[pos:]
        continued = matched == len(self.containers)
        after_html, self.html_ended = self.html_ended, False
        # Code and HTML blocks take the line while their container goes on; none is lazy.
        if self.leaf == "fence":
            if continued:
                if _closes_fence(rest, self.fence):
                    self.leaf = None
                return None
            self._close(matched)
        elif self.leaf == "html":
            if continued and not (self.html_end is None and _blank(rest)):
                self.html.append(rest)
                if self.html_end is not None and self.html_end.search(rest):
                    self._close(matched)
                    self.html_ended = True
                return None
            self._close(matched)
        elif self.leaf == "code":
            if continued and (_blank(rest) or _indent(rest) >= 4):
                return None
            self._close(matched)
        # A paragraph may go on here, lazily when not every container matched. Some blocks may
        # not interrupt it, and only when it is the innermost block.
        paragraph = self.leaf == "paragraph"
        # Only a tail of `*`, `-`, `_` and spaces can be a thematic break: one test per line.
        breakable = len(line.rstrip("*-_ "))
        while _indent(rest) < 4:
            if len(self.containers) >= _MAX_DEPTH:
                self.lost = True
                return None
            start = rest.lstrip(" ")
            column = pos + len(rest) - len(start)
            innermost = paragraph and continued
            if start.startswith(">"):
                self._open(matched, _QUOTE)
                matched += 1
                pos = column + (2 if start.startswith("> ") else 1)
                rest, paragraph = line[pos:], False
                continue
            if _ATX_HEADING.match(start):
                self._close(matched)
                self.inline.read(start)  # for the raw HTML in it, which may outlast it
                self.inline.end()
                return None
            opening = _FENCE_OPENING.match(start)
            if opening:
                self._close(matched)
                self.leaf = "fence"
                self.fence = (start[0], len(opening.group(1) or opening.group(2)))
                return None
            for begins, ends, interrupts in _HTML_BLOCKS:
                if begins.match(start) and (interrupts or not innermost):
                    self._close(matched)
                    self.leaf, self.html_end, self.html = "html", ends, [start]
                    if ends is not None and ends.search(start):
                        self._close(matched)
                        self.html_ended = True
                    return None
            if innermost and _SETEXT_UNDERLINE.match(start):
                self.leaf = None
                return None
            if column >= breakable and _THEMATIC_BREAK.match(start):
                self._close(matched)
                return None
            footnote = _FOOTNOTE_DEFINITION.match(start)
            if footnote:
                self._open(matched, _FOOTNOTE)
                matched += 1
                pos = column + footnote.end()
                pos += _indent(line[pos:])
                rest, paragraph = line[pos:], False
                continue
            marker = _LIST_MARKER.match(start)
            after = start[marker.end() :] if marker else ""
            first = marker is not None and int(marker.group(1) or 1) == 1
            if marker and not (innermost and (_blank(after) or not first)):
                spaces = _indent(after)
                width = marker.end() + (1 if _blank(after) or spaces > 4 else spaces)
                self._open(matched, _Item(column - pos + width, _blank(after)))
                matched += 1
                pos = min(column + width, len(line))
                rest, paragraph = line[pos:], False
                continue
            if innermost and self._table_starts(start):
                self.leaf = "table"
                self.took_header = True
                # The paragraph ends before its last line, which becomes the header row.
                self.inline.restore(self.before_previous)
                self.inline.end()
                self._row(self.previous)
                return None
            break
        if _blank(rest):
            self._close(matched)
            return None
        if self.leaf == "table" and continued and _indent(rest) < 4:
            self._row(rest)
            return None  # a row: shown in cells, not as lines
        glued = False
        if not paragraph:
            self._close(matched)
            # (Indented text goes on a paragraph, unless the line opened a container.)
            if _indent(rest) >= 4:
                self.leaf = "code"
                return None
            self.leaf = "paragraph"
            self.inline.begin(rest)
            # A tight list shows its paragraphs without <p>: this one goes on the HTML's line.
            glued = after_html and any(isinstance(c, _Item) for c in self.containers)
        # A paragraph line: a command when it is plain text from its first character.
        self.previous, self.before_previous = rest, self.inline.snapshot()
        plain = self.inline.plain and _indent(rest) < 4 and not glued
        self.inline.read(rest)
        text = raw.strip()
        if not plain or not text.startswith("/"):
            return None
        return _without_comments(text)

    def _match(self, line: str) -> tuple[int, int]:
        """Where the line's content starts after the open containers it continues, and how many."""
        pos = 0
        for count, container in enumerate(self.containers):
            indent = _indent(line[pos:])
            if container == _QUOTE:
                if indent > 3 or not line.startswith(">", pos + indent):
                    return pos, count
                pos += indent + 1
                if line.startswith(" ", pos):
                    pos += 1
            elif container == _FOOTNOTE:
                # cmark-gfm: indented 4 columns, or a line with nothing at all.
                if indent < 4 and line:
                    return pos, count
                pos = min(pos + 4, len(line))
            elif isinstance(container, _Item):
                if indent >= container.width:
                    pos += container.width
                elif not _blank(line[pos:]) or container.empty:
                    # An item that began with a blank line ends at the next blank line.
                    return pos, count
                else:
                    pos = len(line)
        return pos, len(self.containers)

    def _open(self, matched: int, container: _Item | str) -> None:
        """Start a container after the ones the line continued."""
        self._close(matched)
        self.containers.append(container)

    def _close(self, matched: int) -> None:
        """End the open block, and the containers the line did not continue."""
        if self.leaf == "html":
            self.inline.read_html("\n".join(self.html))
        del self.containers[matched:]
        self.leaf = None
        self.inline.end()

    def _row(self, row: str) -> None:
        """Read a table row's cells, each on its own: their raw HTML may outlast the table."""
        self.inline.cell = True
        start = 0
        for match in _TABLE_PIPE.finditer(row):
            if match.group() == "|":
                self.inline.read(row[start : match.start()])
                self.inline.end()
                start = match.end()
        self.inline.read(row[start:])
        self.inline.end()
        self.inline.cell = False

    def _table_starts(self, line: str) -> bool:
        """Whether `line` is a delimiter row that makes the paragraph's last line a table header."""
        return _TABLE_DELIMITER.match(line) is not None and 0 < _cells(line) == _cells(
            self.previous
        )


def _cells(row: str) -> int:
    """How many cells cmark-gfm finds in a table row."""
    text = row.strip(" \v\f")
    pipes = [match.start() for match in _TABLE_PIPE.finditer(text) if match.group() == "|"]
    if text == "|" or not text:
        return 0
    leading = bool(pipes) and pipes[0] == 0
    trailing = bool(pipes) and pipes[-1] == len(text) - 1 and (len(pipes) > 1 or not leading)
    return len(pipes) + 1 - leading - trailing


def _without_comments(text: str) -> str:
    """The line without its HTML comments (one left open runs to the end of the line)."""
    parts = []
    pos = 0
    while (start := text.find("<!--", pos)) >= 0:
        parts.append(text[pos:start])
        end = text.find("-->", start + 4)
        if end < 0:
            pos = len(text)
            break
        pos = end + 3
    parts.append(text[pos:])
    return "".join(parts).strip()


def _indent(text: str) -> int:
    """How many spaces `text` starts with."""
    return len(text) - len(text.lstrip(" "))


def _blank(text: str) -> bool:
    """Whether `text` is a blank line (only spaces, once tabs are expanded)."""
    return not text.strip(" ")


def _closes_fence(text: str, fence: tuple[str, int]) -> bool:
    """Whether `text` closes the fence: its character, at least as many times, nothing else."""
    if _indent(text) > 3:
        return False
    mark = text.strip(" \v\f")
    return set(mark) == {fence[0]} and len(mark) >= fence[1]


# Inline syntax that can run across lines and hide what it holds: code spans; raw HTML (comments,
# processing instructions, CDATA sections, declarations, tags and their attributes); link
# destinations and titles; image descriptions, reference labels and footnote references
# (cmark-gfm takes a `[` whose text starts with `^`, escaped too, up to the `]` that closes it
# for a footnote reference, and drops the text in between). And the start of a web address,
# which GitHub may link up to the next space or `<`.
_TOKENS = (
    r"`+|<!--(?:-?-?>)?|<\?|<!\[CDATA\[|<![A-Z]++(?=[ \t\n\v\f\r]|$)|</?[A-Za-z][A-Za-z0-9-]*"
    r"|!\[|\]\(|\]\[|\[\\?\^|[\[\]()>\"']|(?i:https?|ftp)://|www\."
)
# Markdown reads them after its escapes (a backslash before ASCII punctuation); HTML has none.
_INLINE = re.compile(r"\\[!-/:-@\[-`{-~]|" + _TOKENS)
_IN_TAG = re.compile(_TOKENS)
# A whole open tag as cmark-gfm takes it inline.
_SPACE = r"[ \t\v\f\r\n]"
_OPEN_TAG = re.compile(
    rf"<[A-Za-z][A-Za-z0-9-]*+(?:{_SPACE}++[A-Za-z_:][A-Za-z0-9_.:-]*+(?:{_SPACE}*+={_SPACE}*+"
    rf"""(?:[^ \t\v\f\r\n"'=<>`\x00]++|'[^'\x00]*+'|"[^"\x00]*+"))?)*+{_SPACE}*+/?>"""
)
# Inside a code span only a backtick string as long as the one that opened it matters: a
# backslash there is a plain character, no escape.
_BACKTICKS = re.compile(r"`+")
# What ends the raw HTML that a token opens, as cmark-gfm reads it inline: a run of a character
# and `>`, when its grammar lets the run's length end it (how many characters make up a step of
# the text before, and how many are left for the end). A comment ends at `-->`, or at `----->`,
# but not at `--->`; a processing instruction at `?>` or `???>`; a declaration at any `>`. (A
# browser may end a comment, instruction or CDATA section sooner: see _HTML_PIECE.)
_RAW_ENDS = {"<!--": ("-", 3, 2), "<?": ("?", 2, 1), "<![CDATA[": ("]", 3, 2), "<!": ("", 1, 0)}
# The run where the text starts (the opener's own characters are not the text's), or later.
_RUN_AT = {
    opener: re.compile(f"{re.escape(c)}*+>?" if c else ">?")
    for opener, (c, _, _) in _RAW_ENDS.items()
}
_RUN_LATER = {
    opener: re.compile(f"(?<!{re.escape(c)}){re.escape(c)}++>" if c else ">")
    for opener, (c, _, _) in _RAW_ENDS.items()
}


def _raw_ends(opener: str, text: str, pos: int) -> Iterator[re.Match[str]]:
    """Where the raw HTML that `opener` opens, with its text starting at `pos`, may end."""
    _, step, left = _RAW_ENDS[opener]
    first = _RUN_AT[opener].match(text, pos)
    if first and first.group().endswith(">") and (len(first.group()) - 1) % step == left:
        yield first
    for match in _RUN_LATER[opener].finditer(text, first.end() if first else pos):
        if (len(match.group()) - 1) % step == left:
            yield match


# A link to a web or mail address in angle brackets, which cmark-gfm reads before any tag.
_AUTOLINK = re.compile(
    r"<[A-Za-z][A-Za-z0-9.+-]{1,31}:[^<>\x00-\x20]*+>"
    r"|<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]++@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*+>"
)
# A closing tag as cmark-gfm takes it inline: nothing but spaces after the name.
_CLOSING_TAG = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)[ \t\v\f\r\n]*>")
# What GitHub may take for a linked web address (cmark-gfm's autolink extension): up to the next
# space or `<`. Backslashes and backticks are plain characters in it.
_WEB_ADDRESS_END = re.compile(r"[ \t\v\f\r\n<]")
# Raw HTML elements whose content GitHub shows folded away (details), quoted, as code or in a
# table, or not at all. An element opened in one block holds the blocks after it, too.
_ENCLOSING = frozenset(
    [
        "details",
        "blockquote",
        "pre",
        "code",
        "table",
        "thead",
        "tbody",
        "tr",
        "td",
        "th",
        "textarea",
        "script",
        "style",
        "template",
        "noscript",
        "title",
        "iframe",
        "select",
        "option",
        "object",
        "svg",
        "math",
    ]
)
# Those whose text a browser reads raw, or keeps inert, up to their closing tag: even a table
# cell's end does not close them.
_SWALLOWING = frozenset(["textarea", "script", "style", "template", "noscript", "title", "iframe"])
# Anything that may open one of them, wherever it stands.
_ENCLOSING_OPENING = re.compile(
    r"<(" + "|".join(sorted(_ENCLOSING)) + r")(?=[\s/>]|$)", re.IGNORECASE
)
# Raw HTML that may leave a browser inside a tag after text that GitHub took for plain.
_RAW_OPENING = re.compile(r"<[!?]")
# A whole comment, CDATA section, declaration, processing instruction or tag in raw HTML, as an
# HTML5 browser (and GitHub's sanitizer) reads it: a comment ends at the first `-->` or `--!>`, a
# processing instruction, CDATA section (outside SVG and MathML) or declaration at the first `>`.
_HTML_PIECE = re.compile(
    r"<!--(?:>|->|.*?--!?>)|<!(?!--)[^>]*+>|<\?[^>]*+>"
    r"|</(?![A-Za-z])[^>]*+>"
    r"|<(/?)([A-Za-z][^\s/>]*+)"
    r"""(?:[\s/]++|[^\s/>"'=][^\s/>=]*+(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>"']*+))?)*+>""",
    re.DOTALL,
)
_HTML_UNFINISHED = re.compile(r"<[A-Za-z!?/]")


class _Lookahead:
    """The rest of a paragraph, read again: which code spans and raw HTML in it get closed."""

    def __init__(self, text: str, *, comments: bool) -> None:
        # cmark-gfm reads no `<!` as raw HTML after a comment it found no end for.
        self.bang = comments
        # Where the last backtick string of each length starts.
        self.backticks = {len(run.group()): run.start() for run in _BACKTICKS.finditer(text)}
        # Where the last text that ends each kind of raw HTML starts (but for one right after
        # its opener, whose characters do not count).
        self.text = text
        self.raw_ends = {}
        for opener in _RAW_ENDS:
            last = -1
            for last_end in _raw_ends(opener, text, 0):
                last = last_end.start()
            self.raw_ends[opener] = last

    def closes(self, token: str, end: int) -> bool:
        """Whether the code span or raw HTML that `token`, ending at `end`, opens gets closed."""
        if token[0] == "`":
            return self.backticks.get(len(token), -1) >= end
        if token.startswith("<!") and not self.bang:
            return False
        opener = _raw_opener(token)
        _, step, left = _RAW_ENDS[opener]
        first = _RUN_AT[opener].match(self.text, end)
        run = first.group() if first else ""
        closes = (run.endswith(">") and (len(run) - 1) % step == left) or self.raw_ends[
            opener
        ] >= end + len(run)
        if token == "<!--" and not closes:
            self.bang = False
        return closes


def _raw_opener(token: str) -> str:
    """The key in _RAW_ENDS of a token that opens raw HTML, or "" for any other token."""
    if token in ("<!--", "<?", "<![CDATA["):
        return token
    if token.startswith("<!") and token[2:].isalpha():
        return "<!"
    return ""


@dataclass(frozen=True)
class _Snapshot:
    """How inline syntax stood before a line."""

    syntax: tuple[int, str, str, str, int, int]
    flags: tuple[bool, bool]
    held: list[str]
    lines: int
    enclosing: dict[str, int]


class _Inline:
    """What inline syntax is still open at the end of a paragraph's lines read so far.

    A code span, raw HTML or a link title is only syntax when something closes it before the
    paragraph ends. Until then its lines are not commands; if nothing does, cmark-gfm read its
    text as plain Markdown, and so is it read again when the paragraph ends, for what it leaves
    open after the paragraph (HTML elements, or a browser inside a tag).
    """

    def __init__(self) -> None:
        self.enclosing: dict[str, int] = {}  # open raw HTML elements from _ENCLOSING, by name
        # Raw HTML left a browser inside a tag, comment or declaration, or a web address left
        # unclear where code spans are: it may swallow anything after it, so nothing after it
        # counts.
        self.unsettled = False
        self.lookahead: _Lookahead | None = None  # while the rest of a paragraph is read again
        self.cell = False  # reading a table cell, whose end closes what it opened, or most
        self._reset()

    def _reset(self) -> None:
        self.code = 0  # length of the backtick string that opened a code span
        self.raw = ""  # the token that opened raw HTML that cmark-gfm reads up to its end
        self.tag = ""  # "<" inside a tag, or the quote of an attribute value
        self.title = ""  # the quote of a link title
        self.links = 0  # open link destinations (with their own parentheses)
        self.hidden = 0  # open image descriptions and reference labels
        self.definition = False
        # Syntax in a link title or a tag that may not be valid after all: if so, GitHub read
        # the syntax instead, and nothing more in the paragraph is certain.
        self.uncertain = False
        # The text after the opening of the code span, raw HTML, tag or title still open, by line.
        self.held: list[str] = []

    def snapshot(self) -> _Snapshot:
        """How things stand, to go back to if the next line turns out to be no paragraph's."""
        return _Snapshot(
            (self.code, self.raw, self.tag, self.title, self.links, self.hidden),
            (self.definition, self.uncertain),
            self.held,
            len(self.held),
            dict(self.enclosing),
        )

    def restore(self, snapshot: _Snapshot) -> None:
        """Go back to how things stood (a browser left inside a tag stays so, to be cautious)."""
        self.code, self.raw, self.tag, self.title, self.links, self.hidden = snapshot.syntax
        self.definition, self.uncertain = snapshot.flags
        self.held = snapshot.held
        del self.held[snapshot.lines :]
        self.enclosing = dict(snapshot.enclosing)

    def end(self) -> None:
        """The paragraph ended: read again what it left open, then only what HTML opened stays."""
        if self._waiting():
            text = "\n".join(self.held)
            comments = self.raw != "<!--"
            self.code, self.raw, self.tag, self.title, self.held = 0, "", "", "", []
            self.lookahead = _Lookahead(text, comments=comments)
            self.read(text)
            self.lookahead = None
            if self._waiting():
                self._scan("\n".join(self.held))  # a tag or title left open again
        self._reset()

    def begin(self, first: str) -> None:
        """A paragraph starts with this line: one that starts `[label]:` may be definitions."""
        self.end()
        start = first.lstrip(" ")
        self.definition = start.startswith("[") and ("]:" in start or "]" not in start)

    @property
    def plain(self) -> bool:
        """Whether the next line starts outside all inline syntax."""
        return not (
            any(self.enclosing.values())
            or self.unsettled
            or self._waiting()
            or self.links
            or self.hidden
            or self.definition
            or self.uncertain
        )

    def _waiting(self) -> bool:
        """Whether a code span, raw HTML, a tag or a link title is open."""
        return bool(self.code or self.raw or self.tag or self.title)

    def _scan(self, text: str) -> None:
        """Text that was plain Markdown after all, read cautiously: any element it may open."""
        for opening in _ENCLOSING_OPENING.finditer(text):
            self._element(opening.group(1), False)
        if _RAW_OPENING.search(text):
            self.unsettled = True

    def read_html(self, html: str) -> None:
        """Follow raw HTML as a browser reads it: its elements, and whether it ends clean."""
        pos = 0
        while (start := html.find("<", pos)) >= 0:
            piece = _HTML_PIECE.match(html, start)
            if piece is None:
                if _HTML_UNFINISHED.match(html, start):
                    self.unsettled = True
                    return  # nothing after this counts any more
                pos = start + 1
                continue
            if piece.group(2):
                self._element(piece.group(2), bool(piece.group(1)))
            pos = piece.end()

    def read(self, text: str) -> None:
        """Follow the inline syntax of one more line (or, at the end, of the rest read again)."""
        pos = 0
        linked = 0  # where the last web address read ends
        held = 0 if self._waiting() else -1  # where this line's held text starts
        while True:
            if self.code:
                match = _BACKTICKS.search(text, pos)
            elif self.raw:
                match = next(_raw_ends(self.raw, text, pos), None)
            else:
                match = (_IN_TAG if self.tag else _INLINE).search(text, pos)
            if match is None:
                break
            pos = match.end()
            token = match.group()
            if self.code:
                if len(token) == self.code:
                    self.code, self.held, held = 0, [], -1
                continue
            if self.raw:
                # Raw HTML after all: follow it as a browser does.
                self.read_html("<" + "\n".join([*self.held, text[held:pos]]))
                self.raw, self.held, held = "", [], -1
                continue
            if self.title and self._opens(token):
                self.uncertain = True  # if the link is not valid, this was syntax
            if self.tag in ('"', "'"):
                if token == self.tag:
                    self.tag = "<"
            elif self.tag:
                if token in ('"', "'"):
                    self.tag = token
                elif token == ">" or token[0] == "<":
                    end = pos if token == ">" else match.start()
                    tag = "<" + "\n".join([*self.held, text[held:end]])
                    if closing := _CLOSING_TAG.fullmatch(tag):
                        self._element(closing.group(1), True)
                    elif token[0] == "<" or not _OPEN_TAG.fullmatch(tag):
                        # No tag to cmark-gfm: the `<` is text, Markdown follows it.
                        if self.held or "'" in tag or '"' in tag:
                            self._scan(tag[1:])  # not read again: it may hold more tags
                            self.uncertain = True
                            pos = end
                        else:
                            pos = held  # read again, as Markdown
                    self.tag, self.held, held = "", [], -1
                    continue
            elif self.title:
                if token == self.title:
                    # Unless the link is valid, its text was Markdown.
                    self._scan("\n".join([*self.held, text[held : match.start()]]))
                    self.title, self.held, held = "", [], -1
            else:
                if token[-1] in "/." and match.start() >= linked:
                    linked = self._web_address(text, match.start())
                pos = self._open(token, text, match.start())
            if held < 0 and self._waiting():
                # The syntax just opened holds what follows; without it, cmark-gfm reads on
                # after the backticks, the quote, or the `<`.
                held = pos if token[0] in "`\"'" else match.start() + 1
        if held >= 0:
            self.held.append(text[held:])

    def _web_address(self, text: str, start: int) -> int:
        """A web address that GitHub may link starts here: where it ends.

        GitHub links it unless it follows an open `[`, which is not always known here. In a link
        a backtick opens no code span and a backslash escapes no `<`, so when the address holds
        either, whether code, tags and comments follow is not known either: give up.
        """
        found = _WEB_ADDRESS_END.search(text, start)
        end = found.start() if found else len(text)
        if "`" in text[start:end] or text.startswith("\\<", end - 1):
            self.unsettled = True
        return end

    @staticmethod
    def _opens(token: str) -> bool:
        """Whether a token starts inline syntax that may run across lines."""
        return (
            token[0] == "`" or (token[0] in "<[" and len(token) > 1) or token in ("![", "](", "][")
        )

    def _element(self, name: str, closing: bool) -> None:
        """A raw HTML tag: count it when it encloses what follows."""
        name = name.lower()
        if self.cell and (closing or name not in _SWALLOWING):
            return
        # A closing tag in an image description or footnote reference never reaches the
        # browser; one after syntax not known for sure may be text.
        if name in _ENCLOSING and not (closing and (self.hidden or self.uncertain)):
            self.enclosing[name] = max(0, self.enclosing.get(name, 0) + (-1 if closing else 1))

    def _open(self, token: str, text: str, start: int) -> int:
        """A token outside code spans, raw HTML, tags and titles: where reading goes on."""
        end = start + len(token)
        opens = token[0] == "`" or _raw_opener(token)
        if opens and self.lookahead is not None and not self.lookahead.closes(token, end):
            # Never closed: plain text, read on after the backticks or the `<`.
            return end if token[0] == "`" else start + 1
        if token[0] == "`":
            self.code = len(token)
            if self.links:
                # In a link's destination, if the link is valid: not known here, so give up.
                self.unsettled = True
        elif _raw_opener(token):
            self.raw = _raw_opener(token)
        elif token.startswith("<!--"):
            pass  # an empty comment, `<!-->` or `<!--->` or `<!---->`
        elif token.startswith("</") and (closing := _CLOSING_TAG.match(text, start)):
            self._element(closing.group(1), True)
            return closing.end()
        elif autolink := _AUTOLINK.match(text, start):
            return autolink.end()  # a link, whatever it holds
        elif token[0] == "<":
            self.tag = "<"  # a tag, or a closing tag not closed on this line
            self._element(token[1:], False)
        elif token[0] == "]":
            if self.hidden:
                self.hidden -= 1  # an image description or a reference label ends
            if token == "](":
                self.links += 1
            elif token == "][":
                self.hidden += 1
        elif token == "![" or (token[0] == "[" and (len(token) > 1 or self.hidden)):
            self.hidden += 1  # an image description, a footnote reference, or a nested `[`
        elif self.links and token == "(":
            self.links += 1
        elif self.links and token == ")":
            self.links -= 1
        elif self.links and token in ('"', "'"):
            self.title = token
        return end
