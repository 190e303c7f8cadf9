"""moto's server, with DynamoDB requests taken one at a time, DynamoDB throttling
on demand, one S3 notification per completed multipart upload, and the S3 front
(devstack/s3front.py) before it.

moto's DynamoDB is not safe for concurrent requests: a transaction deep-copies
tables that other request threads are changing (RuntimeError, a 500), and a
conditional write checks and writes without a lock, so two racing writers can
both win. Real DynamoDB is linearizable per item, and the app's idempotency rests
on that; serializing DynamoDB calls gives the local stack the same guarantee.
A DynamoDB stream shows only committed writes; moto's did not. It applies a
transaction item by item, each adding its stream record, and when a later
item's condition fails it rolls back by replacing the table (stream included)
with a copy taken before. So stream reads take their turn with the writes, and
a shard iterator reads the current table's shard, never the discarded one
(`stream_reads_see_only_committed_writes`): otherwise the outbox's stream pump
read records of writes that never happened, and its checkpoint then skipped
the real records that took their sequence numbers (events lost under
concurrent writers, found by the chaos suite).
S3 and SQS stay concurrent: parallel part uploads and SQS long polls must not wait
on each other.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from moto.dynamodbstreams.models import ShardIterator
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import S3Backend
from werkzeug.serving import make_server

from devstack.faults import Faults
from devstack.s3front import S3Front

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


# The JSON protocol's X-Amz-Target names the service: DynamoDB's and its streams'.
SERIALIZED_TARGETS = ("DynamoDB_", "DynamoDBStreams_")


class SerializeDynamoDB:
    """WSGI middleware: one DynamoDB or DynamoDB Streams request at a time."""

    def __init__(self, app: WSGIApplication) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(SERIALIZED_TARGETS):
            return self._app(environ, start_response)
        with self._lock:
            # Consume the body inside the lock: the response is built lazily otherwise.
            return list(self._app(environ, start_response))


# The data-plane calls DynamoDB throttles; the control plane (CreateTable...) is
# never throttled here, so provisioning cannot fail on a fault meant for the app.
THROTTLED_OPERATIONS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
}


def tables_of(operation: str, request: dict[str, Any]) -> set[str]:
    """The tables one DynamoDB request touches."""
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return {str(t) for t in (request.get("RequestItems") or {})}
    if operation in ("TransactGetItems", "TransactWriteItems"):
        found = set()
        for item in request.get("TransactItems") or []:
            for action in (item or {}).values():
                if isinstance(action, dict) and action.get("TableName"):
                    found.add(str(action["TableName"]))
        return found
    return {str(request["TableName"])} if request.get("TableName") else set()


class ThrottleDynamoDB:
    """WSGI middleware: a chosen fraction of a table's calls answer what DynamoDB
    answers past its capacity (400 ProvisionedThroughputExceededException), which
    the SDK retries with backoff, as it does against AWS."""

    def __init__(self, app: WSGIApplication, faults: Faults) -> None:
        self._app = app
        self._faults = faults

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        operation = target.partition(".")[2]
        if not target.startswith("DynamoDB_") or operation not in THROTTLED_OPERATIONS:
            return self._app(environ, start_response)
        if not self._faults.settings.dynamodb_throttled:
            return self._app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return self._app(environ, start_response)
        if not isinstance(request, dict) or not self._faults.dynamodb_throttled(
            tables_of(operation, request)
        ):
            return self._app(environ, start_response)
        answer = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "message": "The level of configured provisioned throughput for the table was "
                "exceeded. Consider increasing your provisioning level with the UpdateTable API.",
            }
        ).encode()
        start_response(
            "400 Bad Request",
            [
                ("Content-Type", "application/x-amz-json-1.0"),
                ("Content-Length", str(len(answer))),
                ("x-amzn-RequestId", uuid.uuid4().hex),
            ],
        )
        return [answer]


def stream_reads_see_only_committed_writes() -> None:
    """A shard iterator reads the table's stream as it is now.

    moto rolls a failed transaction back by replacing the table with a copy
    taken before it, stream included; an iterator made earlier keeps the
    discarded shard, which holds the records of the writes that were rolled
    back. The outbox's stream pump got such an iterator, then read records of a
    transaction that never committed, and its checkpoint skipped the real ones
    that took their sequence numbers. (SerializeDynamoDB keeps a read from
    landing in the middle of a transaction.) Idempotent."""
    if getattr(ShardIterator.get, "_reads_current_shard", False):
        return
    get = ShardIterator.get

    def current_get(self: ShardIterator, limit: int = 1000) -> dict[str, Any]:
        table = self.streams_backend.dynamodb.get_table(self.stream_shard.table.name)
        if table.stream_shard is not None:
            self.stream_shard = table.stream_shard
        return get(self, limit)

    current_get._reads_current_shard = True  # type: ignore[attr-defined]
    ShardIterator.get = current_get  # type: ignore[method-assign]


_completing = threading.local()


def one_event_per_multipart_completion() -> None:
    """S3 notifies `ObjectCreated:CompleteMultipartUpload` once when it assembles
    an upload; moto (5.2) also sends `ObjectCreated:Put` for the object it stores
    on the way, so every upload reached the app's handler twice, the second time
    as "object event for a closed upload". Duplicates are the fault injector's
    job (`--fault-duplicate-events`), not moto's: inside a completion, the put is
    told not to notify. Idempotent, so every MotoServer may call it."""
    if getattr(S3Backend.put_object, "_one_event_per_completion", False):
        return
    put_object = S3Backend.put_object
    complete = S3Backend.complete_multipart_upload

    def quiet_put_object(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        if getattr(_completing, "active", False):
            kwargs["disable_notification"] = True
        return put_object(self, *args, **kwargs)

    def complete_multipart_upload(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        _completing.active = True
        try:
            return complete(self, *args, **kwargs)
        finally:
            _completing.active = False

    quiet_put_object._one_event_per_completion = True  # type: ignore[attr-defined]
    S3Backend.put_object = quiet_put_object  # type: ignore[method-assign]
    S3Backend.complete_multipart_upload = complete_multipart_upload  # type: ignore[method-assign]


class MotoServer(ThreadedMotoServer):
    def __init__(
        self,
        ip_address: str,
        port: int,
        *,
        faults: Faults | None = None,
        front: dict[str, Any] | None = None,
    ) -> None:
        """`front`: S3Front's keyword arguments (credentials, region, buckets);
        without it, S3 requests reach moto unchecked (as in plain moto)."""
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self._faults = faults or Faults()
        self._front = front
        one_event_per_multipart_completion()
        stream_reads_see_only_committed_writes()

    def _server_entry(self) -> None:
        app: Any = ThrottleDynamoDB(
            SerializeDynamoDB(DomainDispatcherApplication(create_backend_app)), self._faults
        )
        if self._front is not None:
            app = S3Front(app, faults=self._faults, **self._front)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
