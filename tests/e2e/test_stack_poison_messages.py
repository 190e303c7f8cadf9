"""Poison messages on the local stack's S3-event queue, delivered by its Lambda
event source to the real handler: each is dropped with exactly one WARNING line
and one `S3EventsDropped` metric (EMF) with its reason, acknowledged at once
(never retried), so nothing reaches the dead-letter queue and nothing is
dropped silently."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import Stack
from tests.poison_messages import POISON

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

QUEUE, DEAD_LETTERS = "S3EventsQueue", "S3EventsDeadLetterQueue"
WAIT_SECONDS = 15.0


def sqs(stack: Stack) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=stack.moto_url,
        region_name="us-east-1",
        aws_access_key_id="devstack",
        aws_secret_access_key="devstack",
    )


def log_lines(stack: Stack) -> list[dict[str, Any]]:
    lines = []
    for raw in stack.output().splitlines():
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue
    return lines


def queued(client: Any, name: str) -> int:
    url = client.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = client.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


@pytest.mark.parametrize("name", [n for n, (body, _) in POISON.items() if body])
def test_a_poison_message_is_dropped_once_with_a_warning_and_a_count(
    name: str, stack: Stack
) -> None:
    if not stack.status()["handlers"]["queues"]:
        pytest.skip("the app has no @app.on_sqs_message handler")
    body, reason = POISON[name]
    client = sqs(stack)
    url = client.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    message_id = client.send_message(QueueUrl=url, MessageBody=body)["MessageId"]

    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        lines = log_lines(stack)
        mine = [line for line in lines if line.get("messageId") == message_id]
        after = lines[lines.index(mine[0]) + 1 :] if mine else []
        counted = [m for m in after if "S3EventsDropped" in m and m.get("reason") == reason]
        if (mine and counted and queued(client, QUEUE) == 0) or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert [(m["level"], m["reason"]) for m in mine] == [("WARNING", reason)]
    assert counted, "no S3EventsDropped metric with this reason after the warning"
    # Acknowledged, not in flight for a retry, and nothing dead-lettered.
    assert queued(client, QUEUE) == 0
    assert queued(client, DEAD_LETTERS) == 0
    assert not [line for line in after if line.get("level") == "ERROR"]
