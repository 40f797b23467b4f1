"""The one ETag cache: bounded in bytes, least recently used out first, oversize bodies never
kept, each installation's ETags its own, and a 304 answered with what the 200 said."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from bot import auth as auth_module
from bot.auth import AppAuth
from bot.etag_cache import OVERSIZE_FRACTION, Entry, EtagCache, Key
from bot.github import RateState, RateStates, RingbotGitHub
from bot.metrics import Metrics
from bot.settings import Settings, SettingsError

API = "https://api.example"


def entry(body: bytes, etag: str = '"e"') -> Entry:
    return Entry(etag, None, "application/json", None, body)


def key(n: int, installation: int = 1) -> Key:
    return (installation, f"{API}/r/{n}", "application/vnd.github+json")


# -- the store -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "inserts", "largest"),
    [
        (10_000, 5_000, 500),  # many small bodies, all fitting a few at a time
        (64_000, 20_000, 3_900),  # bodies up to just under the oversize threshold
        (1_000_000, 20_000, 10),  # tiny bodies: the per-entry overhead is what fills it
    ],
)
def test_the_byte_limit_holds_under_many_inserts(limit: int, inserts: int, largest: int) -> None:
    cache = EtagCache(limit)
    rng = random.Random(limit)
    for _ in range(inserts):
        # Keys repeat now and then: a replaced entry must not be counted twice.
        cache.put(key(rng.randrange(inserts // 2)), entry(b"x" * rng.randrange(largest)))
        assert cache.bytes <= limit
    held = [(k, cache.get(k)) for k in [key(n) for n in range(inserts // 2)] if k in cache]
    assert cache.bytes == sum(e.size(k) for k, e in held if e is not None)
    assert len(held) > 1


@pytest.mark.parametrize(
    ("touched", "evicted"),
    [
        ([], [10, 11]),  # no hits: the two oldest go
        ([10], [11, 12]),  # a hit on the oldest saves it; the next two oldest go instead
        ([11, 10], [12, 13]),
        ([25, 24], [10, 11]),  # hits on the newest change nothing
        ([99], [10, 11]),  # a miss changes nothing either
    ],
)
def test_hits_move_an_entry_to_the_back_of_the_eviction_order(
    touched: list[int], evicted: list[int]
) -> None:
    body = b"x" * 100
    size = entry(body).size(key(10))
    cache = EtagCache(size * OVERSIZE_FRACTION)  # sixteen entries' worth, each just admitted
    for n in range(10, 26):
        cache.put(key(n), entry(body))
    assert len(cache) == OVERSIZE_FRACTION
    for n in touched:
        assert (cache.get(key(n)) is not None) is (n < 26)
    cache.put(key(26), entry(body))
    cache.put(key(27), entry(body))
    assert [n for n in range(10, 28) if key(n) not in cache] == evicted


@pytest.mark.parametrize(
    ("over_threshold", "kept"),
    [
        (-3_000, True),
        (0, True),  # exactly a sixteenth of the limit, key and headers counted
        (1, False),
        (64_000, False),  # more than the whole limit
    ],
)
def test_a_body_over_a_fraction_of_the_limit_is_not_kept(over_threshold: int, kept: bool) -> None:
    cache = EtagCache(64_000)
    cache.put(key(0), entry(b"s" * 10))
    threshold = 64_000 // OVERSIZE_FRACTION - entry(b"").size(key(1))
    assert cache.put(key(1), entry(b"b" * (threshold + over_threshold))) is kept
    assert (key(1) in cache) is kept
    assert key(0) in cache  # an oversize body pushes nothing out


def test_an_oversize_body_drops_the_older_entry_for_its_key() -> None:
    cache = EtagCache(64_000)
    cache.put(key(0), entry(b"small"))
    cache.put(key(0), entry(b"b" * 64_000))
    assert key(0) not in cache
    assert cache.bytes == 0


def test_lowering_the_limit_evicts_down_to_it() -> None:
    cache = EtagCache(1_000_000)
    for n in range(100):
        cache.put(key(n), entry(b"x" * 1_000))
    cache.limit = 10_000
    assert cache.bytes <= 10_000
    assert key(99) in cache and key(0) not in cache


# -- the client --------------------------------------------------------------------------------


@dataclass
class FakeGitHub:
    """Answers GETs with a body and an ETag per (token, URL), 304 when the ETag matches; records
    the conditional headers each request carried."""

    bodies: dict[str, Any] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)  # token, url, etag
    not_modified: int = 0  # 304s answered

    def etag(self, token: str, url: str) -> str:
        # As on GitHub, an ETag depends on who asks (the token) as well as on the content.
        return f'W/"{token}:{hash(orjson.dumps(self.bodies[url])) & 0xFFFF:x}"'

    @asynccontextmanager
    async def request(
        self, method: str, url: str, *, headers: dict[str, str], **_: Any
    ) -> AsyncIterator[Any]:
        token = headers["authorization"].split()[-1]
        sent = headers.get("if-none-match")
        self.seen.append((token, url, sent))
        etag = self.etag(token, url)
        out = CIMultiDict({"etag": etag, "x-ratelimit-remaining": "4999"})
        if sent == etag:
            self.not_modified += 1
            yield Response(304, CIMultiDictProxy(out), b"")
            return
        out["content-type"] = "application/json; charset=utf-8"
        if url in self.links:
            out["link"] = self.links[url]
        yield Response(200, CIMultiDictProxy(out), orjson.dumps(self.bodies[url]))


@dataclass
class Response:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    async def read(self) -> bytes:
        return self.body


def client(fake: FakeGitHub, cache: EtagCache, installation: int | str) -> RingbotGitHub:
    return RingbotGitHub(
        cast(aiohttp.ClientSession, fake),
        token=f"tok{installation}",
        etags=cache,
        base_url=API,
        metrics=Metrics(),
        rate=RateState(),
        installation=installation,
    )


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    yield FakeGitHub(bodies={f"{API}/things": {"id": 1, "names": ["a", "b"], "none": None}})


def conditional(fake: FakeGitHub) -> list[str | None]:
    return [etag for _, _, etag in fake.seen]


@pytest.mark.parametrize(
    ("order", "conditional_on"),
    [
        ([1, 2], [False, False]),  # the second installation does not send the first one's ETag
        ([1, 2, 1, 2], [False, False, True, True]),  # each revalidates with its own
        ([1, 1, 2], [False, True, False]),
    ],
)
async def test_an_installations_etag_is_never_sent_for_another(
    fake: FakeGitHub, order: list[int], conditional_on: list[bool]
) -> None:
    cache = EtagCache(1_000_000)
    for installation in order:
        await client(fake, cache, installation).getitem("/things")
    assert [etag is not None for etag in conditional(fake)] == conditional_on
    for token, _, etag in fake.seen:
        assert etag is None or etag.startswith(f'W/"{token}:')


async def test_the_app_client_keeps_no_etags(fake: FakeGitHub) -> None:
    cache = EtagCache(1_000_000)
    for _ in range(2):
        await client(fake, cache, "app").getitem("/things")
    assert conditional(fake) == [None, None]
    assert len(cache) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"id": 1, "names": ["a", "b"], "none": None},
        [{"n": 1}, {"n": 2}],
        {"text": "ünïcödé ✓", "big": 2**60, "float": 1.5, "nested": {"a": [[], {}]}},
        [],
    ],
)
async def test_a_304_answers_with_what_the_200_said(fake: FakeGitHub, body: Any) -> None:
    fake.bodies[f"{API}/things"] = body
    gh = client(fake, EtagCache(1_000_000), 7)
    first = await gh.getitem("/things")
    second = await gh.getitem("/things")
    assert fake.not_modified == 1
    assert second == first == body


async def test_a_304_hands_out_a_fresh_object_each_time(fake: FakeGitHub) -> None:
    gh = client(fake, EtagCache(1_000_000), 7)
    first = await gh.getitem("/things")
    first["names"].append("mutated by a caller")
    second = await gh.getitem("/things")
    assert second["names"] == ["a", "b"]
    assert fake.not_modified == 1


async def test_a_304_keeps_the_pagination_of_the_200(fake: FakeGitHub) -> None:
    fake.bodies[f"{API}/list"] = [1, 2]
    fake.bodies[f"{API}/list?page=2"] = [3]
    fake.links[f"{API}/list"] = f'<{API}/list?page=2>; rel="next"'
    gh = client(fake, EtagCache(1_000_000), 7)
    assert [x async for x in gh.getiter("/list")] == [1, 2, 3]
    assert [x async for x in gh.getiter("/list")] == [1, 2, 3]
    assert [etag is not None for etag in conditional(fake)] == [False, False, True, True]


async def test_a_changed_resource_replaces_its_entry(fake: FakeGitHub) -> None:
    gh = client(fake, EtagCache(1_000_000), 7)
    await gh.getitem("/things")
    fake.bodies[f"{API}/things"] = {"id": 2}
    assert await gh.getitem("/things") == {"id": 2}  # the old ETag was sent; GitHub said 200
    assert await gh.getitem("/things") == {"id": 2}  # and the new one is revalidated
    assert conditional(fake)[2] == fake.etag("tok7", f"{API}/things")


# -- everything else kept per installation is bounded ----------------------------------------


def test_rate_states_forget_the_least_recent_installation_and_its_gauge() -> None:
    metrics = Metrics()
    rates = RateStates(2, metrics)
    for installation in (1, 2, 3):
        rates[installation] = RateState()
        metrics.rate_limit_remaining.labels(str(installation)).set(10)
    assert sorted(rates) == [2, 3]
    gauge = metrics.registry.get_sample_value
    assert gauge("ringbot_github_rate_limit_remaining", {"installation": "1"}) is None
    assert gauge("ringbot_github_rate_limit_remaining", {"installation": "3"}) == 10


class TokenGitHub:
    """Hands out installation tokens, counting them."""

    def __init__(self) -> None:
        self.posts = 0

    async def post(self, url: str, **_: Any) -> dict[str, str]:
        self.posts += 1
        return {"token": f"t{self.posts}", "expires_at": "2099-01-01T00:00:00Z"}


async def test_tokens_are_kept_for_a_bounded_number_of_installations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(auth_module, "MAX_INSTALLATIONS", 3)
    monkeypatch.setattr(AppAuth, "jwt", lambda self: "jwt")
    auth = AppAuth("1", "unused")
    gh = TokenGitHub()
    for installation in range(10):
        await auth.token(cast(Any, gh), installation)
    assert len(auth._tokens) == 3 and len(auth._locks) == 3
    await auth.token(cast(Any, gh), 9)  # kept
    assert gh.posts == 10
    await auth.token(cast(Any, gh), 0)  # forgotten: simply fetched again
    assert gh.posts == 11


# -- the setting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, 64 * 1024 * 1024),
        ("", 64 * 1024 * 1024),
        ("1000", 1000),
        (" 0 ", 0),
        ("1e6", SettingsError),
        ("-1", SettingsError),
        ("²", SettingsError),
    ],
)
def test_the_etag_cache_size_is_read_from_the_environment(
    text: str | None, expected: int | type[Exception]
) -> None:
    env = {} if text is None else {"RINGBOT_ETAG_CACHE_BYTES": text}
    if isinstance(expected, int):
        assert Settings.from_env(env).etag_cache_bytes == expected
    else:
        with pytest.raises(expected, match="RINGBOT_ETAG_CACHE_BYTES"):
            Settings.from_env(env)
