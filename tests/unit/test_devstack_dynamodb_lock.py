"""The local stack's DynamoDB is as consistent as DynamoDB: moto handles one
DynamoDB request at a time, and a stream read waits for a write in flight, so
the outbox's stream never shows a transaction that moto later rolls back
(whose records would take the sequence numbers of real ones)."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable
from typing import Any

import pytest

from devstack.aws import SerializeDynamoDB

WRITE = "DynamoDB_20120810.TransactWriteItems"


class SlowBackend:
    """A WSGI app that holds the first request until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.seen: list[str] = []
        self._first = True

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        self.seen.append(f"start {target}")
        if self._first:
            self._first = False
            self.started.set()
            self.release.wait(5)
        self.seen.append(f"end {target}")
        start_response("200 OK", [])
        return [b"{}"]


def _request(app: Any, target: str) -> None:
    environ = {"HTTP_X_AMZ_TARGET": target, "wsgi.input": io.BytesIO(b"{}")}
    list(app(environ, lambda status, headers: None))


@pytest.mark.parametrize(
    "second",
    ["DynamoDBStreams_20120810.GetRecords", "DynamoDB_20120810.Query"],
)
def test_a_dynamodb_or_stream_request_waits_for_the_write_in_flight(second: str) -> None:
    backend = SlowBackend()
    app = SerializeDynamoDB(backend)
    writer = threading.Thread(target=_request, args=(app, WRITE))
    writer.start()
    assert backend.started.wait(5)
    reader = threading.Thread(target=_request, args=(app, second))
    reader.start()
    reader.join(0.3)
    assert reader.is_alive()  # still waiting for the write's turn to end
    backend.release.set()
    writer.join(5)
    reader.join(5)
    assert backend.seen == [f"start {WRITE}", f"end {WRITE}", f"start {second}", f"end {second}"]


def test_sqs_and_s3_requests_do_not_wait() -> None:
    backend = SlowBackend()
    app = SerializeDynamoDB(backend)
    writer = threading.Thread(target=_request, args=(app, WRITE))
    writer.start()
    assert backend.started.wait(5)
    _request(app, "AmazonSQS.ReceiveMessage")
    assert backend.seen[-1] == "end AmazonSQS.ReceiveMessage"
    backend.release.set()
    writer.join(5)
