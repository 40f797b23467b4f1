"""`.github/ringbot.yml` parsed into frozen, typed objects; an invalid file comes back as errors, not guesses.

Decisions where SPEC is silent:

- An empty file (or one holding only comments) means "all defaults", like no file at all.
- A ring left without `approvals` needs 1 sign-off in the previous ring when it is manual and 0 when it is
  `auto: true`: an auto ring follows by itself once the previous ring is live and baked. The first ring has
  no previous ring, so it defaults to 0 approvals and 0 bake, and setting either there is an error.
- `production` (optional, per ring) overrides SPEC's rule that the ring named "production" and every ring
  after it deploy with `production_environment: true`; without it that rule applies, so a list without a
  ring named "production" has no production ring unless one says `production: true`.
- `users` (optional, per ring) is how many users the ring reaches: the release's blast radius there.
- Every mistake is an error, including unknown keys, keys set twice, duplicate list entries, and values
  YAML reads as another type (`name: no` is the boolean false; quote it as 'no').
- `merge_gate:` or `features:` left empty (null) mean their defaults; anywhere else null is a type error.
- Environment names are compared without case, because GitHub treats them so.
- `signoff: {not: [...]}` (optional, per ring) names who may never sign off a release in that ring:
  `author` (of a pull request in the release) and `promoter` (who deployed it there). Without
  `not` a ring excludes `author`, because a team with separation-of-duty rules expects that nobody
  signs off their own change; `not: []` turns it off. `signoff` may be set on any ring.
- `signoff: {teams: {"org/team-slug": N}}` (optional, per ring, at most 10 teams) asks, before the
  release leaves the ring, for at least N sign-offs from members of each team (N is 1 or more; one
  person counts for every listed team they are in). It adds to `approvals` of the next ring, which
  still counts every sign-off; both must hold (see bot/policy/signoff.py).
- `verify: [names]` (optional, per ring) names check runs or commit statuses on the release
  commit that must be green, and stay green for `watch` (a duration, default 0), before the
  release counts as verified there; `{ring}` in a name is the ring's name (no other placeholder).
  `on_failure` is `reject` (the default: the release never moves on, nothing is deployed by
  surprise), `rollback` or `hold`. `watch` or `on_failure` without `verify` is an error.
- The file is bounded, because anyone who can change the default branch writes it and one bot
  shared by every repository reads it: at most 64 KB, lists and mappings nested at most 32 deep, at most 10,000
  values (an alias counts as all it names, so alias "bombs" stay small), at most 50 rings, 100
  features (GitHub keeps at most 100 variables per environment) and 100 entries in any list of
  names. A file over a bound is one error naming the bound. At most 100 errors are listed (then
  one line counts the rest), each at most 500 characters and quoting at most 80 of what was
  written, so the list fits in a comment (GitHub's limit is 65,536 characters). "Did you mean"
  hints are worked out only for the errors listed, and only until a budget of string comparisons
  for the whole file is spent (then an error names the choices instead).
- Anchors and aliases are plain YAML and work; merge keys (`<<`) do not.
- `timezone` is an IANA name (default UTC). `windows` (at most 100) each hold exactly one of
  `allow` or `deny` (a time form of bot.policy.windows), `rings` (a list, or `all`; required, so
  nobody closes every ring by leaving it out) and an optional `reason` (at most 200 characters).
- `hotfix:` turns the emergency lane on (without it `/hotfix` is refused, saying how to turn it
  on). Every key is optional: `label` (default hotfix), `approvals` (default 2, at least 1),
  `promoters` (default maintain) and `during_freeze` (default false). `hotfix:` left empty means
  every default.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import logging
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.logs import log
from bot.models import Permission
from bot.policy.windows import MAX_WINDOWS, Window, parse_span

CONFIG_PATH = ".github/ringbot.yml"
MERGE_GATE_CHECK = "ringbot/merge-gate"
DEFAULT_RELEASE_TAG = "v{date}-{sha7}"
RELEASE_TAG_PLACEHOLDERS = ("date", "sha7", "sha", "ring")
# A label is at most 50 characters, and `promote:` takes 8 of them.
MAX_RING_NAME = 42
SIGNOFF_ROLES = ("author", "promoter")
DEFAULT_SIGNOFF_NOT = frozenset({"author"})
MAX_LABEL = 50  # GitHub's longest label name
MAX_SIGNOFF_TEAMS = 10  # each team costs a membership read per person who signed off

# Bounds on a file that anyone who can change the default branch writes, and that one bot shared
# by every repository reads.
# Real files are a few KB, a handful of levels deep and a few hundred values.
MAX_CONFIG_BYTES = 64 * 1024
MAX_DEPTH = 32  # lists and mappings inside each other; PyYAML's composer recurses per level
MAX_NODES = 10_000  # values, keys included, an alias counting as everything it names
MAX_RINGS = 50
MAX_FEATURES = 100  # GitHub keeps at most 100 variables in an environment
MAX_LIST_ITEMS = 100  # required_checks, blocking_labels, a flag's rings, signoff.not
MAX_ERRORS = 100  # errors listed; the rest are counted in one last line
_ERRORS_KEPT = 1_000  # errors held while reading, before the earliest MAX_ERRORS are kept
_QUOTED = 80  # characters of a written value quoted in a message
_MESSAGE = 500  # characters of one message
_COUNT_CHARS = 18  # a count written with more characters is refused before it is converted
# difflib's work for the file's "did you mean" hints, in (len(word) + 1) * (len(choice) + 1) per
# comparison: at worst about 170 ns each (two-letter names), so at most about 0.1 s per file.
# A typical file (a few rings of a dozen characters) gets a hint on each of its 100 listed errors.
_SUGGESTION_WORK = 500_000

_RING_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_FLAG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_DURATION = re.compile(r"(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,6})s)?")
_PERMISSIONS = ("read", "triage", "write", "maintain", "admin")

_TOP_KEYS = (
    "merge_gate",
    "rings",
    "features",
    "feature_admins",
    "release_tag",
    "timezone",
    "windows",
    "hotfix",
)
_WINDOW_KEYS = ("allow", "deny", "rings", "reason")
MAX_WINDOW_REASON = 200  # characters of a window's reason
UTC_ZONE = ZoneInfo("UTC")
_GATE_KEYS = ("approvals", "required_checks", "dismiss_stale_approvals", "blocking_labels")
_RING_KEYS = (
    "name",
    "environment",
    "auto",
    "approvals",
    "bake",
    "promoters",
    "release",
    "users",
    "production",
    "signoff",
    "verify",
    "watch",
    "on_failure",
)
# What a failed verification does (see bot/policy/verify.py); the first is the default.
ON_FAILURE = ("reject", "rollback", "hold")
_SIGNOFF_KEYS = ("not", "teams")
_HOTFIX_KEYS = ("label", "approvals", "promoters", "during_freeze")
# org/team-slug: an organization login, then a team's slug (lower case, as GitHub makes them)
_TEAM = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[a-z0-9][a-z0-9_.-]{0,99}")

_TAG = "tag:yaml.org,2002:"
_T = TypeVar("_T")


@dataclass(frozen=True)
class RingConfig:
    """One ring: a GitHub Environment a release enters after the ring before it."""

    name: str
    environment: str
    auto: bool
    approvals: int  # sign-offs needed in the previous ring before entering this one
    bake: timedelta  # least time live in the previous ring before entering this one
    promoters: Permission  # least repository permission allowed to promote into this ring
    release: bool = False  # publish a GitHub Release when a release enters this ring
    users: int | None = None  # how many users the ring reaches (blast radius), if known
    production: bool = False  # deployments here set production_environment
    # who may never sign off a release in this ring: "author" (of a pull request in it), "promoter"
    signoff_not: frozenset[str] = DEFAULT_SIGNOFF_NOT
    # ("org/team-slug", N): at least N sign-offs here from members of that team, in file order
    signoff_teams: tuple[tuple[str, int], ...] = ()
    # check runs or commit statuses on the release commit that verify it here (`{ring}`: the
    # ring's name), how long they stay green first, and what a failure does (bot/policy/verify.py)
    verify: tuple[str, ...] = ()
    watch: timedelta = timedelta(0)
    on_failure: str = "reject"


@dataclass(frozen=True)
class HotfixConfig:
    """`hotfix:`, the emergency lane (see bot/policy/hotfix.py); absent: the lane is off."""

    label: str = "hotfix"  # a pull request in the release carries it
    approvals: int = 2  # approving reviews on it from `promoters`, never its author
    promoters: Permission = Permission.MAINTAIN  # of the reviewers, and of whoever asks
    during_freeze: bool = False  # may a hotfix enter a closed ring?


@dataclass(frozen=True)
class MergeGateConfig:
    """What the `ringbot/merge-gate` check asks of a pull request."""

    approvals: int = 1
    required_checks: tuple[str, ...] = ()  # empty: every other check on the head commit
    dismiss_stale_approvals: bool = False
    blocking_labels: tuple[str, ...] = ("do-not-merge", "hold")


def _no_features() -> Mapping[str, frozenset[str]]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Config:
    """A repository's whole ringbot configuration."""

    merge_gate: MergeGateConfig
    rings: tuple[RingConfig, ...]
    # flag -> names of the rings where it is on; read-only
    features: Mapping[str, frozenset[str]] = field(default_factory=_no_features, hash=False)
    feature_admins: Permission = Permission.MAINTAIN
    release_tag: str = DEFAULT_RELEASE_TAG
    timezone: ZoneInfo = UTC_ZONE  # the zone of `windows` times (bot.policy.windows)
    windows: tuple[Window, ...] = ()  # when rings may be entered, in file order
    hotfix: HotfixConfig | None = None  # the emergency lane; None: off (`/hotfix` is refused)

    @property
    def ring_names(self) -> tuple[str, ...]:
        """The ring names in order."""
        return tuple(ring.name for ring in self.rings)

    def ring(self, name: str) -> RingConfig | None:
        """The ring called `name`, or None."""
        return next((ring for ring in self.rings if ring.name == name), None)

    def index(self, name: str) -> int:
        """The position of ring `name`; KeyError when there is no such ring."""
        for position, ring in enumerate(self.rings):
            if ring.name == name:
                return position
        raise KeyError(name)

    def previous(self, ring: RingConfig) -> RingConfig | None:
        """The ring before `ring`, or None for the first ring."""
        position = self.index(ring.name)
        return self.rings[position - 1] if position > 0 else None

    def next(self, ring: RingConfig) -> RingConfig | None:
        """The ring after `ring`, or None for the last ring."""
        position = self.index(ring.name)
        return self.rings[position + 1] if position + 1 < len(self.rings) else None

    def flags_on(self, ring: str) -> frozenset[str]:
        """The flags the file turns on in ring `ring`."""
        return frozenset(flag for flag, rings in self.features.items() if ring in rings)

    def tag_for(self, sha: str, ring: str, when: datetime) -> str:
        """The release tag for `sha` entering `ring` at `when`."""
        return render_release_tag(self.release_tag, sha=sha, ring=ring, when=when)


