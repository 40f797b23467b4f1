"""Structured one-line JSON logs; known secrets are masked before anything is written."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from typing import Any

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


def redact(text: str) -> str:
    """Return text with every known secret replaced by ***."""
    for secret in _extra_secrets:
        text = text.replace(secret, "***")
    return _SECRET.sub("***", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as redacted JSON."""
        doc: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}))
        if record.exc_info:
            doc["error"] = self.formatException(record.exc_info)
        return redact(json.dumps(doc, default=str))


def setup(level: str = "INFO") -> None:
    """Send ringbot's logs to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("ringbot")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def log(level: int, msg: str, **fields: Any) -> None:
    """Log msg with structured fields (and the current delivery id) under the `ringbot` logger."""
    delivery = DELIVERY.get()
    if delivery is not None:
        fields.setdefault("delivery", delivery)
    logging.getLogger("ringbot").log(level, msg, extra={"fields": fields})


def log_exception(msg: str, **fields: Any) -> None:
    """Log msg with the exception being handled and its traceback."""
    logging.getLogger("ringbot").exception(msg, extra={"fields": fields})
