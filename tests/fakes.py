"""In-memory stand-ins for the domain tests (Cosmic Python's fakes): they keep
the same contracts as the real adapters, so tests assert behaviour, not calls."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.auth import ROLES, Role
from chalicelib.domain.connections import Connection
from chalicelib.domain.courses import CourseRecord, CourseSnapshot
from chalicelib.domain.media import LibraryPosition, MediaPage
from chalicelib.errors import Conflict, Forbidden, NotFound, VersionConflict
from chalicelib.events import Announcement, Envelope
from chalicelib.ids import iso
from chalicelib.models import Chapter, MediaFile, MediaLink, Member

# When a test's event happened: events take their time from the caller's clock.
EVENT_AT = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to (chalicelib/clock.py's Clock)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class InMemoryPublisher:
    """A Publisher that numbers durable events per channel and records every
    delivery in order, as the realtime publisher would deliver them.

    It is also a ChannelDelivery (chalicelib/broadcast.py): given to a
    Container as `delivery`, it records the copies the outbox numbered and the
    event log recorded, in the order they were delivered; and the in-memory
    stores below commit their announcements through `publish`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq: dict[str, int] = defaultdict(int)
        self.sent: list[Envelope] = []

    def publish(self, event: Envelope, channels: Sequence[str]) -> list[Envelope]:
        copies = []
        with self._lock:
            for channel in channels:
                seq = None
                if event.durable:
                    self._seq[channel] += 1
                    seq = self._seq[channel]
                copy = event.on_channel(channel, seq)
                self.sent.append(copy)
                copies.append(copy)
        return copies

    def deliver(self, copies: Sequence[Envelope]) -> None:
        with self._lock:
            self.sent.extend(copies)

    def commit(self, announcements: Sequence[Announcement]) -> None:
        """What an in-memory store does once its write succeeded."""
        for announcement in announcements:
            self.publish(announcement.event, announcement.channels)

    def on(self, channel: str) -> list[Envelope]:
        return [e for e in self.sent if e.channel == channel]

    def types_on(self, channel: str) -> list[str]:
        return [e.type for e in self.on(channel)]


