"""The composition root: every client, store and service is built here, once per
Lambda container, and nowhere else.

Handlers call `container()`; tests build a `Container` of their own (or call
`reset()` after changing the environment) so nothing is patched.
"""

from __future__ import annotations

import time
from functools import cache, cached_property
from threading import Lock
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from chalicelib.auth import Caller, TokenVerifier, bearer_token
from chalicelib.broadcast import Counters
from chalicelib.clock import Clock, Sleep
from chalicelib.management_api import Transport
from chalicelib.metrics import EmfMetrics
from chalicelib.settings import Settings, SettingsError, get_settings
from chalicelib.store.dynamo import Table

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

    from chalicelib.broadcast import FanOut
    from chalicelib.courses import CourseService
    from chalicelib.domain.upload_policy import UploadPolicy
    from chalicelib.linking import LinkService
    from chalicelib.management_api import ConnectionsApi
    from chalicelib.media import MediaService
    from chalicelib.progress import ProgressTracker
    from chalicelib.publisher import Publisher
    from chalicelib.realtime import RealtimeService
    from chalicelib.store.connections import ConnectionStore
    from chalicelib.store.courses import CourseStore
    from chalicelib.store.events import EventLog
    from chalicelib.store.links import LinkStore
    from chalicelib.store.media import MediaStore
    from chalicelib.store.multipart import MultipartStorage
    from chalicelib.store.uploads import UploadStore
    from chalicelib.uploads.announce import UploadAnnouncer
    from chalicelib.uploads.completion import S3EventsHandler, UploadCompletion
    from chalicelib.uploads.lifecycle import UploadLifecycle


@cache
def process_session(region: str) -> boto3.session.Session:
    """One boto3 session per process and region. Loading service models is most
    of what creating a client costs, and a session caches them for every client
    it makes: a container rebuilt after `reset()` reuses them."""
    return boto3.session.Session(region_name=region)


