"""Specification of slash-command and `promote:<ring>` label parsing (SPEC "Commands")."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.commands import (
    COMMANDS,
    HELP,
    MAX_COMMANDS,
    Command,
    CommandError,
    parse_commands,
    parse_label,
)

RINGS = ("dev", "internal", "early-adopters", "production", "on-premises")
RING_LIST = "Rings: dev, internal, early-adopters, production, on-premises"


def one(body: str) -> Command | CommandError:
    """The single result a body must parse to."""
    results = parse_commands(body, RINGS)
    assert len(results) == 1, results
    return results[0]


# -- well-formed commands ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/promote internal", Command("promote", ring="internal")),
        ("/approve", Command("approve")),
        ("/approve production", Command("approve", ring="production")),
        ("/reject broken login", Command("reject", reason="broken login")),
        (
            "/reject internal broken login",
            Command("reject", ring="internal", reason="broken login"),
        ),
        ("/rollback production", Command("rollback", ring="production")),
        (
            "/feature new-grid on dev",
            Command("feature", ring="dev", flag="new-grid", enabled=True),
        ),
        (
            "/feature new-grid off production",
            Command("feature", ring="production", flag="new-grid", enabled=False),
        ),
        ("/features", Command("features")),
        ("/status", Command("status")),
        ("/help", Command("help")),
    ],
    ids=[
        "promote",
        "approve-default-ring",
        "approve-ring",
        "reject-reason-only",
        "reject-ring-and-reason",
        "rollback",
        "feature-on",
        "feature-off",
        "features",
        "status",
        "help",
    ],
)
def test_each_command_parses(line: str, expected: Command) -> None:
    assert one(line) == replace(expected, line=line)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/PROMOTE internal", Command("promote", ring="internal", line="/PROMOTE internal")),
        ("/Promote Internal", Command("promote", ring="internal", line="/Promote Internal")),
        ("   /status", Command("status", line="/status")),
        ("/promote\tinternal", Command("promote", ring="internal", line="/promote\tinternal")),
        ("/promote   internal   ", Command("promote", ring="internal", line="/promote   internal")),
        (
            "/feature Dark_Mode ON dev",
            Command(
                "feature",
                ring="dev",
                flag="Dark_Mode",
                enabled=True,
                line="/feature Dark_Mode ON dev",
            ),
        ),
    ],
    ids=[
        "name-any-case",
        "ring-any-case",
        "leading-spaces",
        "tab-separated",
        "extra-spaces",
        "flag-keeps-case-state-any-case",
    ],
)
def test_commands_are_forgiving_about_case_and_spacing(line: str, expected: Command) -> None:
    assert one(line) == expected


def test_the_reason_keeps_its_own_words_and_spacing() -> None:
    result = one("/reject production  crashes on start: see #12 ")
    assert isinstance(result, Command)
    assert (result.ring, result.reason) == ("production", "crashes on start: see #12")


def test_a_reason_that_starts_with_a_non_ring_word_has_no_ring() -> None:
    result = one("/reject prod is down")
    assert isinstance(result, Command)
    assert (result.ring, result.reason) == (None, "prod is down")


# -- bad arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/promote", "/promote needs a ring: `/promote <ring>`"),
        (
            "/promote staging",
            f"/promote: unknown ring `staging`. {RING_LIST}",
        ),
        (
            "/promote prod",
            f"/promote: unknown ring `prod` (did you mean `production`?). {RING_LIST}",
        ),
        (
            "/promote internl",
            f"/promote: unknown ring `internl` (did you mean `internal`?). {RING_LIST}",
        ),
        ("/promote internal now", "/promote takes one ring: `/promote <ring>`"),
        ("/approve internal dev", "/approve takes at most one ring: `/approve [ring]`"),
        ("/approve lgtm", f"/approve: unknown ring `lgtm`. {RING_LIST}"),
        ("/reject", "/reject needs a reason: `/reject [ring] <reason>`"),
        ("/reject internal", "/reject needs a reason: `/reject [ring] <reason>`"),
        ("/rollback", "/rollback needs a ring: `/rollback <ring>`"),
        ("/rollback production dev", "/rollback takes one ring: `/rollback <ring>`"),
        ("/rollback qa", f"/rollback: unknown ring `qa`. {RING_LIST}"),
        (
            "/feature",
            "/feature needs a flag, on or off, and a ring: `/feature <flag> on|off <ring>`",
        ),
        (
            "/feature new-grid on",
            "/feature needs a flag, on or off, and a ring: `/feature <flag> on|off <ring>`",
        ),
        (
            "/feature new-grid on dev now",
            "/feature needs a flag, on or off, and a ring: `/feature <flag> on|off <ring>`",
        ),
        (
            "/feature new-grid yes dev",
            "/feature: `yes` is neither on nor off: `/feature <flag> on|off <ring>`",
        ),
        (
            "/feature -grid on dev",
            "/feature: `-grid` is not a flag name (letters, digits, '_' and '-'): "
            "`/feature <flag> on|off <ring>`",
        ),
        ("/feature new-grid on qa", f"/feature: unknown ring `qa`. {RING_LIST}"),
        ("/features please", "/features takes no arguments: `/features`"),
        ("/status now", "/status takes no arguments: `/status`"),
        ("/help me", "/help takes no arguments: `/help`"),
    ],
    ids=[
        "promote-without-ring",
        "promote-unknown-ring",
        "promote-ring-prefix",
        "promote-ring-typo",
        "promote-extra-words",
        "approve-two-rings",
        "approve-not-a-ring",
        "reject-without-anything",
        "reject-ring-without-reason",
        "rollback-without-ring",
        "rollback-two-rings",
        "rollback-unknown-ring",
        "feature-without-arguments",
        "feature-without-ring",
        "feature-extra-words",
        "feature-not-on-or-off",
        "feature-bad-flag-name",
        "feature-unknown-ring",
        "features-with-arguments",
        "status-with-arguments",
        "help-with-arguments",
    ],
)
def test_a_known_command_with_bad_arguments_is_an_error(line: str, message: str) -> None:
    assert one(line) == CommandError(line, message)


def test_an_unknown_ring_list_says_so() -> None:
    assert parse_commands("/promote dev", ()) == (
        CommandError("/promote dev", "/promote: unknown ring `dev`. Rings: none"),
    )


# -- what is not a command -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "",
        "LGTM, thanks!",
        "please /promote internal",
        "/assign @octocat",
        "/promotes internal",
        "/promote-internal",
        "/",
        "> /promote internal",
        "  > /promote internal",
        ">> /promote internal",
        "```\n/promote internal\n```",
        "```bash\n/promote internal\n```",
        "~~~\n/promote internal\n~~~",
        "````\n```\n/promote internal\n````",
        "~~~\n/promote internal\n```\n/rollback dev\n",
        "<!-- /promote internal -->",
        "<!--\n/promote internal\n-->",
        "- /promote internal",
        "`/promote internal`",
        "text\n\n    /promote internal",
        "\t/promote internal",
    ],
    ids=[
        "empty",
        "prose",
        "not-at-line-start",
        "another-bots-command",
        "a-longer-word",
        "joined-with-dash",
        "bare-slash",
        "quoted",
        "quoted-indented",
        "quoted-twice",
        "fenced",
        "fenced-with-info",
        "tilde-fenced",
        "fence-closes-only-on-same-length",
        "unclosed-fence-runs-to-the-end",
        "inline-html-comment",
        "multi-line-html-comment",
        "list-item",
        "inline-code",
        "indented-code-block",
        "tab-indented-code-block",
    ],
)
def test_not_a_command(body: str) -> None:
    assert parse_commands(body, RINGS) == ()


def test_no_body_has_no_commands() -> None:
    assert parse_commands(None, RINGS) == ()


def test_a_command_after_a_closed_fence_counts() -> None:
    body = "```\n/promote production\n```\n/promote internal"
    assert parse_commands(body, RINGS) == (
        Command("promote", ring="internal", line="/promote internal"),
    )


def test_a_command_after_a_closed_html_comment_counts() -> None:
    body = "<!--\n/promote production\n-->\n/status"
    assert parse_commands(body, RINGS) == (Command("status", line="/status"),)


def test_a_trailing_html_comment_is_not_part_of_the_command() -> None:
    assert one("/promote internal <!-- from the template -->") == Command(
        "promote", ring="internal", line="/promote internal"
    )


def test_windows_line_endings() -> None:
    assert parse_commands("/status\r\n/help\r\n", RINGS) == (
        Command("status", line="/status"),
        Command("help", line="/help"),
    )


# -- several commands ----------------------------------------------------------------------------


def test_several_commands_keep_their_order() -> None:
    body = "Shipping this.\n/approve internal\n/promote early-adopters\n/status\n"
    assert [result.line for result in parse_commands(body, RINGS)] == [
        "/approve internal",
        "/promote early-adopters",
        "/status",
    ]


def test_errors_sit_between_commands_in_order() -> None:
    body = "/status\n/promote\n/help"
    results = parse_commands(body, RINGS)
    assert [type(result).__name__ for result in results] == ["Command", "CommandError", "Command"]


def test_the_same_command_in_another_case_counts_once() -> None:
    body = "/promote internal\n/Promote Internal"
    assert parse_commands(body, RINGS) == (
        Command("promote", ring="internal", line="/promote internal"),
    )


def test_exact_duplicate_lines_count_once() -> None:
    body = "/promote internal\n/status\n/promote internal\n  /promote internal"
    assert parse_commands(body, RINGS) == (
        Command("promote", ring="internal", line="/promote internal"),
        Command("status", line="/status"),
    )


def test_a_comment_runs_at_most_a_fixed_number_of_commands() -> None:
    body = "\n".join(f"/reject reason {number}" for number in range(MAX_COMMANDS + 3))
    results = parse_commands(body, RINGS)
    assert len(results) == MAX_COMMANDS + 1
    assert results[-1] == CommandError(
        f"/reject reason {MAX_COMMANDS}",
        f"a comment runs at most {MAX_COMMANDS} commands; put the rest in another one",
    )


# -- labels --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("promote:internal", Command("promote", ring="internal", line="promote:internal")),
        ("Promote:Production", Command("promote", ring="production", line="Promote:Production")),
        ("promote: dev", Command("promote", ring="dev", line="promote: dev")),
        (
            "promote:prod",
            CommandError(
                "promote:prod",
                f"label `promote:prod`: unknown ring `prod` (did you mean `production`?). "
                f"{RING_LIST}",
            ),
        ),
        (
            "promote:",
            CommandError("promote:", f"label `promote:`: no ring given. {RING_LIST}"),
        ),
        ("bug", None),
        ("promoted", None),
        ("do-not-merge", None),
    ],
    ids=[
        "promote-label",
        "any-case",
        "space-after-colon",
        "unknown-ring",
        "no-ring",
        "other-label",
        "similar-label",
        "blocking-label",
    ],
)
def test_parse_label(label: str, expected: Command | CommandError | None) -> None:
    assert parse_label(label, RINGS) == expected


# -- help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", COMMANDS)
def test_help_lists_every_command_on_its_own_line(name: str) -> None:
    lines = [
        line for line in HELP.splitlines() if line.startswith((f"- `/{name}`", f"- `/{name} "))
    ]
    assert len(lines) == 1


def test_help_mentions_promote_labels() -> None:
    assert "`promote:<ring>`" in HELP


def test_the_command_names_are_the_spec_ones() -> None:
    assert set(COMMANDS) == {
        "promote",
        "approve",
        "reject",
        "rollback",
        "feature",
        "features",
        "status",
        "help",
    }
