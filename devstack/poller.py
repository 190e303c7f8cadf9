"""Lambda's SQS event source mapping, for the app's `@app.on_sqs_message` handlers.

A thread per handler long-polls its queue on moto's server and hands each batch
to the handler as a Lambda SQS event. As in Lambda: a batch that raises goes back
to the queue (visible again after the queue's visibility timeout), and when the
event source reports item failures (infra/template.json's FunctionResponseTypes),
only the messages a `batchItemFailures` answer names stay; the rest are deleted.

On demand (devstack/faults.py) it delivers as S3 and SQS do on a bad day: a
chosen fraction of messages is sent twice (a copy goes back into the queue, as S3
notifies at least once), held back for a random moment so later messages
overtake it, or every message waits a while before it reaches the handler. A
held message stays in flight in SQS (its visibility timeout is 180 s), so no
other consumer sees it meanwhile.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.faults import Faults
from devstack.handlers import QueueHandler, lambda_context

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger("devstack.poller")

# Marks the second copy of a message the fault injector duplicated.
COPY_ATTRIBUTE = "devstack-duplicate"


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
        faults: Faults | None = None,
    ) -> None:
        super().__init__(name=f"sqs-{handler.name}", daemon=True)
        self._faults = faults or Faults()
        # Messages held back by a fault: (release time, tie-breaker, message).
        self._held: list[tuple[float, int, MessageTypeDef]] = []
        self._order = itertools.count()
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
        """One receive (and the delivery of held messages that are due); returns
        how many messages the handler took."""
        assert self.queue_url is not None
        delivered = self._deliver(self._due())
        wait = self._wait
        if self._held:
            wait = max(0, min(wait, int(self._held[0][0] - time.monotonic())))
        received = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(self.handler.batch_size, 10)),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return delivered + self._deliver(self._disturb(received.get("Messages", [])))

    def _disturb(self, messages: list[MessageTypeDef]) -> list[MessageTypeDef]:
        """What the fault injector lets through now; the rest is held back."""
        if self.queue_url is not None and self.queue_url.endswith(".fifo"):
            # S3's bad days are the S3 events queue's: a FIFO queue (the fanout
            # shards) hands out each message in its group's order.
            return messages
        settings = self._faults.settings
        now_ready = []
        for message in messages:
            # A copy is not copied again: S3's duplicates do not multiply.
            is_copy = COPY_ATTRIBUTE in message.get("MessageAttributes", {})
            if not is_copy and self._faults.s3_event_duplicated():
                assert self.queue_url is not None
                self._sqs.send_message(
                    QueueUrl=self.queue_url,
                    MessageBody=message["Body"],
                    MessageAttributes={COPY_ATTRIBUTE: {"DataType": "String", "StringValue": "1"}},
                )
            delay = settings.s3_events_delay_seconds
            if self._faults.s3_event_reordered():
                delay += self._faults.uniform(0.2, settings.s3_events_reorder_window_seconds)
            if delay > 0:
                release = time.monotonic() + delay
                heapq.heappush(self._held, (release, next(self._order), message))
            else:
                now_ready.append(message)
        return now_ready

    def _due(self) -> list[MessageTypeDef]:
        due = []
        now = time.monotonic()
        while self._held and self._held[0][0] <= now:
            due.append(heapq.heappop(self._held)[2])
        return due

    def _deliver(self, messages: list[MessageTypeDef]) -> int:
        size = max(1, min(self.handler.batch_size, 10))
        return sum(self._invoke(messages[i : i + size]) for i in range(0, len(messages), size))

    def _invoke(self, messages: list[MessageTypeDef]) -> int:
        assert self.queue_url is not None
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
