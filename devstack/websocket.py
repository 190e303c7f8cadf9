"""API Gateway's WebSocket API: the socket at /ws and the @connections management API.

Connect, each message and disconnect become API Gateway WebSocket events for the
app's `$connect`, `$default` and `$disconnect` handlers, run in the worker pool.
The handlers answer through the @connections API over HTTP, exactly as in AWS, so
a post lands on this event loop and goes out on the real socket.

What API Gateway does and this mirrors: a `$connect` answer outside 2xx refuses
the handshake with that status; only established connections can be posted to;
a closed or unknown id is 410 GoneException; a message over 128 KB is refused;
a connection idle for 10 minutes, or open for 2 hours, is closed with 1001.

On demand (devstack/faults.py) it also fails as API Gateway does on a bad day: a
chosen fraction of connections vanish (the first post to one answers 410 and
its socket is closed with 1001, as when a client's network goes), posts are
throttled (429 LimitExceededException) or answered slowly.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket

from devstack.faults import Faults
from devstack.handlers import CONNECT, DISCONNECT, MESSAGE, AppHandlers, LambdaHandler

log = logging.getLogger("devstack.websocket")

STAGE = "ws"
WS_API_ID = "devstackws"
MAX_MESSAGE_BYTES = 128 * 1024
# A post waits this long for a socket whose client does not read; API Gateway
# answers LimitExceededException when the client's buffer is full.
SEND_TIMEOUT_SECONDS = 5.0

Invoke = Callable[[LambdaHandler, dict[str, Any], str], Awaitable[Any]]


def new_connection_id() -> str:
    # API Gateway's ids are 16 characters of base64 ending in '='.
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def _millis(ts: float) -> int:
    return int(ts * 1000)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Connection:
    id: str
    socket: WebSocket
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closing: bool = False
    # Chosen to vanish by the fault injector: its next post finds it gone.
    doomed: bool = False
    close_code: int | None = None
    close_reason: str = ""


def _gone() -> Response:
    return _aws_error(410, "GoneException", None)


def _aws_error(status: int, error_type: str, message: str | None) -> Response:
    # botocore reads the error code from x-amzn-ErrorType, so the client raises
    # e.g. `client.exceptions.GoneException` as it does against API Gateway.
    return JSONResponse(
        {"message": message},
        status_code=status,
        headers={"x-amzn-ErrorType": error_type, "x-amzn-RequestId": str(uuid.uuid4())},
    )


def _status_of(result: Any) -> tuple[int, Any]:
    if isinstance(result, dict):
        return int(result.get("statusCode", 200)), result.get("body")
    return 200, None


class WebSocketGateway:
    def __init__(
        self,
        handlers: AppHandlers,
        invoke: Invoke,
        domain_name: str,
        idle_seconds: float = 600.0,
        max_seconds: float = 7200.0,
        faults: Faults | None = None,
    ) -> None:
        self._handlers = handlers
        self._faults = faults or Faults()
        self._invoke = invoke
        self._domain_name = domain_name
        self._idle = idle_seconds
        self._max = max_seconds
        self.connections: dict[str, Connection] = {}

    # ---- events ------------------------------------------------------------
    def _context(self, conn: Connection, route_key: str, event_type: str) -> dict[str, Any]:
        now = time.time()
        request_id = str(uuid.uuid4())
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "messageDirection": "IN",
            "stage": STAGE,
            "connectedAt": _millis(conn.connected_at),
            "requestTimeEpoch": _millis(now),
            "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
            "requestId": request_id,
            "domainName": self._domain_name,
            "connectionId": conn.id,
            "apiId": WS_API_ID,
        }

    def connect_event(self, conn: Connection) -> dict[str, Any]:
        ws = conn.socket
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in ws.headers.items():
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        event: dict[str, Any] = {
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "requestContext": self._context(conn, CONNECT, "CONNECT"),
            "isBase64Encoded": False,
        }
        query = ws.query_params
        if query:
            event["queryStringParameters"] = dict(query.items())
            event["multiValueQueryStringParameters"] = {k: query.getlist(k) for k in dict(query)}
        return event

    def message_event(
        self, conn: Connection, text: str | None, data: bytes | None
    ) -> dict[str, Any]:
        context = self._context(conn, MESSAGE, "MESSAGE")
        context["messageId"] = base64.urlsafe_b64encode(os.urandom(6)).decode()
        if text is not None:
            return {"requestContext": context, "body": text, "isBase64Encoded": False}
        return {
            "requestContext": context,
            "body": base64.b64encode(data or b"").decode("ascii"),
            "isBase64Encoded": True,
        }

    def disconnect_event(self, conn: Connection, code: int, reason: str) -> dict[str, Any]:
        context = self._context(conn, DISCONNECT, "DISCONNECT")
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = reason
        return {"requestContext": context, "isBase64Encoded": False}

    # ---- the socket --------------------------------------------------------
    async def endpoint(self, ws: WebSocket) -> None:
        client = ws.client
        conn = Connection(
            id=new_connection_id(),
            socket=ws,
            source_ip=client.host if client else "127.0.0.1",
            user_agent=ws.headers.get("user-agent", ""),
        )
        if not await self._connect(conn):
            return
        await ws.accept()
        conn.doomed = self._faults.connection_gone()
        self.connections[conn.id] = conn
        watchdog = asyncio.create_task(self._watchdog(conn))
        code, reason = 1005, ""
        try:
            code, reason = await self._pump(conn)
        finally:
            watchdog.cancel()
            self.connections.pop(conn.id, None)
            if conn.close_code is not None:
                code, reason = conn.close_code, conn.close_reason
            await self._disconnect(conn, code, reason)

    async def _connect(self, conn: Connection) -> bool:
        handler = self._handlers.websocket(CONNECT)
        if handler is None:
            return True  # API Gateway without a $connect route accepts every connection
        try:
            result = await self._invoke(handler, self.connect_event(conn), CONNECT)
        except Exception:
            log.exception("$connect handler failed")
            await self._deny(conn.socket, 500, json.dumps({"message": "Internal server error"}))
            return False
        status, body = _status_of(result)
        if 200 <= status < 300:
            return True
        await self._deny(conn.socket, status, body)
        return False

    async def _deny(self, ws: WebSocket, status: int, body: Any) -> None:
        if body is not None and not isinstance(body, str | bytes):
            body = json.dumps(body)
        response = Response(body or b"", status_code=status, media_type="application/json")
        try:
            await ws.send_denial_response(response)
        except RuntimeError:
            # Servers without the denial-response extension refuse with a plain 403.
            with contextlib.suppress(Exception):
                await ws.close(code=1008)
        except OSError:
            pass  # the client left while $connect ran

    async def _pump(self, conn: Connection) -> tuple[int, str]:
        handler_missing_logged = False
        while True:
            message = await conn.socket.receive()
            if message["type"] == "websocket.disconnect":
                return int(message.get("code") or 1005), str(message.get("reason") or "")
            conn.last_active_at = time.time()
            text, data = message.get("text"), message.get("bytes")
            handler = self._handlers.websocket(MESSAGE)
            event = self.message_event(conn, text, data)
            if handler is None:
                if not handler_missing_logged:
                    log.warning("the app has no $default WebSocket handler")
                    handler_missing_logged = True
                await self._reply_error(conn, "Forbidden", event)
                continue
            # One message at a time per connection keeps replies in the order the
            # client asked; API Gateway gives no such promise, so clients must not rely on it.
            try:
                await self._invoke(handler, event, MESSAGE)
            except Exception:
                log.exception("$default handler failed")
                await self._reply_error(conn, "Internal server error", event)

    async def _reply_error(self, conn: Connection, message: str, event: dict[str, Any]) -> None:
        context = event["requestContext"]
        payload = {
            "message": message,
            "connectionId": conn.id,
            "requestId": context["requestId"],
        }
        with contextlib.suppress(Exception):
            await self._send(conn, json.dumps(payload).encode())

    async def _disconnect(self, conn: Connection, code: int, reason: str) -> None:
        handler = self._handlers.websocket(DISCONNECT)
        if handler is None:
            return
        try:
            await self._invoke(handler, self.disconnect_event(conn, code, reason), DISCONNECT)
        except Exception:
            log.exception("$disconnect handler failed")

    async def _watchdog(self, conn: Connection) -> None:
        while True:
            deadline = min(conn.last_active_at + self._idle, conn.connected_at + self._max)
            remaining = deadline - time.time()
            if remaining <= 0:
                await self.close(conn, 1001, "Going away")
                return
            await asyncio.sleep(remaining)

    async def close(self, conn: Connection, code: int, reason: str) -> None:
        if conn.closing:
            return
        conn.closing = True
        conn.close_code, conn.close_reason = code, reason
        with contextlib.suppress(Exception):
            await conn.socket.close(code=code, reason=reason)

    async def _send(self, conn: Connection, data: bytes) -> None:
        async with conn.send_lock:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                await asyncio.wait_for(conn.socket.send_bytes(data), SEND_TIMEOUT_SECONDS)
            else:
                await asyncio.wait_for(conn.socket.send_text(text), SEND_TIMEOUT_SECONDS)

    def describe(self) -> list[dict[str, Any]]:
        """GET /dev/connections: the open connections, for debugging and tests."""
        return [
            {
                "connectionId": c.id,
                "connectedAt": _iso(c.connected_at),
                "lastActiveAt": _iso(c.last_active_at),
                "sourceIp": c.source_ip,
                "userAgent": c.user_agent,
            }
            for c in self.connections.values()
            if not c.closing
        ]

    # ---- the @connections API ----------------------------------------------
    def _live(self, request: Request) -> Connection | None:
        conn = self.connections.get(request.path_params["connection_id"])
        return None if conn is None or conn.closing else conn

    async def post_to_connection(self, request: Request) -> Response:
        delay = self._faults.settings.connections_delay_seconds
        if delay:
            await asyncio.sleep(delay)
        conn = self._live(request)
        if conn is None:
            return _gone()
        if conn.doomed:
            await self.close(conn, 1001, "Going away")
            return _gone()
        if self._faults.connection_throttled():
            return _aws_error(429, "LimitExceededException", "Rate exceeded")
        data = await request.body()
        if len(data) > MAX_MESSAGE_BYTES:
            return _aws_error(413, "PayloadTooLargeException", "Message too long")
        try:
            await self._send(conn, data)
        except TimeoutError:
            return _aws_error(429, "LimitExceededException", "Client buffer is full")
        except Exception:
            self.connections.pop(conn.id, None)
            return _gone()
        return Response(status_code=200)

    async def get_connection(self, request: Request) -> Response:
        conn = self._live(request)
        if conn is None:
            return _gone()
        return JSONResponse(
            {
                "connectedAt": _iso(conn.connected_at),
                "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
                "lastActiveAt": _iso(conn.last_active_at),
            }
        )

    async def delete_connection(self, request: Request) -> Response:
        conn = self._live(request)
        if conn is None:
            return _gone()
        await self.close(conn, 1000, "")
        return Response(status_code=204)
