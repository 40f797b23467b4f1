"""Ingest benchmark: webhook acknowledgements per second, ringbot versus a bare aiohttp handler.

One run measures every event `app.yml` subscribes to, each with a real payload: GitHub's own
examples from the npm package @octokit/webhooks-examples (`scripts/bootstrap --npm` puts it in
.cache/npm), rewritten to be about the simulator's repository and installation. For each event
it takes an example whose action a handler in bot/handlers registers ("acted"), and it adds
deliveries no handler wants ("unwanted": actions the routers do not register, and an event the
App does not subscribe to). Targets: ringbot >= 0.8x the bare handler for acted events, >= 0.9x
for unwanted ones.

Each server runs in its own process; every round starts both afresh and loads them in turn,
case by case, from this process: N signed deliveries at a fixed concurrency. The bare handler
reads the body and checks the signature, nothing else. ringbot does everything it does in
production: verify, dedupe, triage, log a line, enqueue, answer; the queued work runs against
the simulated GitHub, in a third process, as GitHub is elsewhere in production. The figures
that matter are the ratios, measured in the same run; the median over the rounds speaks.

Run: .venv/bin/python bench/ingest.py [--requests 1500] [--concurrency 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import socket
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
EXAMPLES = ROOT / ".cache/npm/node_modules/@octokit/webhooks-examples/api.github.com/index.json"
ACTED, UNWANTED = 0.8, 0.9  # targets: ringbot's acks/s over the bare handler's

# (event, action) per case; None: the example without an action (push, status). The acted ones
# must be registered in bot/handlers, the unwanted ones must not (checked at start).
ACTED_CASES: list[tuple[str, str | None]] = [
    ("check_run", "completed"),
    ("check_suite", "completed"),
    ("deployment_status", "created"),
    ("deployment_protection_rule", "requested"),
    ("issue_comment", "created"),
    ("merge_group", "checks_requested"),
    ("pull_request", "synchronize"),
    ("pull_request_review", "submitted"),
    ("push", None),
    ("status", None),
]
UNWANTED_CASES: list[tuple[str, str | None]] = [
    ("pull_request", "assigned"),
    ("issue_comment", "deleted"),
    ("check_suite", "requested"),
    ("workflow_run", "completed"),  # not in app.yml at all
]


@dataclass
class Case:
    """One kind of delivery: its headers' event, its body, what ringbot should do with it."""

    event: str
    action: str | None
    body: bytes
    acted: bool

    @property
    def name(self) -> str:
        return f"{self.event}/{self.action}" if self.action else self.event


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- The payloads ---------------------------------------------------------------------------


def _example(examples: dict[str, list[dict[str, Any]]], event: str, action: str | None) -> Any:
    """GitHub's example for (event, action), preferring one that starts with its action (as
    GitHub's deliveries do)."""
    if event == "deployment_protection_rule":  # the package has no example of it: built below
        return _protection_rule(examples)
    found = [p for p in examples[event] if p.get("action") == action]
    if not found:
        raise SystemExit(f"@octokit/webhooks-examples has no {event}/{action} example")
    return copy.deepcopy(next((p for p in found if next(iter(p)) == "action"), found[0]))


