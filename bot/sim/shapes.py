"""State -> REST JSON, shaped like GitHub's OpenAPI description (every required field set)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bot.sim.state import (
    JSON,
    ROLE_PERMISSION,
    App,
    CheckRun,
    CheckSuite,
    Comment,
    Commit,
    Deployment,
    DeploymentStatus,
    Environment,
    Installation,
    Label,
    PullRequest,
    Reaction,
    Release,
    Repo,
    Review,
    Status,
    User,
    Variable,
    blob_sha,
)

DOCS = "https://docs.github.com/rest"
APP_PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "deployments": "write",
    "environments": "write",
    "issues": "write",
    "pull_requests": "write",
    "statuses": "read",
    "merge_queues": "read",
    "metadata": "read",
}


# Event names the webhook schemas accept in an app's `events` list; GitHub's own payloads
# leave newer ones (deployment_protection_rule) out of that list.
LISTED_EVENTS = {
    "check_run",
    "check_suite",
    "create",
    "delete",
    "deployment",
    "deployment_review",
    "deployment_status",
    "issue_comment",
    "issues",
    "label",
    "merge_group",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_review_thread",
    "push",
    "release",
    "repository",
    "status",
    "workflow_run",
    "workflow_job",
}


def iso(dt: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z suffix, as GitHub writes timestamps."""
    if dt is None:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, ident: int | str) -> str:
    """A GitHub-like opaque global node id."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def error(message: str, **extra: Any) -> JSON:
    """GitHub's error body."""
    return {"message": message, "documentation_url": DOCS, **extra}


