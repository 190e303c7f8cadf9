"""The upload functions that no request starts: S3 ObjectCreated through SQS,
and the stale-upload sweep (docs/uploads.md).

The queue name is a placeholder: infra/template.json points the event source at
its own queue and turns on ReportBatchItemFailures, which the returned
`batchItemFailures` relies on.
"""

from __future__ import annotations

from chalice.app import CloudWatchEvent, Rate, SQSEvent

from chalicelib.functions import FunctionBlueprint, loading

with loading():
    from chalicelib.services import container

bp = FunctionBlueprint(__name__)


@bp.on_sqs_message(queue="course-media-s3-events", batch_size=10, name="s3_events")
def on_s3_events(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    return container().upload_features.s3_events.handle(event.to_dict())


@bp.schedule(Rate(15, unit=Rate.MINUTES), name="expire_stale_uploads")
def expire_stale_uploads(event: CloudWatchEvent) -> None:
    container().upload_features.upload_completion.expire_stale()
