"""GitHub's size limits and ringbot's own markers: every text ringbot writes fits what GitHub accepts
and says when it was cut, and nothing a person wrote can pass for one of ringbot's hidden markers.

The pure helpers first, then each writer against the simulator (which refuses what GitHub refuses),
then whole commands.
"""

from __future__ import annotations

import pytest

from bot.effects.checks import CheckOutput, find_own_run, publish_check
from bot.effects.labels import add_label, move_label
from bot.effects.releases import publish_release
from bot.effects.replies import find_reply, reply
from bot.messages.rings import render_label_reply
from bot.messages.text import (
    CHECK_SUMMARY,
    CHECK_TITLE,
    COMMENT_BODY,
    LABEL_NAME,
    Limit,
    code,
    cut,
    defuse,
    hidden,
    inert,
    shorten,
)
from bot.messages.visibility import STATUS_MARKER

from .builders import (
    REPO,
    cd,
    merge,
    open_pr,
    reactions,
    ready_pr,
    released,
    reply_to,
    setup_repo,
)
from .harness import World

MARKER = "<!-- ringbot:test -->"


def bot_comments(w: World, number: int) -> list[str]:
    """ringbot's comments on a pull request, oldest first."""
    found = [c for c in w.sim.repo(REPO).comments.values() if c.number == number]
    return [c.body for c in sorted(found, key=lambda c: c.id) if c.user.login == w.sim.bot_login]


# --- cutting text to a limit ---------------------------------------------------------------------


def test_text_that_fits_is_left_alone() -> None:
    assert cut("short", COMMENT_BODY, keep="\n\n" + MARKER) == "short\n\n" + MARKER


def test_text_that_does_not_fit_is_cut_to_the_limit_and_says_how_much_went() -> None:
    text = cut("x" * 70_000, COMMENT_BODY)
    assert COMMENT_BODY.size - 10 < len(text) <= COMMENT_BODY.size
    kept = text.count("x")
    assert text.endswith(f"… (cut: {70_000 - kept} more characters)")


def test_a_cut_never_cuts_the_marker_kept_after_it() -> None:
    text = cut("x" * 70_000, COMMENT_BODY, keep="\n\n" + MARKER)
    assert text.endswith("more characters)\n\n" + MARKER) and len(text) <= COMMENT_BODY.size


def test_a_cut_inside_a_code_fence_closes_the_fence() -> None:
    text = cut("intro\n````text\n" + "line\n" * 20_000, COMMENT_BODY)
    lines = text.splitlines()
    note = next(i for i, line in enumerate(lines) if line.startswith("… (cut: "))
    assert lines.count("````") == 1 and lines.index("````") < note


def test_a_cut_prefers_the_end_of_a_line() -> None:
    text = cut("0123456789\n" * 10_000, COMMENT_BODY)
    assert text.split("\n\n… (cut:")[0].endswith("0123456789")


def test_a_cut_never_splits_a_surrogate_pair_or_a_joined_emoji() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    for text in ("\ud83d\ude00" * 40, family * 20, "e\u0301" * 50):
        head = cut(text, Limit("test", 60)).split("\n\n… (cut:")[0]
        assert not head or not ("\ud800" <= head[-1] <= "\udbff")
        assert not head.endswith("\u200d") and text.startswith(head)
        assert text[len(head) : len(head) + 1] not in ("\u200d", "\u0301")


def test_check_run_output_is_cut_to_65535_bytes_not_characters() -> None:
    text = cut("🚀" * 20_000, CHECK_SUMMARY)
    assert len(text.encode()) <= 65_535 < len(("🚀" * 20_000).encode())
    assert "(cut: " in text


def test_a_short_field_is_cut_with_an_ellipsis() -> None:
    assert shorten("ring:" + "x" * 60, LABEL_NAME) == "ring:" + "x" * 44 + "…"


def test_a_long_one_line_field_says_how_much_was_cut() -> None:
    assert shorten("t" * 2_000, CHECK_TITLE) == "t" * 971 + "… (cut: 1029 more characters)"


# --- markers and echoed text ---------------------------------------------------------------------


def test_defused_text_holds_no_html_comment() -> None:
    text = defuse("a <!-- ringbot:status --> b <!---->")
    assert "<!--" not in text and "-->" not in text
    assert text.replace("\u200b", "") == "a <!-- ringbot:status --> b <!---->"


def test_a_marker_holding_a_label_cannot_end_early_or_hold_another_marker() -> None:
    marker = hidden("<!-- ringbot:label:promote:<!-- ringbot:status -->:alice -->")
    assert marker.startswith("<!-- ringbot:label:") and marker.endswith(":alice -->")
    assert marker.count("<!--") == 1 and marker.count("-->") == 1
    assert STATUS_MARKER not in marker


def test_inert_text_pings_no_one() -> None:
    assert "@\u200bteam-x" in inert("ask @team-x") and "@team" not in inert("ask @team-x")


def test_inert_text_is_one_line_without_backticks_pipes_or_html() -> None:
    text = inert("a `code` | b\n<b>bold</b> <!-- ringbot:status --> \\")
    assert "\n" not in text and not any(c in text for c in "`|<>\\")
    assert text == (
        "a &#96;code&#96; &#124; b &lt;b&gt;bold&lt;/b&gt; &lt;!-- ringbot:status --&gt; &#92;"
    )


