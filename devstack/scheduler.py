"""EventBridge schedules for the app's `@app.schedule` handlers.

Each handler gets a thread that sleeps until the next time its expression names
and then calls it with a Scheduled Event, as EventBridge would. Failures are
logged and the schedule goes on, as it does in AWS.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta

from devstack.handlers import ScheduledHandler, lambda_context, rate_seconds

log = logging.getLogger("devstack.schedule")

ACCOUNT = "123456789012"

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
# EventBridge numbers weekdays 1-7 from Sunday.
_WEEKDAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}


class UnsupportedSchedule(ValueError):
    pass


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    if text in ("*", "?"):
        return set(range(low, high + 1))
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(base, names)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return values


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise UnsupportedSchedule(f"unsupported cron field {text!r}")
    return int(text)


def next_cron(expression: str, after: datetime) -> datetime:
    """The next minute after `after` that an EventBridge `cron(...)` expression names (UTC).
    L, W and # are not supported."""
    body = expression.strip()
    if not (body.startswith("cron(") and body.endswith(")")):
        raise UnsupportedSchedule(expression)
    fields = body[5:-1].split()
    if len(fields) != 6:
        raise UnsupportedSchedule(expression)
    minutes = _field(fields[0], 0, 59)
    hours = _field(fields[1], 0, 23)
    days = _field(fields[2], 1, 31)
    months = _field(fields[3], 1, 12, _MONTHS)
    weekdays = _field(fields[4], 1, 7, _WEEKDAYS)
    years = _field(fields[5], 1970, 2199)
    moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    limit = moment + timedelta(days=366 * 5)
    while moment < limit:
        weekday = moment.isoweekday() % 7 + 1
        if (
            moment.year in years
            and moment.month in months
            and moment.day in days
            and weekday in weekdays
            and moment.hour in hours
            and moment.minute in minutes
        ):
            return moment
        moment += timedelta(minutes=1)
    raise UnsupportedSchedule(f"{expression} never fires")


def scheduled_event(handler: ScheduledHandler, region: str, at: datetime) -> dict[str, object]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT}:rule/{handler.name}"],
        "detail": {},
    }


def run_scheduled(handler: ScheduledHandler, region: str) -> object:
    """One invocation, as EventBridge makes it."""
    event = scheduled_event(handler, region, datetime.now(UTC))
    return handler.invoke(event, lambda_context(handler.name))


class Schedule(threading.Thread):
    def __init__(
        self,
        handler: ScheduledHandler,
        region: str,
        stop: threading.Event,
        every_seconds: float | None = None,
    ) -> None:
        super().__init__(name=f"schedule-{handler.name}", daemon=True)
        self.handler = handler
        self.region = region
        self._stop_event = stop
        self._every = every_seconds or rate_seconds(handler.expression)
        if self._every is None:
            next_cron(handler.expression, datetime.now(UTC))  # fail now, not at run time

    def describe(self) -> str:
        if self._every is not None and self._every != rate_seconds(self.handler.expression):
            return f"every {self._every:g} s (overrides {self.handler.expression})"
        return self.handler.expression

    def _next(self, now: datetime) -> datetime:
        if self._every is not None:
            return now + timedelta(seconds=self._every)
        return next_cron(self.handler.expression, now)

    def run_once(self) -> object:
        return run_scheduled(self.handler, self.region)

    def run(self) -> None:
        due = self._next(datetime.now(UTC))
        while not self._stop_event.wait(max(0.0, (due - datetime.now(UTC)).total_seconds())):
            try:
                self.run_once()
                log.info("scheduled handler %s ran", self.handler.name)
            except Exception:
                log.exception("scheduled handler %s failed", self.handler.name)
            due = self._next(datetime.now(UTC))
