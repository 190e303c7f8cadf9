"""`dlq show|redrive`: what the dead-letter queues hold, and moving it back.

Which queue is whose dead-letter queue comes from infra/template.json (a
queue's RedrivePolicy names its dead-letter queue). Redriving sends each
message back to its source queue with its body and attributes and then deletes
it from the dead-letter queue, one at a time behind a progress bar; the app's
handlers are idempotent, so a message that was in fact processed changes
nothing (docs/OPERATIONS.md#dead-letter-queue).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from course_media_ops.render import Row, advance
from course_media_ops.target import Target

app = typer.Typer(help="Dead-letter queues: look at them, redrive them.")
BATCH = 10

Queue = Annotated[
    str | None,
    typer.Argument(help="a dead-letter queue's logical id (default: every one)"),
]


def dead_letter_queues() -> dict[str, str]:
    """Dead-letter queue -> its source queue, as infra/template.json wires them.
    A FIFO queue's (the fanout shards') is not one to redrive: an old shard sent
    again would reach its connections after the events that followed it
    (docs/OPERATIONS.md#fanout-shards)."""
    from devstack.provision import load_template

    found: dict[str, str] = {}
    for name, body in load_template()["Resources"].items():
        if body.get("Type") != "AWS::SQS::Queue" or body["Properties"].get("FifoQueue"):
            continue
        target = body.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")
        if isinstance(target, dict) and "Fn::GetAtt" in target:
            found[str(target["Fn::GetAtt"][0])] = name
    return found


def _chosen(queue: str | None) -> dict[str, str]:
    queues = dead_letter_queues()
    if queue is None:
        return queues
    if queue not in queues:
        raise typer.BadParameter(f"{queue} is not a dead-letter queue; these are: {sorted(queues)}")
    return {queue: queues[queue]}


def depth(target: Target, queue: str) -> int:
    attributes = target.client("sqs").get_queue_attributes(
        QueueUrl=target.queue_url(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0))


def summary(body: str) -> str:
    """What a message is about: the S3 keys of an S3 event, else its start."""
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return body[:80]
    if isinstance(parsed, dict) and isinstance(parsed.get("Records"), list):
        keys = [
            str(r.get("s3", {}).get("object", {}).get("key"))
            for r in parsed["Records"]
            if isinstance(r, dict)
        ]
        return "S3 " + ", ".join(keys)
    return json.dumps(parsed)[:80]


def _receive(target: Target, url: str, visibility: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (
        target.client("sqs")
        .receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=BATCH,
            VisibilityTimeout=visibility,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        .get("Messages", [])
    )
    return messages


def _row(queue: str, message: dict[str, Any]) -> Row:
    attributes = message.get("Attributes", {})
    sent = attributes.get("SentTimestamp")
    return {
        "queue": queue,
        "messageId": message["MessageId"],
        "sentAt": datetime.fromtimestamp(int(sent) / 1000, UTC).isoformat() if sent else None,
        "receives": attributes.get("ApproximateReceiveCount"),
        "about": summary(message.get("Body", "")),
    }


def show(
    ctx: typer.Context,
    queue: Queue = None,
    limit: Annotated[int, typer.Option(help="messages to show per queue")] = 10,
) -> None:
    """How many messages each dead-letter queue holds, and the first few."""
    target, out = ctx.obj.target(), ctx.obj.output
    queues = _chosen(queue)
    counts = [
        {"queue": q, "source": source, "messages": depth(target, q)} for q, source in queues.items()
    ]
    shown: list[Row] = []
    for q in queues:
        url = target.queue_url(q)
        peeked: list[dict[str, Any]] = []
        while len(peeked) < limit:
            batch = _receive(target, url, visibility=30)
            if not batch:
                break
            peeked.extend(batch)
        # Seen, not consumed: visible again at once.
        for message in peeked:
            target.client("sqs").change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        shown.extend(_row(q, m) for m in peeked[:limit])
    if out.as_json:
        out.document({"queues": counts, "messages": shown})
        return
    out.rows("dead-letter queues", counts, ("queue", "source", "messages"))
    out.rows("messages", shown, ("queue", "messageId", "sentAt", "receives", "about"))


def redrive(
    ctx: typer.Context,
    queue: Queue = None,
    most: Annotated[int | None, typer.Option("--max", help="move at most this many")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="move them (without: only count)")] = False,
) -> None:
    """Move dead-lettered messages back to their source queue, with a progress bar."""
    target, out = ctx.obj.target(), ctx.obj.output
    queues = _chosen(queue)
    waiting = {q: depth(target, q) for q in queues}
    total = sum(min(n, most) if most is not None else n for n in waiting.values())
    if not yes:
        for q, n in waiting.items():
            out.say(f"{q} holds {n} message(s) for {queues[q]}")
        out.dry_run("move back", total)
        return
    moved: list[Row] = []
    with out.progress("redriving", total) as bar:
        for q, source in queues.items():
            count = _move(target, q, source, most, bar)
            moved.append({"queue": q, "source": source, "moved": count})
    if out.as_json:
        out.document(moved)
    else:
        out.rows("moved back", moved, ("queue", "source", "moved"))


def _move(target: Target, queue: str, source: str, most: int | None, bar: Any) -> int:
    sqs = target.client("sqs")
    url, back = target.queue_url(queue), target.queue_url(source)
    count = 0
    while most is None or count < most:
        batch = _receive(target, url, visibility=120)
        if not batch:
            return count
        keep = len(batch) if most is None else most - count
        for message in batch[keep:]:
            # Past --max: left in the dead-letter queue, visible again at once.
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        for message in batch[:keep]:
            sent: dict[str, Any] = {"QueueUrl": back, "MessageBody": message["Body"]}
            attributes = message.get("MessageAttributes")
            if attributes:
                sent["MessageAttributes"] = {k: _sendable(v) for k, v in attributes.items()}
            sqs.send_message(**sent)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            count += 1
            advance(bar)
    return count


def _sendable(attribute: dict[str, Any]) -> dict[str, Any]:
    """A received message attribute as SendMessage takes it."""
    return {k: v for k, v in attribute.items() if k in ("DataType", "StringValue", "BinaryValue")}


app.command("show")(show)
app.command("redrive")(redrive)
