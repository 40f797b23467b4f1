"""Webhook payloads, built from the REST shapes like GitHub builds them."""

from __future__ import annotations

from bot.sim import shapes
from bot.sim.shapes import iso, node_id
from bot.sim.state import JSON, Comment, Commit, PullRequest, Repo, Review, Status, User

# pull_request_review webhooks spell review states in lower case.
REVIEW_STATE = {"APPROVED": "approved", "CHANGES_REQUESTED": "changes_requested"}


def envelope(api: str, r: Repo, sender: User, action: str | None) -> JSON:
    """The fields every repository event carries."""
    out: JSON = {} if action is None else {"action": action}
    out["repository"] = shapes.repository(api, r)
    out["sender"] = shapes.user(api, sender)
    if r.installation_id is not None:
        out["installation"] = {
            "id": r.installation_id,
            "node_id": node_id("Installation", r.installation_id),
        }
    return out


def push_commit(api: str, r: Repo, c: Commit, parent: Commit | None) -> JSON:
    """One commit of a push payload, with added/removed/modified paths."""
    old = parent.files if parent else {}
    person = {
        "name": c.author.login,
        "email": f"{c.author.login}@users.noreply.sim",
        "username": c.author.login,
    }
    return {
        "id": c.sha,
        "tree_id": c.tree_sha,
        "distinct": True,
        "message": c.message,
        "timestamp": iso(c.date),
        "url": f"{api}/{r.full_name}/commit/{c.sha}",
        "author": person,
        "committer": person,
        "added": sorted(p for p in c.files if p not in old),
        "removed": sorted(p for p in old if p not in c.files),
        "modified": sorted(p for p in c.files if p in old and old[p] != c.files[p]),
    }


def push(api: str, r: Repo, pusher: User, ref: str, before: str, commits: list[Commit]) -> JSON:
    """push: `commits` are the new commits, oldest first."""
    after = commits[-1].sha if commits else before
    created = before == "0" * 40
    items = [
        push_commit(api, r, c, r.commits.get(c.parents[0]) if c.parents else None) for c in commits
    ]
    repo = shapes.repository(api, r)
    # The push payload's repository has a few extra legacy fields.
    repo.update({"stargazers": 0, "master_branch": r.default_branch})
    return {
        **envelope(api, r, pusher, None),
        "repository": repo,
        "ref": ref,
        "before": before,
        "after": after,
        "created": created,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": f"{api}/{r.full_name}/compare/{before[:12]}...{after[:12]}",
        "commits": items,
        "head_commit": items[-1] if items else None,
        "pusher": {"name": pusher.login, "email": f"{pusher.login}@users.noreply.sim"},
    }


def pull_request(
    api: str, r: Repo, head_repo: Repo, p: PullRequest, sender: User, action: str
) -> JSON:
    """pull_request with any action; callers add before/after, label, etc."""
    base_sha = r.branches.get(p.base_ref, p.head_sha)
    return {
        **envelope(api, r, sender, action),
        "number": p.number,
        "pull_request": shapes.pull_request(api, r, head_repo, base_sha, p),
    }


def review(api: str, r: Repo, head_repo: Repo, p: PullRequest, rv: Review, action: str) -> JSON:
    """pull_request_review submitted/dismissed."""
    base_sha = r.branches.get(p.base_ref, p.head_sha)
    body = shapes.review(api, r, rv)
    body["state"] = REVIEW_STATE.get(rv.state, rv.state.lower())
    return {
        **envelope(api, r, rv.user, action),
        "review": body,
        "pull_request": shapes.pull_request_simple(api, r, head_repo, base_sha, p),
    }


def issue(api: str, r: Repo, p: PullRequest) -> JSON:
    """The issue side of a pull request (carries the `pull_request` key)."""
    url = f"{api}/repos/{r.full_name}/issues/{p.number}"
    labels = [shapes.label(api, r, lab) for name in p.labels if (lab := r.label(name))]
    comments = sum(1 for c in r.comments.values() if c.number == p.number)
    return {
        "url": url,
        "repository_url": f"{api}/repos/{r.full_name}",
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{api}/{r.full_name}/pull/{p.number}",
        "id": p.id,
        "node_id": node_id("PullRequest", p.id),
        "number": p.number,
        "title": p.title,
        "user": shapes.user(api, p.user),
        "labels": labels,
        "state": p.state,
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": comments,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "closed_at": iso(p.closed_at),
        "author_association": shapes.author_association(r, p.user.login),
        "active_lock_reason": None,
        "draft": p.draft,
        "body": p.body,
        "reactions": {
            "url": f"{url}/reactions",
            "total_count": 0,
            **dict.fromkeys(
                ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0
            ),
        },
        "timeline_url": f"{url}/timeline",
        "performed_via_github_app": None,
        "state_reason": None,
        "pull_request": {
            "url": f"{api}/repos/{r.full_name}/pulls/{p.number}",
            "html_url": f"{api}/{r.full_name}/pull/{p.number}",
            "diff_url": f"{api}/{r.full_name}/pull/{p.number}.diff",
            "patch_url": f"{api}/{r.full_name}/pull/{p.number}.patch",
            "merged_at": iso(p.merged_at),
        },
    }


def issue_comment(api: str, r: Repo, p: PullRequest, c: Comment, sender: User, action: str) -> JSON:
    """issue_comment created/edited on a pull request."""
    return {
        **envelope(api, r, sender, action),
        "issue": issue(api, r, p),
        "comment": shapes.issue_comment(api, r, c),
    }


def status(api: str, r: Repo, s: Status) -> JSON:
    """status: the commit, the branches containing it, and the new state."""
    c = r.commits[s.sha]
    body = shapes.commit(api, r, c)
    body["commit"]["author"] = shapes.git_person(c)
    body["commit"]["committer"] = shapes.git_person(c)
    branches = [
        {
            "name": b,
            "commit": {"sha": sha, "url": f"{api}/repos/{r.full_name}/commits/{sha}"},
            "protected": b == r.default_branch,
        }
        for b, sha in sorted(r.branches.items())
        if s.sha in r.ancestors(sha)
    ]
    return {
        **envelope(api, r, s.creator, None),
        "id": s.id,
        "sha": s.sha,
        "name": r.full_name,
        "target_url": s.target_url,
        "avatar_url": f"{api}/avatars/u/{s.creator.id}?v=4",
        "context": s.context,
        "description": s.description,
        "state": s.state,
        "commit": body,
        "branches": branches,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.created_at),
    }


def merge_group(
    api: str, r: Repo, sender: User, head_ref: str, head: Commit, base_ref: str
) -> JSON:
    """merge_group checks_requested."""
    return {
        **envelope(api, r, sender, "checks_requested"),
        "merge_group": {
            "head_sha": head.sha,
            "head_ref": head_ref,
            "base_sha": head.parents[0],
            "base_ref": base_ref,
            "head_commit": shapes.simple_commit(head),
        },
    }
