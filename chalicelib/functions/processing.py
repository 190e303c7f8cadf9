"""The processing function: each completed media file's headers, off its own
queue (docs/processing.md).

One message a batch, so each file has the function's whole timeout (the
service keeps a margin of it to end a last attempt visibly). The queue name is
a placeholder, as the S3 events queue's; infra/template.json points the event
source at ProcessingQueue and gives this function alone the layer holding PyAV.
"""

from __future__ import annotations

from chalice.app import SQSEvent

from chalicelib.functions import FunctionBlueprint, loading

with loading():
    from chalicelib.services import container

bp = FunctionBlueprint(__name__)


@bp.on_sqs_message(queue="course-media-processing", batch_size=1, name="process_media")
def process_media(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    return container().media_features.processing.handle(event.to_dict(), event.context)
