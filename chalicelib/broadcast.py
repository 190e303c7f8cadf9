"""Sending events to a channel's connections: the fan-out.

deliver(copies): every connection subscribed to each copy's channel (one index
query) gets the copy, posted in parallel through our own @connections client
(chalicelib/management_api.py). Durable copies reach it from the outbox's
delivery (chalicelib/delivery.py), numbered and recorded for replay already;
transient ones (upload progress) straight from the publisher.

Why not Chalice's `app.websocket_api.send`: it is configured only inside a
WebSocket handler (the REST and SQS Lambdas publish too), it posts one message
at a time, and its client keeps botocore's default pool of 10 connections. Here
the client and the thread pool are built once per Lambda container, with one
kept-alive connection per thread, so no post waits for a connection or reopens
TLS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from threading import Lock
from typing import Protocol, TypeVar

from chalicelib.errors import DomainError
from chalicelib.events import Envelope
from chalicelib.logging import logger

T = TypeVar("T")


class DeliveryError(Exception):
    """A post failed for a reason other than a gone connection (after retries)."""


class DeliveryThrottled(DeliveryError):
    """@connections still answered 429 after every retry: over the account's rate."""


class ConnectionPoster(Protocol):
    """Posts one message to one connection: True once delivered, False when the
    connection is gone, DeliveryError otherwise (chalicelib/management_api.py)."""

    def post(self, connection_id: str, payload: bytes) -> bool: ...


class ChannelConnections(Protocol):
    """Who is subscribed to a channel (chalicelib/store/connections.py)."""

    def connections_on(self, channel: str) -> list[str]: ...
    def remove(self, connection_id: str) -> None: ...


class Counters(Protocol):
    """Operator metrics (chalicelib/metrics.py's EmfMetrics)."""

    def count(self, name: str, value: float = 1, unit: str = "Count") -> None: ...


@dataclass
class FanOutReport:
    """Each post's outcome; `failed` includes the `throttled` ones."""

    delivered: int = 0
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    throttled: list[str] = field(default_factory=list)


class FanOut:
    """Posts many messages in parallel on a bounded pool built once per container."""

    def __init__(self, api: ConnectionPoster, workers: int) -> None:
        self._api = api
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._lock = Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="fanout")
            return self._pool

    def run(self, fn: Callable[[T], object], items: Sequence[T]) -> None:
        """Run `fn` over `items` on the pool and wait for all of them; one item
        runs inline, where a thread hand-off would only add latency."""
        if len(items) <= 1:
            for item in items:
                fn(item)
            return
        # Each item in a copy of the caller's context: its log lines keep the
        # invocation's correlation id (chalicelib/correlation.py), which lives
        # in a context variable that pool threads do not inherit.
        runs = [(copy_context(), item) for item in items]
        for _ in self._executor().map(lambda run: run[0].run(fn, run[1]), runs):
            pass

    def send(self, deliveries: Sequence[tuple[str, bytes]]) -> FanOutReport:
        report = FanOutReport()
        lock = Lock()

        def deliver(delivery: tuple[str, bytes]) -> None:
            connection_id, payload = delivery
            try:
                delivered = self._api.post(connection_id, payload)
            except DeliveryError as exc:
                logger.warning(
                    "post to connection failed", connection_id=connection_id, error=str(exc)
                )
                with lock:
                    report.failed.append(connection_id)
                    if isinstance(exc, DeliveryThrottled):
                        report.throttled.append(connection_id)
                return
            with lock:
                if delivered:
                    report.delivered += 1
                else:
                    report.gone.append(connection_id)

        self.run(deliver, deliveries)
        return report

    def send_in_order(self, connection_id: str, payloads: Sequence[bytes]) -> bool:
        """Post messages to one connection one after another, so they arrive in
        this order; False (and stop) once the connection is gone."""
        for payload in payloads:
            try:
                if not self._api.post(connection_id, payload):
                    return False
            except DeliveryError as exc:
                # The rest would arrive with a hole in their order: stop here.
                # The connection stays; its next subscribe with `since` replays.
                logger.warning(
                    "reply to connection failed", connection_id=connection_id, error=str(exc)
                )
                return True
        return True


def encode(envelope: Envelope, max_bytes: int) -> bytes:
    """The message for one envelope. One too large for API Gateway's WebSocket
    frame limit goes without `data`: its `resources` tell the client what to refetch."""
    payload = envelope.to_json().encode()
    if len(payload) > max_bytes:
        payload = envelope.without_data().to_json().encode()
    return payload


