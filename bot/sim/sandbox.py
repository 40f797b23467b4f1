"""Sandbox mode: the real bot against the built-in GitHub simulator, a scripted walk-through, then serve.

The only module of `bot/sim` that imports the bot, and the only one the bot imports (from
`bot/__main__.py`). The bot itself is unchanged: it talks to the simulator over HTTP and receives
real signed webhooks, exactly as it would from GitHub.

With `REDIS_URL`, or `RINGBOT_SANDBOX_REPLICAS=N` (N >= 2; a redis-server of its own is started),
N replicas share the work through Redis behind a round-robin balancer, and the last one is killed
part-way through the walk-through: the others finish it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import secrets
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.app import RINGBOT, Ringbot, create_app
from bot.config import CONFIG_PATH, MERGE_GATE_CHECK
from bot.replicas.queue import RedisWorkQueue
from bot.settings import Settings
from bot.sim.redis_server import RedisServer
from bot.sim.settle import settle
from bot.sim.simulator import Simulator
from bot.sim.state import CheckRun, Comment, Reaction, Repo

REPO = "acme/widgets"
CI = "ci"  # the CI App whose `build` check runs the gate waits for
CD_USER = "deploy-bot"  # who plays the user's deploy workflow
PEOPLE = {"alice": "maintain", "bob": "write", "carol": "write"}
# The default rings without bake times, so that the walk-through finishes in seconds.
SANDBOX_CONFIG = """\
merge_gate:
  approvals: 1
rings:
  - name: dev
    auto: true
    users: 12
  - name: internal
    users: 300
  - name: early-adopters
    users: 5000
  - name: production
    promoters: maintain
    users: 250000
  - name: on-premises
    auto: true
    users: 40000
hotfix:
  label: hotfix
  approvals: 1
  promoters: write
  during_freeze: true
