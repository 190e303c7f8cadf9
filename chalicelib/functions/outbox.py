"""Realtime delivery: the outbox's stream -> event log -> connections
(chalicelib/delivery.py, docs/realtime.md).

The stream ARN is a placeholder, as the S3-events queue's is: infra/template.json
points the event source at OutboxTable's stream and sets what Chalice cannot
(report item failures, bisect on error, retries, the on-failure queue, the
filter that passes only event inserts).
"""

from __future__ import annotations

from chalice.app import DynamoDBEvent

from chalicelib.functions import FunctionBlueprint, loading

with loading():
    from chalicelib.services import container

bp = FunctionBlueprint(__name__)


@bp.on_dynamodb_record(
    stream_arn="arn:aws:dynamodb:us-east-1:000000000000:table/OutboxTable/stream/placeholder",
    batch_size=10,
    starting_position="TRIM_HORIZON",
    name="outbox_delivery",
)
def deliver_outbox(event: DynamoDBEvent) -> dict[str, list[dict[str, str]]]:
    return container().outbox_consumer.handle(event.to_dict())
