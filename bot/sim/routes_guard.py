"""REST routes for the repository settings ringbot's protection check reads, shaped as in
GitHub's description: the rules in effect on a branch, a branch protection's required status
checks, and an environment's custom deployment protection rules. Tests set them through
`Guards`; a repository listed in `unreadable` answers 403, as without Administration: read."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from aiohttp import web

from bot.sim import shapes
from bot.sim.errors import SimError, not_found
from bot.sim.http import reply, repo_of, sim_of


@dataclass
class Guards:
    """Per repository (full name, lower case): the checks a ruleset requires on the default
    branch, the checks branch protection requires (None: not protected), and the environments
    whose protection rules name the App (by App id)."""

    rulesets: dict[str, list[str]] = field(default_factory=dict)
    protection: dict[str, list[str] | None] = field(default_factory=dict)
    env_rules: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)


GUARDS = web.AppKey("guards", Guards)


def _guards(request: web.Request) -> tuple[Guards, str]:
    r = repo_of(request)
    guards = request.app[GUARDS]
    name = r.full_name.lower()
    if name in guards.unreadable:
        raise SimError(403, shapes.error("Resource not accessible by integration"))
    return guards, name


async def branch_rules(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/rules/branches/{branch}: the rules in effect (an array)."""
    guards, name = _guards(request)
    contexts = guards.rulesets.get(name) or []
    if not contexts:
        return reply([])
    rule = {
        "type": "required_status_checks",
        "ruleset_source_type": "Repository",
        "ruleset_source": repo_of(request).full_name,
        "ruleset_id": 1,
        "parameters": {
            "strict_required_status_checks_policy": False,
            "required_status_checks": [{"context": c} for c in contexts],
        },
    }
    return reply([rule])


async def required_checks(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/branches/{branch}/protection/required_status_checks."""
    guards, name = _guards(request)
    contexts = guards.protection.get(name)
    if contexts is None:
        raise SimError(404, shapes.error("Branch not protected"))
    api = sim_of(request).state.api
    branch = quote(request.match_info["branch"], safe="")
    url = f"{api}/repos/{repo_of(request).full_name}/branches/{branch}/protection/required_status_checks"
    return reply(
        {
            "url": url,
            "strict": False,
            "contexts": list(contexts),
            "checks": [{"context": c, "app_id": None} for c in contexts],
            "contexts_url": f"{url}/contexts",
        }
    )


async def env_rules(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/environments/{environment_name}/deployment_protection_rules."""
    guards, name = _guards(request)
    environment = request.match_info["environment_name"].lower()
    if environment not in {e.lower() for e in repo_of(request).environments}:
        raise not_found()
    apps = guards.env_rules.get((name, environment)) or []
    state = sim_of(request).state
    rules = []
    for n, app_id in enumerate(apps, 1):
        app = next((a for a in state.apps.values() if a.id == app_id), None)
        slug = app.slug if app is not None else f"app-{app_id}"
        rules.append(
            {
                "id": n,
                "node_id": f"GA_{n}",
                "enabled": True,
                "app": {
                    "id": app_id,
                    "slug": slug,
                    "integration_url": f"{state.api}/apps/{slug}",
                    "node_id": f"A_{app_id}",
                },
            }
        )
    return reply({"total_count": len(rules), "custom_deployment_protection_rules": rules})


def add(router: web.UrlDispatcher) -> None:
    """Register the settings routes."""
    repo = "/repos/{owner}/{repo}"
    router.add_get(repo + "/rules/branches/{branch}", branch_rules)
    router.add_get(repo + "/branches/{branch}/protection/required_status_checks", required_checks)
    router.add_get(repo + "/environments/{environment_name}/deployment_protection_rules", env_rules)