def user(api: str, u: User) -> JSON:
    """simple-user."""
    # Bot logins ("ringbot[bot]") hold characters a URI must escape, as GitHub does.
    login = quote(u.login, safe="")
    url = f"{api}/users/{login}"
    return {
        "login": u.login,
        "id": u.id,
        "node_id": node_id("Bot" if u.type == "Bot" else "User", u.id),
        "avatar_url": f"{api}/avatars/u/{u.id}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{api}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": u.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def app(api: str, a: App) -> JSON:
    """integration (a GitHub App)."""
    return {
        "id": a.id,
        "slug": a.slug,
        "node_id": node_id("App", a.id),
        "client_id": f"Iv1.{a.id:016x}",
        "owner": user(api, a.owner),
        "name": a.name,
        "description": f"The {a.name} app",
        "external_url": f"{api}/apps/{a.slug}/home",
        "html_url": f"{api}/apps/{a.slug}",
        "created_at": iso(a.created_at),
        "updated_at": iso(a.created_at),
        "permissions": dict(APP_PERMISSIONS),
        "events": [e for e in a.events if e in LISTED_EVENTS],
    }


def installation(api: str, inst: Installation, a: App) -> JSON:
    """installation."""
    return {
        "id": inst.id,
        "client_id": f"Iv1.{a.id:016x}",
        # GET /app/installations describes `account` as allOf(simple-user, enterprise), so the
        # account also carries the enterprise fields to pass a strict (Prism) check.
        "account": {
            **user(api, inst.account),
            "name": inst.account.login,
            "slug": inst.account.login,
            "created_at": iso(inst.created_at),
            "updated_at": iso(inst.created_at),
        },
        "repository_selection": "all",
        "access_tokens_url": f"{api}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": f"{api}/settings/installations/{inst.id}",
        "app_id": a.id,
        "app_slug": a.slug,
        "target_id": inst.account.id,
        "target_type": "Organization" if inst.account.type == "Organization" else "User",
        "permissions": dict(APP_PERMISSIONS),
        "events": [e for e in a.events if e in LISTED_EVENTS],
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def repository(api: str, r: Repo) -> JSON:
    """full-repository; a superset of repository, minimal-repository and the webhook shape."""
    url = f"{api}/repos/{r.full_name}"
    html = f"{api}/{r.full_name}"
    open_issues = sum(1 for p in r.pulls.values() if p.state == "open")
    return {
        "id": r.id,
        "node_id": node_id("Repository", r.id),
        "name": r.name,
        "full_name": r.full_name,
        "owner": user(api, r.owner),
        "private": True,
        "visibility": "private",
        "html_url": html,
        "description": None,
        "fork": r.fork_of is not None,
        "url": url,
        "archive_url": f"{url}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{url}/assignees{{/user}}",
        "blobs_url": f"{url}/git/blobs{{/sha}}",
        "branches_url": f"{url}/branches{{/branch}}",
        "collaborators_url": f"{url}/collaborators{{/collaborator}}",
        "comments_url": f"{url}/comments{{/number}}",
        "commits_url": f"{url}/commits{{/sha}}",
        "compare_url": f"{url}/compare/{{base}}...{{head}}",
        "contents_url": f"{url}/contents/{{+path}}",
        "contributors_url": f"{url}/contributors",
        "deployments_url": f"{url}/deployments",
        "downloads_url": f"{url}/downloads",
        "events_url": f"{url}/events",
        "forks_url": f"{url}/forks",
        "git_commits_url": f"{url}/git/commits{{/sha}}",
        "git_refs_url": f"{url}/git/refs{{/sha}}",
        "git_tags_url": f"{url}/git/tags{{/sha}}",
        "git_url": f"git://sim/{r.full_name}.git",
        "issue_comment_url": f"{url}/issues/comments{{/number}}",
        "issue_events_url": f"{url}/issues/events{{/number}}",
        "issues_url": f"{url}/issues{{/number}}",
        "keys_url": f"{url}/keys{{/key_id}}",
        "labels_url": f"{url}/labels{{/name}}",
        "languages_url": f"{url}/languages",
        "merges_url": f"{url}/merges",
        "milestones_url": f"{url}/milestones{{/number}}",
        "notifications_url": f"{url}/notifications{{?since,all,participating}}",
        "pulls_url": f"{url}/pulls{{/number}}",
        "releases_url": f"{url}/releases{{/id}}",
        "ssh_url": f"git@sim:{r.full_name}.git",
        "stargazers_url": f"{url}/stargazers",
        "statuses_url": f"{url}/statuses/{{sha}}",
        "subscribers_url": f"{url}/subscribers",
        "subscription_url": f"{url}/subscription",
        "tags_url": f"{url}/tags",
        "teams_url": f"{url}/teams",
        "trees_url": f"{url}/git/trees{{/sha}}",
        "clone_url": f"{html}.git",
        "mirror_url": None,
        "hooks_url": f"{url}/hooks",
        "svn_url": html,
        "homepage": None,
        "language": "Python",
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": len(r.commits),
        "default_branch": r.default_branch,
        "open_issues_count": open_issues,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": True,
        "has_wiki": False,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "pushed_at": iso(r.pushed_at or r.created_at),
        "created_at": iso(r.created_at),
        "updated_at": iso(r.pushed_at or r.created_at),
        "allow_rebase_merge": True,
        "allow_squash_merge": True,
        "allow_merge_commit": True,
        "allow_auto_merge": False,
        "delete_branch_on_merge": False,
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "subscribers_count": 1,
        "network_count": 1,
        "license": None,
        "forks": 0,
        "open_issues": open_issues,
        "watchers": 0,
    }


def label(api: str, r: Repo, lab: Label) -> JSON:
    """label."""
    return {
        "id": lab.id,
        "node_id": node_id("Label", lab.id),
        # A name is one path segment, percent-encoded like GitHub's ("…", spaces, "/").
        "url": f"{api}/repos/{r.full_name}/labels/{quote(lab.name, safe=':')}",
        "name": lab.name,
        "description": lab.description,
        "color": lab.color,
        "default": False,
    }


def _pr_urls(api: str, r: Repo, n: int) -> JSON:
    url = f"{api}/repos/{r.full_name}/pulls/{n}"
    return {
        "url": url,
        "html_url": f"{api}/{r.full_name}/pull/{n}",
        "diff_url": f"{api}/{r.full_name}/pull/{n}.diff",
        "patch_url": f"{api}/{r.full_name}/pull/{n}.patch",
        "issue_url": f"{api}/repos/{r.full_name}/issues/{n}",
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{api}/repos/{r.full_name}/pulls/comments{{/number}}",
        "comments_url": f"{api}/repos/{r.full_name}/issues/{n}/comments",
    }


def _links(urls: JSON, statuses_url: str) -> JSON:
    return {
        "self": {"href": urls["url"]},
        "html": {"href": urls["html_url"]},
        "issue": {"href": urls["issue_url"]},
        "comments": {"href": urls["comments_url"]},
        "review_comments": {"href": urls["review_comments_url"]},
        "review_comment": {"href": urls["review_comment_url"]},
        "commits": {"href": urls["commits_url"]},
        "statuses": {"href": statuses_url},
    }


def author_association(r: Repo, login: str) -> str:
    """OWNER, COLLABORATOR or NONE: what GitHub would show (never trusted by the bot)."""
    if login == r.owner.login:
        return "OWNER"
    return "COLLABORATOR" if login in r.collaborators else "NONE"


def pull_request_simple(api: str, r: Repo, head_repo: Repo, base_sha: str, p: PullRequest) -> JSON:
    """pull-request-simple (list items)."""
    urls = _pr_urls(api, r, p.number)
    statuses_url = f"{api}/repos/{r.full_name}/statuses/{p.head_sha}"
    labels = [label(api, r, lab) for name in p.labels if (lab := r.label(name))]
    return {
        **urls,
        "id": p.id,
        "node_id": node_id("PullRequest", p.id),
        "statuses_url": statuses_url,
        "number": p.number,
        "state": p.state,
        "locked": False,
        "title": p.title,
        "user": user(api, p.user),
        "body": p.body,
        "labels": labels,
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "closed_at": iso(p.closed_at),
        "merged_at": iso(p.merged_at),
        "merge_commit_sha": p.merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": {
            "label": f"{head_repo.owner.login}:{p.head_ref}",
            "ref": p.head_ref,
            "sha": p.head_sha,
            "user": user(api, head_repo.owner),
            "repo": repository(api, head_repo),
        },
        "base": {
            "label": f"{r.owner.login}:{p.base_ref}",
            "ref": p.base_ref,
            "sha": base_sha,
            "user": user(api, r.owner),
            "repo": repository(api, r),
        },
        "_links": _links(urls, statuses_url),
        "author_association": author_association(r, p.user.login),
        "auto_merge": None,
        "draft": p.draft,
    }


def pull_request(api: str, r: Repo, head_repo: Repo, base_sha: str, p: PullRequest) -> JSON:
    """pull-request (single PR, and the webhook pull_request object)."""
    merge_base = r.merge_base(base_sha, p.head_sha) or base_sha
    changed = changed_files(r, merge_base, p.head_sha)
    comments = sum(1 for c in r.comments.values() if c.number == p.number)
    return {
        **pull_request_simple(api, r, head_repo, base_sha, p),
        "merged": p.merged,
        "mergeable": None if p.state == "closed" else True,
        "rebaseable": None if p.state == "closed" else True,
        "mergeable_state": "unknown" if p.state == "closed" else "clean",
        "merged_by": user(api, p.merged_by) if p.merged_by else None,
        "comments": comments,
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": max(1, len(p.commit_shas)),
        "additions": sum(v.count("\n") + 1 for v in changed.values() if v is not None),
        "deletions": 0,
        "changed_files": len(changed),
    }


def changed_files(r: Repo, base: str, head: str) -> dict[str, str | None]:
    """Files that differ between two commits (None = deleted in head)."""
    a, b = r.commits[base].files, r.commits[head].files
    out: dict[str, str | None] = {p: c for p, c in b.items() if a.get(p) != c}
    out.update({p: None for p in a if p not in b})
    return out


def review(api: str, r: Repo, rv: Review) -> JSON:
    """pull-request-review."""
    html = f"{api}/{r.full_name}/pull/{rv.number}#pullrequestreview-{rv.id}"
    pr_url = f"{api}/repos/{r.full_name}/pulls/{rv.number}"
    return {
        "id": rv.id,
        "node_id": node_id("PullRequestReview", rv.id),
        "user": user(api, rv.user),
        "body": rv.body,
        "state": rv.state,
        "html_url": html,
        "pull_request_url": pr_url,
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        "submitted_at": iso(rv.submitted_at),
        "commit_id": rv.commit_id,
        "author_association": author_association(r, rv.user.login),
    }


def pull_request_minimal(api: str, r: Repo, p: PullRequest) -> JSON:
    """pull-request-minimal, as listed on check runs and suites."""
    repo = {"id": r.id, "url": f"{api}/repos/{r.full_name}", "name": r.name}
    base_sha = r.branches.get(p.base_ref, p.head_sha)
    return {
        "id": p.id,
        "number": p.number,
        "url": f"{api}/repos/{r.full_name}/pulls/{p.number}",
        "head": {"ref": p.head_ref, "sha": p.head_sha, "repo": repo},
        "base": {"ref": p.base_ref, "sha": base_sha, "repo": repo},
    }


def open_pulls_for_sha(r: Repo, sha: str) -> list[PullRequest]:
    """Open same-repo pull requests whose head is `sha` (what check runs list)."""
    return [
        p
        for p in r.pulls.values()
        if p.state == "open" and p.head_sha == sha and p.head_repo == r.full_name
    ]


def check_run(api: str, r: Repo, run: CheckRun) -> JSON:
    """check-run."""
    out = run.output
    url = f"{api}/repos/{r.full_name}/check-runs/{run.id}"
    return {
        "id": run.id,
        "head_sha": run.head_sha,
        "node_id": node_id("CheckRun", run.id),
        "external_id": run.external_id,
        "url": url,
        "html_url": f"{api}/{r.full_name}/runs/{run.id}",
        "details_url": run.details_url or f"{api}/{r.full_name}/runs/{run.id}",
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": iso(run.started_at),
        "completed_at": iso(run.completed_at),
        "output": {
            "title": out.get("title"),
            "summary": out.get("summary"),
            "text": out.get("text"),
            "annotations_count": len(out.get("annotations") or []),
            "annotations_url": f"{url}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.suite_id},
        "app": app(api, run.app),
        "pull_requests": [
            pull_request_minimal(api, r, p) for p in open_pulls_for_sha(r, run.head_sha)
        ],
    }


def suite_conclusion(runs: list[CheckRun]) -> str | None:
    """A completed suite's conclusion: the worst of its runs."""
    if not runs or any(x.status != "completed" for x in runs):
        return None
    order = ["action_required", "cancelled", "timed_out", "failure", "neutral", "skipped"]
    for c in order:
        if any(x.conclusion == c for x in runs):
            return "failure" if c in ("timed_out",) else c
    return "success"


def check_suite(api: str, r: Repo, s: CheckSuite, runs: list[CheckRun]) -> JSON:
    """check-suite (REST shape; also the base of the webhook check_suite)."""
    c = r.commits[s.head_sha]
    done = bool(runs) and all(x.status == "completed" for x in runs)
    return {
        "id": s.id,
        "node_id": node_id("CheckSuite", s.id),
        "head_branch": s.head_branch,
        "head_sha": s.head_sha,
        "status": "completed" if done else ("in_progress" if runs else "queued"),
        "conclusion": suite_conclusion(runs),
        "url": f"{api}/repos/{r.full_name}/check-suites/{s.id}",
        "before": c.parents[0] if c.parents else "0" * 40,
        "after": s.head_sha,
        "pull_requests": [
            pull_request_minimal(api, r, p) for p in open_pulls_for_sha(r, s.head_sha)
        ],
        "app": app(api, s.app),
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
        "rerequestable": True,
        "runs_rerequestable": True,
        "latest_check_runs_count": len(runs),
        "check_runs_url": f"{api}/repos/{r.full_name}/check-suites/{s.id}/check-runs",
        "head_commit": simple_commit(c),
    }


def simple_commit(c: Commit) -> JSON:
    """simple-commit (merge groups, check suites)."""
    person = {"name": c.author.login, "email": f"{c.author.login}@users.noreply.sim"}
    return {
        "id": c.sha,
        "tree_id": c.tree_sha,
        "message": c.message,
        "timestamp": iso(c.date),
        "author": person,
        "committer": person,
    }


def status(api: str, r: Repo, s: Status) -> JSON:
    """status (and simple-commit-status, a subset)."""
    return {
        "url": f"{api}/repos/{r.full_name}/statuses/{s.sha}",
        "avatar_url": f"{api}/avatars/u/{s.creator.id}?v=4",
        "id": s.id,
        "node_id": node_id("StatusContext", s.id),
        "state": s.state,
        "description": s.description,
        "target_url": s.target_url,
        "context": s.context,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.created_at),
        "creator": user(api, s.creator),
    }


def latest_statuses(r: Repo, sha: str) -> list[Status]:
    """The newest status per context on a commit, newest first."""
    seen: dict[str, Status] = {}
    for s in sorted((s for s in r.statuses if s.sha == sha), key=lambda s: -s.id):
        seen.setdefault(s.context, s)
    return list(seen.values())


def combined_state(latest: list[Status]) -> str:
    """GitHub's combined state: failure beats pending beats success; no statuses is pending."""
    states = {s.state for s in latest}
    if states & {"failure", "error"}:
        return "failure"
    if not states or "pending" in states:
        return "pending"
    return "success"


def combined_status(api: str, r: Repo, sha: str) -> JSON:
    """combined-commit-status."""
    latest = latest_statuses(r, sha)
    simple = []
    for s in latest:
        body = status(api, r, s)
        body.pop("creator")
        simple.append(body)
    return {
        "state": combined_state(latest),
        "statuses": simple,
        "sha": sha,
        "total_count": len(latest),
        "repository": repository(api, r),
        "commit_url": f"{api}/repos/{r.full_name}/commits/{sha}",
        "url": f"{api}/repos/{r.full_name}/commits/{sha}/status",
    }


def collaborator_permission(api: str, u: User, role: str) -> JSON:
    """repository-collaborator-permission."""
    perm = ROLE_PERMISSION[role]
    rank = ["read", "triage", "write", "maintain", "admin"]
    have = rank.index(role) if role in rank else -1
    return {
        "permission": perm,
        "role_name": role,
        "user": {
            **user(api, u),
            "role_name": role,
            "permissions": {
                "pull": have >= 0,
                "triage": have >= 1,
                "push": have >= 2,
                "maintain": have >= 3,
                "admin": have >= 4,
            },
        },
    }


def reactions_summary(api: str, r: Repo, c: Comment) -> JSON:
    """reaction-rollup."""
    mine = [x for x in r.reactions if x.comment_id == c.id]
    out: JSON = {"url": f"{api}/repos/{r.full_name}/issues/comments/{c.id}/reactions"}
    out["total_count"] = len(mine)
    for k in ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"):
        out[k] = sum(1 for x in mine if x.content == k)
    return out


def issue_comment(api: str, r: Repo, c: Comment) -> JSON:
    """issue-comment."""
    return {
        "id": c.id,
        "node_id": node_id("IssueComment", c.id),
        "url": f"{api}/repos/{r.full_name}/issues/comments/{c.id}",
        "html_url": f"{api}/{r.full_name}/pull/{c.number}#issuecomment-{c.id}",
        "body": c.body,
        "user": user(api, c.user),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "issue_url": f"{api}/repos/{r.full_name}/issues/{c.number}",
        "author_association": author_association(r, c.user.login),
        "performed_via_github_app": app(api, c.via_app) if c.via_app else None,
        "reactions": reactions_summary(api, r, c),
    }


def reaction(api: str, x: Reaction) -> JSON:
    """reaction."""
    return {
        "id": x.id,
        "node_id": node_id("Reaction", x.id),
        "user": user(api, x.user),
        "content": x.content,
        "created_at": iso(x.created_at),
    }


def git_person(c: Commit) -> JSON:
    """git-user of a commit."""
    return {
        "name": c.author.login,
        "email": f"{c.author.login}@users.noreply.sim",
        "date": iso(c.date),
    }


def commit(api: str, r: Repo, c: Commit) -> JSON:
    """commit."""
    url = f"{api}/repos/{r.full_name}/commits/{c.sha}"
    return {
        "url": url,
        "sha": c.sha,
        "node_id": node_id("Commit", c.seq),
        "html_url": f"{api}/{r.full_name}/commit/{c.sha}",
        "comments_url": f"{url}/comments",
        "commit": {
            "url": f"{api}/repos/{r.full_name}/git/commits/{c.sha}",
            "author": git_person(c),
            "committer": git_person(c),
            "message": c.message,
            "comment_count": 0,
            "tree": {"sha": c.tree_sha, "url": f"{api}/repos/{r.full_name}/git/trees/{c.tree_sha}"},
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "payload": None,
                "signature": None,
                "verified_at": None,
            },
        },
        "author": user(api, c.author),
        "committer": user(api, c.author),
        "parents": [
            {
                "sha": p,
                "url": f"{api}/repos/{r.full_name}/commits/{p}",
                "html_url": f"{api}/{r.full_name}/commit/{p}",
            }
            for p in c.parents
        ],
    }


