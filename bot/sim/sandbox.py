"""Sandbox mode: the real bot against the built-in GitHub simulator, a scripted walk-through, then serve.

The only module of `bot/sim` that imports the bot, and the only one the bot imports (from
`bot/__main__.py`). The bot itself is unchanged: it talks to the simulator over HTTP and receives
real signed webhooks, exactly as it would from GitHub.
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
from dataclasses import dataclass, field

from aiohttp import web

from bot.app import RINGBOT, Ringbot, create_app
from bot.config import CONFIG_PATH, MERGE_GATE_CHECK
from bot.settings import Settings
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
FOLLOW_EVERY_S = 0.5  # how often the serving sandbox looks for what happened since
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)

Out = Callable[[str], None]


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


@dataclass
class Stage:
    """The simulator, the bot, the timeline and the sandbox's stand-in for the user's CD."""

    sim: Simulator
    bot: Ringbot
    timeline: Timeline
    deployed: set[int] = field(default_factory=set)

    async def settle(self) -> None:
        """Let everything finish, print it, and let the CD deploy whatever ringbot asked for."""
        while True:
            await settle(self.sim, self.bot)
            self.timeline.observe()
            if not await self.cd():
                return

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
            await settle(self.sim, self.bot)
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
    stage: Stage, author: str, title: str, files: dict[str, str | None], approver: str
) -> int:
    """A pull request's way to main: opened, built green, approved, merged, main built green."""
    sim, tl = stage.sim, stage.timeline
    number = int(sim.open_pull_request(REPO, author=author, title=title, files=files))
    tl.say(author, f'opens pull request #{number} "{title}"')
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


async def walkthrough(sim: Simulator, bot: Ringbot, out: Out) -> Stage:
    """Play the scripted tour on a running simulator and bot, printing the timeline to `out`."""
    tl = Timeline(sim, out)
    stage = Stage(sim, bot, tl)
    sim.create_repo(
        REPO, default_branch="main", files={"README.md": "widgets\n", CONFIG_PATH: SANDBOX_CONFIG}
    )
    for login, role in PEOPLE.items():
        sim.add_collaborator(REPO, login, role)
    people = ", ".join(f"{login} ({role})" for login, role in PEOPLE.items())
    tl.say("setup", f"repository {REPO}, ringbot installed; collaborators: {people}")
    rings = "dev (auto) → internal → early-adopters → production → on-premises (auto)"
    tl.say("setup", f"{CONFIG_PATH}: rings {rings}, no bake times")
    await stage.settle()

    first = await ship(stage, "bob", "Add the blue widget", {"blue.txt": "blue\n"}, "alice")

    await stage.comment(first, "carol", "/approve dev")
    await stage.comment(first, "bob", "/promote internal")

    second = await ship(stage, "carol", "Faster widget start", {"start.txt": "fast\n"}, "bob")
    await stage.comment(second, "bob", "/reject dev crashes on start")
    await stage.comment(second, "alice", "/promote internal")
    await stage.comment(first, "alice", "/status")
    tl.say("sandbox", "walk-through done")
    return stage


def _bound_port(runner: web.AppRunner) -> int:
    """The port the runner's first site listens on (PORT=0 picks a free one)."""
    address = runner.addresses[0]
    return int(address[1])


async def serve(settings: Settings, out: Out, *, exit_after: bool) -> int:
    """Start the simulator and the bot, play the walk-through, then serve until SIGINT/SIGTERM."""
    secret = settings.webhook_secret or secrets.token_hex(20)
    sim = Simulator(webhook_secret=secret)
    sim_url = await sim.start("127.0.0.1", 0)
    bot_settings = Settings(
        app_id=str(sim.app_id),
        private_key=sim.private_key_pem,
        webhook_secret=secret,
        api_url=sim_url,
        host=settings.host,
        port=settings.port,
        sandbox=True,
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
        return 1
    local = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    bot_url = f"http://{local}:{_bound_port(runner)}"
    sim.webhook_url = f"{bot_url}/webhook"

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    out(f"ringbot sandbox: ringbot at {bot_url}, simulated GitHub at {sim_url}")
    code = 0
    try:
        script = asyncio.create_task(walkthrough(sim, app[RINGBOT], out))
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
        await runner.cleanup()  # drains the bot's queue
        await sim.close()
    out("ringbot sandbox stopped")
    return code


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

    def out(line: str) -> None:
        print(line, flush=True)

    return asyncio.run(serve(settings, out, exit_after=exit_after))