class Container:
    """Everything a handler needs, built on first use and kept for the
    container's life. Each collaborator from outside the process can be
    injected, as Cosmic Python's `bootstrap` takes its dependencies:

    - `session`: the boto3 session every AWS client comes from (a test hooks
      botocore's events on it to make AWS fail);
    - `publisher`: replaces the realtime publisher (an in-memory one in tests);
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
        publisher: Publisher | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        metrics: Counters | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self._session = session or process_session(settings.aws_region)
        self._publisher_override = publisher
        self.clock = clock
        self.sleep = sleep
        self.metrics: Counters = metrics if metrics is not None else EmfMetrics()
        self._transport = transport

    # ---- AWS clients -------------------------------------------------------
    @cached_property
    def _aws_config(self) -> Config:
        return Config(
            retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10
        )

    @cached_property
    def ddb(self) -> DynamoDBClient:
        """The one DynamoDB client every store's table goes through
        (chalicelib/store/dynamo.py says why a plain client). Its pool fits the
        fan-out workers that delete gone connections concurrently."""
        config = self._aws_config.merge(
            Config(max_pool_connections=max(10, self.settings.broadcast_workers))
        )
        return self._session.client("dynamodb", config=config)

    def _table(self, name: str, label: str, code: str = "store_unavailable") -> Table:
        return Table(self.ddb, name, label=label, code=code, sleep=self.sleep)

    @cached_property
    def s3(self) -> S3Client:
        # SigV4 and the regional endpoint: boto3's defaults (SigV2, global host)
        # produce URLs that fail or redirect for browsers outside us-east-1.
        s = self.settings
        endpoint = s.s3_endpoint_url or f"https://s3.{s.aws_region}.amazonaws.com"
        config = self._aws_config.merge(
            Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if s.s3_endpoint_url else "virtual"},
            )
        )
        return self._session.client("s3", endpoint_url=endpoint, config=config)

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

        return CourseStore(self._table(self.settings.courses_table, "the course store"))

    @cached_property
    def courses(self) -> CourseService:
        from chalicelib.courses import CourseService

        # A provider, not the service: the realtime service asks this one about
        # memberships (and, through uploads, about chapters), so neither can be
        # built first.
        return CourseService(
            self.course_store, self.publisher, revoker=lambda: self.realtime, clock=self.clock
        )

    @cached_property
    def media_store(self) -> MediaStore:
        from chalicelib.store.media import MediaStore

        return MediaStore(self._table(self.settings.media_table, "the media store"))

    @cached_property
    def media(self) -> MediaService:
        from chalicelib.media import MediaService, PageTokens, page_token_key
        from chalicelib.store.media import S3Objects

        s = self.settings
        objects = S3Objects(self.s3, s.media_bucket, s.download_url_expiry_seconds)
        tokens = PageTokens(page_token_key(s.page_token_key_source))
        return MediaService(self.media_store, objects, tokens)

    @cached_property
    def link_store(self) -> LinkStore:
        from chalicelib.store.links import LinkStore

        s = self.settings
        return LinkStore(
            self._table(s.courses_table, "the course store"),
            self._table(s.media_table, "the media store"),
        )

    @cached_property
    def linker(self) -> LinkService:
        from chalicelib.linking import LinkService

        return LinkService(
            self.courses,
            self.media_store,
            self.link_store,
            self.publisher,
            clock=self.clock,
            sleep=self.sleep,
        )

    # ---- uploads -----------------------------------------------------------
    @cached_property
    def upload_store(self) -> UploadStore:
        from chalicelib.store.uploads import UploadStore

        return UploadStore(self._table(self.settings.uploads_table, "the upload store"))

    @cached_property
    def multipart(self) -> MultipartStorage:
        from chalicelib.store.multipart import MultipartStorage

        s = self.settings
        return MultipartStorage(self.s3, s.media_bucket, s.presign_expiry_seconds)

    @cached_property
    def progress(self) -> ProgressTracker:
        from chalicelib.progress import ProgressTracker

        return ProgressTracker(
            self.upload_store,
            self.publisher,
            self.settings.progress_broadcasts_per_second,
            clock=self.clock,
            metrics=self.metrics,
        )

    @cached_property
    def upload_policy(self) -> UploadPolicy:
        from datetime import timedelta

        from chalicelib.domain.upload_policy import UploadPolicy

        s = self.settings
        return UploadPolicy(
            max_bytes=s.upload_max_bytes,
            allowed_types=s.allowed_types,
            stale_after=timedelta(hours=s.stale_upload_after_hours),
            presign_expiry_seconds=s.presign_expiry_seconds,
        )

    @cached_property
    def upload_announcer(self) -> UploadAnnouncer:
        from chalicelib.uploads.announce import UploadAnnouncer

        return UploadAnnouncer(
            store=self.upload_store,
            publisher=self.publisher,
            linker=self.linker,
            clock=self.clock,
            metrics=self.metrics,
            sleep=self.sleep,
        )

    @cached_property
    def uploads(self) -> UploadLifecycle:
        from chalicelib.uploads.lifecycle import UploadLifecycle

        return UploadLifecycle(
            store=self.upload_store,
            storage=self.multipart,
            courses=self.courses,
            announcer=self.upload_announcer,
            policy=self.upload_policy,
            clock=self.clock,
        )

    @cached_property
    def upload_completion(self) -> UploadCompletion:
        from chalicelib.uploads.completion import UploadCompletion

        return UploadCompletion(
            store=self.upload_store,
            storage=self.multipart,
            media=self.media_store,
            announcer=self.upload_announcer,
            policy=self.upload_policy,
            clock=self.clock,
        )

    @cached_property
    def s3_events(self) -> S3EventsHandler:
        from chalicelib.uploads.completion import S3EventsHandler

        return S3EventsHandler(self.upload_completion)

    # ---- realtime ----------------------------------------------------------
    @cached_property
    def publisher(self) -> Publisher:
        if self._publisher_override is not None:
            return self._publisher_override
        from chalicelib.broadcast import BroadcastPublisher

        return BroadcastPublisher(
            self.event_log,
            self.connections,
            self.fanout,
            max_message_bytes=self.settings.max_ws_message_bytes,
            metrics=self.metrics,
        )

    @cached_property
    def connections_api(self) -> ConnectionsApi:
        """Our own @connections client: Chalice's `app.websocket_api` exists only
        inside WebSocket handlers, and REST and SQS Lambdas publish too."""
        from chalicelib.management_api import ConnectionsApi

        return ConnectionsApi(self.transport, sleep=self.sleep)

    @cached_property
    def transport(self) -> Transport:
        """The @connections HTTP exchange: SigV4-signed keep-alive HTTP unless injected."""
        if self._transport is not None:
            return self._transport
        from chalicelib.management_api import SignedHttpTransport

        credentials = self._session.get_credentials()
        if credentials is None:
            raise SettingsError("no AWS credentials to sign @connections requests with")
        return SignedHttpTransport(
            self.settings.websocket_endpoint, self.settings.aws_region, credentials
        )

    @cached_property
    def fanout(self) -> FanOut:
        from chalicelib.broadcast import FanOut

        return FanOut(self.connections_api, self.settings.broadcast_workers)

    @cached_property
    def connections(self) -> ConnectionStore:
        from chalicelib.store.connections import ConnectionStore

        table = self._table(
            self.settings.connections_table,
            "the connection store",
            code="connection_store_unavailable",
        )
        return ConnectionStore(table, clock=self.clock)

    @cached_property
    def event_log(self) -> EventLog:
        from chalicelib.store.events import EventLog

        table = self._table(
            self.settings.events_table, "the event log", code="event_log_unavailable"
        )
        retention = self.settings.event_retention_hours * 3600
        return EventLog(table, retention_seconds=retention, clock=self.clock)

    @cached_property
    def realtime(self) -> RealtimeService:
        from chalicelib.realtime import RealtimeService

        return RealtimeService(
            connections=self.connections,
            events=self.event_log,
            fanout=self.fanout,
            verifier=self.verifier,
            memberships=self.courses,
            uploads=self.progress,
            max_message_bytes=self.settings.max_ws_message_bytes,
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