def compare(api: str, r: Repo, base: str, head: str, base_sha: str, head_sha: str) -> JSON:
    """commit-comparison: ahead/behind counts from the commit graph."""
    mb = r.merge_base(base_sha, head_sha) or base_sha
    ahead = r.ancestors(head_sha) - r.ancestors(base_sha)
    behind = r.ancestors(base_sha) - r.ancestors(head_sha)
    if base_sha == head_sha:
        state = "identical"
    elif not behind:
        state = "ahead"
    elif not ahead:
        state = "behind"
    else:
        state = "diverged"
    commits = sorted((r.commits[s] for s in ahead), key=lambda c: c.seq)
    basehead = f"{base}...{head}"
    return {
        "url": f"{api}/repos/{r.full_name}/compare/{basehead}",
        "html_url": f"{api}/{r.full_name}/compare/{basehead}",
        "permalink_url": f"{api}/{r.full_name}/compare/{base_sha}...{head_sha}",
        "diff_url": f"{api}/{r.full_name}/compare/{basehead}.diff",
        "patch_url": f"{api}/{r.full_name}/compare/{basehead}.patch",
        "base_commit": commit(api, r, r.commits[base_sha]),
        "merge_base_commit": commit(api, r, r.commits[mb]),
        "status": state,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(ahead),
        "commits": [commit(api, r, c) for c in commits],
        "files": [
            {
                "sha": blob_sha(content) if content is not None else "0" * 40,
                "filename": path,
                "status": "removed" if content is None else "modified",
                "additions": 0 if content is None else content.count("\n") + 1,
                "deletions": 0,
                "changes": 0 if content is None else content.count("\n") + 1,
                "blob_url": f"{api}/{r.full_name}/blob/{head_sha}/{path}",
                "raw_url": f"{api}/{r.full_name}/raw/{head_sha}/{path}",
                "contents_url": f"{api}/repos/{r.full_name}/contents/{path}?ref={head_sha}",
            }
            for path, content in sorted(changed_files(r, mb, head_sha).items())
        ],
    }


