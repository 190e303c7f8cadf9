"""The processing step's reading of a file: metadata and a poster from FFmpeg's
demuxers through ranged reads, never the whole object (issue 11's acceptance:
a 60-second H.264 MP4 with its index at the end, and a 200 MB one)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, cast

import av
import pytest

from chalicelib.domain.processing import EMPTY, NO_METADATA, NOT_MEDIA, UNREADABLE, Probe
from chalicelib.media_probe import probe
from chalicelib.store.media_objects import RangedObject
from tests.media_files import (
    AUDIO,
    VIDEO,
    FileS3,
    boxes,
    ffmpeg,
    ffprobe,
    h264_mp4,
    needs_ffmpeg,
    pad_mdat,
)

pytestmark = needs_ffmpeg


def ranged(path: Path) -> tuple[RangedObject, FileS3]:
    s3 = FileS3({"k": path})
    return RangedObject(cast(Any, s3), "bucket", "k", path.stat().st_size), s3


def decoded_jpeg(jpeg: bytes) -> tuple[int, int]:
    with av.open(io.BytesIO(jpeg), mode="r") as image:
        assert image.format.name in ("image2", "jpeg_pipe")
        frame = next(image.decode(video=0))
    return frame.width, frame.height


@pytest.fixture(scope="module")
def sixty_seconds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return h264_mp4(tmp_path_factory.mktemp("media") / "sixty.mp4", 60)


def test_a_60_second_mp4_with_its_index_at_the_end(sixty_seconds: Path) -> None:
    kinds = [box[0] for box in boxes(sixty_seconds.read_bytes())]
    assert kinds.index(b"moov") > kinds.index(b"mdat"), "the index is after the samples"
    expected = ffprobe(sixty_seconds)
    source, _ = ranged(sixty_seconds)

    found = probe(source)

    assert found.failed is None
    assert found.duration_seconds is not None
    assert abs(found.duration_seconds - float(expected["format"]["duration"])) < 0.1
    video = next(s for s in expected["streams"] if s["codec_type"] == "video")
    assert (found.width, found.height) == (video["width"], video["height"]) == (320, 240)
    assert (found.video_codec, found.audio_codec) == ("h264", "aac")
    assert found.rotation == 0
    assert found.bitrate is not None
    assert abs(found.bitrate - int(expected["format"]["bit_rate"])) <= 1
    assert found.poster is not None
    assert decoded_jpeg(found.poster) == (320, 240)


def test_a_200_mb_file_is_read_by_its_headers_not_through(
    sixty_seconds: Path, tmp_path: Path
) -> None:
    big = pad_mdat(sixty_seconds, tmp_path / "big.mp4", 200 * 1024 * 1024)
    source, s3 = ranged(big)

    found = probe(source)

    assert found.failed is None
    assert found.duration_seconds is not None
    assert abs(found.duration_seconds - float(ffprobe(big)["format"]["duration"])) < 0.1
    assert (found.width, found.height) == (320, 240)
    assert found.poster is not None
    assert s3.bytes_sent == source.bytes_read
    assert s3.bytes_sent < 0.02 * big.stat().st_size, f"read {s3.bytes_sent} bytes"


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("fast.mp4", [*VIDEO, "-t", "2", "-c:v", "libx264", "-movflags", "+faststart"],
         {"video_codec": "h264", "width": 320, "duration_seconds": 2.0}),
        ("a.webm", [*VIDEO, "-t", "2", "-c:v", "libvpx", "-b:v", "100k"],
         {"video_codec": "vp8", "width": 320, "duration_seconds": 2.0}),
        ("a.mkv", [*VIDEO, *AUDIO, "-t", "2", "-c:v", "libx264", "-c:a", "aac"],
         {"video_codec": "h264", "audio_codec": "aac", "height": 240}),
        ("a.mov", [*VIDEO, "-t", "2", "-c:v", "libx264"], {"video_codec": "h264", "width": 320}),
        ("a.mp3", [*AUDIO, "-t", "2"], {"audio_codec": "mp3float", "width": None}),
        ("a.m4a", [*AUDIO, "-t", "2", "-c:a", "aac"], {"audio_codec": "aac", "width": None}),
        ("a.wav", [*AUDIO, "-t", "2"], {"audio_codec": "pcm_s16le", "duration_seconds": 2.0}),
        ("a.jpg", [*VIDEO, "-frames:v", "1"], {"width": 320, "height": 240, "poster": None}),
        ("a.png", [*VIDEO, "-frames:v", "1"], {"width": 320, "video_codec": "png"}),
        ("a.webp", [*VIDEO, "-frames:v", "1"], {"width": 320, "video_codec": "webp"}),
    ],
)  # fmt: skip
def test_every_accepted_format_says_what_it_holds(
    tmp_path: Path, name: str, args: list[str], expected: dict[str, Any]
) -> None:
    path = tmp_path / name
    ffmpeg(*args, str(path))
    source, _ = ranged(path)

    found = probe(source)

    assert found.failed is None
    for field, value in expected.items():
        got = getattr(found, field)
        assert got == pytest.approx(value, abs=0.1) if isinstance(value, float) else got == value
    stream = next(s for s in ffprobe(path)["streams"])
    if stream["codec_type"] == "video" and found.duration_seconds is not None:
        assert found.poster is not None
        # FFmpeg's display matrix turns counterclockwise; the field is clockwise.
        side_data: list[dict[str, Any]] = stream.get("side_data_list", [])
        ccw = int(side_data[0].get("rotation", 0)) if side_data else 0
        assert found.rotation == (-ccw) % 360


def test_a_rotated_video_says_how_a_player_turns_it(tmp_path: Path) -> None:
    plain = h264_mp4(tmp_path / "plain.mp4", 2)
    turned = tmp_path / "turned.mov"
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(turned))
    video = next(s for s in ffprobe(turned)["streams"] if s["codec_type"] == "video")
    ccw = int(video["side_data_list"][0]["rotation"])
    assert ccw != 0

    found = probe(ranged(turned)[0])

    # FFmpeg's display matrix turns counterclockwise; the field is clockwise.
    assert found.rotation == (-ccw) % 360
    assert (found.width, found.height) == (320, 240)  # as coded, before turning


def test_damaged_and_foreign_files_fail_with_a_reason(tmp_path: Path) -> None:
    whole = h264_mp4(tmp_path / "whole.mp4", 4)
    fast = h264_mp4(tmp_path / "fast.mp4", 4, faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    cut_fast = tmp_path / "cut-fast.mp4"
    cut_fast.write_bytes(fast.read_bytes()[: fast.stat().st_size // 2])
    text = tmp_path / "notes.mp4"
    text.write_text("these are my lecture notes, not a video\n" * 100)
    empty = tmp_path / "empty.mp4"
    ffmpeg(*VIDEO, "-frames:v", "0", "-c:v", "libx264", str(empty))

    reasons = {path.name: probe(ranged(path)[0]).failed for path in (cut, cut_fast, text, empty)}

    assert reasons == {
        "cut.mp4": UNREADABLE,  # no index: the end never arrived
        "cut-fast.mp4": UNREADABLE,  # an index naming samples past the end
        "notes.mp4": NOT_MEDIA,
        "empty.mp4": EMPTY,
    }


def test_a_probe_says_what_the_media_file_becomes() -> None:
    assert Probe(failed=NOT_MEDIA).metadata() == {
        "status": "failed",
        "reason": NOT_MEDIA,
        "has_poster": False,
    }
    ready = Probe(duration_seconds=3.0, width=320, height=240, poster=b"\xff\xd8").metadata()
    assert ready["status"] == "ready"
    assert ready["reason"] is None
    assert ready["has_poster"] is True
    assert Probe().metadata()["reason"] == NO_METADATA


def test_reads_are_ranged_and_blocked() -> None:
    data = bytes(range(256)) * 1024  # 256 KiB
    s3 = _BytesS3(data)
    source = RangedObject(cast(Any, s3), "b", "k", len(data), block=1024)

    assert source.read(10) == data[:10]
    assert source.read(10) == data[10:20]  # from the block already fetched
    source.seek(-100, io.SEEK_END)
    assert source.read(1000) == data[-100:]
    assert source.read(1) == b""

    assert s3.ranges == ["bytes=0-1023", f"bytes={len(data) - 100}-{len(data) - 1}"]
    assert source.bytes_read == 1024 + 100


class _BytesS3:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self.ranges: list[str] = []

    def get_object(self, *, Bucket: str, Key: str, Range: str) -> dict[str, Any]:  # noqa: N803
        self.ranges.append(Range)
        start, end = (int(n) for n in Range.removeprefix("bytes=").split("-"))
        return {"Body": io.BytesIO(self._data[start : end + 1])}
