"""Hostile comments: no command hides where GitHub does not show it, and no echo pings or forges.

A command counts only on a line that GitHub renders as a plain line of text, the way cmark-gfm (the
renderer GitHub uses) reads the comment. What an error repeats of a person's text is inert.
"""

from __future__ import annotations

import re
import time

import pytest

from bot.commands import (
    ECHO_LIMIT,
    MAX_COMMANDS,
    WORD_LIMIT,
    CommandError,
    Reject,
    inert_code,
    inert_text,
    parse_commands,
    parse_label,
)

RINGS = ("dev", "internal", "production")
# An @ that would ping: not followed by the zero-width space that breaks a mention.
LIVE_MENTION = re.compile("@(?!\u200b)")


def lines_of(body: str) -> list[str]:
    """The lines of the commands (and errors) a body parses to."""
    return [result.line for result in parse_commands(body, RINGS)]


# -- line breaks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "separator",
    ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"],
    ids=["LS", "PS", "NEL", "VT", "FF", "FS", "GS", "RS"],
)
def test_a_character_github_shows_inside_a_line_does_not_start_a_command(separator: str) -> None:
    assert parse_commands(f"LGTM{separator}/approve dev", RINGS) == ()


def test_a_hidden_line_break_inside_a_quote_does_not_start_a_command() -> None:
    assert parse_commands("> LGTM\u2028/approve dev", RINGS) == ()


@pytest.mark.parametrize(
    "body",
    ["/status\n/help", "/status\r\n/help", "/status\r/help"],
    ids=["LF", "CRLF", "CR"],
)
def test_markdown_line_endings_separate_commands(body: str) -> None:
    assert lines_of(body) == ["/status", "/help"]


# -- block quotes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "> quoted\n/approve dev",
        "> quoted\nmore words\n/approve dev",
        ">quoted\n/approve dev",
        "   > quoted\n/approve dev",
        "> > nested\n/approve dev",
        "- > quoted in a list\n/approve dev",
        "> quoted\n\u2028\n/approve dev",
        "> quoted\n# heading\n/approve dev",
        "> quoted\n```\n\n/approve dev\n```",
    ],
    ids=[
        "lazy-continuation",
        "after-more-lazy-lines",
        "marker-without-space",
        "indented-marker",
        "nested-quote",
        "quote-in-a-list-item",
        "a-line-of-only-LS-is-not-blank",
        "lines-after-a-quote-stay-quoted-until-a-blank-line",
        "a-fence-after-a-quote-holds-code",
    ],
)
def test_a_line_markdown_keeps_in_a_quote_is_not_a_command(body: str) -> None:
    assert parse_commands(body, RINGS) == ()


@pytest.mark.parametrize(
    "body",
    [
        "> quoted\n\n/approve dev",
        "> quoted\n   \n/approve dev",
        "> quoted\n\t\n/approve dev",
        "> quoted\n```\n```\n\n/approve dev",
    ],
    ids=["empty-line", "spaces", "tab", "after-a-closed-fence"],
)
def test_a_blank_line_ends_a_quote(body: str) -> None:
    assert lines_of(body) == ["/approve dev"]


# -- code blocks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    ```\n/status\n```\n/promote dev\n```", ["/status"]),
        ("```x`y\nvisible text\n```\n/promote dev\n```", []),
        ("- item\n  ```\n  /promote dev\n  ```", []),
        ("1. item\n\n    ```\n    /promote dev\n    ```", []),
        ("1. item\n    ```\n    code\n   ```\n/status\n```\n/promote dev\n```", ["/status"]),
        ("- ```\n/status\n```\n/promote dev\n```", ["/status"]),
        ("<div>\n```\n\n/status\n```\n/promote dev\n```", ["/status"]),
        ("```\n/promote dev\n    ```\n/rollback dev\n```\n/status", ["/status"]),
        ("````\n/promote dev\n```  \n/rollback dev\n````\n/status", ["/status"]),
        ("text\n```\n/promote dev\n```", []),
    ],
    ids=[
        "an-indented-fence-is-indented-code",
        "a-backtick-fence-with-a-backtick-in-its-info-is-not-a-fence",
        "fence-in-a-list-item",
        "fence-indented-inside-an-ordered-item",
        "fence-closing-inside-an-item",
        "a-fence-ends-with-its-list-item",
        "no-fence-inside-an-html-block",
        "an-indented-closing-fence-does-not-close",
        "a-shorter-closing-fence-does-not-close",
        "a-fence-interrupts-a-paragraph",
    ],
)
def test_code_blocks_open_and_close_where_github_says(body: str, expected: list[str]) -> None:
    assert lines_of(body) == expected


