"""Sharded delivery: big channels' delivery shards -> the fanout workers
(chalicelib/fanout_worker.py, docs/realtime.md#sharded-delivery).

The queue name is a placeholder, as the S3-events queue's is: infra/template.json
points the event source at the FIFO FanoutQueue, reports item failures and
reserves the function's concurrency (the delivery budget's divisor).
"""

from __future__ import annotations

from chalice.app import SQSEvent

from chalicelib.functions import FunctionBlueprint, loading

with loading():
    from chalicelib.services import container

bp = FunctionBlueprint(__name__)


@bp.on_sqs_message(queue="course-media-fanout.fifo", batch_size=1, name="fanout_worker")
def fanout_worker(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    return container().fanout_features.worker.handle(event.to_dict())
