"""What a media file's headers say, read by FFmpeg's demuxers through PyAV, and
a poster frame for video.

PyAV (its wheel bundles the FFmpeg libraries) ships only with the processing
function, in a Lambda layer (infra/template.json's MediaLibrariesLayer): the
API functions' package never holds it, so `av` is imported on the first probe,
not with this module.

The parser reads through a seekable file (chalicelib/store/media_objects.py's
RangedObject): FFmpeg asks for the bytes it needs, the container's header and
index wherever they are (an MP4's `moov` at either end, a Matroska file's
SeekHead and Cues), and, for the poster, one keyframe's samples. It never
reads the file through.

Only the formats the product accepts are understood: MP4/MOV/M4A, WebM/MKV,
MP3, WAV, JPEG, PNG and WebP. Anything else FFmpeg recognises (a text file can
pass for several of its formats) is `not_media`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.processing import EMPTY, NOT_MEDIA, UNREADABLE, Probe

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame

# FFmpeg's demuxer names for the accepted containers (a format name such as
# "mov,mp4,m4a,3gp,3g2,mj2" lists the aliases of one demuxer).
ACCEPTED = frozenset({"mov", "mp4", "m4a", "matroska", "webm", "mp3", "wav"})
IMAGES = frozenset({"image2", "jpeg_pipe", "png_pipe", "webp_pipe"})
# Leading bytes of the accepted formats, to tell a damaged file of a format we
# take (`unreadable`) from one that is none of them (`not_media`).
SIGNATURES = (b"\x1a\x45\xdf\xa3", b"ID3", b"RIFF", b"\xff\xd8\xff", b"\x89PNG")
MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")
POSTER_WIDTH = 640
# Where the poster is taken: a second in, past a fade from black, or the
# middle of a shorter clip.
POSTER_AT_SECONDS = 1.0
MICROSECONDS = 1_000_000


class Source(Protocol):
    """A seekable binary file (RangedObject, or an open file in tests)."""

    def read(self, size: int = -1, /) -> bytes | None: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...


def _looks_like_media(head: bytes) -> bool:
    return head.startswith(SIGNATURES) or head[4:8] in MP4_BOXES or head[:2] == b"\xff\xfb"


def probe(source: Source) -> Probe:
    """What `source` (seekable, positioned anywhere) holds."""
    import av  # the processing function's layer; see the module docstring

    size = source.seek(0, 2)
    source.seek(0)
    head = source.read(16) or b""
    source.seek(0)
    try:
        container = av.open(source, mode="r")
    except (av.error.FFmpegError, ValueError):
        return Probe(failed=UNREADABLE if _looks_like_media(head) else NOT_MEDIA)
    with container:
        formats = set(container.format.name.split(","))
        if formats & IMAGES:
            return _image(container)
        if not formats & ACCEPTED:
            return Probe(failed=NOT_MEDIA)
        if _past_the_end(container, size):
            return Probe(failed=UNREADABLE)
        return _timed(container)


def _image(container: InputContainer) -> Probe:
    streams = container.streams.video
    if not streams:
        return Probe(failed=UNREADABLE)
    context = streams[0].codec_context
    return Probe(
        width=context.width or None,
        height=context.height or None,
        video_codec=context.name,
        rotation=0,
    )


def _past_the_end(container: InputContainer, size: int) -> bool:
    """An index (MP4's sample tables, Matroska's Cues) naming samples beyond the
    object's end: the upload was cut short, whatever the first frames say."""
    return any(
        entry.pos + entry.size > size
        for stream in container.streams
        for entry in stream.index_entries[-1:]
    )


def _duration(container: InputContainer) -> float | None:
    if container.duration is not None and container.duration > 0:
        return round(container.duration / MICROSECONDS, 3)
    longest = 0.0
    for stream in container.streams:
        if stream.duration and stream.time_base:
            longest = max(longest, float(stream.duration * stream.time_base))
    return round(longest, 3) or None


def _timed(container: InputContainer) -> Probe:
    import av

    video = container.streams.video[0] if container.streams.video else None
    audio = container.streams.audio[0] if container.streams.audio else None
    if video is None and audio is None:
        return Probe(failed=EMPTY)
    duration = _duration(container)
    if duration is None:
        return Probe(failed=EMPTY)
    found: dict[str, Any] = {
        "duration_seconds": duration,
        "bitrate": container.bit_rate or None,
        "audio_codec": audio.codec_context.name if audio is not None else None,
    }
    if video is None:
        return Probe(**found)
    context = video.codec_context
    try:
        frame = _poster_frame(container, duration)
    except (av.error.FFmpegError, ValueError, StopIteration):
        frame = None
    if frame is None:
        # Headers that promise frames the file does not hold: truncated.
        return Probe(failed=UNREADABLE)
    return Probe(
        **found,
        width=context.width or frame.width,
        height=context.height or frame.height,
        video_codec=context.name,
        # FFmpeg's display matrix turns counterclockwise; players say clockwise.
        rotation=(-int(frame.rotation)) % 360,
        poster=_jpeg(frame),
    )


def _poster_frame(container: InputContainer, duration: float) -> VideoFrame | None:
    at = min(POSTER_AT_SECONDS, duration / 2)
    video = container.streams.video[0]
    if at > 0:
        # In AV_TIME_BASE units: to the keyframe at or before `at`.
        container.seek(int(at * MICROSECONDS), backward=True, any_frame=False)
    for frame in container.decode(video):
        return frame
    return None


def _jpeg(frame: VideoFrame) -> bytes:
    import av

    width = min(POSTER_WIDTH, frame.width)
    height = max(2, round(frame.height * width / frame.width / 2) * 2)
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    scaled = frame.reformat(width=width, height=height, format="yuvj420p")
    scaled.pts = 0
    packets = [*encoder.encode(scaled), *encoder.encode(None)]
    return b"".join(bytes(packet) for packet in packets)
