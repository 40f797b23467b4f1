"""The merge-gate check run's title and markdown summary."""

from __future__ import annotations

import pytest

from bot.messages.gate import ERRORS_SHOWN, LINKS_SHOWN, SUMMARY_LIMIT, render_gate
from bot.models import Mark
from bot.policy.gate import GateDecision

from .builders.gate_inputs import decision, requirement

HEADER = "| | Requirement | Detail |\n|---|---|---|\n"


PASSING = decision(
    requirement(key="draft", title="Draft", detail="ready for review"),
    requirement(),
    requirement(key="approvals", title="Approvals", detail="approved by @alice"),
)

PENDING = decision(
    requirement(key="draft", title="Draft", detail="ready for review"),
    requirement(
        mark=Mark.PENDING,
        detail="waiting for `build` to finish",
        action="wait for the checks to finish",
    ),
    requirement(
        key="approvals",
        title="Approvals",
        mark=Mark.PENDING,
        detail="needs 1 more approval from someone with write access",
        action="ask a reviewer with write access to approve",
    ),
    status="in_progress",
    conclusion=None,
    title="Waiting for build and 1 more approval",
)

FAILING = decision(
    requirement(
        key="approvals",
        title="Approvals",
        mark=Mark.PENDING,
        detail="needs 1 more approval from someone with write access",
        action="ask a reviewer with write access to approve",
    ),
    requirement(
        mark=Mark.FAIL,
        detail="2 checks failed: `build` (failure) and `lint` (cancelled)",
        links=(("build", "https://github.com/acme/app/runs/1"), ("lint", "https://x/l")),
        action="fix the failing checks and push, or re-run them",
    ),
    status="completed",
    conclusion="failure",
    title="2 checks failed",
)

CONFIG = decision(
    requirement(
        key="config",
        title="Configuration",
        mark=Mark.FAIL,
        detail="`.github/ringbot.yml` is invalid (2 errors); ringbot will not act until it is fixed",
        action="fix `.github/ringbot.yml` on the default branch",
        errors=(
            "rings[2].bake: '2 days' is not a duration like 36h (line 14)",
            "merge_gate.approvals: must be a whole number (line 2)",
        ),
    ),
    conclusion="failure",
    title="Invalid .github/ringbot.yml (2 errors)",
)


@pytest.mark.parametrize(
    ("given", "title", "summary"),
    [
        pytest.param(
            PASSING,
            "Ready to merge",
            HEADER + "| ✅ | Draft | ready for review |\n"
            "| ✅ | Builds | `build` passed |\n"
            "| ✅ | Approvals | approved by @alice |\n"
            "\n"
            "What to do next: nothing; every requirement is met.",
            id="passing",
        ),
        pytest.param(
            PENDING,
            "Waiting for build and 1 more approval",
            HEADER + "| ✅ | Draft | ready for review |\n"
            "| ⏳ | Builds | waiting for `build` to finish |\n"
            "| ⏳ | Approvals | needs 1 more approval from someone with write access |\n"
            "\n"
            "What to do next: Wait for the checks to finish.",
            id="pending",
        ),
        pytest.param(
            FAILING,
            "2 checks failed",
            HEADER + "| ⏳ | Approvals | needs 1 more approval from someone with write access |\n"
            "| ❌ | Builds | 2 checks failed: `build` (failure) and `lint` (cancelled)"
            "<br>[build](https://github.com/acme/app/runs/1), [lint](https://x/l) |\n"
            "\n"
            # A failure comes before a pending requirement listed above it.
            "What to do next: Fix the failing checks and push, or re-run them.",
            id="failing",
        ),
        pytest.param(
            CONFIG,
            "Invalid .github/ringbot.yml (2 errors)",
            HEADER + "| ❌ | Configuration | `.github/ringbot.yml` is invalid (2 errors); "
            "ringbot will not act until it is fixed |\n"
            "\n"
            "**`.github/ringbot.yml` is invalid** (2 errors):\n"
            "\n"
            "```text\n"
            "rings[2].bake: '2 days' is not a duration like 36h (line 14)\n"
            "merge_gate.approvals: must be a whole number (line 2)\n"
            "```\n"
            "\n"
            "ringbot will not act on this repository until `.github/ringbot.yml` is fixed.\n"
            "\n"
            "What to do next: Fix `.github/ringbot.yml` on the default branch.",
            id="config-errors",
        ),
    ],
)
def test_render(given: GateDecision, title: str, summary: str) -> None:
    assert render_gate(given) == (title, summary)


def test_config_errors_from_the_policy_keep_their_line_numbers() -> None:
    from bot.config import DEFAULT_CONFIG, ConfigError, ConfigErrors
    from bot.models import PullRequest
    from bot.policy.gate import GateInput, evaluate_gate

    errors = ConfigErrors(
        errors=(
            ConfigError("rings[2].bake", "'2 days' is not a duration like 36h", 14),
            ConfigError("", "the file is not valid YAML", 3),
        )
    )
    pull = PullRequest("acme/app", 1, "author", "a" * 40, "main", "main")
    assert DEFAULT_CONFIG.merge_gate.approvals == 1
    _, summary = render_gate(evaluate_gate(GateInput(pull, (), (), errors)))
    assert "rings[2].bake: '2 days' is not a duration like 36h (line 14)\n" in summary
    assert "\nthe file is not valid YAML (line 3)\n" in summary
    assert (
        "ringbot will not act on this repository until `.github/ringbot.yml` is fixed." in summary
    )


