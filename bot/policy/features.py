"""Feature toggles, decided without I/O: what each ring's variables should say, what to write, and
what `/feature` may change.

Where the state lives: every ring's GitHub Environment holds one variable per flag,
`FEATURE_<FLAG>` = "true" | "false", and one ringbot-owned record, `RINGBOT_FEATURES`, a small JSON
document with

- `managed`: the FEATURE_ variables ringbot wrote there. Only these are ever deleted (when their
  flag leaves the config); any other variable, FEATURE_ or not, is never touched.
- `overrides`: the `/feature` overrides in force in that ring, each with who and when.
- `cleared`: overrides the config has since overruled, kept a while so `/features` can say so.

An override stands while the file's entry for that flag is still the one it overrode (the
override records the flag's ring list at the time, its basis). Once the file changes that flag,
in any ring, or drops it, someone has decided about the flag again: the config wins and the
override is cleared. Overrides that agree with the config are never recorded: asking for the
config's own value removes the override instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from bot.config import CONFIG_PATH, Config, RingConfig, feature_variable
from bot.models import Permission
from bot.policy.refusals import Code, Refusal

RECORD_VARIABLE: Final = "RINGBOT_FEATURES"
FEATURE_PREFIX: Final = "FEATURE_"
ON: Final = "true"
OFF: Final = "false"
# Cleared overrides are shown by `/features` this long, and at most this many are kept per ring.
CLEARED_SHOWN: Final = timedelta(days=7)
CLEARED_KEPT: Final = 20
RECORD_VERSION: Final = 1

Action = Literal["create_environment", "create", "update", "delete"]


@dataclass(frozen=True)
class Override:
    """`/feature <flag> on|off <ring>`: one flag forced in one ring, by whom and when."""

    flag: str
    ring: str
    enabled: bool
    by: str
    at: datetime
    basis: frozenset[str] = frozenset()  # the rings the file turned the flag on in, back then


@dataclass(frozen=True)
class Cleared:
    """An override the config overruled: when, and why."""

    override: Override
    at: datetime
    why: str


@dataclass(frozen=True)
class RingRecord:
    """ringbot's own record on one ring's environment (the `RINGBOT_FEATURES` variable)."""

    managed: frozenset[str] = frozenset()
    overrides: tuple[Override, ...] = ()
    cleared: tuple[Cleared, ...] = ()
    present: bool = False  # the variable exists
    readable: bool = True  # False: it exists but is not ours to read (it will be rewritten)


@dataclass(frozen=True)
class VariableWrite:
    """One write to a ring's environment, with the reason it is needed."""

    ring: str
    action: Action
    name: str = ""  # the variable ("" for create_environment)
    value: str | None = None  # for create and update
    reason: str = ""


@dataclass(frozen=True)
class RingSync:
    """What bringing one ring in line takes: ordered writes, and what became of its overrides."""

    ring: RingConfig
    writes: tuple[VariableWrite, ...]
    live: tuple[Override, ...]  # overrides still in force
    cleared: tuple[Cleared, ...]  # overrides cleared by this sync


@dataclass(frozen=True)
class FeatureDecision:
    """The outcome of `/feature`: the ring's overrides afterwards, or why nothing changes."""

    flag: str | None  # as the config spells it; None when unknown
    ring: RingConfig | None
    enabled: bool
    refusals: tuple[Refusal, ...] = ()
    # set: a new override | reverted: back to the config | already: nothing to change
    outcome: Literal["set", "reverted", "already", "refused"] = "refused"
    config_value: bool = False  # what the config says for that flag in that ring
    previous: Override | None = None  # the override in force before the command, if any
    overrides: tuple[Override, ...] = ()  # the ring's overrides after the command

    @property
    def allowed(self) -> bool:
        """The command is within the rules (it may still change nothing)."""
        return not self.refusals

    @property
    def should_write(self) -> bool:
        """The ring's overrides change."""
        return self.outcome in ("set", "reverted")


@dataclass(frozen=True)
class Cell:
    """One flag in one ring, as `/features` shows it."""

    flag: str
    ring: str
    enabled: bool
    override: Override | None  # None: from the config
    actual: str | None  # what the environment holds now (None: nothing)

    @property
    def drift(self) -> bool:
        """The environment does not say what it should yet."""
        return self.actual != (ON if self.enabled else OFF)