"""
EMOJI = {
    "eyes": "👀",
    "rocket": "🚀",
    "confused": "😕",
    "+1": "👍",
    "-1": "👎",
    "hooray": "🎉",
    "heart": "❤️",
    "laugh": "😄",
}
GATE_MARK = {"success": "✅", "failure": "❌", "in_progress": "⏳", "queued": "⏳"}
MAX_REPLICAS = 8  # RINGBOT_SANDBOX_REPLICAS at most
FOLLOW_EVERY_S = 0.5  # how often the serving sandbox looks for what happened since
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)

Out = Callable[[str], None]

SANDBOX_LEASE_SECONDS = 3.0  # replicas' lease in the sandbox (production: 30 s)


def short(sha: str) -> str:
    """A SHA as GitHub shows it."""
    return sha[:7]


def markdown_lines(body: str) -> list[str]:
    """A comment as plain-text lines: no HTML comments, tables aligned, blank lines dropped."""
    text = _HTML_COMMENT.sub("", body).replace("`", "").replace("**", "")
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in lines
        if line.lstrip().startswith("|") and not set(line.strip()) <= set("|-: ")
    ]
    if not rows:
        return lines
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(len(rows[0]))]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) for row in rows]
    before = [line for line in lines if not line.lstrip().startswith("|")]
    return before + [line.rstrip() for line in table]


@dataclass
class Timeline:
    """Prints what people do, and reads back from the simulator what ringbot did about it."""

    sim: Simulator
    out: Out
    repo: str = REPO
    started: float = field(default_factory=time.monotonic)
    gates: dict[int, tuple[str, str | None, str]] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)  # ids of comments, deployments, statuses, reactions

    def say(self, who: str, what: str) -> None:
        """One timeline line: elapsed seconds, who, what."""
        self.out(f"{time.monotonic() - self.started:6.2f}s  {who:<11} {what}")

    def detail(self, text: str) -> None:
        """An indented continuation line under the step before."""
        self.out(f"{'':21}{text}")

    def mark_seen(self, object_id: int) -> None:
        """Something the script already printed itself (a person's comment)."""
        self.seen.add(object_id)

    def observe(self) -> None:
        """Print everything new in the repository since the last look, in the order it happened."""
        r = self.sim.repo(self.repo)
        bot = self.sim.bot_login
        for run in sorted(r.check_runs.values(), key=lambda x: x.id):
            if run.name == MERGE_GATE_CHECK and run.app is self.sim.github_app:
                self._gate(r, run)
        # Ids grow across every kind of object, so they order what happened.
        events: list[tuple[int, Callable[[], None]]] = []
        for d in r.deployments.values():
            if d.id not in self.seen and d.creator.login == bot:
                self.seen.add(d.id)
                reason = d.payload.get("reason", "") if isinstance(d.payload, dict) else ""
                text = f"deploys {short(d.sha)} to {d.environment} (deployment {d.id})"
                events.append(
                    (d.id, self._say("ringbot", text + (f": {reason}" if reason else "")))
                )
        for s in r.deployment_statuses:
            if s.id not in self.seen and s.creator.login == bot and s.state != "inactive":
                self.seen.add(s.id)
                sha = short(r.deployments[s.deployment_id].sha)
                text = f"records on {sha} in {s.environment}: {s.description}"
                events.append((s.id, self._say("ringbot", text)))
        reactions: dict[int, list[Reaction]] = {}
        for x in r.reactions:
            if x.id not in self.seen and x.user.login == bot:
                self.seen.add(x.id)
                reactions.setdefault(x.comment_id, []).append(x)
        for target, found in reactions.items():
            asker = r.comments[target].user.login if target in r.comments else "?"
            marks = " ".join(EMOJI.get(x.content, x.content) for x in found)
            events.append(
                (found[0].id, self._say("ringbot", f"reacts {marks} on @{asker}'s comment"))
            )
        for c in r.comments.values():
            if c.id not in self.seen:
                self.seen.add(c.id)
                events.append((c.id, functools.partial(self._comment, c)))
        for _, show in sorted(events, key=lambda event: event[0]):
            show()

    def _say(self, who: str, what: str) -> Callable[[], None]:
        return lambda: self.say(who, what)

    def _gate(self, r: Repo, run: CheckRun) -> None:
        title = str(run.output.get("title") or "")
        state = (run.status, run.conclusion, title)
        if self.gates.get(run.id) == state:
            return
        self.gates[run.id] = state
        where = next(
            (f"#{p.number}" for p in r.pulls.values() if p.head_sha == run.head_sha),
            short(run.head_sha),
        )
        verdict = run.conclusion if run.status == "completed" else run.status
        mark = GATE_MARK.get(str(verdict), "•")
        self.say("ringbot", f"merge gate on {where}: {mark} {verdict}: {title}")

    def _comment(self, c: Comment) -> None:
        if c.user.login != self.sim.bot_login:
            self.say(c.user.login, f'comments on #{c.number}: "{c.body.strip()}"')
            return
        lines = markdown_lines(c.body) or [""]
        to = ""
        if re.fullmatch(r"@[\w-]+(?: \(label [^)]*\))?", lines[0]) and len(lines) > 1:
            to, lines = f" to {lines[0].split()[0]}", lines[1:]
        if "|---" in c.body.replace(" ", ""):  # a table: no sentence to quote, show it whole
            lines = ["", *lines]
        self.say("ringbot", f"replies on #{c.number}{to}:" + (f" {lines[0]}" if lines[0] else ""))
        # A refusal's reasons are bullets and the ring table is a table: show them in full.
        for line in lines[1:]:
            if lines[0].startswith("😕") or line.lstrip().startswith("- ") or "  " in line:
                self.detail(line)


class Plug:
    """A TCP pass-through between one replica and Redis or GitHub that the sandbox can pull: the
    replica's connections drop and new ones are refused, as when its process dies (it cannot give
    back the job it holds, whose lease then runs out). `stop_at` sees each chunk the replica
    sends; when it says True, the chunk goes no further."""

    def __init__(self, host: str, port: int, stop_at: Callable[[], bool] | None = None) -> None:
        self._target = (host, port)
        self._stop_at = stop_at
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Listen on a free port of 127.0.0.1; the port."""
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        pipes = [
            asyncio.create_task(_pipe(reader, up_writer, self._stop_at)),
            asyncio.create_task(_pipe(up_reader, writer)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self._pipes.difference_update(pipes)
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.transport.abort()

    async def pull(self) -> None:
        """Refuse new connections and drop every open one at once."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for w in list(self._writers):
            w.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    stop_at: Callable[[], bool] | None = None,
) -> None:
    while data := await reader.read(65536):
        if stop_at is not None and stop_at():
            return
        writer.write(data)
        await writer.drain()


