"""What a client may send on the WebSocket, and the error codes it gets back."""

from __future__ import annotations

import pytest

from chalicelib.auth import Caller, Role
from chalicelib.broadcast import FanOut
from chalicelib.client_messages import (
    PingMessage,
    SubscribeMessage,
    UnsubscribeMessage,
    parse_message,
)
from chalicelib.errors import InvalidInput, Unauthenticated
from chalicelib.events import UploadProgress, UploadProgressData, UploadStarted
from chalicelib.management_api import ConnectionsApi
from chalicelib.models import LibraryTarget
from chalicelib.realtime import LiveAccess, RealtimeService
from tests.fakes import EVENT_AT, FakeConnectionsApi, InMemoryConnections, InMemoryEventLog


def test_subscribe_with_since_is_read() -> None:
    message = parse_message('{"action": "subscribe", "channel": "course:c_1", "since": 41}')

    assert message == SubscribeMessage(action="subscribe", channel="course:c_1", since=41)


class NoTokens:
    """No token is valid (these tests never connect)."""

    def verify(self, token: str | None) -> Caller:
        raise Unauthenticated("no tokens here")


class Viewers:
    """Everyone is a viewer of every course."""

    def role_of(self, course_id: str, user_id: str) -> Role | None:
        return "viewer"


class OpenUpload:
    """One open upload on every channel, with progress to replay."""

    def current_progress(self, channel: str) -> list[UploadProgress]:
        data = UploadProgressData(
            bytes_uploaded=5,
            total_bytes=10,
            percent=50.0,
            bytes_per_second=None,
            eta_seconds=None,
            filename="talk.mp4",
            target=LibraryTarget(type="library"),
        )
        return [
            UploadProgress.new(data, operation_id="op_1", at=EVENT_AT).on_channel(channel, None)
        ]


def durable(n: int) -> UploadStarted:
    # The service replays whatever durable envelope the log holds; data is irrelevant.
    return UploadStarted.model_validate(
        {"id": f"evt_{n}", "at": "2026-11-21T10:00:00.000Z", "data": None}
    )


@pytest.fixture
def realtime() -> tuple[RealtimeService, FakeConnectionsApi, InMemoryEventLog]:
    api, log, connections = FakeConnectionsApi(), InMemoryEventLog(), InMemoryConnections()
    connections.add("conn1=", "ann", ["user:ann"])
    service = RealtimeService(
        connections=connections,
        events=log,
        live=LiveAccess(connections, FanOut(ConnectionsApi(api), workers=1), 128 * 1024),
        verifier=NoTokens(),
        memberships=Viewers(),
        uploads=OpenUpload(),
    )
    return service, api, log


def test_subscribe_without_since_replays_nothing(
    realtime: tuple[RealtimeService, FakeConnectionsApi, InMemoryEventLog],
) -> None:
    service, api, log = realtime
    for n in range(3):
        log.append(durable(n), "course:c_1")

    service.receive("conn1=", '{"action": "subscribe", "channel": "course:c_1"}')

    # Neither the three durable events nor the open upload's progress: only
    # where the channel stands, for a later `since`.
    assert api.types("conn1=") == ["subscribed"]
    assert api.received("conn1=")[0]["data"] == {
        "channel": "course:c_1",
        "seq": 3,
        "replayComplete": None,
    }


def test_subscribe_with_since_replays_what_came_after_it_then_progress(
    realtime: tuple[RealtimeService, FakeConnectionsApi, InMemoryEventLog],
) -> None:
    service, api, log = realtime
    for n in range(3):
        log.append(durable(n), "course:c_1")

    service.receive("conn1=", '{"action": "subscribe", "channel": "course:c_1", "since": 1}')

    received = api.received("conn1=")
    assert [m["type"] for m in received] == [
        "subscribed",
        "upload.started",
        "upload.started",
        "upload.progress",
    ]
    assert [m["seq"] for m in received[1:3]] == [2, 3]


def test_unsubscribe_and_ping_are_read() -> None:
    assert isinstance(
        parse_message('{"action": "unsubscribe", "channel": "course:c_1"}'), UnsubscribeMessage
    )
    assert isinstance(parse_message('{"action": "ping"}'), PingMessage)


@pytest.mark.parametrize("body", ["", "None", "   ", "{", "null", '"ping"', "42"])
def test_a_message_that_is_not_a_json_object_is_invalid(body: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_message(body if body != "None" else None)

    assert caught.value.code == "invalid_message"


def test_an_unknown_action_is_named_in_the_error() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_message('{"action": "publish", "channel": "course:c_1"}')

    assert caught.value.code == "unknown_action"
    assert "publish" in caught.value.message


def test_a_boolean_since_is_invalid() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_message('{"action": "subscribe", "channel": "course:c_1", "since": true}')

    assert caught.value.code == "invalid_message"
    assert "since" in caught.value.message


def test_an_overlong_channel_is_invalid() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_message('{"action": "subscribe", "channel": "course:' + "c" * 500 + '"}')

    assert caught.value.code == "invalid_message"
