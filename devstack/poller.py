"""Lambda's SQS event source mapping, for the app's `@app.on_sqs_message` handlers.

A thread per handler long-polls its queue on moto's server and hands each batch
to the handler as a Lambda SQS event. As in Lambda: a batch that raises goes back
to the queue (visible again after the queue's visibility timeout), and when the
event source reports item failures (infra/template.json's FunctionResponseTypes),
only the messages a `batchItemFailures` answer names stay; the rest are deleted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.handlers import QueueHandler, lambda_context

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger("devstack.poller")


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An SQS message attribute in the Lambda event's spelling."""
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": value.get("BinaryValue"),
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": value.get("BinaryListValues", []),
        "dataType": value.get("DataType", "String"),
    }


def sqs_event(messages: Iterable[MessageTypeDef], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m.get("Body", ""),
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": {
                    name: _attribute(dict(v)) for name, v in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def failed_ids(result: Any, batch_ids: set[str]) -> set[str]:
    """The messages a handler reported as failed. An answer Lambda cannot read
    (an unknown or missing id) fails the whole batch, as in Lambda."""
    if not isinstance(result, dict) or "batchItemFailures" not in result:
        return set()
    failures = result.get("batchItemFailures") or []
    ids = set()
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not item or item not in batch_ids:
            return set(batch_ids)
        ids.add(str(item))
    return ids


class QueuePoller(threading.Thread):
    def __init__(
        self,
        handler: QueueHandler,
        sqs: SQSClient,
        region: str,
        stop: threading.Event,
        wait_seconds: int = 1,
    ) -> None:
        super().__init__(name=f"sqs-{handler.name}", daemon=True)
        self.handler = handler
        self._sqs = sqs
        self._region = region
        self._stop_event = stop
        self._wait = wait_seconds
        self.queue_url: str | None = None
        self._queue_arn = ""
        self.delivered = 0

    def resolve(self) -> bool:
        try:
            url = self._sqs.get_queue_url(QueueName=self.handler.queue_name)["QueueUrl"]
            attrs = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        except ClientError:
            return False
        self.queue_url = url
        self._queue_arn = attrs["Attributes"]["QueueArn"]
        return True

    def run(self) -> None:
        warned = False
        while not self._stop_event.is_set():
            if self.queue_url is None and not self.resolve():
                if not warned:
                    log.warning(
                        "queue %r of handler %s does not exist; waiting for it",
                        self.handler.queue_name,
                        self.handler.name,
                    )
                    warned = True
                self._stop_event.wait(2)
                continue
            try:
                self.poll_once()
            except (BotoCoreError, ClientError):
                if self._stop_event.is_set():
                    return
                log.exception("polling %s failed", self.handler.queue_name)
                self._stop_event.wait(1)

    def poll_once(self) -> int:
        assert self.queue_url is not None
        received = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(self.handler.batch_size, 10)),
            WaitTimeSeconds=self._wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = received.get("Messages", [])
        if not messages:
            return 0
        batch_ids = {m["MessageId"] for m in messages}
        try:
            result = self.handler.invoke(
                sqs_event(messages, self._queue_arn, self._region),
                lambda_context(self.handler.name),
            )
        except Exception:
            log.exception("handler %s failed; the batch returns to the queue", self.handler.name)
            return 0
        failed = failed_ids(result, batch_ids) if self.handler.report_item_failures else set()
        reported = isinstance(result, dict) and result.get("batchItemFailures")
        if reported and not self.handler.report_item_failures:
            log.warning(
                "%s returned batchItemFailures but its event source does not report them "
                "(FunctionResponseTypes: ReportBatchItemFailures): Lambda deletes the whole batch",
                self.handler.name,
            )
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        self.delivered += len(done)
        return len(done)
