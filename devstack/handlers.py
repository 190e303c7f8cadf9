"""The app's handlers, found by what they are rather than by function names.

Each part of the stack asks here at the moment it needs a handler, so a handler
someone adds to app.py starts working on the next start without touching devstack/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice.app import Chalice, ScheduledEventConfig, SQSEventConfig
from chalice.local import LambdaContext

LambdaHandler = Callable[[dict[str, Any], Any], Any]

# API Gateway's WebSocket route keys, as Chalice registers them.
CONNECT, MESSAGE, DISCONNECT = "$connect", "$default", "$disconnect"


@dataclass(frozen=True)
class QueueHandler:
    name: str
    queue_name: str
    batch_size: int
    invoke: LambdaHandler


@dataclass(frozen=True)
class ScheduledHandler:
    name: str
    expression: str
    invoke: LambdaHandler


def _queue_name(config: SQSEventConfig) -> str:
    if config.queue:
        return str(config.queue)
    # arn:aws:sqs:region:account:name
    return str(config.queue_arn or "").rsplit(":", 1)[-1]


class AppHandlers:
    def __init__(self, app: Chalice) -> None:
        self.app = app

    def websocket(self, route_key: str) -> LambdaHandler | None:
        config = self.app.websocket_handlers.get(route_key)
        if config is None:
            return None
        handler: LambdaHandler | None = self.app.handler_map.get(config.name)
        return handler

    def queues(self) -> list[QueueHandler]:
        return [
            QueueHandler(
                name=source.name,
                queue_name=_queue_name(source),
                batch_size=int(source.batch_size or 1),
                invoke=self.app.handler_map[source.name],
            )
            for source in self.app.event_sources
            if isinstance(source, SQSEventConfig)
        ]

    def schedules(self) -> list[ScheduledHandler]:
        found = []
        for source in self.app.event_sources:
            if not isinstance(source, ScheduledEventConfig):
                continue
            expression = source.schedule_expression
            text = expression if isinstance(expression, str) else expression.to_string()
            found.append(ScheduledHandler(source.name, text, self.app.handler_map[source.name]))
        return found

    def summary(self) -> dict[str, Any]:
        """What the app handles, for the banner and GET /dev/status."""
        return {
            "websocket": sorted(self.app.websocket_handlers),
            "queues": [{"handler": q.name, "queue": q.queue_name} for q in self.queues()],
            "schedules": [
                {"handler": s.name, "expression": s.expression} for s in self.schedules()
            ],
            "routes": len(self.app.routes),
        }


def lambda_context(function_name: str, timeout_seconds: int = 900) -> LambdaContext:
    return LambdaContext(
        function_name=function_name, memory_size=1024, max_runtime_ms=timeout_seconds * 1000
    )


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of an EventBridge `rate(...)` expression; None for cron."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]
