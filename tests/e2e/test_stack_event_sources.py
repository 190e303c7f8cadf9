"""The stack's stand-ins for Lambda's event sources: the SQS poller (against moto,
with handlers written for the test) and EventBridge schedules."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from devstack.handlers import QueueHandler
from devstack.poller import QueuePoller
from tests.e2e.conftest import Stack

REGION = "us-east-1"


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("sqs", region_name=REGION)
        client.create_queue(QueueName="events", Attributes={"VisibilityTimeout": "0"})
        for body in ("one", "two", "three"):
            client.send_message(
                QueueUrl=client.get_queue_url(QueueName="events")["QueueUrl"], MessageBody=body
            )
        yield client


def poller(sqs: Any, handler: Any, report_item_failures: bool = True) -> QueuePoller:
    queue = QueueHandler("h", "events", 10, handler, report_item_failures)
    p = QueuePoller(queue, sqs, REGION, threading.Event(), wait_seconds=0)
    assert p.resolve()
    return p


def remaining(sqs: Any) -> list[str]:
    url = sqs.get_queue_url(QueueName="events")["QueueUrl"]
    return sorted(
        m["Body"]
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    )


@pytest.mark.integration
def test_handled_batch_is_deleted_from_the_queue(sqs: Any) -> None:
    bodies: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        bodies.extend(record["body"] for record in event["Records"])

    poller(sqs, handler).poll_once()
    assert sorted(bodies) == ["one", "three", "two"]
    assert remaining(sqs) == []


@pytest.mark.integration
def test_messages_named_in_batch_item_failures_stay_in_the_queue(sqs: Any) -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "two"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    poller(sqs, handler).poll_once()
    assert remaining(sqs) == ["two"]


@pytest.mark.integration
def test_batch_item_failures_are_ignored_when_the_source_does_not_report_them(sqs: Any) -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}

    poller(sqs, handler, report_item_failures=False).poll_once()
    assert remaining(sqs) == []


@pytest.mark.integration
def test_a_batch_whose_handler_raises_stays_in_the_queue(sqs: Any) -> None:
    def handler(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("boom")

    poller(sqs, handler).poll_once()
    assert remaining(sqs) == ["one", "three", "two"]


@pytest.mark.e2e
@pytest.mark.xdist_group("stack")
def test_scheduled_handler_runs_on_demand(stack: Stack) -> None:
    schedules = stack.status()["handlers"]["schedules"]
    name = "expire_stale_uploads"
    assert name in [s["handler"] for s in schedules]
    response = requests.post(f"{stack.base_url}/dev/schedules/{name}", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"handler": name, "ran": True}


@pytest.mark.e2e
@pytest.mark.xdist_group("stack")
def test_the_stack_polls_the_s3_events_queue_for_the_app(stack: Stack) -> None:
    queues = stack.status()["handlers"]["queues"]
    assert "s3_events" in [q["handler"] for q in queues]


@pytest.mark.e2e
@pytest.mark.xdist_group("stack")
def test_the_stack_runs_the_fanout_workers_on_the_fifo_queue_in_parallel(stack: Stack) -> None:
    # Lambda runs a FIFO queue's message groups concurrently, up to the
    # function's reserved concurrency; the stack runs several pollers (capped).
    status = stack.status()
    assert {"handler": "fanout_worker", "queue": "FanoutQueue.fifo"} in status["handlers"]["queues"]
    pollers = [p for p in status["pollers"] if p["queue"] == "FanoutQueue.fifo"]
    assert len(pollers) > 1
    assert all(p["url"] for p in pollers)


@pytest.mark.e2e
@pytest.mark.xdist_group("stack")
def test_unknown_scheduled_handler_is_404(stack: Stack) -> None:
    response = requests.post(f"{stack.base_url}/dev/schedules/nothing", timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
