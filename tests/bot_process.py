"""`python -m bot` as a real process serving the simulator: for SIGKILL tests and benchmarks."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bot.sim import Simulator

from .harness import free_port

ROOT = Path(__file__).resolve().parent.parent
POLL = 0.05  # seconds between two looks at /healthz


def bot_env(sim: Simulator, api_url: str, *, secret: str, **extra: str) -> dict[str, str]:
    """What a bot needs to serve this simulator, as the process environment (this process's
    own GitHub, ringbot and Redis variables left out), plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "RINGBOT_", "REDIS_")) and k not in ("HOST", "PORT")
    }
    env.update(
        GITHUB_APP_ID=str(sim.app_id),
        GITHUB_PRIVATE_KEY=sim.private_key_pem,
        GITHUB_WEBHOOK_SECRET=secret,
        GITHUB_API_URL=api_url,
        RINGBOT_LOG_LEVEL="INFO",  # production logging: one JSON line per delivery
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


class BotProcess:
    """`python -m bot` on a fixed port with the given env; stdout and stderr to a file."""

    def __init__(
        self, name: str, env: dict[str, str], log_dir: Path, *, wait: float = 60.0
    ) -> None:
        self.name = name
        self.wait = wait  # the longest a start may take
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self.log_dir = log_dir
        self.logs: list[Path] = []
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start a new process (same env, same port); its output goes to a new file."""
        assert self.proc is None or self.proc.poll() is not None
        path = self.log_dir / f"{self.name}-{len(self.logs) + 1}.log"
        self.logs.append(path)
        with path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def ready(self) -> None:
        """Wait until /healthz answers 200."""
        deadline = time.monotonic() + self.wait
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as s:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited with {self.proc.returncode}")
                try:
                    async with s.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(POLL)
        raise AssertionError(f"{self.name} did not answer /healthz within {self.wait:.0f} s")

    def signal(self, sig: signal.Signals) -> None:
        """Send a signal to the running process."""
        assert self.proc is not None and self.proc.poll() is None, f"{self.name} is not running"
        self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a stopped process dies just the same
            self.proc.kill()
            self.proc.wait(10)

    def output(self) -> str:
        """Everything every process of this bot wrote."""
        return "".join(
            f"----- {p.name} -----\n{p.read_text(errors='replace')}"
            for p in self.logs
            if p.exists()
        )
