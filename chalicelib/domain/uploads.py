"""Upload records as the services see them, whatever DynamoDB holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chalicelib.errors import NotFound
from chalicelib.models import Upload, UploadTarget

# Where an upload was started: our REST API, Companion's routes, or the signer.
Source = Literal["api", "companion", "signer"]
# Who creates the upload in S3: the server, or the browser through a presigned
# URL (Uppy's signRequest mode), which binds the S3 upload id on first use.
CreatedBy = Literal["server", "browser"]


@dataclass(frozen=True)
class NewFile:
    """A file a client is about to upload, as it describes it."""

    name: str
    content_type: str
    size: int
    target: UploadTarget


@dataclass(frozen=True)
class UploadRecord:
    upload: Upload
    source: Source
    progress_at_ms: int | None
    last_broadcast_at_ms: int | None
    last_broadcast_bytes: int | None
    # False between the write that completes an upload and the end of its
    # announcement (event + chapter link), so a redelivered S3 event can finish
    # what a crashed handler began.
    announced: bool = True
    # The id of the request that started it (chalicelib/correlation.py): its S3
    # event, which carries nothing of ours, logs under it.
    correlation_id: str | None = None


@dataclass(frozen=True)
class ProgressWrite:
    """The outcome of one progress report: `advanced` is False for a report that
    was not ahead of what is stored (it changed nothing)."""

    record: UploadRecord
    advanced: bool


@dataclass(frozen=True)
class CompletedObject:
    """What S3 assembled: the object's location, key and bucket."""

    location: str
    key: str
    bucket: str


def not_found() -> NotFound:
    return NotFound("no such upload", code="upload_not_found")
