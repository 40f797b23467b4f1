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
        re.compile(r"<(?:script|pre|style)(?:[ \v\f>]|$)", re.IGNORECASE),
        re.compile(r"</(?:script|pre|style)>", re.IGNORECASE),
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
        self.took_header = False  # the last line made the line before it a table header
        self.html_ended = False  # the last line ended an HTML block
        # A block quote and every non-blank line after it, until a blank line. Markdown ends a
        # quote sooner after some blocks; counting those lines as quoted is merely cautious.
        self.quoted = False
        self.lost = False  # nested too deep to follow: no later line is a command

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
                return None
            break
        if _blank(rest):
            self._close(matched)
            return None
        if self.leaf == "table" and continued and _indent(rest) < 4:
            return None  # a row: shown in a cell, not as a line
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
        self.previous = rest
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


# Inline syntax that can run across lines and hide what it holds: code spans, HTML comments and
# tags (attributes), link destinations and titles, image descriptions and reference labels.
_INLINE = re.compile(r"\\.|`+|<!--|-->|</?[A-Za-z][A-Za-z0-9-]*|<[/?!]|!\[|\]\(|\]\[|[\[\]()<>\"']")
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
# A whole comment, CDATA section, declaration, processing instruction or tag in raw HTML. Where
# parsers differ (an HTML5 browser ends `<![CDATA[` and `<?` at the first `>`), the later end.
_HTML_PIECE = re.compile(
    r"<!--(?:>|->|.*?-->)|<!\[CDATA\[.*?\]\]>|<!(?!--|\[CDATA\[)[^>]*+>|<\?.*?\?>"
    r"|</(?![A-Za-z])[^>]*+>"
    r"|<(/?)([A-Za-z][^\s/>]*+)"
    r"""(?:[\s/]++|[^\s/>"'=][^\s/>=]*+(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>"']*+))?)*+>""",
    re.DOTALL,
)
_HTML_UNFINISHED = re.compile(r"<[A-Za-z!?/]")


class _Inline:
    """What inline syntax is still open at the end of a paragraph's lines read so far."""

    def __init__(self) -> None:
        self.comment = False  # also across paragraphs, as the cautious reading of `<!--`
        self.enclosing: dict[str, int] = {}  # open raw HTML elements from _ENCLOSING, by name
        # Raw HTML left a browser inside a tag, comment or declaration: it may swallow anything
        # after it, so nothing after it counts.
        self.unsettled = False
        self.end()

    def end(self) -> None:
        """The paragraph ended: only what HTML leaves open stays open."""
        self.code = 0  # length of the backtick string that opened a code span
        self.tag = ""  # "<" inside a tag, or the quote of an attribute value
        self.title = ""  # the quote of a link title
        self.links = 0  # open link destinations (with their own parentheses)
        self.hidden = 0  # open image descriptions and reference labels
        self.definition = False
        # Syntax opened inside a tag, comment or title: if that one was not valid after all,
        # GitHub read this instead, and nothing more in the paragraph is certain.
        self.uncertain = False

    def begin(self, first: str) -> None:
        """A paragraph starts with this line: one that starts `[label]:` may be definitions."""
        self.end()
        start = first.lstrip(" ")
        self.definition = start.startswith("[") and ("]:" in start or "]" not in start)

    @property
    def plain(self) -> bool:
        """Whether the next line starts outside all inline syntax."""
        return not (
            self.comment
            or any(self.enclosing.values())
            or self.unsettled
            or self.code
            or self.tag
            or self.title
            or self.links
            or self.hidden
            or self.definition
            or self.uncertain
        )

    def read_html(self, html: str) -> None:
        """Follow an HTML block as a browser reads it: its elements, and whether it ends clean."""
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
        """Follow the inline syntax of one more line."""
        for match in _INLINE.finditer(text):
            token = match.group()
            if (self.comment or self.tag or self.title) and self._opens(token):
                self.uncertain = True
            if self.comment:
                # cmark-gfm ends the comment at a `-->` whose text does not end with `-`.
                self.comment = token != "-->" or text[match.start() - 1 : match.start()] == "-"
            elif self.code:
                if token[0] == "`" and len(token) == self.code:
                    self.code = 0
            elif self.tag in ('"', "'"):
                if token == self.tag:
                    self.tag = "<"
            elif self.tag:
                if token in ('"', "'"):
                    self.tag = token
                elif token == ">":
                    self.tag = ""
                elif token[0] == "<":
                    self._open(token)  # not a tag after all: a new one starts here
            elif self.title:
                if token == self.title:
                    self.title = ""
            else:
                self._open(token)

    @staticmethod
    def _opens(token: str) -> bool:
        """Whether a token starts inline syntax that may run across lines."""
        return (
            token[0] == "`" or (token[0] == "<" and len(token) > 1) or token in ("![", "](", "][")
        )

    def _element(self, name: str, closing: bool) -> None:
        """A raw HTML tag: count it when it encloses what follows."""
        name = name.lower()
        if name in _ENCLOSING:
            self.enclosing[name] = max(0, self.enclosing.get(name, 0) + (-1 if closing else 1))

    def _open(self, token: str) -> None:
        """A token outside code spans, comments, tags and titles."""
        if token[0] == "`":
            self.code = len(token)
        elif token == "<!--":
            self.comment = True
        elif token[0] == "<":
            self.tag = "<"
            name = token.lstrip("</")
            if name[:1].isalpha():
                self._element(name, token.startswith("</"))
        elif token[0] == "]":
            if self.hidden:
                self.hidden -= 1  # an image description or a reference label ends
            if token == "](":
                self.links += 1
            elif token == "][":
                self.hidden += 1
        elif token == "![" or (token == "[" and self.hidden):
            self.hidden += 1
        elif self.links and token == "(":
            self.links += 1
        elif self.links and token == ")":
            self.links -= 1
        elif self.links and token in ('"', "'"):
            self.title = token
