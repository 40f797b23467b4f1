"""Structured one-line JSON logs; secrets are masked before anything is written."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextvars import ContextVar
from types import TracebackType
from typing import Any, TextIO

import orjson

# The delivery whose work is being done: every log line of a job names it.
DELIVERY: ContextVar[str | None] = ContextVar("delivery", default=None)

# Secrets by their shape: GitHub tokens (classic ghp_ gho_ ghu_ ghs_ ghr_, whose bodies may hold
# `-` and `_`, and fine-grained github_pat_), JWTs, PEM private keys (whole, JSON-escaped with
# literal `\n`, or cut short by a field limit) and Authorization header values.
_SECRET = re.compile(
    r"(?:gh[pousr]_|github_pat_)[A-Za-z0-9_-]{8,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    r"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
    r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\]*)"
    r"|(?:token|bearer)\s+[A-Za-z0-9._~+/=-]{8,}",
    re.IGNORECASE | re.DOTALL,
)
# Cheap pre-check: most lines hold nothing that looks like a secret and skip the full scan
# (plain substring tests on the lower-cased line cost a tenth of a case-blind regex search).
_SECRET_MARKERS = (
    "ghs_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghr_",
    "github_pat_",
    "eyj",
    "private key",
    "token",
    "bearer",
)

# Secrets ringbot holds, masked by their exact value however they look: the permanent ones it is
# configured with, and the installation tokens and JWTs it receives and mints (the newest
# MAX_ROTATING_SECRETS of them: older ones have expired, and the set must not grow for ever).
MAX_ROTATING_SECRETS = 100
_MIN_SECRET = 6
_permanent: dict[str, None] = {}
_rotating: OrderedDict[str, None] = OrderedDict()
# The pre-check looks for a short piece of each form that starts with a letter log lines seldom
# hold: one regex scan then jumps between the few places worth a look. The rare form without such
# a letter (a hex webhook secret) gets a substring test of its own. Then come all the forms to
# mask, longest first. Swapped whole, so a reader on another thread sees old or new, not a mix.
_known: tuple[re.Pattern[str] | None, tuple[str, ...], tuple[str, ...]] = (None, (), ())
_PROBE_LENGTH = 10
# Upper-case letters that ringbot's lower-case JSON lines seldom hold (not T and Z: timestamps).
_RARE = re.compile("[BDFJKLMNQUVWXY]")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n|\\r\\n|\\n")


def register_secret(value: str | None, *, rotating: bool = False) -> None:
    """Mask this exact value, JSON-escaped too, and each long line of it, in every log line."""
    if not value or len(value) < _MIN_SECRET:
        return
    if rotating:
        known = value in _rotating
        _rotating[value] = None
        _rotating.move_to_end(value)
        if known:
            return
        while len(_rotating) > MAX_ROTATING_SECRETS:
            _rotating.popitem(last=False)
    elif value in _permanent:
        return
    else:
        _permanent[value] = None
    _rebuild()


def _rebuild() -> None:
    """Recompute the forms to mask and their pre-check."""
    global _known
    forms = {form: None for value in (*_permanent, *_rotating) for form in _forms(value)}
    probes: set[str] = set()
    plain: list[str] = []
    for form in forms:
        rare = _RARE.search(form, 0, max(len(form) - _PROBE_LENGTH + 1, 0))
        if rare is None:
            plain.append(form)
        else:
            probes.add(re.escape(form[rare.start() : rare.start() + _PROBE_LENGTH]))
    probe = re.compile("|".join(sorted(probes))) if probes else None
    _known = (probe, tuple(plain), tuple(sorted(forms, key=len, reverse=True)))


def _forms(value: str) -> Iterator[str]:
    """How a secret may show in a JSON log line: as is, JSON-escaped, and line by line."""
    yield value
    # orjson writes a key's newlines as `\n`, and a quote or backslash with a backslash before it.
    escaped = orjson.dumps(value).decode()[1:-1]
    if escaped != value:
        yield escaped
    for line in _LINE_BREAKS.split(value):
        line = line.strip()
        # Each base64 line of a PEM body, but not its -----BEGIN/END----- armour.
        if len(line) >= 16 and not line.startswith("-----") and line != value:
            yield line


def redact(text: str) -> str:
    """Return text with every known secret, and anything shaped like one, replaced by ***."""
    probe, plain, forms = _known
    known = probe is not None and probe.search(text) is not None
    for form in plain:
        known = known or form in text
    if known:
        for form in forms:
            if form in text:
                text = text.replace(form, "***")
    lowered = text.lower()
    for marker in _SECRET_MARKERS:
        if marker in lowered:
            return _SECRET.sub("***", text)
    return text


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
    try:
        line = orjson.dumps(doc, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):
        # A lone surrogate or a key orjson refuses: the standard library escapes anything.
        line = json.dumps(doc, default=str, ensure_ascii=True)
    return redact(line)


_LEVELS = {10: "debug", 20: "info", 30: "warning", 40: "error", 50: "critical"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as redacted JSON, with its traceback and stack in `error`."""
        fields = dict(getattr(record, "fields", {}))
        if record.name != "ringbot" and not record.name.startswith("ringbot."):
            fields.setdefault("logger", record.name)
        try:
            msg = record.getMessage()
        except Exception:  # a library's bad format string must not print logging's own traceback
            msg = str(record.msg)
            fields["args"] = repr(record.args)
        # A traceback spans many lines: it goes inside the JSON line, never beside it.
        error = []
        if record.exc_info:
            error.append(self.formatException(record.exc_info))
        elif record.exc_text:
            error.append(record.exc_text)
        if record.stack_info:
            error.append(self.formatStack(record.stack_info))
        if error:
            fields["error"] = "\n".join(error)
        return render(record.created, record.levelno, msg, fields)


# Set by setup(): where JSON lines go and from which level. log() then writes them itself,
# skipping the logging module's record machinery, which costs more than the webhook's own
# work per delivery. Without setup() (tests, embedding) every line goes through `logging`.
_direct: logging.StreamHandler[TextIO] | None = None
_logger = logging.getLogger("ringbot")


def setup(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log line (ringbot's, aiohttp's, asyncio's...) to stderr as a JSON line."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    # Our lines carry their own fields. (The caller's file and line stay: log() writes the
    # webhook path's lines without a record, and without them logging drops stack_info.)
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    ours = logging.getLogger("ringbot")
    ours.handlers[:] = [handler]
    ours.setLevel(level)
    ours.propagate = False
    # Every other logger reaches the root: the same JSON lines, and only when something is
    # wrong (aiohttp.access writes a line per request at INFO).
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.WARNING, ours.level))
    logging.captureWarnings(True)
    # What nothing caught would otherwise print as a bare traceback.
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    sys.unraisablehook = _log_unraisable
    global _direct
    _direct = handler


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    """sys.excepthook: the exception that ends the program, as a JSON line."""
    _logger.critical("uncaught exception", exc_info=(kind, error, traceback))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    """threading.excepthook: the exception that ended a thread, as a JSON line."""
    if args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else None
    _logger.error(
        "uncaught exception in a thread",
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        extra={"fields": {"thread": name}},
    )


def _log_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """sys.unraisablehook: an exception Python could not raise (in __del__...), as a JSON line."""
    error = unraisable.exc_value
    exc_info = (type(error), error, unraisable.exc_traceback) if error is not None else None
    _logger.error(
        "exception ignored",
        exc_info=exc_info,
        extra={"fields": {"where": repr(unraisable.object), "note": unraisable.err_msg}},
    )


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
