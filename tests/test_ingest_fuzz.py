"""POST /webhook under fuzzing: GitHub's example payloads, mutated and validly signed, and hostile
requests around them. Whatever arrives, the bot answers 2xx or 4xx, writes only JSON log lines,
and keeps next to nothing of it in memory.

One campaign (fixed seed, a few thousand requests) runs once for the module against the real
bot app over HTTP; each test checks one property of it. It is not an `e2e` test: the Prism
conformance run, which re-runs those, has nothing to learn from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import itertools
import logging
import os
import random
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import pytest

from bot.logs import JsonFormatter

from .builders.webhook import MB, gzip_bomb, large_body, raw_head, signature
from .harness import NPM, World, prism_enabled, world

pytestmark = pytest.mark.skipif(prism_enabled(), reason="not part of the conformance run")

EXAMPLES = NPM / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"
SEED = 1234
WARM_UP = 400  # requests before memory is measured: caches and pools fill up first
REQUESTS = 3000  # requests measured after the warm-up
CONCURRENCY = 16
# The events ringbot triages: their payloads are mutated most, since triage reads them.
TRIAGED = [
    "check_run",
    "check_suite",
    "deployment_protection_rule",
    "deployment_status",
    "issue_comment",
    "merge_group",
    "pull_request",
    "pull_request_review",
    "push",
    "status",
]
WRONG_TYPES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63 - 1,
    1.5,
    "",
    "x",
    "🙂",
    "\u0000",
    [],
    [None],
    [1, "a"],
    {},
    {"id": "x"},
    {"": {}},
]
EVENT_NAMES = ["", "ping", "star", "PUSH", "pull_request ", "p\u00efng", "\u20ac", "x" * 300]


@dataclass
class Campaign:
    """What the bot answered and emitted while it was fuzzed."""

    statuses: Counter[int] = field(default_factory=Counter)
    unanswered: list[str] = field(default_factory=list)
    lines: int = 0
    not_json: list[str] = field(default_factory=list)
    memory_growth: int = 0


# --- Generating requests -----------------------------------------------------------------------


def load_examples() -> list[tuple[str, dict[str, Any]]]:
    """(event, payload) for every example payload of @octokit/webhooks-examples."""
    if not EXAMPLES.exists():
        pytest.fail(f"{EXAMPLES} is missing: run scripts/bootstrap --npm")
    examples = []
    for entry in orjson.loads(EXAMPLES.read_bytes()):
        for payload in entry["examples"]:
            # An App's deliveries always name the installation; repository hooks' do not.
            payload.setdefault("installation", {"id": 1})
            examples.append((str(entry["name"]), payload))
    return examples


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside doc, as keys and indexes."""
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    )
    for key, value in items:
        yield (*prefix, key)
        yield from paths(value, (*prefix, key))


def garbage(rng: random.Random, depth: int) -> Any:
    """A random nest of lists, objects and scalars."""
    if depth <= 0 or rng.random() < 0.2:
        return rng.choice(WRONG_TYPES)
    if rng.random() < 0.5:
        return [garbage(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["id", "a", "name", ""]): garbage(rng, depth - 1)}


def mutate(rng: random.Random, payload: dict[str, Any], where: list[tuple[Any, ...]]) -> Any:
    """A copy of payload with one to three fields retyped, deleted, blown up or nested."""
    doc = orjson.loads(orjson.dumps(payload))
    shallow = [p for p in where if len(p) <= 3]
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(shallow if shallow and rng.random() < 0.7 else where or [("action",)])
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if not isinstance(parent, dict | list):
                continue
            last = path[-1]
            roll = rng.random()
            if roll < 0.5:
                parent[last] = rng.choice(WRONG_TYPES)
            elif roll < 0.75:
                del parent[last]
            elif roll < 0.8:
                parent[last] = "A" * rng.choice([10_000, 200_000, 2 * MB])
            else:
                parent[last] = garbage(rng, rng.randint(1, 60))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the way there
    return doc


def non_object_body(rng: random.Random, real: bytes) -> bytes:
    """A body that is not one JSON object."""
    return rng.choice(
        [
            b"",
            b"null",
            b"[1, 2]",
            b'"a string"',
            b"12",
            b"\xff\xfe\x00",
            b"{not json",
            real[: rng.randint(0, len(real))],
            b"[" * 5000 + b"]" * 5000,
            b'{"a": 1e999}',
            b'{"a": 18446744073709551616}',
            b'{"a": "\\ud800"}',
            b'{"action": "opened"}' * 3,
        ]
    )


def randomly_cased(rng: random.Random, name: str) -> str:
    """A header name in whatever case a proxy might pass it on in."""
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)


@dataclass
class Request:
    """One request to send: through aiohttp's client, or as raw bytes when the client won't."""

    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    raw: bytes | None = None


