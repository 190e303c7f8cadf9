"""`outbox redrive`: deliver again what the outbox delivery gave up on
(docs/OPERATIONS.md#outbox-delivery-failures).

Without `--channel`: each message of `OutboxDeliveryFailures` names a batch of
the outbox's stream (shard, first and last sequence number). Its records are
read back from the stream (DynamoDB keeps them 24 hours) and handed to the
handler the Lambda runs; a message whose batch went through is deleted, one
that failed again stays for the next run. Delivery is idempotent: an event
already recorded and sent is not sent again.

With `--channel`: the events the outbox committed on that channel after the
event log's head (what was never recorded) are delivered from the outbox
itself, which keeps them 15 days: the way past the stream's 24 hours.

Both count what they would deliver unless `--yes` is given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from course_media_ops.queues import depth

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient

    from chalicelib.events import Envelope

app = typer.Typer(help="The outbox: deliver again what its delivery gave up on.")
FAILURES = "OutboxDeliveryFailures"

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


def redrive(
    ctx: typer.Context,
    channel: Annotated[
        str | None,
        typer.Option(help="one channel to bring up to date from the outbox (course:..., user:...)"),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="deliver them (without: only count)")] = False,
) -> None:
    """Deliver again the batches the outbox delivery gave up on, or one channel's
    committed events the event log never recorded."""
    target, out = ctx.obj.target(), ctx.obj.output
    c = target.container
    if channel:
        outbox_head, log_head = c.outbox.head(channel), c.event_log.current_seq(channel)
        if not yes:
            out.dry_run(f"deliver {channel}'s events never recorded:", outbox_head - log_head)
            return
        delivered = redrive_channel(
            channel, outbox_head, log_head, c.outbox.get, c.outbox_consumer.deliver
        )
        if out.as_json:
            out.document({"channel": channel, "delivered": delivered})
        else:
            out.say(f"{channel}: {delivered} events delivered")
        return
    url = target.queue_url(FAILURES)
    if not yes:
        out.dry_run(f"deliver again the batches noted in {FAILURES}:", depth(target, FAILURES))
        return
    result = redrive_queue(
        target.client("sqs"), url, target.client("dynamodbstreams"), c.outbox_consumer.handle
    )
    if out.as_json:
        out.document(
            {"batches": result.batches, "delivered": result.delivered, "left": result.left}
        )
    else:
        out.say(
            f"{result.batches} batches, {result.delivered} records delivered, "
            f"{len(result.left)} left"
        )
        for reason in result.left:
            out.say(f"[yellow]left[/yellow] {reason}")
    if result.left:
        raise typer.Exit(1)


app.command("redrive")(redrive)
