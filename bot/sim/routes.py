"""REST routes for the App, repositories, pulls, checks, statuses, comments, labels and commits."""

from __future__ import annotations

import json

from aiohttp import web

from bot.sim import shapes
from bot.sim.errors import SimError, invalid, not_found
from bot.sim.http import body_json, caller_of, int_arg, paginate, reply, repo_of, sim_of
from bot.sim.state import Repo

REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


def resolve(r: Repo, ref: str) -> str:
    """A ref -> SHA, or GitHub's 422 "No commit found"."""
    sha = r.resolve(ref)
    if sha is None:
        raise SimError(422, shapes.error(f"No commit found for SHA: {ref}"))
    return sha


# -- the App and its installations -----------------------------------------------------------


async def get_app(request: web.Request) -> web.Response:
    """GET /app."""
    sim = sim_of(request)
    return reply(shapes.app(sim.state.api, sim.state.github_app))


async def list_installations(request: web.Request) -> web.Response:
    """GET /app/installations."""
    sim = sim_of(request)
    items = [
        shapes.installation(sim.state.api, i, sim.state.github_app)
        for i in sim.state.installations.values()
    ]
    return reply(paginate(request, items))


async def get_installation(request: web.Request) -> web.Response:
    """GET /app/installations/{id}."""
    sim = sim_of(request)
    inst = sim.state.installations.get(int_arg(request, "installation_id"))
    if inst is None:
        raise not_found()
    return reply(shapes.installation(sim.state.api, inst, sim.state.github_app))


async def create_token(request: web.Request) -> web.Response:
    """POST /app/installations/{id}/access_tokens."""
    sim = sim_of(request)
    inst_id = int_arg(request, "installation_id")
    if inst_id not in sim.state.installations:
        raise not_found()
    tok = sim.credentials.installation_token(inst_id)
    body = {
        "token": tok.token,
        "expires_at": shapes.iso(tok.expires_at),
        "permissions": dict(shapes.APP_PERMISSIONS),
        "repository_selection": "all",
    }
    return reply(body, 201)