@dataclass(frozen=True)
class ConfigError:
    """One thing wrong with the file: where, what, and on which line."""

    path: str  # "rings[2].bake"; "" for the file as a whole
    message: str
    line: int | None  # 1-based

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        line = f" (line {self.line})" if self.line is not None else ""
        return f"{where}{self.message}{line}"


@dataclass(frozen=True)
class ConfigErrors:
    """Every error found in an invalid file, in file order."""

    errors: tuple[ConfigError, ...]
    omitted: int = 0  # errors found beyond those listed (the last entry says how many)

    @property
    def count(self) -> int:
        """How many errors the file has, listed or not."""
        return len(self.errors) - (1 if self.omitted else 0) + self.omitted

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


DEFAULT_RINGS = (
    RingConfig("dev", "dev", auto=True, approvals=0, bake=timedelta(0), promoters=Permission.WRITE),
    RingConfig(
        "internal",
        "internal",
        auto=False,
        approvals=1,
        bake=timedelta(0),
        promoters=Permission.WRITE,
    ),
    RingConfig(
        "early-adopters",
        "early-adopters",
        auto=False,
        approvals=1,
        bake=timedelta(hours=24),
        promoters=Permission.WRITE,
    ),
    RingConfig(
        "production",
        "production",
        auto=False,
        approvals=1,
        bake=timedelta(hours=48),
        promoters=Permission.MAINTAIN,
        production=True,
    ),
    RingConfig(
        "on-premises",
        "on-premises",
        auto=True,
        approvals=0,
        bake=timedelta(0),
        promoters=Permission.WRITE,
        release=True,
        production=True,
    ),
)
DEFAULT_CONFIG = Config(merge_gate=MergeGateConfig(), rings=DEFAULT_RINGS)


