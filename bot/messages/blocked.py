"""What people see when ringbot cannot move a release into a ring for a reason only they can fix."""

from __future__ import annotations

from typing import Final

BLOCKED_HEADING: Final = "### ⛔ ringbot cannot deploy this release"
BLOCKED_TITLE: Final = "Blocked before "  # + the ring: the release check run's title


def render_blocked(ring: str, sha: str, problem: str) -> str:
    """The notice: which ring, which release, what is wrong and how to fix it."""
    return "\n".join(
        [
            BLOCKED_HEADING,
            "",
            f"`{sha[:7]}` cannot enter **{ring}**: {problem}.",
            "",
            "ringbot tries again on the next event about this repository (a push, a build, a "
            "deployment status), so once it is fixed the release moves on by itself.",
        ]
    )


def render_blocked_check(ring: str, sha: str, problem: str) -> tuple[str, str]:
    """(title, summary) of the release check run while the release is blocked."""
    return f"{BLOCKED_TITLE}{ring}", render_blocked(ring, sha, problem)
