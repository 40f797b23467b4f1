"""Specification of slash-command and `promote:<ring>` label parsing (SPEC "Commands")."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import replace

import pytest

from bot.commands import (
    COMMANDS,
    HELP,
    MAX_COMMANDS,
    USAGE,
    Approve,
    Command,
    CommandError,
    Freeze,
    Help,
    Hotfix,
    ListFeatures,
    Promote,
    Reject,
    Rollback,
    SetFeature,
    Status,
    Unfreeze,
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
        ("/promote internal", Promote(ring="internal")),
        ("/approve", Approve()),
        ("/approve production", Approve(ring="production")),
        ("/reject broken login", Reject(reason="broken login")),
        ("/reject internal broken login", Reject(ring="internal", reason="broken login")),
        ("/rollback production", Rollback(ring="production")),
        ("/feature new-grid on dev", SetFeature(flag="new-grid", enabled=True, ring="dev")),
        (
            "/feature new-grid off production",
            SetFeature(flag="new-grid", enabled=False, ring="production"),
        ),
        ("/features", ListFeatures()),
        ("/status", Status()),
        ("/help", Help()),
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
        ("/PROMOTE internal", Promote(ring="internal", line="/PROMOTE internal")),
        ("/Promote Internal", Promote(ring="internal", line="/Promote Internal")),
        ("   /status", Status(line="/status")),
        ("/promote\tinternal", Promote(ring="internal", line="/promote\tinternal")),
        ("/promote   internal   ", Promote(ring="internal", line="/promote   internal")),
        (
            "/feature Dark_Mode ON dev",
            SetFeature(
                flag="Dark_Mode", enabled=True, ring="dev", line="/feature Dark_Mode ON dev"
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
    line = "/reject production  crashes on start: see #12 "
    assert one(line) == Reject(
        ring="production", reason="crashes on start: see #12", line=line.strip()
    )


def test_a_reason_that_starts_with_a_non_ring_word_has_no_ring() -> None:
    assert one("/reject prod is down") == Reject(
        ring=None, reason="prod is down", line="/reject prod is down"
    )


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
    assert parse_commands(body, RINGS) == (Promote(ring="internal", line="/promote internal"),)


def test_a_command_after_a_closed_html_comment_counts() -> None:
    body = "<!--\n/promote production\n-->\n/status"
    assert parse_commands(body, RINGS) == (Status(line="/status"),)


def test_a_trailing_html_comment_is_not_part_of_the_command() -> None:
    assert one("/promote internal <!-- from the template -->") == Promote(
        ring="internal", line="/promote internal"
    )


def test_windows_line_endings() -> None:
    assert parse_commands("/status\r\n/help\r\n", RINGS) == (
        Status(line="/status"),
        Help(line="/help"),
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
    assert results == (
        Status(line="/status"),
        CommandError("/promote", "/promote needs a ring: `/promote <ring>`"),
        Help(line="/help"),
    )


def test_the_same_command_in_another_case_counts_once() -> None:
    body = "/promote internal\n/Promote Internal"
    assert parse_commands(body, RINGS) == (Promote(ring="internal", line="/promote internal"),)


def test_exact_duplicate_lines_count_once() -> None:
    body = "/promote internal\n/status\n/promote internal\n  /promote internal"
    assert parse_commands(body, RINGS) == (
        Promote(ring="internal", line="/promote internal"),
        Status(line="/status"),
    )


def test_commands_of_different_kinds_are_never_duplicates() -> None:
    body = "/status\n/help\n/features\n/promote dev\n/rollback dev\n/approve dev"
    assert parse_commands(body, RINGS) == (
        Status(line="/status"),
        Help(line="/help"),
        ListFeatures(line="/features"),
        Promote(ring="dev", line="/promote dev"),
        Rollback(ring="dev", line="/rollback dev"),
        Approve(ring="dev", line="/approve dev"),
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
        ("promote:internal", Promote(ring="internal", line="promote:internal")),
        ("Promote:Production", Promote(ring="production", line="Promote:Production")),
        ("promote: dev", Promote(ring="dev", line="promote: dev")),
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
def test_parse_label(label: str, expected: Promote | CommandError | None) -> None:
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
        "freeze",
        "unfreeze",
        "hotfix",
    }


# -- the command types ---------------------------------------------------------------------------

# Each kind of command, with its name and one command of that kind.
KINDS: list[tuple[type[Command], str, Command]] = [
    (Promote, "promote", Promote(ring="dev")),
    (Approve, "approve", Approve()),
    (Reject, "reject", Reject(reason="broken")),
    (Rollback, "rollback", Rollback(ring="dev")),
    (SetFeature, "feature", SetFeature(flag="new-grid", enabled=True, ring="dev")),
    (ListFeatures, "features", ListFeatures()),
    (Status, "status", Status()),
    (Help, "help", Help()),
    (Freeze, "freeze", Freeze(ring=None, reason="incident")),
    (Unfreeze, "unfreeze", Unfreeze(ring="dev")),
    (Hotfix, "hotfix", Hotfix(ring="production")),
]


def test_a_command_is_exactly_one_of_the_eleven_kinds() -> None:
    assert set(typing.get_args(Command)) == {kind for kind, _, _ in KINDS}
    assert len(KINDS) == 11


def test_each_kind_has_its_own_usage_name() -> None:
    assert sorted(kind.name for kind, _, _ in KINDS) == sorted(USAGE)


@pytest.mark.parametrize(("kind", "name", "command"), KINDS, ids=[name for _, name, _ in KINDS])
def test_each_kind_is_a_frozen_command_named_for_its_usage(
    kind: type[Command], name: str, command: Command
) -> None:
    assert (kind.name, command.name) == (name, name)
    assert USAGE[command.name].split()[0] == f"/{name}"
    # The name belongs to the kind, not to each command, and every command has a line.
    assert "name" not in {field.name for field in dataclasses.fields(command)}
    assert command.line == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        command.line = "/other"  # type: ignore[misc]
