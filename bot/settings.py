"""Settings, read once from the environment into a frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_URL = "https://api.github.com"
# GitHub allows 100 requests in flight at once (a secondary rate limit). A job makes up to
# about 3 of its reads at once (a gate: check runs, statuses and reviews), so 32 jobs keep
# at most ~96 requests in flight. More workers than 100 could never all be talking to GitHub.
DEFAULT_WORKERS = 32
MAX_WORKERS = 100


class SettingsError(Exception):
    """A required setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to start; `sandbox` when no App credentials are given."""

    app_id: str | None
    private_key: str | None = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    host: str = "0.0.0.0"
    port: int = 8080
    sandbox: bool = False
    concurrency: int = DEFAULT_WORKERS  # jobs running at once across repositories
    drain_seconds: float = 20.0  # how long SIGTERM waits for in-flight work
    debounce_seconds: float = 0.1  # how long a gate or ring key waits for its burst to end
    max_wait_seconds: float = 60.0  # the longest rate-limit wait a job sits through
    request_timeout: float = 10.0  # a GitHub request that takes longer is a transport failure
    retry_seconds: float = 10.0  # first pause before a job that failed on GitHub's side runs again
    redis_url: str | None = field(default=None, repr=False)  # replicas share work through it
    catchup_seconds: float = 300.0  # how often the delivery log is read for missed work; 0: never
    catchup_lookback_seconds: float = 3600.0  # how far back the first read after a start looks
    catchup_max_deliveries: int = 2000  # logged payloads fetched per catch-up pass at most
    etag_cache_bytes: int = 64 * 1024 * 1024  # the ETag cache's size, all installations together
    lease_seconds: float = 30.0  # with REDIS_URL: a dead replica's job runs again within this

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings; raise SettingsError naming the variable at fault."""
        env = os.environ if env is None else env
        app_id = env.get("GITHUB_APP_ID", "").strip() or None
        key = env.get("GITHUB_PRIVATE_KEY", "").strip() or None
        key_file = env.get("GITHUB_PRIVATE_KEY_FILE", "").strip() or None
        if key is None and key_file is not None:
            try:
                key = Path(key_file).read_text()
            except OSError as exc:
                raise SettingsError(
                    f"GITHUB_PRIVATE_KEY_FILE: cannot read {key_file}: {exc.strerror}"
                ) from None
        if key is not None:
            # Platforms that cannot hold newlines in a variable pass them as "\n".
            key = key.replace("\\n", "\n")
            if "PRIVATE KEY-----" not in key:
                raise SettingsError("GITHUB_PRIVATE_KEY: not a PEM private key")
        sandbox = app_id is None and key is None
        if not sandbox:
            if app_id is None:
                raise SettingsError("GITHUB_APP_ID is required when a private key is set")
            if key is None:
                raise SettingsError(
                    "GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_FILE is required with GITHUB_APP_ID"
                )
            if not app_id.isdigit():
                raise SettingsError(f"GITHUB_APP_ID: {app_id!r} is not a number")
        secret = env.get("GITHUB_WEBHOOK_SECRET", "")
        if not secret and not sandbox:
            raise SettingsError("GITHUB_WEBHOOK_SECRET is required: ringbot refuses unsigned hooks")
        port_text = env.get("PORT", "8080")
        if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            raise SettingsError(f"PORT: {port_text!r} is not a port number")
        api_url = env.get("GITHUB_API_URL", DEFAULT_API_URL).strip().rstrip("/")
        if not api_url.startswith(("http://", "https://")):
            raise SettingsError(f"GITHUB_API_URL: {api_url!r} is not an http(s) URL")
        etag_text = env.get("RINGBOT_ETAG_CACHE_BYTES", "").strip() or str(cls.etag_cache_bytes)
        if not (etag_text.isascii() and etag_text.isdigit()):
            raise SettingsError(f"RINGBOT_ETAG_CACHE_BYTES: {etag_text!r} is not a byte count")
        catchup_text = env.get("RINGBOT_CATCHUP_SECONDS", "").strip() or "300"
        if not (catchup_text.isascii() and catchup_text.isdigit()):
            raise SettingsError(f"RINGBOT_CATCHUP_SECONDS: {catchup_text!r} is not whole seconds")
        lease_text = env.get("RINGBOT_LEASE_SECONDS", "").strip() or str(cls.lease_seconds)
        try:
            lease = float(lease_text)
        except ValueError:
            lease = 0.0
        if not 0.5 <= lease <= 3600:  # also refuses nan and inf
            raise SettingsError(
                f"RINGBOT_LEASE_SECONDS: {lease_text!r} is not a number of seconds from 0.5 to 3600"
            )
        workers_text = env.get("RINGBOT_WORKERS", "").strip() or str(DEFAULT_WORKERS)
        if not (
            workers_text.isascii()
            and workers_text.isdigit()
            and 1 <= int(workers_text) <= MAX_WORKERS
        ):
            raise SettingsError(
                f"RINGBOT_WORKERS: {workers_text!r} is not a whole number of jobs "
                f"from 1 to {MAX_WORKERS}"
            )
        redis_url = env.get("REDIS_URL", "").strip() or None
        if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("REDIS_URL: not a redis://, rediss:// or unix:// URL")
        return cls(
            app_id=app_id,
            private_key=key,
            webhook_secret=secret,
            api_url=api_url,
            host=env.get("HOST", "0.0.0.0"),
            port=int(port_text),
            sandbox=sandbox,
            redis_url=redis_url,
            catchup_seconds=float(catchup_text),
            etag_cache_bytes=int(etag_text),
            lease_seconds=lease,
            concurrency=int(workers_text),
        )
