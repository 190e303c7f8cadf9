"""moto's server, with DynamoDB requests taken one at a time, DynamoDB throttling
on demand, moto's differences from AWS fixed (devstack/moto_fixes.py), and the
S3 front (devstack/s3front.py) before it.

moto's DynamoDB is not safe for concurrent requests: a transaction deep-copies
tables that other request threads are changing (RuntimeError, a 500), and a
conditional write checks and writes without a lock, so two racing writers can
both win. Real DynamoDB is linearizable per item, and the app's idempotency rests
on that; serializing DynamoDB calls gives the local stack the same guarantee.
Stream reads take the same turn, so one never lands inside a transaction;
devstack/moto_fixes.py has the rest of what moto does unlike AWS.
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

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from devstack.faults import Faults
from devstack.moto_fixes import apply_moto_fixes
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
        apply_moto_fixes()

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
