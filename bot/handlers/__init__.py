"""Handlers: each module has a `router` (webhook -> work keys) and `JOBS` (work key -> job)."""

from __future__ import annotations

from types import ModuleType

from . import comments, features, pulls, rings, visibility

HANDLERS: tuple[ModuleType, ...] = (pulls, rings, comments, features, visibility)