def _jobs_run(bot: Ringbot) -> int:
    """Jobs this replica has run (its ringbot_jobs_total, every kind and outcome)."""
    return int(
        sum(
            sample.value
            for metric in bot.metrics.jobs.collect()
            for sample in metric.samples
            if sample.name == "ringbot_jobs_total"
        )
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


@dataclass
class Replica:
    """One ringbot replica of the sandbox: its app's runner, the bot, where it listens."""

    number: int
    runner: web.AppRunner
    bot: Ringbot
    url: str
    plugs: list[Plug] = field(default_factory=list)  # its ways to Redis and GitHub
    redis_plugged: bool = False  # pulling its plugs cuts it from Redis (a redis:// URL)
    alive: bool = True
    webhooks: int = 0  # deliveries the balancer handed it
    reported: tuple[int, int] = (0, 0)  # (webhooks, jobs) as last printed
    reclaimed: int = 0  # jobs it took back from a dead replica, as last printed


@dataclass
class Cluster:
    """Replicas sharing one Redis behind a round-robin balancer (the simulator's webhook URL).

    `arm()` sends the webhooks to the last replica, and kills it in the middle of its next job
    (as the job sends a GitHub request); `disarm()` kills it then if that never came."""

    replicas: list[Replica]
    say: Callable[[str, str], None] = lambda who, what: None
    url: str = ""
    _armed: bool = False
    _turn: int = 0
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    _killing: set[asyncio.Task[None]] = field(default_factory=set)

    HEADERS = (
        "X-GitHub-Event",
        "X-GitHub-Delivery",
        "X-GitHub-Hook-ID",
        "X-GitHub-Hook-Installation-Target-Type",
        "X-GitHub-Hook-Installation-Target-ID",
        "X-Hub-Signature",
        "X-Hub-Signature-256",
        "User-Agent",
        "Content-Type",
    )

    @property
    def victim(self) -> Replica:
        """The replica the sandbox kills: the last one."""
        return self.replicas[-1]

    async def start(self) -> str:
        """Serve the balancer on a free port of 127.0.0.1; its base URL."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/webhook", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.url = f"http://127.0.0.1:{_bound_port(self._runner)}"
        return self.url

    async def _forward(self, request: web.Request) -> web.Response:
        """Hand the delivery to the next live replica; one that refuses the connection is
        skipped, as a load balancer's health check would."""
        assert self._session is not None
        body = await request.read()
        headers = {h: request.headers[h] for h in self.HEADERS if h in request.headers}
        order = [
            self.replicas[(self._turn + i) % len(self.replicas)] for i in range(len(self.replicas))
        ]
        self._turn += 1
        if self._armed and self.victim.alive:
            # The victim takes every webhook: the debounce timers are then its own, so that it
            # is the one to claim the next job.
            order = [self.victim, *order]
        for replica in order:
            if not replica.alive:
                continue
            try:
                async with self._session.post(
                    f"{replica.url}/webhook", data=body, headers=headers
                ) as resp:
                    text = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, OSError):
                continue
            replica.webhooks += 1
            return web.Response(status=status, body=text)
        return web.Response(status=502, text="no replica answered")

    @property
    def armed(self) -> bool:
        """The last replica is to be killed in its next job."""
        return self._armed

    def arm(self) -> None:
        """Webhooks go to the last replica, which dies at its next GitHub request."""
        self._armed = True

    def mid_job(self) -> bool:
        """The victim is sending GitHub a request (so it holds a job): kill it now, if armed."""
        if not (self._armed and self.victim.alive):
            return False
        self._armed = False
        self.victim.alive = False  # no more webhooks for it from here
        task = asyncio.create_task(
            self.kill(self.victim, "in the middle of a job (as it sent GitHub a request)", True)
        )
        self._killing.add(task)
        task.add_done_callback(self._killing.discard)
        return True

    async def disarm(self) -> None:
        """Kill the victim now if no job of its came to be killed in (and wait for the kill)."""
        if self._armed and self.victim.alive:
            self._armed = False
            await self.kill(self.victim, "between two jobs (it held none)", False)
        await asyncio.gather(*self._killing, return_exceptions=True)

    async def kill(self, replica: Replica, when: str, held: bool) -> None:
        """As close to a crash as in-process allows: its Redis connections drop first (it cannot
        give back what it holds), then its port closes and its tasks are cancelled, no drain."""
        replica.alive = False
        self.say("sandbox", f"kills replica {replica.number} {when}, without draining")
        for plug in replica.plugs:
            await plug.pull()
        replica.bot.settings = replace(replica.bot.settings, drain_seconds=0.0)
        await replica.runner.cleanup()
        alive = [f"replica {r.number}" for r in self.replicas if r.alive]
        others = " and ".join(alive) + (" carries on" if len(alive) == 1 else " carry on")
        if not held:
            self.say("sandbox", others)
        elif replica.redis_plugged:
            self.say(
                "sandbox",
                f"{others}; the job replica {replica.number} held comes back when its lease "
                f"runs out (≤{SANDBOX_LEASE_SECONDS:.0f} s)",
            )
        else:  # not a redis:// URL: it could still give the job back as it stopped
            self.say("sandbox", f"{others}, with the job replica {replica.number} held")

    async def debouncing(self) -> bool:
        """Keys wait in Redis that come due within the debounce (a burst's keys, not timers)."""
        bot = self.replicas[0].bot
        if bot.replicas is None:
            return False
        horizon = bot.clock.now().timestamp() + bot.settings.debounce_seconds
        delayed = bot.replicas.prefix + "delayed"  # bot/replicas/scripts.py's layout
        return bool(await bot.replicas.redis.zcount(delayed, "-inf", horizon))

    def report(self, tl: Timeline) -> None:
        """Under the step just printed: which replica took its webhooks and ran its jobs; and
        any job taken back from the killed replica."""
        for r in self.replicas:
            queue = r.bot.queue
            if r.alive and isinstance(queue, RedisWorkQueue) and queue.reclaimed > r.reclaimed:
                n, r.reclaimed = queue.reclaimed - r.reclaimed, queue.reclaimed
                tl.say(
                    "sandbox",
                    f"replica {r.number} took back {_plural(n, 'job')} whose replica stopped "
                    "renewing its lease",
                )
        parts = []
        for r in self.replicas:
            now = (r.webhooks, _jobs_run(r.bot))
            hooks, jobs = now[0] - r.reported[0], now[1] - r.reported[1]
            r.reported = now
            did = [_plural(hooks, "webhook") if hooks else "", _plural(jobs, "job") if jobs else ""]
            if hooks or jobs:
                parts.append(f"replica {r.number}: " + ", ".join(x for x in did if x))
        if parts:
            tl.detail("(" + "; ".join(parts) + ")")

    async def close(self) -> None:
        """Stop the balancer and every replica but the first (the caller's to stop)."""
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        for r in self.replicas[1:]:
            if r.alive:
                r.alive = False
                await r.runner.cleanup()
            for plug in r.plugs:
                await plug.pull()
        await asyncio.gather(*self._killing, return_exceptions=True)