class FakeConnectionsApi:
    """API Gateway's @connections management API, behind our adapter.

    It stands in for the HTTP exchange only (chalicelib/management_api.py's
    Transport), so the adapter's answers, retries and the fan-out run for real:
    a closed connection answers 410 (gone), a throttled one 429, and every
    connection's messages are kept apart, in order. moto's API never answers 410
    and concatenates every message into one blob.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: dict[str, list[bytes]] = defaultdict(list)
        self.closed: set[str] = set()
        self._throttled: dict[str, int] = {}
        self.posts = 0

    def close(self, *connection_ids: str) -> None:
        """The client went away: later posts answer GoneException."""
        with self._lock:
            self.closed.update(connection_ids)

    def throttle(self, connection_id: str, times: int) -> None:
        """Answer the next `times` posts to this connection with LimitExceededException."""
        with self._lock:
            self._throttled[connection_id] = times

    def received(self, connection_id: str) -> list[dict[str, Any]]:
        import json

        with self._lock:
            return [json.loads(m) for m in self.messages.get(connection_id, [])]

    def types(self, connection_id: str) -> list[str]:
        return [str(m["type"]) for m in self.received(connection_id)]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def post(self, connection_id: str, payload: bytes) -> int:
        with self._lock:
            self.posts += 1
            if connection_id in self.closed:
                return 410
            if self._throttled.get(connection_id, 0) > 0:
                self._throttled[connection_id] -= 1
                return 429
            self.messages[connection_id].append(payload)
        return 200


class InMemoryConnections:
    """chalicelib.store.connections.ConnectionStore in memory (without expiry)."""

    def __init__(self) -> None:
        self.channels: dict[str, set[str]] = {}
        self.users: dict[str, str] = {}

    def add(
        self,
        connection_id: str,
        user_id: str,
        channels: Sequence[str] = (),
        *,
        token_expires_at: int | None = None,
    ) -> Connection:
        self.users[connection_id] = user_id
        self.channels[connection_id] = set(channels)
        return Connection(connection_id, user_id, 0, 2**40, token_expires_at or 2**40)

    def reauthenticate(self, conn: Connection, token_expires_at: int) -> Connection:
        if conn.connection_id not in self.users:
            raise NotFound("the connection is closed", code="connection_closed")
        return Connection(
            conn.connection_id, conn.user_id, conn.connected_at, conn.expires_at, token_expires_at
        )

    def get(self, connection_id: str) -> Connection | None:
        user_id = self.users.get(connection_id)
        return None if user_id is None else Connection(connection_id, user_id, 0, 2**40, 2**40)

    def remove(self, connection_id: str) -> None:
        self.users.pop(connection_id, None)
        self.channels.pop(connection_id, None)

    def subscribe(self, conn: Connection, channel: str) -> None:
        if conn.connection_id not in self.users:
            raise NotFound("the connection is closed", code="connection_closed")
        self.channels[conn.connection_id].add(channel)

    def unsubscribe(self, connection_id: str, channel: str) -> None:
        if connection_id not in self.users:
            raise NotFound("the connection is closed", code="connection_closed")
        self.channels[connection_id].discard(channel)

    def connections_on(self, channel: str) -> list[str]:
        return sorted(cid for cid, channels in self.channels.items() if channel in channels)

    def subscribers(self, channel: str, user_id: str) -> list[str]:
        return [cid for cid in self.connections_on(channel) if self.users[cid] == user_id]


class InMemoryEventLog:
    """chalicelib.store.events.EventLog in memory (without retention)."""

    def __init__(self) -> None:
        self.events: dict[str, list[Envelope]] = defaultdict(list)

    def append(self, event: Envelope, channel: str) -> Envelope:
        stamped = event.on_channel(channel, len(self.events[channel]) + 1)
        self.events[channel].append(stamped)
        return stamped

    def current_seq(self, channel: str) -> int:
        return len(self.events[channel])

    def since(self, channel: str, seq: int, through: int | None = None) -> list[Envelope]:
        last = self.current_seq(channel) if through is None else through
        return [e for e in self.events[channel] if e.seq is not None and seq < e.seq <= last]


class FakeWebsocketGateway:
    """API Gateway's WebSocket side: turns a client's connect, message and
    disconnect into the Lambda events Chalice's `on_ws_*` handlers receive."""

    API_ID = "wsapi0test"
    STAGE = "api"

    def __init__(self, lambda_client: object) -> None:
        self._lambda = lambda_client
        self._next = 0

    def _event(self, route: str, connection_id: str, **extra: object) -> dict[str, object]:
        return {
            "requestContext": {
                "routeKey": route,
                "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(
                    route, "MESSAGE"
                ),
                "connectionId": connection_id,
                "apiId": self.API_ID,
                "stage": self.STAGE,
                "domainName": f"{self.API_ID}.execute-api.us-east-1.amazonaws.com",
                "requestId": f"req-{connection_id}",
            },
            "isBase64Encoded": False,
            **extra,
        }

    def _invoke(self, handler: str, event: dict[str, object]) -> dict[str, Any]:
        response = self._lambda.invoke(handler, event)  # type: ignore[attr-defined]
        return dict(response.payload)

    def connect(self, token: str | None, connection_id: str | None = None) -> tuple[str, int]:
        """Returns the connection id and the status the handler answered."""
        if connection_id is None:
            self._next += 1
            connection_id = f"conn{self._next:04d}="
        return connection_id, int(str(self.connect_answer(token, connection_id)["statusCode"]))

    def connect_answer(self, token: str | None, connection_id: str) -> dict[str, Any]:
        """The handler's whole answer to `$connect`: status, headers and body."""
        params = {"token": token} if token is not None else None
        event = self._event("$connect", connection_id, queryStringParameters=params)
        return self._invoke("on_ws_connect", event)

    def send(self, connection_id: str, body: str | None) -> None:
        self._invoke("on_ws_message", self._event("$default", connection_id, body=body))

    def send_json(self, connection_id: str, message: dict[str, object]) -> None:
        import json

        self.send(connection_id, json.dumps(message))

    def disconnect(self, connection_id: str) -> None:
        self._invoke("on_ws_disconnect", self._event("$disconnect", connection_id))


def assert_valid_events(messages: Sequence[object]) -> None:
    """Every message validates against the published event schema."""
    from jsonschema import Draft202012Validator

    from chalicelib.event_schema import json_schema

    validator = Draft202012Validator(json_schema())
    for message in messages:
        validator.validate(message)


# ---- courses, media and links: the same contracts as chalicelib/store/* ------


