"""Nothing is lost across a reconnect: a client that drops, misses 5 durable
events and subscribes again with `since` gets exactly those 5, in order, then
the current progress of the course's open uploads."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib import services
from chalicelib.channels import course_channel
from chalicelib.events import ChapterData, ChapterUpdated
from chalicelib.models import Chapter
from chalicelib.realtime import RealtimeService
from chalicelib.store.events import EventLog
from tests.conftest import auth, token_for, use_container
from tests.fakes import (
    EVENT_AT,
    FakeClock,
    FakeConnectionsApi,
    FakeWebsocketGateway,
    assert_valid_events,
)

pytestmark = pytest.mark.integration


def start_chapter_upload(client: Any, user_id: str, course_id: str, chapter_id: str) -> str:
    response = client.http.post(
        "/uploads",
        headers=auth(user_id),
        body=json.dumps(
            {
                "filename": "lecture.mp4",
                "contentType": "video/mp4",
                "size": 20 * 1024**2,
                "target": {"type": "chapter", "courseId": course_id, "chapterId": chapter_id},
            }
        ),
    )
    assert response.status_code == 201, response.body
    return str(response.json_body["operationId"])


def test_a_client_that_reconnects_with_since_gets_the_missed_events_then_open_progress(
    client: Any, ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi
) -> None:
    courses = services.container().courses
    course_id = courses.create_course("alice", "Physics").course_id
    courses.set_member(course_id, "alice", "bob", "viewer")
    first = courses.create_chapter(course_id, "alice", "Week 1")
    channel = course_channel(course_id)

    before, _ = ws.connect(token_for("bob"))
    ws.send_json(before, {"action": "subscribe", "channel": channel})
    seen = ws_api.received(before)[-1]["data"]["seq"]
    ws_api.close(before)
    ws.disconnect(before)

    # Five durable events on the course while bob is away, and one upload
    # that stays open with progress reported.
    operation_id = start_chapter_upload(client, "alice", course_id, first.chapter_id)
    second = courses.create_chapter(course_id, "alice", "Week 2")
    courses.patch_chapter(course_id, second.chapter_id, "alice", version=1, title="Week 2: waves")
    courses.create_chapter(course_id, "alice", "Week 3")
    courses.patch_chapter(course_id, first.chapter_id, "alice", version=1, title="Week 1: motion")
    progress = client.http.post(
        f"/uploads/{operation_id}/progress",
        headers=auth("alice"),
        body=json.dumps({"bytesUploaded": 6 * 1024**2}),
    )
    assert progress.status_code == 202

    after, _ = ws.connect(token_for("bob"))
    ws.send_json(after, {"action": "subscribe", "channel": channel, "since": seen})

    received = ws_api.received(after)
    assert_valid_events(received)
    assert [m["type"] for m in received] == [
        "subscribed",
        "upload.started",
        "chapter.updated",
        "chapter.updated",
        "chapter.updated",
        "chapter.updated",
        "upload.progress",
    ]
    assert received[0]["data"] == {"channel": channel, "seq": seen + 5, "replayComplete": True}
    assert [m["seq"] for m in received[1:6]] == list(range(seen + 1, seen + 6))
    assert received[1]["operationId"] == operation_id
    replayed_progress = received[6]
    assert replayed_progress["operationId"] == operation_id
    assert replayed_progress["channel"] == channel
    assert replayed_progress["data"]["bytesUploaded"] == 6 * 1024**2


def test_a_subscription_without_since_replays_nothing(
    client: Any, ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi
) -> None:
    courses = services.container().courses
    course_id = courses.create_course("alice", "Physics").course_id
    courses.create_chapter(course_id, "alice", "Week 1")
    connection_id, _ = ws.connect(token_for("alice"))

    ws.send_json(connection_id, {"action": "subscribe", "channel": course_channel(course_id)})

    assert ws_api.types(connection_id) == ["subscribed"]


def service_with(log: EventLog, max_replay: int = 500) -> RealtimeService:
    c = services.container()
    return RealtimeService(
        connections=c.connections,
        events=log,
        live=c.live_access,
        verifier=c.verifier,
        memberships=c.courses,
        uploads=c.progress,
        max_replay=max_replay,
    )


def chapter_updates(course_id: str, count: int) -> None:
    courses = services.container().courses
    for n in range(count):
        courses.create_chapter(course_id, "alice", f"Week {n}")


def test_a_replay_past_the_retention_window_says_it_is_incomplete(
    ws_api: FakeConnectionsApi,
) -> None:
    clock = FakeClock(time.time())
    c = use_container(transport=ws_api, clock=clock)
    course_id = c.courses.create_course("alice", "Physics").course_id
    channel = course_channel(course_id)
    for n in range(3):
        c.publisher.publish(
            ChapterUpdated.new(ChapterData(chapter=chapter(course_id, n)), at=EVENT_AT), [channel]
        )
    clock.advance(c.settings.event_retention_hours * 3600 + 1)
    c.connections.add("late=", "alice", ["user:alice"])
    c.publisher.publish(
        ChapterUpdated.new(ChapterData(chapter=chapter(course_id, 3)), at=EVENT_AT), [channel]
    )

    c.realtime.receive("late=", json.dumps({"action": "subscribe", "channel": channel, "since": 0}))

    received = ws_api.received("late=")
    assert_valid_events(received)
    assert received[0]["data"]["replayComplete"] is False
    assert [m["seq"] for m in received[1:]] == [4]


def test_more_missed_events_than_one_replay_sends_are_not_replayed(
    ws_api: FakeConnectionsApi,
) -> None:
    c = services.container()
    course_id = c.courses.create_course("alice", "Physics").course_id
    chapter_updates(course_id, 4)
    c.connections.add("late=", "alice", ["user:alice"])

    service_with(c.event_log, max_replay=3).receive(
        "late=",
        json.dumps({"action": "subscribe", "channel": course_channel(course_id), "since": 0}),
    )

    received = ws_api.received("late=")
    assert [m["type"] for m in received] == ["subscribed"]
    assert received[0]["data"] == {
        "channel": course_channel(course_id),
        "seq": 4,
        "replayComplete": False,
    }


def test_a_since_at_or_past_the_current_seq_replays_nothing_and_is_complete(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi
) -> None:
    c = services.container()
    course_id = c.courses.create_course("alice", "Physics").course_id
    chapter_updates(course_id, 2)
    connection_id, _ = ws.connect(token_for("alice"))

    ws.send_json(
        connection_id, {"action": "subscribe", "channel": course_channel(course_id), "since": 9}
    )

    (reply,) = ws_api.received(connection_id)
    assert reply["data"]["replayComplete"] is True


def chapter(course_id: str, n: int) -> Chapter:
    now = datetime.now(UTC)
    return Chapter(
        course_id=course_id,
        chapter_id=f"ch_{n}",
        title=f"Week {n}",
        position=n,
        version=1,
        items=[],
        created_at=now,
        updated_at=now,
    )
