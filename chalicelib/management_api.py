"""API Gateway's @connections management API: post one message to one connection.

A fan-out posts the same event to every connection of a channel, and in Lambda
that is bound by the CPU each post costs under the GIL, not by the network. The
boto3 `apigatewaymanagementapi` client spends about as much CPU on its per-call
pipeline (endpoint rules, event hooks, serialisation, response parsing) as on
the signing and the HTTP exchange themselves, so the hot path here signs with
botocore's SigV4 signer and posts over keep-alive HTTP connections, one per
fan-out thread: 1,000 posts take about half the time (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import http.client
import random
import ssl
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from chalicelib.broadcast import DeliveryError, DeliveryThrottled

if TYPE_CHECKING:
    from botocore.credentials import Credentials

GONE = 410
THROTTLED = 429


class Transport(Protocol):
    def post(self, connection_id: str, payload: bytes) -> int:
        """POST `payload` to @connections/{connection_id}; the HTTP status.
        Raises DeliveryError when no answer came back."""
        ...


class SignedHttpTransport:
    """@connections over keep-alive HTTP(S), each request signed with SigV4."""

    def __init__(
        self,
        endpoint: str,
        region: str,
        credentials: Credentials,
        *,
        timeout: float = 5.0,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {endpoint!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._base = parts.path.rstrip("/")
        self._region = region
        self._credentials = credentials
        self._timeout = timeout
        self._tls = ssl.create_default_context() if self._https else None
        self._local = threading.local()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it has been used before."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        if self._https:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._tls
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        self._local.conn = conn
        return conn, False

    def _drop(self, conn: http.client.HTTPConnection) -> None:
        conn.close()
        self._local.conn = None

    def post(self, connection_id: str, payload: bytes) -> int:
        # The id goes into the path percent-encoded with nothing left safe, as
        # boto3's client does; SigV4 then signs that path.
        path = f"{self._base}/@connections/{quote(connection_id, safe='')}"
        request = AWSRequest(method="POST", url=self._origin + path, data=payload)
        # Frozen per request: refreshable credentials (a role's) rotate under us.
        SigV4Auth(self._credentials.get_frozen_credentials(), "execute-api", self._region).add_auth(
            request
        )
        headers = dict(request.headers.items())
        for attempt in range(2):
            conn, reused = self._connection()
            try:
                conn.request("POST", path, body=payload, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop(conn)
                # A kept-alive connection the server has since closed fails on
                # reuse: one retry on a fresh connection, never more.
                if reused and attempt == 0:
                    continue
                raise DeliveryError(f"no answer from @connections: {exc}") from None
            if response.will_close:
                self._drop(conn)
            return response.status
        raise AssertionError("unreachable")  # pragma: no cover


class ConnectionsApi:
    """Post one message to one connection, with the API's answers made meaningful:
    True once delivered, False when the connection is gone (410), throttling
    (429) retried with full jitter a bounded number of times."""

    def __init__(
        self,
        transport: Transport,
        *,
        attempts: int = 4,
        base_delay: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._transport = transport
        self._attempts = attempts
        self._base_delay = base_delay
        self._sleep = sleep

    def post(self, connection_id: str, payload: bytes) -> bool:
        for attempt in range(self._attempts):
            status = self._transport.post(connection_id, payload)
            if 200 <= status < 300:
                return True
            if status == GONE:
                return False
            if status == THROTTLED and attempt + 1 == self._attempts:
                raise DeliveryThrottled(f"@connections answered {status} {self._attempts} times")
            if status != THROTTLED:
                raise DeliveryError(f"@connections answered {status}")
            # Full jitter: concurrent workers throttled together must not
            # retry in lockstep.
            self._sleep(random.uniform(0, self._base_delay * 2**attempt))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover


class PostBudget:
    """A token bucket of `rate` posts a second shared by the container's
    threads (reservations: each taker learns its slot under the lock and
    sleeps outside it). After a pause up to `burst` seconds of posts go at
    once: a worker between two shards (a delete and a receive) makes up that
    gap instead of losing it, and over any window the rate stays within
    `burst` seconds' worth of `rate`."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1 / rate
        # How far behind the clock the next slot may lag.
        self._slack = burst
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0

    def take(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(self._next, now - self._slack)
            self._next = slot + self._interval
            wait = slot - now
            if wait > 0:
                self.waited += wait
        if wait > 0:
            self._sleep(wait)


class BudgetedTransport:
    """A @connections transport whose every request waits for the budget."""

    def __init__(self, transport: Transport, budget: PostBudget) -> None:
        self._transport = transport
        self._budget = budget

    def post(self, connection_id: str, payload: bytes) -> int:
        self._budget.take()
        return self._transport.post(connection_id, payload)