class InMemoryCourseStore:
    """chalicelib.store.courses.CourseStore in memory, conditions included; the
    announcements of a write that succeeded go to `outbox`."""

    def __init__(self, outbox: InMemoryPublisher | None = None) -> None:
        self.outbox = outbox or InMemoryPublisher()
        self._lock = threading.RLock()
        self.courses: dict[str, CourseRecord] = {}
        self.roles: dict[tuple[str, str], Role] = {}
        # When each membership last changed (what orders a user's course list).
        self.changed: dict[tuple[str, str], datetime] = {}
        self.chapters: dict[tuple[str, str], Chapter] = {}
        self._next_position: dict[str, int] = defaultdict(int)

    def role_of(self, course_id: str, user_id: str) -> Role | None:
        return self.roles.get((course_id, user_id))

    def get_chapter(self, course_id: str, chapter_id: str) -> Chapter | None:
        return self.chapters.get((course_id, chapter_id))

    def list_chapters(self, course_id: str) -> list[Chapter]:
        found = [c for (cid, _), c in self.chapters.items() if cid == course_id]
        return sorted(found, key=lambda c: (c.position, c.chapter_id))

    def load(self, course_id: str, *, deleting: bool = False) -> CourseSnapshot | None:
        course = self.courses.get(course_id)
        if course is None:
            return None
        return CourseSnapshot(course, self.list_members(course_id), self.list_chapters(course_id))

    def list_members(self, course_id: str) -> list[Member]:
        return sorted(
            (
                Member(user_id=uid, role=role)
                for (cid, uid), role in self.roles.items()
                if cid == course_id
            ),
            key=lambda m: (ROLES.index(m.role), m.user_id),
        )

    def create_course(self, course: CourseRecord) -> None:
        with self._lock:
            self.courses[course.course_id] = course
            self.roles[(course.course_id, course.created_by)] = "owner"
            self.changed[(course.course_id, course.created_by)] = course.created_at

    def rename(
        self,
        course_id: str,
        title: str,
        expected_version: int,
        at: datetime,
        announce: Sequence[Announcement] = (),
    ) -> None:
        with self._lock:
            current = self.courses.get(course_id)
            if current is None:
                raise NotFound("course not found", code="course_not_found")
            if current.version != expected_version:
                raise VersionConflict(
                    "the course changed since that version",
                    details=[{"expected": expected_version, "current": current.version}],
                )
            renamed = replace(current, title=title, version=current.version + 1, updated_at=at)
            self.courses[course_id] = renamed
            self.outbox.commit(announce)

    def touch_members(self, course_id: str, at: datetime) -> None:
        with self._lock:
            for key in [k for k in self.changed if k[0] == course_id]:
                self.changed[key] = max(self.changed[key], at)

    def _owners(self, course_id: str) -> int:
        return sum(1 for (cid, _), r in self.roles.items() if cid == course_id and r == "owner")

    def set_role(
        self, course_id: str, user_id: str, role: Role, previous: Role | None, at: datetime
    ) -> None:
        with self._lock:
            if self.roles.get((course_id, user_id)) != previous:
                raise Conflict("membership changed", code="member_changed")
            if previous == "owner" and role != "owner" and self._owners(course_id) <= 1:
                raise Conflict("a course must keep at least one owner", code="last_owner")
            self.roles[(course_id, user_id)] = role
            self.changed[(course_id, user_id)] = at

    def remove_member(self, course_id: str, user_id: str, previous: Role) -> None:
        with self._lock:
            if self.roles.get((course_id, user_id)) != previous:
                raise Conflict("membership changed", code="member_changed")
            if previous == "owner" and self._owners(course_id) <= 1:
                raise Conflict("a course must keep at least one owner", code="last_owner")
            del self.roles[(course_id, user_id)]
            self.changed.pop((course_id, user_id), None)

    def next_position(self, course_id: str) -> int:
        with self._lock:
            if course_id not in self.courses:
                raise NotFound("course not found", code="course_not_found")
            position = self._next_position[course_id]
            self._next_position[course_id] += 1
            return position

    def put_chapter(self, chapter: Chapter, announce: Sequence[Announcement] = ()) -> None:
        with self._lock:
            self.chapters[(chapter.course_id, chapter.chapter_id)] = chapter
            self.outbox.commit(announce)

    def replace_chapter(
        self, chapter: Chapter, expected_version: int, announce: Sequence[Announcement] = ()
    ) -> None:
        with self._lock:
            current = self.chapters.get((chapter.course_id, chapter.chapter_id))
            if current is None or current.version != expected_version:
                raise VersionConflict("the chapter changed since that version")
            self.chapters[(chapter.course_id, chapter.chapter_id)] = chapter
            self.outbox.commit(announce)


