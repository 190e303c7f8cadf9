"""Deliver again what the outbox delivery gave up on (docs/OPERATIONS.md,
"Outbox delivery failures").

    .venv/bin/python -m scripts.redrive_outbox --queue-url URL         # the on-failure notes
    .venv/bin/python -m scripts.redrive_outbox --channel course:c_...  # one channel

Run it with the functions' environment (table names, WEBSOCKET_ENDPOINT, the
AUTH_* values: `aws lambda get-function-configuration` shows them) and
credentials that may do what OutboxDelivery does.

With `--queue-url`: each message of `OutboxDeliveryFailures` names a batch of
the outbox's stream (shard, first and last sequence number). Its records are
read back from the stream (DynamoDB keeps them 24 hours) and handed to the same
handler the Lambda runs; a message whose batch went through is deleted, one
that failed again stays for the next run. Delivery is idempotent: an event
already recorded and sent is not sent again.

With `--channel`: the events the outbox committed on that channel after the
event log's head (what was never recorded) are delivered from the outbox
itself, which keeps them 15 days: the way past the stream's 24 hours.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient

    from chalicelib.events import Envelope

Handle = Callable[[Mapping[str, Any]], Mapping[str, Any]]


@dataclass
class Redriven:
    batches: int = 0
    delivered: int = 0
    left: list[str] = field(default_factory=list)  # why a message stays in the queue


def batch_records(streams: DynamoDBStreamsClient, info: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stream records of one failed batch, as Lambda passes them."""
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=str(start),
    )["ShardIterator"]
    found: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = page.get("Records", [])
        for record in records:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return found
            found.append(_lambda_shaped(dict(record), info["streamArn"]))
        if not records:
            return found
        iterator = page.get("NextShardIterator", "")
    return found


def _lambda_shaped(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    change = dict(record.get("dynamodb") or {})
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": change, "eventSourceARN": stream_arn}


def redrive_queue(
    sqs: SQSClient, queue_url: str, streams: DynamoDBStreamsClient, handle: Handle
) -> Redriven:
    result = Redriven()
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return result
        for message in messages:
            result.batches += 1
            try:
                info = json.loads(message["Body"])["DDBStreamBatchInfo"]
                records = batch_records(streams, info)
            except (KeyError, TypeError, ValueError) as exc:
                result.left.append(f"{message['MessageId']}: not a stream batch note ({exc})")
                continue
            except Exception as exc:  # reported; the message stays for the next run
                result.left.append(f"{message['MessageId']}: stream unreadable ({exc})")
                continue
            answer = handle({"Records": records})
            if answer.get("batchItemFailures"):
                result.left.append(f"{message['MessageId']}: failed again; see the log")
                continue
            result.delivered += len(records)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if result.left:
            # What stays is invisible until its visibility timeout: stop here
            # rather than receive the rest again and again.
            return result


def redrive_channel(
    channel: str,
    outbox_head: int,
    log_head: int,
    read: Callable[[str, int], Envelope | None],
    deliver: Callable[[Sequence[Envelope]], None],
) -> int:
    """Deliver the committed events of `channel` the event log never recorded."""
    copies = [c for seq in range(log_head + 1, outbox_head + 1) if (c := read(channel, seq))]
    if copies:
        deliver(copies)
    return len(copies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Redeliver what the outbox delivery gave up on.")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--queue-url", help="the OutboxDeliveryFailures queue's URL")
    target.add_argument("--channel", help="one channel to bring up to date from the outbox")
    args = parser.parse_args(argv)

    from chalicelib.services import container

    c = container()
    if args.channel:
        delivered = redrive_channel(
            args.channel,
            c.outbox.head(args.channel),
            c.event_log.current_seq(args.channel),
            c.outbox.get,
            c.outbox_consumer.deliver,
        )
        print(f"redrive_outbox: {args.channel}: {delivered} events delivered")
        return 0
    import boto3

    session = boto3.session.Session(region_name=c.settings.aws_region)
    result = redrive_queue(
        session.client("sqs"),
        args.queue_url,
        session.client("dynamodbstreams"),
        c.outbox_consumer.handle,
    )
    print(
        f"redrive_outbox: {result.batches} batches, {result.delivered} records delivered, "
        f"{len(result.left)} left"
    )
    for reason in result.left:
        print(f"redrive_outbox: left {reason}", file=sys.stderr)
    return 1 if result.left else 0


if __name__ == "__main__":
    sys.exit(main())
