"""Every adapter turns every kind of AWS failure into the same answer.

Throttling (whatever the service calls it) is a 429, an AWS outage or a network
failure a 503; both carry `Retry-After`, none is a 500, and each comes in the
contract's error format. The failures are injected with botocore's own event
hooks on the boto3 session the container is built from: the request never
leaves botocore, and none of our code is patched.

Each store is reached through the HTTP route that uses it where one exists. The
event log and the media bucket have no route whose answer they decide (their
failures surface as WebSocket error replies, or after a committed write), so
they are called directly and answered through the same error mapping.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from chalice.app import Response
from chalice.test import Client

from chalicelib import services
from chalicelib.errors import DomainError
from chalicelib.events import Pong, PongData
from chalicelib.http import error_response
from chalicelib.services import Container
from chalicelib.settings import get_settings
from chalicelib.store.media import S3Objects
from tests.conftest import REGION, auth, token_for
from tests.fakes import EVENT_AT, FakeWebsocketGateway, InMemoryPublisher, media_file

pytestmark = pytest.mark.integration

THROTTLING = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
]
# What a service answers when it is down, and the two ways no answer comes back.
OUTAGES = ["InternalServerError", "EndpointConnectionError", "ReadTimeoutError"]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class FailingAws:
    """A boto3 session whose clients fail one operation with one failure.

    A `before-call` hook answers in botocore's place: with an error response
    (botocore raises the ClientError it would have parsed from AWS) or by
    raising the BotoCoreError a dead endpoint gives. It runs before botocore's
    retry loop, so a test waits for no back-off."""

    def __init__(self, failure: str) -> None:
        self.failure = failure
        self.session = boto3.session.Session(region_name=REGION)
        self.fired = 0
        self._targets: list[tuple[str, str, str | None]] = []
        self.session.events.register("before-call.*.*", self._before_call)

    def fail(self, service: str, operation: str, table: str | None = None) -> FailingAws:
        self._targets.append((service, operation, table))
        return self

    def container(self, publisher: InMemoryPublisher | None = None) -> Container:
        return Container(get_settings(), self.session, delivery=publisher)

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        service = model.service_model.service_name
        if not any(
            service == s and model.name == op and (table is None or table in _tables(params))
            for s, op, table in self._targets
        ):
            return None
        self.fired += 1
        if self.failure == "EndpointConnectionError":
            raise EndpointConnectionError(endpoint_url=f"https://{service}.{REGION}.amazonaws.com")
        if self.failure == "ReadTimeoutError":
            raise ReadTimeoutError(endpoint_url=f"https://{service}.{REGION}.amazonaws.com")
        status = 500 if self.failure == "InternalServerError" else 400
        response = AWSResponse(f"https://{service}.amazonaws.com/", status, HTTPHeaders(), None)
        parsed = {
            "Error": {"Code": self.failure, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return response, parsed


def _tables(params: dict[str, Any]) -> str:
    """The request body names the tables a DynamoDB call touches."""
    body = params.get("body") or b""
    return body.decode() if isinstance(body, bytes) else str(body)


def _answer(response: Any) -> Answer:
    return Answer(
        response.status_code,
        {str(k): str(v) for k, v in response.headers.items()},
        json.loads(response.body),
    )


def _direct(call: Callable[[], object]) -> Answer:
    """The answer the HTTP edge gives for what `call` raises."""
    try:
        call()
    except DomainError as err:
        response: Response = error_response(err)
        headers = {k: str(v) for k, v in response.headers.items()}
        return Answer(response.status_code, headers, response.body)
    raise AssertionError("the injected failure raised nothing")


# ---- one case per adapter: set up with a healthy container, fail, answer -----
# Each returns the answer a client gets once its store fails.


def course_store(client: Client, aws: FailingAws) -> Answer:
    course = json.loads(
        client.http.post("/courses", headers=auth("ann"), body=json.dumps({"title": "P"})).body
    )
    services.reset(aws.fail("dynamodb", "Query", get_settings().courses_table).container())
    return _answer(client.http.get(f"/courses/{course['courseId']}", headers=auth("ann")))


def media_store(client: Client, aws: FailingAws) -> Answer:
    services.reset(aws.fail("dynamodb", "Query", get_settings().media_table).container())
    return _answer(client.http.get("/media", headers=auth("ann")))


def link_store(client: Client, aws: FailingAws) -> Answer:
    c = services.container()
    course = c.courses.create_course("ann", "P")
    chapter = c.courses.create_chapter(course.course_id, "ann", "Week 1")
    assert c.media_store.put_if_absent(media_file("m_1", "ann", course.created_at))
    services.reset(aws.fail("dynamodb", "TransactWriteItems").container(InMemoryPublisher()))
    path = f"/courses/{course.course_id}/chapters/{chapter.chapter_id}/media/m_1"
    return _answer(client.http.put(path, headers=auth("ann"), body="{}"))


def upload_store(client: Client, aws: FailingAws) -> Answer:
    services.reset(aws.fail("dynamodb", "Query", get_settings().uploads_table).container())
    return _answer(client.http.get("/uploads?status=active", headers=auth("ann")))


def connection_store(client: Client, aws: FailingAws) -> Answer:
    services.reset(
        aws.fail("dynamodb", "BatchWriteItem", get_settings().connections_table).container()
    )
    answer = FakeWebsocketGateway(client.lambda_).connect_answer(token_for("ann"), "conn0001=")
    return Answer(int(str(answer["statusCode"])), answer["headers"], json.loads(answer["body"]))


def event_log(client: Client, aws: FailingAws) -> Answer:
    log = aws.fail("dynamodb", "PutItem", get_settings().events_table).container().event_log
    # The delivery Lambda records each committed copy; the log decides nothing
    # else a client sees (a failure here is retried from the outbox stream).
    copy = Pong.new(PongData(), at=EVENT_AT).model_copy(update={"channel": "user:ann", "seq": 1})
    return _direct(lambda: log.record(copy))


def multipart_storage(client: Client, aws: FailingAws) -> Answer:
    services.reset(aws.fail("s3", "CreateMultipartUpload").container(InMemoryPublisher()))
    request = {
        "filename": "a.mp4",
        "contentType": "video/mp4",
        "size": 10 * 1024**2,
        "target": {"type": "library"},
    }
    return _answer(client.http.post("/uploads", headers=auth("ann"), body=json.dumps(request)))


def media_bucket(client: Client, aws: FailingAws) -> Answer:
    settings = get_settings()
    s3 = aws.fail("s3", "DeleteObject").container().aws.s3
    objects = S3Objects(s3, settings.media_bucket, settings.download_url_expiry_seconds)
    return _direct(lambda: objects.delete("uploads/ann/op_1/a.mp4"))


STORES = [
    course_store,
    media_store,
    link_store,
    upload_store,
    connection_store,
    event_log,
    multipart_storage,
    media_bucket,
]


@pytest.fixture
def app_client(aws: dict[str, str]) -> Iterator[Client]:
    from app import app

    with Client(app) as c:
        yield c


@pytest.mark.parametrize("failure", THROTTLING + OUTAGES)
@pytest.mark.parametrize("store", STORES, ids=lambda f: f.__name__)
def test_an_aws_failure_is_a_429_or_503_with_retry_after(
    app_client: Client, store: Callable[[Client, FailingAws], Answer], failure: str
) -> None:
    aws = FailingAws(failure)
    answer = store(app_client, aws)

    assert aws.fired >= 1, "the store never made the failing call"
    assert answer.status == (429 if failure in THROTTLING else 503)
    assert int(answer.headers["Retry-After"]) >= 1
    assert list(answer.body) == ["error"]
    error = answer.body["error"]
    assert list(error) == ["code", "message", "details"]
    if failure in THROTTLING:
        assert error["code"] == "throttled"
    else:
        assert error["code"].endswith("unavailable")
    # What AWS said stays in the log, not in the answer.
    assert "injected" not in error["message"]
    assert failure not in error["message"]


@pytest.mark.parametrize("store", [multipart_storage, media_bucket], ids=lambda f: f.__name__)
def test_s3_slowing_down_is_a_429(
    app_client: Client, store: Callable[[Client, FailingAws], Answer]
) -> None:
    answer = store(app_client, FailingAws("SlowDown"))
    assert answer.status == 429
    assert answer.headers["Retry-After"] == "1"
