"""Structured one-line JSON logs; secrets are masked before anything is written."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType, TracebackType
from typing import Any, NamedTuple, TextIO

import orjson

# The delivery whose work is being done: every log line of a job names it.
DELIVERY: ContextVar[str | None] = ContextVar("delivery", default=None)

# Secrets by their shape: GitHub tokens (classic ghp_ gho_ ghu_ ghs_ ghr_, whose bodies may hold
# `-` and `_`, fine-grained github_pat_, and GitHub Enterprise Server's older `v1.` + 40 hex
# installation tokens), JWTs, PEM private keys (whole, JSON-escaped with literal `\n`, or cut short
# by a field limit), an Authorization header's credentials, and the value of any key named like
# a secret (`token`, `access_token`, `client_secret`, `authorization`...) whether written
# `key=value` (URLs, form bodies), `key: value` or `"key": "value"` (JSON, escaped or not).
# No alternative scans again what an earlier attempt scanned (a JWT starts only where a word
# does, a key's body stops at the next armour), so a line costs time in proportion to its
# length: `eyJ` 8,000 times over took 2 s, and "-----BEGIN RSA PRIVATE KEY-----" 2,000 times 1 s.
_SECRET = re.compile(
    # A first-character gate: the search skips quickly past every position no secret starts at.
    r"(?=[abegpstv-])(?:"
    r"(?:gh[pousr]_|github_pat_)[A-Za-z0-9_-]{8,}+"
    r"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=\s\\:,]|-(?!----(?:BEGIN|END)))*+"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY-----)?"
    # The rest start where a word does.
    r"|(?<![A-Za-z0-9])(?:"
    r"(?<![_-])eyJ[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]++\.[A-Za-z0-9_-]*+"
    r"|v1\.[0-9a-f]{40,}+"
    # `token abc`, `Bearer abc`, `Basic abc`: credentials hold a digit or a `.`, `+`, `/`...
    # inside, or are long; words ("token requested", "basic authentication") are left alone.
    r"|(?:token|bearer|basic)\s++"
    r"(?=[A-Za-z]*+(?:[0-9]|[._~+/=-][A-Za-z0-9])|[A-Za-z]{20})[A-Za-z0-9._~+/=-]{8,}+"
    # A key (`token`, `access_token`, `GITHUB_WEBHOOK_SECRET`, `Authorization`...) and what
    # separates it from its value are kept; the value, up to its closing quote or (unquoted) the
    # end of the word or a URL's `@host`, is masked, with the scheme of an Authorization value.
    r"|(?P<key>(?:token|secret|password|(?:proxy-)?authorization)"
    r"""\\*+["']?\s*+[:=]\s*+(?:\\*+"(?=[^"\\])|'(?=[^'\\]))?)"""
    r"""(?:(?<=")[^"\\]++|(?<=')[^'\\]++"""
    r"""|(?<!["'])(?:(?:basic|bearer|token)\s++)?[^\s"'\\&,;@)}\]]++)"""
    r"))",
    re.IGNORECASE,
)


def _mask(match: re.Match[str]) -> str:
    """What replaces a match: ***, after the key of a key-value match."""
    return (match.groupdict().get("key") or "") + "***"


# Cheap pre-check: most lines hold nothing that looks like a secret and skip the full scan
# (plain substring tests on the lower-cased line cost a tenth of a case-blind regex search).
# GitHub's token prefixes are looked for only in a line that holds "gh", and `v1.` (see _V1) first.
_GITHUB_MARKERS = ("ghs_", "ghp_", "gho_", "ghu_", "ghr_", "github_pat_")
_SECRET_MARKERS = (
    "eyj",
    "private key",
    "token",
    "bearer",
    "basic",
    "secret",
    "password",
    "authorization",
)

# Secrets ringbot holds, masked by their exact value however they look: the permanent ones it is
# configured with, and the installation tokens and JWTs it receives and mints. Only the newest
# MAX_ROTATING_SECRETS of those are kept (older ones have expired, and the set must not grow for
# ever): an installation token lives an hour and a JWT is minted to fetch each one, so this
# covers tokens for 1,000 installations at once, with room to spare. redact() costs the same
# however many are held; register_secret() copies a dictionary of them (about 10 us at 2,000).
MAX_ROTATING_SECRETS = 2_000
_MIN_SECRET = 6
# Each form to mask is found by a probe: the 9 characters after the first "anchor" in it, an
# upper-case letter ringbot's lower-case JSON lines seldom hold (not T and Z: timestamps), or the
# `v1.` that starts GitHub Enterprise Server's older (all lower-case) installation tokens.
# redact() collects the 9 characters after every anchor in the line (one regex pass, and one more
# for a line holding `v1.`) and looks each up in a dictionary: its cost does not grow with the
# number of secrets held. The rare form without an anchor early enough (a hex webhook secret) is
# tested on its own.
_PROBE_LENGTH = 9
_RARE = "BDFJKLMNQUVWXY"
_V1 = "v1."
_ANCHOR = re.compile(f"[{_RARE}]|{re.escape(_V1)}")
_WINDOWS = re.compile(f"[{_RARE}](?=(.{{{_PROBE_LENGTH}}}))", re.DOTALL)
_V1_WINDOWS = re.compile(f"{re.escape(_V1)}(?=(.{{{_PROBE_LENGTH}}}))", re.DOTALL)
_LINE_BREAKS = re.compile(r"\r\n|\r|\n|\\r\\n|\\n")


class _Known(NamedTuple):
    """The forms to mask, published whole (never changed after), so readers need no lock."""

    probes: Mapping[str, tuple[str, ...]] = MappingProxyType({})  # probe -> forms that hold it
    plain: tuple[str, ...] = ()  # forms without a probe


class _Secrets:
    """The secrets held and how many of them show as each form; changed under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.permanent: dict[str, tuple[str, ...]] = {}  # value -> its forms
        self.rotating: OrderedDict[str, tuple[str, ...]] = OrderedDict()  # oldest first
        self.holders: dict[str, int] = {}  # form -> how many held values show as it

    def add(self, value: str, rotating: bool) -> None:
        global _known
        with self.lock:
            if rotating and value in self.rotating:
                self.rotating.move_to_end(value)  # the newest again
                return
            if not rotating and value in self.permanent:
                return
            forms = tuple(_forms(value))
            dropped: list[tuple[str, ...]] = []
            if rotating:
                self.rotating[value] = forms
                while len(self.rotating) > MAX_ROTATING_SECRETS:
                    dropped.append(self.rotating.popitem(last=False)[1])
            else:
                self.permanent[value] = forms
            known = _known
            probes = dict(known.probes)
            plain = list(known.plain)
            for form in forms:
                self.holders[form] = self.holders.get(form, 0) + 1
                if self.holders[form] == 1:
                    _place(form, probes, plain, add=True)
            for old in dropped:
                for form in old:
                    self.holders[form] -= 1
                    if not self.holders[form]:
                        del self.holders[form]
                        _place(form, probes, plain, add=False)
            _known = _Known(probes, tuple(plain))


def _place(form: str, probes: dict[str, tuple[str, ...]], plain: list[str], *, add: bool) -> None:
    """Add form to (or take it from) the probe it is found by, or the forms tested on their own."""
    anchor = next(
        (found for found in _ANCHOR.finditer(form) if found.end() + _PROBE_LENGTH <= len(form)),
        None,
    )
    if anchor is None:
        if add:
            plain.append(form)
        else:
            plain.remove(form)
        return
    probe = form[anchor.end() : anchor.end() + _PROBE_LENGTH]
    others = tuple(other for other in probes.get(probe, ()) if other != form)
    if add:
        probes[probe] = (*others, form)
    elif others:
        probes[probe] = others
    else:
        del probes[probe]


_secrets = _Secrets()
_known = _Known()


def register_secret(value: str | None, *, rotating: bool = False) -> None:
    """Mask this exact value, JSON-escaped too, and each long line of it, in every log line."""
    if not value or len(value) < _MIN_SECRET:
        return
    _secrets.add(value, rotating)


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


def _longest_first(form: str) -> tuple[int, str]:
    return (-len(form), form)


def redact(text: str) -> str:
    """Return text with every known secret, and anything shaped like one, replaced by ***."""
    # Masking a secret by its value never makes a marker appear: look for them in the line as is.
    lowered = text.lower()
    v1 = _V1 in lowered
    shaped = v1
    if not shaped:
        for marker in _SECRET_MARKERS:
            if marker in lowered:
                shaped = True
                break
        else:
            if "gh" in lowered:
                shaped = any(marker in lowered for marker in _GITHUB_MARKERS)
    probes, plain = _known
    found: list[str] = []
    if probes:
        # A search, then only if it finds one a findall: a findall finding nothing costs more.
        first = _WINDOWS.search(text)
        windows = _WINDOWS.findall(text, first.start()) if first is not None else []
        if v1:
            windows += _V1_WINDOWS.findall(text)
        if windows and not probes.keys().isdisjoint(windows):
            found = [form for window in windows for form in probes.get(window, ())]
    for form in plain:
        if form in text:
            found.append(form)
    if found:
        # Longest first: a key whole before any of its lines.
        for form in sorted(set(found), key=_longest_first):
            text = text.replace(form, "***")
    return _SECRET.sub(_mask, text) if shaped else text


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
