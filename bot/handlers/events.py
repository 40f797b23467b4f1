"""What every triage handler reads off a webhook payload."""

from __future__ import annotations

from gidgethub import sansio

from ..config import CONFIG_PATH


def installation(event: sansio.Event) -> int:
    """The installation the delivery is for."""
    return int(event.data["installation"]["id"])


def repo(event: sansio.Event) -> str:
    """The repository's owner/name."""
    return str(event.data["repository"]["full_name"])


def default_branch(event: sansio.Event) -> str:
    """The repository's default branch."""
    return str(event.data["repository"].get("default_branch") or "main")


def pushed_to_default_branch(event: sansio.Event) -> bool:
    """A `push` to the default branch."""
    return bool(event.data.get("ref") == f"refs/heads/{default_branch(event)}")


def config_changed(event: sansio.Event) -> bool:
    """A `push` to the default branch that added, changed or removed `.github/ringbot.yml`."""
    if not pushed_to_default_branch(event):
        return False
    for commit in event.data.get("commits") or []:
        for key in ("added", "modified", "removed"):
            if CONFIG_PATH in (commit.get(key) or []):
                return True
    return False


# A deployment in these states has not settled: its next status says how it ended.
UNSETTLED = frozenset({"queued", "pending", "in_progress"})


def deployment_settled(event: sansio.Event, app_id: int) -> bool:
    """A `deployment_status` that ends a deploy (success, failure, error, inactive), or one of
    the App's own ledger entries (a sign-off, a rejection: it repeats the deploy's state).

    Nothing ringbot shows or decides changes while a deploy is under way, so the CD's statuses
    in between cost no job: the one that settles it is read with everything else.
    """
    status = event.data.get("deployment_status") or {}
    via = int((status.get("performed_via_github_app") or {}).get("id") or 0)
    return via == app_id or str(status.get("state") or "").lower() not in UNSETTLED
