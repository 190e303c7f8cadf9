"""The WebSocket contract: one envelope, every event type, the client messages
and the routing rules.

This module is the single source of what travels over the WebSocket, both ways.
docs/events.schema.json and docs/asyncapi.json are generated from it
(scripts/gen_docs.py), and so are the npm package's TypeScript declarations;
CI fails when any of them differs.

Services build an event once (`UploadStarted.new(...)`); the publisher stamps a
copy per channel with that channel's `seq`. The `id` is the same on every copy,
so a client subscribed to two channels dedupes on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from chalicelib.ids import new_id, utcnow
from chalicelib.models import (
    MAX_INT,
    Chapter,
    ChapterTarget,
    MediaFile,
    Timestamp,
    Upload,
    UploadTarget,
    WireModel,
)

# ---- channels: one naming rule, one routing rule per scope -----------------


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


def course_channel(course_id: str) -> str:
    return f"course:{course_id}"


def upload_channels(upload: Upload) -> list[str]:
    """Upload events go to the uploader, and to the course when the target is a chapter."""
    channels = [user_channel(upload.user_id)]
    if isinstance(upload.target, ChapterTarget):
        channels.append(course_channel(upload.target.course_id))
    return channels


def link_channels(course_id: str, media_owner: str) -> list[str]:
    """media.linked / media.unlinked go to the course and to the media owner."""
    return [course_channel(course_id), user_channel(media_owner)]


def chapter_channels(course_id: str) -> list[str]:
    return [course_channel(course_id)]


# ---- resources: the REST paths an event changed -----------------------------


def upload_path(operation_id: str) -> str:
    return f"/uploads/{operation_id}"


def media_paths(media_id: str) -> list[str]:
    return ["/media", f"/media/{media_id}"]


def chapter_paths(course_id: str, chapter_id: str) -> list[str]:
    return [
        f"/courses/{course_id}",
        f"/courses/{course_id}/chapters",
        f"/courses/{course_id}/chapters/{chapter_id}",
    ]


def target_course(target: UploadTarget) -> str | None:
    return target.course_id if isinstance(target, ChapterTarget) else None


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


class ChapterData(WireModel):
    chapter: Chapter


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
        extra="forbid", frozen=True, json_schema_serialization_defaults_required=True
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
        at: datetime | None = None,
    ) -> Self:
        type_name = cls.model_fields["type"].default
        return cls(
            id=new_id("evt"),
            type=type_name,
            at=at or utcnow(),
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


class ChapterUpdated(Envelope):
    durable = True
    type: Literal["chapter.updated"] = "chapter.updated"
    data: ChapterData | None


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


EVENT_TYPES: tuple[type[Envelope], ...] = (
    UploadStarted,
    UploadProgress,
    UploadCompleted,
    UploadFailed,
    UploadAborted,
    MediaLinked,
    MediaUnlinked,
    ChapterUpdated,
    Subscribed,
    Unsubscribed,
    Pong,
    Authenticated,
    Error,
)

AnyEvent = Annotated[
    UploadStarted
    | UploadProgress
    | UploadCompleted
    | UploadFailed
    | UploadAborted
    | MediaLinked
    | MediaUnlinked
    | ChapterUpdated
    | Subscribed
    | Unsubscribed
    | Pong
    | Authenticated
    | Error,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)

EVENTS_BY_TYPE: dict[str, type[Envelope]] = {
    cls.model_fields["type"].default: cls for cls in EVENT_TYPES
}


# ---- client messages: what a connection may send ---------------------------

MAX_CHANNEL_LENGTH = 140
MAX_TOKEN_LENGTH = 16 * 1024


class _ClientMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SubscribeMessage(_ClientMessage):
    """Receive a channel's events; with `since`, first every durable one after it."""

    action: Literal["subscribe"]
    channel: str = Field(max_length=MAX_CHANNEL_LENGTH)
    since: int | None = Field(default=None, ge=0, le=MAX_INT)


class UnsubscribeMessage(_ClientMessage):
    action: Literal["unsubscribe"]
    channel: str = Field(max_length=MAX_CHANNEL_LENGTH)


class PingMessage(_ClientMessage):
    """Keeps a connection under API Gateway's 10-minute idle limit; answered by `pong`."""

    action: Literal["ping"]


class AuthenticateMessage(_ClientMessage):
    """A fresh token for this connection (the same user), before or after the
    one it connected with expires; answered by `authenticated`."""

    action: Literal["authenticate"]
    # Cognito ID tokens run to a few KB; a frame holds 32 KB.
    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


ClientMessage = Annotated[
    SubscribeMessage | UnsubscribeMessage | PingMessage | AuthenticateMessage,
    Field(discriminator="action"),
]
CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
ACTIONS = ("subscribe", "unsubscribe", "ping", "authenticate")


def parse_event(document: str | bytes | dict[str, Any]) -> Envelope:
    """Read an event back (replay from the event log, tests, the schema check)."""
    if isinstance(document, dict):
        return EVENT_ADAPTER.validate_python(document)
    return EVENT_ADAPTER.validate_json(document)


SCHEMA_ID = "urn:course-media:websocket:v1"


def json_schema() -> dict[str, Any]:
    """Every WebSocket message, both ways: `ServerMessage` (the envelope, one
    definition per type) and `ClientMessage` (one per action)."""
    keys, defs = TypeAdapter.json_schemas(
        [
            ("server", "serialization", EVENT_ADAPTER),
            ("client", "validation", CLIENT_MESSAGE),
        ],
        by_alias=True,
    )
    definitions = dict(sorted(defs.get("$defs", {}).items()))
    definitions["ServerMessage"] = {
        "description": "Every message the server sends: one envelope, told apart by `type`.",
        **keys[("server", "serialization")],
    }
    definitions["ClientMessage"] = {
        "description": "Every message a client may send, told apart by `action`.",
        **keys[("client", "validation")],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "course-media WebSocket message",
        "description": "Generated by scripts/gen_docs.py from chalicelib/events.py; do not edit.",
        "oneOf": [{"$ref": "#/$defs/ServerMessage"}, {"$ref": "#/$defs/ClientMessage"}],
        "$defs": definitions,
    }