@dataclass(frozen=True)
class FeatureTable:
    """The flag × ring table and the recently cleared overrides."""

    flags: tuple[str, ...]
    rings: tuple[str, ...]
    cells: Mapping[tuple[str, str], Cell] = field(hash=False)
    cleared: tuple[Cleared, ...] = ()


# --- the record ---------------------------------------------------------------------------------


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise ValueError("not a timestamp")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _override_json(o: Override) -> dict[str, Any]:
    return {
        "flag": o.flag,
        "on": o.enabled,
        "by": o.by,
        "at": _time(o.at),
        "config": sorted(o.basis),
    }


def encode_record(record: RingRecord) -> str:
    """The record as the variable's value: compact, stable JSON (equal records, equal text)."""
    doc = {
        "version": RECORD_VERSION,
        "managed": sorted(record.managed),
        "overrides": [_override_json(o) for o in sorted(record.overrides, key=_override_order)],
        "cleared": [
            {**_override_json(c.override), "cleared_at": _time(c.at), "why": c.why}
            for c in record.cleared
        ],
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _override_from(item: Any, ring: str) -> Override:
    if not isinstance(item, dict) or not isinstance(item.get("on"), bool):
        raise ValueError("not an override")
    basis = item.get("config")
    if not isinstance(basis, list):
        raise ValueError("no basis")
    return Override(
        str(item["flag"]),
        ring,
        item["on"],
        str(item["by"]),
        _parse_time(item["at"]),
        frozenset(str(name) for name in basis),
    )


def decode_record(text: str | None, ring: str) -> RingRecord:
    """Read the variable's value; a value that is not a record reads as empty and unreadable."""
    if text is None:
        return RingRecord()
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("version") != RECORD_VERSION:
            raise ValueError("not a record")
        managed = frozenset(
            str(name) for name in doc.get("managed", []) if str(name).startswith(FEATURE_PREFIX)
        )
        overrides = tuple(_override_from(item, ring) for item in doc.get("overrides", []))
        cleared = tuple(
            Cleared(_override_from(item, ring), _parse_time(item["cleared_at"]), str(item["why"]))
            for item in doc.get("cleared", [])
        )
    except (ValueError, KeyError, TypeError):
        # Someone edited it by hand: forget it (deleting nothing is the safe side) and rewrite it.
        return RingRecord(present=True, readable=False)
    return RingRecord(managed, overrides, cleared, present=True)


def _override_order(o: Override) -> tuple[str, str]:
    return (o.ring, o.flag)


# --- desired state ------------------------------------------------------------------------------


def config_value(config: Config, flag: str, ring: str) -> bool:
    """What the file says for `flag` in `ring`."""
    return ring in config.features.get(flag, frozenset())


def why_cleared(config: Config, override: Override) -> str:
    """Why the config overrules this override now; "" while it still stands."""
    if override.flag not in config.features:
        return f"`{override.flag}` is no longer a flag in `{CONFIG_PATH}`"
    if config.ring(override.ring) is None:
        return f"`{override.ring}` is no longer a ring"
    now_on = config.features[override.flag]
    if now_on != override.basis:
        where = ", ".join(r for r in config.ring_names if r in now_on) or "no ring"
        return f"`{CONFIG_PATH}` changed `{override.flag}` (now on in {where})"
    if config_value(config, override.flag, override.ring) == override.enabled:
        state = "on" if override.enabled else "off"
        return f"`{CONFIG_PATH}` now turns it {state} in {override.ring}"
    return ""


def split_overrides(
    config: Config, overrides: Iterable[Override], now: datetime
) -> tuple[tuple[Override, ...], tuple[Cleared, ...]]:
    """The overrides still in force, and those the config overrules now (cleared at `now`)."""
    live: list[Override] = []
    cleared: list[Cleared] = []
    for override in overrides:
        why = why_cleared(config, override)
        if why:
            cleared.append(Cleared(override, now, why))
        else:
            live.append(override)
    return tuple(live), tuple(cleared)


def desired_flags(config: Config, overrides: Iterable[Override]) -> dict[str, dict[str, str]]:
    """Per ring, every flag's variable and value: the config, with the overrides in force on top."""
    forced = {(o.flag, o.ring): o.enabled for o in overrides if not why_cleared(config, o)}
    desired: dict[str, dict[str, str]] = {}
    for ring in config.rings:
        values = {}
        for flag in config.features:
            enabled = forced.get((flag, ring.name), config_value(config, flag, ring.name))
            values[feature_variable(flag)] = ON if enabled else OFF
        desired[ring.name] = values
    return desired


# --- writes -------------------------------------------------------------------------------------


def plan_sync(
    desired: Mapping[str, Mapping[str, str]],
    actual_by_ring: Mapping[str, Mapping[str, str] | None],
    managed: Mapping[str, frozenset[str]],
) -> tuple[VariableWrite, ...]:
    """Only the differences, ring by ring: environments first, then creates, updates and deletes.

    `actual_by_ring[ring]` is every variable on the ring's environment, or None when the
    environment does not exist. A variable is deleted only when ringbot manages it, it is a
    FEATURE_ variable and no flag wants it any more.
    """
    writes: list[VariableWrite] = []
    for ring, wanted in desired.items():
        actual = actual_by_ring.get(ring)
        if actual is None:
            if not wanted:
                continue  # nothing to keep there: do not create an environment for nothing
            writes.append(
                VariableWrite(ring, "create_environment", reason="the environment does not exist")
            )
            actual = {}
        for name, value in sorted(wanted.items()):
            if name not in actual:
                writes.append(VariableWrite(ring, "create", name, value, "missing"))
            elif actual[name] != value:
                reason = f"is '{actual[name]}', should be '{value}'"
                writes.append(VariableWrite(ring, "update", name, value, reason))
        for name in sorted(managed.get(ring, frozenset())):
            if name.startswith(FEATURE_PREFIX) and name in actual and name not in wanted:
                writes.append(
                    VariableWrite(ring, "delete", name, reason="its flag left the config")
                )
    return tuple(writes)


def next_record(
    old: RingRecord,
    managed: frozenset[str],
    live: tuple[Override, ...],
    cleared: tuple[Cleared, ...],
    now: datetime,
) -> RingRecord | None:
    """The record to write after a sync, or None when the one there is still right."""
    live = tuple(sorted(live, key=_override_order))
    if (
        old.present
        and old.readable
        and old.managed == managed
        and tuple(sorted(old.overrides, key=_override_order)) == live
        and not cleared
    ):
        return None
    if not old.present and not managed and not live and not cleared:
        return None  # a ring without flags needs no record
    # Old cleared entries are pruned only when the record is written anyway.
    kept = tuple(c for c in (*cleared, *old.cleared) if now - c.at <= CLEARED_SHOWN)
    return RingRecord(managed, live, kept[:CLEARED_KEPT], present=True)


def plan_ring_sync(
    config: Config,
    ring: RingConfig,
    variables: Mapping[str, str] | None,
    now: datetime,
    overrides: tuple[Override, ...] | None = None,
) -> RingSync:
    """Everything one ring needs: variables written, then the record (so a crash in between
    leaves at worst a stale `managed` list, which the next sync rewrites).

    `variables` is the environment's content (None: no environment); `overrides` replaces the
    recorded ones (for `/feature`).
    """
    record = decode_record((variables or {}).get(RECORD_VARIABLE), ring.name)
    live, cleared = split_overrides(config, record.overrides, now)
    if overrides is not None:
        live, _ = split_overrides(config, overrides, now)
    desired = desired_flags(config, live)[ring.name]
    actual = None if variables is None else dict(variables)
    writes = list(plan_sync({ring.name: desired}, {ring.name: actual}, {ring.name: record.managed}))
    new = next_record(record, frozenset(desired), live, cleared, now)
    if new is not None:
        if actual is None and not writes:
            writes.append(VariableWrite(ring.name, "create_environment", reason="new ring"))
        action: Action = "update" if record.present else "create"
        reason = "overrides or managed variables changed" if record.readable else "unreadable"
        writes.append(VariableWrite(ring.name, action, RECORD_VARIABLE, encode_record(new), reason))
    return RingSync(ring, tuple(writes), live, cleared)


# --- /feature -----------------------------------------------------------------------------------


def resolve_flag(config: Config, word: str) -> str | None:
    """The configured flag `word` names: exactly, or by its variable (NEW_GRID finds new-grid)."""
    if word in config.features:
        return word
    variable = feature_variable(word)
    return next((flag for flag in config.features if feature_variable(flag) == variable), None)


def _flag_list(config: Config) -> str:
    return ", ".join(f"`{flag}`" for flag in config.features)


def _ring_list(config: Config) -> str:
    return ", ".join(f"`{ring.name}`" for ring in config.rings)


def decide_feature_command(
    *,
    config: Config,
    flag: str,
    enabled: bool,
    ring: str,
    actor: str,
    actor_permission: Permission,
    overrides: tuple[Override, ...],
    now: datetime,
) -> FeatureDecision:
    """`/feature <flag> on|off <ring>`: record, replace or drop one override in one ring.

    `overrides` are the ring's overrides in force now (cleared ones already split off).
    """
    refusals: list[Refusal] = []
    if actor_permission < config.feature_admins:
        needs = config.feature_admins.label
        refusals.append(
            Refusal(
                Code.PERMISSION,
                f"overriding a feature toggle needs {needs} permission; "
                f"@{actor} has {actor_permission.label}",
                f"ask someone with {needs} access (`feature_admins` in `{CONFIG_PATH}`)",
            )
        )
    known = resolve_flag(config, flag)
    if known is None:
        hint = (
            f"the flags are {_flag_list(config)}"
            if config.features
            else f"no flags are configured; add them under `features:` in `{CONFIG_PATH}`"
        )
        refusals.append(Refusal(Code.UNKNOWN_FLAG, f"there is no flag `{flag}`", hint))
    target = config.ring(ring)
    if target is None:
        refusals.append(
            Refusal(
                Code.UNKNOWN_RING,
                f"there is no ring `{ring}`",
                f"the rings are {_ring_list(config)}",
            )
        )
    if refusals or known is None or target is None:
        return FeatureDecision(known, target, enabled, tuple(refusals))
    from_config = config_value(config, known, target.name)
    previous = next((o for o in overrides if o.flag == known and o.ring == target.name), None)
    others = tuple(o for o in overrides if o is not previous)
    base = FeatureDecision(
        known, target, enabled, outcome="already", config_value=from_config, previous=previous
    )
    if enabled == from_config:
        if previous is None:
            return replace(base, overrides=overrides)
        return replace(base, outcome="reverted", overrides=others)
    if previous is not None and previous.enabled == enabled:
        return replace(base, overrides=overrides)
    new = Override(known, target.name, enabled, actor, now, config.features[known])
    return replace(base, outcome="set", overrides=(*others, new))


# --- /features ----------------------------------------------------------------------------------


def feature_table(
    config: Config, environments: Mapping[str, Mapping[str, str] | None], now: datetime
) -> FeatureTable:
    """The flag × ring table from each ring's environment variables (None: no environment)."""
    cells: dict[tuple[str, str], Cell] = {}
    cleared: list[Cleared] = []
    for ring in config.rings:
        variables = environments.get(ring.name) or {}
        record = decode_record(variables.get(RECORD_VARIABLE), ring.name)
        live, stale = split_overrides(config, record.overrides, now)
        # Cleared by a sync, or overruled already but not yet swept by one.
        cleared += [c for c in record.cleared if now - c.at <= CLEARED_SHOWN]
        cleared += stale
        desired = desired_flags(config, live)[ring.name]
        for flag in config.features:
            variable = feature_variable(flag)
            override = next((o for o in live if o.flag == flag), None)
            cells[(flag, ring.name)] = Cell(
                flag, ring.name, desired[variable] == ON, override, variables.get(variable)
            )
    cleared.sort(key=lambda c: (c.at, c.override.ring, c.override.flag), reverse=True)
    return FeatureTable(tuple(config.features), config.ring_names, cells, tuple(cleared))
