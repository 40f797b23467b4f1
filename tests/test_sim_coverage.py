"""The simulator serves every REST endpoint the bot calls: read from the bot's source, not from a run.

Every request the bot makes goes through `gh.<method>(url)` (or `every(gh, url)`). The URL is
followed back through f-strings, local variables and helpers to a path such as
`/repos/{}/issues/{}/labels`; with the method that is one endpoint. The endpoints must be the ones
listed here (so a new one is a decision), GitHub must describe each, and the simulator must route
each with that method.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request

from bot.sim import Simulator

from .harness import ROOT, SPEC

BOT = ROOT / "bot"
SANDBOX = BOT / "sim" / "sandbox.py"
HOLE = "\x00"  # a value the source fills in at run time
GH_METHODS = {
    "getitem": "GET",
    "getiter": "GET",
    "getstatus": "GET",
    "post": "POST",
    "post_status": "POST",
    "patch": "PATCH",
    "put": "PUT",
    "delete": "DELETE",
}

# Every endpoint ringbot calls, as GitHub's REST description names it.
ENDPOINTS = (
    ("GET", "/app"),
    ("POST", "/app/installations/{installation_id}/access_tokens"),
    ("GET", "/app/hook/deliveries"),
    ("GET", "/app/hook/deliveries/{delivery_id}"),
    ("POST", "/app/hook/deliveries/{delivery_id}/attempts"),
    ("GET", "/repos/{owner}/{repo}"),
    ("GET", "/repos/{owner}/{repo}/contents/{path}"),
    ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
    ("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}"),
    ("GET", "/repos/{owner}/{repo}/pulls"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("GET", "/repos/{owner}/{repo}/commits"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/status"),
    ("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls"),
    ("GET", "/repos/{owner}/{repo}/compare/{basehead}"),
    ("POST", "/repos/{owner}/{repo}/check-runs"),
    ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"),
    ("POST", "/repos/{owner}/{repo}/labels"),
    ("GET", "/repos/{owner}/{repo}/labels/{name}"),
    ("GET", "/repos/{owner}/{repo}/deployments"),
    ("POST", "/repos/{owner}/{repo}/deployments"),
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"),
    ("POST", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"),
    ("PUT", "/repos/{owner}/{repo}/environments/{environment_name}"),
    ("GET", "/repos/{owner}/{repo}/environments/{environment_name}/variables"),
    ("POST", "/repos/{owner}/{repo}/environments/{environment_name}/variables"),
    ("GET", "/repos/{owner}/{repo}/environments/{environment_name}/variables/{name}"),
    ("PATCH", "/repos/{owner}/{repo}/environments/{environment_name}/variables/{name}"),
    ("DELETE", "/repos/{owner}/{repo}/environments/{environment_name}/variables/{name}"),
    ("GET", "/repos/{owner}/{repo}/releases"),
    ("POST", "/repos/{owner}/{repo}/releases"),
    ("GET", "/repos/{owner}/{repo}/releases/tags/{tag}"),
    ("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule"),
    ("GET", "/repos/{owner}/{repo}/rules/branches/{branch}"),
    ("GET", "/repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks"),
    ("GET", "/repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules"),
)


@dataclass(frozen=True)
class Call:
    """One request in the bot's source: method, path (HOLE where a value goes), and where."""

    method: str
    path: str
    where: str


# --- reading the bot's source ------------------------------------------------------------------


def _sources() -> Iterator[Path]:
    for path in sorted(BOT.rglob("*.py")):
        # The sandbox lives with the simulator but prints the bot's text: the curl commands.
        if "sim" not in path.relative_to(BOT).parts or path == SANDBOX:
            yield path


class _Module:
    """One module's URL-building code: its functions, and the assignments in each scope."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text())
        self.functions = {
            node.name: node
            for node in self.tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(self.tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent

    def scopes(self, node: ast.AST) -> Iterator[ast.AST]:
        """The functions around `node`, innermost first, then the module."""
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
                yield node

    def paths(self, expr: ast.expr, at: ast.AST, depth: int = 0) -> set[str] | None:
        """The paths `expr` can be (query strings dropped); None when it is a parameter."""
        if depth > 10:
            raise AssertionError(f"{self.path}: URL built too deep at line {at.lineno}")  # type: ignore[attr-defined]
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.JoinedStr):
            return self._joined(expr, at, depth)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left = self.paths(expr.left, at, depth + 1)
            return None if left is None else {p + HOLE for p in left}
        if isinstance(expr, ast.Name):
            return self._name(expr.id, at, depth)
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id in self.functions
        ):
            returns = [
                n.value
                for n in ast.walk(self.functions[expr.func.id])
                if isinstance(n, ast.Return) and n.value is not None
            ]
            found: set[str] = set()
            for value in returns:
                found |= self.paths(value, value, depth + 1) or set()
            return found
        return {HOLE}

    def _joined(self, expr: ast.JoinedStr, at: ast.AST, depth: int) -> set[str] | None:
        results = {""}
        for index, part in enumerate(expr.values):
            if isinstance(part, ast.Constant):
                results = {r + str(part.value) for r in results}
            elif index == 0 and isinstance(part, ast.FormattedValue):
                # A URL built on another one: f"{base}/variables".
                inner = self.paths(part.value, at, depth + 1)
                if inner is None:
                    return None
                results = inner
            else:
                results = {r + HOLE for r in results}
        return results

    def _name(self, name: str, at: ast.AST, depth: int) -> set[str] | None:
        for scope in self.scopes(at):
            if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef) and name in {
                a.arg for a in (*scope.args.args, *scope.args.kwonlyargs)
            }:
                return None  # a helper's parameter: its callers are checked instead
            values = [
                node.value
                for node in ast.walk(scope)
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
                and self._owner(node) is scope
            ]
            if values:
                found: set[str] = set()
                for value in values:
                    found |= self.paths(value, value, depth + 1) or set()
                return found
        return {HOLE}

    def _owner(self, node: ast.AST) -> ast.AST | None:
        return next(self.scopes(node), None)


def _method(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in GH_METHODS:
        receiver = ast.unparse(func.value)
        if receiver.endswith("gh") or receiver.endswith("app_client()"):
            return GH_METHODS[func.attr]
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name in ("every", "get_or_none") and len(call.args) >= 2:
        return "GET"
    return None


@cache
def bot_calls() -> tuple[Call, ...]:
    """Every request in the bot's source whose URL the source spells out."""
    found: list[Call] = []
    for path in _sources():
        module = _Module(path)
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call) or (method := _method(node)) is None:
                continue
            url = node.args[1] if _is_every(node) else (node.args[0] if node.args else None)
            if url is None:
                continue
            paths = module.paths(url, node)
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if paths is None:
                continue
            assert paths and all(p.startswith("/") for p in paths), f"{where}: URL {paths}"
            found += [Call(method, p.split("?", 1)[0], where) for p in paths]
    return tuple(found)


