"""Upload records as the services see them, whatever DynamoDB holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chalicelib.errors import NotFound
from chalicelib.models import Upload, UploadTarget

# Where an upload was started: our REST API, Companion's routes, or the signer.
Source = Literal["api", "companion", "signer"]


def browser_makes_s3_requests(source: Source) -> bool:
    """The signer's uploads are made by the browser, one signed S3 request at a
    time (Uppy's signRequest mode): it creates, assembles and aborts the S3
    upload, so the server never does."""
    return source == "signer"


# How long a claimed progress broadcast may still be going out: the Lambda
# timeout (30 s, docs/ARCHITECTURE.md), past which no fan-out runs on.
BROADCAST_FANOUT_LIMIT_MS = 30_000


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
    # The last progress broadcast: when, and the bytes it carried (those the
    # upload stores until the next one, chalicelib/progress.py).
    last_broadcast_at_ms: int | None
    last_broadcast_bytes: int | None
    # The claim (epoch ms) of a progress broadcast still going out: set with the
    # claim, removed once its fan-out has returned. A terminal event waits for
    # it (chalicelib/uploads/announce.py), however long the fan-out takes.
    broadcast_in_flight_ms: int | None = None
    # False between the write that completes an upload and the end of its
    # announcement (event + chapter link), so a redelivered S3 event can finish
    # what a crashed handler began.
    announced: bool = True
    # The id of the request that started it (chalicelib/correlation.py): its S3
    # event, which carries nothing of ours, logs under it.
    correlation_id: str | None = None
    # The ETag CompleteMultipartUpload returned when the server assembled the
    # object (REST and Companion); None until then, and for uploads the browser
    # completes itself (signRequest).
    etag: str | None = None


@dataclass(frozen=True)
class CompletedObject:
    """What S3 assembled: the object's location, key, bucket and ETag."""

    location: str
    key: str
    bucket: str
    etag: str


@dataclass(frozen=True)
class StoredObject:
    """What S3 says it holds under a key (HeadObject)."""

    size: int
    etag: str


def etag_fits(upload: Upload, completed_etag: str | None, etag: str) -> bool:
    """Whether `etag` (S3's, of the object under the upload's key) is the one this
    upload's completion makes: the ETag CompleteMultipartUpload returned, when the
    server completed it; otherwise S3's multipart form for the upload's part count
    (`<hex>-N`), or a plain ETag for a single-request upload (no S3 upload id)."""
    plain = etag.strip('"')
    if completed_etag is not None:
        return plain == completed_etag.strip('"')
    if not upload.upload_id:
        return "-" not in plain
    return plain.endswith(f"-{upload.part_count}")


def not_found() -> NotFound:
    return NotFound("no such upload", code="upload_not_found")
