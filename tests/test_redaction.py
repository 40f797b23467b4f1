"""Log lines never carry a secret: by its shape, or by the exact value ringbot holds."""

from __future__ import annotations

import random
import re
import string
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from bot import logs
from bot.auth import AppAuth
from bot.logs import MAX_ROTATING_SECRETS, redact, register_secret, render
from bot.sim.auth import generate_key

BODY = [
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
    "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo",
    "myLdOxvVMbwGBo2Y8zk0dOwz1kDTiTk/+OI0eRYaTj4kl1BpwoDSxpamgFrq0uzu",
    "b2RRbh2GGkSkGKDXXM7odMOPIw9GK6e0NpvGBpRXy8+CrwJGfNA7zzBtBdZs24o=",
]
PEM = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(BODY) + "\n-----END RSA PRIVATE KEY-----\n"


@pytest.fixture(autouse=True)
def no_known_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with nothing registered, and leaves nothing registered."""
    monkeypatch.setattr(logs, "_secrets", logs._Secrets())
    monkeypatch.setattr(logs, "_known", logs._Known())


def line_with(value: Any) -> str:
    """A log line as render() writes it, holding `value` in a field."""
    return render(0.0, 20, "delivery", {"detail": value})


# -- secrets by their shape ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("ghs_" + "a1B2" * 9, id="installation-token"),
        pytest.param("ghs_abc-def_ghiJKL-mno_pqrSTU-vwx_yz012345", id="token-with-dash-underscore"),
        pytest.param("ghs_-" + "x" * 35, id="token-starting-with-a-dash"),
        pytest.param("ghp_" + "B" * 36, id="personal-token"),
        pytest.param("gho_" + "c" * 36, id="oauth-token"),
        pytest.param("ghu_" + "d" * 36, id="user-to-server-token"),
        pytest.param("ghr_" + "e" * 76, id="refresh-token"),
        pytest.param(
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW012",
            id="fine-grained-token",
        ),
        pytest.param("GHS_" + "a" * 36, id="any-case"),
        pytest.param("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJl", id="jwt"),
        pytest.param("eyJhbGciOiJub25lIn0.eyJpc3MiOiIxIn0.", id="unsigned-jwt"),
        pytest.param("Token abcdef123456", id="authorization-token"),
        pytest.param("Bearer abc.def-ghi_jkl", id="authorization-bearer"),
        pytest.param("bearer  abcdef/123+456=", id="bearer-base64"),
    ],
)
def test_a_secret_shaped_value_is_masked(secret: str) -> None:
    masked = redact(f'{{"msg": "x", "header": "{secret}"}}')
    assert secret not in masked and "***" in masked


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(PEM, id="pem"),
        pytest.param(orjson.dumps(PEM).decode(), id="json-escaped-pem"),
        pytest.param(PEM.replace("-----BEGIN RSA", "-----BEGIN"), id="pkcs8"),
        pytest.param(orjson.dumps(PEM).decode()[:200], id="pem-cut-short"),
        pytest.param(PEM[:150], id="pem-cut-short-unescaped"),
    ],
)
def test_a_private_key_is_masked_whole(text: str) -> None:
    masked = redact(f'{{"msg": "x", "key": {text!r}}}')
    assert not any(line[:20] in masked for line in BODY)


V1_TOKEN = "v1." + "0123456789abcdef" * 2 + "89abcdef"  # GitHub Enterprise Server's older form


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        pytest.param(f'{{"token":"{V1_TOKEN}"}}', V1_TOKEN, id="v1-token-in-json"),
        pytest.param(f"installation token is {V1_TOKEN}.", V1_TOKEN, id="v1-token-bare"),
        pytest.param("token: opaque-credential", "opaque-credential", id="yaml-token"),
        pytest.param("token: x", ": x", id="yaml-token-one-character"),
        pytest.param('{"token": "opaque credential"}', "opaque", id="json-token"),
        pytest.param('{"token": "x"}', '"x"', id="json-token-one-character"),
        pytest.param('{"token":12345678}', "12345678", id="json-token-unquoted"),
        pytest.param(
            orjson.dumps({"body": '{"token":"opaque-credential"}'}).decode(),
            "opaque-credential",
            id="json-token-escaped-in-json",
        ),
        pytest.param("{'token': 'opaque-credential'}", "opaque-credential", id="python-repr"),
        pytest.param(
            "GET /user?access_token=opaque-credential&per_page=100",
            "opaque-credential",
            id="access-token-in-url",
        ),
        pytest.param(
            "access_token=opaque-credential&scope=repo&token_type=bearer",
            "opaque-credential",
            id="access-token-in-form-body",
        ),
        pytest.param(
            '{"access_token": "opaque-credential", "token_type": "bearer"}',
            "opaque-credential",
            id="access-token-in-json",
        ),
        pytest.param(
            "refresh_token=opaque-refresh&expires_in=28800", "opaque-refresh", id="refresh-token"
        ),
        pytest.param(
            "client_id=Iv1.0123456789abcdef&client_secret=0123456789abcdef0123456789abcdef0123beef",
            "0123beef",
            id="client-secret-in-form-body",
        ),
        pytest.param(
            '{"client_secret":"0123456789abcdef0123456789abcdef0123beef"}',
            "0123beef",
            id="client-secret-in-json",
        ),
        pytest.param("GITHUB_WEBHOOK_SECRET=hunter2hunter2", "hunter2", id="secret-variable"),
        pytest.param("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", id="basic-header"),
        pytest.param(
            '{"headers": {"Authorization": "Basic dXNlcjpwYXNz", "Accept": "*/*"}}',
            "dXNlcjpwYXNz",
            id="basic-header-in-json",
        ),
        pytest.param(
            "{'Authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz", id="basic-header-in-repr"
        ),
        pytest.param("Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy", id="basic-credentials"),
        pytest.param(
            "Proxy-Authorization: Bearer opaque", "opaque", id="proxy-authorization-header"
        ),
        pytest.param(
            "https://x-access-token:opaqueValue@github.com/acme/widgets.git",
            "opaqueValue",
            id="token-in-git-url",
        ),
    ],
)
def test_a_secret_by_its_key_or_header_is_masked(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked and "***" in masked, masked
    assert secret not in line_with(text)  # and as render() writes it: JSON-escaped


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        pytest.param(f'{{"token":"{V1_TOKEN}"}}', '{"token":"***"}', id="json"),
        pytest.param(
            "GET /user?access_token=abc123&per_page=100",
            "GET /user?access_token=***&per_page=100",
            id="url",
        ),
        pytest.param(
            'x {"Authorization": "Basic dXNlcjpwYXNz", "Accept": "*/*"}',
            'x {"Authorization": "***", "Accept": "*/*"}',
            id="header",
        ),
        pytest.param(
            "https://x-access-token:opaqueValue@github.com/a/b.git",
            "https://x-access-token:***@github.com/a/b.git",
            id="git-url",
        ),
    ],
)
def test_a_key_stays_and_only_its_value_is_masked(text: str, masked: str) -> None:
    assert redact(text) == masked


@pytest.mark.parametrize(
    "line",
    [
        pytest.param('{"msg": "delivery", "event": "pull_request", "status": 202}', id="delivery"),
        pytest.param('{"msg": "github request failed", "status": 502}', id="request-failed"),
        pytest.param(
            '{"msg": "x", "token_expires": "2024-01-01T00:00:00Z", "tokens": 3}',
            id="token-field-names",
        ),
        pytest.param('{"msg": "installation token requested", "kind": "gate"}', id="token-word"),
        pytest.param('{"msg": "token refreshed for installation 42"}', id="token-word-long"),
        pytest.param('{"msg": "basic authentication is not supported"}', id="basic-word"),
        pytest.param('{"msg": "bearer credentials missing"}', id="bearer-word"),
        pytest.param('{"token_type": "bearer", "scope": "repo"}', id="token-type"),
        pytest.param('{"event": "secret_scanning_alert", "action": "created"}', id="event-name"),
        pytest.param('{"client_id": "Iv1.0123456789abcdef"}', id="app-client-id"),
        pytest.param('{"msg": "api v1.2.3 released", "sha": "' + "a1" * 20 + '"}', id="version"),
        pytest.param('{"token": ""}', id="empty-token"),
        pytest.param('{"msg": "ghost_town", "text": "eye-level"}', id="near-prefixes"),
    ],
)
def test_a_line_without_secrets_is_left_alone(line: str) -> None:
    assert redact(line) == line


# -- secrets ringbot holds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("opaque-installation-credential", id="opaque"),
        pytest.param("0123456789abcdef0123456789abcdef01234567", id="hex-webhook-secret"),
        pytest.param("Quality-Xylophone-Jukebox", id="rare-letters"),
        pytest.param('hun"ter\\2 with spaces', id="json-escaped-characters"),
        pytest.param("hünter☃2", id="non-ascii"),
    ],
)
def test_a_registered_secret_is_masked_as_written_and_as_json(secret: str) -> None:
    register_secret(secret)
    escaped = orjson.dumps(secret).decode()[1:-1]
    line = line_with(f"config says {secret} here")
    assert secret not in line and escaped not in line
    assert secret not in redact(f"raw {secret} text")


def test_a_registered_private_key_is_masked_whole_escaped_and_line_by_line() -> None:
    register_secret(PEM.replace("RSA PRIVATE KEY", "SECRET"))  # no shape to catch it by
    key = PEM.replace("RSA PRIVATE KEY", "SECRET")
    for text in (line_with(key), line_with(key.replace("\n", "\r\n")), *map(line_with, BODY)):
        assert not any(line in text for line in BODY), text
    assert line_with("prefix " + BODY[2] + " suffix").count("***") == 1


def test_a_value_sharing_only_part_of_a_secret_is_left_alone() -> None:
    register_secret("Quality-Xylophone-Jukebox")
    line = '{"msg": "Quality-Xylophone and Jukebox"}'
    assert redact(line) == line


def test_a_value_too_short_to_be_a_secret_is_not_registered() -> None:
    register_secret("abc12")
    assert redact("abc12") == "abc12"


def test_rotating_secrets_are_bounded_to_the_newest() -> None:
    register_secret("permanent-webhook-secret")
    values = [f"opaque-token-{number:04d}" for number in range(MAX_ROTATING_SECRETS + 1)]
    for value in values:
        register_secret(value, rotating=True)
    assert redact(values[0]) == values[0]
    assert redact(values[1]) == "***"
    assert redact(values[-1]) == "***"
    assert redact("permanent-webhook-secret") == "***"


def test_registering_a_rotating_secret_again_makes_it_newest() -> None:
    first = "opaque-token-first"
    register_secret(first, rotating=True)
    for number in range(MAX_ROTATING_SECRETS - 1):
        register_secret(f"opaque-token-{number:04d}", rotating=True)
    register_secret(first, rotating=True)
    register_secret("opaque-token-last", rotating=True)
    assert redact(first) == "***"
    assert redact("opaque-token-0000") == "opaque-token-0000"


def test_tokens_for_a_thousand_installations_are_all_masked() -> None:
    # Each installation token is fetched with a JWT minted for it: both are registered.
    tokens = [f"opaque-installation-{number:04d}" for number in range(1_000)]
    for number, token in enumerate(tokens):
        register_secret(f"eyJ.minted-for-{number:04d}", rotating=True)
        register_secret(token, rotating=True)
    assert all(redact(f"token {token} here") == "token *** here" for token in tokens)


def test_a_value_held_twice_stays_masked_when_one_holder_expires() -> None:
    register_secret("Quality-Xylophone-Jukebox")
    register_secret("Quality-Xylophone-Jukebox", rotating=True)
    for number in range(MAX_ROTATING_SECRETS):
        register_secret(f"opaque-token-{number:04d}", rotating=True)
    assert redact("Quality-Xylophone-Jukebox") == "***"


def test_secrets_sharing_a_probe_are_each_masked() -> None:
    register_secret("Kabcdefghi-first")
    register_secret("Kabcdefghi-second")
    assert redact("a Kabcdefghi-first b Kabcdefghi-second c") == "a *** b *** c"


def test_expired_secrets_are_forgotten_whole() -> None:
    # Half found by a probe (Q is an anchor; ten share each probe), half tested on their own.
    values = [
        f"opaque-{'Q' if number % 2 else 'q'}{number // 10:05d}x{number:05d}" + "x" * 24
        for number in range(MAX_ROTATING_SECRETS + 500)
    ]
    for value in values:
        register_secret(value, rotating=True)
    known = logs._known
    held = sum(len(forms) for forms in known.probes.values()) + len(known.plain)
    assert held == len(logs._secrets.holders) == MAX_ROTATING_SECRETS
    assert len(known.plain) == MAX_ROTATING_SECRETS // 2
    assert [redact(value) for value in values[499:502]] == [values[499], "***", "***"]


def random_token(kind: str, rng: random.Random) -> str:
    """An installation token as GitHub issues it: ghs_ and 36 letters or digits, or v1. and hex."""
    if kind == "v1":
        return "v1." + "".join(rng.choice("0123456789abcdef") for _ in range(40))
    return "ghs_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))


TYPICAL_LINE = (
    '{"time":"2024-05-01T12:00:00Z","level":"info","msg":"job done","kind":"gate",'
    '"repo":"acme/widgets","delivery":"9f1c2d3e-4b5a-11ef-8c6d-0242ac120002","ms":12.5,'
    '"installation":12345678,"sha":"3f2a9c1e"}'
)


@pytest.mark.parametrize("kind", ["ghs", "v1"])
def test_redact_does_not_test_each_held_token_in_turn(kind: str) -> None:
    rng = random.Random(7)
    tokens = [random_token(kind, rng) for _ in range(MAX_ROTATING_SECRETS)]
    for token in tokens:
        register_secret(token, rotating=True)
    # Found by a probe each, not by a substring test per token per line (the few without one
    # are tested on their own).
    assert len(logs._known.plain) <= MAX_ROTATING_SECRETS // 100
    assert redact(TYPICAL_LINE) == TYPICAL_LINE
    assert redact(TYPICAL_LINE.replace("3f2a9c1e", tokens[0])).count("***") == 1
    assert redact(TYPICAL_LINE.replace("3f2a9c1e", tokens[-1])).count("***") == 1
    started = time.thread_time()
    for _ in range(10_000):
        redact(TYPICAL_LINE)
    # Typically 2 us a line; testing 2,000 tokens in turn took over 100 us.
    assert (time.thread_time() - started) / 10_000 < 30e-6


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("eyJ" * 21_000, id="jwt-starts"),
        pytest.param('-----BEGIN RSA PRIVATE KEY-----",' * 2_000, id="pem-starts"),
        pytest.param("-----BEGIN RSA PRIVATE KEY-----" * 2_000, id="pem-armour-only"),
        pytest.param("-----BEGIN " + "A" * 64_000, id="pem-long-armour"),
        pytest.param("token " * 10_000 + "a" * 4_000, id="token-words"),
        pytest.param("a_" * 30_000 + "token", id="long-key"),
        pytest.param("access_token=" * 5_000, id="keys-without-values"),
        pytest.param("ghs_" * 16_000, id="token-prefixes"),
        pytest.param("v1." + "0" * 64_000, id="long-hex"),
    ],
)
def test_a_hostile_line_is_redacted_in_time_proportional_to_its_length(text: str) -> None:
    started = time.thread_time()
    redact(text)
    # Well under 0.1 s; the bound only catches work that grows faster than the line.
    assert time.thread_time() - started < 1


# -- ringbot registers what it holds -------------------------------------------------------------


class FakeGitHub:
    """Answers the installation-token request with a token that looks like nothing known."""

    async def post(self, url: str, **kwargs: Any) -> dict[str, str]:
        return {"token": "opaque-installation-credential-7", "expires_at": "2099-01-01T00:00:00Z"}


@pytest.fixture(scope="module")
def private_key() -> str:
    """An App private key."""
    return generate_key()[0]


@pytest.fixture
def no_shapes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only exact values are masked: the shape patterns match nothing."""
    monkeypatch.setattr(logs, "_SECRET", re.compile(r"(?!)"))
    yield


async def test_an_installation_token_ringbot_receives_is_masked(
    private_key: str, no_shapes: None
) -> None:
    auth = AppAuth("1", private_key, now=lambda: 1_700_000_000.0)
    token = await auth.token(FakeGitHub(), 7)  # type: ignore[arg-type]
    assert token not in line_with(f"token {token}")


def test_a_jwt_ringbot_mints_is_masked(private_key: str, no_shapes: None) -> None:
    auth = AppAuth("1", private_key, now=lambda: 1_700_000_000.0)
    token = auth.jwt()
    assert token not in line_with(token)


def test_the_private_key_and_webhook_secret_ringbot_registers_are_masked(
    private_key: str,
) -> None:
    register_secret(private_key)
    register_secret("test-webhook-secret")
    text = line_with({"key": private_key, "secret": "test-webhook-secret"})
    assert "test-webhook-secret" not in text
    assert not any(line in text for line in private_key.splitlines()[1:-1])
