"""Media files made with Debian's ffmpeg for the processing tests, and ffprobe's
reading of them to compare with. Without ffmpeg those tests skip and say why
(`make media-deps` installs it; CI has it)."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg and ffprobe are not installed (make media-deps)",
)

VIDEO = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"]
AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]


def ffmpeg(*args: str) -> None:
    # Debian's ffmpeg from PATH (make media-deps), with arguments the tests choose.
    command = ["ffmpeg", "-v", "error", "-y", *args]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603


def ffprobe(path: Path) -> dict[str, Any]:
    command = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)]
    out = subprocess.run(  # noqa: S603 - ffprobe on a file the test made
        command,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    document: dict[str, Any] = json.loads(out)
    return document


def h264_mp4(path: Path, seconds: float, *extra: str, faststart: bool = False) -> Path:
    """An H.264 + AAC MP4 of `seconds`; its index (`moov`) at the end, as
    ffmpeg writes it, unless `faststart` moves it to the front."""
    flags = ["-movflags", "+faststart"] if faststart else []
    ffmpeg(
        *VIDEO, *AUDIO, "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
        "-b:v", "100k", "-c:a", "aac", "-b:a", "32k", "-shortest", *flags, *extra, str(path),
    )  # fmt: skip
    return path


def boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """The top-level MP4 boxes: (type, offset, size)."""
    found, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        found.append((kind, at, size))
        at += size or len(data) - at
    return found


def pad_mdat(path: Path, target: Path, total_size: int) -> Path:
    """`path` with its media data box grown to make a file of `total_size` bytes:
    zeros after the samples, so every sample offset still holds, and the index
    still after them, at the very end. The zeros are a hole in a sparse file."""
    data = path.read_bytes()
    (_, at, size), *_ = [b for b in boxes(data) if b[0] == b"mdat"]
    assert data[at : at + 4] == struct.pack(">I", size), "a 32-bit mdat size"
    pad = total_size - len(data)
    with target.open("wb") as out:
        out.write(data[:at])
        out.write(struct.pack(">I", size + pad))
        out.write(data[at + 4 : at + size])
        out.seek(pad, io.SEEK_CUR)
        out.write(data[at + size :])
    assert target.stat().st_size == total_size
    return target


class FileS3:
    """The one S3 call the ranged reader makes, served from local files, counting
    every byte it sends (the bytes are the test's to count, not the reader's)."""

    def __init__(self, files: dict[str, Path]) -> None:
        self._files = files
        self.bytes_sent = 0
        self.requests = 0

    def get_object(self, *, Bucket: str, Key: str, Range: str) -> dict[str, Any]:  # noqa: N803
        start_text, end_text = Range.removeprefix("bytes=").split("-")
        start, end = int(start_text), int(end_text)
        with self._files[Key].open("rb") as source:
            source.seek(start)
            body = source.read(end - start + 1)
        self.bytes_sent += len(body)
        self.requests += 1
        return {"Body": io.BytesIO(body)}