async def repo_installation(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/installation."""
    sim = sim_of(request)
    r = repo_of(request)
    if r.installation_id is None:
        raise not_found()
    return reply(
        shapes.installation(
            sim.state.api, sim.state.installations[r.installation_id], sim.state.github_app
        )
    )


# -- repository, contents, commits -----------------------------------------------------------


async def get_repo(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}."""
    r = repo_of(request)
    body = shapes.repository(sim_of(request).state.api, r)
    body["permissions"] = {
        "admin": False,
        "maintain": False,
        "push": True,
        "triage": True,
        "pull": True,
    }
    return reply(body)


async def get_contents(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/contents/{path}?ref= (files only)."""
    r = repo_of(request)
    ref = request.query.get("ref", r.default_branch)
    sha = r.resolve(ref)
    path = request.match_info["path"].strip("/")
    if sha is None or path not in r.commits[sha].files:
        raise not_found()
    content = r.commits[sha].files[path]
    return reply(shapes.content_file(sim_of(request).state.api, r, path, content, ref))


async def get_commit(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/commits/{ref}."""
    r = repo_of(request)
    sha = resolve(r, request.match_info["ref"])
    return reply(shapes.commit(sim_of(request).state.api, r, r.commits[sha]))


async def list_commits(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/commits?sha= (newest first)."""
    r = repo_of(request)
    sha = r.resolve(request.query.get("sha", r.default_branch))
    if sha is None:
        raise not_found()
    api = sim_of(request).state.api
    return reply([shapes.commit(api, r, c) for c in paginate(request, r.history(sha))])


async def compare(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/compare/{base}...{head}."""
    r = repo_of(request)
    base, sep, head = request.match_info["basehead"].partition("...")
    if not sep:
        raise not_found()
    base_sha, head_sha = r.resolve(base), r.resolve(head)
    if base_sha is None or head_sha is None:
        raise not_found()
    return reply(shapes.compare(sim_of(request).state.api, r, base, head, base_sha, head_sha))


async def commit_pulls(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/commits/{sha}/pulls: PRs that contain or merged the commit."""
    r = repo_of(request)
    sim = sim_of(request)
    sha = resolve(r, request.match_info["ref"])
    found = [p for p in r.pulls.values() if p.merge_commit_sha == sha or sha in p.commit_shas]
    found.sort(key=lambda p: -p.number)
    items = [
        shapes.pull_request_simple(
            sim.state.api, r, sim.state.head_repo(r, p), r.branches.get(p.base_ref, sha), p
        )
        for p in paginate(request, found)
    ]
    return reply(items)


# -- pull requests and reviews --------------------------------------------------------------


async def list_pulls(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls?state=&base=&head=&sort=&direction= (newest first)."""
    r = repo_of(request)
    sim = sim_of(request)
    state = request.query.get("state", "open")
    found = [p for p in r.pulls.values() if state == "all" or p.state == state]
    if "base" in request.query:
        found = [p for p in found if p.base_ref == request.query["base"]]
    if "head" in request.query:
        owner, _, ref = request.query["head"].partition(":")
        found = [p for p in found if p.head_ref == ref and p.head_repo.split("/")[0] == owner]
    # GitHub sorts by `sort` (created by default; updated too); direction defaults to desc.
    by_updated = request.query.get("sort") == "updated"
    found.sort(
        key=lambda p: (p.updated_at, p.number) if by_updated else (p.created_at, p.number),
        reverse=request.query.get("direction", "desc") == "desc",
    )
    items = [
        shapes.pull_request_simple(
            sim.state.api, r, sim.state.head_repo(r, p), r.branches.get(p.base_ref, p.head_sha), p
        )
        for p in paginate(request, found)
    ]
    return reply(items)


async def get_pull(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls/{n}."""
    r = repo_of(request)
    sim = sim_of(request)
    p = sim.state.pull(r, int_arg(request, "number"))
    base_sha = r.branches.get(p.base_ref, p.head_sha)
    return reply(shapes.pull_request(sim.state.api, r, sim.state.head_repo(r, p), base_sha, p))


async def list_reviews(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls/{n}/reviews (oldest first, like GitHub)."""
    r = repo_of(request)
    sim = sim_of(request)
    n = sim.state.pull(r, int_arg(request, "number")).number
    reviews = [rv for rv in r.reviews if rv.number == n]
    return reply([shapes.review(sim.state.api, r, rv) for rv in paginate(request, reviews)])


# -- checks and statuses --------------------------------------------------------------------


async def list_check_runs(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/commits/{ref}/check-runs?check_name=&status=&app_id=&filter=."""
    r = repo_of(request)
    sim = sim_of(request)
    sha = resolve(r, request.match_info["ref"])
    q = request.query
    runs = sorted((x for x in r.check_runs.values() if x.head_sha == sha), key=lambda x: -x.id)
    if "check_name" in q:
        runs = [x for x in runs if x.name == q["check_name"]]
    if "status" in q:
        runs = [x for x in runs if x.status == q["status"]]
    if "app_id" in q:
        runs = [x for x in runs if str(x.app.id) == q["app_id"]]
    if q.get("filter", "latest") == "latest":
        # "latest" keeps the newest run per (app, name), as GitHub does.
        newest: dict[tuple[int, str], object] = {}
        for x in runs:
            newest.setdefault((x.app.id, x.name), x)
        runs = [x for x in runs if newest[(x.app.id, x.name)] is x]
    page = [shapes.check_run(sim.state.api, r, x) for x in paginate(request, runs)]
    return reply({"total_count": len(runs), "check_runs": page})


async def create_check_run(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/check-runs: the run belongs to the calling App."""
    r = repo_of(request)
    sim = sim_of(request)
    body = body_json(await request.read())
    if not body.get("name"):
        raise invalid("CheckRun", "name", "missing_field")
    if not isinstance(body.get("head_sha"), str):
        raise invalid("CheckRun", "head_sha", "missing_field")
    if caller_of(request).kind != "installation":
        raise SimError(403, shapes.error("You must authenticate via a GitHub App."))
    run = sim.world.create_check_run(r, sim.state.github_app, sim.state.bot, body)
    return reply(shapes.check_run(sim.state.api, r, run), 201)


def _run(request: web.Request, r: Repo) -> int:
    run_id = int_arg(request, "check_run_id")
    if run_id not in r.check_runs:
        raise not_found()
    return run_id


async def get_check_run(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/check-runs/{id}."""
    r = repo_of(request)
    return reply(shapes.check_run(sim_of(request).state.api, r, r.check_runs[_run(request, r)]))


async def update_check_run(request: web.Request) -> web.Response:
    """PATCH /repos/{o}/{r}/check-runs/{id}: only the App that created the run may."""
    r = repo_of(request)
    sim = sim_of(request)
    run = r.check_runs[_run(request, r)]
    if run.app is not sim.state.github_app or caller_of(request).kind != "installation":
        msg = f"Invalid app_id `{sim.state.github_app.id}` - check run can only be modified by the GitHub App that created it."
        raise SimError(403, shapes.error(msg))
    sim.world.update_check_run(r, run, sim.state.bot, body_json(await request.read()))
    return reply(shapes.check_run(sim.state.api, r, run))


async def combined_status(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/commits/{ref}/status."""
    r = repo_of(request)
    sha = r.resolve(request.match_info["ref"])
    if sha is None:
        raise not_found()
    return reply(shapes.combined_status(sim_of(request).state.api, r, sha))


async def list_statuses(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/commits/{ref}/statuses (newest first)."""
    r = repo_of(request)
    sha = r.resolve(request.match_info["ref"])
    found = sorted((s for s in r.statuses if s.sha == sha), key=lambda s: -s.id)
    api = sim_of(request).state.api
    return reply([shapes.status(api, r, s) for s in paginate(request, found)])


async def permission(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/collaborators/{user}/permission."""
    r = repo_of(request)
    sim = sim_of(request)
    login = request.match_info["username"]
    return reply(
        shapes.collaborator_permission(
            sim.state.api, sim.state.user(login), sim.state.role(r, login)
        )
    )


# -- comments, reactions, labels -------------------------------------------------------------


async def list_comments(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/issues/{n}/comments (oldest first)."""
    r = repo_of(request)
    sim = sim_of(request)
    n = sim.state.pull(r, int_arg(request, "number")).number
    found = sorted((c for c in r.comments.values() if c.number == n), key=lambda c: c.id)
    return reply([shapes.issue_comment(sim.state.api, r, c) for c in paginate(request, found)])


async def create_comment(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/issues/{n}/comments."""
    r = repo_of(request)
    sim = sim_of(request)
    body = body_json(await request.read())
    if not isinstance(body.get("body"), str) or not body["body"]:
        raise invalid("IssueComment", "body", "missing_field")
    who = caller_of(request).user or sim.state.bot
    c = sim.world.add_comment(r, int_arg(request, "number"), who, body["body"])
    return reply(shapes.issue_comment(sim.state.api, r, c), 201)


def _comment_id(request: web.Request, r: Repo) -> int:
    cid = int_arg(request, "comment_id")
    if cid not in r.comments:
        raise not_found()
    return cid


async def get_comment(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/issues/comments/{id}."""
    r = repo_of(request)
    return reply(
        shapes.issue_comment(sim_of(request).state.api, r, r.comments[_comment_id(request, r)])
    )


async def update_comment(request: web.Request) -> web.Response:
    """PATCH /repos/{o}/{r}/issues/comments/{id}: callers may edit only their own comments."""
    r = repo_of(request)
    sim = sim_of(request)
    c = r.comments[_comment_id(request, r)]
    who = caller_of(request).user or sim.state.bot
    if c.user is not who:
        raise SimError(403, shapes.error("Resource not accessible by integration"))
    body = body_json(await request.read())
    if not isinstance(body.get("body"), str):
        raise invalid("IssueComment", "body", "missing_field")
    sim.world.update_comment(r, c, body["body"], who)
    return reply(shapes.issue_comment(sim.state.api, r, c))


async def list_reactions(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/issues/comments/{id}/reactions?content=."""
    r = repo_of(request)
    cid = _comment_id(request, r)
    found = [x for x in r.reactions if x.comment_id == cid]
    if "content" in request.query:
        found = [x for x in found if x.content == request.query["content"]]
    api = sim_of(request).state.api
    return reply([shapes.reaction(api, x) for x in paginate(request, found)])


async def create_reaction(request: web.Request) -> web.Response:
    """POST .../reactions: 200 with the existing reaction if repeated, 201 when new."""
    r = repo_of(request)
    sim = sim_of(request)
    cid = _comment_id(request, r)
    content = body_json(await request.read()).get("content")
    if content not in REACTIONS:
        raise invalid("Reaction", "content")
    who = caller_of(request).user or sim.state.bot
    for x in r.reactions:
        if x.comment_id == cid and x.user is who and x.content == content:
            return reply(shapes.reaction(sim.state.api, x), 200)
    x = sim.world.add_reaction(r, cid, who, str(content))
    return reply(shapes.reaction(sim.state.api, x), 201)


async def list_labels(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/labels."""
    r = repo_of(request)
    api = sim_of(request).state.api
    found = sorted(r.labels.values(), key=lambda lab: lab.name.lower())
    return reply([shapes.label(api, r, lab) for lab in paginate(request, found)])


async def get_label(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/labels/{name}."""
    r = repo_of(request)
    lab = r.label(request.match_info["name"])
    if lab is None:
        raise not_found()
    return reply(shapes.label(sim_of(request).state.api, r, lab))


async def create_label(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/labels: 422 already_exists on a duplicate name."""
    r = repo_of(request)
    sim = sim_of(request)
    body = body_json(await request.read())
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise invalid("Label", "name", "missing_field")
    if r.label(name) is not None:
        raise invalid("Label", "name", "already_exists")
    color = str(body.get("color") or "ededed").lstrip("#")
    lab = sim.world.ensure_label(
        r, name, caller_of(request).user or sim.state.bot, color, str(body.get("description") or "")
    )
    return reply(shapes.label(sim.state.api, r, lab), 201)


async def add_labels(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/issues/{n}/labels: body {"labels": [...]} or a bare list."""
    r = repo_of(request)
    sim = sim_of(request)
    p = sim.state.pull(r, int_arg(request, "number"))
    raw = await request.read()
    names = _label_names(raw)
    who = caller_of(request).user or sim.state.bot
    for name in names:
        sim.world.label_pull(r, p, name, who)
    return reply([shapes.label(sim.state.api, r, lab) for n in p.labels if (lab := r.label(n))])


async def list_issue_labels(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/issues/{n}/labels: the labels on the pull request, paginated."""
    r = repo_of(request)
    sim = sim_of(request)
    p = sim.state.pull(r, int_arg(request, "number"))
    found = [lab for n in p.labels if (lab := r.label(n)) is not None]
    return reply([shapes.label(sim.state.api, r, lab) for lab in paginate(request, found)])


def _label_names(raw: bytes) -> list[str]:
    """Label names from a {"labels": [...]} object or a bare list."""
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise SimError(400, shapes.error("Problems parsing JSON")) from exc
    names = data.get("labels") if isinstance(data, dict) else data
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise invalid("Label", "labels")
    return [str(n) for n in names]


async def remove_label(request: web.Request) -> web.Response:
    """DELETE /repos/{o}/{r}/issues/{n}/labels/{name}: 404 if not on the issue."""
    r = repo_of(request)
    sim = sim_of(request)
    p = sim.state.pull(r, int_arg(request, "number"))
    sim.world.unlabel_pull(
        r, p, request.match_info["name"], caller_of(request).user or sim.state.bot
    )
    return reply([shapes.label(sim.state.api, r, lab) for n in p.labels if (lab := r.label(n))])


def add(router: web.UrlDispatcher) -> None:
    """Register the routes (specific ref routes before the catch-all commit route)."""
    repo = "/repos/{owner}/{repo}"
    router.add_get("/app", get_app)
    router.add_get("/app/installations", list_installations)
    router.add_get("/app/installations/{installation_id}", get_installation)
    router.add_post("/app/installations/{installation_id}/access_tokens", create_token)
    router.add_get(f"{repo}/installation", repo_installation)
    router.add_get(repo, get_repo)
    router.add_get(repo + "/contents/{path:.+}", get_contents)
    router.add_get(f"{repo}/pulls", list_pulls)
    router.add_get(repo + "/pulls/{number}", get_pull)
    router.add_get(repo + "/pulls/{number}/reviews", list_reviews)
    router.add_get(repo + "/commits/{ref:.+}/check-runs", list_check_runs)
    router.add_get(repo + "/commits/{ref:.+}/status", combined_status)
    router.add_get(repo + "/commits/{ref:.+}/statuses", list_statuses)
    router.add_get(repo + "/commits/{ref:.+}/pulls", commit_pulls)
    router.add_get(repo + "/commits/{ref:.+}", get_commit)
    router.add_get(f"{repo}/commits", list_commits)
    router.add_get(repo + "/compare/{basehead:.+}", compare)
    router.add_post(f"{repo}/check-runs", create_check_run)
    router.add_get(repo + "/check-runs/{check_run_id}", get_check_run)
    router.add_patch(repo + "/check-runs/{check_run_id}", update_check_run)
    router.add_get(repo + "/collaborators/{username}/permission", permission)
    router.add_get(repo + "/issues/comments/{comment_id}", get_comment)
    router.add_patch(repo + "/issues/comments/{comment_id}", update_comment)
    router.add_get(repo + "/issues/comments/{comment_id}/reactions", list_reactions)
    router.add_post(repo + "/issues/comments/{comment_id}/reactions", create_reaction)
    router.add_get(repo + "/issues/{number}/comments", list_comments)
    router.add_post(repo + "/issues/{number}/comments", create_comment)
    router.add_get(repo + "/issues/{number}/labels", list_issue_labels)
    router.add_post(repo + "/issues/{number}/labels", add_labels)
    router.add_delete(repo + "/issues/{number}/labels/{name}", remove_label)
    router.add_get(f"{repo}/labels", list_labels)
    router.add_post(f"{repo}/labels", create_label)
    router.add_get(repo + "/labels/{name}", get_label)
