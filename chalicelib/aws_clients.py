"""The AWS clients of one container: every store and adapter reaches AWS
through these, all made from one boto3 session.

The session is the container's to inject: a test hooks botocore's events on it
to make AWS fail (tests/integration/test_aws_failures.py), and
`process_session` shares one per region so a rebuilt container reuses the
service models that are most of what creating a client costs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, cached_property
from threading import Lock
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config

from chalicelib.clock import Sleep
from chalicelib.settings import Settings, SettingsError
from chalicelib.store.dynamo import Table

if TYPE_CHECKING:
    # The boto3 stubs are a dev dependency: the Lambda package has no
    # mypy_boto3_* modules, so they are imported for type checking only.
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from chalicelib.management_api import SignedHttpTransport
    from chalicelib.store.playback_urls import SecretReader


@cache
def process_session(region: str) -> boto3.session.Session:
    """One boto3 session per process and region. Loading service models is most
    of what creating a client costs, and a session caches them for every client
    it makes: a container rebuilt after `reset()` reuses them."""
    return boto3.session.Session(region_name=region)


class OnFirstUse:
    """A client (or a collaborator) that is made on its first use, not when
    what holds it is built. Creating a boto3 client (its service model loaded,
    its handlers registered) costs tens of milliseconds of a cold start, and
    most functions build adapters whose client they never call: GET /media
    builds the S3 adapter but presigns nothing for an empty library, $connect
    builds the fanout queue's adapter but sends nothing; the sweep builds
    completion, whose announcer only an expired upload needs
    (docs/PERFORMANCE.md#cold-start)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None
        self._lock = Lock()

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            with self._lock:  # the fan-out's threads may reach it together
                if self._client is None:
                    self._client = self._make()
        return getattr(self._client, name)


class AwsClients:
    def __init__(self, settings: Settings, session: boto3.session.Session, sleep: Sleep) -> None:
        self._settings = settings
        self._session = session
        self._sleep = sleep
        # Standard retries, and timeouts well inside a Lambda's 30 s.
        self._config = Config(
            retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10
        )

    @cached_property
    def ddb(self) -> DynamoDBClient:
        """The one DynamoDB client every store's table goes through
        (chalicelib/store/dynamo.py says why a plain client). Its pool fits the
        fan-out workers that delete gone connections concurrently."""
        config = self._config.merge(
            Config(max_pool_connections=max(10, self._settings.broadcast_workers))
        )
        return self._session.client("dynamodb", config=config)

    def table(self, name: str, label: str, code: str = "store_unavailable") -> Table:
        """A table through that client; `label` and `code` name the store in
        the errors a client sees."""
        return Table(self.ddb, name, label=label, code=code, sleep=self._sleep)

    @cached_property
    def s3(self) -> S3Client:
        # SigV4 and the regional endpoint: boto3's defaults (SigV2, global host)
        # produce URLs that fail or redirect for browsers outside us-east-1.
        s = self._settings
        endpoint = s.s3_endpoint_url or f"https://s3.{s.aws_region}.amazonaws.com"
        config = self._config.merge(
            Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if s.s3_endpoint_url else "virtual"},
            )
        )
        made = OnFirstUse(lambda: self._session.client("s3", endpoint_url=endpoint, config=config))
        return cast("S3Client", made)

    @cached_property
    def sqs(self) -> SQSClient:
        """SQS, for the processing and fanout queues (most functions never send)."""
        return cast(
            "SQSClient", OnFirstUse(lambda: self._session.client("sqs", config=self._config))
        )

    @cached_property
    def secrets(self) -> SecretReader:
        """Secrets Manager (the playback signing key)."""
        made = OnFirstUse(lambda: self._session.client("secretsmanager", config=self._config))
        return cast("SecretReader", made)

    def connections_transport(self) -> SignedHttpTransport:
        """The @connections HTTP exchange, signed with the session's credentials."""
        from chalicelib.management_api import SignedHttpTransport

        credentials = self._session.get_credentials()
        if credentials is None:
            raise SettingsError("no AWS credentials to sign @connections requests with")
        s = self._settings
        return SignedHttpTransport(s.websocket_endpoint, s.aws_region, credentials)
