"""The media bucket as the processing step sees it: a media object opened as a
seekable file whose reads are ranged GETs, and the poster objects it writes.

`RangedObject` is what the container parser reads from. It holds no copy of
the object: each read the parser makes becomes one `GetObject` with a `Range`
header for exactly the bytes it asked for (rounded up to `block` bytes, so the
parser's many small header reads do not each cost a request), and a seek is
only arithmetic. A parser that jumps from the file's first box to an index at
its end reads two small ranges, never the bytes between: `bytes_read` and
`requests` count what was fetched, for the log line and the tests.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from chalicelib.store.aws_errors import translated

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from mypy_boto3_s3 import S3Client

# What one ranged GET fetches at least: a parser reads headers a few bytes at a
# time, and a request costs far more than 64 KiB of transfer.
BLOCK = 64 * 1024
POSTER_TYPE = "image/jpeg"


class RangedObject(io.RawIOBase):
    def __init__(self, s3: S3Client, bucket: str, key: str, size: int, block: int = BLOCK) -> None:
        super().__init__()
        self._s3 = s3
        self._bucket = bucket
        self._key = key
        self._size = size
        self._block = block
        self._position = 0
        # The last block fetched: the parser often reads on from where it was.
        self._cached_at = 0
        self._cached = b""
        self.bytes_read = 0
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._size - self._position)
        if wanted <= 0:
            return 0
        start = self._position
        offset = start - self._cached_at
        if not (offset >= 0 and offset + wanted <= len(self._cached)):
            self._fetch(start, max(wanted, self._block))
            offset = 0
        view[:wanted] = self._cached[offset : offset + wanted]
        self._position += wanted
        return wanted

    def _fetch(self, start: int, length: int) -> None:
        end = min(start + length, self._size) - 1
        with translated("reading a media object", code="bucket_unavailable"):
            answer = self._s3.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={start}-{end}"
            )
            body = answer["Body"].read()
        self.requests += 1
        self.bytes_read += len(body)
        self._cached_at, self._cached = start, body


class MediaObjects:
    """Opening media objects for the parser, and storing posters."""

    def __init__(self, s3: S3Client, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def open(self, key: str, size: int) -> RangedObject:
        return RangedObject(self._s3, self._bucket, key, size)

    def put_poster(self, key: str, jpeg: bytes) -> None:
        # One fixed key per media file: a second run overwrites it.
        with translated("storing a poster", code="bucket_unavailable"):
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=jpeg, ContentType=POSTER_TYPE)
