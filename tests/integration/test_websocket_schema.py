"""docs/events.schema.json describes the WebSocket conversation both ways: every
message a client sends and every message the server answers or broadcasts, as
the app produces them, validates; a message missing a field every envelope
carries does not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from chalicelib import services
from chalicelib.channels import course_channel, link_channels, upload_channels, user_channel
from chalicelib.events import (
    EVENTS_BY_TYPE,
    ChapterData,
    ChapterUpdated,
    MediaData,
    MediaLinkData,
    MediaLinked,
    MediaUnlinked,
    MediaUpdated,
)
from chalicelib.models import ChapterTarget, LibraryTarget, UploadTarget
from scripts import gen_docs
from tests.conftest import token_for
from tests.fakes import EVENT_AT, FakeConnectionsApi, FakeWebsocketGateway
from tests.integration.test_routing import chapter, media, upload, upload_events

pytestmark = pytest.mark.integration

# Every type the server can send: a new event type fails this test until the
# conversation below includes it.
SERVER_TYPES = set(EVENTS_BY_TYPE)


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(gen_docs.EVENTS.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def conversation(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One connection's whole conversation: what alice sent, what she received."""
    container = services.container()
    course = container.courses.create_course("alice", "Course").course_id
    ws_api.clear()
    connection_id, status = ws.connect(token_for("alice"))
    assert status == 200
    sent: list[dict[str, Any]] = []

    def send(message: dict[str, Any]) -> None:
        sent.append(message)
        ws.send_json(connection_id, message)

    send({"action": "subscribe", "channel": course_channel(course)})
    send({"action": "subscribe", "channel": user_channel("alice"), "since": 0})
    targets: tuple[UploadTarget, ...] = (
        LibraryTarget(type="library"),
        ChapterTarget(type="chapter", course_id=course, chapter_id="ch_1"),
    )
    for n, target in enumerate(targets):
        up = upload(f"op_{n}", "alice", target)
        for event in upload_events(up):
            container.publisher.publish(event, upload_channels(up))
    link = MediaLinkData(media=media("m_1", "alice"), chapter=chapter(course))
    for linked in (MediaLinked, MediaUnlinked):
        container.publisher.publish(
            linked.new(link, course_id=course, at=EVENT_AT), link_channels(course, "alice")
        )
    container.publisher.publish(
        ChapterUpdated.new(ChapterData(chapter=chapter(course)), course_id=course, at=EVENT_AT),
        [course_channel(course)],
    )
    processed = media("m_1", "alice").model_copy(
        update={"status": "ready", "duration_seconds": 60.0, "width": 320, "height": 240}
    )
    container.publisher.publish(
        MediaUpdated.new(MediaData(media=processed), at=EVENT_AT), [user_channel("alice")]
    )
    container.courses.rename_course(course, "alice", version=1, title="Renamed")
    doomed = container.courses.create_chapter(course, "alice", "Doomed").chapter_id
    container.course_features.removal.delete_chapter(course, doomed, "alice")
    send({"action": "ping"})
    send({"action": "authenticate", "token": token_for("alice")})
    send({"action": "unsubscribe", "channel": course_channel(course)})
    # Reaches alice on her own channel: she left the course's a moment ago.
    container.course_features.removal.delete_course(course, "alice")
    ws.send(connection_id, '{"action": "shout"}')  # answered by `error`
    return sent, ws_api.received(connection_id)


def test_a_captured_conversation_with_every_message_type_validates(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, validator: Draft202012Validator
) -> None:
    sent, received = conversation(ws, ws_api)
    assert {m["action"] for m in sent} == {"subscribe", "unsubscribe", "ping", "authenticate"}
    assert {m["type"] for m in received} == SERVER_TYPES
    for message in [*sent, *received]:
        validator.validate(message)
    # Library and chapter uploads alike: operationId at the top, courseId null or set.
    progress = [m for m in received if m["type"] == "upload.progress"]
    assert {m["operationId"] for m in progress} == {"op_0", "op_1"}
    by_operation = {m["operationId"]: m["courseId"] for m in progress}
    assert by_operation["op_0"] is None
    assert by_operation["op_1"] == progress[-1]["data"]["target"]["courseId"]


def test_a_message_without_operation_id_or_course_id_does_not_validate(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, validator: Draft202012Validator
) -> None:
    _, received = conversation(ws, ws_api)
    for message in received:
        for field in ("operationId", "courseId"):
            missing = {k: v for k, v in message.items() if k != field}
            with pytest.raises(ValidationError):
                validator.validate(missing)


@pytest.mark.parametrize(
    "message",
    [
        {"action": "shout"},
        {"action": "subscribe"},
        {"action": "subscribe", "channel": "course:c_1", "since": -1},
        {"action": "ping", "extra": 1},
        {"type": "upload.progress"},
    ],
)
def test_a_malformed_client_message_does_not_validate(
    message: dict[str, Any], validator: Draft202012Validator
) -> None:
    with pytest.raises(ValidationError):
        validator.validate(message)
