"""The operator CLI (course_media_ops) against moto: what it lists is what the
app stored, and what it changes (only with --yes) the app then sees."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from chalicelib import services
from chalicelib.aws_clients import process_session
from course_media_ops.cli import Context, app
from course_media_ops.render import Output
from course_media_ops.target import TABLES, Target, deployed
from devstack.provision import load_template, physical_name
from tests.conftest import REGION, auth, token_for
from tests.fakes import FakeConnectionsApi, FakeWebsocketGateway
from tests.integration.uploads_kit import MIB, Harness, data_of, harness_fixture

pytestmark = pytest.mark.integration
harness = harness_fixture
SIZE = 5 * MIB + 7


def ops_target() -> Target:
    """The stack the CLI acts on in these tests: moto with the template's
    resources, and the app's own container."""
    template = load_template()["Resources"]
    resources = {name: physical_name(name, template) for name in template}
    target = Target("test stack", process_session(REGION), resources, "http://127.0.0.1:9")
    # The app's own container: what the CLI changes goes through the same
    # services (and the same in-memory publisher) the handlers use.
    target.container = services.container()
    return target


@pytest.fixture
def ops(harness: Harness) -> Any:
    target = ops_target()

    def run(*args: str) -> Any:
        context = Context(Output(), None, None, None, "", "", _target=target)
        result = CliRunner().invoke(app, list(args), obj=context)
        return result

    return run


def _sqs(name: str) -> tuple[Any, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    return sqs, sqs.get_queue_url(QueueName=name)["QueueUrl"]


def test_uploads_list_shows_an_open_upload(harness: Harness, ops: Any) -> None:
    upload = harness.start("alice", SIZE)

    shown = ops("uploads", "list")
    listed = ops("--json", "uploads", "list", "--user", "alice")

    assert shown.exit_code == 0, shown.output
    assert upload["operationId"] in shown.output
    assert "alice" in shown.output
    assert "uploading" in shown.output
    rows = json.loads(listed.stdout)
    assert [(r["operationId"], r["status"]) for r in rows] == [(upload["operationId"], "uploading")]
    assert json.loads(ops("--json", "uploads", "list", "--user", "bob").stdout) == []


def test_uploads_abort_changes_nothing_without_yes_and_aborts_in_s3_and_the_table_with_it(
    harness: Harness, ops: Any
) -> None:
    upload = harness.start("alice", SIZE)
    harness.put_parts("alice", upload, data_of(SIZE))
    operation_id = upload["operationId"]

    dry = ops("uploads", "abort", operation_id)
    assert dry.exit_code == 0, dry.output
    assert "would abort 1" in dry.output
    assert len(harness.multipart_uploads()) == 1
    assert harness.call("get", f"/uploads/{operation_id}", "alice")[1]["status"] == "uploading"

    done = ops("uploads", "abort", operation_id, "--yes")

    assert done.exit_code == 0, done.output
    assert harness.multipart_uploads() == []
    status, record = harness.call("get", f"/uploads/{operation_id}", "alice")
    assert (status, record["status"], record["reason"]) == (200, "aborted", "aborted")
    assert "upload.aborted" in harness.publisher.types_on("user:alice")
    shown = json.loads(ops("--json", "uploads", "show", operation_id).stdout)
    assert shown["status"] == "aborted"


def test_uploads_abort_by_age_leaves_younger_uploads_alone(harness: Harness, ops: Any) -> None:
    upload = harness.start("alice", SIZE)
    result = ops("uploads", "abort", "--older-than", "1h", "--yes")
    assert result.exit_code == 0, result.output
    status = harness.call("get", f"/uploads/{upload['operationId']}", "alice")[1]["status"]
    assert status == "uploading"


def test_dlq_redrive_moves_the_messages_back_and_the_handler_completes_their_uploads(
    harness: Harness, ops: Any
) -> None:
    uploads = []
    for _ in range(3):
        upload = harness.start("alice", SIZE)
        parts = harness.put_parts("alice", upload, data_of(SIZE))
        status, _ = harness.call(
            "post", f"/uploads/{upload['operationId']}/complete", "alice", {"parts": parts}
        )
        assert status == 202
        uploads.append(upload["operationId"])
    # Their S3 events failed five times and went to the dead-letter queue.
    events = harness.s3_messages()
    assert events
    sqs, dlq = _sqs("S3EventsDeadLetterQueue")
    for message in events:
        sqs.send_message(QueueUrl=dlq, MessageBody=message["Body"])

    shown = json.loads(ops("--json", "dlq", "show").stdout)
    assert shown["queues"] == [
        {"queue": "S3EventsDeadLetterQueue", "source": "S3EventsQueue", "messages": len(events)},
        {"queue": "ProcessingDeadLetterQueue", "source": "ProcessingQueue", "messages": 0},
    ]
    assert ops("dlq", "redrive").exit_code == 0
    assert json.loads(ops("--json", "dlq", "show").stdout)["queues"][0]["messages"] == len(events)

    moved = ops("--json", "dlq", "redrive", "--yes")

    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.stdout) == [
        {"queue": "S3EventsDeadLetterQueue", "source": "S3EventsQueue", "moved": len(events)},
        {"queue": "ProcessingDeadLetterQueue", "source": "ProcessingQueue", "moved": 0},
    ]
    assert json.loads(ops("--json", "dlq", "show").stdout)["queues"][0]["messages"] == 0
    redriven = harness.s3_messages()
    assert sorted(m["Body"] for m in redriven) == sorted(m["Body"] for m in events)
    assert harness.deliver(redriven) == {"batchItemFailures": []}
    for operation_id in uploads:
        record = harness.call("get", f"/uploads/{operation_id}", "alice")[1]
        assert record["status"] == "completed"