class Examples:
    """The example payloads, and the paths inside each, found once."""

    def __init__(self) -> None:
        self.all = load_examples()
        self.triaged = [i for i, (event, _) in enumerate(self.all) if event in TRIAGED]
        self._paths: dict[int, list[tuple[Any, ...]]] = {}

    def paths(self, index: int) -> list[tuple[Any, ...]]:
        """Every path inside example `index`."""
        if index not in self._paths:
            self._paths[index] = list(paths(self.all[index][1]))
        return self._paths[index]


def signed_delivery(rng: random.Random, examples: Examples) -> Request:
    """A mutated example payload, signed with the right secret."""
    pool = examples.triaged if rng.random() < 0.8 else range(len(examples.all))
    index = rng.choice(pool)
    event, payload = examples.all[index]
    if rng.random() < 0.1:
        body = non_object_body(rng, orjson.dumps(payload))
    elif rng.random() < 0.05:
        body = orjson.dumps(payload)  # untouched: accepted, or a duplicate
    else:
        body = orjson.dumps(mutate(rng, payload, examples.paths(index)))
    if rng.random() < 0.1:
        event = rng.choice([*TRIAGED, *EVENT_NAMES])  # a payload delivered as another event
    delivery = str(uuid.UUID(int=rng.getrandbits(128))) if rng.random() < 0.95 else "repeated"
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature(body),
        "Content-Type": "application/json",
    }
    if rng.random() < 0.2:
        headers = {randomly_cased(rng, k): v for k, v in headers.items()}
    return Request(headers, body)


def hostile(rng: random.Random) -> Request:
    """A request that GitHub would never send."""
    body = orjson.dumps({"zen": "x", "hook_id": 1})
    good = {
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": str(uuid.UUID(int=rng.getrandbits(128))),
        "X-Hub-Signature-256": signature(body),
        "Content-Type": "application/json",
    }
    kind = rng.randrange(12)
    if kind == 0:
        return Request({"X-GitHub-Event": rng.choice(EVENT_NAMES) + str(rng.random())}, body)
    if kind == 1:
        return Request({**good, "X-Hub-Signature-256": "sha256=" + "é" * 64}, body)
    if kind == 2:
        sig = rng.choice(["", "sha256=", "sha1=" + "0" * 40, "SHA256=" + "0" * 64, "sha256=zz"])
        return Request({**good, "X-Hub-Signature-256": sig}, body)
    if kind == 3:
        return Request({**good, "X-Hub-Signature-256": "sha256=" + "0" * 64}, body)
    if kind == 4:
        missing = rng.choice(["X-GitHub-Event", "X-GitHub-Delivery", "Content-Type"])
        return Request({k: v for k, v in good.items() if k != missing}, body)
    if kind == 5:
        content_type = rng.choice(
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ";;=", "*"]
        )
        return Request({**good, "Content-Type": content_type}, body)
    if kind == 6:
        return Request({**good, "X-GitHub-Event": rng.choice(EVENT_NAMES)}, body)
    if kind == 7:  # a length no body will ever match
        declared = rng.choice([25 * MB + 1, 10**12])
        return Request(raw=raw_head(good, {"Content-Length": str(declared)}) + body)
    if kind == 8:  # bytes that are not text in header values
        name = rng.choice(list(good))
        value = rng.choice([b"\xff\xfe", b"\xc3\xa9t\xc3\xa9", b"\x80", b"a\x01b"])
        return Request(raw=raw_head(good, {name: value, "Content-Length": str(len(body))}) + body)
    if kind == 9:  # broken chunked framing
        return Request(
            raw=raw_head(good, {"Transfer-Encoding": "chunked"}) + b"zz\r\n{}\r\n0\r\n\r\n"
        )
    if kind == 10:  # a compressed body, broken or far over 25 MB once inflated
        packed = rng.choice([b"\x1f\x8b not gzip", gzip_bomb()])
        extra = {"Content-Encoding": "gzip", "Content-Length": str(len(packed))}
        return Request(
            raw=raw_head({**good, "X-Hub-Signature-256": signature(packed)}, extra) + packed
        )
    return Request(good, large_body())  # large, with the signature of the small body above


def requests(seed: int, count: int) -> Iterator[Request]:
    """count requests: three in four signed mutated payloads, the rest hostile."""
    rng = random.Random(seed)
    examples = Examples()
    for _ in range(count):
        yield signed_delivery(rng, examples) if rng.random() < 0.75 else hostile(rng)


# --- Sending them and watching the bot -----------------------------------------------------------


async def send(session: aiohttp.ClientSession, w: World, request: Request) -> int:
    """The status the bot answered request with."""
    if request.raw is None:
        async with session.post(
            f"{w.bot_url}/webhook", data=request.body, headers=request.headers
        ) as resp:
            await resp.read()
            return resp.status
    host, port = w.bot_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request.raw)
        status_line = await reader.readline()
        writer.write_eof()  # the rest of a refused body never comes
        await reader.read()
    finally:
        writer.close()
    return int(status_line.split()[1])


