"""Structured one-line JSON logs; known secrets are masked before anything is written."""

from __future__ import annotations

import logging
import re
import sys
import time
from contextvars import ContextVar
from typing import Any, TextIO

import orjson

# The delivery whose work is being done: every log line of a job names it.
DELIVERY: ContextVar[str | None] = ContextVar("delivery", default=None)

# Installation tokens (ghs_), user tokens (ghp_, gho_, ghu_), JWTs and PEM bodies.
_SECRET = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{8,})|(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)"
    r"|(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----)"
    r"|((?:token|bearer)\s+[A-Za-z0-9._-]{8,})",
    re.IGNORECASE,
)
_extra_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it would appear in a log line."""
    if value and len(value) >= 6:
        _extra_secrets.add(value)


# Cheap pre-check: most lines hold nothing that looks like a secret and skip the full scan
# (plain substring tests on the lower-cased line cost a tenth of a case-blind regex search).
_SECRET_MARKERS = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "eyj", "private key", "token", "bearer")


def redact(text: str) -> str:
    """Return text with every known secret replaced by ***."""
    for secret in _extra_secrets:
        if secret in text:
            text = text.replace(secret, "***")
    lowered = text.lower()
    if not any(marker in lowered for marker in _SECRET_MARKERS):
        return text
    return _SECRET.sub("***", text)


_stamp_cache: list[Any] = [-1, ""]


def _stamp(created: float) -> str:
    # One line per delivery is on the hot path: format the time once per second.
    second = int(created)
    if second != _stamp_cache[0]:
        _stamp_cache[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))]
    return str(_stamp_cache[1])


def render(created: float, level: int, msg: str, fields: dict[str, Any]) -> str:
    """One redacted JSON line: time, level, message, then the fields."""
    doc: dict[str, Any] = {"time": _stamp(created), "level": _LEVELS.get(level, "info"), "msg": msg}
    doc.update(fields)
    return redact(orjson.dumps(doc, default=str).decode())


_LEVELS = {10: "debug", 20: "info", 30: "warning", 40: "error", 50: "critical"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as redacted JSON."""
        fields = dict(getattr(record, "fields", {}))
        if record.exc_info:
            fields["error"] = self.formatException(record.exc_info)
        return render(record.created, record.levelno, record.getMessage(), fields)


# Set by setup(): where JSON lines go and from which level. log() then writes them itself,
# skipping the logging module's record machinery, which costs more than the webhook's own
# work per delivery. Without setup() (tests, embedding) every line goes through `logging`.
_direct: logging.StreamHandler[TextIO] | None = None
_logger = logging.getLogger("ringbot")


def setup(level: str = "INFO") -> None:
    """Send ringbot's logs to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    # Our lines carry their own fields; the caller's file and line are not worth their cost
    # on the webhook path.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger("ringbot")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    global _direct
    _direct = handler


def log(level: int, msg: str, **fields: Any) -> None:
    """Log msg with structured fields (and the current delivery id) under the `ringbot` logger."""
    delivery = DELIVERY.get()
    if delivery is not None:
        fields.setdefault("delivery", delivery)
    if _direct is not None and _logger.handlers == [_direct]:
        if _logger.isEnabledFor(level):
            _direct.stream.write(render(time.time(), level, msg, fields) + "\n")
            _direct.stream.flush()
        return
    logging.getLogger("ringbot").log(level, msg, extra={"fields": fields})


def log_exception(msg: str, **fields: Any) -> None:
    """Log msg with the exception being handled and its traceback."""
    logging.getLogger("ringbot").exception(msg, extra={"fields": fields})
