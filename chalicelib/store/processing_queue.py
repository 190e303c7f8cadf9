"""The processing queue (infra/template.json's ProcessingQueue): one message per
media file to read, carrying the sender's correlation id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import correlation
from chalicelib.domain.processing import ProcessingMessage
from chalicelib.store.aws_errors import translated

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class ProcessingQueue:
    def __init__(self, sqs: SQSClient, url: str) -> None:
        self._sqs = sqs
        # The queue's URL: its Ref in the template (devstack/provision.py hands
        # the local stack and the tests the same).
        self._url = url

    def enqueue(self, media_id: str) -> None:
        with translated("queueing a media file for processing", code="queue_unavailable"):
            self._sqs.send_message(
                QueueUrl=self._url,
                MessageBody=ProcessingMessage(media_id).body(),
                MessageAttributes=correlation.sqs_attributes(),  # type: ignore[arg-type]
            )
