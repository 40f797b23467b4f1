"""Work keys as JSON for Redis: the key's type name and its fields; unknown types are refused.

Identical keys must serialize to identical text (the queue coalesces on it), so fields are sorted.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from .. import work
from ..queue import WorkKey


class UnknownKey(ValueError):
    """Text that is not a serialized key of a registered type."""


# Every work key class of bot/work.py, by name; tests register their own with `register`.
KEY_TYPES: dict[str, type[Any]] = {
    name: cls
    for name, cls in vars(work).items()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and name.endswith("Key")
}


def register(cls: type[Any]) -> type[Any]:
    """Make a frozen dataclass serializable as a work key (usable as a decorator)."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    KEY_TYPES[cls.__name__] = cls
    return cls


def dump(key: WorkKey) -> str:
    """`{"f": {fields}, "t": "GateKey"}`, with sorted keys."""
    name = type(key).__name__
    if KEY_TYPES.get(name) is not type(key):
        raise UnknownKey(f"{name} is not a registered work key")
    fields = {f.name: getattr(key, f.name) for f in dataclasses.fields(key)}  # type: ignore[arg-type]
    return orjson.dumps({"t": name, "f": fields}, option=orjson.OPT_SORT_KEYS).decode()


def load(text: str | bytes) -> WorkKey:
    """The key `dump` wrote; UnknownKey for anything else."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise UnknownKey("not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("f"), dict):
        raise UnknownKey("not a serialized work key")
    cls = KEY_TYPES.get(str(data.get("t")))
    if cls is None:
        raise UnknownKey(f"unknown work key type {str(data.get('t'))[:100]!r}")
    try:
        key: WorkKey = cls(**data["f"])
    except TypeError as exc:
        raise UnknownKey(f"fields do not fit {cls.__name__}") from exc
    return key