def test_a_code_span_holds_any_backticks() -> None:
    assert code("a `b` c") == "``a `b` c``"
    assert code("`edge") == "`` `edge ``"


def test_a_code_span_in_a_table_escapes_pipes() -> None:
    assert code("a|b", table=True) == "`a\\|b`"


def test_the_label_reply_names_the_label_inertly() -> None:
    text = render_label_reply("bob", "promote:x` @carol <!-- ringbot:status -->", "😕 no")
    first = text.splitlines()[0]
    assert first == "@bob (label ``promote:x` @carol <!\u200b-- ringbot:status --\u200b>``)"


# --- each writer, against the simulator ------------------------------------------------------


@pytest.mark.e2e
async def test_a_reply_longer_than_a_comment_may_be_is_cut_and_found_again(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    ctx = await w.ctx(REPO)
    await reply(ctx, number, "x" * 70_000, marker=MARKER, check_first=False)
    await reply(ctx, number, "x" * 70_000, marker=MARKER, check_first=True)
    await w.settle()
    (body,) = [b for b in bot_comments(w, number) if MARKER in b]
    assert len(body) <= 65_536 and body.endswith(MARKER) and "more characters)" in body


@pytest.mark.e2e
async def test_a_reply_cannot_carry_another_writers_marker(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    ctx = await w.ctx(REPO)
    await reply(ctx, number, f"quoted: {STATUS_MARKER}", marker=MARKER, check_first=False)
    assert await find_reply(ctx, number, STATUS_MARKER) is None
    assert await find_reply(ctx, number, MARKER) is not None


@pytest.mark.e2e
async def test_a_check_run_over_githubs_limits_is_cut_and_not_rewritten(w: World) -> None:
    setup_repo(w)
    sha = w.sim.repo(REPO).branches["main"]
    ctx = await w.ctx(REPO)
    want = CheckOutput("ringbot/limits", "completed", "neutral", "t" * 2_000, "🚀" * 20_000)
    assert await publish_check(ctx, sha, want, None)
    assert not await publish_check(ctx, sha, want, await find_own_run(ctx, sha, want.name))
    (run,) = [r for r in w.sim.repo(REPO).check_runs.values() if r.name == want.name]
    assert len(run.output["summary"].encode()) <= 65_535 and "(cut: " in run.output["summary"]
    assert len(run.output["title"]) <= 1_000 and run.output["title"].endswith("more characters)")


@pytest.mark.e2e
async def test_a_ring_label_over_50_characters_is_cut_and_stays_on(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    ctx = await w.ctx(REPO)
    long = "ring:" + "x" * 60
    for _ in range(2):
        await move_label(
            ctx, number, add=long, remove=(long,), color="c2e0c6", description="d" * 200
        )
    (label,) = w.sim.repo(REPO).pulls[number].labels
    assert label == shorten(long, LABEL_NAME)
    assert len(w.sim.repo(REPO).labels[label.lower()].description) <= 100


@pytest.mark.e2e
async def test_release_notes_over_githubs_limit_are_cut(w: World) -> None:
    setup_repo(w)
    sha = w.sim.repo(REPO).branches["main"]
    ctx = await w.ctx(REPO)
    assert await publish_release(ctx, tag="v1", sha=sha, name="n" * 300, body="- x\n" * 40_000)
    (release,) = w.sim.repo(REPO).releases
    assert len(release.body) <= 125_000 and "(cut: " in release.body
    assert len(release.name) <= 256


@pytest.mark.e2e
async def test_a_label_write_whose_answer_is_lost_is_read_back_not_repeated(w: World) -> None:
    setup_repo(w)
    number = open_pr(w)
    await w.settle()
    ctx = await w.ctx(REPO)
    w.sim.fault("POST", rf"/issues/{number}/labels$", status=502, after=True)
    await add_label(ctx, number, "ring:dev")
    assert w.sim.repo(REPO).pulls[number].labels == ["ring:dev"]
    reads = [r for r in w.sim.requests if r.path.endswith(f"/issues/{number}/labels")]
    assert [(r.method, r.status) for r in reads] == [("POST", 502), ("GET", 200)]


# --- whole commands ------------------------------------------------------------------------------


@pytest.mark.e2e
async def test_a_reject_reason_that_nearly_fills_a_comment_still_gets_a_reply(w: World) -> None:
    setup_repo(w)
    number, _ = await released(w)
    comment = "/reject dev " + "x" * 65_400
    comment_id = w.sim.comment(REPO, number, "carol", comment)
    await w.settle()
    answer = reply_to(w, comment_id)
    assert len(answer) <= 65_536 and "⛔ @carol rejected" in answer and "(cut: " in answer
    assert reactions(w, comment_id) == ["eyes", "rocket"]


@pytest.mark.e2e
async def test_a_label_that_spells_the_status_marker_leaves_the_status_comment_alone(
    w: World,
) -> None:
    setup_repo(w)
    number = await ready_pr(w)
    w.sim.add_label(REPO, number, f"promote:{STATUS_MARKER}", by="alice")
    await w.settle()
    await merge(w, number)
    await cd(w, "dev")
    comments = bot_comments(w, number)
    label_replies = [c for c in comments if c.startswith("@alice (label ")]
    statuses = [c for c in comments if STATUS_MARKER in c]
    assert len(label_replies) == 1 and STATUS_MARKER not in label_replies[0]
    assert len(statuses) == 1 and statuses[0].startswith("### 🛰️ Where this change is")