class InMemoryMediaStore:
    """chalicelib.store.media.MediaStore in memory."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.files: dict[str, MediaFile] = {}

    def put_if_absent(self, media: MediaFile) -> bool:
        with self._lock:
            if media.media_id in self.files:
                return False
            self.files[media.media_id] = media
            return True

    def get(self, media_id: str) -> MediaFile | None:
        return self.files.get(media_id)

    def get_many(self, media_ids: list[str]) -> list[MediaFile]:
        return [self.files[m] for m in media_ids if m in self.files]

    def list_by_owner(
        self, user_id: str, limit: int, after: LibraryPosition | None = None
    ) -> MediaPage:
        mine = sorted(
            (m for m in self.files.values() if m.user_id == user_id),
            key=lambda m: (iso(m.created_at), m.media_id),
            reverse=True,
        )
        if after:
            mine = [
                m
                for m in mine
                if (iso(m.created_at), m.media_id) < (after.created_at, after.media_id)
            ]
        page = mine[:limit]
        last = page[-1] if len(mine) > limit else None
        return MediaPage(
            page, LibraryPosition(last.media_id, iso(last.created_at)) if last else None
        )

    def delete_unlinked(self, media_id: str, owner: str) -> None:
        with self._lock:
            media = self.files.get(media_id)
            if media is None or media.user_id != owner:
                raise NotFound("media file not found")
            if media.links:
                raise Conflict("the media file is linked into a chapter", code="media_linked")
            del self.files[media_id]


class InMemoryObjects:
    """The media bucket: which keys were deleted, and stand-in download URLs."""

    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete(self, key: str) -> None:
        self.deleted.append(key)

    def download_url(self, key: str, filename: str) -> str:
        return f"https://bucket.example/{key}?signed"


class InMemoryLinkStore:
    """chalicelib.store.links.LinkStore over the two in-memory stores: all or nothing."""

    def __init__(self, courses: InMemoryCourseStore, media: InMemoryMediaStore) -> None:
        self._courses = courses
        self._media = media
        # Set to make the next N writes lose an optimistic race, as a
        # concurrent writer would make them.
        self.lose_races = 0

    def _check(self, chapter: Chapter, expected_version: int, actor: str) -> None:
        current = self._courses.get_chapter(chapter.course_id, chapter.chapter_id)
        if self.lose_races > 0 or current is None or current.version != expected_version:
            self.lose_races = max(0, self.lose_races - 1)
            raise VersionConflict("the chapter changed since it was read")
        if self._courses.role_of(chapter.course_id, actor) not in ("owner", "editor"):
            raise Forbidden("only course owners and editors may change chapter media")

    def link(
        self,
        chapter: Chapter,
        expected_version: int,
        media_id: str,
        owner: str,
        actor: str,
        announce: Sequence[Announcement] = (),
    ) -> None:
        with self._courses._lock, self._media._lock:
            self._check(chapter, expected_version, actor)
            media = self._media.files.get(media_id)
            link = MediaLink(course_id=chapter.course_id, chapter_id=chapter.chapter_id)
            if media is None or media.user_id != owner or link in media.links:
                raise NotFound("media file not found", code="media_not_found")
            self._courses.chapters[(chapter.course_id, chapter.chapter_id)] = chapter
            self._media.files[media_id] = media.model_copy(update={"links": [*media.links, link]})
            self._courses.outbox.commit(announce)

    def unlink(
        self,
        chapter: Chapter,
        expected_version: int,
        media_id: str,
        actor: str,
        announce: Sequence[Announcement] = (),
    ) -> None:
        with self._courses._lock, self._media._lock:
            self._check(chapter, expected_version, actor)
            media = self._media.files.get(media_id)
            link = MediaLink(course_id=chapter.course_id, chapter_id=chapter.chapter_id)
            if media is None or link not in media.links:
                raise NotFound("media file not found", code="media_not_found")
            self._courses.chapters[(chapter.course_id, chapter.chapter_id)] = chapter
            links = [x for x in media.links if x != link]
            self._media.files[media_id] = media.model_copy(update={"links": links})
            self._courses.outbox.commit(announce)


def media_file(
    media_id: str,
    owner: str,
    created_at: datetime,
    *,
    size: int = 1234,
    links: Sequence[MediaLink] = (),
) -> MediaFile:
    """A media file as upload completion records it (tests insert them directly)."""
    return MediaFile(
        media_id=media_id,
        user_id=owner,
        filename=f"{media_id}.mp4",
        content_type="video/mp4",
        size=size,
        key=f"uploads/{owner}/op_{media_id}/{media_id}.mp4",
        operation_id=f"op_{media_id}",
        created_at=created_at,
        links=list(links),
    )