@dataclass
class Stage:
    """The simulator, the bot, the timeline and the sandbox's stand-in for the user's CD."""

    sim: Simulator
    bot: Ringbot
    timeline: Timeline
    deployed: set[int] = field(default_factory=set)
    cluster: Cluster | None = None  # the replicas, when there are several

    async def settle(self) -> None:
        """Let everything finish, print it, and let the CD deploy whatever ringbot asked for."""
        while True:
            await self._settle()
            self.timeline.observe()
            if not await self.cd():
                if self.cluster is not None:
                    self.cluster.report(self.timeline)
                return

    async def _settle(self) -> None:
        await self._settle_once()
        # Replicas keep a burst's debounced keys in Redis, where the queue's join does not wait
        # for them (on the system clock): wait for those here, as the in-memory queue's join does.
        while self.cluster is not None and await self.cluster.debouncing():
            await asyncio.sleep(0.05)
            await self._settle_once()

    async def _settle_once(self) -> None:
        cluster = self.cluster
        if cluster is not None and cluster.armed and cluster.victim.alive:
            # Waiting through the replica to be killed keeps its dispatcher the one woken
            # first, so that it claims the next job, and dies in it.
            victim = cluster.victim
            try:
                await settle(self.sim, victim.bot)
            except Exception:
                if victim.alive:
                    raise  # killed while we waited through it: wait through replica 1 below
        await settle(self.sim, self.bot)

    async def cd(self) -> bool:
        """The user's deploy workflow: every new ringbot deployment goes in_progress, then success."""
        r = self.sim.repo(self.timeline.repo)
        new = [
            d
            for d in sorted(r.deployments.values(), key=lambda x: x.id)
            if d.id not in self.deployed and d.creator.login == self.sim.bot_login
        ]
        for d in new:
            self.deployed.add(d.id)
            self.sim.post_deployment_status(r.full_name, d.id, "in_progress", by=CD_USER)
            self.timeline.say(CD_USER, f"deploying {short(d.sha)} to {d.environment} …")
            await self._settle()
            self.timeline.observe()
            url = f"https://{d.environment}.widgets.example"
            self.sim.post_deployment_status(
                r.full_name, d.id, "success", by=CD_USER, environment_url=url
            )
            self.timeline.say(CD_USER, f"{short(d.sha)} is live in {d.environment} ✔")
        return bool(new)

    async def comment(self, number: int, who: str, body: str) -> int:
        """A person comments on a pull request; returns the comment id once ringbot has answered."""
        self.timeline.say(who, f'comments on #{number}: "{body}"')
        comment_id = self.sim.comment(self.timeline.repo, number, who, body)
        self.timeline.mark_seen(comment_id)
        await self.settle()
        return comment_id

    async def build(self, sha: str, where: str) -> None:
        """CI runs the `build` check on a commit: started, then green."""
        repo = self.timeline.repo
        self.sim.set_check_run(repo, sha, "build", status="in_progress", conclusion=None, app=CI)
        self.timeline.say(CI, f"build started on {where} ({short(sha)})")
        await self.settle()
        self.sim.set_check_run(repo, sha, "build", status="completed", conclusion="success", app=CI)
        self.timeline.say(CI, f"build green on {where} ({short(sha)}) ✔")
        await self.settle()

    async def follow(self, stop: asyncio.Event) -> None:
        """While serving: keep printing what happens and keep playing the CD, until `stop`."""
        while not stop.is_set():
            self.timeline.observe()
            await self.cd()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FOLLOW_EVERY_S)