async def fire(w: World, todo: Iterator[Request], campaign: Campaign) -> None:
    """Send requests at a fixed concurrency, recording each answer."""

    async def worker(session: aiohttp.ClientSession) -> None:
        for request in todo:
            try:
                async with asyncio.timeout(20):
                    campaign.statuses[await send(session, w, request)] += 1
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                campaign.unanswered.append(f"{type(exc).__name__}: {request.headers}")

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))


class JsonLinesOnly(logging.Handler):
    """Formats each record as production does and keeps only lines that are not JSON objects."""

    def __init__(self, campaign: Campaign, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.campaign = campaign
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        """Check the record's text line by line; a failure to format is itself a finding."""
        try:
            text = self.format(record)
        except Exception as exc:
            text = f"<could not format {record.getMessage()!r}: {exc!r}>"
        for line in text.splitlines():
            check(self.campaign, line)


def check(campaign: Campaign, line: str) -> None:
    """Count a line; note it if it is not a JSON object."""
    campaign.lines += 1
    try:
        ok = isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        ok = False
    if not ok and len(campaign.not_json) < 20:
        campaign.not_json.append(line[:500])


@contextlib.contextmanager
def logs_as_in_production(campaign: Campaign) -> Iterator[None]:
    """Check each log line and all of stderr, with the loggers set up as in production."""
    # ringbot's logger writes JSON, as logs.setup() makes it. Any other logger's records are
    # printed as plain text here (stricter than production, where setup() makes them JSON too):
    # a request that makes aiohttp or asyncio log anything at all fails the run.
    ringbot, root = logging.getLogger("ringbot"), logging.getLogger()
    saved = (ringbot.handlers[:], ringbot.propagate, ringbot.level, root.handlers[:], root.level)
    ringbot.handlers[:] = [JsonLinesOnly(campaign, JsonFormatter())]
    ringbot.propagate = False
    ringbot.setLevel(logging.INFO)
    root.handlers[:] = [JsonLinesOnly(campaign, logging.Formatter())]
    root.setLevel(logging.WARNING)
    # Both what Python writes to sys.stderr and what anything writes to file descriptor 2.
    text, saved_fd = io.StringIO(), os.dup(2)
    with tempfile.TemporaryFile() as fd_2:
        os.dup2(fd_2.fileno(), 2)
        try:
            with contextlib.redirect_stderr(text):
                yield
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            ringbot.handlers[:], ringbot.propagate, ringbot.level = saved[:3]
            root.handlers[:], root.level = saved[3:]
        fd_2.seek(0)
        written = text.getvalue() + fd_2.read().decode(errors="replace")
    for line in written.splitlines():
        check(campaign, line)


async def run_campaign() -> Campaign:
    """Warm the bot up, then fuzz it while tracing what it allocates and keeps."""
    campaign = Campaign()
    # Made as they are sent: a few of them are megabytes.
    todo = requests(SEED, WARM_UP + REQUESTS)
    with logs_as_in_production(campaign):
        async with world() as w:
            # Triage runs in full; the work it queues is dropped, so that no job runs against
            # the simulator for thousands of made-up repositories.
            await w.bot.queue.close(1.0)
            await fire(w, itertools.islice(todo, WARM_UP), campaign)
            gc.collect()
            tracemalloc.start()
            before, _ = tracemalloc.get_traced_memory()
            await fire(w, todo, campaign)
            gc.collect()
            after, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            campaign.memory_growth = after - before
    return campaign


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    """The fuzzing campaign, run once for the module."""
    started = time.monotonic()
    result = asyncio.run(run_campaign())
    print(
        f"fuzz: {sum(result.statuses.values())} requests in {time.monotonic() - started:.1f} s,"
        f" {dict(sorted(result.statuses.items()))}, memory growth {result.memory_growth} B"
    )
    return result


def test_every_fuzzed_request_is_answered(campaign: Campaign) -> None:
    assert campaign.unanswered == []
    assert sum(campaign.statuses.values()) == WARM_UP + REQUESTS


def test_no_fuzzed_request_gets_a_5xx(campaign: Campaign) -> None:
    assert {s: n for s, n in campaign.statuses.items() if s >= 500} == {}


def test_fuzzing_exercises_every_answer(campaign: Campaign) -> None:
    # Not a property of the bot: a check that the campaign reaches each part of the receiver.
    assert {200, 202, 400, 401, 413} <= set(campaign.statuses)


def test_fuzzing_leaves_only_json_log_lines(campaign: Campaign) -> None:
    assert campaign.lines > 0
    assert campaign.not_json == []


def test_fuzzing_leaves_memory_flat(campaign: Campaign) -> None:
    # What the bot still holds after REQUESTS more deliveries: the dedupe cache's entries and
    # little else.
    assert campaign.memory_growth < 4 * MB
