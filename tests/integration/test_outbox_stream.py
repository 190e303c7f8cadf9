"""Every committed change is published, and a publish failure never turns a
committed write into an error (issue 10).

The writes commit with their events in one transaction (the OutboxTable); the
`outbox_delivery` handler, fed from moto's DynamoDB stream by the local stack's
own event source mapping (devstack/streams.py, with infra/template.json's
settings), records them in the event log and sends them. Here the container
runs in `stream` mode, as deployed: nothing is delivered until the test runs
the "Lambda" (`pump.drain()`), so each test decides what fails, and when.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.config import Config

from app import app
from chalicelib import services
from chalicelib.channels import course_channel, user_channel
from chalicelib.services import Container
from chalicelib.settings import get_settings
from devstack.handlers import AppHandlers, StreamHandler
from devstack.provision import load_template
from devstack.streams import StreamPump
from tests.conftest import REGION, token_for
from tests.fakes import (
    FakeClock,
    FakeConnectionsApi,
    FakeWebsocketGateway,
    InMemoryPublisher,
    assert_valid_events,
)
from tests.integration.course_kit import add_media, atomic_moto, body, call
from tests.integration.uploads_kit import Harness, data_of

pytestmark = pytest.mark.integration

__all__ = ["atomic_moto"]


class Outage:
    """A boto3 session whose DynamoDB calls naming one table fail while `down`
    (a 500 from DynamoDB, before botocore's retries), and succeed again after."""

    def __init__(self, table: str, operations: set[str]) -> None:
        self.table = table
        self.operations = operations
        self.down = False
        self.fired = 0
        self.session = boto3.session.Session(region_name=REGION)
        self.session.events.register("before-call.dynamodb.*", self._before_call)

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        body = params.get("body") or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        if not self.down or model.name not in self.operations or self.table not in text:
            return None
        self.fired += 1
        response = AWSResponse("https://dynamodb.amazonaws.com/", 500, HTTPHeaders(), None)
        error = {"Code": "InternalServerError", "Message": "injected"}
        return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 500}}