def _cli(*args: str) -> Any:
    context = Context(Output(), None, None, None, "", "", _target=ops_target())
    return CliRunner().invoke(app, list(args), obj=context)


def _call(client: Any, method: str, path: str, user: str, body: Any) -> tuple[int, Any]:
    response = getattr(client.http, method)(path, headers=auth(user), body=json.dumps(body))
    return response.status_code, json.loads(response.body)


def test_channel_tail_prints_an_event_published_while_it_follows(
    client: Any, ws_api: FakeConnectionsApi
) -> None:
    status, course = _call(client, "post", "/courses", "carol", {"title": "Optics"})
    assert status == 201
    channel = f"course:{course['courseId']}"
    answers: list[int] = []

    def publish() -> None:
        time.sleep(0.5)
        path = f"/courses/{course['courseId']}/chapters"
        answers.append(_call(client, "post", path, "carol", {"title": "Lenses"})[0])

    thread = threading.Thread(target=publish)
    thread.start()
    result = _cli(
        "--json", "channel", "tail", channel, "--count", "1", "--timeout", "20", "--interval", "0.2"
    )
    thread.join()

    assert answers == [201]
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    event = json.loads(line)
    assert (event["channel"], event["seq"], event["type"]) == (channel, 1, "chapter.updated")
    assert event["data"]["chapter"]["title"] == "Lenses"


def test_events_replay_lists_without_yes_and_posts_to_the_channels_subscribers_with_it(
    client: Any, ws_api: FakeConnectionsApi, ws: FakeWebsocketGateway
) -> None:
    status, course = _call(client, "post", "/courses", "carol", {"title": "Optics"})
    assert status == 201
    channel = f"course:{course['courseId']}"
    connection_id, answered = ws.connect(token_for("carol"))
    assert answered == 200
    ws.send_json(connection_id, {"action": "subscribe", "channel": channel})
    _call(client, "post", f"/courses/{course['courseId']}/chapters", "carol", {"title": "One"})
    assert ws_api.types(connection_id).count("chapter.updated") == 1

    listed = _cli("--json", "events", "replay", "--channel", channel, "--since", "0")
    assert [(row["seq"], row["type"]) for row in json.loads(listed.stdout)] == [
        (1, "chapter.updated")
    ]
    assert ws_api.types(connection_id).count("chapter.updated") == 1

    result = _cli("--json", "events", "replay", "--channel", channel, "--since", "10m", "--yes")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "channel": channel,
        "events": 1,
        "delivered": 1,
        "gone": 0,
        "failed": 0,
    }
    replayed = [m for m in ws_api.received(connection_id) if m["type"] == "chapter.updated"]
    assert len(replayed) == 2
    assert replayed[0] == replayed[1]


def test_a_deployed_stack_is_found_by_its_cloudformation_name(aws: dict[str, str]) -> None:
    template = load_template()
    kept = ("AWS::DynamoDB::Table", "AWS::SQS::Queue")
    body = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {k: v for k, v in template["Resources"].items() if v.get("Type") in kept},
    }
    cfn = boto3.client("cloudformation", region_name=REGION)
    cfn.create_stack(StackName="course-media-prod", TemplateBody=json.dumps(body))

    target = deployed("course-media-prod", REGION, None)

    tables = boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]
    assert target.physical("UploadsTable") in tables
    assert target.physical("UploadsTable").startswith("course-media-prod-UploadsTable")
    url = target.queue_url("S3EventsDeadLetterQueue")
    assert "S3EventsDeadLetterQueue" in url
    assert boto3.client("sqs", region_name=REGION).get_queue_attributes(QueueUrl=url)