def content_file(api: str, r: Repo, path: str, content: str, ref: str) -> JSON:
    """content-file: base64 content wrapped at 60 columns like GitHub."""
    raw = base64.b64encode(content.encode()).decode()
    wrapped = "\n".join(raw[i : i + 60] for i in range(0, len(raw), 60)) + "\n"
    sha = blob_sha(content)
    url = f"{api}/repos/{r.full_name}/contents/{path}?ref={ref}"
    html = f"{api}/{r.full_name}/blob/{ref}/{path}"
    git = f"{api}/repos/{r.full_name}/git/blobs/{sha}"
    return {
        "type": "file",
        "encoding": "base64",
        "size": len(content.encode()),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "content": wrapped,
        "sha": sha,
        "url": url,
        "git_url": git,
        "html_url": html,
        "download_url": f"{api}/{r.full_name}/raw/{ref}/{path}",
        "_links": {"self": url, "git": git, "html": html},
    }


def deployment(api: str, r: Repo, d: Deployment) -> JSON:
    """deployment."""
    url = f"{api}/repos/{r.full_name}/deployments/{d.id}"
    return {
        "url": url,
        "id": d.id,
        "node_id": node_id("Deployment", d.id),
        "sha": d.sha,
        "ref": d.ref,
        "task": d.task,
        "payload": d.payload,
        "original_environment": d.environment,
        "environment": d.environment,
        "description": d.description,
        "creator": user(api, d.creator),
        "created_at": iso(d.created_at),
        "updated_at": iso(d.updated_at),
        "statuses_url": f"{url}/statuses",
        "repository_url": f"{api}/repos/{r.full_name}",
        "transient_environment": d.transient_environment,
        "production_environment": d.production_environment,
        "performed_via_github_app": app(api, d.via_app) if d.via_app else None,
    }


