"""A viewer plays a chapter's video on the demo page: the <video> element plays
from the playback URL the API hands any member, and seeking to the middle is
served by a Range request that S3 (moto, behind the local S3 front) answers 206.

The video is a real H.264 MP4 made here with ffmpeg, long and dense enough
that Chromium cannot have the middle of it when the seek comes, so the seek
must fetch it with a Range request of its own."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.conftest import DemoPage, MiB, wait_until
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("stack")]

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
SECONDS = 40
# Constant 4 Mbit/s: 20 MB in all, the middle 10 MB in.
BITRATE = "4M"
# The viewer's download speed: twice the video's rate, so it plays smoothly,
# yet the first request needs 10 s to reach the middle, longer than the test
# waits before it seeks even on a loaded machine.
DOWNLOAD_BYTES_PER_SECOND = 1 * MiB
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@pytest.fixture(scope="module")
def lecture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path(FFMPEG).exists():
        pytest.skip("ffmpeg is not installed (`make media-deps` installs it where root)")
    path = tmp_path_factory.mktemp("video") / "lecture-playback.mp4"
    source = f"testsrc2=size=320x180:rate=25:duration={SECONDS}"
    rate = ["-b:v", BITRATE, "-minrate", BITRATE, "-maxrate", BITRATE, "-bufsize", "2M"]
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *rate]
    command = [FFMPEG, "-v", "error", "-f", "lavfi", "-i", source, *encode]
    command += ["-x264-params", "nal-hrd=cbr", "-movflags", "+faststart", str(path)]
    subprocess.run(command, check=True, timeout=120)  # noqa: S603 - our own fixed arguments
    return path


def upload_into_chapter(
    stack: Stack, user: str, course_id: str, chapter_id: str, path: Path
) -> str:
    """The REST flow a client runs, part by part; the media id once complete."""
    data = path.read_bytes()
    body = {
        "filename": path.name,
        "contentType": "video/mp4",
        "size": len(data),
        "target": {"type": "chapter", "courseId": course_id, "chapterId": chapter_id},
    }
    started = stack.call("POST", "/uploads", user, body)
    assert started.status_code == 201, started.text
    upload = started.json()
    operation, part_size = upload["operationId"], upload["partSize"]
    numbers = list(range(1, upload["partCount"] + 1))
    urls = stack.call("POST", f"/uploads/{operation}/parts", user, {"partNumbers": numbers})
    assert urls.status_code == 200, urls.text
    for n in numbers:
        part = data[(n - 1) * part_size : n * part_size]
        assert requests.put(urls.json()["urls"][str(n)], data=part, timeout=30).status_code == 200
    assert stack.call("POST", f"/uploads/{operation}/complete", user, {}).status_code == 202
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = stack.call("GET", f"/uploads/{operation}", user).json()
        if state["status"] == "completed":
            return str(state["mediaId"])
        time.sleep(0.1)
    raise AssertionError("the upload did not complete")


def test_a_viewer_plays_a_chapter_video_and_seeking_to_the_middle_is_a_206_range_request(
    open_page: Callable[..., DemoPage],
    stack: Stack,
    lecture: Path,
    artifacts: Callable[[Any, str], Path],
) -> None:
    demo = requests.get(f"{stack.base_url}/dev/demo", timeout=5).json()
    media_id = upload_into_chapter(stack, "alice", demo["courseId"], demo["chapterIds"][0], lecture)
    size = lecture.stat().st_size
    ranges: list[tuple[int, int, int]] = []  # (status, first byte, total) of each media response

    def watch(page: Any) -> None:
        def seen(response: Any) -> None:
            if lecture.name not in response.url:
                return
            match = CONTENT_RANGE.match(response.headers.get("content-range", ""))
            first, total = (int(match[1]), int(match[3])) if match else (0, 0)
            ranges.append((response.status, first, total))

        page.on("response", seen)

    dana = open_page("dana", before_load=watch)
    item = dana.chapter("Welcome").locator(f'li.item[data-media-id="{media_id}"]')
    item.wait_for()
    # Once processed, the item shows its duration and its poster frame.
    item.get_by_text(f"0:{SECONDS}").wait_for(timeout=30_000)
    poster = item.locator("img.poster")
    wait_until(dana.page, lambda: poster.evaluate("img => img.complete && img.naturalWidth"))
    assert poster.evaluate("img => img.naturalWidth") == 320
    # A viewer gets no control that would change the course.
    assert dana.chapter("Welcome").get_by_text("Upload", exact=True).count() == 0
    assert item.get_by_role("button", name=re.compile("^Remove")).count() == 0
    cdp = dana.context.new_cdp_session(dana.page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": DOWNLOAD_BYTES_PER_SECOND,
            "uploadThroughput": -1,
        },
    )

    item.get_by_role("button", name=f"Play {lecture.name}").click()

    video = dana.page.locator("#player-video")
    started = wait_until(
        dana.page,
        lambda: video.evaluate("v => !v.paused && v.currentTime > 0.5 && v.currentTime"),
        timeout=30,
    )
    artifacts(dana.page, "viewer-playing")
    later = wait_until(
        dana.page, lambda: video.evaluate(f"v => v.currentTime > {started} + 0.5 && v.currentTime")
    )
    assert later > started
    duration = float(video.evaluate("v => v.duration"))
    assert abs(duration - SECONDS) < 0.5
    before_seek = len(ranges)

    video.evaluate("v => { v.currentTime = v.duration / 2; }")

    middle = duration / 2
    wait_until(
        dana.page,
        lambda: video.evaluate(f"v => !v.seeking && !v.paused && v.currentTime > {middle} + 0.5"),
        timeout=30,
    )
    artifacts(dana.page, "viewer-after-seek")
    after = ranges[before_seek:]
    assert any(
        status == 206 and total == size and first >= size // 4 for status, first, total in after
    ), f"no 206 Range answer from the middle on after the seek: {after}; before it: {ranges}"
    assert dana.errors == []
