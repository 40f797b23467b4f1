"""Log lines never carry a secret: by its shape, or by the exact value ringbot holds."""

from __future__ import annotations

import re
from collections import OrderedDict
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
    monkeypatch.setattr(logs, "_permanent", {})
    monkeypatch.setattr(logs, "_rotating", OrderedDict())
    monkeypatch.setattr(logs, "_known", (None, (), ()))


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


def test_a_line_without_secrets_is_left_alone() -> None:
    line = '{"msg": "delivery", "event": "pull_request", "status": 202}'
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