def deployment_status(api: str, r: Repo, s: DeploymentStatus) -> JSON:
    """deployment-status.

    The description requires `target_url` to be a URI, yet documents "" as its default; an
    unset one points at the deployment itself, and unset optional URLs are left out.
    """
    dep_url = f"{api}/repos/{r.full_name}/deployments/{s.deployment_id}"
    body: JSON = {
        "url": f"{dep_url}/statuses/{s.id}",
        "id": s.id,
        "node_id": node_id("DeploymentStatus", s.id),
        "state": s.state,
        "creator": user(api, s.creator),
        "description": s.description,
        "environment": s.environment,
        "target_url": s.log_url or dep_url,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.created_at),
        "deployment_url": dep_url,
        "repository_url": f"{api}/repos/{r.full_name}",
        "performed_via_github_app": app(api, s.via_app) if s.via_app else None,
    }
    if s.environment_url:
        body["environment_url"] = s.environment_url
    if s.log_url:
        body["log_url"] = s.log_url
    return body


def environment(api: str, r: Repo, e: Environment) -> JSON:
    """environment."""
    return {
        "id": e.id,
        "node_id": node_id("Environment", e.id),
        "name": e.name,
        "url": f"{api}/repos/{r.full_name}/environments/{e.name}",
        "html_url": f"{api}/{r.full_name}/deployments/activity_log?environments_filter={e.name}",
        "created_at": iso(e.created_at),
        "updated_at": iso(e.updated_at),
        "protection_rules": [],
        "deployment_branch_policy": None,
    }