def _completed_media(harness: Harness, user: str) -> str:
    upload = harness.start(user, SIZE)
    parts = harness.put_parts(user, upload, data_of(SIZE))
    status, _ = harness.call(
        "post", f"/uploads/{upload['operationId']}/complete", user, {"parts": parts}
    )
    assert status == 202
    assert harness.deliver(harness.s3_messages()) == {"batchItemFailures": []}
    record = harness.call("get", f"/uploads/{upload['operationId']}", user)[1]
    return str(record["mediaId"])


def test_media_reprocess_is_refused_on_a_stack_without_a_processing_queue(
    harness: Harness,
) -> None:
    media_id = _completed_media(harness, "alice")
    target = ops_target()
    del target.resources["ProcessingQueue"]
    context = Context(Output(), None, None, None, "", "", _target=target)
    result = CliRunner().invoke(app, ["media", "reprocess", media_id, "--yes"], obj=context)
    assert result.exit_code == 2
    assert "has no processing queue (ProcessingQueue)" in result.output


def test_media_reprocess_puts_the_selection_back_in_processing_and_on_the_queue(
    harness: Harness,
) -> None:
    mine = [_completed_media(harness, "alice") for _ in range(2)]
    other = _completed_media(harness, "bob")
    # Completion queued each file and the processing Lambda read it: these
    # bytes are no media, so each ended `failed`.
    harness.process()
    sqs = boto3.client("sqs", region_name=REGION)
    queue = harness.env["PROCESSING_QUEUE"]
    target = ops_target()
    target.resources["ProcessingQueue"] = queue

    def run(*args: str) -> Any:
        context = Context(Output(), None, None, None, "", "", _target=target)
        return CliRunner().invoke(app, list(args), obj=context)

    store = services.container().media_store
    before = {m: getattr(store.get(m), "status", None) for m in [*mine, other]}
    assert set(before.values()) == {"failed"}
    listed = json.loads(run("--json", "media", "reprocess", "--user", "alice").stdout)
    assert sorted(row["mediaId"] for row in listed) == sorted(mine)
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)

    done = run("--json", "media", "reprocess", "--user", "alice", "--yes")

    assert done.exit_code == 0, done.output
    assert sorted(row["mediaId"] for row in json.loads(done.stdout) if row["queued"]) == sorted(
        mine
    )
    messages = sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert sorted(json.loads(m["Body"])["mediaId"] for m in messages) == sorted(mine)
    ids = {m["MessageAttributes"]["correlationId"]["StringValue"] for m in messages}
    assert len(ids) == 1
    assert ids.pop().startswith("ops_")
    store = services.container().media_store
    statuses = {m: getattr(store.get(m), "status", None) for m in [*mine, other]}
    assert statuses == {mine[0]: "processing", mine[1]: "processing", other: before[other]}


def test_uploads_list_by_a_closed_status_finds_completed_uploads(
    harness: Harness, ops: Any
) -> None:
    media_id = _completed_media(harness, "alice")
    open_one = harness.start("alice", SIZE)

    completed = json.loads(ops("--json", "uploads", "list", "--status", "completed").stdout)
    still_open = json.loads(ops("--json", "uploads", "list").stdout)

    assert [(r["status"], r["mediaId"]) for r in completed] == [("completed", media_id)]
    assert [r["operationId"] for r in still_open] == [open_one["operationId"]]


def test_connections_list_shows_a_connection_and_purge_forgets_only_what_it_selects(
    client: Any, ws_api: FakeConnectionsApi, ws: FakeWebsocketGateway
) -> None:
    alice, _ = ws.connect(token_for("alice"))
    bob, _ = ws.connect(token_for("bob"))
    ws.send_json(alice, {"action": "subscribe", "channel": "user:alice"})

    listed = json.loads(_cli("--json", "connections", "list").stdout)
    assert {(r["connectionId"], r["userId"], r["stale"]) for r in listed} == {
        (alice, "alice", False),
        (bob, "bob", False),
    }
    assert [r["channels"] for r in listed if r["connectionId"] == alice] == [["user:alice"]]
    # Neither is stale, so the default purge has nothing to do.
    nothing = _cli("connections", "purge", "--yes")
    assert nothing.exit_code == 0, nothing.output
    assert len(json.loads(_cli("--json", "connections", "list").stdout)) == 2

    purged = _cli("connections", "purge", "--user", "alice", "--include-open", "--yes")

    assert purged.exit_code == 0, purged.output
    store = services.container().connections
    assert store.get(alice) is None
    assert store.connections_on("user:alice") == []
    assert store.get(bob) is not None


def test_the_operator_container_works_in_the_stacks_region(aws: dict[str, str]) -> None:
    session = boto3.session.Session(region_name="eu-west-1")
    target = Target("eu stack", session, {"MediaBucket": "b", **_TABLES}, "https://x/api")
    assert target.container.settings.aws_region == "eu-west-1"


# Every table the app's settings name, whatever the template has grown to.
_TABLES = {logical: logical.lower() for logical in TABLES.values()}