def feature_variable(flag: str) -> str:
    """The environment variable that holds `flag`: "new-grid" -> "FEATURE_NEW_GRID"."""
    return "FEATURE_" + flag.upper().replace("-", "_")


def is_flag_name(text: str) -> bool:
    """Whether `text` can name a feature flag."""
    return _FLAG_NAME.fullmatch(text) is not None


def is_ring_name(text: str) -> bool:
    """Whether `text` can name a ring (it is used in commands and labels)."""
    return len(text) <= MAX_RING_NAME and _RING_NAME.fullmatch(text) is not None


def parse_duration(text: str) -> timedelta | None:
    """Read a duration like 36h, 90m, 1d12h, 45s or 0; None for anything else, bare numbers too."""
    text = text.strip()
    if text == "0":
        return timedelta(0)
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def format_duration(value: timedelta) -> str:
    """A timedelta in the file's own notation: 1d12h, 90m -> 1h30m, 0 -> 0."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def render_release_tag(template: str, *, sha: str, ring: str, when: datetime) -> str:
    """Fill a `release_tag` template; {date} is the UTC date of `when` as YYYY.MM.DD."""
    moment = when.astimezone(UTC) if when.tzinfo else when
    return template.format(date=moment.strftime("%Y.%m.%d"), sha7=sha[:7], sha=sha, ring=ring)


def parse_config(text: str | None) -> Config | ConfigErrors:
    """Parse the file's text (None: there is no file) into a Config, or every error in it."""
    if text is None:
        return DEFAULT_CONFIG
    try:
        return _parse(text)
    except Exception as exc:
        # Last resort (RecursionError and MemoryError are Exceptions too): a file must never
        # crash the job that reads it, or no gate is published and no command is answered.
        return _unparsable(exc)


def parse_contents(data: object) -> Config | ConfigErrors:
    """The contents API's answer for the file, checked, decoded and parsed (run it off the loop)."""
    try:
        return _parse_contents(data)
    except Exception as exc:  # as in parse_config
        return _unparsable(exc)


