"""Settings: read once from the environment; a bad one stops the start naming the variable."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError

KEY = "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n"


def env(**overrides: str) -> dict[str, str]:
    """A complete serving environment, with overrides."""
    base = {"GITHUB_APP_ID": "42", "GITHUB_PRIVATE_KEY": KEY, "GITHUB_WEBHOOK_SECRET": "s"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v != ""}


def test_no_credentials_means_sandbox() -> None:
    assert Settings.from_env({}).sandbox


def test_credentials_mean_serving() -> None:
    settings = Settings.from_env(env())
    assert not settings.sandbox and settings.app_id == "42" and settings.port == 8080


def test_key_file_is_read(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "key.pem"  # type: ignore[operator]
    path.write_text(KEY)
    assert (
        Settings.from_env(env(GITHUB_PRIVATE_KEY="", GITHUB_PRIVATE_KEY_FILE=str(path))).private_key
        == KEY
    )


def test_escaped_newlines_in_key_are_restored() -> None:
    assert Settings.from_env(env(GITHUB_PRIVATE_KEY=KEY.replace("\n", "\\n"))).private_key == KEY


def test_enterprise_server_url_is_honoured() -> None:
    settings = Settings.from_env(env(GITHUB_API_URL="https://ghe.example.com/api/v3/"))
    assert settings.api_url == "https://ghe.example.com/api/v3"


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        pytest.param({"GITHUB_WEBHOOK_SECRET": ""}, "GITHUB_WEBHOOK_SECRET", id="no-secret"),
        pytest.param({"GITHUB_APP_ID": ""}, "GITHUB_APP_ID", id="key-without-id"),
        pytest.param({"GITHUB_PRIVATE_KEY": ""}, "GITHUB_PRIVATE_KEY", id="id-without-key"),
        pytest.param({"GITHUB_APP_ID": "abc"}, "GITHUB_APP_ID", id="id-not-number"),
        pytest.param({"GITHUB_PRIVATE_KEY": "nope"}, "GITHUB_PRIVATE_KEY", id="key-not-pem"),
        pytest.param({"PORT": "http"}, "PORT", id="bad-port"),
        pytest.param({"GITHUB_API_URL": "ftp://x"}, "GITHUB_API_URL", id="bad-url"),
        pytest.param(
            {"GITHUB_PRIVATE_KEY": "", "GITHUB_PRIVATE_KEY_FILE": "/nonexistent"},
            "GITHUB_PRIVATE_KEY_FILE",
            id="missing-key-file",
        ),
        pytest.param({"REDIS_URL": "http://r"}, "REDIS_URL", id="redis-not-redis"),
        pytest.param({"RINGBOT_LEASE_SECONDS": "soon"}, "RINGBOT_LEASE_SECONDS", id="lease-word"),
        pytest.param({"RINGBOT_LEASE_SECONDS": "0.1"}, "RINGBOT_LEASE_SECONDS", id="lease-tiny"),
        pytest.param(
            {"RINGBOT_CATCHUP_SECONDS": "-5"}, "RINGBOT_CATCHUP_SECONDS", id="catchup-negative"
        ),
        pytest.param(
            {"RINGBOT_ETAG_CACHE_BYTES": "64MB"}, "RINGBOT_ETAG_CACHE_BYTES", id="etag-unit"
        ),
        pytest.param({"RINGBOT_WORKERS": "0"}, "RINGBOT_WORKERS", id="workers-zero"),
        pytest.param({"RINGBOT_WORKERS": "-4"}, "RINGBOT_WORKERS", id="workers-negative"),
        pytest.param({"RINGBOT_WORKERS": "8.5"}, "RINGBOT_WORKERS", id="workers-fraction"),
        pytest.param({"RINGBOT_WORKERS": "many"}, "RINGBOT_WORKERS", id="workers-word"),
        pytest.param({"RINGBOT_WORKERS": "101"}, "RINGBOT_WORKERS", id="workers-over-github"),
        pytest.param({"RINGBOT_WORKERS": "\u0663"}, "RINGBOT_WORKERS", id="workers-not-ascii"),
    ],
)
def test_bad_setting_names_the_variable(overrides: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env(**overrides))


def test_secrets_are_not_in_repr() -> None:
    text = repr(Settings.from_env(env(GITHUB_WEBHOOK_SECRET="hunter22")))
    assert "hunter22" not in text and "PRIVATE KEY" not in text


@pytest.mark.parametrize(
    ("overrides", "field", "value"),
    [
        pytest.param({}, "redis_url", None, id="no-redis-one-process"),
        pytest.param(
            {"REDIS_URL": "redis://r:6379/0"}, "redis_url", "redis://r:6379/0", id="redis"
        ),
        pytest.param({}, "lease_seconds", 30.0, id="lease-default"),
        pytest.param({"RINGBOT_LEASE_SECONDS": "2.5"}, "lease_seconds", 2.5, id="lease"),
        pytest.param({}, "catchup_seconds", 300.0, id="catchup-default"),
        pytest.param({"RINGBOT_CATCHUP_SECONDS": "0"}, "catchup_seconds", 0.0, id="catchup-off"),
        pytest.param({"RINGBOT_ETAG_CACHE_BYTES": "1024"}, "etag_cache_bytes", 1024, id="etag"),
        pytest.param({}, "concurrency", 32, id="workers-default"),
        pytest.param({"RINGBOT_WORKERS": "1"}, "concurrency", 1, id="workers-one"),
        pytest.param({"RINGBOT_WORKERS": " 100 "}, "concurrency", 100, id="workers-most"),
    ],
)
def test_replica_and_catch_up_settings_are_read(
    overrides: dict[str, str], field: str, value: object
) -> None:
    assert getattr(Settings.from_env(env(**overrides)), field) == value