def test_action_falls_back_to_detail() -> None:
    given = decision(requirement(mark=Mark.FAIL, detail="remove the label `hold`"))
    assert render_gate(given)[1].endswith("What to do next: Remove the label `hold`.")


@pytest.mark.parametrize(
    ("links", "cell"),
    [
        pytest.param((("build", ""),), "`build`", id="no-url"),
        pytest.param((("a|b", "https://x/1"),), "[a\\|b](https://x/1)", id="pipe-in-name"),
        pytest.param((("[x]", "https://x/1"),), "[\\[x\\]](https://x/1)", id="brackets-in-name"),
        pytest.param(
            (("run", "https://x/a b(c)|d"),), "[run](https://x/a%20b%28c%29%7Cd)", id="odd-url"
        ),
    ],
)
def test_links_are_safe_in_a_table_cell(links: tuple[tuple[str, str], ...], cell: str) -> None:
    given = decision(requirement(mark=Mark.FAIL, detail="failed", links=links))
    assert f"| ❌ | Builds | failed<br>{cell} |\n" in render_gate(given)[1]


def test_detail_with_pipes_and_newlines_stays_in_its_cell() -> None:
    given = decision(requirement(detail="`a|b`\npassed"))
    assert "| ✅ | Builds | `a\\|b` passed |\n" in render_gate(given)[1]


def test_title_is_one_line() -> None:
    given = decision(title="Waiting\nfor   build")
    assert render_gate(given)[0] == "Waiting for build"


def test_many_links_are_cut_short() -> None:
    links = tuple((f"job-{i:03}", f"https://x/{i}") for i in range(LINKS_SHOWN + 80))
    given = decision(requirement(mark=Mark.FAIL, detail="100 checks failed", links=links))
    summary = render_gate(given)[1]
    assert f"[job-{LINKS_SHOWN - 1:03}](https://x/{LINKS_SHOWN - 1})" in summary
    assert f"job-{LINKS_SHOWN:03}" not in summary
    assert f"[job-{LINKS_SHOWN - 1:03}](https://x/{LINKS_SHOWN - 1}), … and 80 more |" in summary


def test_many_config_errors_are_cut_short() -> None:
    errors = tuple(f"rings[{i}].bake: bad (line {i + 1})" for i in range(ERRORS_SHOWN + 5))
    given = decision(requirement(key="config", mark=Mark.FAIL, detail="invalid", errors=errors))
    summary = render_gate(given)[1]
    assert (
        f"rings[{ERRORS_SHOWN - 1}].bake: bad (line {ERRORS_SHOWN})\n… and 5 more\n```" in summary
    )
    assert f"rings[{ERRORS_SHOWN}]" not in summary


def test_backticks_in_errors_do_not_break_the_fence() -> None:
    errors = ("rings[0].name: '```' is not a ring name (line 4)",)
    given = decision(requirement(key="config", mark=Mark.FAIL, detail="invalid", errors=errors))
    summary = render_gate(given)[1]
    assert f"````text\n{errors[0]}\n````\n" in summary


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(
            decision(
                *(
                    requirement(
                        key=f"k{i}",
                        mark=Mark.FAIL,
                        detail="x" * 50_000,
                        links=tuple(
                            (f"{'n' * 200}{j}", "https://x/" + "u" * 900) for j in range(50)
                        ),
                    )
                    for i in range(6)
                )
            ),
            id="huge-rows",
        ),
        pytest.param(
            decision(
                requirement(
                    key="config",
                    mark=Mark.FAIL,
                    detail="invalid",
                    action="fix it",
                    errors=tuple("e" * 5_000 + f" (line {i})" for i in range(10_000)),
                ),
                *(requirement(key=f"k{i}", detail="y" * 2_000) for i in range(40)),
            ),
            id="cut-inside-the-errors",
        ),
    ],
)
def test_summary_always_fits(given: GateDecision) -> None:
    summary = render_gate(given)[1]
    assert len(summary) < SUMMARY_LIMIT
    assert summary.splitlines()[-1].startswith("What to do next: ")
    # Fences stay balanced, so the last line is not swallowed by a code block.
    assert sum(line.startswith("```") for line in summary.splitlines()) % 2 == 0


def test_huge_summary_is_marked_truncated() -> None:
    rows = tuple(requirement(key=f"k{i}", detail="z" * 900) for i in range(200))
    summary = render_gate(decision(*rows))[1]
    assert len(summary) < SUMMARY_LIMIT
    assert "… (truncated: the full text is longer than GitHub allows)" in summary
    assert summary.endswith("What to do next: nothing; every requirement is met.")
