"""REST routes for deployments, environments, variables, releases and protection rules."""

from __future__ import annotations

from aiohttp import web

from bot.sim import shapes
from bot.sim.errors import SimError, invalid, not_found
from bot.sim.http import body_json, caller_of, int_arg, paginate, reply, repo_of, sim_of
from bot.sim.state import Deployment, Environment, Repo, User, Variable


def _who(request: web.Request) -> User:
    sim = sim_of(request)
    return caller_of(request).user or sim.state.bot


def _deployment(request: web.Request, r: Repo) -> Deployment:
    d = r.deployments.get(int_arg(request, "deployment_id"))
    if d is None:
        raise not_found()
    return d


def _env(request: web.Request, r: Repo) -> Environment:
    env = r.environments.get(request.match_info["environment_name"].lower())
    if env is None:
        raise not_found()
    return env


async def list_deployments(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/deployments?sha=&ref=&environment=&task= (newest first)."""
    r = repo_of(request)
    sim = sim_of(request)
    q = request.query
    found = sorted(r.deployments.values(), key=lambda d: -d.id)
    for key in ("sha", "ref", "environment", "task"):
        if key in q:
            found = [d for d in found if getattr(d, key) == q[key]]
    return reply([shapes.deployment(sim.state.api, r, d) for d in paginate(request, found)])


async def create_deployment(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/deployments: 201, or 409 when required contexts are not green."""
    r = repo_of(request)
    sim = sim_of(request)
    who = _who(request)
    d = sim.deployments.create_deployment(
        r,
        who,
        body_json(await request.read()),
        sim.state.github_app if who is sim.state.bot else None,
    )
    return reply(shapes.deployment(sim.state.api, r, d), 201)


async def get_deployment(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/deployments/{id}."""
    r = repo_of(request)
    return reply(shapes.deployment(sim_of(request).state.api, r, _deployment(request, r)))


async def list_deployment_statuses(request: web.Request) -> web.Response:
    """GET .../deployments/{id}/statuses (newest first)."""
    r = repo_of(request)
    d = _deployment(request, r)
    found = sorted(
        (s for s in r.deployment_statuses if s.deployment_id == d.id), key=lambda s: -s.id
    )
    api = sim_of(request).state.api
    return reply([shapes.deployment_status(api, r, s) for s in paginate(request, found)])


async def create_deployment_status(request: web.Request) -> web.Response:
    """POST .../deployments/{id}/statuses (auto_inactive honoured)."""
    r = repo_of(request)
    sim = sim_of(request)
    d = _deployment(request, r)
    who = _who(request)
    body = body_json(await request.read())
    s = sim.deployments.add_deployment_status(
        r, d, who, body, sim.state.github_app if who is sim.state.bot else None
    )
    return reply(shapes.deployment_status(sim.state.api, r, s), 201)


async def list_environments(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/environments."""
    r = repo_of(request)
    api = sim_of(request).state.api
    found = sorted(r.environments.values(), key=lambda e: e.name)
    page = [shapes.environment(api, r, e) for e in paginate(request, found)]
    return reply({"total_count": len(found), "environments": page})


async def get_environment(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/environments/{name}."""
    r = repo_of(request)
    return reply(shapes.environment(sim_of(request).state.api, r, _env(request, r)))


async def put_environment(request: web.Request) -> web.Response:
    """PUT /repos/{o}/{r}/environments/{name}: create or update (settings are ignored)."""
    r = repo_of(request)
    sim = sim_of(request)
    body_json(await request.read())
    env = sim.deployments.environment(r, request.match_info["environment_name"])
    env.updated_at = sim.state.clock()
    return reply(shapes.environment(sim.state.api, r, env))


async def list_variables(request: web.Request) -> web.Response:
    """GET .../environments/{env}/variables."""
    r = repo_of(request)
    env = _env(request, r)
    found = sorted(env.variables.values(), key=lambda v: v.name)
    page = [shapes.variable(v) for v in paginate(request, found)]
    return reply({"total_count": len(found), "variables": page})


async def create_variable(request: web.Request) -> web.Response:
    """POST .../variables: 201 {}; 409 if it exists (names are upper-cased like GitHub)."""
    r = repo_of(request)
    sim = sim_of(request)
    env = _env(request, r)
    body = body_json(await request.read())
    name, value = body.get("name"), body.get("value")
    if not isinstance(name, str) or not name or not isinstance(value, str):
        raise invalid("Variable", "name" if not isinstance(name, str) else "value", "missing_field")
    key = name.upper()
    if key in env.variables:
        raise SimError(409, shapes.error("Already exists - Variable already exists"))
    now = sim.state.clock()
    env.variables[key] = Variable(key, value, now, now)
    return reply({}, 201)


def _variable(request: web.Request, env: Environment) -> Variable:
    v = env.variables.get(request.match_info["name"].upper())
    if v is None:
        raise not_found()
    return v


async def get_variable(request: web.Request) -> web.Response:
    """GET .../variables/{name}."""
    r = repo_of(request)
    return reply(shapes.variable(_variable(request, _env(request, r))))


async def update_variable(request: web.Request) -> web.Response:
    """PATCH .../variables/{name}: 204."""
    r = repo_of(request)
    env = _env(request, r)
    v = _variable(request, env)
    body = body_json(await request.read())
    if isinstance(body.get("value"), str):
        v.value = body["value"]
    if isinstance(body.get("name"), str) and body["name"].upper() != v.name:
        del env.variables[v.name]
        v.name = body["name"].upper()
        env.variables[v.name] = v
    v.updated_at = sim_of(request).state.clock()
    return reply(None, 204)


async def delete_variable(request: web.Request) -> web.Response:
    """DELETE .../variables/{name}: 204."""
    r = repo_of(request)
    env = _env(request, r)
    del env.variables[_variable(request, env).name]
    return reply(None, 204)


async def list_releases(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/releases (newest first)."""
    r = repo_of(request)
    api = sim_of(request).state.api
    found = sorted(r.releases, key=lambda x: -x.id)
    return reply([shapes.release(api, r, x) for x in paginate(request, found)])


async def create_release(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/releases."""
    r = repo_of(request)
    sim = sim_of(request)
    rel = sim.deployments.create_release(r, _who(request), body_json(await request.read()))
    return reply(shapes.release(sim.state.api, r, rel), 201)


async def release_by_tag(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/releases/tags/{tag}."""
    r = repo_of(request)
    rel = next((x for x in r.releases if x.tag_name == request.match_info["tag"]), None)
    if rel is None:
        raise not_found()
    return reply(shapes.release(sim_of(request).state.api, r, rel))


async def review_protection_rule(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/actions/runs/{run_id}/deployment_protection_rule: 204."""
    r = repo_of(request)
    sim = sim_of(request)
    body = body_json(await request.read())
    sim.deployments.review_protection_rule(r, int_arg(request, "run_id"), body, _who(request))
    return reply(None, 204)


def add(router: web.UrlDispatcher) -> None:
    """Register the deployment-side routes."""
    repo = "/repos/{owner}/{repo}"
    dep = repo + "/deployments/{deployment_id}"
    env = repo + "/environments/{environment_name}"
    router.add_get(f"{repo}/deployments", list_deployments)
    router.add_post(f"{repo}/deployments", create_deployment)
    router.add_get(dep, get_deployment)
    router.add_get(f"{dep}/statuses", list_deployment_statuses)
    router.add_post(f"{dep}/statuses", create_deployment_status)
    router.add_get(f"{repo}/environments", list_environments)
    router.add_get(env, get_environment)
    router.add_put(env, put_environment)
    router.add_get(f"{env}/variables", list_variables)
    router.add_post(f"{env}/variables", create_variable)
    router.add_get(env + "/variables/{name}", get_variable)
    router.add_patch(env + "/variables/{name}", update_variable)
    router.add_delete(env + "/variables/{name}", delete_variable)
    router.add_get(f"{repo}/releases", list_releases)
    router.add_post(f"{repo}/releases", create_release)
    router.add_get(repo + "/releases/tags/{tag}", release_by_tag)
    router.add_post(
        repo + "/actions/runs/{run_id}/deployment_protection_rule", review_protection_rule
    )
