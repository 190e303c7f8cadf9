"""The processing step's records: the queue's message, what a file's headers
said, and the reasons a media file ends as it does (docs/processing.md).

A media file is `processing` from completion until one processing run commits
its outcome: `ready` with what the headers said (`reason` only when they said
nothing a player could use), or `failed` with a `reason`. Every run that
cannot finish on its last attempt ends the file `failed`, so no file stays in
`processing` once its message has used up its attempts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.ids import is_resource_id

# Why a media file ended as it did (MediaFile.reason).
NOT_MEDIA = "not_media"  # no demuxer of the accepted formats recognises the bytes
UNREADABLE = "unreadable"  # recognised, but its headers or first frames cannot be read
EMPTY = "no_duration"  # audio or video that lasts no time: nothing to play
NO_METADATA = "no_metadata"  # ready, but the headers name no duration nor frame size
TIMED_OUT = "processing_timed_out"  # the last attempt ran out of time
ERRORED = "processing_error"  # the last attempt failed for another reason
FAILED_REASONS = (NOT_MEDIA, UNREADABLE, EMPTY, TIMED_OUT, ERRORED)


@dataclass(frozen=True)
class Probe:
    """What a file's headers (and, for video, its first frames) said."""

    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    rotation: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    bitrate: int | None = None
    poster: bytes | None = None  # a JPEG, for video that has a frame to show
    failed: str | None = None  # a FAILED_REASONS entry when the file cannot be played

    def metadata(self) -> dict[str, Any]:
        """The MediaFile fields this probe fills in (a `model_copy` update)."""
        if self.failed is not None:
            return {"status": "failed", "reason": self.failed, "has_poster": False}
        fields: dict[str, Any] = {
            "status": "ready",
            "duration_seconds": self.duration_seconds,
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "video_codec": self.video_codec,
            "audio_codec": self.audio_codec,
            "bitrate": self.bitrate,
            "has_poster": self.poster is not None,
        }
        says_nothing = self.duration_seconds is None and self.width is None
        fields["reason"] = NO_METADATA if says_nothing else None
        return fields


@dataclass(frozen=True)
class ProcessingMessage:
    """The processing queue's message: `{"mediaId": "..."}`. Completion sends
    it for each new media file; `course-media-ops media reprocess` for each
    file it puts back in `processing`."""

    media_id: str

    def body(self) -> str:
        return json.dumps({"mediaId": self.media_id}, separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> ProcessingMessage | None:
        """The message, or None for a body that is not one (dropped, never retried)."""
        try:
            document = json.loads(body)
        except ValueError:
            return None
        media_id = document.get("mediaId") if isinstance(document, dict) else None
        if not isinstance(media_id, str) or not is_resource_id(media_id):
            return None
        return cls(media_id)
