"""moto's server, with DynamoDB requests taken one at a time.

moto's DynamoDB is not safe for concurrent requests: a transaction deep-copies
tables that other request threads are changing (RuntimeError, a 500), and a
conditional write checks and writes without a lock, so two racing writers can
both win. Real DynamoDB is linearizable per item, and the app's idempotency rests
on that; serializing DynamoDB calls gives the local stack the same guarantee.
S3 and SQS stay concurrent: parallel part uploads and SQS long polls must not wait
on each other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class SerializeDynamoDB:
    """WSGI middleware: one DynamoDB request at a time (the JSON protocol's
    X-Amz-Target names the service)."""

    def __init__(self, app: WSGIApplication) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._lock:
            # Consume the body inside the lock: the response is built lazily otherwise.
            return list(self._app(environ, start_response))


class MotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        app: Any = SerializeDynamoDB(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
