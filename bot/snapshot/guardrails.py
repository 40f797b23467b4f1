"""Guardrails' reads (see bot/policy/guardrails.py): which commits a first-ring candidate brings
that went around the merge gate, and what the repository's settings enforce.

Costs. A candidate already judged against the same first-ring deployments costs nothing (an
hour's memo). Otherwise: the default branch's history page (ETag-cached, shared with the status
tables), then per commit not judged before (a day's memo: how a merge stood never changes)
`GET …/commits/{sha}/pulls` and, for a merged pull request, ringbot's gate run on its head.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from urllib.parse import quote

from gidgethub import BadRequest, GitHubBroken

from ..config import Config
from ..context import Ctx
from ..ledger import RingState, same_login
from ..policy.gate import GATE_CHECK_NAME
from ..policy.guardrails import (
    GateAtMerge,
    Protection,
    Seen,
    Unverified,
    Why,
    chain,
    gate_verdict,
    has_app_rule,
    required_by_protection,
    required_by_rules,
    too_deep,
)
from .history import default_branch, read_history
from .reads import PAGE, every, parse_time


async def unverified_in(
    ctx: Ctx, state: RingState, candidate: str, branch: str | None = None
) -> tuple[Unverified, ...]:
    """The commits `candidate` brings into the first ring (`state`) that went around the gate,
    newest first: the candidate and its first parents down to what ringbot deployed there (or
    the ring's current release). See policy.guardrails.chain."""
    bot = ctx.identity.bot_login
    # Only what ringbot itself deployed there stops the walk: a release deployed around it
    # (a workflow the protection rule let through) was never accepted by a person.
    stops = {d.sha for d in state.deployments if same_login(d.creator, bot) and not d.foreign}
    if candidate in stops:
        return ()
    key = (ctx.installation, ctx.repo, candidate, ",".join(sorted(stops)))
    known = ctx.caches.unverified.get(key)
    if known is not None:
        return tuple(known)
    branch = branch or await default_branch(ctx)
    commits: tuple[str, ...] = (candidate,)
    if stops:
        history = await read_history(ctx, branch)
        parents = {c.sha: c.parents for c in history.commits}
        walked = chain(parents, candidate, stops)
        if walked is None:
            # What ringbot last deployed is beyond one page of history: what lies between
            # cannot be judged, so a person looks (fail closed).
            return (too_deep(candidate),)
        commits = walked
    found: list[Unverified] = []
    for sha in commits:
        verdict = await judge(ctx, branch, sha)
        if verdict is not None:
            found.append(verdict)
    ctx.caches.unverified[key] = tuple(found)
    return tuple(found)


async def judge(ctx: Ctx, branch: str, sha: str) -> Unverified | None:
    """One default-branch commit: None when it merged through a green gate."""
    key = (ctx.installation, ctx.repo, sha)
    known = ctx.caches.verdicts.get(key)
    if known is not None:
        return known if isinstance(known, Unverified) else None
    pull: dict[str, Any] | None = None
    async for item in every(ctx.gh, f"/repos/{ctx.repo}/commits/{sha}/pulls?{PAGE}"):
        base = str((item.get("base") or {}).get("ref") or "")
        # Its merge commit, or (a rebase merge) one of the commits it put on the branch.
        merged = item.get("merged_at") and base == branch
        if merged and (pull is None or item.get("merge_commit_sha") == sha):
            pull = item
    if pull is None:
        verdict: Unverified | None = Unverified(sha, Why.PUSHED)
    else:
        head = str((pull.get("head") or {}).get("sha") or "")
        gate = await gate_at_merge(ctx, head) if head else None
        verdict = gate_verdict(int(pull["number"]), sha, gate, parse_time(pull.get("merged_at")))
    ctx.caches.verdicts[key] = verdict if verdict is not None else False
    return verdict


async def gate_at_merge(ctx: Ctx, head: str) -> GateAtMerge | None:
    """ringbot's newest gate run on a merged pull request's head (the gate is not run again
    once it closed, so this is how it stood at the merge)."""
    url = (
        f"/repos/{ctx.repo}/commits/{head}/check-runs?check_name={quote(GATE_CHECK_NAME, safe='')}"
        f"&app_id={ctx.identity.app_id}&filter=latest"
    )
    data = await ctx.gh.getitem(url)
    runs = [r for r in data.get("check_runs", []) if r.get("name") == GATE_CHECK_NAME]
    run = max(runs, key=lambda r: int(r["id"]), default=None)
    if run is None:
        return None
    return GateAtMerge(
        str(run.get("status") or ""), run.get("conclusion"), parse_time(run.get("completed_at"))
    )


# --- the protection check -----------------------------------------------------------------------


async def _read(call: Awaitable[Any], failures: list[bool]) -> tuple[Seen, Any]:
    """A settings read: its body, or UNKNOWN when GitHub will not show it (401, 403, 404: as
    stable as the App's rights) or could not (5xx, time-outs: noted in `failures`, so the
    answer is asked again sooner). Never taken as "missing", and never stops the gate."""
    try:
        return Seen.PRESENT, await call
    except BadRequest as exc:
        failures.append(exc.status_code not in (401, 403, 404))
        return Seen.UNKNOWN, None
    except GitHubBroken:
        failures.append(True)
        return Seen.UNKNOWN, None


async def read_protection(ctx: Ctx, config: Config) -> Protection:
    """Whether the default branch requires the merge gate (rulesets, then branch protection)
    and whether each ring's environment has ringbot as a deployment protection rule.

    Cached an hour per repository (a `branch_protection_rule` or `repository_ruleset` webhook
    drops it). Costs, when not cached: 1 to 2 reads for the branch, 1 per ring environment."""
    key = (ctx.installation, ctx.repo)
    known = ctx.caches.protection.get(key) or ctx.caches.protection_unknown.get(key)
    if isinstance(known, Protection):
        return known
    branch = await default_branch(ctx)
    where = quote(branch, safe="")
    failures: list[bool] = []
    seen, rules = await _read(
        ctx.gh.getitem(f"/repos/{ctx.repo}/rules/branches/{where}?{PAGE}"), failures
    )
    gate, how = Seen.UNKNOWN, ""
    rules = rules if isinstance(rules, list) else []
    if seen == Seen.PRESENT and required_by_rules(rules, GATE_CHECK_NAME):
        gate, how = Seen.PRESENT, "ruleset"
    else:
        # Branch protection: readable with Administration: read, which app.yml does not ask
        # for; a 403 or 404 leaves it unknown unless the rulesets already answered.
        found, required = await _read(
            ctx.gh.getitem(f"/repos/{ctx.repo}/branches/{where}/protection/required_status_checks"),
            failures,
        )
        if found == Seen.PRESENT and required_by_protection(required, GATE_CHECK_NAME):
            gate, how = Seen.PRESENT, "branch protection"
        elif found == Seen.PRESENT or seen == Seen.PRESENT:
            gate = Seen.MISSING if found == Seen.PRESENT else Seen.UNKNOWN
    environments: list[tuple[str, Seen]] = []
    for ring in config.rings:
        name = quote(ring.environment, safe="")
        state, data = await _read(
            ctx.gh.getitem(f"/repos/{ctx.repo}/environments/{name}/deployment_protection_rules"),
            failures,
        )
        if state == Seen.PRESENT:
            rules_found = (
                data.get("custom_deployment_protection_rules") if isinstance(data, dict) else None
            )
            rules_found = rules_found if isinstance(rules_found, list) else []
            ours = has_app_rule(rules_found, ctx.identity.slug, ctx.identity.app_id)
            state = Seen.PRESENT if ours else Seen.MISSING
        environments.append((ring.environment, state))
    found_all = Protection(branch, gate, how, tuple(environments))
    # What GitHub failed to answer is asked again sooner (a 5xx passes); the rest holds an hour.
    (ctx.caches.protection_unknown if any(failures) else ctx.caches.protection)[key] = found_all
    return found_all


def forget_protection(ctx: Ctx) -> None:
    """Settings changed: the next look reads them again."""
    ctx.caches.protection.pop((ctx.installation, ctx.repo), None)
    ctx.caches.protection_unknown.pop((ctx.installation, ctx.repo), None)