def _parse_contents(data: object) -> Config | ConfigErrors:
    if not isinstance(data, Mapping) or data.get("type", "file") != "file":
        return _file_error(f"`{CONFIG_PATH}` is not a file")
    size = data.get("size")
    # Refuse by the size GitHub states before decoding anything.
    if isinstance(size, int) and size > MAX_CONFIG_BYTES:
        return _too_large(size)
    content = data.get("content")
    if not isinstance(content, str) or data.get("encoding", "base64") != "base64":
        return _file_error("the file's content could not be read")
    if len(content) > 2 * MAX_CONFIG_BYTES:  # base64 of 64 KB, with line breaks, is under 90 KB
        return _too_large(None)
    try:
        raw = base64.b64decode(content)
    except (ValueError, binascii.Error):
        return _file_error("the file's content could not be read")
    if len(raw) > MAX_CONFIG_BYTES:
        return _too_large(len(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _file_error("the file is not UTF-8 text")
    return parse_config(text)


def _parse(text: str) -> Config | ConfigErrors:
    if len(text) > 16 * MAX_CONFIG_BYTES:  # not worth encoding to count its bytes
        return _too_large(None)
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_CONFIG_BYTES:
        return _too_large(size)
    loader = _BoundedLoader(text)
    try:
        root = loader.get_single_node()
    except _Bound as exc:
        return _file_error(exc.message, exc.line)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "unreadable"
        line = mark.line + 1 if mark is not None else None
        return _file_error(f"invalid YAML: {_clip(problem)}", line)
    except yaml.YAMLError as exc:  # e.g. a character YAML does not allow
        return _file_error(f"invalid YAML: {_clip(str(exc))}")
    finally:
        loader.dispose()
    reader = _Reader()
    config = reader.config(root)
    if reader.errors:
        return reader.result()
    return config


def _file_error(message: str, line: int | None = None) -> ConfigErrors:
    return ConfigErrors((ConfigError("", message, line),))


def _too_large(size: int | None) -> ConfigErrors:
    known = f" and this one is {size:,}" if size is not None else ""
    return _file_error(
        f"the file is too large: ringbot reads at most {MAX_CONFIG_BYTES:,} bytes "
        f"({MAX_CONFIG_BYTES // 1024} KB){known}"
    )


def _unparsable(exc: Exception) -> ConfigErrors:
    # No traceback: a RecursionError's would be a thousand frames long.
    log(logging.WARNING, "config could not be parsed", error=type(exc).__name__)
    return _file_error(f"the file could not be parsed ({type(exc).__name__})")


_TOO_DEEP = f"lists and mappings are nested more than {MAX_DEPTH} levels deep"


class _Bound(Exception):
    """The file crossed one of the bounds; raised while composing, to stop early."""

    def __init__(self, message: str, mark: object) -> None:
        super().__init__(message)
        self.message = message
        line = getattr(mark, "line", None)  # PyYAML's Mark, 0-based
        self.line = line + 1 if isinstance(line, int) else None


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that stops composing at the first bound the file crosses.

    PyYAML's scanner and parser are iterative; its composer recurses once per level and shares
    an aliased node instead of copying it. So this counts levels before recursing, and counts
    every alias as all it names, since the reader walks an aliased node at each use.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.depth = 0
        self.nodes = 0
        self.chars = 0
        self.aliased = False
        # id(anchored node) -> (nodes, characters) one alias to it stands for
        self.weights: dict[int, tuple[int, int]] = {}

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        """Stop at a `[` or `{` nested too deep, before the scanner reads on."""
        # The scanner, not only the composer, suffers deep nesting: every `[` or `{` may start a
        # key, so it reads ahead up to 1,024 characters and checks every open level at each token
        # (900 `[` cost 0.2 s), before the composer sees the first one.
        if self.flow_level >= MAX_DEPTH:
            raise _Bound(_TOO_DEEP, self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # Only node events reach here: a scalar, an alias, or the start of a list or mapping.
        event: NodeEvent = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            weight = self.weights.get(id(node))
            if weight is None:  # its anchor is still open: it would expand forever
                raise _Bound(
                    f"the alias *{_quote(event.anchor)} is inside what it names", event.start_mark
                )
            self.aliased = True
            self.count(*weight, event.start_mark)
            return node
        nested = isinstance(event, CollectionStartEvent)
        if nested and self.depth >= MAX_DEPTH:
            raise _Bound(_TOO_DEEP, event.start_mark)
        nodes, chars = self.nodes, self.chars
        level = 1 if nested else 0
        self.depth += level
        node = super().compose_node(parent, index)
        self.depth -= level
        self.count(1, len(node.value) if isinstance(node, ScalarNode) else 0, event.start_mark)
        if event.anchor is not None and node is not None:
            self.weights[id(node)] = (self.nodes - nodes, self.chars - chars)
        return node

    def count(self, nodes: int, chars: int, mark: object) -> None:
        self.nodes += nodes
        self.chars += chars
        if self.nodes > MAX_NODES:
            counted = " (an alias counts as all it names)" if self.aliased else ""
            raise _Bound(f"the file has more than {MAX_NODES:,} values{counted}", mark)
        # Without aliases the values fit in the file; with them they may not.
        if self.chars > MAX_CONFIG_BYTES:
            raise _Bound(
                f"with its aliases expanded, the file's values come to more than "
                f"{MAX_CONFIG_BYTES:,} characters",
                mark,
            )


def _file_order(error: _Found) -> tuple[int, str]:
    return (error.line or 0, error.path)


def _clip(text: str, limit: int = _MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quote(text: object) -> str:
    """What was written, short enough to quote in a message."""
    return _clip(str(text), _QUOTED)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _kind(node: Node) -> str:
    """How YAML read a node, for messages: "'x' (a string)", "no (a YAML boolean)", "a list"."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    kinds = {
        "str": "a string",
        "int": "a number",
        "float": "a decimal number",
        "bool": "a YAML boolean",
        "timestamp": "a YAML date",
    }
    tag = str(node.tag).removeprefix(_TAG)
    if tag == "null":
        return "nothing (null)"
    if tag == "str":
        return f"'{_quote(node.value)}' (a string)"
    return f"{_quote(node.value)} ({kinds.get(tag, 'an unsupported value')})"


def _is(node: Node, tag: str) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG + tag


class _Suggestions:
    """The file's "did you mean" hints, within one budget of difflib work for the whole file.

    difflib compares the word with every choice, each comparison costing up to the product of
    their lengths: a hostile file's hundreds of unknown ring names against 50 long ring names
    once took 10 s. So hints are worked out only for listed errors, and only while the budget lasts.
    """

    def __init__(self) -> None:
        self.budget = _SUGGESTION_WORK

    def __call__(self, word: str, choices: tuple[str, ...]) -> str:
        # Nothing that long is close to a known word; difflib need not say so.
        if len(word) > _QUOTED:
            return ""
        cost = sum((len(word) + 1) * (len(choice) + 1) for choice in choices)
        if cost > self.budget:
            return ""
        self.budget -= cost
        close = difflib.get_close_matches(word, choices, n=1)
        return f"did you mean '{close[0]}'?" if close else ""


@dataclass(frozen=True)
class _Found:
    """An error as the reader records it; its "did you mean" is worked out only if it is listed."""

    path: str
    message: str
    line: int | None
    # (word, choices, what to say when no choice is close): the hint that ends the message
    near: tuple[str, tuple[str, ...], str] | None = None

    def error(self, suggest: _Suggestions) -> ConfigError:
        message = self.message
        if self.near is not None:
            word, choices, otherwise = self.near
            message += suggest(word, choices) or otherwise
        return ConfigError(self.path, _clip(message), self.line)


def _join(path: str, key: str) -> str:
    key = _quote(key)
    return f"{path}.{key}" if path else key


class _Reader:
    """Walks the composed YAML nodes, collecting every error instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[_Found] = []
        self.dropped = 0  # errors found past _ERRORS_KEPT
        # Ring names as written, valid or not, so features naming a misspelt ring do not cascade.
        self.given_ring_names: set[str] = set()
        self.rings_unknown = False

    def error(
        self,
        path: str,
        message: str,
        node: Node | None,
        near: tuple[str, tuple[str, ...], str] | None = None,
    ) -> None:
        """Record an error; `near` (word, choices, fallback) ends its message with a hint."""
        if len(self.errors) >= _ERRORS_KEPT:
            self.dropped += 1
            return
        line = _line(node) if node is not None else None
        # Clipped now too, so an error never listed holds no more than a listed one.
        self.errors.append(_Found(path, _clip(message), line, near))

    def result(self) -> ConfigErrors:
        """The earliest MAX_ERRORS errors in file order, and how many more there are."""
        found = sorted(self.errors, key=_file_order)
        suggest = _Suggestions()  # only for the listed errors, earliest first
        errors = tuple(error.error(suggest) for error in found[:MAX_ERRORS])
        more = len(found) - MAX_ERRORS + self.dropped
        if more <= 0:
            return ConfigErrors(errors)
        last = ConfigError("", f"… and {more:,} more errors, not listed", None)
        return ConfigErrors((*errors, last), omitted=more)

    # -- documents and sections ------------------------------------------------------------------

    def config(self, root: Node | None) -> Config:
        if root is None or _is(root, "null"):
            return DEFAULT_CONFIG
        fields = self.mapping(root, "", _TOP_KEYS)
        if fields is None:
            return DEFAULT_CONFIG
        gate = fields.get("merge_gate")
        merge_gate = (
            MergeGateConfig() if gate is None or _is(gate, "null") else self.merge_gate(gate)
        )
        rings = self.rings(fields["rings"]) if "rings" in fields else DEFAULT_RINGS
        flags = fields.get("features")
        features: Mapping[str, frozenset[str]] = (
            _no_features()
            if flags is None or _is(flags, "null")
            else self.features(flags, tuple(ring.name for ring in rings))
        )
        admins = self.value(fields, "feature_admins", "", self.permission, Permission.MAINTAIN)
        tag = self.value(fields, "release_tag", "", self.release_tag, DEFAULT_RELEASE_TAG)
        zone = self.value(fields, "timezone", "", self.timezone, UTC_ZONE)
        names = tuple(ring.name for ring in rings)
        windows = self.windows(fields["windows"], names) if "windows" in fields else ()
        hotfix = self.hotfix(fields["hotfix"]) if "hotfix" in fields else None
        return Config(
            merge_gate,
            rings,
            features,
            admins,
            tag,
            timezone=zone,
            windows=windows,
            hotfix=hotfix,
        )

    def hotfix(self, node: Node) -> HotfixConfig:
        """`hotfix:` (each key optional; an empty `hotfix:` turns the lane on with defaults)."""
        path = "hotfix"
        default = HotfixConfig()
        if _is(node, "null"):
            return default
        fields = self.mapping(node, path, _HOTFIX_KEYS)
        if fields is None:
            return default
        label = self.value(fields, "label", path, self.string, default.label)
        if not label.strip() or len(label) > MAX_LABEL:
            self.error(
                _join(path, "label"),
                f"a label is 1 to {MAX_LABEL} characters (GitHub's limit)",
                fields["label"],
            )
        approvals = self.value(fields, "approvals", path, self.count, default.approvals)
        if approvals == 0:
            self.error(
                _join(path, "approvals"),
                "a hotfix needs at least 1 approval: the lane skips every other sign-off",
                fields["approvals"],
            )
        return HotfixConfig(
            label=label.strip(),
            approvals=approvals,
            promoters=self.value(fields, "promoters", path, self.permission, default.promoters),
            during_freeze=self.value(
                fields, "during_freeze", path, self.boolean, default.during_freeze
            ),
        )

    def merge_gate(self, node: Node) -> MergeGateConfig:
        path = "merge_gate"
        fields = self.mapping(node, path, _GATE_KEYS)
        if fields is None:
            return MergeGateConfig()
        default = MergeGateConfig()
        checks: tuple[str, ...] = self.value(fields, "required_checks", path, self.strings, ())
        if MERGE_GATE_CHECK in checks:
            self.error(
                f"{path}.required_checks",
                f"'{MERGE_GATE_CHECK}' is ringbot's own check; it cannot require itself",
                fields["required_checks"],
            )
        return MergeGateConfig(
            approvals=self.value(fields, "approvals", path, self.count, default.approvals),
            required_checks=checks,
            dismiss_stale_approvals=self.value(
                fields, "dismiss_stale_approvals", path, self.boolean, False
            ),
            blocking_labels=self.value(
                fields, "blocking_labels", path, self.strings, default.blocking_labels
            ),
        )

    def rings(self, node: Node) -> tuple[RingConfig, ...]:
        path = "rings"
        if not isinstance(node, SequenceNode) or not node.value:
            got = "an empty list" if isinstance(node, SequenceNode) else _kind(node)
            self.error(path, f"expected a list of at least one ring, got {got}", node)
            self.rings_unknown = True
            return DEFAULT_RINGS
        if len(node.value) > MAX_RINGS:
            self.error(path, _too_many(len(node.value), "rings", MAX_RINGS), node)
            self.rings_unknown = True
            return DEFAULT_RINGS
        rings: list[RingConfig] = []
        names: dict[str, int] = {}
        environments: dict[str, str] = {}
        explicit_production: list[bool | None] = []
        for position, item in enumerate(node.value):
            parsed = self.ring(item, f"{path}[{position}]", position)
            if parsed is None:
                continue
            ring, production, fields = parsed
            if ring.name in names:
                self.error(
                    f"{path}[{position}].name",
                    f"ring '{ring.name}' is listed twice (first at line {names[ring.name]})",
                    fields["name"],
                )
                continue
            names[ring.name] = _line(fields["name"])
            env_key = ring.environment.lower()
            if env_key in environments:
                self.error(
                    f"{path}[{position}].environment",
                    f"environment '{_quote(ring.environment)}' is already used by ring "
                    f"'{environments[env_key]}'",
                    fields.get("environment", fields["name"]),
                )
            environments.setdefault(env_key, ring.name)
            rings.append(ring)
            explicit_production.append(production)
        return _with_production(rings, explicit_production)

    def ring(
        self, node: Node, path: str, position: int
    ) -> tuple[RingConfig, bool | None, dict[str, Node]] | None:
        """One ring entry, its explicit `production` and its fields; None when it has no valid name."""
        fields = self.mapping(node, path, _RING_KEYS)
        if fields is None:
            return None
        if "name" not in fields:
            self.error(path, "a ring needs a name", node)
        elif isinstance(fields["name"], ScalarNode):
            self.given_ring_names.add(str(fields["name"].value))
        name = self.value(fields, "name", path, self.ring_name, "")
        first = position == 0
        # SPEC: the first ring is entered as soon as the default branch is green, never by hand.
        auto = self.value(fields, "auto", path, self.boolean, first)
        if first and auto is False:
            self.error(
                _join(path, "auto"),
                "the first ring is entered automatically once the default branch is green; "
                "it cannot be manual",
                fields["auto"],
            )
        for key in ("approvals", "bake"):
            if first and key in fields and self.value(fields, key, path, self.zero, True) is False:
                self.error(
                    _join(path, key),
                    f"the first ring has no ring before it, so it cannot ask for {key} there",
                    fields[key],
                )
        approvals = self.value(fields, "approvals", path, self.count, 0 if first or auto else 1)
        no_teams: tuple[tuple[str, int], ...] = ()
        signoff = self.value(fields, "signoff", path, self.signoff, (DEFAULT_SIGNOFF_NOT, no_teams))
        ring = RingConfig(
            name=name,
            environment=self.value(fields, "environment", path, self.environment, name),
            auto=auto,
            approvals=approvals,
            bake=self.value(fields, "bake", path, self.duration, timedelta(0)),
            promoters=self.value(fields, "promoters", path, self.permission, Permission.WRITE),
            release=self.value(fields, "release", path, self.boolean, False),
            users=self.value(fields, "users", path, self.count, None),
            signoff_not=signoff[0],
            signoff_teams=signoff[1],
            **self.verification(fields, path, name),
        )
        production = self.value(fields, "production", path, self.boolean, None)
        return (ring, production, fields) if name else None

    def verification(self, fields: Mapping[str, Node], path: str, name: str) -> dict[str, Any]:
        """`verify`, `watch` and `on_failure` of a ring (the last two only beside `verify`)."""
        none: tuple[str, ...] = ()
        verify = self.value(fields, "verify", path, self.check_names, none)
        for key in ("watch", "on_failure"):
            if key in fields and "verify" not in fields:
                self.error(
                    _join(path, key),
                    f"{key} needs verify: the checks to watch, like verify: ['smoke/{{ring}}']",
                    fields[key],
                )
        return {
            "verify": tuple(check.replace("{ring}", name) for check in verify),
            "watch": self.value(fields, "watch", path, self.duration, timedelta(0)),
            "on_failure": self.value(fields, "on_failure", path, self.on_failure, ON_FAILURE[0]),
        }

    def check_names(self, node: Node, path: str) -> tuple[str, ...] | None:
        """The names of check runs or commit statuses; `{ring}` is the only placeholder."""
        names = self.strings(node, path)
        if names is None:
            return None
        valid = True
        for position, check in enumerate(names):
            rest = check.replace("{ring}", "")
            if "{" in rest or "}" in rest:
                self.error(
                    f"{path}[{position}]",
                    f"'{_quote(check)}' has a placeholder other than {{ring}}",
                    node.value[position],
                )
                valid = False
        return names if valid else None

    def on_failure(self, node: Node, path: str) -> str | None:
        text = self.string(node, path)
        if text is None:
            return None
        if text in ON_FAILURE:
            return text
        self.error(
            path,
            f"'{_quote(text)}' is not what a failed verification can do; ",
            node,
            (text, ON_FAILURE, "use reject, rollback or hold"),
        )
        return None

    def signoff(
        self, node: Node, path: str
    ) -> tuple[frozenset[str], tuple[tuple[str, int], ...]] | None:
        """Who may never sign off in the ring, and the teams whose sign-offs it asks for."""
        fields = self.mapping(node, path, _SIGNOFF_KEYS)
        if fields is None:
            return None
        return (
            self.value(fields, "not", path, self.roles, DEFAULT_SIGNOFF_NOT),
            self.value(fields, "teams", path, self.teams, ()),
        )

    def teams(self, node: Node, path: str) -> tuple[tuple[str, int], ...] | None:
        """`{"org/team-slug": N}`: at least N sign-offs from members of each team."""
        if not isinstance(node, MappingNode):
            self.error(
                path,
                f"expected team: count pairs like {{acme/qa: 1}}, got {_kind(node)}",
                node,
            )
            return None
        if len(node.value) > MAX_SIGNOFF_TEAMS:
            self.error(path, _too_many(len(node.value), "teams", MAX_SIGNOFF_TEAMS), node)
            return None
        teams: list[tuple[str, int]] = []
        seen: dict[str, int] = {}  # lower-cased team -> its line
        valid = True
        for key, value in node.value:
            team = str(key.value) if isinstance(key, ScalarNode) else ""
            team_path = _join(path, team) if team else path
            if not _is(key, "str"):
                self.error(team_path, f"a team must be a string, got {_kind(key)}", key)
                valid = False
                continue
            count = self.count(value, team_path)
            if team.lower() in seen:
                self.error(
                    team_path,
                    f"team '{_quote(team)}' is listed twice (first at line {seen[team.lower()]})",
                    key,
                )
                valid = False
            elif _TEAM.fullmatch(team) is None:
                bare = team.lstrip("@")
                org, _, slug = bare.partition("/")
                written = f"{org}/{slug.lower()}"  # without '@', and slugs are lower case
                if _TEAM.fullmatch(written):
                    hint = f"write it as '{_quote(written)}'"
                else:
                    hint = "write it as org/team-slug, like acme/qa (the slug from the team's URL)"
                self.error(team_path, f"'{_quote(team)}' is not a team: {hint}", key)
                valid = False
            seen.setdefault(team.lower(), _line(key))
            if count == 0:
                self.error(
                    team_path,
                    "0 sign-offs asks for nothing: use 1 or more, or leave the team out",
                    value,
                )
                valid = False
            elif count is None:
                valid = False
            else:
                teams.append((team, count))
        return tuple(teams) if valid else None

    def roles(self, node: Node, path: str) -> frozenset[str] | None:
        """A list of SIGNOFF_ROLES."""
        names = self.strings(node, path)
        if names is None:
            return None
        known = True
        for position, name in enumerate(names):
            if name not in SIGNOFF_ROLES:
                self.error(
                    f"{path}[{position}]",
                    f"unknown role '{_quote(name)}'; ",
                    node.value[position],
                    (name, SIGNOFF_ROLES, f"use {' or '.join(SIGNOFF_ROLES)}"),
                )
                known = False
        return frozenset(names) if known else None

    def features(self, node: Node, rings: tuple[str, ...]) -> Mapping[str, frozenset[str]]:
        path = "features"
        if not isinstance(node, MappingNode):
            self.error(path, f"expected flag: [rings] pairs, got {_kind(node)}", node)
            return _no_features()
        if len(node.value) > MAX_FEATURES:
            self.error(path, _too_many(len(node.value), "flags", MAX_FEATURES), node)
            return _no_features()
        ring_set = set(rings)
        listing = f"the rings are {', '.join(rings)}"  # once, not once per unknown ring
        features: dict[str, frozenset[str]] = {}
        variables: dict[str, str] = {}
        for key, value in node.value:
            flag = str(key.value) if isinstance(key, ScalarNode) else ""
            flag_path = _join(path, flag)
            if not _is(key, "str"):
                self.error(
                    flag_path or path,
                    f"a flag name must be a string, got {_kind(key)}; quote it as '{_quote(flag)}'",
                    key,
                )
                continue
            if flag in features:
                self.error(flag_path, f"flag '{_quote(flag)}' is listed twice", key)
                continue
            if not is_flag_name(flag):
                self.error(
                    flag_path,
                    f"'{_quote(flag)}' is not a usable flag name: use letters, digits, '_' and '-', "
                    "starting with a letter or digit",
                    key,
                )
            elif feature_variable(flag) in variables:
                self.error(
                    flag_path,
                    f"flags '{_quote(variables[feature_variable(flag)])}' and '{_quote(flag)}' "
                    f"would both be stored as {_quote(feature_variable(flag))}",
                    key,
                )
            else:
                variables[feature_variable(flag)] = flag
            on = self.strings(value, flag_path)
            for position, ring in enumerate(on or ()):
                if (
                    ring not in ring_set
                    and ring not in self.given_ring_names
                    and not self.rings_unknown
                ):
                    self.error(
                        f"{flag_path}[{position}]",
                        f"unknown ring '{_quote(ring)}'; ",
                        value.value[position],
                        (ring, rings, listing),
                    )
            features[flag] = frozenset(on or ())
        return MappingProxyType(features)

    def timezone(self, node: Node, path: str) -> ZoneInfo | None:
        """An IANA time zone name, like Europe/Berlin."""
        name = self.string(node, path)
        if name is None:
            return None
        hint = "use an IANA name like Europe/Berlin or UTC"
        # ZoneInfo reads a file named by the text: only names made of zone-name characters.
        if len(name) <= 60 and re.fullmatch(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*", name):
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                pass
        self.error(path, f"'{_quote(name)}' is not a time zone; {hint}", node)
        return None

    def windows(self, node: Node, rings: tuple[str, ...]) -> tuple[Window, ...]:
        """`windows:` (see bot.policy.windows): a list of allow and deny entries."""
        path = "windows"
        if _is(node, "null"):
            return ()
        if not isinstance(node, SequenceNode):
            self.error(path, f"expected a list of windows, got {_kind(node)}", node)
            return ()
        if len(node.value) > MAX_WINDOWS:
            self.error(path, _too_many(len(node.value), "windows", MAX_WINDOWS), node)
            return ()
        found = (self.window(item, f"{path}[{at}]", rings) for at, item in enumerate(node.value))
        return tuple(window for window in found if window is not None)

    def window(self, node: Node, path: str, rings: tuple[str, ...]) -> Window | None:
        """One entry: exactly one of `allow` or `deny`, the `rings` it covers, a `reason`."""
        fields = self.mapping(node, path, _WINDOW_KEYS)
        if fields is None:
            return None
        kinds = [kind for kind in ("allow", "deny") if kind in fields]
        if len(kinds) != 1:
            what = "both" if kinds else "neither"
            self.error(path, f"a window needs exactly one of allow or deny; this has {what}", node)
        if "rings" not in fields:
            self.error(path, "a window needs `rings`: a list of ring names, or all", node)
        covered = self.value(
            fields, "rings", path, lambda n, p: self.window_rings(n, p, rings), None
        )
        reason = self.value(fields, "reason", path, self.string, "")
        if len(reason) > MAX_WINDOW_REASON:
            self.error(
                _join(path, "reason"),
                f"a reason is at most {MAX_WINDOW_REASON} characters",
                fields["reason"],
            )
        if len(kinds) != 1 or "rings" not in fields:
            return None
        kind = kinds[0]
        text = self.value(fields, kind, path, self.string, None)
        if text is None:
            return None
        span = parse_span(text)
        if isinstance(span, str):
            self.error(_join(path, kind), f"'{_quote(text)}' {span}", fields[kind])
            return None
        written = " ".join(text.split())
        return Window("allow" if kind == "allow" else "deny", written, span, covered, reason)

    def window_rings(self, node: Node, path: str, rings: tuple[str, ...]) -> frozenset[str] | None:
        """`all`, or a list of ring names (None stands for all: see Window.rings)."""
        if _is(node, "str") and str(node.value) == "all":
            return None
        if not isinstance(node, SequenceNode):
            self.error(path, f"expected a list of ring names or all, got {_kind(node)}", node)
            return None
        names = self.strings(node, path) or ()
        listing = f"the rings are {', '.join(rings)}"
        for position, ring in enumerate(names):
            if ring not in rings and ring not in self.given_ring_names and not self.rings_unknown:
                self.error(
                    f"{path}[{position}]",
                    f"unknown ring '{_quote(ring)}'; ",
                    node.value[position],
                    (ring, rings, listing),
                )
        return frozenset(names)

    # -- fields ----------------------------------------------------------------------------------

    def value(
        self,
        fields: Mapping[str, Node],
        key: str,
        path: str,
        parse: Callable[[Node, str], _T | None],
        default: _T,
    ) -> _T:
        """Parse `fields[key]`; the default when it is missing or invalid (the error is recorded)."""
        node = fields.get(key)
        if node is None:
            return default
        parsed = parse(node, _join(path, key))
        return default if parsed is None else parsed

    def mapping(self, node: Node, path: str, known: tuple[str, ...]) -> dict[str, Node] | None:
        """A mapping's values by key; unknown and repeated keys are errors."""
        if not isinstance(node, MappingNode):
            what = (
                "expected a mapping of settings"
                if path
                else "the file must be a mapping of settings"
            )
            self.error(path, f"{what}, got {_kind(node)}", node)
            return None
        fields: dict[str, Node] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.error(path, f"keys must be plain words, got {_kind(key)}", key)
                continue
            name = str(key.value)
            if name not in known:
                otherwise = (
                    f"known keys are {', '.join(known)}"
                    if len(known) > 1
                    else f"the only key here is '{known[0]}'"
                )
                self.error(
                    _join(path, name),
                    f"unknown key '{_quote(name)}'; ",
                    key,
                    (name, known, otherwise),
                )
            elif name in fields:
                first = _line(fields[name])
                self.error(
                    _join(path, name), f"'{_quote(name)}' is set twice (first at line {first})", key
                )
            else:
                fields[name] = value
        return fields

    def string(self, node: Node, path: str) -> str | None:
        if _is(node, "str"):
            return str(node.value)
        hint = ""
        if isinstance(node, ScalarNode) and not _is(node, "null"):
            hint = f"; quote it as '{_quote(node.value)}'"
        self.error(path, f"expected a string, got {_kind(node)}{hint}", node)
        return None

    def boolean(self, node: Node, path: str) -> bool | None:
        if _is(node, "bool"):
            return bool(yaml.constructor.SafeConstructor.bool_values[str(node.value).lower()])
        self.error(path, f"expected true or false, got {_kind(node)}", node)
        return None

    def count(self, node: Node, path: str) -> int | None:
        """A whole number, zero or more."""
        if isinstance(node, ScalarNode) and _is(node, "int"):
            if len(str(node.value)) > _COUNT_CHARS:
                # Python refuses to convert ints of over 4,300 digits, and nobody counts that high.
                self.error(path, f"{_quote(node.value)} is too large a number", node)
                return None
            number = yaml.constructor.SafeConstructor().construct_yaml_int(node)
            if number >= 0:
                return int(number)
            self.error(path, f"{_quote(node.value)} is negative; use 0 or more", node)
            return None
        self.error(path, f"expected a whole number, got {_kind(node)}", node)
        return None

    def zero(self, node: Node, path: str) -> bool | None:
        """Whether a count or duration is zero, for checks on the first ring; None: not a number."""
        if _is(node, "int"):
            return str(node.value).strip() in ("0", "+0", "-0")
        if _is(node, "str"):
            value = parse_duration(str(node.value))
            return None if value is None else not value
        return None

    def strings(self, node: Node, path: str) -> tuple[str, ...] | None:
        """A list of distinct, non-empty strings."""
        if not isinstance(node, SequenceNode):
            self.error(path, f"expected a list of strings, got {_kind(node)}", node)
            return None
        if len(node.value) > MAX_LIST_ITEMS:
            self.error(path, _too_many(len(node.value), "entries", MAX_LIST_ITEMS), node)
            return None
        items: list[str] = []
        seen: set[str] = set()  # a set: a membership test on the list made long lists quadratic
        valid = True
        for position, item in enumerate(node.value):
            item_path = f"{path}[{position}]"
            text = self.string(item, item_path)
            if text is None:
                valid = False
            elif not text.strip():
                self.error(item_path, "an entry cannot be empty", item)
                valid = False
            elif text in seen:
                self.error(item_path, f"'{_quote(text)}' is listed twice", item)
                valid = False
            else:
                items.append(text)
                seen.add(text)
        return tuple(items) if valid else None

    def ring_name(self, node: Node, path: str) -> str | None:
        name = self.string(node, path)
        if name is None:
            return None
        if not name:
            self.error(path, "a ring name cannot be empty", node)
            return None
        if not is_ring_name(name):
            self.error(
                path,
                f"'{_quote(name)}' is not a usable ring name: use at most {MAX_RING_NAME} lower-case "
                "letters, digits, '.', '_' and '-', starting with a letter or digit",
                node,
            )
            return None
        return name

    def environment(self, node: Node, path: str) -> str | None:
        name = self.string(node, path)
        if name is not None and not name.strip():
            self.error(path, "an environment name cannot be empty", node)
            return None
        return name

    def duration(self, node: Node, path: str) -> timedelta | None:
        if _is(node, "str"):
            value = parse_duration(str(node.value))
            if value is None:
                self.error(path, f"'{_quote(node.value)}' is not a duration like 36h", node)
            return value
        if _is(node, "int") and str(node.value) == "0":
            return timedelta(0)
        if _is(node, "int"):
            self.error(
                path,
                f"{_quote(node.value)} is not a duration like 36h: add a unit (s, m, h or d)",
                node,
            )
            return None
        self.error(path, f"expected a duration like 36h, got {_kind(node)}", node)
        return None

    def permission(self, node: Node, path: str) -> Permission | None:
        text = self.string(node, path)
        if text is None:
            return None
        if text in _PERMISSIONS:
            return Permission.parse(text)
        self.error(
            path,
            f"'{_quote(text)}' is not a permission; ",
            node,
            (text, _PERMISSIONS, "use read, triage, write, maintain or admin"),
        )
        return None

    def release_tag(self, node: Node, path: str) -> str | None:
        template = self.string(node, path)
        if template is None:
            return None
        problem = _tag_problem(template)
        if problem:
            self.error(path, f"'{_quote(template)}' {problem}", node)
            return None
        return template


def _too_many(count: int, what: str, limit: int) -> str:
    return f"{count:,} {what} are more than ringbot allows here ({limit})"


def _tag_problem(template: str) -> str:
    """Why `template` cannot make release tags, or ""."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return "has a { or } without its partner"
    names = [name for _, name, _, _ in parts if name is not None]
    for _, name, spec, conversion in parts:
        if name is not None and (name not in RELEASE_TAG_PLACEHOLDERS or spec or conversion):
            known = ", ".join("{" + known + "}" for known in RELEASE_TAG_PLACEHOLDERS)
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            return f"has an unknown placeholder {shown}; use {known}"
    if "sha" not in names and "sha7" not in names:
        return "must contain {sha7} or {sha}, so each release gets its own tag"
    sample = template.format(date="2024.01.31", sha7="0" * 7, sha="0" * 40, ring="dev")
    if _bad_ref(sample):
        return "does not make a valid git tag name"
    return ""


def _bad_ref(name: str) -> bool:
    """Whether git would refuse `name` as a tag (git check-ref-format, roughly)."""
    if any(ord(char) < 0x21 or char in "~^:?*[\\\x7f" for char in name):
        return True
    if ".." in name or "@{" in name or "//" in name or name in ("", "@"):
        return True
    if name.startswith(("-", "/")) or name.endswith(("/", ".", ".lock")):
        return True
    return any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


def _with_production(
    rings: list[RingConfig], explicit: list[bool | None]
) -> tuple[RingConfig, ...]:
    """Mark production rings: from the first one named "production" or marked so, unless overridden."""
    start = next(
        (
            position
            for position, ring in enumerate(rings)
            if explicit[position] is True
            or (ring.name == "production" and explicit[position] is None)
        ),
        len(rings),
    )
    return tuple(
        replace(
            ring,
            production=position >= start
            if explicit[position] is None
            else bool(explicit[position]),
        )
        for position, ring in enumerate(rings)
    )
