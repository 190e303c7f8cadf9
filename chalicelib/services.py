"""The composition root: every client, store and service is built here, once per
Lambda container, and nowhere else.

Handlers call `container()`; tests build a `Container` of their own (or call
`reset()` after changing the environment) so nothing is patched.

Every collaborator's module is imported where it is built, so that a cold
start loads the modules its first request uses: the REST function's first GET
does not define the event classes, the broadcast or the upload lifecycle, and
no function pays for another's (docs/PERFORMANCE.md#cold-start). Their names
are imported for type checking only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextvars import copy_context
from functools import cached_property
from threading import Lock, Thread
from typing import TYPE_CHECKING

import boto3

from chalicelib.auth import Caller, TokenVerifier, bearer_token
from chalicelib.aws_clients import AwsClients, process_session
from chalicelib.clock import Clock, Sleep
from chalicelib.course_features import CourseFeatures
from chalicelib.fanout_features import FanoutFeatures
from chalicelib.media_features import MediaFeatures
from chalicelib.metrics import EmfMetrics
from chalicelib.settings import Settings, get_settings
from chalicelib.upload_features import UploadFeatures

if TYPE_CHECKING:
    from chalicelib.broadcast import ChannelDelivery, Counters, FanOut
    from chalicelib.connection_gate import ConnectionGate
    from chalicelib.courses import CourseService
    from chalicelib.delivery import OutboxConsumer
    from chalicelib.events import Envelope
    from chalicelib.linking import LinkService
    from chalicelib.management_api import ConnectionsApi, Transport
    from chalicelib.media import MediaService
    from chalicelib.progress import ProgressTracker
    from chalicelib.publisher import Publisher
    from chalicelib.realtime import LiveAccess, RealtimeService
    from chalicelib.store.connections import ConnectionStore
    from chalicelib.store.courses import CourseStore
    from chalicelib.store.events import EventLog
    from chalicelib.store.links import LinkStore
    from chalicelib.store.media import MediaStore
    from chalicelib.store.outbox import Outbox
    from chalicelib.uploads.lifecycle import UploadLifecycle


class Container:
    """Everything a handler needs, built on first use and kept for the
    container's life. Each collaborator from outside the process can be
    injected, as Cosmic Python's `bootstrap` takes its dependencies:

    - `session`: the boto3 session every AWS client comes from (a test hooks
      botocore's events on it to make AWS fail);
    - `delivery`: replaces the last step of every event, the send to a
      channel's connections (an in-memory recorder in tests); numbering, the
      outbox and the event log stay real;
    - `clock`, `sleep`: every reading of the time and every wait;
    - `metrics`: the operator counters (CloudWatch EMF by default);
    - `transport`: the HTTP exchange with API Gateway's @connections API (a
      fake that answers 410 and 429 on demand in tests).
    """

    def __init__(
        self,
        settings: Settings,
        session: boto3.session.Session | None = None,
        *,
        delivery: ChannelDelivery | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        metrics: Counters | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self.aws = AwsClients(settings, session or process_session(settings.aws_region), sleep)
        self._delivery = delivery
        self.clock = clock
        self.sleep = sleep
        self.metrics: Counters = metrics if metrics is not None else EmfMetrics()
        self._transport = transport
        self.course_features = CourseFeatures(self)
        self.media_features = MediaFeatures(self)
        self.fanout_features = FanoutFeatures(self)
        self.upload_features = UploadFeatures(self)

    # ---- identity ----------------------------------------------------------
    @cached_property
    def verifier(self) -> TokenVerifier:
        return TokenVerifier(self.settings)

    def caller(self, headers: Mapping[str, str]) -> Caller:
        return self.verifier.verify(bearer_token(headers))

    # ---- courses and media --------------------------------------------------
    @cached_property
    def course_store(self) -> CourseStore:
        from chalicelib.store.courses import CourseStore

        return CourseStore(
            self.aws.table(self.settings.courses_table, "the course store"), self.outbox
        )

    @cached_property
    def courses(self) -> CourseService:
        from chalicelib.courses import CourseService

        return CourseService(self.course_store, revoker=self.live_access, clock=self.clock)

    @cached_property
    def media_store(self) -> MediaStore:
        from chalicelib.store.media import MediaStore

        return MediaStore(self.aws.table(self.settings.media_table, "the media store"))

    @cached_property
    def media(self) -> MediaService:
        from chalicelib.media import MediaService
        from chalicelib.pages import PageTokens, page_token_key
        from chalicelib.store.media import S3Objects

        s = self.settings
        objects = S3Objects(self.aws.s3, s.media_bucket, s.download_url_expiry_seconds)
        tokens = PageTokens(page_token_key(s.page_token_key_source))
        return MediaService(self.media_store, objects, tokens)

    @cached_property
    def link_store(self) -> LinkStore:
        from chalicelib.store.links import LinkStore

        s = self.settings
        return LinkStore(
            self.aws.table(s.courses_table, "the course store"),
            self.aws.table(s.media_table, "the media store"),
            self.outbox,
        )

    @cached_property
    def linker(self) -> LinkService:
        from chalicelib.linking import LinkService

        return LinkService(
            self.courses, self.media_store, self.link_store, clock=self.clock, sleep=self.sleep
        )

    # ---- uploads -----------------------------------------------------------
    @cached_property
    def progress(self) -> ProgressTracker:
        from chalicelib.progress import ProgressPace, ProgressTracker

        return ProgressTracker(
            self.upload_features.upload_store,
            self.publisher,
            ProgressPace(
                self.settings.progress_broadcasts_per_second,
                self.settings.progress_step_percent,
                self.settings.progress_heartbeat_seconds,
            ),
            clock=self.clock,
            metrics=self.metrics,
            wide=self.fanout_features.is_wide,
        )

    @cached_property
    def uploads(self) -> UploadLifecycle:
        from chalicelib.uploads.lifecycle import UploadLifecycle

        return UploadLifecycle(
            store=self.upload_features.upload_store,
            storage=self.upload_features.multipart,
            courses=self.courses,
            announcer=self.media_features.upload_announcer,
            policy=self.upload_features.upload_policy,
            clock=self.clock,
        )

    # ---- realtime ----------------------------------------------------------
    @cached_property
    def publisher(self) -> Publisher:
        from chalicelib.delivery import OutboxPublisher

        return OutboxPublisher(self.outbox, self.delivery)

    @cached_property
    def outbox(self) -> Outbox:
        """Where every durable event is committed, with the write it announces."""
        from chalicelib.store.outbox import Outbox

        s = self.settings
        inline = s.outbox_delivery == "inline"
        return Outbox(
            self.aws.table(s.outbox_table, "the outbox"),
            retention_seconds=s.outbox_retention_hours * 3600,
            clock=self.clock,
            sleep=self.sleep,
            after_commit=self._deliver_inline if inline else None,
        )

    def _deliver_inline(self, copies: Sequence[Envelope]) -> None:
        """OUTBOX_DELIVERY=inline: deliver what was just committed on a thread
        of its own, as the delivery Lambda runs apart (with its own role, which
        tests/aws_calls.py checks), and wait, so the caller returns after its events."""
        deliver = self.outbox_consumer.deliver_after_commit
        # Under the committing request's id, as the stream consumer adopts it.
        worker = Thread(target=copy_context().run, args=(deliver, copies), name="outbox-inline")
        worker.start()
        worker.join()

    @cached_property
    def outbox_consumer(self) -> OutboxConsumer:
        """The `outbox_delivery` Lambda's work: committed events to the event
        log, then to the connections."""
        from chalicelib.delivery import OutboxConsumer
        from chalicelib.store.outbox import copy_from_record

        return OutboxConsumer(self.event_log, self.delivery, copy_from_record, self.metrics)

    @cached_property
    def delivery(self) -> ChannelDelivery:
        if self._delivery is not None:
            return self._delivery
        return self.fanout_features.delivery()

    @cached_property
    def transport(self) -> Transport:
        """The @connections HTTP exchange: SigV4-signed keep-alive HTTP unless injected."""
        return self._transport or self.aws.connections_transport()

    @cached_property
    def connections_api(self) -> ConnectionsApi:
        """Ours: Chalice's `app.websocket_api` exists only in WebSocket handlers."""
        from chalicelib.management_api import ConnectionsApi

        return ConnectionsApi(self.transport, sleep=self.sleep)

    @cached_property
    def fanout(self) -> FanOut:
        from chalicelib.broadcast import FanOut

        return FanOut(self.connections_api, self.settings.broadcast_workers)

    @cached_property
    def connections(self) -> ConnectionStore:
        from chalicelib.store.connections import ConnectionStore

        table = self.aws.table(
            self.settings.connections_table,
            "the connection store",
            code="connection_store_unavailable",
        )
        return ConnectionStore(table, clock=self.clock)

    @cached_property
    def event_log(self) -> EventLog:
        from chalicelib.store.events import EventLog

        table = self.aws.table(
            self.settings.events_table, "the event log", code="event_log_unavailable"
        )
        retention = self.settings.event_retention_hours * 3600
        return EventLog(table, retention_seconds=retention, clock=self.clock)

    @cached_property
    def live_access(self) -> LiveAccess:
        from chalicelib.realtime import LiveAccess

        max_bytes = self.settings.max_ws_message_bytes
        return LiveAccess(self.connections, self.fanout, max_bytes, clock=self.clock)

    @cached_property
    def connection_gate(self) -> ConnectionGate:
        """`$connect` and `$disconnect`: the connection store and the verifier alone."""
        from chalicelib.connection_gate import ConnectionGate

        return ConnectionGate(self.connections, self.verifier)

    @cached_property
    def realtime(self) -> RealtimeService:
        from chalicelib.realtime import RealtimeService

        return RealtimeService(
            connections=self.connections,
            events=self.event_log,
            live=self.live_access,
            verifier=self.verifier,
            memberships=self.courses,
            uploads=self.progress,
            clock=self.clock,
        )


_lock = Lock()
_container: Container | None = None


def container() -> Container:
    global _container
    if _container is None:
        with _lock:
            if _container is None:
                _container = Container(get_settings())
    return _container


def reset(replacement: Container | None = None) -> None:
    """Forget the cached container (tests, after the environment changed)."""
    global _container
    get_settings.cache_clear()
    _container = replacement
