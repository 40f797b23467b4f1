"""Verification's pure rules and its config keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import ConfigErrors, RingConfig, parse_config
from bot.ledger import DeploymentRecord, DeploymentStatusRecord
from bot.models import Permission
from bot.policy.refusals import Code
from bot.policy.verify import CheckFact, refusal, verification

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)
RING = RingConfig(
    "dev",
    "dev",
    True,
    0,
    timedelta(0),
    Permission.WRITE,
    verify=("smoke/dev",),
    watch=timedelta(minutes=30),
)
LIVE = DeploymentRecord(
    1,
    "a" * 40,
    "dev",
    T0,
    "ringbot[bot]",
    (DeploymentStatusRecord(2, "success", "deploy-bot", "", T0),),
)


def fact(conclusion: str | None, at: datetime | None, id: int = 1) -> CheckFact:
    return CheckFact("smoke/dev", "check_run", conclusion, at, "https://x/1", "sum", id)


def test_states() -> None:
    now = T0 + timedelta(minutes=40)
    assert verification(RING, LIVE, None, now, "ringbot[bot]").state == "pending"  # type: ignore[union-attr]
    assert verification(RING, LIVE, [], now, "ringbot[bot]").state == "pending"  # type: ignore[union-attr]
    ok = verification(RING, LIVE, [fact("success", T0 + timedelta(minutes=5))], now, "ringbot[bot]")
    assert ok is not None and ok.state == "verified"
    watching = verification(
        RING, LIVE, [fact("success", T0 + timedelta(minutes=20))], now, "ringbot[bot]"
    )
    assert watching is not None and watching.state == "pending"
    assert watching.ends_at == T0 + timedelta(minutes=50)
    why = refusal(RING, LIVE, watching, now)
    assert why is not None and why.code == Code.VERIFY_WATCH
    # A re-run replaces the run before it.
    rerun = [fact("failure", T0, 1), fact(None, None, 2)]
    found = verification(RING, LIVE, rerun, now, "ringbot[bot]")
    assert found is not None and found.state == "pending"
    failed = verification(RING, LIVE, [fact("timed_out", T0)], now, "ringbot[bot]")
    assert failed is not None and failed.state == "failed"
    why = refusal(RING, LIVE, failed, now)
    assert why is not None and why.code == Code.VERIFY_FAILED and "https://x/1" in why.message


def test_config() -> None:
    config = parse_config(
        "rings:\n  - name: dev\n    verify: ['smoke/{ring}']\n    watch: 1h\n    on_failure: hold\n"
    )
    assert not isinstance(config, ConfigErrors)
    ring = config.rings[0]
    assert (ring.verify, ring.watch, ring.on_failure) == (
        ("smoke/dev",),
        timedelta(hours=1),
        "hold",
    )
    errors = parse_config(
        "rings:\n  - name: dev\n    verify: ['a/{x}']\n    on_failure: rollbak\n"
        "  - name: b\n    watch: 1h\n"
    )
    assert isinstance(errors, ConfigErrors)
    text = str(errors)
    assert "rings[0].verify[0]" in text and "did you mean 'rollback'?" in text
    assert "rings[1].watch: watch needs verify" in text and "(line 6)" in text
