"""Log lines never carry a secret: tokens, JWTs, keys and registered values are masked."""

from __future__ import annotations

import pytest

from bot.logs import redact, register_secret


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("ghs_" + "a" * 36, id="installation-token"),
        pytest.param("ghp_" + "B" * 36, id="personal-token"),
        pytest.param("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJl", id="jwt"),
        pytest.param(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", id="pem"
        ),
        pytest.param("Token abcdef123456", id="authorization-token"),
        pytest.param("Bearer abcdef123456", id="authorization-bearer"),
    ],
)
def test_a_secret_in_a_line_is_masked(secret: str) -> None:
    assert secret not in redact(f'{{"msg": "x", "header": "{secret}"}}')


def test_a_registered_secret_is_masked() -> None:
    register_secret("hunter2-webhook")
    assert "hunter2" not in redact('{"msg": "secret is hunter2-webhook"}')


def test_a_line_without_secrets_is_left_alone() -> None:
    line = '{"msg": "delivery", "event": "pull_request", "status": 202}'
    assert redact(line) == line
