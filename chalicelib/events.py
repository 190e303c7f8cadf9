"""The WebSocket contract, server side: one envelope and every event type.

With chalicelib/client_messages.py (what a client may send) this is the single
source of what travels over the WebSocket, both ways; chalicelib/channels.py
says who receives each event. docs/events.schema.json is generated from them
(scripts/gen_docs.py), and the client package's TypeScript declarations from
that; CI fails when either differs.

Services build an event once (`UploadStarted.new(...)`); the publisher stamps a
copy per channel with that channel's `seq`. The `id` is the same on every copy,
so a client subscribed to two channels dedupes on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from chalicelib.ids import new_id
from chalicelib.models import (
    Chapter,
    Course,
    MediaFile,
    Timestamp,
    Upload,
    UploadTarget,
    WireModel,
)

# ---- data payloads ----------------------------------------------------------


class UploadData(WireModel):
    upload: Upload


class UploadProgressData(WireModel):
    bytes_uploaded: int
    total_bytes: int
    percent: float
    bytes_per_second: float | None
    eta_seconds: float | None
    filename: str
    target: UploadTarget


class UploadCompletedData(WireModel):
    upload: Upload
    media: MediaFile


class UploadEndedData(WireModel):
    upload: Upload
    reason: str


class MediaLinkData(WireModel):
    media: MediaFile
    chapter: Chapter


class MediaData(WireModel):
    media: MediaFile


class ChapterData(WireModel):
    chapter: Chapter


class CourseData(WireModel):
    course: Course


class SubscribedData(WireModel):
    channel: str
    seq: int
    # With `since`: true when the replay that follows holds every durable event
    # after `since`; false when some are no longer kept (past the retention
    # window, or more than one replay sends), so the client refetches the
    # channel's resources instead. Null without `since`.
    replay_complete: bool | None = None


class UnsubscribedData(WireModel):
    channel: str


class PongData(WireModel):
    pass


class AuthenticatedData(WireModel):
    # When the connection's rights now end: the new token's `exp`. Send
    # `authenticate` again with a fresh token before then.
    expires_at: Timestamp


class ErrorData(WireModel):
    code: str
    message: str


# ---- the envelope -----------------------------------------------------------


class Envelope(BaseModel):
    """Every message the server sends. Field names are the wire names."""

    # Every field is on the wire in every message (null where it does not
    # apply): the published schema says so, so a client may read
    # `event.operationId` without first asking whether the key exists. The
    # defaults only serve the server building events.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_serialization_defaults_required=True,
        defer_build=True,
    )

    durable: ClassVar[bool] = False

    v: Literal[1] = 1
    id: str
    type: str
    channel: str | None = None
    seq: int | None = None
    at: Timestamp
    operationId: str | None = None  # noqa: N815 - the wire name
    courseId: str | None = None  # noqa: N815 - the wire name
    # `data` is null only when the event was too large for one WebSocket
    # message: the client then refetches `resources`.
    data: Any
    resources: list[str] = Field(default_factory=list)

    @classmethod
    def new(
        cls,
        data: Any,
        *,
        operation_id: str | None = None,
        course_id: str | None = None,
        resources: Sequence[str] = (),
        at: datetime,
    ) -> Self:
        """`at` is when the change happened, from the service's clock (the
        container injects it), never the wall clock read here."""
        type_name = cls.model_fields["type"].default
        return cls(
            id=new_id("evt"),
            type=type_name,
            at=at,
            operationId=operation_id,
            courseId=course_id,
            data=data,
            resources=list(resources),
        )

    def on_channel(self, channel: str, seq: int | None) -> Self:
        return self.model_copy(update={"channel": channel, "seq": seq if self.durable else None})

    def without_data(self) -> Self:
        return self.model_copy(update={"data": None})

    # by_alias: the data models are camelCase on the wire; without it pydantic
    # dumps nested models with their snake_case attribute names.
    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


class UploadStarted(Envelope):
    durable = True
    type: Literal["upload.started"] = "upload.started"
    data: UploadData | None


class UploadProgress(Envelope):
    type: Literal["upload.progress"] = "upload.progress"
    data: UploadProgressData | None


class UploadCompleted(Envelope):
    durable = True
    type: Literal["upload.completed"] = "upload.completed"
    data: UploadCompletedData | None


class UploadFailed(Envelope):
    durable = True
    type: Literal["upload.failed"] = "upload.failed"
    data: UploadEndedData | None


class UploadAborted(Envelope):
    durable = True
    type: Literal["upload.aborted"] = "upload.aborted"
    data: UploadEndedData | None


class MediaLinked(Envelope):
    durable = True
    type: Literal["media.linked"] = "media.linked"
    data: MediaLinkData | None


class MediaUnlinked(Envelope):
    durable = True
    type: Literal["media.unlinked"] = "media.unlinked"
    data: MediaLinkData | None


class MediaUpdated(Envelope):
    """The processing step's outcome: the media file's new status and metadata,
    to its owner and to every course whose chapters hold it."""

    durable = True
    type: Literal["media.updated"] = "media.updated"
    data: MediaData | None


class ChapterUpdated(Envelope):
    durable = True
    type: Literal["chapter.updated"] = "chapter.updated"
    data: ChapterData | None


class ChapterDeleted(Envelope):
    """`chapter` is the chapter as it was when deleted, items included."""

    durable = True
    type: Literal["chapter.deleted"] = "chapter.deleted"
    data: ChapterData | None


class CourseUpdated(Envelope):
    durable = True
    type: Literal["course.updated"] = "course.updated"
    data: CourseData | None


class CourseDeleted(Envelope):
    """`course` is the course as it was when its deletion began."""

    durable = True
    type: Literal["course.deleted"] = "course.deleted"
    data: CourseData | None


class Subscribed(Envelope):
    type: Literal["subscribed"] = "subscribed"
    data: SubscribedData | None


class Unsubscribed(Envelope):
    type: Literal["unsubscribed"] = "unsubscribed"
    data: UnsubscribedData | None


class Pong(Envelope):
    type: Literal["pong"] = "pong"
    data: PongData | None


class Authenticated(Envelope):
    type: Literal["authenticated"] = "authenticated"
    data: AuthenticatedData | None


class Error(Envelope):
    type: Literal["error"] = "error"
    data: ErrorData | None


AnyEvent = Annotated[
    UploadStarted
    | UploadProgress
    | UploadCompleted
    | UploadFailed
    | UploadAborted
    | MediaLinked
    | MediaUnlinked
    | MediaUpdated
    | ChapterUpdated
    | ChapterDeleted
    | CourseUpdated
    | CourseDeleted
    | Subscribed
    | Unsubscribed
    | Pong
    | Authenticated
    | Error,
    Field(discriminator="type"),
]

# The same types, in the same order, read from the union above (one list to keep).
EVENT_TYPES: tuple[type[Envelope], ...] = get_args(get_args(AnyEvent)[0])

EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent, config=ConfigDict(defer_build=True))

EVENTS_BY_TYPE: dict[str, type[Envelope]] = {
    cls.model_fields["type"].default: cls for cls in EVENT_TYPES
}


@dataclass(frozen=True)
class Announcement:
    """A durable event and the channels it goes to, as a service hands it to
    the store whose write it announces: the store commits it to the outbox in
    the same transaction (chalicelib/store/outbox.py), where each channel
    numbers its copy."""

    event: Envelope
    channels: tuple[str, ...]

    @classmethod
    def of(cls, event: Envelope, channels: Sequence[str]) -> Announcement:
        if not event.durable:
            raise ValueError(f"{event.type} is transient: it is sent, never committed")
        return cls(event, tuple(channels))


def parse_event(document: str | bytes | dict[str, Any]) -> Envelope:
    """Read an event back (replay from the event log, tests, the schema check)."""
    if isinstance(document, dict):
        return EVENT_ADAPTER.validate_python(document)
    return EVENT_ADAPTER.validate_json(document)
