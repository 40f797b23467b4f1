"""Builders for `.github/ringbot.yml` texts: files at and past ringbot's bounds, hostile files,
and the contents API's answer that carries a file."""

from __future__ import annotations

import base64
import random

from bot.config import (
    MAX_CONFIG_BYTES,
    MAX_DEPTH,
    MAX_FEATURES,
    MAX_LIST_ITEMS,
    MAX_RINGS,
)

# Ten aliases of ten aliases of ... ten values: tiny, but 10 ** 9 values when expanded.
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n"
    for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


def sized(size: int = MAX_CONFIG_BYTES, *, char: str = "x") -> str:
    """A valid file of exactly `size` bytes: one ring, then a comment that pads it."""
    head = "rings:\n  - name: dev\n# "
    room = size - len(head.encode()) - 1
    assert room % len(char.encode()) == 0
    return head + char * (room // len(char.encode())) + "\n"


def flow(depth: int = MAX_DEPTH) -> str:
    """A list `depth` levels deep under one key: the mapping is level 1."""
    return "a: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"


def block(depth: int = MAX_DEPTH) -> str:
    """Mappings `depth` levels deep by indentation."""
    return "".join("  " * level + f"k{level}:\n" for level in range(depth))


def outer(depth: int = MAX_DEPTH) -> str:
    """Flow mappings `depth` levels deep under one key."""
    return "a: " + "{b: " * (depth - 1) + "}" * (depth - 1) + "\n"


def names(prefix: str = "n", count: int = MAX_LIST_ITEMS) -> str:
    """A flow list of `count` distinct names."""
    return "[" + ", ".join(f"{prefix}{n}" for n in range(count)) + "]"


def rings(count: int = MAX_RINGS) -> str:
    """A file with `count` rings and nothing else."""
    return "rings:\n" + "".join(f"  - name: r{n}\n" for n in range(count))


def unknown_feature_rings(alphabet: str = "abcdefghij") -> str:
    """The hostile review's file: 50 rings of 42 characters, and features naming 1,400 more.

    Each unknown ring once got a difflib "did you mean" against all 50 rings (7 ms each), though
    only 100 errors are listed: 10 s of CPU for one 64 KB file.
    """
    rng = random.Random(1)

    def name() -> str:
        return "a" + "".join(rng.choice(alphabet) for _ in range(41))

    text = "rings:\n" + "".join(f"  - name: {name()}\n" for _ in range(MAX_RINGS)) + "features:\n"
    for flag in range(MAX_FEATURES):
        line = f"  f{flag}: [" + ",".join(name() for _ in range(20)) + "]\n"
        if len(text) + len(line) > MAX_CONFIG_BYTES:
            break
        text += line
    return text


def max_size_bombs() -> dict[str, str]:
    """Hostile files of just under 64 KB, each meant to make the parser work hard."""

    def fill(head: str, item: str, tail: str = "") -> str:
        count = (MAX_CONFIG_BYTES - len(head) - len(tail)) // len(item)
        return head + item * count + tail

    return {
        "distinct-checks": "merge_gate:\n  required_checks:\n"
        + "".join(f"  - c{n:05}\n" for n in range((MAX_CONFIG_BYTES - 40) // 11)),
        "flow-list": fill("a: [", "x,", "x]\n"),
        "flow-mapping": fill("a: {", "k: v,", "k: v}\n"),
        "unknown-keys": "".join(f"k{n:04}: 1\n" for n in range(MAX_CONFIG_BYTES // 9)),
        "duplicate-keys": fill("merge_gate:\n", "  approvals: 1\n"),
        "deep-brackets": fill("a: ", "["),
        "block-dashes": fill("", "- ", "x\n"),
        "anchors": "a: [" + ", ".join(f"&a{n:04} x" for n in range(6_500)) + "]\n",
        "tags": fill("a: [", "!!str x, ", "]\n"),
        "long-scalar": fill("release_tag: '", "x", "'\n"),
        "line-breaks": fill("a: b", "\n", "c: d\n"),
        # 10 s before "did you mean" hints were limited to the listed errors and a work budget
        "unknown-feature-rings": unknown_feature_rings(),
        "unknown-feature-rings-two-letters": unknown_feature_rings("ab"),
    }


def contents(text: str | bytes = "", **fields: object) -> dict[str, object]:
    """The contents API's answer for a file: base64 wrapped at 60 columns, as GitHub sends it."""
    raw = text.encode() if isinstance(text, str) else text
    encoded = base64.b64encode(raw).decode()
    answer: dict[str, object] = {
        "type": "file",
        "encoding": "base64",
        "size": len(raw),
        "sha": "0" * 40,
        "content": "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n",
    }
    answer.update(fields)
    return answer
