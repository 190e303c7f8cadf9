"""One correlation id from the request to the published event's log lines:
the REST request that starts an upload, through the S3 event that SQS brings
(with nothing of ours in it) to the `published` line of upload.completed; a
WebSocket message under the WebSocket API's request id; a queue message under
the id it carries."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import correlation
from chalicelib.logging import logger
from tests.conftest import token_for, use_container
from tests.fakes import FakeClock, FakeConnectionsApi, FakeWebsocketGateway, InMemoryPublisher
from tests.integration.uploads_kit import MIB, Harness, data_of

pytestmark = pytest.mark.integration
SIZE = 5 * MIB + 3


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def take(self) -> list[dict[str, Any]]:
        found, self.lines = self.lines, []
        return found


@pytest.fixture
def lines() -> Iterator[_Lines]:
    """Every JSON line the app logs, DEBUG included, as it would reach CloudWatch."""
    handler = _Lines()
    handler.setFormatter(logger.registered_formatter)
    level = logger.log_level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)  # type: ignore[attr-defined]
        logger.setLevel(level)


def _ids(found: list[dict[str, Any]]) -> set[str]:
    return {str(line.get("correlation_id")) for line in found}


@pytest.fixture
def uploads(aws: dict[str, str]) -> Iterator[Harness]:
    """The upload kit over the real publisher (its `published` lines are the
    point here), posting to a fake @connections API."""
    from chalice.test import Client

    from app import app

    clock = FakeClock(time.time())
    use_container(transport=FakeConnectionsApi(), clock=clock, sleep=clock.advance)
    with Client(app) as client:
        yield Harness(client, InMemoryPublisher(), aws, clock)


def test_an_uploads_completion_logs_under_the_id_of_the_request_that_started_it(
    uploads: Harness, lines: _Lines
) -> None:
    upload = uploads.start("alice", SIZE)
    (started,) = _ids(lines.take())
    assert started.startswith("req_")
    parts = uploads.put_parts("alice", upload, data_of(SIZE))
    status, _ = uploads.call(
        "post", f"/uploads/{upload['operationId']}/complete", "alice", {"parts": parts}
    )
    assert status == 202
    lines.take()
    correlation.adopt("left-over-from-another-invocation")

    assert uploads.deliver(uploads.s3_messages()) == {"batchItemFailures": []}

    handled = lines.take()
    published = [line for line in handled if line["message"] == "published"]
    assert [line["event_type"] for line in published] == ["upload.completed"]
    assert published[0]["correlation_id"] == started
    # moto notifies twice for one multipart completion; the second is a duplicate.
    created = [line for line in handled if line["message"] == "object created"]
    assert created
    assert _ids(created) == {started}


def test_a_websocket_message_logs_under_the_websocket_apis_request_id(
    client: Any, ws_api: FakeConnectionsApi, ws: FakeWebsocketGateway, lines: _Lines
) -> None:
    connection_id, answered = ws.connect(token_for("alice"))
    assert answered == 200
    # The reply cannot be posted, which the handler logs.
    ws_api.throttle(connection_id, times=100)
    lines.take()

    ws.send_json(connection_id, {"action": "subscribe", "channel": "user:alice"})

    failed = [line for line in lines.take() if line["message"] == "reply to connection failed"]
    assert failed
    assert _ids(failed) == {f"req-{connection_id}"}


def test_a_queue_message_logs_under_the_id_it_carries() -> None:
    correlation.adopt("req_the_request")
    attributes = correlation.sqs_attributes()
    assert attributes == {"correlationId": {"DataType": "String", "StringValue": "req_the_request"}}
    # Lambda hands the consumer the attribute in its own spelling.
    record = {
        "messageId": "m1",
        "messageAttributes": {
            "correlationId": {"stringValue": "req_the_request", "dataType": "String"}
        },
    }
    correlation.adopt("another")
    assert correlation.adopt_sqs(record) == "req_the_request"
    assert correlation.current() == "req_the_request"
    assert correlation.adopt_sqs({"messageId": "m2"}) == "sqs_m2"
