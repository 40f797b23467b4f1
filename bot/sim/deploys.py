"""Deployments, deployment statuses, environments, releases and protection rules."""

from __future__ import annotations

from typing import Any

from bot.sim import limits, payloads, shapes
from bot.sim.delivery import Webhooks
from bot.sim.errors import SimError, invalid
from bot.sim.shared import State
from bot.sim.state import (
    JSON,
    App,
    Deployment,
    DeploymentStatus,
    Environment,
    ProtectionRuleReview,
    Release,
    Repo,
    User,
)

OK_CONCLUSIONS = ("success", "neutral", "skipped")


class Deployments:
    """The deployment side of GitHub over the shared state; every change emits its webhooks."""

    def __init__(self, state: State, hooks: Webhooks) -> None:
        self.state = state
        self.hooks = hooks
        self.protection_rule_reviews: list[ProtectionRuleReview] = []

    def environment(self, r: Repo, name: str) -> Environment:
        """The environment, created on first use (as a deployment to it does on GitHub)."""
        key = name.lower()
        if key not in r.environments:
            now = self.state.clock()
            r.environments[key] = Environment(self.state.next_id(), name, now, now)
        return r.environments[key]

    def _failed_contexts(self, r: Repo, sha: str, required: list[str] | None) -> list[JSON]:
        """Commit contexts that are not green (all of them when `required` is None)."""
        state: dict[str, str] = {s.context: s.state for s in shapes.latest_statuses(r, sha)}
        for run in sorted(r.check_runs.values(), key=lambda x: x.id):
            if run.head_sha == sha:
                ok = run.status == "completed" and run.conclusion in OK_CONCLUSIONS
                state[run.name] = "success" if ok else (run.conclusion or "pending")
        names = list(state) if required is None else required
        return [
            {"context": n, "state": state.get(n, "missing")}
            for n in names
            if state.get(n) != "success"
        ]

    def create_deployment(
        self, r: Repo, creator: User, body: JSON, via_app: App | None
    ) -> Deployment:
        """POST /deployments semantics: the commit's checks gate it unless required_contexts=[]."""
        ref = body.get("ref")
        if not isinstance(ref, str) or not ref:
            raise invalid("Deployment", "ref", "missing_field")
        sha = r.resolve(ref)
        if sha is None:
            raise SimError(422, shapes.error(f"No ref found for: {ref}"))
        failed = self._failed_contexts(r, sha, body.get("required_contexts"))
        if failed:
            err = {
                "contexts": failed,
                "resource": "Deployment",
                "field": "required_contexts",
                "code": "invalid",
            }
            raise SimError(
                409, shapes.error(f"Conflict: Commit status checks failed for {ref}.", errors=[err])
            )
        env = str(body.get("environment") or "production")
        self.environment(r, env)
        now = self.state.clock()
        d = Deployment(
            self.state.next_id(),
            sha,
            ref,
            str(body.get("task") or "deploy"),
            env,
            body.get("payload") if body.get("payload") is not None else {},
            body.get("description", ""),
            creator,
            now,
            now,
            bool(body.get("production_environment", env == "production")),
            bool(body.get("transient_environment", False)),
            via_app,
        )
        r.deployments[d.id] = d
        self.hooks.emit(r, "deployment", self._deployment_event(r, d, creator))
        return d

    def _deployment_event(self, r: Repo, d: Deployment, sender: User) -> JSON:
        return {
            **payloads.envelope(self.state.api, r, sender, "created"),
            "deployment": shapes.deployment(self.state.api, r, d),
            "workflow": None,
            "workflow_run": None,
        }

    def add_deployment_status(
        self, r: Repo, d: Deployment, creator: User, body: JSON, via_app: App | None
    ) -> DeploymentStatus:
        """POST .../statuses semantics, including auto_inactive on success."""
        state = body.get("state")
        if state not in (
            "error",
            "failure",
            "inactive",
            "in_progress",
            "queued",
            "pending",
            "success",
        ):
            raise invalid("DeploymentStatus", "state")
        limits.deployment_status(body.get("description"))
        log_url = str(body.get("log_url") or body.get("target_url") or "")
        s = self._new_status(r, d, str(state), creator, body, log_url, via_app)
        if state == "success" and body.get("auto_inactive", True) is not False:
            for old in sorted(r.deployments.values(), key=lambda x: x.id):
                if (
                    old.id < d.id
                    and old.environment == d.environment
                    and not old.transient_environment
                ) and self.latest_status(r, old.id) == "success":
                    self._new_status(r, old, "inactive", creator, {}, "", via_app)
        return s

    def _new_status(
        self,
        r: Repo,
        d: Deployment,
        state: str,
        creator: User,
        body: JSON,
        log_url: str,
        via_app: App | None,
    ) -> DeploymentStatus:
        env = str(body.get("environment") or d.environment)
        s = DeploymentStatus(
            self.state.next_id(),
            d.id,
            state,
            str(body.get("description") or ""),
            env,
            str(body.get("environment_url") or ""),
            log_url,
            creator,
            self.state.clock(),
            via_app,
        )
        r.deployment_statuses.append(s)
        d.updated_at = s.created_at
        event = {
            **payloads.envelope(self.state.api, r, creator, "created"),
            "deployment_status": shapes.deployment_status(self.state.api, r, s),
            "deployment": shapes.deployment(self.state.api, r, d),
        }
        self.hooks.emit(r, "deployment_status", event)
        return s

    def latest_status(self, r: Repo, deployment_id: int) -> str | None:
        """The state of a deployment's newest status."""
        mine = [s for s in r.deployment_statuses if s.deployment_id == deployment_id]
        return mine[-1].state if mine else None

    def post_deployment_status(
        self,
        repo: str,
        deployment_id: int,
        state: str,
        by: str = "cd-bot",
        description: str = "",
        environment_url: str = "",
        log_url: str = "",
        auto_inactive: bool = True,
    ) -> int:
        """The user's CD reports on a deployment; returns the status id."""
        r = self.state.repo(repo)
        body: JSON = {
            "state": state,
            "description": description,
            "environment_url": environment_url,
            "log_url": log_url,
            "auto_inactive": auto_inactive,
        }
        return self.add_deployment_status(
            r, r.deployments[deployment_id], self.state.user(by), body, None
        ).id

    def create_release(self, r: Repo, author: User, body: JSON) -> Release:
        """POST /releases: tags target_commitish; 422 if that tag already exists."""
        tag = body.get("tag_name")
        if not isinstance(tag, str) or not tag:
            raise invalid("Release", "tag_name", "missing_field")
        if tag in r.tags or any(x.tag_name == tag for x in r.releases):
            raise invalid("Release", "tag_name", "already_exists")
        target = str(body.get("target_commitish") or r.default_branch)
        sha = r.resolve(target)
        if sha is None:
            raise invalid("Release", "target_commitish")
        limits.release(body.get("name"), body.get("body"))
        draft = bool(body.get("draft", False))
        now = self.state.clock()
        notes = str(body.get("body") or "")
        if body.get("generate_release_notes") and not notes:
            notes = f"**Full Changelog**: {self.state.api}/{r.full_name}/commits/{tag}"
        rel = Release(
            self.state.next_id(),
            tag,
            target,
            body.get("name") or tag,
            notes,
            draft,
            bool(body.get("prerelease", False)),
            author,
            now,
            None if draft else now,
        )
        if not draft:
            r.tags[tag] = sha  # drafts do not create their tag until published
        r.releases.append(rel)
        actions = ["created"] if draft else ["created", "published"]
        if not draft and not rel.prerelease:
            actions.append("released")
        for action in actions:
            event = {
                **payloads.envelope(self.state.api, r, author, action),
                "release": shapes.release(self.state.api, r, rel),
            }
            self.hooks.emit(r, "release", event)
        return rel

    def request_protection_rule(
        self,
        repo: str,
        environment: str,
        sha: str,
        run_id: int | None = None,
        by: str | None = None,
        ref: str | None = None,
    ) -> int:
        """An Actions job waits on the App's protection rule; returns the waiting deployment's id."""
        r = self.state.repo(repo)
        run_id = run_id or self.state.next_id()
        actions = self.state.other_app("github-actions")
        d = self.create_deployment(
            r,
            self.state.user("github-actions[bot]"),
            {"ref": ref or sha, "environment": environment, "required_contexts": []},
            actions,
        )
        sender = self.state.user(by or r.owner.login)
        event: dict[str, Any] = {
            **payloads.envelope(self.state.api, r, sender, "requested"),
            "environment": environment,
            "event": "deployment",
            "deployment_callback_url": f"{self.state.api}/repos/{r.full_name}/actions/runs/{run_id}/deployment_protection_rule",
            "deployment": shapes.deployment(self.state.api, r, d),
            "pull_requests": [],
        }
        self.hooks.emit(r, "deployment_protection_rule", event)
        return d.id

    def review_protection_rule(self, r: Repo, run_id: int, body: JSON, who: User) -> None:
        """What the App POSTs to deployment_callback_url."""
        state, env = body.get("state"), body.get("environment_name")
        if state not in ("approved", "rejected"):
            raise invalid("DeploymentProtectionRule", "state")
        if not isinstance(env, str) or not env:
            raise invalid("DeploymentProtectionRule", "environment_name", "missing_field")
        review = ProtectionRuleReview(
            r.full_name, run_id, env, state, str(body.get("comment") or ""), who.login
        )
        self.protection_rule_reviews.append(review)