@pytest.fixture
def stream_mode(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Delivery as deployed: only the stream consumer delivers."""
    monkeypatch.setenv("OUTBOX_DELIVERY", "stream")
    services.reset()


@pytest.fixture
def events_outage(stream_mode: None) -> Outage:
    return Outage(get_settings().events_table, {"PutItem", "UpdateItem", "GetItem"})


@pytest.fixture
def api(stream_mode: None, events_outage: Outage) -> FakeConnectionsApi:
    fake = FakeConnectionsApi()
    services.reset(Container(get_settings(), events_outage.session, transport=fake))
    return fake


@pytest.fixture
def client(api: FakeConnectionsApi) -> Iterator[Any]:
    from chalice.test import Client

    with Client(app) as c:
        yield c


@pytest.fixture
def ws(client: Any) -> FakeWebsocketGateway:
    return FakeWebsocketGateway(client.lambda_)


def outbox_handler() -> StreamHandler:
    (handler,) = AppHandlers(app, load_template()).streams()
    return handler


# botocore addresses DynamoDB Streams by account (ACCOUNT.streams-ddb...), a
# host moto's in-process mock does not know; the regional one it does.
REGIONAL = Config(account_id_endpoint_mode="disabled")


def streams_client() -> Any:
    return boto3.session.Session(region_name=REGION).client("dynamodbstreams", config=REGIONAL)


def pump_for(handler: StreamHandler) -> StreamPump:
    session = boto3.session.Session(region_name=REGION)
    return StreamPump(
        handler,
        session.client("dynamodb"),
        streams_client(),
        session.client("sqs"),
        REGION,
        retry_delay_seconds=0,
    )


@pytest.fixture
def pump(api: FakeConnectionsApi) -> StreamPump:
    return pump_for(outbox_handler())


def connect(ws: FakeWebsocketGateway, user: str, *channels: str) -> str:
    connection_id, status = ws.connect(token_for(user))
    assert status == 200
    for channel in channels:
        ws.send_json(connection_id, {"action": "subscribe", "channel": channel})
    return connection_id


def durable(api: FakeConnectionsApi, connection_id: str) -> list[dict[str, Any]]:
    messages = api.received(connection_id)
    assert_valid_events(messages)
    return [m for m in messages if m["seq"] is not None]


def course_with_members() -> str:
    courses = services.container().courses
    course_id = courses.create_course("olga", "Biology").course_id
    courses.set_member(course_id, "olga", "eddie", "editor")
    courses.set_member(course_id, "olga", "vera", "viewer")
    return course_id


def create_chapter(client: Any, course_id: str, title: str = "Cells") -> Any:
    return call(client, "POST", f"/courses/{course_id}/chapters", "olga", {"title": title})


# ---- the acceptance: the events table fails after the write ------------------


def test_a_chapter_created_while_the_event_log_fails_is_a_201_and_reaches_everyone_later(
    client: Any,
    ws: FakeWebsocketGateway,
    api: FakeConnectionsApi,
    pump: StreamPump,
    events_outage: Outage,
) -> None:
    course_id = course_with_members()
    subscribers = {u: connect(ws, u, course_channel(course_id)) for u in ("olga", "eddie", "vera")}
    events_outage.down = True

    created = create_chapter(client, course_id)
    failed = pump.drain()

    assert created.status_code == 201
    chapter = body(created)
    assert chapter["title"] == "Cells"
    assert chapter["version"] == 1
    listed = call(client, "GET", f"/courses/{course_id}/chapters", "olga")
    assert [c["chapterId"] for c in body(listed)["chapters"]] == [chapter["chapterId"]]
    assert failed.failed_batches >= 1
    assert events_outage.fired >= 1
    assert all(durable(api, cid) == [] for cid in subscribers.values())

    events_outage.down = False
    recovered = pump.drain()

    assert recovered.delivered == 1
    for connection_id in subscribers.values():
        (event,) = durable(api, connection_id)
        assert event["type"] == "chapter.updated"
        assert event["seq"] == 1
        assert event["data"]["chapter"] == chapter
    replayed = services.container().event_log.since(course_channel(course_id), 0)
    assert [e.seq for e in replayed] == [1]


def test_in_inline_mode_too_a_failing_event_log_never_fails_the_committed_write(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalice.test import Client

    monkeypatch.setenv("OUTBOX_DELIVERY", "inline")
    services.reset()
    outage = Outage(get_settings().events_table, {"PutItem", "UpdateItem"})
    api = FakeConnectionsApi()
    services.reset(Container(get_settings(), outage.session, transport=api))
    course_id = course_with_members()
    outage.down = True
    with Client(app) as client:
        created = create_chapter(client, course_id)
        listed = call(client, "GET", f"/courses/{course_id}/chapters", "olga")

    assert created.status_code == 201
    assert outage.fired >= 1
    assert len(body(listed)["chapters"]) == 1
    # The committed event waits in the outbox for the stream consumer.
    outage.down = False
    assert pump_for(outbox_handler()).drain().delivered == 1
    assert [e.type for e in services.container().event_log.since(course_channel(course_id), 0)] == [
        "chapter.updated"
    ]


# ---- the acceptance: delivery dies between commit and publish ------------------


def dies_once(handler: StreamHandler, *, after_delivering: bool) -> tuple[StreamHandler, list[int]]:
    """The handler as a Lambda that dies on its first invocation: before it
    does anything, or after it has sent everything but before it returns (so
    Lambda never checkpoints the batch and delivers it again)."""
    calls: list[int] = []

    def invoke(event: dict[str, Any], context: Any) -> Any:
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            if after_delivering:
                handler.invoke(event, context)
            raise RuntimeError("the Lambda died")
        return handler.invoke(event, context)

    return replace(handler, invoke=invoke), calls


@pytest.mark.parametrize("after_delivering", [False, True], ids=["before-sending", "after-sending"])
def test_a_delivery_that_dies_after_the_commit_still_delivers_each_event_once(
    client: Any, ws: FakeWebsocketGateway, api: FakeConnectionsApi, after_delivering: bool
) -> None:
    course_id = course_with_members()
    subscribers = {u: connect(ws, u, course_channel(course_id)) for u in ("olga", "eddie", "vera")}
    handler, calls = dies_once(outbox_handler(), after_delivering=after_delivering)
    pump = pump_for(handler)

    titles = ["Cells", "Tissues", "Organs"]
    answers = [create_chapter(client, course_id, title) for title in titles]
    pump.drain()

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len(calls) >= 2, "the Lambda was invoked again after it died"
    for connection_id in subscribers.values():
        events = durable(api, connection_id)
        assert [e["seq"] for e in events] == [1, 2, 3]
        assert [e["data"]["chapter"]["title"] for e in events] == titles
        assert len({e["id"] for e in events}) == 3


def test_duplicate_stream_records_change_nothing(
    client: Any, ws: FakeWebsocketGateway, api: FakeConnectionsApi, pump: StreamPump
) -> None:
    course_id = course_with_members()
    olga = connect(ws, "olga", course_channel(course_id))
    for title in ("Cells", "Tissues"):
        create_chapter(client, course_id, title)
    assert pump.drain().delivered == 2
    sent = durable(api, olga)
    log = services.container().event_log
    before = log.since(course_channel(course_id), 0)

    again = pump_for(outbox_handler())  # a second mapping from TRIM_HORIZON: every record twice
    assert again.drain().delivered == 2

    assert durable(api, olga) == sent
    assert log.since(course_channel(course_id), 0) == before
    assert log.current_seq(course_channel(course_id)) == 2


# ---- links, order, concurrency -----------------------------------------------


def test_a_link_commits_its_three_events_with_it_and_they_arrive_in_seq_order(
    client: Any, ws: FakeWebsocketGateway, api: FakeConnectionsApi, pump: StreamPump
) -> None:
    course_id = course_with_members()
    chapter_id = body(create_chapter(client, course_id))["chapterId"]
    add_media("m_1", "eddie")
    vera = connect(ws, "vera", course_channel(course_id))
    eddie = connect(ws, "eddie")  # the media owner, on his own channel only
    pump.drain()
    api.clear()

    linked = call(client, "PUT", f"/courses/{course_id}/chapters/{chapter_id}/media/m_1", "eddie")
    outbox = services.container().outbox

    assert linked.status_code == 200
    assert outbox.head(course_channel(course_id)) == 3
    assert outbox.head(user_channel("eddie")) == 1
    assert durable(api, vera) == []

    pump.drain()

    course_events = durable(api, vera)
    assert [(e["type"], e["seq"]) for e in course_events] == [
        ("media.linked", 2),
        ("chapter.updated", 3),
    ]
    assert course_events[1]["data"]["chapter"] == body(linked)
    assert [(e["type"], e["seq"]) for e in durable(api, eddie)] == [("media.linked", 1)]


def test_a_write_that_fails_commits_no_event(
    client: Any, ws: FakeWebsocketGateway, api: FakeConnectionsApi, pump: StreamPump
) -> None:
    course_id = course_with_members()
    chapter = body(create_chapter(client, course_id))
    path = f"/courses/{course_id}/chapters/{chapter['chapterId']}"
    assert call(client, "PATCH", path, "olga", {"title": "New", "version": 1}).status_code == 200

    stale = call(client, "PATCH", path, "olga", {"title": "Stale", "version": 1})

    assert stale.status_code == 409
    assert services.container().outbox.head(course_channel(course_id)) == 2
    pump.drain()
    types = [e.type for e in services.container().event_log.since(course_channel(course_id), 0)]
    assert types == ["chapter.updated", "chapter.updated"]


def test_concurrent_writers_on_one_channel_take_contiguous_numbers(
    client: Any,
    ws: FakeWebsocketGateway,
    api: FakeConnectionsApi,
    pump: StreamPump,
    atomic_moto: None,
) -> None:
    course_id = course_with_members()
    olga = connect(ws, "olga", course_channel(course_id))
    courses = services.container().courses
    titles = [f"Week {n}" for n in range(8)]
    barrier = threading.Barrier(len(titles))

    def create(title: str) -> None:
        barrier.wait()
        courses.create_chapter(course_id, "olga", title)

    threads = [threading.Thread(target=create, args=(t,)) for t in titles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pump.drain()

    events = durable(api, olga)
    assert [e["seq"] for e in events] == list(range(1, len(titles) + 1))
    assert sorted(e["data"]["chapter"]["title"] for e in events) == sorted(titles)
    assert len(courses.list_chapters(course_id, "olga")) == len(titles)


# ---- what the delivery cannot use, and what it gives up on ---------------------


def test_a_record_that_is_not_an_event_is_dropped_with_a_warning_and_the_rest_delivered(
    client: Any,
    ws: FakeWebsocketGateway,
    api: FakeConnectionsApi,
    pump: StreamPump,
    caplog: pytest.LogCaptureFixture,
) -> None:
    course_id = course_with_members()
    olga = connect(ws, "olga", course_channel(course_id))
    create_chapter(client, course_id)
    records = pump_records(pump)
    poison = json.loads(json.dumps(records[0], default=str))
    poison["dynamodb"]["NewImage"]["event"] = {"S": '{"not": "an event"}'}
    poison["dynamodb"]["SequenceNumber"] = "1"

    answer = outbox_handler().invoke({"Records": [poison, *records]}, None)

    assert answer == {"batchItemFailures": []}
    assert [e["type"] for e in durable(api, olga)] == ["chapter.updated"]
    assert "dropping an outbox stream record" in caplog.text


def pump_records(pump: StreamPump) -> list[dict[str, Any]]:
    """The event records the stream holds, as Lambda passes them."""
    from devstack.streams import lambda_record, matches

    streams = streams_client()
    assert pump.resolve()
    assert pump.stream_arn is not None
    (shard,) = streams.describe_stream(StreamArn=pump.stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=pump.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    raw = streams.get_records(ShardIterator=iterator)["Records"]
    records = [lambda_record(dict(r), pump.stream_arn, REGION) for r in raw]
    return [r for r in records if any(matches(p, r) for p in pump.handler.filters)]


def give_up_on_a_chapter(client: Any, outage: Outage) -> tuple[StreamPump, str, dict[str, Any]]:
    """A chapter whose delivery fails until the pump (2 retries) gives up on it."""
    pump = pump_for(replace(outbox_handler(), maximum_retry_attempts=2))
    course_id = course_with_members()
    outage.down = True
    created = create_chapter(client, course_id)
    assert created.status_code == 201
    given_up = []
    for _ in range(4):  # the first attempt and two retries fail; the pump gives up
        given_up += pump.pump_once().given_up
    assert len(given_up) == 1
    outage.down = False
    return pump, course_id, body(created)


def ops(*args: str) -> Any:
    """`course-media-ops ARGS` on these tests' moto, through the app's container."""
    from typer.testing import CliRunner

    from course_media_ops.cli import Context, app
    from course_media_ops.render import Output
    from tests.integration.test_ops_cli import ops_target

    target = ops_target()
    # In-process moto answers DynamoDB Streams at the regional endpoint only.
    target._clients["dynamodbstreams"] = streams_client()
    context = Context(Output(), None, None, None, "", "", _target=target)
    return CliRunner().invoke(app, list(args), obj=context)


def failure_queue() -> tuple[Any, str]:
    sqs = boto3.session.Session(region_name=REGION).client("sqs")
    return sqs, sqs.get_queue_url(QueueName="OutboxDeliveryFailures")["QueueUrl"]


def test_a_batch_that_keeps_failing_is_noted_in_the_on_failure_queue_and_redriven_from_it(
    client: Any, ws: FakeWebsocketGateway, api: FakeConnectionsApi, events_outage: Outage
) -> None:
    olga = connect(ws, "olga")
    pump, course_id, chapter = give_up_on_a_chapter(client, events_outage)
    ws.send_json(olga, {"action": "subscribe", "channel": course_channel(course_id)})
    sqs, url = failure_queue()
    (message,) = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    info = json.loads(message["Body"])["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["streamArn"] == pump.stream_arn
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert durable(api, olga) == []

    counted = ops("outbox", "redrive")
    assert counted.exit_code == 0, counted.output
    assert "would deliver again the batches noted in OutboxDeliveryFailures: 1" in counted.output
    assert durable(api, olga) == []

    redriven = ops("outbox", "redrive", "--yes")

    assert redriven.exit_code == 0, redriven.output
    assert "1 batches, 1 records delivered, 0 left" in redriven.output
    (event,) = durable(api, olga)
    assert event["data"]["chapter"] == chapter
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_a_channel_is_brought_up_to_date_from_the_outbox_after_the_stream_forgot(
    client: Any, ws: FakeWebsocketGateway, api: FakeConnectionsApi, events_outage: Outage
) -> None:
    _, course_id, chapter = give_up_on_a_chapter(client, events_outage)
    olga = connect(ws, "olga", course_channel(course_id))
    c = services.container()
    channel = course_channel(course_id)
    counted = ops("outbox", "redrive", "--channel", channel)
    assert counted.exit_code == 0, counted.output
    assert "never recorded: 1; nothing changed" in counted.output
    assert durable(api, olga) == []

    redriven = ops("outbox", "redrive", "--channel", channel, "--yes")

    assert redriven.exit_code == 0, redriven.output
    assert f"{channel}: 1 events delivered" in redriven.output
    (event,) = durable(api, olga)
    assert event["data"]["chapter"] == chapter
    assert c.event_log.current_seq(channel) == 1


# ---- uploads: the terminal event commits with the terminal state -----------------

UPLOAD_SIZE = 6 * 1024**2  # one part


def upload_through_s3(
    client: Any, env: dict[str, str]
) -> tuple[Harness, dict[str, Any], list[Any]]:
    """A library upload of alice, its part in S3 and assembled; the S3 event
    waiting in the queue (the handler not run yet)."""
    # Only the client and the tables are the harness's here: the container
    # (with its own clock) is the stream-mode one the fixtures built.
    harness = Harness(client, InMemoryPublisher(), env, FakeClock(time.time()))
    upload = harness.start("alice", UPLOAD_SIZE)
    harness.put_parts("alice", upload, data_of(UPLOAD_SIZE))
    status, _ = harness.call("post", f"/uploads/{upload['operationId']}/complete", "alice", {})
    assert status == 202  # completing: `completed` follows from the S3 event
    return harness, upload, harness.s3_messages()


def test_an_upload_completed_while_the_event_log_fails_is_completed_and_announced_once_it_recovers(
    client: Any,
    ws: FakeWebsocketGateway,
    api: FakeConnectionsApi,
    pump: StreamPump,
    events_outage: Outage,
    aws: dict[str, str],
) -> None:
    alice = connect(ws, "alice")
    harness, upload, messages = upload_through_s3(client, aws)
    pump.drain()
    events_outage.down = True

    handled = harness.deliver(messages)
    status, state = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    pump.drain()

    assert handled == {"batchItemFailures": []}
    assert (status, state["status"]) == (200, "completed")
    assert "upload.completed" not in [e["type"] for e in durable(api, alice)]

    events_outage.down = False
    pump.drain()

    types = [e["type"] for e in durable(api, alice)]
    assert types == ["upload.started", "upload.completed"]
    assert durable(api, alice)[1]["data"]["upload"] == without_parts(state)


def without_parts(state: dict[str, Any]) -> dict[str, Any]:
    """The upload as events carry it: `GET /uploads/{id}` adds the parts S3 holds."""
    return {k: v for k, v in state.items() if k != "parts"}


class FailsOnce:
    """The first TransactWriteItems naming `marker` fails (the Lambda dies in
    the middle of that commit); everything after succeeds."""

    def __init__(self, client: Any, marker: str) -> None:
        self.marker = marker
        self.fired = False
        client.meta.events.register("before-call.dynamodb.TransactWriteItems", self._before_call)

    def _before_call(self, params: dict[str, Any], **_: Any) -> Any:
        body = params.get("body") or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        if self.fired or self.marker not in text:
            return None
        self.fired = True
        raise ConnectionError("the Lambda went away")


def test_a_completion_that_dies_in_its_commit_is_redelivered_and_announced_exactly_once(
    client: Any,
    ws: FakeWebsocketGateway,
    api: FakeConnectionsApi,
    pump: StreamPump,
    events_outage: Outage,
    aws: dict[str, str],
) -> None:
    alice = connect(ws, "alice")
    harness, upload, messages = upload_through_s3(client, aws)
    dies = FailsOnce(services.container().aws.ddb, "upload.completed")

    # The one S3 sends for the assembled object (moto also notifies a part's PUT).
    (message,) = [m for m in messages if "CompleteMultipartUpload" in m["Body"]]
    first = harness.deliver([message])
    _, between = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    again = harness.deliver([message])  # SQS redelivers the failed message
    _, after = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
    pump.drain()

    assert dies.fired
    assert len(first["batchItemFailures"]) == 1
    assert between["status"] == "completing"  # nothing of the failed commit was written
    assert again == {"batchItemFailures": []}
    assert after["status"] == "completed"
    completed = [e for e in durable(api, alice) if e["type"] == "upload.completed"]
    assert len(completed) == 1
    assert completed[0]["data"]["upload"] == without_parts(after)