def forget_gone(connections: ChannelConnections, connection_id: str) -> None:
    """Delete a connection API Gateway reported gone, with its subscriptions.
    Failing here only leaves items the TTL removes later, so it is logged and
    never fails the delivery that found the connection gone."""
    try:
        connections.remove(connection_id)
    except DomainError as err:
        logger.warning(
            "could not forget a gone connection", connection_id=connection_id, error=str(err)
        )


def count_outcome(metrics: Counters, report: FanOutReport, gone: int) -> None:
    """A fan-out's outcome as the operator metrics the dashboard and the
    fan-out alarms read (docs/OPERATIONS.md#fan-out-failures): a post is
    delivered, gone, or failed; FanoutFailed excludes the throttled ones,
    which FanoutThrottled counts apart."""
    throttled = len(report.throttled)
    for name, value in (
        ("FanoutDelivered", report.delivered),
        ("FanoutGone", gone),
        ("FanoutThrottled", throttled),
        ("FanoutFailed", len(report.failed) - throttled),
    ):
        if value:
            metrics.count(name, value)


class ChannelDelivery(Protocol):
    """The last step of every event: its copies, each stamped with its channel
    (and seq, when durable), go to that channel's connections. Never raises for
    a connection that failed: what was durable is in the event log for replay."""

    def deliver(self, copies: Sequence[Envelope]) -> None: ...


class BroadcastDelivery:
    """ChannelDelivery over API Gateway's @connections API, from one Lambda."""

    def __init__(
        self,
        connections: ChannelConnections,
        fanout: FanOut,
        *,
        max_message_bytes: int,
        metrics: Counters | None = None,
    ) -> None:
        self._connections = connections
        self._fanout = fanout
        self._max_bytes = max_message_bytes
        self._metrics = metrics

    def deliver(self, copies: Sequence[Envelope]) -> None:
        self.send([(copy, self.connections_of(copy)) for copy in copies])

    def connections_of(self, copy: Envelope) -> list[str]:
        """The connections subscribed to the copy's channel, every page of them;
        none when the table fails (never raises)."""
        assert copy.channel is not None
        try:
            return self._connections.connections_on(copy.channel)
        except DomainError as err:
            # A durable event is numbered and kept: subscribers replay it on
            # their next subscribe. A progress report is superseded by the next.
            logger.warning("could not find the channel's connections", error=str(err))
            return []

    def send(self, targets: Sequence[tuple[Envelope, list[str]]]) -> None:
        """Post each copy to its connections, all in parallel, and forget the
        connections API Gateway reports gone."""
        copies = [copy for copy, _ in targets]
        deliveries: list[tuple[str, bytes]] = []
        # A connection on two of a transient event's channels (the uploader,
        # on its user and its course channel) gets it once: the copies differ
        # only in `channel`, and a transient one has no seq to keep in step.
        # A durable copy is always sent: its channel's seq must not skip.
        sent: set[tuple[str, str]] = set()
        for copy, connection_ids in targets:
            if copy.seq is None:
                connection_ids = [c for c in connection_ids if (copy.id, c) not in sent]
                sent.update((copy.id, c) for c in connection_ids)
            if not connection_ids:
                continue
            payload = encode(copy, self._max_bytes)
            deliveries.extend((connection_id, payload) for connection_id in connection_ids)
        report = self._fanout.send(deliveries)
        gone = sorted(set(report.gone))
        if gone:
            self.forget(gone)
        # Progress alone is sent up to 4 times a second per upload: a clean
        # delivery is debug noise, one that lost deliveries is worth a line.
        log = logger.warning if report.failed else logger.info if gone else logger.debug
        if self._metrics is not None and deliveries:
            self._count(report, len(gone))
        first = copies[0] if copies else None
        log(
            "published",
            event_type=first.type if first else None,
            event_id=first.id if first else None,
            channels=len({copy.channel for copy in copies}),
            delivered=report.delivered,
            gone=len(gone),
            failed=len(report.failed),
            throttled=len(report.throttled),
        )

    def _count(self, report: FanOutReport, gone: int) -> None:
        assert self._metrics is not None
        count_outcome(self._metrics, report, gone)

    def forget(self, connection_ids: Sequence[str]) -> None:
        self._fanout.run(lambda cid: forget_gone(self._connections, cid), connection_ids)