def _protection_rule(examples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A deployment_protection_rule `requested` payload in the shape of GitHub's documentation,
    around the deployment of a real deployment_status example."""
    status = next(p for p in examples["deployment_status"] if next(iter(p)) == "action")
    deployment = copy.deepcopy(status["deployment"])
    return {
        "action": "requested",
        "environment": deployment.get("environment", "production"),
        "event": "push",
        "deployment_callback_url": (
            "https://api.github.com/repos/acme/widgets/actions/runs/1234/deployment_protection_rule"
        ),
        "deployment": deployment,
        "pull_requests": [],
        "repository": copy.deepcopy(status["repository"]),
        "organization": copy.deepcopy(status.get("organization") or {}),
        "sender": copy.deepcopy(status["sender"]),
    }


def build_cases(repository: dict[str, Any], installation: dict[str, Any]) -> list[Case]:
    """Every case's body: the example, about the simulator's repository and installation."""
    if not EXAMPLES.exists():
        raise SystemExit(f"{EXAMPLES} is missing: run scripts/bootstrap --npm")
    examples = {str(e["name"]): e["examples"] for e in json.loads(EXAMPLES.read_bytes())}
    cases = []
    for acted, table in ((True, ACTED_CASES), (False, UNWANTED_CASES)):
        for event, action in table:
            payload = _example(examples, event, action)
            payload["repository"] = repository
            payload["installation"] = installation  # an App's deliveries always name it
            if event == "pull_request":
                payload["number"] = payload["pull_request"]["number"] = 1
            body = json.dumps(payload, separators=(",", ":")).encode()
            cases.append(Case(event, action, body, acted))
    _check_wanted(cases)
    return cases


def _check_wanted(cases: list[Case]) -> None:
    """The cases say what the routers say: acted ones are wanted, unwanted ones are not."""
    from gidgethub import sansio

    from bot.handlers import HANDLERS

    for case in cases:
        data = {"action": case.action} if case.action else {}
        event = sansio.Event(data, event=case.event, delivery_id="x")
        wanted = any(module.router.fetch(event) for module in HANDLERS)
        if wanted != case.acted:
            raise SystemExit(f"{case.name}: a handler {'does not want' if wanted else 'wants'} it")


# --- The servers ----------------------------------------------------------------------------


def bare_server(port: int, ready: Any) -> None:
    """An aiohttp handler that only checks the signature."""
    from aiohttp import web
    from gidgethub import ValidationFailure, sansio

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            sansio.validate_event(
                body, signature=request.headers.get("X-Hub-Signature-256", ""), secret=SECRET
            )
        except ValidationFailure:
            return web.Response(status=401)
        return web.Response(status=202)

    app = web.Application(client_max_size=25 * 1024 * 1024)
    app.router.add_post("/webhook", hook)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def sim_server(port: int, conn: Any) -> None:
    """The simulated GitHub, holding the repository and pull request the payloads are about."""
    from bot.sim import Simulator

    async def main() -> None:
        sim = Simulator(webhook_secret=SECRET)
        url = await sim.start(port=port)
        sim.create_repo("acme/widgets")
        sim.add_collaborator("acme/widgets", "bob", "write")
        sim.open_pull_request("acme/widgets", author="bob", title="Add a widget", files={"w": "w"})
        (opened,) = [d for d in sim.emitted if d.event == "pull_request"]
        where = (opened.payload["repository"], opened.payload["installation"])
        conn.send((url, sim.private_key_pem, str(sim.app_id), json.dumps(where)))
        await asyncio.Event().wait()

    asyncio.run(main())


def ringbot_server(port: int, ready: Any, github: tuple[str, str, str]) -> None:
    """The real bot app, as in production, talking to the simulator process."""
    from aiohttp import web

    from bot import logs
    from bot.app import create_app
    from bot.settings import Settings

    # Production logging stays on (one JSON line per delivery), written to /dev/null.
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    logs.setup("INFO")

    async def main() -> None:
        url, key, app_id = github
        settings = Settings(app_id=app_id, private_key=key, webhook_secret=SECRET, api_url=url)
        app = create_app(settings)
        gc.collect()
        gc.freeze()  # as python -m bot does
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


# --- The load -------------------------------------------------------------------------------


async def load(url: str, case: Case, requests: int, concurrency: int) -> float:
    """Send `requests` signed deliveries of one case; return acknowledgements per second."""
    import aiohttp

    sig = "sha256=" + hmac.new(SECRET.encode(), case.body, hashlib.sha256).hexdigest()
    todo = iter(range(requests))
    ok = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal ok
        for _ in todo:
            headers = {
                "X-GitHub-Event": case.event,
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sig,
                "Content-Type": "application/json",
            }
            async with session.post(url, data=case.body, headers=headers) as resp:
                await resp.read()
                ok += resp.status in (200, 202)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if ok != requests:
        raise SystemExit(f"{case.name}: only {ok} of {requests} deliveries were acknowledged")
    return requests / elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One server in its own process."""

    def __init__(self, kind: str, github: tuple[str, str, str]) -> None:
        self.port = free_port()
        ready = mp.Event()
        target, args = (
            (bare_server, (self.port, ready))
            if kind == "bare"
            else (ringbot_server, (self.port, ready, github))
        )
        self.proc = mp.Process(target=target, args=args, daemon=True)
        self.proc.start()
        if not ready.wait(60):
            raise SystemExit(f"the {kind} server did not start")
        time.sleep(0.3)
        self.url = f"http://127.0.0.1:{self.port}/webhook"

    def measure(self, case: Case, requests: int, concurrency: int) -> tuple[float, float]:
        """Load it with one case: (acks per second, CPU µs per ack)."""
        asyncio.run(load(self.url, case, min(200, requests), concurrency))  # warm up
        self.settle()  # the warm-up's (and the last case's) queued work runs before the clock
        cpu = cpu_seconds(self.pid)
        rate = asyncio.run(load(self.url, case, requests, concurrency))
        self.settle()  # queued work (coalesced jobs) finishes and is counted
        return rate, (cpu_seconds(self.pid) - cpu) / requests * 1e6

    @property
    def pid(self) -> int:
        assert self.proc.pid is not None
        return self.proc.pid

    def settle(self, most: float = 10.0) -> None:
        """Wait until the server is idle (under 5% of a CPU over 0.1 s), at most `most` s."""
        until = time.monotonic() + most
        before = cpu_seconds(self.pid)
        while time.monotonic() < until:
            time.sleep(0.1)
            now = cpu_seconds(self.pid)
            if now - before < 0.005:
                return
            before = now

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(5)


def main() -> None:
    """Measure both servers in alternating rounds, case by case, and print the ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="comma-separated case names (event or event/action)")
    args = parser.parse_args()
    parent, child = mp.Pipe()
    simulator = mp.Process(target=sim_server, args=(free_port(), child), daemon=True)
    simulator.start()
    url, key, app_id, where = parent.recv()
    repository, installation = json.loads(where)
    cases = build_cases(repository, installation)
    if args.only:
        only = set(args.only.split(","))
        cases = [c for c in cases if c.name in only or c.event in only]
    print(
        f"{len(cases)} cases, {args.requests} deliveries each at concurrency {args.concurrency}, "
        f"{args.rounds} rounds (bare and ringbot alternating, each in its own process)"
    )
    rates: dict[str, list[tuple[float, float, float, float]]] = {c.name: [] for c in cases}
    for n in range(args.rounds):
        started = time.perf_counter()
        bare, bot = Server("bare", ("", "", "")), Server("ringbot", (url, key, app_id))
        try:
            for case in cases:
                # Alternate which goes first, so that neither always follows the other's work.
                if n % 2 == 0:
                    b = bare.measure(case, args.requests, args.concurrency)
                    r = bot.measure(case, args.requests, args.concurrency)
                else:
                    r = bot.measure(case, args.requests, args.concurrency)
                    b = bare.measure(case, args.requests, args.concurrency)
                rates[case.name].append((*b, *r))
        finally:
            bare.stop()
            bot.stop()
        print(f"round {n + 1} done in {time.perf_counter() - started:.0f} s", flush=True)
    simulator.terminate()

    print()
    head = (
        f"{'event/action':36} {'kind':8} {'bytes':>6} {'bare/s':>7} {'bot/s':>7} "
        f"{'ratio':>5} {'target':>6} {'':5} {'bare µs':>7} {'bot µs':>6} {'CPU ratio':>9}"
    )
    print(head)
    print("-" * len(head))
    met = {True: [0, 0], False: [0, 0]}
    ratios = {True: [], False: []}  # type: dict[bool, list[float]]
    for case in cases:
        runs = rates[case.name]
        # The machine is shared and noisy: each figure is the median over the rounds.
        ratio = statistics.median(r[2] / r[0] for r in runs)
        cpu_ratio = statistics.median(r[1] / r[3] for r in runs)
        target = ACTED if case.acted else UNWANTED
        ok = ratio >= target
        met[case.acted][0] += ok
        met[case.acted][1] += 1
        ratios[case.acted].append(ratio)
        print(
            f"{case.name:36} {'acted' if case.acted else 'unwanted':8} {len(case.body):6} "
            f"{statistics.median(r[0] for r in runs):7.0f} "
            f"{statistics.median(r[2] for r in runs):7.0f} {ratio:5.2f} {target:6.1f} "
            f"{'PASS' if ok else 'under':5} {statistics.median(r[1] for r in runs):7.0f} "
            f"{statistics.median(r[3] for r in runs):6.0f} {cpu_ratio:9.2f}"
        )
    parts = []
    for acted, label, target in ((True, "acted", ACTED), (False, "unwanted", UNWANTED)):
        if met[acted][1]:
            parts.append(
                f"{label}: {met[acted][0]}/{met[acted][1]} at >= {target}x "
                f"(lowest {min(ratios[acted]):.2f}, median {statistics.median(ratios[acted]):.2f})"
            )
    print()
    print("summary: " + "; ".join(parts))


if __name__ == "__main__":
    main()