# -- other places GitHub hides or moves a line ---------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<details>\n<summary>Logs</summary>\n\n/approve dev\n\n</details>",
        "see <details>\n/approve dev",
        "[x]:\n/approve",
        "[a](\n/approve\n'title')",
        "![a\n/approve dev\n](x.png)",
        'text <span title="\n/approve dev\n">x</span>',
        "[^1]: note\n    /approve dev",
        "[^1]: note\n/approve dev",
        "text `code\n/approve dev`",
        "x <!--\n/approve dev\n-->",
        "- <!--\n/approve dev\n\n/status",
        '<div title="\n\n/approve dev',
        "/approve dev\n| - |",
        "| a |\n| - |\n/approve dev",
    ],
    ids=[
        "folded-in-details",
        "inline-details",
        "link-reference-definition",
        "link-destination",
        "image-description",
        "html-attribute",
        "footnote",
        "footnote-lazy-line",
        "code-span",
        "inline-html-comment",
        "html-comment-left-open-by-a-list-item",
        "html-tag-left-open",
        "table-header",
        "table-row",
    ],
)
def test_a_line_github_hides_or_does_not_show_as_a_line_is_not_a_command(body: str) -> None:
    assert parse_commands(body, RINGS) == ()


@pytest.mark.parametrize(
    "body",
    [
        "<details>\n\n/promote dev\n\n</details>\n\n/status",
        "<!-- template -->\n/status",
        "- item\n  /status",
        "- item\n/status",
        "---\n/status",
        "Shipping it, see `bot/commands.py` and [the docs](https://example.com/a_(b)).\n/status",
        "It's fine: a < b and c > d.\n/status",
    ],
    ids=[
        "after-a-closed-details",
        "after-a-template-comment",
        "list-item-continuation",
        "lazy-list-item-line",
        "after-a-rule",
        "after-closed-inline-code-and-links",
        "after-comparisons",
    ],
)
def test_a_line_github_shows_plainly_is_a_command(body: str) -> None:
    assert lines_of(body) == ["/status"]


# -- inline syntax, as cmark-gfm reads it (and a browser reads the raw HTML it lets through) ------


