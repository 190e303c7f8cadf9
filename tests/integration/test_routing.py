"""The routing matrix: 3 users, 2 courses, every event type. Each connection
receives exactly the events of its channels, none other, in seq order, and
every message it receives validates against the published JSON Schema."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib import services
from chalicelib.channels import (
    chapter_channels,
    course_channel,
    link_channels,
    upload_channels,
    user_channel,
)
from chalicelib.events import (
    ChapterData,
    ChapterUpdated,
    Envelope,
    MediaLinkData,
    MediaLinked,
    MediaUnlinked,
    UploadAborted,
    UploadCompleted,
    UploadCompletedData,
    UploadData,
    UploadEndedData,
    UploadFailed,
    UploadProgress,
    UploadProgressData,
    UploadStarted,
)
from chalicelib.models import Chapter, ChapterTarget, LibraryTarget, MediaFile, Upload, UploadTarget
from tests.conftest import token_for
from tests.fakes import EVENT_AT, FakeConnectionsApi, FakeWebsocketGateway, assert_valid_events

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CONTROL = {"subscribed", "unsubscribed", "pong", "error"}


def upload(op: str, user_id: str, target: UploadTarget) -> Upload:
    return Upload(
        operation_id=op,
        upload_id=f"mpu-{op}",
        user_id=user_id,
        key=f"uploads/{user_id}/{op}/clip.mp4",
        filename="clip.mp4",
        content_type="video/mp4",
        size=10 * 1024**2,
        part_size=5 * 1024**2,
        part_count=2,
        status="uploading",
        target=target,
        bytes_uploaded=0,
        media_id=None,
        reason=None,
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW,
    )


def media(media_id: str, owner: str) -> MediaFile:
    return MediaFile(
        media_id=media_id,
        user_id=owner,
        filename="clip.mp4",
        content_type="video/mp4",
        size=10 * 1024**2,
        key=f"uploads/{owner}/op/clip.mp4",
        operation_id=None,
        created_at=NOW,
        links=[],
    )


def chapter(course_id: str) -> Chapter:
    return Chapter(
        course_id=course_id,
        chapter_id="ch_1",
        title="Week 1",
        position=1,
        version=2,
        items=[],
        created_at=NOW,
        updated_at=NOW,
    )


def upload_events(up: Upload) -> list[Envelope]:
    course = up.target.course_id if isinstance(up.target, ChapterTarget) else None
    progress = UploadProgressData(
        bytes_uploaded=5 * 1024**2,
        total_bytes=up.size,
        percent=50.0,
        bytes_per_second=1e6,
        eta_seconds=5.0,
        filename=up.filename,
        target=up.target,
    )
    kw: dict[str, Any] = {"operation_id": up.operation_id, "course_id": course, "at": NOW}
    return [
        UploadStarted.new(UploadData(upload=up), **kw),
        UploadProgress.new(progress, **kw),
        UploadCompleted.new(UploadCompletedData(upload=up, media=media("m_x", up.user_id)), **kw),
        UploadFailed.new(UploadEndedData(upload=up, reason="s3 refused"), **kw),
        UploadAborted.new(UploadEndedData(upload=up, reason="cancelled"), **kw),
    ]


def test_every_connection_receives_exactly_its_channels_events_in_seq_order(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi
) -> None:
    container = services.container()
    courses = container.courses
    # Course A: alice owns, bob edits. Course B: carol owns, alice views.
    course_a = courses.create_course("alice", "A").course_id
    course_b = courses.create_course("carol", "B").course_id
    courses.set_member(course_a, "alice", "bob", "editor")
    courses.set_member(course_b, "carol", "alice", "viewer")
    ws_api.clear()

    # Alice has two tabs: one follows both courses, one only her own channel.
    # Bob also tries course B, which he is not a member of.
    plan = {
        "alice-1": ("alice", [course_a, course_b]),
        "alice-2": ("alice", []),
        "bob": ("bob", [course_a, course_b]),
        "carol": ("carol", [course_b]),
    }
    channels_of: dict[str, set[str]] = {}
    connection_of: dict[str, str] = {}
    for name, (user_id, wanted) in plan.items():
        connection_id, status = ws.connect(token_for(user_id))
        assert status == 200
        connection_of[name] = connection_id
        channels_of[name] = {user_channel(user_id)}
        for course_id in wanted:
            ws.send_json(
                connection_id, {"action": "subscribe", "channel": course_channel(course_id)}
            )
            if courses.role_of(course_id, user_id) is not None:
                channels_of[name].add(course_channel(course_id))

    published: list[Envelope] = []

    def publish(event: Envelope, channels: list[str]) -> None:
        published.extend(container.publisher.publish(event, channels))

    for up in (
        upload("op_lib", "alice", LibraryTarget(type="library")),
        upload("op_a", "bob", ChapterTarget(type="chapter", course_id=course_a, chapter_id="c")),
        upload("op_b", "carol", ChapterTarget(type="chapter", course_id=course_b, chapter_id="c")),
    ):
        for event in upload_events(up):
            publish(event, upload_channels(up))
    for course_id, owner in ((course_a, "bob"), (course_b, "alice")):
        link = MediaLinkData(media=media(f"m_{owner}", owner), chapter=chapter(course_id))
        publish(
            MediaLinked.new(link, course_id=course_id, at=EVENT_AT), link_channels(course_id, owner)
        )
        publish(
            MediaUnlinked.new(link, course_id=course_id, at=EVENT_AT),
            link_channels(course_id, owner),
        )
        publish(
            ChapterUpdated.new(
                ChapterData(chapter=chapter(course_id)), course_id=course_id, at=EVENT_AT
            ),
            chapter_channels(course_id),
        )

    types_published = {e.type for e in published}
    assert types_published == {
        "upload.started",
        "upload.progress",
        "upload.completed",
        "upload.failed",
        "upload.aborted",
        "media.linked",
        "media.unlinked",
        "chapter.updated",
    }
    for name, connection_id in connection_of.items():
        received = ws_api.received(connection_id)
        assert_valid_events(received)
        events = [m for m in received if m["type"] not in CONTROL]
        # Each durable copy once per channel (its own seq); a transient event
        # (no seq) once per connection, as its first channel's copy.
        expected, sent_once = [], set()
        for e in published:
            if e.channel not in channels_of[name] or (e.seq is None and e.id in sent_once):
                continue
            sent_once.add(e.id)
            expected.append(e.wire())
        assert events, name
        assert events == expected, name
        last_seq: dict[str, int] = defaultdict(int)
        for message in events:
            if message["seq"] is not None:
                assert message["seq"] > last_seq[message["channel"]], name
                last_seq[message["channel"]] = message["seq"]
    bob_errors = [m for m in ws_api.received(connection_of["bob"]) if m["type"] == "error"]
    assert [e["data"]["code"] for e in bob_errors] == ["not_a_member"]
