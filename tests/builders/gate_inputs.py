"""Builders for merge-gate tests: pull requests, checks, statuses, reviews, configs, decisions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import DEFAULT_CONFIG, Config, ConfigError, ConfigErrors
from bot.models import Check, Mark, Permission, PullRequest, Review
from bot.policy.gate import GateDecision, GateInput, Requirement

HEAD = "a" * 40
OLD = "b" * 40
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T2 = T0 + timedelta(minutes=10)


def pull(**overrides: Any) -> PullRequest:
    """An open, ready pull request by `author` with no labels."""
    fields: dict[str, Any] = {
        "repo": "acme/app",
        "number": 7,
        "author": "author",
        "head_sha": HEAD,
        "base_ref": "main",
        "default_branch": "main",
        "html_url": "https://github.com/acme/app/pull/7",
    }
    return PullRequest(**{**fields, **overrides})


def check(**overrides: Any) -> Check:
    """A green GitHub Actions check run named `build`."""
    fields: dict[str, Any] = {
        "name": "build",
        "source": "check_run",
        "status": "completed",
        "conclusion": "success",
        "url": "https://github.com/acme/app/runs/1",
        "app_slug": "github-actions",
        "started_at": T0,
        "id": 1,
    }
    return Check(**{**fields, **overrides})


def commit_status(**overrides: Any) -> Check:
    """A green commit status named `ci/jenkins`."""
    fields: dict[str, Any] = {
        "name": "ci/jenkins",
        "source": "status",
        "status": "completed",
        "conclusion": "success",
        "url": "https://ci.example.com/job/1",
        "app_slug": "",
        "started_at": None,
        "id": 0,
    }
    return Check(**{**fields, **overrides})


def review(**overrides: Any) -> Review:
    """An approval of the head commit by `alice`, who has write access."""
    fields: dict[str, Any] = {
        "user": "alice",
        "state": "APPROVED",
        "commit_id": HEAD,
        "submitted_at": T0,
        "permission": Permission.WRITE,
        "id": 1,
    }
    return Review(**{**fields, **overrides})


def gate_config(**merge_gate: Any) -> Config:
    """The default configuration with some merge_gate settings overridden."""
    settings = dataclasses.replace(DEFAULT_CONFIG.merge_gate, **merge_gate)
    return dataclasses.replace(DEFAULT_CONFIG, merge_gate=settings)


def config_errors(*errors: ConfigError) -> ConfigErrors:
    """An invalid configuration; one error about a bake time by default."""
    default = ConfigError(
        path="rings[2].bake", message="'2 days' is not a duration like 36h", line=14
    )
    return ConfigErrors(errors=errors or (default,))


def gate_input(**overrides: Any) -> GateInput:
    """A pull request that passes the gate: green build, one approval, default config."""
    fields: dict[str, Any] = {
        "pull": pull(),
        "checks": (check(),),
        "reviews": (review(),),
        "config": gate_config(),
        "merge_group": False,
    }
    return GateInput(**{**fields, **overrides})


def requirement(**overrides: Any) -> Requirement:
    """A passing builds requirement."""
    fields: dict[str, Any] = {
        "key": "checks",
        "title": "Builds",
        "mark": Mark.PASS,
        "detail": "`build` passed",
    }
    return Requirement(**{**fields, **overrides})


def decision(*requirements: Requirement, **overrides: Any) -> GateDecision:
    """A passing decision holding these requirements (one passing build by default)."""
    fields: dict[str, Any] = {
        "status": "completed",
        "conclusion": "success",
        "title": "Ready to merge",
        "requirements": requirements or (requirement(),),
    }
    return GateDecision(**{**fields, **overrides})
