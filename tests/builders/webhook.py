"""Builders for what reaches POST /webhook: signatures, request heads and oversized bodies."""

from __future__ import annotations

import functools
import gzip

from bot.sim.delivery import sign

from ..harness import SECRET

MB = 1024 * 1024


def signature(body: bytes = b"", secret: str = SECRET) -> str:
    """The X-Hub-Signature-256 GitHub would send with `body`."""
    return sign(secret, body)["X-Hub-Signature-256"]


def raw_head(
    headers: dict[str, str] | None = None, extra: dict[str, str | bytes] | None = None
) -> bytes:
    """An HTTP/1.1 request head for POST /webhook, with header values an HTTP client refuses."""
    lines = [b"POST /webhook HTTP/1.1", b"Host: ringbot", b"Connection: close"]
    for name, value in {**(headers or {}), **(extra or {})}.items():
        lines.append(
            name.encode() + b": " + (value if isinstance(value, bytes) else value.encode())
        )
    return b"\r\n".join(lines) + b"\r\n\r\n"


@functools.cache
def large_body() -> bytes:
    """A 3 MB JSON object."""
    return b"{" + b" " * (3 * MB) + b"}"


@functools.cache
def gzip_bomb() -> bytes:
    """A few kilobytes of gzip that inflate to 26 MB."""
    return gzip.compress(b" " * (26 * MB), 1)