async def ship(
    stage: Stage,
    author: str,
    title: str,
    files: dict[str, str | None],
    approver: str,
    label: str | None = None,
) -> int:
    """A pull request's way to main: opened, built green, approved, merged, main built green."""
    sim, tl = stage.sim, stage.timeline
    number = int(sim.open_pull_request(REPO, author=author, title=title, files=files))
    tl.say(author, f'opens pull request #{number} "{title}"')
    await stage.settle()
    if label is not None:
        sim.add_label(REPO, number, label, by=author)
        tl.say(author, f"labels #{number} {label}")
        await stage.settle()
    await stage.build(sim.repo(REPO).pulls[number].head_sha, f"#{number}")
    sim.review(REPO, number, approver, "APPROVED")
    tl.say(approver, f"approves #{number}")
    await stage.settle()
    merged = sim.merge_pull_request(REPO, number, by="alice")
    tl.say("alice", f"merges #{number} into main ({short(merged)})")
    await stage.settle()
    await stage.build(merged, "main")
    return number


async def walkthrough(
    sim: Simulator, bot: Ringbot, out: Out, cluster: Cluster | None = None
) -> Stage:
    """Play the scripted tour on a running simulator and bot, printing the timeline to `out`.

    With a `cluster`, `bot` is its first replica, and the last one is killed in step 3."""
    tl = Timeline(sim, out)
    stage = Stage(sim, bot, tl, cluster=cluster)
    if cluster is not None:
        cluster.say = tl.say
    sim.create_repo(
        REPO, default_branch="main", files={"README.md": "widgets\n", CONFIG_PATH: SANDBOX_CONFIG}
    )
    for login, role in PEOPLE.items():
        sim.add_collaborator(REPO, login, role)
    people = ", ".join(f"{login} ({role})" for login, role in PEOPLE.items())
    tl.say("setup", f"repository {REPO}, ringbot installed; collaborators: {people}")
    rings = "dev (auto) → internal → early-adopters → production → on-premises (auto)"
    tl.say("setup", f"{CONFIG_PATH}: rings {rings}, no bake times, a hotfix lane")
    await stage.settle()

    first = await ship(stage, "bob", "Add the blue widget", {"blue.txt": "blue\n"}, "alice")

    if cluster is not None:
        cluster.arm()  # webhooks go to the last replica, killed during its next job
    await stage.comment(first, "carol", "/approve dev")
    await stage.comment(first, "bob", "/promote internal")
    if cluster is not None:
        await cluster.disarm()

    second = await ship(stage, "carol", "Faster widget start", {"start.txt": "fast\n"}, "bob")
    await stage.comment(second, "bob", "/reject dev crashes on start")
    await stage.comment(second, "alice", "/promote internal")

    # An incident: production is frozen, and only the emergency lane may still enter it.
    await stage.comment(first, "alice", "/freeze production for 2h payments incident")
    third = await ship(
        stage, "carol", "Fix the payment crash", {"pay.txt": "fixed\n"}, "bob", label="hotfix"
    )
    await stage.comment(third, "alice", "/hotfix production")  # the lane may enter a frozen ring
    await stage.comment(first, "alice", "/status")
    await stage.comment(first, "alice", "/unfreeze production")
    tl.say("sandbox", "walk-through done")
    return stage


