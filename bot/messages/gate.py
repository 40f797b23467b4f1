"""Render a merge-gate decision as the title and markdown summary of its check run."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.config import CONFIG_PATH
from bot.messages.text import code, inert
from bot.models import Mark
from bot.policy.gate import GateDecision, Requirement

# The check-run writer cuts whatever is still over GitHub's limit (65 535 bytes); trimming whole
# lines here first, below it, keeps the table and the next step readable.
SUMMARY_LIMIT = 60_000
LINKS_SHOWN = 20
ERRORS_SHOWN = 50
_CELL_CHARS = 1_000
_ERROR_CHARS = 500
_LINK_NAME_CHARS = 100
_URL_CHARS = 1_000
_TITLE_CHARS = 250

_BACKTICKS = re.compile(r"`+")

ICONS = {Mark.PASS: "✅", Mark.PENDING: "⏳", Mark.FAIL: "❌"}


def render_gate(decision: GateDecision) -> tuple[str, str]:
    """Return the check run's (title, summary markdown) for a decision."""
    title = _clip(" ".join(decision.title.split()), _TITLE_CHARS)
    body = ["| | Requirement | Detail |", "|---|---|---|"]
    body += [_row(requirement) for requirement in decision.requirements]
    fence = ""
    for requirement in decision.requirements:
        if requirement.key == "config" and requirement.mark is not Mark.PASS:
            lines, fence = _config_errors(requirement.errors, requirement.error_count)
            body += ["", *lines]
    tail = ["", f"What to do next: {_next_step(decision.requirements)}"]
    return title, _fit(body, tail, fence)


def _row(requirement: Requirement) -> str:
    """One table row: icon, requirement, detail and any links."""
    cell = _cell(_clip(requirement.detail, _CELL_CHARS))
    if requirement.links:
        cell += "<br>" + _links(requirement.links)
    return f"| {ICONS[requirement.mark]} | {_cell(requirement.title)} | {cell} |"


def _links(links: Sequence[tuple[str, str]]) -> str:
    """Links to (say) failing checks, cut short with "… and N more"."""
    shown = [_link(name, url) for name, url in links[:LINKS_SHOWN]]
    if len(links) > LINKS_SHOWN:
        shown.append(f"… and {len(links) - LINKS_SHOWN} more")
    return ", ".join(shown)


def _link(name: str, url: str) -> str:
    """A markdown link, or the bare name in code when there is no usable URL."""
    # Check names come from other apps: shown inertly, and never ending the cell or the link.
    name = _clip(name, _LINK_NAME_CHARS)
    if not url or len(url) > _URL_CHARS:
        return code(name, table=True)
    text = inert(name).replace("&#124;", "|").replace("[", "\\[").replace("]", "\\]")
    # Percent-encode what would end the link or the table cell early.
    target = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return _cell(f"[{text}]({target.replace('|', '%7C')})")


def _config_errors(errors: Sequence[str], total: int = 0) -> tuple[list[str], str]:
    """The exact configuration errors in a fenced block, what ringbot does meanwhile, the fence."""
    # Errors are shown exactly, but one per line.
    shown = [_clip(" ".join(error.splitlines()), _ERROR_CHARS) for error in errors[:ERRORS_SHOWN]]
    if len(errors) > ERRORS_SHOWN:
        shown.append(f"… and {len(errors) - ERRORS_SHOWN} more")
    fence = "`" * max(3, _longest_backtick_run(shown) + 1)
    total = total or len(errors)
    count = f"{total:,} error" if total == 1 else f"{total:,} errors"
    lines = [
        f"**`{CONFIG_PATH}` is invalid** ({count}):",
        "",
        f"{fence}text",
        *shown,
        fence,
        "",
        f"ringbot will not act on this repository until `{CONFIG_PATH}` is fixed.",
    ]
    return lines, fence


def _next_step(requirements: Sequence[Requirement]) -> str:
    """What to do about the first failing requirement, else the first pending one."""
    for mark in (Mark.FAIL, Mark.PENDING):
        for requirement in requirements:
            if requirement.mark is mark:
                step = _clip(" ".join((requirement.action or requirement.detail).split()), 2_000)
                step = step[:1].upper() + step[1:]
                return step if step.endswith((".", "…")) else step + "."
    return "nothing; every requirement is met."


def _fit(body: list[str], tail: list[str], fence: str) -> str:
    """Join the summary, dropping whole lines from the end of the body if it is too long."""
    text = "\n".join([*body, *tail])
    if len(text) <= SUMMARY_LIMIT:
        return text
    marker = "… (truncated: the full text is longer than GitHub allows)"
    budget = SUMMARY_LIMIT - len("\n".join(tail)) - len(marker) - 20
    kept: list[str] = []
    used = 0
    for line in body:
        line = _clip(line, budget)
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    # Close a fence the cut left open, or the rest of the summary would render as code.
    # No error line can equal the fence: the fence is longer than any run of backticks in them.
    if fence and sum(line in (fence, f"{fence}text") for line in kept) % 2:
        kept.append(fence)
    return "\n".join([*kept, "", marker, *tail])


def _cell(text: str) -> str:
    """Make text safe inside one markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _clip(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _longest_backtick_run(lines: Sequence[str]) -> int:
    """The longest run of backticks in any line, so a fence can be made longer than it."""
    return max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
