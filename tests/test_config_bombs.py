"""Hostile `.github/ringbot.yml` files end to end: the gate still fails and names the problem."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from .builders import build, command, gate, gate_runs, head, open_pr, setup_repo, verdict
from .builders.config import LAUGHS
from .harness import World

pytestmark = pytest.mark.e2e

OTHER = "acme/gadgets"

# The incident: 1.8 KB nested 900 deep, which raised RecursionError out of the parser.
DEEP = "a: " + "[" * 900 + "]" * 900 + "\n"
# The other incident: 770 KB of required checks, 20 s of parsing on the event loop.
HUGE = "merge_gate:\n  required_checks:\n" + "".join(
    f"  - check-{n:06}\n" for n in range(770_000 // 17)
)
# Just under 64 KB of values: the most work a file inside the size bound can ask for.
FLOOD = "a: [" + "x," * 32_000 + "x]\n"


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (DEEP, "lists and mappings are nested more than 32 levels deep (line 1)"),
        (HUGE, "the file is too large: ringbot reads at most 65,536 bytes (64 KB)"),
        (LAUGHS, "the file has more than 10,000 values (an alias counts as all it names)"),
        (FLOOD, "the file has more than 10,000 values (line 1)"),
    ],
    ids=["900-deep", "770-kb", "billion-laughs", "64-kb-of-values"],
)
async def test_a_hostile_config_fails_the_gate_naming_the_problem(
    w: World, config: str, problem: str
) -> None:
    setup_repo(w, config=config)
    number = open_pr(w)
    build(w, head(w, number))
    await w.settle()
    assert verdict(w, number) == "failure"
    assert problem in gate(w, number).output["summary"]


async def test_a_command_in_a_repository_with_a_hostile_config_is_answered_with_the_problem(
    w: World,
) -> None:
    setup_repo(w, config=DEEP)
    number = open_pr(w)
    await w.settle()
    reply = await command(w, number, "/status")
    assert "lists and mappings are nested more than 32 levels deep (line 1)" in reply


async def until(w: World, condition: Callable[[], object], *, within: float = 60.0) -> None:
    """Wait until `condition()` holds, looking again whenever the simulator changes (each change
    emits a webhook), for at most `within` seconds: an event to wait on, not a sleep."""
    changed = asyncio.Event()
    emit = w.sim.webhooks.emit

    def emitted(*args: Any, **kwargs: Any) -> None:
        emit(*args, **kwargs)
        changed.set()

    w.sim.webhooks.emit = emitted  # type: ignore[method-assign]
    try:
        async with asyncio.timeout(within):
            while not condition():
                changed.clear()
                await changed.wait()
    finally:
        w.sim.webhooks.emit = emit  # type: ignore[method-assign]


async def test_other_repositories_are_served_while_a_hostile_config_is_parsed(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hold the parse of the hostile file in mid-air: were it on the event loop, nothing else
    # could happen until it let go.
    parsing, release, parsed = threading.Event(), threading.Event(), threading.Event()
    compose = yaml.composer.Composer.get_single_node

    def held(loader: yaml.composer.Composer) -> yaml.Node | None:
        parsing.set()
        release.wait(10)
        try:
            return compose(loader)
        finally:
            parsed.set()

    monkeypatch.setattr(yaml.composer.Composer, "get_single_node", held)
    setup_repo(w, config=FLOOD)
    setup_repo(w, repo=OTHER)
    debounce = w.bot.settings.debounce_seconds
    try:
        number = open_pr(w)
        await w.sim.settle()
        w.clock.advance(seconds=debounce)  # the gate job starts, and parses in a thread
        assert await asyncio.to_thread(parsing.wait, 10)
        other = open_pr(w, repo=OTHER)
        await w.sim.settle()
        (delivery,) = [
            d
            for d in w.sim.deliveries
            if d.event == "pull_request" and d.payload["repository"]["full_name"] == OTHER
        ]
        assert delivery.status_code == 202
        w.clock.advance(seconds=debounce)
        await until(w, lambda: gate_runs(w, head(w, other, OTHER), OTHER))
        assert not parsed.is_set()
    finally:
        release.set()
    await w.settle()
    assert "the file has more than 10,000 values" in gate(w, number).output["summary"]


async def test_config_errors_quoted_in_a_reply_ping_nobody(w: World) -> None:
    config = 'rings:\n  - name: "@acme/everyone"\n  - name: "x` @carol `<img src=x>"\n'
    setup_repo(w, config=config)
    number = open_pr(w)
    await w.settle()
    reply = await command(w, number, "/status", by="alice")
    assert "😕" in reply
    assert "@acme/everyone" not in reply and "@carol" not in reply and "<img" not in reply
