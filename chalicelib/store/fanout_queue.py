"""The FIFO queue of delivery shards (chalicelib/shards.py) on SQS.

Shards go in SendMessageBatch requests of at most 10 entries and 256 KB. A
message group's shards go in the order given, one request after another (SQS
keeps a group's order across requests as within one); different groups are
independent, so their requests go in parallel and a big channel's shards are
queued in about the time of one group's. The queue's URL is looked up once per
container (the template passes the queue's name, as it does every queue's).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from threading import Lock
from typing import TYPE_CHECKING

from chalicelib.errors import Unavailable
from chalicelib.logging import logger
from chalicelib.shards import Shard
from chalicelib.store.aws_errors import AWS_ERRORS, translated

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

_MAX_ENTRIES = 10
# SQS's limit on a whole batch is 256 KB; the margin covers the entries' other fields.
_MAX_BATCH_BYTES = 240 * 1024
_CODE = "fanout_queue_unavailable"
# Groups queued at once; botocore's pool holds 10 connections per client.
_MAX_LANES = 10


class SqsShardQueue:
    def __init__(self, sqs: SQSClient, queue: str) -> None:
        self._sqs = sqs
        self._queue = queue
        self._url: str | None = None
        self._lock = Lock()

    def url(self) -> str:
        with self._lock:
            if self._url is None:
                with translated("finding the fanout queue", code=_CODE):
                    self._url = self._sqs.get_queue_url(QueueName=self._queue)["QueueUrl"]
            return self._url

    def send(self, shards: Sequence[Shard]) -> None:
        lanes: dict[str, list[Shard]] = {}
        for shard in shards:
            lanes.setdefault(shard.group_id, []).append(shard)
        if len(lanes) <= 1:
            for lane in lanes.values():
                self._send_in_order(lane)
            return
        with ThreadPoolExecutor(min(len(lanes), _MAX_LANES)) as pool:
            # list(): the first lane that failed raises here, after the rest ran.
            list(pool.map(self._send_in_order, lanes.values()))

    def _send_in_order(self, shards: Sequence[Shard]) -> None:
        batch: list[SendMessageBatchRequestEntryTypeDef] = []
        size = 0
        for shard in shards:
            body = shard.body()
            if batch and (len(batch) == _MAX_ENTRIES or size + len(body) > _MAX_BATCH_BYTES):
                self._send(batch)
                batch, size = [], 0
            batch.append(
                {
                    "Id": str(len(batch)),
                    "MessageBody": body,
                    "MessageGroupId": shard.group_id,
                    "MessageDeduplicationId": shard.dedup_id,
                }
            )
            size += len(body)
        if batch:
            self._send(batch)

    def _send(self, batch: list[SendMessageBatchRequestEntryTypeDef]) -> None:
        url = self.url()
        with translated("queueing delivery shards", code=_CODE):
            answer = self._sqs.send_message_batch(QueueUrl=url, Entries=batch)
        failed = answer.get("Failed", [])
        if failed:
            # Sending the rest would put a later shard of a group before the
            # one SQS refused: fail the whole delivery, which is retried
            # (the shards SQS took are deduplicated then).
            raise Unavailable(
                f"SQS refused {len(failed)} delivery shards: {failed[0].get('Code')}",
                code=_CODE,
            )

    def retry_soon(self, receipt_handles: Sequence[str], seconds: int) -> None:
        """Make failed shards visible again in `seconds` rather than after the
        queue's visibility timeout; a failure here only means that wait."""
        if not receipt_handles:
            return
        try:
            url = self.url()
            for start in range(0, len(receipt_handles), _MAX_ENTRIES):
                chunk = receipt_handles[start : start + _MAX_ENTRIES]
                self._sqs.change_message_visibility_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                        for i, handle in enumerate(chunk)
                    ],
                )
        except (*AWS_ERRORS, Unavailable) as exc:
            logger.warning("could not bring failed shards back early", error=str(exc))
