"""The app's handlers, found by what they are rather than by function names.

Each part of the stack asks here at the moment it needs a handler, so a handler
someone adds to app.py starts working on the next start without touching devstack/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice.app import Chalice, DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig
from chalice.local import LambdaContext
from chalice.utils import to_cfn_resource_name

from devstack.provision import physical_name

LambdaHandler = Callable[[dict[str, Any], Any], Any]

MAX_FIFO_POLLERS = 4

# API Gateway's WebSocket route keys, as Chalice registers them.
CONNECT, MESSAGE, DISCONNECT = "$connect", "$default", "$disconnect"


@dataclass(frozen=True)
class QueueHandler:
    name: str
    queue_name: str
    batch_size: int
    invoke: LambdaHandler
    # Lambda reads `batchItemFailures` only when the event source mapping says so.
    report_item_failures: bool = False
    # Pollers the stack runs: Lambda runs a FIFO queue's message groups in
    # parallel, up to the function's reserved concurrency (capped here, on a
    # laptop); a standard queue keeps the one poller it always had.
    pollers: int = 1


@dataclass(frozen=True)
class StreamHandler:
    """An `@app.on_dynamodb_record` handler with its event source mapping's
    settings (infra/template.json's override of the function's event)."""

    name: str
    table_name: str
    batch_size: int
    starting_position: str
    invoke: LambdaHandler
    report_item_failures: bool = False
    bisect_on_error: bool = False
    # None: Lambda's default (-1, retry until the record expires from the stream).
    maximum_retry_attempts: int | None = None
    maximum_record_age_seconds: int | None = None
    on_failure_queue: str | None = None
    filters: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ScheduledHandler:
    name: str
    expression: str
    invoke: LambdaHandler


def _event_source(
    template: dict[str, Any], handler_name: str, kind: str = "Queue"
) -> dict[str, Any]:
    """The event source (of an SQS `Queue`, or a DynamoDB `Stream`)
    infra/template.json merges into a handler's function, if it does
    (`chalice package --merge-template` names the function after it)."""
    resources = template.get("Resources", {})
    function = resources.get(to_cfn_resource_name(handler_name), {})
    for event in function.get("Properties", {}).get("Events", {}).values():
        props = event.get("Properties", {})
        if kind in props:
            return dict(props)
    return {}


def _logical_id(value: Any) -> str | None:
    """The resource a `{"Fn::GetAtt": [id, attribute]}` points at."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None


def _stream_table(config: DynamoDBEventConfig, mapping: dict[str, Any]) -> str:
    table = _logical_id(mapping.get("Stream"))
    if table:
        return table  # provision names tables by logical id
    # arn:aws:dynamodb:region:account:table/NAME/stream/LABEL
    return str(config.stream_arn).split(":table/", 1)[-1].split("/", 1)[0]


def _template_queue(queue: Any) -> str | None:
    if isinstance(queue, dict) and "Fn::GetAtt" in queue:
        return str(queue["Fn::GetAtt"][0])  # provision names queues by logical id
    if isinstance(queue, dict) and isinstance(queue.get("Fn::Sub"), str):
        # {"Fn::Sub": "${S3EventsQueue.Arn}"}: the only override form Chalice's
        # deep merge keeps intact (see infra/template.json, S3Events).
        return str(queue["Fn::Sub"]).removeprefix("${").split(".", 1)[0].split("}", 1)[0]
    if isinstance(queue, str):
        return queue.rsplit(":", 1)[-1]
    return None


def _queue_name(config: SQSEventConfig) -> str:
    if config.queue:
        return str(config.queue)
    # arn:aws:sqs:region:account:name
    return str(config.queue_arn or "").rsplit(":", 1)[-1]


class AppHandlers:
    def __init__(self, app: Chalice, template: dict[str, Any] | None = None) -> None:
        self.app = app
        self.template = template or {}

    def websocket(self, route_key: str) -> LambdaHandler | None:
        config = self.app.websocket_handlers.get(route_key)
        if config is None:
            return None
        handler: LambdaHandler | None = self.app.handler_map.get(config.name)
        return handler

    def queues(self) -> list[QueueHandler]:
        found = []
        for source in self.app.event_sources:
            if not isinstance(source, SQSEventConfig):
                continue
            mapping = _event_source(self.template, source.name)
            found.append(
                QueueHandler(
                    name=source.name,
                    queue_name=self._physical(_template_queue(mapping.get("Queue")))
                    or _queue_name(source),
                    batch_size=int(mapping.get("BatchSize") or source.batch_size or 1),
                    invoke=self.app.handler_map[source.name],
                    report_item_failures="ReportBatchItemFailures"
                    in mapping.get("FunctionResponseTypes", []),
                    pollers=self._pollers(source.name, _template_queue(mapping.get("Queue"))),
                )
            )
        return found

    def _pollers(self, handler_name: str, queue: str | None) -> int:
        resources = self.template.get("Resources", {})
        if not resources.get(queue or "", {}).get("Properties", {}).get("FifoQueue"):
            return 1
        function = resources.get(to_cfn_resource_name(handler_name), {})
        reserved = function.get("Properties", {}).get("ReservedConcurrentExecutions", 1)
        if isinstance(reserved, dict) and "Ref" in reserved:
            parameter = self.template.get("Parameters", {}).get(reserved["Ref"], {})
            reserved = parameter.get("Default", 1)
        return max(1, min(int(reserved), MAX_FIFO_POLLERS))

    def _physical(self, logical_id: str | None) -> str | None:
        """The name provision gives the queue (a FIFO queue's ends in .fifo)."""
        if logical_id is None:
            return None
        return physical_name(logical_id, self.template.get("Resources", {}))

    def streams(self) -> list[StreamHandler]:
        found = []
        for source in self.app.event_sources:
            if not isinstance(source, DynamoDBEventConfig):
                continue
            mapping = _event_source(self.template, source.name, "Stream")
            failure = mapping.get("DestinationConfig", {}).get("OnFailure", {})
            filters = [
                json.loads(f["Pattern"])
                for f in mapping.get("FilterCriteria", {}).get("Filters", [])
            ]
            found.append(
                StreamHandler(
                    name=source.name,
                    table_name=_stream_table(source, mapping),
                    batch_size=int(mapping.get("BatchSize") or source.batch_size or 100),
                    starting_position=str(
                        mapping.get("StartingPosition") or source.starting_position
                    ),
                    invoke=self.app.handler_map[source.name],
                    report_item_failures="ReportBatchItemFailures"
                    in mapping.get("FunctionResponseTypes", []),
                    bisect_on_error=bool(mapping.get("BisectBatchOnFunctionError", False)),
                    maximum_retry_attempts=mapping.get("MaximumRetryAttempts"),
                    maximum_record_age_seconds=mapping.get("MaximumRecordAgeInSeconds"),
                    on_failure_queue=_logical_id(failure.get("Destination")),
                    filters=filters,
                )
            )
        return found

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
            "streams": [{"handler": h.name, "table": h.table_name} for h in self.streams()],
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
    """Seconds between runs of an EventBridge `rate(...)` expression; None for any other."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]
