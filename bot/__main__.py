"""Start ringbot: settings -> app -> run. Without App credentials, start the sandbox."""

from __future__ import annotations

import gc
import os
import sys

from aiohttp import web

from . import logs
from .settings import Settings, SettingsError


def main() -> int:
    """Serve webhooks, or run the sandbox when no App credentials are set."""
    logs.setup(os.environ.get("RINGBOT_LOG_LEVEL", "INFO"))
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"ringbot: {exc}", file=sys.stderr)
        return 2
    if settings.sandbox:
        from .sim.sandbox import run_sandbox  # the simulator is only ever loaded here

        return run_sandbox(settings)
    from .app import create_app

    logs.log(20, "ringbot starting", mode="github", api_url=settings.api_url, port=settings.port)
    app = create_app(settings)
    # Everything loaded so far lives as long as the process: keep the garbage collector from
    # scanning it again on every collection (each webhook body makes many short-lived objects).
    gc.collect()
    gc.freeze()
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=settings.drain_seconds,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
