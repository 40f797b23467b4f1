"""Log lines never carry a secret: tokens, JWTs, keys and registered values are masked."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from bot import logs
from bot.logs import redact, register_secret


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("ghs_" + "a" * 36, id="installation-token"),
        pytest.param("ghp_" + "B" * 36, id="personal-token"),
        pytest.param("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJl", id="jwt"),
        pytest.param(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", id="pem"
        ),
        pytest.param("Token abcdef123456", id="authorization-token"),
        pytest.param("Bearer abcdef123456", id="authorization-bearer"),
    ],
)
def test_a_secret_in_a_line_is_masked(secret: str) -> None:
    assert secret not in redact(f'{{"msg": "x", "header": "{secret}"}}')


def test_a_registered_secret_is_masked() -> None:
    register_secret("hunter2-webhook")
    assert "hunter2" not in redact('{"msg": "secret is hunter2-webhook"}')


def test_a_line_without_secrets_is_left_alone() -> None:
    line = '{"msg": "delivery", "event": "pull_request", "status": 202}'
    assert redact(line) == line


# -- every logger writes JSON lines --------------------------------------------------------------

SECRET = "hunter2-webhook-secret"
TOKEN = "ghs_abc-def_ghiJKL-mno_pqrSTU-vwx_yz012345"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """setup() writing to a buffer; the logging module, hooks and ringbot's logs restored after."""
    root, ours = logging.getLogger(), logging.getLogger("ringbot")
    saved = (
        root.handlers[:],
        root.level,
        ours.handlers[:],
        ours.level,
        ours.propagate,
        logs._direct,
        logging.logThreads,
        logging.logProcesses,
        logging.logMultiprocessing,
        sys.excepthook,
        threading.excepthook,
        sys.unraisablehook,
        logging.getLogger("py.warnings").handlers[:],
    )
    buffer = io.StringIO()
    logs.setup("INFO", stream=buffer)
    register_secret(SECRET)
    try:
        yield buffer
    finally:
        logging.captureWarnings(False)
        (
            root.handlers[:],
            root.level,
            ours.handlers[:],
            ours.level,
            ours.propagate,
            logs._direct,
            logging.logThreads,
            logging.logProcesses,
            logging.logMultiprocessing,
            sys.excepthook,
            threading.excepthook,
            sys.unraisablehook,
            logging.getLogger("py.warnings").handlers[:],
        ) = saved


def documents(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Every line written, each parsed as JSON (a line that is not JSON fails the test)."""
    text = buffer.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def fail() -> None:
    """Raise an error whose message holds secrets, as a library's might."""
    raise RuntimeError(f"boom with {SECRET} and Authorization: token {TOKEN}")


@pytest.mark.parametrize("name", ["aiohttp.server", "aiohttp.web", "asyncio", "gidgethub", "x.y"])
def test_a_library_logger_s_traceback_is_inside_one_json_line(
    json_lines: io.StringIO, name: str
) -> None:
    try:
        fail()
    except RuntimeError:
        logging.getLogger(name).exception("Error handling request")
    [doc] = documents(json_lines)
    assert (doc["level"], doc["msg"], doc["logger"]) == ("error", "Error handling request", name)
    assert "Traceback (most recent call last)" in doc["error"]
    assert "RuntimeError: boom" in doc["error"]
    assert SECRET not in json_lines.getvalue() and TOKEN not in json_lines.getvalue()


def test_ringbot_s_own_exception_is_inside_one_json_line(json_lines: io.StringIO) -> None:
    try:
        fail()
    except RuntimeError:
        logs.log_exception("job failed", job="gate")
    [doc] = documents(json_lines)
    assert (doc["msg"], doc["job"]) == ("job failed", "gate") and "RuntimeError" in doc["error"]
    assert SECRET not in json_lines.getvalue()


def test_a_stack_goes_in_the_error_field(json_lines: io.StringIO) -> None:
    logging.getLogger("x.y").warning("look here", stack_info=True)
    [doc] = documents(json_lines)
    assert doc["error"].startswith("Stack (most recent call last)")


def test_an_uncaught_exception_is_a_json_line(json_lines: io.StringIO) -> None:
    try:
        fail()
    except RuntimeError as error:
        sys.excepthook(type(error), error, error.__traceback__)
    [doc] = documents(json_lines)
    assert (doc["level"], doc["msg"]) == ("critical", "uncaught exception")
    assert SECRET not in json_lines.getvalue()


def test_an_exception_that_ends_a_thread_is_a_json_line(json_lines: io.StringIO) -> None:
    thread = threading.Thread(target=fail, name="worker")
    thread.start()
    thread.join()
    [doc] = documents(json_lines)
    assert (doc["msg"], doc["thread"]) == ("uncaught exception in a thread", "worker")
    assert "RuntimeError" in doc["error"] and SECRET not in json_lines.getvalue()


def test_a_warning_is_a_json_line(json_lines: io.StringIO) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"deprecated, secret {SECRET}", DeprecationWarning, stacklevel=1)
    [doc] = documents(json_lines)
    assert doc["logger"] == "py.warnings" and "DeprecationWarning" in doc["msg"]
    assert SECRET not in json_lines.getvalue()


@pytest.mark.parametrize(
    ("message", "args"),
    [("%s and %s", ("one",)), ("lone \udc80 surrogate", ())],
    ids=["bad-format-arguments", "lone-surrogate"],
)
def test_a_malformed_record_is_still_a_json_line(
    json_lines: io.StringIO, capsys: pytest.CaptureFixture[str], message: str, args: tuple[str]
) -> None:
    # Straight to the handler setup() installed: pytest's own capture handlers, beside it during
    # a test, re-raise what a malformed record does to them.
    [handler] = [
        h for h in logging.getLogger().handlers if getattr(h, "stream", None) is json_lines
    ]
    handler.handle(logging.getLogger("x.y").makeRecord("x.y", 30, "f.py", 1, message, args, None))
    assert len(documents(json_lines)) == 1
    assert "Logging error" not in capsys.readouterr().err


def test_libraries_speak_only_when_something_is_wrong(json_lines: io.StringIO) -> None:
    logging.getLogger("aiohttp.access").info('1.2.3.4 "POST /webhook" 202')
    logs.log(20, "delivery", token=TOKEN)
    [doc] = documents(json_lines)
    assert (doc["msg"], doc["token"]) == ("delivery", "***")
