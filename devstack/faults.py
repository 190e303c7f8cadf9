"""Failures AWS has and moto does not, injected on demand.

One `Faults` object is shared by every part of the stack that can fail as AWS
fails: the @connections API (gone connections, throttled or slow posts), the S3
event source (duplicated, reordered and delayed notifications), DynamoDB
(throttled calls per table) and the S3 front (presigned URLs that die early).
It starts from the command line (devstack/options.py) and can be changed while
the stack runs (`GET`/`PUT /dev/faults`), which is how tests drive it. With
nothing set, nothing is injected: `make run` behaves as AWS on a good day.

Every decision draws from one seeded random generator, so a run with
`--fault-seed` injects the same faults in the same order of decisions. Each
injected fault is counted, so a test can tell a fault that happened from one
that did not.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

ALL_TABLES = "*"


class FaultSpecError(ValueError):
    """A fault setting that cannot be applied (a fraction outside 0..1, ...)."""


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultSpecError(f"{name} must be a number between 0 and 1")
    if not 0 <= float(value) <= 1:
        raise FaultSpecError(f"{name} must be between 0 and 1, not {value}")
    return float(value)


def _seconds(name: str, value: Any, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultSpecError(f"{name} must be a number of seconds, 0 or more")
    if value > 3600:
        raise FaultSpecError(f"{name} must be at most 3600 seconds")
    return float(value)


def parse_table_fractions(text: str) -> dict[str, float]:
    """`UploadsTable=0.05,EventsTable=0.1` or `*=0.05` (every table) or `0.05`."""
    found: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        table, sep, raw = item.rpartition("=")
        name = table.strip() if sep else ALL_TABLES
        try:
            value = float(raw)
        except ValueError:
            raise FaultSpecError(f"not a fraction: {item!r} (TABLE=FRACTION)") from None
        found[name or ALL_TABLES] = _fraction(f"throttle for {name}", value)
    return found


@dataclass(frozen=True)
class FaultSettings:
    """What to inject. Fractions are per decision (a post, a message, a call)."""

    # @connections: a post finds its connection gone (410; the socket is closed
    # as when a client vanished), is throttled (429 LimitExceededException), or
    # waits this long before it is answered.
    connections_gone: float = 0.0
    connections_throttled: float = 0.0
    connections_delay_seconds: float = 0.0
    # S3 notifications: a message is sent twice, held back so later ones
    # overtake it (for up to reorder_window_seconds), or every message waits.
    s3_events_duplicated: float = 0.0
    s3_events_reordered: float = 0.0
    s3_events_reorder_window_seconds: float = 2.0
    s3_events_delay_seconds: float = 0.0
    # DynamoDB data-plane calls throttled, by table name (`*`: every table).
    dynamodb_throttled: dict[str, float] = field(default_factory=dict)
    # A presigned URL answers "Request has expired" once this old, whatever its X-Amz-Expires.
    presign_expires_after_seconds: float | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "connections_gone",
            "connections_throttled",
            "s3_events_duplicated",
            "s3_events_reordered",
        ):
            _fraction(name, getattr(self, name))
        for name in (
            "connections_delay_seconds",
            "s3_events_reorder_window_seconds",
            "s3_events_delay_seconds",
        ):
            _seconds(name, getattr(self, name))
        _seconds("presign_expires_after_seconds", self.presign_expires_after_seconds, optional=True)
        if not isinstance(self.dynamodb_throttled, dict):
            raise FaultSpecError("dynamodb_throttled must map table names to fractions")
        for table, value in self.dynamodb_throttled.items():
            if not isinstance(table, str) or not table:
                raise FaultSpecError("dynamodb_throttled keys are table names or '*'")
            _fraction(f"dynamodb_throttled[{table}]", value)
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int)
        ):
            raise FaultSpecError("seed must be an integer")

    @property
    def active(self) -> bool:
        return self != FaultSettings(seed=self.seed)

    def updated(self, changes: dict[str, Any]) -> FaultSettings:
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise FaultSpecError(f"unknown fault settings: {', '.join(unknown)}")
        return replace(self, **changes)


class Faults:
    """The shared, thread-safe fault switchboard (see the module docstring)."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = settings or FaultSettings()
        self._random = random.Random(self._settings.seed)  # noqa: S311 - faults, not secrets
        self._injected: Counter[str] = Counter()

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    def configure(self, changes: dict[str, Any], *, reset: bool = False) -> FaultSettings:
        """Apply `changes` (to the defaults when `reset`); a new seed restarts the
        generator, and a reset clears the counts."""
        with self._lock:
            base = FaultSettings() if reset else self._settings
            settings = base.updated(changes)
            if reset or "seed" in changes:
                self._random = random.Random(settings.seed)  # noqa: S311
            if reset:
                self._injected.clear()
            self._settings = settings
            return settings

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"settings": asdict(self._settings), "injected": dict(self._injected)}

    def injected(self, kind: str) -> int:
        with self._lock:
            return self._injected[kind]

    def note(self, kind: str) -> None:
        with self._lock:
            self._injected[kind] += 1

    def _draw(self, fraction: float, kind: str) -> bool:
        if fraction <= 0:
            return False
        with self._lock:
            hit = self._random.random() < fraction
            if hit:
                self._injected[kind] += 1
            return hit

    def uniform(self, low: float, high: float) -> float:
        with self._lock:
            return self._random.uniform(low, high)

    # ---- the decisions, one per kind of fault ------------------------------------
    def connection_gone(self) -> bool:
        return self._draw(self._settings.connections_gone, "connections_gone")

    def connection_throttled(self) -> bool:
        return self._draw(self._settings.connections_throttled, "connections_throttled")

    def s3_event_duplicated(self) -> bool:
        return self._draw(self._settings.s3_events_duplicated, "s3_events_duplicated")

    def s3_event_reordered(self) -> bool:
        return self._draw(self._settings.s3_events_reordered, "s3_events_reordered")

    def dynamodb_throttled(self, tables: set[str]) -> bool:
        throttled = self._settings.dynamodb_throttled
        if not throttled or not tables:
            return False
        fraction = max(throttled.get(t, throttled.get(ALL_TABLES, 0.0)) for t in tables)
        return self._draw(fraction, "dynamodb_throttled")