@pytest.mark.parametrize(
    "body",
    [
        # In a code span a backslash is a plain character, and only as many backticks close it.
        "LGTM ``` x \\````\n/approve dev\nok ```",
        "LGTM `` \\```\n/approve dev\n``",
        # A `[^` up to the `]` that closes it is a footnote reference: its text is dropped.
        "LGTM [^a\n/approve dev\n] great",
        "Thanks! [^\n/approve dev]",
        "LGTM [\\^a\n/approve dev\n] great",
        "x [\\^<http://a]>\n/approve dev\n]",
        "<code>[^</code>]\n/approve dev",
        # A `^` entity there makes cmark-gfm read past the entity: nothing after is certain.
        "LGTM [&#94;a]\n/approve dev",
        "LGTM [&Hat;a]\n\n/approve dev",
        # A linked web address holds backticks and backslashes as plain characters.
        "see http://a.b` <details>\n\n/approve dev",
        'x http://a.b\\<span title="\n/approve dev\n">',
        "![``](x`) <blockquote>`\n\n/approve dev",
        # Syntax never closed is plain text to cmark-gfm, and the raw HTML after it opens.
        "text `code <details>\n\n/approve dev",
        'x <span title="foo <details>\n\n/approve dev',
        'x [a](u "t <details>\n\n/approve dev',
        'x <a "y <details> z" >\n\n/approve dev',
        "<details>\n\nx </details\n\n/approve dev",
        # Comments and processing instructions end where cmark-gfm, then a browser, say.
        "x <!--> <details> -->\n\n/approve dev",
        "x <!-- a --!> <details> -->\n\n/approve dev",
        "x <!-- a ---> <details> -->\n\n/approve dev",
        "<!-- a --!> <details> -->\n\n/approve dev",
        "<? a > <details> ?>\n\n/approve dev",
        "x <? a >\n/approve dev\n?>",
        "x <??> <?>\n/approve dev?>",
        # Raw HTML in headings and table cells, and HTML blocks that interrupt a paragraph.
        "# <code>\n/approve dev",
        "<details>\n\n| </details> |\n| - |\n\n/approve dev",
        "x ``\n<textarea> ``\n\n/approve dev",
    ],
    ids=[
        "code-span-backslash-before-longer-backticks",
        "code-span-backslash-before-backticks",
        "footnote-reference",
        "footnote-reference-closed-on-the-command-line",
        "footnote-reference-escaped-caret",
        "footnote-reference-autolink-bracket",
        "footnote-reference-drops-closing-tag",
        "footnote-reference-caret-entity",
        "footnote-reference-named-caret-entity",
        "web-address-backtick",
        "web-address-backslash-before-tag",
        "link-destination-backtick",
        "unclosed-code-span",
        "unclosed-attribute-value",
        "unclosed-link-title",
        "invalid-attribute",
        "unclosed-closing-tag",
        "empty-comment",
        "comment-bang-end",
        "comment-dash-end",
        "html-block-comment-bang-end",
        "html-block-processing-instruction",
        "processing-instruction-across-lines",
        "processing-instruction-not-ended-by-an-even-run",
        "heading-code",
        "table-cell-closing-tag",
        "textarea-html-block",
    ],
)
def test_a_line_inline_syntax_hides_on_github_is_not_a_command(body: str) -> None:
    assert parse_commands(body, RINGS) == ()


@pytest.mark.parametrize(
    "body",
    [
        "LGTM ``` x \\```\n/status",
        "See https://example.com/docs and `code`.\n/status",
        "see <https://example.com/x]> ok\n/status",
        "x <!-- note -->\n/status",
        "LGTM [^1]\n/status",
        "Use `<details>` to fold.\n/status",
        "# Notes <code>x</code>\n/status",
        "| a |\n| - |\n| <code>x</code> |\n\n/status",
    ],
    ids=[
        "code-span-closed-after-a-backslash",
        "web-address",
        "autolink",
        "html-comment",
        "footnote-reference-on-one-line",
        "tag-in-a-code-span",
        "closed-code-in-a-heading",
        "closed-code-in-a-table-cell",
    ],
)
def test_inline_syntax_github_closes_leaves_the_next_line_a_command(body: str) -> None:
    assert lines_of(body) == ["/status"]


def test_nesting_too_deep_to_follow_hides_the_rest() -> None:
    assert parse_commands("> " * 40 + "x\n\n/status", RINGS) == ()


@pytest.mark.parametrize(
    "body",
    [
        "<a" + " " * 60_000 + "!",
        "<div>\n<a" + " /" * 30_000,
        "/status " + "<!--" * 16_000,
        "* " * 30_000 + "x",
        "1. " * 20_000,
        "a|" * 30_000 + "\n" + "-|" * 30_000,
        "`<![](\"'" * 8_000,
        "x " + "\\`" * 30_000,
        "x " + '<a "' * 16_000,
        "x " + "<a " * 20_000,
        "`" + " <details>" * 6_000,
        "x " + "[^a" * 20_000,
        "x " + "www." * 16_000,
        "x <a\n" + "b\n" * 30_000,
        "`\n" * 30_000,
        "| a |\n| - |\n" + "| <details> | `x |\n" * 3_500,
        "x <!--" + "-" * 60_000,
        "x " + "<??>" * 16_000,
    ],
    ids=[
        "tag-spaces",
        "tag-slashes",
        "comment-starts",
        "bullets",
        "ordered",
        "table",
        "inline",
        "escaped-backticks",
        "attribute-values",
        "tag-starts",
        "unclosed-code-span",
        "footnote-references",
        "web-addresses",
        "tag-across-lines",
        "code-span-across-lines",
        "table-rows",
        "comment-dashes",
        "processing-instructions",
    ],
)
def test_a_hostile_comment_of_github_s_maximum_size_parses_quickly(body: str) -> None:
    # This thread's CPU time, with a bound far above the linear parser's (0.2-0.35 s) and far below
    # a quadratic one's (the old parser took 11 s): other processes on the machine do not count.
    started = time.thread_time()
    parse_commands(body, RINGS)
    assert time.thread_time() - started < 5.0


