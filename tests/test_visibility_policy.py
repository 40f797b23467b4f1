"""Release visibility, the pure parts: history, journeys, labels, work items, releases, markdown."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.config import DEFAULT_CONFIG
from bot.ledger import DeploymentRecord
from bot.messages.visibility import (
    render_pr_status,
    render_release_check,
    render_release_notes,
    state_cell,
)
from bot.policy.visibility import (
    REJECTED_LABEL,
    LabelChange,
    PublishedRelease,
    Row,
    check_conclusion,
    journey,
    label_change,
    label_color,
    previous_candidates,
    previous_published,
    published_for,
    reach,
    release_due,
    release_rows,
    ring_label,
    work_items,
)

from .builders.visibility import (
    BOT,
    CONFIG,
    NOW,
    PULLS,
    M,
    P,
    dep,
    history,
    rejected_by,
    ring,
    rows_of,
    signed_by,
    st,
    went_live,
)

# --- history and work items ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("release", "commit", "expected"),
    [
        pytest.param(M[3], M[1], True, id="an-older-merge"),
        pytest.param(M[3], P[2], True, id="a-pull-request-commit"),
        pytest.param(M[3], M[3], True, id="itself"),
        pytest.param(M[2], M[3], False, id="a-newer-merge"),
        pytest.param(M[2], P[3], False, id="a-newer-branch-commit"),
        pytest.param("f" * 40, M[1], False, id="a-release-outside-the-page"),
        pytest.param(M[4], "f" * 40, False, id="a-commit-outside-the-page"),
    ],
)
def test_containment_is_read_from_the_history_page(
    release: str, commit: str, expected: bool
) -> None:
    assert history().contains(release, commit) is expected


@pytest.mark.parametrize(
    ("release", "since", "expected"),
    [
        pytest.param(M[4], M[2], [3, 4], id="since-the-previous-release"),
        pytest.param(M[4], None, [1, 2, 3, 4], id="no-previous-release"),
        pytest.param(M[2], M[2], [], id="the-same-release"),
        pytest.param(M[1], None, [1], id="the-first"),
        pytest.param("f" * 40, None, [], id="outside-the-page"),
    ],
)
def test_work_items_are_the_pull_requests_merged_since(
    release: str, since: str | None, expected: list[int]
) -> None:
    assert [p.number for p in work_items(history(), PULLS, release, since)] == expected


def test_the_previous_release_candidates_are_older_releases_in_that_ring_nearest_first() -> None:
    deps = [
        went_live(M[1], "dev", 0),
        went_live(M[2], "dev", 10),
        went_live(M[3], "internal", 20),
        went_live(M[4], "dev", 30),
        went_live(
            M[3], "dev", 40
        ),  # a rollback: M3 came after M4, but M3 is the release asked about
    ]
    found = previous_candidates(ring("dev"), deps, history(), M[3])
    assert [d.sha for d in found] == [M[2], M[1]]


# --- rows and journeys --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deployment", "state", "cell"),
    [
        pytest.param(None, "waiting", "⚪ waiting", id="waiting"),
        pytest.param(
            dep(M[1], "internal", 0, st("in_progress", 1)),
            "deploying",
            "🚀 deploying",
            id="in-flight",
        ),
        pytest.param(dep(M[1], "internal", 0), "deploying", "🚀 deploying", id="no-status-yet"),
        pytest.param(
            dep(M[1], "internal", 0, st("failure", 1)), "failed", "❌ deploy failed", id="failed"
        ),
        pytest.param(went_live(M[1], "internal", 0), "live", "✅ live", id="live"),
        pytest.param(
            went_live(M[1], "internal", 0, signed_by("carol", 5), signed_by("dan", 6)),
            "live",
            "✅ live · signed off by @\u200bcarol, @\u200bdan",
            id="signed-off",
        ),
        pytest.param(
            went_live(M[1], "internal", 0, rejected_by("carol", "crashes", 5)),
            "rejected",
            "⛔ rejected by @\u200bcarol: crashes",
            id="rejected",
        ),
    ],
)
def test_a_row_says_where_the_release_is(
    deployment: DeploymentRecord | None, state: str, cell: str
) -> None:
    got = journey_row(deployment, "production")  # the ring after it does not bake
    assert got.state == state and state_cell(got) == cell
    assert got.users == 11110


def journey_row(deployment: DeploymentRecord | None, name: str, now: datetime = NOW) -> Row:
    from bot.policy.visibility import rejections, row

    deps = [deployment] if deployment else []
    return row(CONFIG, ring(name), deployment, rejections(deps, BOT), now, BOT)


@pytest.mark.parametrize(
    ("hours_later", "cell"),
    [
        pytest.param(0, "✅ live · ⏳ baking, 1d 2m left before early-adopters", id="just-live"),
        pytest.param(20, "✅ live · ⏳ baking, 4h 2m left before early-adopters", id="nearly"),
        pytest.param(25, "✅ live", id="baked"),
    ],
)
def test_a_live_row_says_how_long_it_still_bakes(hours_later: int, cell: str) -> None:
    # Live at NOW - 1 day + 2 minutes; the clock is moved from NOW - 1 day.
    now = NOW - timedelta(days=1) + timedelta(hours=hours_later)
    assert state_cell(journey_row(went_live(M[1], "internal", 0), "internal", now)) == cell


def test_a_journey_takes_the_first_good_release_that_carries_the_change() -> None:
    deps = [
        went_live(M[1], "dev", 0, rejected_by("carol", "broken", 3)),  # rejected: not good
        dep(M[2], "dev", 10, st("failure", 11)),  # failed: not good
        went_live(M[3], "dev", 20),  # the first good one
        went_live(M[4], "dev", 30),
        went_live(M[4], "internal", 40),
    ]
    rows = journey(CONFIG, PULLS[0], deps, history(), NOW, BOT)
    assert [(r.ring.name, r.state, r.sha) for r in rows] == [
        ("dev", "live", M[3]),
        ("internal", "live", M[4]),
        ("early-adopters", "waiting", None),
        ("production", "waiting", None),
        ("on-premises", "waiting", None),
    ]


def test_a_journey_without_a_good_release_shows_the_newest_attempt() -> None:
    deps = [
        went_live(M[1], "dev", 0, rejected_by("carol", "broken", 3)),
        dep(M[2], "dev", 10, st("in_progress", 11)),
    ]
    rows = journey(CONFIG, PULLS[0], deps, history(), NOW, BOT)
    assert (rows[0].state, rows[0].sha) == ("deploying", M[2])


def test_a_journey_ignores_releases_without_the_change() -> None:
    deps = [went_live(M[1], "dev", 0), went_live(M[2], "internal", 10)]
    rows = journey(CONFIG, PULLS[2], deps, history(), NOW, BOT)
    assert all(r.state == "waiting" for r in rows)


def test_the_release_table_shows_a_replaced_deployment() -> None:
    deps = [went_live(M[1], "dev", 0, st("inactive", 30)), went_live(M[1], "internal", 5)]
    rows = release_rows(CONFIG, M[1], deps, NOW, BOT)
    assert [r.state for r in rows[:3]] == ["replaced", "live", "waiting"]


# --- labels -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("states", "label"),
    [
        pytest.param(("deploying",), None, id="on-its-way"),
        pytest.param(("failed",), None, id="failed"),
        pytest.param(("live",), "ring:dev", id="dev"),
        pytest.param(("live", "live", "deploying"), "ring:internal", id="widest-live"),
        pytest.param(("rejected", "rejected"), REJECTED_LABEL, id="rejected"),
        pytest.param(("live", "rejected"), "ring:dev", id="carried-on-by-a-later-release"),
    ],
)
def test_the_ring_label_is_the_widest_ring_reached(states: tuple[str, ...], label: str) -> None:
    assert ring_label(rows_of(*states)) == label


@pytest.mark.parametrize(
    ("current", "want", "change"),
    [
        pytest.param([], "ring:dev", LabelChange("ring:dev"), id="first"),
        pytest.param(["ring:dev"], "ring:dev", LabelChange(None), id="unchanged"),
        pytest.param(["Ring:Dev"], "ring:dev", LabelChange(None), id="case-insensitive"),
        pytest.param(
            ["ring:dev", "bug"],
            "ring:internal",
            LabelChange("ring:internal", ("ring:dev",)),
            id="moves",
        ),
        pytest.param(
            ["ring:internal", "ring:elsewhere"],
            REJECTED_LABEL,
            LabelChange(REJECTED_LABEL, ("ring:internal",)),
            id="only-our-labels-go",
        ),
        pytest.param(["ring:dev"], None, LabelChange(None), id="nothing-known-nothing-removed"),
    ],
)
def test_only_the_difference_is_written(
    current: list[str], want: str | None, change: LabelChange
) -> None:
    assert label_change(CONFIG, current, want) == change


@pytest.mark.parametrize(
    ("name", "color"),
    [
        ("ring:dev", "c2e0c6"),
        ("ring:production", "30a14e"),
        ("ring:on-premises", "216e39"),
        (REJECTED_LABEL, "d73a4a"),
    ],
)
def test_labels_darken_ring_by_ring(name: str, color: str) -> None:
    assert label_color(CONFIG, name) == color


@pytest.mark.parametrize(
    ("name", "users"),
    [("dev", 10), ("internal", 110), ("production", 11110), ("on-premises", 11110)],
)
def test_users_reached_add_up_ring_by_ring(name: str, users: int) -> None:
    assert reach(CONFIG, ring(name)) == users


def test_no_users_are_shown_when_no_ring_declares_them() -> None:
    assert reach(DEFAULT_CONFIG, ring("production", DEFAULT_CONFIG)) is None


# --- GitHub Releases ----------------------------------------------------------------------------


def test_a_release_is_due_once_live_in_a_release_ring_with_a_stable_tag() -> None:
    deps = [went_live(M[2], "production", 0), went_live(M[2], "on-premises", 60 * 20)]
    due = release_due(CONFIG, M[2], deps, BOT)
    assert due is not None and due.ring.name == "on-premises"
    assert due.tag == f"v2026.05.10-{M[2][:7]}"  # the day it went live, not the day we looked
    assert due.live_since == NOW - timedelta(hours=3, minutes=58)


@pytest.mark.parametrize(
    "deps",
    [
        pytest.param([went_live(M[2], "production", 0)], id="not-in-the-release-ring"),
        pytest.param([dep(M[2], "on-premises", 0, st("in_progress", 1))], id="still-deploying"),
        pytest.param(
            [went_live(M[2], "on-premises", 0, rejected_by("carol", "no", 5))], id="rejected"
        ),
        pytest.param([went_live(M[3], "on-premises", 0)], id="another-release"),
    ],
)
def test_no_release_is_due(deps: list[DeploymentRecord]) -> None:
    assert release_due(CONFIG, M[2], deps, BOT) is None


@pytest.mark.parametrize(
    ("releases", "expected"),
    [
        pytest.param([], None, id="none"),
        pytest.param([PublishedRelease("v1", M[1], BOT)], "v1", id="one"),
        pytest.param(
            [PublishedRelease("v1", M[1], BOT), PublishedRelease("v2", M[2], BOT)],
            "v2",
            id="newest",
        ),
        pytest.param([PublishedRelease("v2", M[2], "alice")], None, id="not-ours"),
        pytest.param([PublishedRelease("v4", M[4], BOT)], None, id="a-later-one"),
    ],
)
def test_notes_start_after_the_previous_release_ringbot_published(
    releases: list[PublishedRelease], expected: str | None
) -> None:
    found = previous_published(history(), releases, M[3], BOT)
    assert (found.tag if found else None) == expected


def test_a_release_of_the_same_sha_is_found() -> None:
    releases = [PublishedRelease("v3", M[3], BOT), PublishedRelease("x", M[2], BOT)]
    assert published_for(releases, M[3], BOT) == releases[0]
    assert published_for(releases, M[4], BOT) is None


def test_release_notes_list_title_number_and_author() -> None:
    notes = render_release_notes(M[4], "on-premises", PULLS[2:], "v2")
    assert notes == (
        "Release `4444444` went live in on-premises.\n"
        "\n"
        "## Pull requests since v2\n"
        "\n"
        "- Change 3 (#3) @dev3\n"
        "- Change 4 (#4) @dev4"
    )


@pytest.mark.parametrize(
    ("states", "conclusion"),
    [
        (("live", "deploying"), "neutral"),
        (("live", "rejected"), "failure"),
        (("live",) * 5, "success"),
    ],
)
def test_the_release_check_concludes(states: tuple[str, ...], conclusion: str) -> None:
    rows = rows_of(*states)
    rows += tuple(Row(r, "waiting") for r in CONFIG.rings[len(rows) :])
    assert check_conclusion(rows) == conclusion


# --- markdown -----------------------------------------------------------------------------------


def test_the_status_comment_is_a_table_with_links_and_the_blast_radius() -> None:
    deps = [went_live(M[1], "dev", 0, signed_by("carol", 5)), dep(M[1], "internal", 10)]
    rows = journey(CONFIG, PULLS[0], deps, history(), NOW, BOT)
    text = render_pr_status(CONFIG, rows, history().url).replace("\u200b", "")
    link = f"[`1111111`](https://h/commit/{M[1]})"
    assert text.splitlines()[2:9] == [
        "| ring | release | state | since | users reached |",
        "|---|---|---|---|---|",
        f"| dev | {link} | ✅ live · signed off by @carol | 2026-05-09 12:02 UTC | 10 |",
        f"| internal | {link} | 🚀 deploying | 2026-05-09 12:10 UTC | 110 |",
        "| early-adopters | — | ⚪ waiting | — | 1,110 |",
        "| production | — | ⚪ waiting | — | 11,110 |",
        "| on-premises | — | ⚪ waiting | — | 11,110 |",
    ]
    assert "Live up to **dev** (10 users)." in text


def test_without_users_the_column_is_left_out() -> None:
    rows = tuple(Row(r, "waiting") for r in DEFAULT_CONFIG.rings)
    text = render_pr_status(DEFAULT_CONFIG, rows, lambda sha: "")
    assert "| ring | release | state | since |\n|---|---|---|---|\n| dev |" in text


@pytest.mark.parametrize(
    ("states", "title"),
    [
        (("deploying",), "Deploying to dev"),
        (("live", "failed"), "Deploy to internal failed"),
        (("live", "live"), "Live in internal · 110 users"),
        ((), "Not deployed yet"),
    ],
)
def test_the_release_check_title_says_where_it_is(states: tuple[str, ...], title: str) -> None:
    rows = rows_of(*states)
    rows = tuple(
        Row(r.ring, r.state, r.sha, r.since, users=reach(CONFIG, r.ring)) for r in rows
    ) + tuple(Row(r, "waiting") for r in CONFIG.rings[len(rows) :])
    assert render_release_check(CONFIG, M[1], rows, lambda sha: "")[0] == title


def test_a_rejected_release_check_names_the_reason() -> None:
    deps = [went_live(M[1], "dev", 0, rejected_by("carol", "crashes", 5))]
    rows = release_rows(CONFIG, M[1], deps, NOW, BOT)
    title, summary = render_release_check(CONFIG, M[1], rows, lambda sha: "")
    assert title == "Rejected: crashes"
    assert "| dev | `1111111` | ⛔ rejected by @\u200bcarol: crashes |" in summary