def variable(v: Variable) -> JSON:
    """actions-variable."""
    return {
        "name": v.name,
        "value": v.value,
        "created_at": iso(v.created_at),
        "updated_at": iso(v.updated_at),
    }


def release(api: str, r: Repo, rel: Release) -> JSON:
    """release."""
    url = f"{api}/repos/{r.full_name}/releases/{rel.id}"
    return {
        "url": url,
        "html_url": f"{api}/{r.full_name}/releases/tag/{rel.tag_name}",
        "assets_url": f"{url}/assets",
        "upload_url": f"{api}/uploads/repos/{r.full_name}/releases/{rel.id}/assets{{?name,label}}",
        "tarball_url": f"{api}/repos/{r.full_name}/tarball/{rel.tag_name}",
        "zipball_url": f"{api}/repos/{r.full_name}/zipball/{rel.tag_name}",
        "id": rel.id,
        "node_id": node_id("Release", rel.id),
        "tag_name": rel.tag_name,
        "target_commitish": rel.target_commitish,
        "name": rel.name,
        "body": rel.body,
        "draft": rel.draft,
        "prerelease": rel.prerelease,
        "immutable": False,
        "created_at": iso(rel.created_at),
        "updated_at": iso(rel.created_at),
        "published_at": iso(rel.published_at),
        "author": user(api, rel.author),
        "assets": [],
    }
