"""The WebSocket handlers, through Chalice's test client, against moto, with the
@connections API faked so each connection's messages stay apart."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import services
from chalicelib.channels import course_channel, user_channel
from chalicelib.events import ChapterData, ChapterUpdated, UploadProgress, UploadProgressData
from chalicelib.models import ChapterTarget
from tests.conftest import auth, token_for
from tests.fakes import EVENT_AT, FakeConnectionsApi, FakeWebsocketGateway, assert_valid_events

pytestmark = pytest.mark.integration


@pytest.fixture
def course_id() -> str:
    """A course owned by alice in which bob is a viewer."""
    courses = services.container().courses
    course = courses.create_course("alice", "Physics")
    courses.set_member(course.course_id, "alice", "bob", "viewer")
    return course.course_id


def connect(ws: FakeWebsocketGateway, user_id: str) -> str:
    connection_id, status = ws.connect(token_for(user_id))
    assert status == 200
    return connection_id


def last(ws_api: FakeConnectionsApi, connection_id: str) -> dict[str, Any]:
    messages = ws_api.received(connection_id)
    assert messages, "no message was sent"
    assert_valid_events(messages)
    return messages[-1]


# ---- $connect / $disconnect ------------------------------------------------


def test_connecting_with_a_valid_token_subscribes_to_the_users_channel(
    ws: FakeWebsocketGateway,
) -> None:
    connection_id = connect(ws, "alice")

    assert services.container().connections.connections_on("user:alice") == [connection_id]


def test_connecting_without_a_token_is_refused_with_401(ws: FakeWebsocketGateway) -> None:
    connection_id, status = ws.connect(None)

    assert status == 401
    assert services.container().connections.get(connection_id) is None


def test_connecting_with_a_forged_token_is_refused_with_401(ws: FakeWebsocketGateway) -> None:
    _, status = ws.connect(token_for("alice") + "x")

    assert status == 401


def test_connecting_with_an_expired_token_is_refused_with_401(ws: FakeWebsocketGateway) -> None:
    _, status = ws.connect(token_for("alice", ttl_seconds=-3600))

    assert status == 401


def test_disconnecting_removes_the_connection_and_its_subscriptions(
    ws: FakeWebsocketGateway, course_id: str
) -> None:
    connection_id = connect(ws, "alice")
    ws.send_json(connection_id, {"action": "subscribe", "channel": course_channel(course_id)})

    ws.disconnect(connection_id)

    store = services.container().connections
    assert store.get(connection_id) is None
    assert store.connections_on(course_channel(course_id)) == []
    assert store.connections_on(user_channel("alice")) == []


# ---- $default ----------------------------------------------------------------


def test_ping_is_answered_with_pong(ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi) -> None:
    connection_id = connect(ws, "alice")

    ws.send_json(connection_id, {"action": "ping"})

    pong = last(ws_api, connection_id)
    assert pong["type"] == "pong"
    assert pong["seq"] is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "invalid_message"),
        (None, "invalid_message"),
        ("[1, 2]", "invalid_message"),
        ('{"action": "shout"}', "unknown_action"),
        ('{"channel": "user:alice"}', "unknown_action"),
        ('{"action": "subscribe"}', "invalid_message"),
        ('{"action": "subscribe", "channel": "user:alice", "since": "4"}', "invalid_message"),
        ('{"action": "subscribe", "channel": "user:alice", "since": -1}', "invalid_message"),
        ('{"action": "ping", "extra": 1}', "invalid_message"),
        ('{"action": "subscribe", "channel": "lobby"}', "invalid_channel"),
        # Python's `$` matches before a trailing newline; the grammar must not.
        ('{"action": "subscribe", "channel": "user:alice\\n"}', "invalid_channel"),
        ('{"action": "unsubscribe", "channel": "course:c_1\\n"}', "invalid_channel"),
        # ~40 KB of nesting: the parser's recursion limit, not an internal error.
        ('{"action": "ping", "x": ' + "[" * 20_000 + "]" * 20_000 + "}", "invalid_message"),
        ("[" * 20_000 + "]" * 20_000, "invalid_message"),
        (
            '{"action": "subscribe", "channel": "user:alice", "since": 9007199254740992}',
            "invalid_message",
        ),
        ('{"action": "authenticate"}', "invalid_message"),
        ('{"action": "authenticate", "token": ""}', "invalid_message"),
    ],
)
def test_a_bad_message_gets_an_error_and_the_connection_stays_open(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, body: str | None, code: str
) -> None:
    connection_id = connect(ws, "alice")

    ws.send(connection_id, body)
    error = last(ws_api, connection_id)
    ws.send_json(connection_id, {"action": "ping"})

    assert error["type"] == "error"
    assert error["data"]["code"] == code
    assert last(ws_api, connection_id)["type"] == "pong"
    assert services.container().connections.get(connection_id) is not None


def test_a_member_subscribes_to_a_course_and_learns_its_current_seq(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    services.container().courses.create_chapter(course_id, "alice", "Week 1")
    connection_id = connect(ws, "bob")

    ws.send_json(connection_id, {"action": "subscribe", "channel": course_channel(course_id)})

    reply = last(ws_api, connection_id)
    assert reply["type"] == "subscribed"
    assert reply["data"] == {"channel": course_channel(course_id), "seq": 1, "replayComplete": None}


def test_a_subscribed_member_receives_the_course_events(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    connection_id = connect(ws, "bob")
    ws.send_json(connection_id, {"action": "subscribe", "channel": course_channel(course_id)})

    chapter = services.container().courses.create_chapter(course_id, "alice", "Week 1")

    event = last(ws_api, connection_id)
    assert event["type"] == "chapter.updated"
    assert event["channel"] == course_channel(course_id)
    assert event["data"]["chapter"]["chapterId"] == chapter.chapter_id


def test_a_non_member_cannot_subscribe_to_a_course(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    connection_id = connect(ws, "mallory")

    ws.send_json(connection_id, {"action": "subscribe", "channel": course_channel(course_id)})
    services.container().courses.create_chapter(course_id, "alice", "Week 1")

    assert last(ws_api, connection_id)["data"]["code"] == "not_a_member"
    assert ws_api.types(connection_id) == ["error"]


def test_another_users_channel_cannot_be_subscribed(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi
) -> None:
    connection_id = connect(ws, "mallory")

    ws.send_json(connection_id, {"action": "subscribe", "channel": user_channel("alice")})

    assert last(ws_api, connection_id)["data"]["code"] == "forbidden"
    assert services.container().connections.connections_on(user_channel("alice")) == []


def test_unsubscribing_stops_the_course_events(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    connection_id = connect(ws, "bob")
    ws.send_json(connection_id, {"action": "subscribe", "channel": course_channel(course_id)})

    ws.send_json(connection_id, {"action": "unsubscribe", "channel": course_channel(course_id)})
    services.container().courses.create_chapter(course_id, "alice", "Week 1")

    assert ws_api.types(connection_id) == ["subscribed", "unsubscribed"]


def test_the_own_user_channel_cannot_be_left(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi
) -> None:
    connection_id = connect(ws, "alice")

    ws.send_json(connection_id, {"action": "unsubscribe", "channel": user_channel("alice")})

    assert last(ws_api, connection_id)["data"]["code"] == "invalid_channel"
    assert services.container().connections.connections_on("user:alice") == [connection_id]


def test_a_message_from_an_unregistered_connection_gets_an_error(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi
) -> None:
    ws.send_json("ghost=", {"action": "subscribe", "channel": user_channel("alice")})

    assert last(ws_api, "ghost=")["data"]["code"] == "connection_unknown"


def test_a_connection_gone_before_its_reply_is_forgotten(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi
) -> None:
    connection_id = connect(ws, "alice")
    ws_api.close(connection_id)

    ws.send_json(connection_id, {"action": "ping"})

    assert services.container().connections.get(connection_id) is None


def test_subscribing_since_a_seq_replays_the_missed_events_in_order(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    courses = services.container().courses
    chapters = [courses.create_chapter(course_id, "alice", f"Week {n}") for n in (1, 2, 3)]
    connection_id = connect(ws, "bob")

    ws.send_json(
        connection_id,
        {"action": "subscribe", "channel": course_channel(course_id), "since": 1},
    )

    messages = ws_api.received(connection_id)
    assert_valid_events(messages)
    assert [m["type"] for m in messages] == ["subscribed", "chapter.updated", "chapter.updated"]
    assert [m["seq"] for m in messages[1:]] == [2, 3]
    assert [m["data"]["chapter"]["chapterId"] for m in messages[1:]] == [
        c.chapter_id for c in chapters[1:]
    ]


def test_an_event_too_large_for_one_message_is_sent_without_data(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    chapter = services.container().courses.create_chapter(course_id, "alice", "Week 1")
    connection_id = connect(ws, "bob")
    ws.send_json(connection_id, {"action": "subscribe", "channel": course_channel(course_id)})
    huge = chapter.model_copy(update={"title": "x" * 200_000})

    services.container().publisher.publish(
        ChapterUpdated.new(
            ChapterData(chapter=huge), course_id=course_id, resources=["/r"], at=EVENT_AT
        ),
        [course_channel(course_id)],
    )

    event = last(ws_api, connection_id)
    assert event["type"] == "chapter.updated"
    assert event["data"] is None
    assert event["resources"] == ["/r"]


def test_transient_progress_carries_no_seq(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    connection_id = connect(ws, "alice")
    target = ChapterTarget(type="chapter", course_id=course_id, chapter_id="ch_1")
    progress = UploadProgress.new(
        UploadProgressData(
            bytes_uploaded=5,
            total_bytes=10,
            percent=50.0,
            bytes_per_second=None,
            eta_seconds=None,
            filename="a.mp4",
            target=target,
        ),
        operation_id="op_1",
        course_id=course_id,
        at=EVENT_AT,
    )

    services.container().publisher.publish(progress, [user_channel("alice")])

    event = last(ws_api, connection_id)
    assert event["type"] == "upload.progress"
    assert event["seq"] is None


def test_a_revoked_member_is_unsubscribed_and_gets_no_more_course_events(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    channel = course_channel(course_id)
    bob = connect(ws, "bob")
    alice = connect(ws, "alice")
    for connection_id in (bob, alice):
        ws.send_json(connection_id, {"action": "subscribe", "channel": channel})

    revoked = services.container().live_access.revoke("bob", channel)
    services.container().courses.create_chapter(course_id, "alice", "Week 1")

    assert revoked == 1
    assert ws_api.types(bob) == ["subscribed", "unsubscribed"]
    assert ws_api.types(alice) == ["subscribed", "chapter.updated"]
    assert services.container().connections.channels_of(bob) == [user_channel("bob")]


def test_a_member_removed_through_the_api_stops_receiving_course_events(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    channel = course_channel(course_id)
    bob = connect(ws, "bob")
    ws.send_json(bob, {"action": "subscribe", "channel": channel})

    with Client(app) as client:
        removed = client.http.delete(f"/courses/{course_id}/members/bob", headers=auth("alice"))
    services.container().courses.create_chapter(course_id, "alice", "Week 1")

    assert removed.status_code == 204
    assert ws_api.types(bob) == ["subscribed", "unsubscribed"]