def _is_every(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name in ("every", "get_or_none")  # (gh, url, ...): the URL is the second argument


def _flat(node: ast.JoinedStr) -> str:
    """An f-string with a hole for each value."""
    return "".join(str(p.value) if isinstance(p, ast.Constant) else HOLE for p in node.values)


def _url_strings() -> Iterator[tuple[str, str]]:
    """Every `/repos/...` path in an f-string of the bot's source, requested by it or not."""
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.JoinedStr):
                continue
            text = _flat(node)
            start = text.find(f"/repos/{HOLE}")
            if start >= 0:
                found = re.split(r"[?\s'\"]", text[start:], maxsplit=1)[0]
                yield found, f"{path.relative_to(ROOT)}:{node.lineno}"


# --- matching paths, templates and routes ------------------------------------------------------


def _pattern(template: str) -> re.Pattern[str]:
    """A GitHub path template as a regex over paths with holes."""
    parts = re.split(r"(\{\w+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _repo_holes(path: str) -> str:
    """`/repos/{ctx.repo}/...` holds one value for two segments, owner and name."""
    return re.sub(f"^/repos/{HOLE}(?=/|$)", f"/repos/{HOLE}/{HOLE}", path)


def _template(call: Call) -> str | None:
    """The listed endpoint a request is, if any."""
    path = _repo_holes(call.path)
    for method, template in ENDPOINTS:
        if method == call.method and _pattern(template).fullmatch(path):
            return template
    return None


def _sample(template: str) -> str:
    """A concrete path for a template."""
    return re.sub(
        r"\{(\w+)\}", lambda m: "a...b" if m.group(1) == "basehead" else f"x{m.group(1)}", template
    )


async def _routed(method: str, path: str) -> bool:
    sim = Simulator()
    request = make_mocked_request(method, path, app=sim.app)
    match = await sim.app.router.resolve(request)
    return match.http_exception is None


@cache
def _described() -> dict[str, dict[str, object]]:
    paths: dict[str, dict[str, object]] = json.loads(SPEC.read_text())["paths"]
    return paths


# --- the specification -------------------------------------------------------------------------


def test_the_source_reader_finds_the_bots_requests() -> None:
    assert len(bot_calls()) >= 40
    assert any(c.method == "GET" and c.path.endswith("/labels") for c in bot_calls())


def test_every_request_the_bot_makes_is_a_listed_endpoint() -> None:
    unknown = [f"{c.where}: {c.method} {c.path.replace(HOLE, '{}')}" for c in bot_calls()]
    unknown = [u for u, c in zip(unknown, bot_calls(), strict=True) if _template(c) is None]
    assert not unknown, "add these to ENDPOINTS (and to the simulator):\n" + "\n".join(unknown)


def test_every_listed_endpoint_is_one_the_bot_makes() -> None:
    used = {(c.method, _template(c)) for c in bot_calls()}
    assert [e for e in ENDPOINTS if e not in used] == []


@pytest.mark.parametrize(("method", "template"), ENDPOINTS, ids=[f"{m} {t}" for m, t in ENDPOINTS])
async def test_the_simulator_routes_every_endpoint_the_bot_calls(
    method: str, template: str
) -> None:
    assert await _routed(method, _sample(template)), f"no simulator route for {method} {template}"


@pytest.mark.parametrize(("method", "template"), ENDPOINTS, ids=[f"{m} {t}" for m, t in ENDPOINTS])
def test_github_describes_every_endpoint_the_bot_calls(method: str, template: str) -> None:
    if not SPEC.exists():
        pytest.skip("GitHub's OpenAPI description is not installed: scripts/bootstrap --npm")
    assert method.lower() in _described().get(template, {})


async def test_every_rest_path_in_the_bots_text_has_a_simulator_route() -> None:
    # The sandbox prints `curl` commands for people: those paths must exist too.
    paths = list(_url_strings())
    assert paths
    missing = []
    for path, where in paths:
        sample = _repo_holes(path).replace(HOLE, "x1")
        if not any([await _routed(m, sample) for m in ("GET", "POST", "PATCH", "PUT", "DELETE")]):
            missing.append(f"{where}: {path.replace(HOLE, '{}')}")
    assert not missing, "\n".join(missing)