# -- what errors repeat --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@alice", "@\u200balice"),
        ("@acme/everyone", "@\u200bacme/everyone"),
        ("a`b", "aˋb"),
        ("<!-- ringbot:status -->", "<\u200b!-- ringbot:status --\u200b>"),
        ("<!-->", "<\u200b!--\u200b>"),
        ("one\ntwo\u2028three\x85four", "one two three four"),
        ("  spaced   out  ", "spaced out"),
        ("ab\u202ecd\u200be", "abcde"),
        ("\x00bell\x07", "bell"),
    ],
    ids=[
        "mention",
        "team-mention",
        "backtick",
        "hidden-marker",
        "shortest-comment",
        "line-breaks",
        "spacing",
        "bidi-and-zero-width",
        "control-characters",
    ],
)
def test_inert_text(text: str, expected: str) -> None:
    assert inert_text(text) == expected


def test_inert_text_is_cut_to_its_limit() -> None:
    assert inert_text("x" * 500) == "x" * (ECHO_LIMIT - 1) + "…"
    assert len(inert_text("word " * 100, 20)) == 20


def test_inert_code_is_a_code_span_of_inert_text() -> None:
    assert inert_code("@alice`") == "`@\u200baliceˋ`"
    assert inert_code("") == "(empty)"


@pytest.mark.parametrize(
    "line",
    [
        "/promote @alice",
        "/approve @acme/everyone",
        "/feature @acme/everyone on dev",
        "/feature new-grid @here dev",
        "/feature new-grid on @alice",
        "/promote a`b",
        "/promote `x` @y",
        "/promote -->",
        "/status @alice",
        "/promote \u202eved",
        "/promote " + "@" * 300,
    ],
    ids=[
        "ring-mention",
        "team-mention",
        "flag-mention",
        "state-mention",
        "feature-ring-mention",
        "ring-backtick",
        "line-backticks",
        "comment-end",
        "extra-arguments",
        "bidi-override",
        "long",
    ],
)
def test_an_error_repeats_nothing_live(line: str) -> None:
    error = parse_commands(line, RINGS)[0]
    assert isinstance(error, CommandError)
    for text in (error.line, error.message):
        assert not LIVE_MENTION.search(text)
        assert "<!--" not in text and "-->" not in text
        assert "\n" not in text and "\u202e" not in text
    assert "`" not in error.line
    # Every echoed word sits in a code span that nothing closes early.
    assert error.message.count("`") % 2 == 0
    assert len(error.line) <= 2 * ECHO_LIMIT


def test_an_echoed_word_is_cut() -> None:
    error = parse_commands("/promote " + "x" * 300, RINGS)[0]
    assert isinstance(error, CommandError)
    assert f"`{'x' * (WORD_LIMIT - 1)}…`" in error.message
    assert len(error.line) == ECHO_LIMIT


def test_a_label_error_repeats_nothing_live() -> None:
    error = parse_label("promote:@alice<!--", RINGS)
    assert isinstance(error, CommandError)
    assert not LIVE_MENTION.search(error.message) and "<!--" not in error.message
    assert error.line == "promote:@\u200balice<\u200b!--"


def test_the_error_past_the_command_limit_is_inert() -> None:
    body = "\n".join(f"/reject @alice {number}" for number in range(MAX_COMMANDS + 1))
    error = parse_commands(body, RINGS)[-1]
    assert error == CommandError(
        f"/reject @\u200balice {MAX_COMMANDS}",
        f"a comment runs at most {MAX_COMMANDS} commands; put the rest in another one",
    )


def test_a_command_keeps_the_line_as_written() -> None:
    assert parse_commands("/reject dev ping @alice `now`", RINGS) == (
        Reject(ring="dev", reason="ping @alice `now`", line="/reject dev ping @alice `now`"),
    )