def _bound_port(runner: web.AppRunner) -> int:
    """The port the runner's first site listens on (PORT=0 picks a free one)."""
    address = runner.addresses[0]
    return int(address[1])


async def serve(settings: Settings, out: Out, *, exit_after: bool, replicas: int = 0) -> int:
    """Start the simulator and the bot, play the walk-through, then serve until SIGINT/SIGTERM.

    With `settings.redis_url`, or `replicas` >= 2 (a redis-server of its own), several replicas
    (two unless `replicas` says more) share the work behind a round-robin balancer."""
    count = max(replicas, 2) if settings.redis_url or replicas >= 2 else 1
    secret = settings.webhook_secret or secrets.token_hex(20)
    sim = Simulator(webhook_secret=secret)
    sim_url = await sim.start("127.0.0.1", 0)
    redis: RedisServer | None = None
    redis_url = settings.redis_url
    if count > 1 and redis_url is None:
        redis = RedisServer()
        try:
            await asyncio.to_thread(redis.start)
        except RuntimeError as exc:
            print(f"ringbot: RINGBOT_SANDBOX_REPLICAS: {exc}", file=sys.stderr)
            await asyncio.to_thread(redis.close)
            await sim.close()
            return 1
        redis_url = redis.url
    bot_settings = Settings(
        app_id=str(sim.app_id),
        private_key=sim.private_key_pem,
        webhook_secret=secret,
        api_url=sim_url,
        host=settings.host,
        port=settings.port,
        sandbox=True,
        redis_url=redis_url if count > 1 else None,
        # A dead replica's job comes back after this: short, so the walk-through keeps its pace.
        lease_seconds=SANDBOX_LEASE_SECONDS,
    )
    app = create_app(bot_settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
    except OSError as exc:
        print(f"ringbot: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        await runner.cleanup()
        await sim.close()
        if redis is not None:
            await asyncio.to_thread(redis.close)
        return 1
    local = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    bot_url = f"http://{local}:{_bound_port(runner)}"
    cluster: Cluster | None = None
    if count > 1:
        assert redis_url is not None
        cluster = Cluster([Replica(1, runner, app[RINGBOT], bot_url)])
        for number in range(2, count + 1):
            stop_at = cluster.mid_job if number == count else None
            cluster.replicas.append(await _start_replica(number, bot_settings, redis_url, stop_at))
        sim.webhook_url = f"{await cluster.start()}/webhook"
    else:
        sim.webhook_url = f"{bot_url}/webhook"

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if cluster is None:
        out(f"ringbot sandbox: ringbot at {bot_url}, simulated GitHub at {sim_url}")
    else:
        where = f"Redis at {redis_url}" if redis is not None else "Redis at REDIS_URL"
        others = ", ".join(f"replica {r.number} at {r.url}" for r in cluster.replicas[1:])
        out(
            f"ringbot sandbox: {count} replicas sharing {where}: replica 1 at {bot_url}, {others}; "
            f"webhooks spread round-robin by a balancer at {cluster.url}; "
            f"simulated GitHub at {sim_url}"
        )
    code = 0
    try:
        script = asyncio.create_task(walkthrough(sim, app[RINGBOT], out, cluster))
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({script, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not script.done():
            script.cancel()
        else:
            stopped.cancel()
            stage = script.result()
            if not exit_after:
                out("")
                for line in _how_to_try(bot_url, sim_url, sim.user_token("alice")):
                    out(line)
                await stage.follow(stop)
    except Exception as exc:
        print(f"ringbot: the sandbox failed: {exc!r}", file=sys.stderr)
        code = 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if cluster is not None:
            await cluster.close()
        await runner.cleanup()  # drains the bot's queue
        await sim.close()
        if redis is not None:
            await asyncio.to_thread(redis.close)
    out("ringbot sandbox stopped")
    return code


async def _start_replica(
    number: int, settings: Settings, redis_url: str, stop_at: Callable[[], bool] | None
) -> Replica:
    """Another replica on a free port of 127.0.0.1, reaching GitHub and Redis through plugs that
    the sandbox can pull (Redis only for a redis:// URL; others connect directly)."""
    plugs: list[Plug] = []
    url = urlsplit(redis_url)
    if url.scheme == "redis" and url.hostname:
        plugs.append(Plug(url.hostname, url.port or 6379))
        auth = url.netloc.rpartition("@")[0]
        local = f"127.0.0.1:{await plugs[-1].start()}"
        redis_url = url._replace(netloc=f"{auth}@{local}" if auth else local).geturl()
    api = urlsplit(settings.api_url)
    plugs.append(Plug(api.hostname or "127.0.0.1", api.port or 80, stop_at))
    api_url = f"http://127.0.0.1:{await plugs[-1].start()}"
    app = create_app(
        replace(settings, host="127.0.0.1", port=0, redis_url=redis_url, api_url=api_url)
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url_of = f"http://127.0.0.1:{_bound_port(runner)}"
    return Replica(number, runner, app[RINGBOT], url_of, plugs, redis_plugged=len(plugs) == 2)


def _how_to_try(bot_url: str, sim_url: str, token: str) -> list[str]:
    """What the newcomer can do next; every URL and the token are real for this run only."""
    comments = f"{sim_url}/repos/{REPO}/issues/1/comments"
    post = f'curl -s -H "Authorization: token {token}" {comments} -d'
    return [
        f"ringbot keeps serving at {bot_url} (Ctrl-C stops it):",
        f"  curl {bot_url}/healthz",
        f"  curl {bot_url}/metrics",
        f"The simulated GitHub at {sim_url} lives in memory and asks for a token, like GitHub.",
        "This one acts as alice in this sandbox only. Comment on pull request #1 as alice:",
        f"""  {post} '{{"body": "/approve internal"}}'""",
        f"""  {post} '{{"body": "/promote early-adopters"}}'""",
        f"  curl -s -H 'Authorization: token {token}' {comments}   # read the replies",
        "ringbot's answers, and the sandbox CD's deploys, keep appearing below.",
        "",
    ]


def run_sandbox(settings: Settings) -> int:
    """Sandbox mode: the walk-through, then serve until a signal (or exit: RINGBOT_SANDBOX_EXIT=1)."""
    if not os.environ.get("RINGBOT_LOG_LEVEL"):
        # The timeline is the sandbox's output; logs only speak up when something is wrong.
        logging.getLogger("ringbot").setLevel(logging.WARNING)
    exit_after = os.environ.get("RINGBOT_SANDBOX_EXIT", "") not in ("", "0")
    wanted = os.environ.get("RINGBOT_SANDBOX_REPLICAS", "").strip() or "0"
    if not wanted.isdigit() or not 0 <= int(wanted) <= MAX_REPLICAS:
        print(
            f"ringbot: RINGBOT_SANDBOX_REPLICAS must be a number of replicas up to {MAX_REPLICAS}",
            file=sys.stderr,
        )
        return 2

    def out(line: str) -> None:
        print(line, flush=True)

    return asyncio.run(serve(settings, out, exit_after=exit_after, replicas=int(wanted)))
