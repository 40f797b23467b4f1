"""Builders for feature-toggle policy tests: configs with flags, overrides, environments."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from bot.config import DEFAULT_CONFIG, Config, RingConfig
from bot.policy.features import RECORD_VARIABLE, Override, RingRecord, encode_record

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=3)


def features_config(
    features: Mapping[str, tuple[str, ...]] | None = None, **changes: Any
) -> Config:
    """DEFAULT_CONFIG (five rings) with these flags: new-grid on in dev and internal by default."""
    flags = {"new-grid": ("dev", "internal")} if features is None else features
    mapping = MappingProxyType({flag: frozenset(rings) for flag, rings in flags.items()})
    return dataclasses.replace(DEFAULT_CONFIG, features=mapping, **changes)


def override(
    flag: str = "new-grid",
    ring: str = "production",
    enabled: bool = True,
    *,
    by: str = "alice",
    at: datetime = EARLIER,
    basis: tuple[str, ...] = ("dev", "internal"),
) -> Override:
    """An override made when the file turned `flag` on in `basis`."""
    return Override(flag, ring, enabled, by, at, frozenset(basis))


def ring(name: str = "dev", cfg: Config | None = None) -> RingConfig:
    """A ring of `cfg` (the default features_config()) by name."""
    found = (cfg or features_config()).ring(name)
    assert found is not None
    return found


def all_off(*names: str) -> dict[str, str]:
    """Environment variables that turn every named flag variable off."""
    return dict.fromkeys(names, "false")


def environment(record: RingRecord | None = None, **variables: str) -> dict[str, str]:
    """An environment's variables, with ringbot's record among them when given."""
    if record is not None:
        variables[RECORD_VARIABLE] = encode_record(record)
    return variables
