"""Time as the services and stores read it.

The composition root hands one clock and one sleep to everything that reads
the time or waits, so a test moves time by moving its clock (tests/fakes.py's
FakeClock), never by writing timestamps into a table or patching `time`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]  # seconds since the epoch, as time.time
Sleep = Callable[[float], None]  # as time.sleep


def utc(clock: Clock) -> datetime:
    """The clock's now as an aware UTC datetime."""
    return datetime.fromtimestamp(clock(), UTC)


def stamp(clock: Clock) -> datetime:
    """Now at the wire's millisecond precision, so a record read back equals
    the one a service returned and published."""
    now = utc(clock)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
