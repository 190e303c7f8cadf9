"""EventBridge schedules for the app's `@app.schedule` handlers.

Each handler gets a thread that sleeps for its `rate(...)` and then calls it
with a Scheduled Event, as EventBridge would. Failures are logged and the
schedule goes on, as it does in AWS.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta

from devstack.handlers import ScheduledHandler, lambda_context, rate_seconds

log = logging.getLogger("devstack.schedule")

ACCOUNT = "123456789012"


class UnsupportedSchedule(ValueError):
    """An expression the stack does not run: anything but `rate(...)`. The app
    has one schedule, a Rate; the stack warns at start and leaves any other
    unscheduled rather than run it at the wrong times."""


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
        every = every_seconds or rate_seconds(handler.expression)
        if every is None:
            raise UnsupportedSchedule(f"{handler.expression}: only rate(...) is supported")
        self._every = every

    def describe(self) -> str:
        if self._every != rate_seconds(self.handler.expression):
            return f"every {self._every:g} s (overrides {self.handler.expression})"
        return self.handler.expression

    def _next(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._every)

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
