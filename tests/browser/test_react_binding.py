"""The old platform's React page, with @course-media/client's TanStack Query binding.

tests/browser/react_app/main.jsx is built as the platform this product serves
built its pages: TanStack Query under React, a course edit page whose header
reads ['courses', 'detail', id] and whose ChapterManager reads a separate
['chapters', 'list', id] query, and a media-library page that holds no course
id. esbuild (from the npm registry) bundles it at test time; Chromium loads it
from the stack's origin (node_modules/.cache/, which the stack serves like the
rest of node_modules/: a page of another origin, or one a test fulfils itself,
may not open a WebSocket to 127.0.0.1 under Chromium's local network access
checks). Both of that platform's faults are tried here: media
another user links into a chapter must show in both views without a refetch,
and a library upload's progress must show on the library page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.conftest import UI_TIMEOUT_MS, MiB, library_media, wait_until
from tests.e2e.conftest import ROOT, Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("stack")]

APP = Path(__file__).parent / "react_app" / "main.jsx"
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>old platform</title><link rel="icon" href="data:,">
<script type="module" src="app.js"></script>
</head><body><div id="root"></div></body></html>"""


@pytest.fixture(scope="module")
def bundle() -> Iterator[str]:
    """The page's path on the stack, bundled for this test process."""
    if not ESBUILD.exists():
        pytest.skip("esbuild is not installed: `make npm-deps` installs the npm workspace")
    folder = ROOT / "node_modules" / ".cache" / f"course-media-react-test-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(PAGE)
    out = folder / "app.js"
    # node_modules/.bin/esbuild is esbuild's launcher (a script, or the native
    # binary itself once esbuild's install step has put it there): run it as is.
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        [
            str(ESBUILD),
            str(APP),
            "--bundle",
            "--format=esm",
            "--jsx=automatic",
            "--target=es2023",
            "--define:process.env.NODE_ENV='production'",
            f"--outfile={out}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    yield f"/node_modules/.cache/{folder.name}/index.html"
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class ReactPage:
    page: Any
    errors: list[str]
    gets: list[str] = field(default_factory=list)  # every GET of the REST API, in order

    def gets_since(self, mark: int) -> list[str]:
        return self.gets[mark:]

    def texts(self, selector: str) -> list[str]:
        return [str(t) for t in self.page.locator(selector).all_inner_texts()]


@pytest.fixture
def open_react(browser: Any, stack: Stack, bundle: str) -> Iterator[Callable[..., ReactPage]]:
    contexts: list[Any] = []

    def open_as(user: str, course_id: str | None = None) -> ReactPage:
        context = browser.new_context()
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        seen = ReactPage(page=page, errors=[])
        page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
        page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
        page.on(
            "request",
            lambda r: seen.gets.append(r.url) if r.method == "GET" and "/api/" in r.url else None,
        )
        query = f"user={user}" + (f"&course={course_id}" if course_id else "")
        page.goto(f"{stack.base_url}{bundle}?{query}")
        channels = {f"user:{user}"} | ({f"course:{course_id}"} if course_id else set())
        try:
            wait_until(page, lambda: channels <= set(page.evaluate("window.__subscribed ?? []")))
        except AssertionError as stuck:
            raise AssertionError(f"the page did not subscribe: {seen.errors}") from stuck
        settle(seen)
        return seen

    yield open_as
    for context in contexts:
        context.close()


def settle(seen: ReactPage, quiet: float = 1.0) -> None:
    """Wait until the page has made no GET for `quiet` seconds (its first loads done)."""
    count, since = len(seen.gets), time.monotonic()
    deadline = since + 20
    while time.monotonic() < deadline:
        seen.page.wait_for_timeout(100)
        if len(seen.gets) != count:
            count, since = len(seen.gets), time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
    raise AssertionError(f"the page kept fetching: {seen.gets[-10:]}")


@dataclass(frozen=True)
class Course:
    course_id: str
    chapter_id: str


@pytest.fixture
def course(stack: Stack) -> Course:
    """alice's new course with bob as an editor and one chapter."""
    made = stack.call("POST", "/courses", "alice", {"title": "Old platform course"})
    assert made.status_code == 201, made.text
    course_id = made.json()["courseId"]
    member = stack.call("PUT", f"/courses/{course_id}/members/bob", "alice", {"role": "editor"})
    assert member.status_code in (200, 201), member.text
    chapter = stack.call("POST", f"/courses/{course_id}/chapters", "alice", {"title": "Week 1"})
    assert chapter.status_code == 201, chapter.text
    return Course(course_id=course_id, chapter_id=chapter.json()["chapterId"])


def test_media_another_user_links_shows_in_the_course_and_the_chapters_query_without_a_refetch(
    open_react: Callable[..., ReactPage], stack: Stack, course: Course
) -> None:
    page = open_react("alice", course.course_id)
    assert page.texts("#course-view li.item") == []
    assert page.texts("#chapters-view li.item") == []
    media_id = library_media(stack, "bob", "week1-intro.pdf")
    page.page.wait_for_timeout(500)
    mark = len(page.gets)

    path = f"/courses/{course.course_id}/chapters/{course.chapter_id}/media/{media_id}"
    assert stack.call("PUT", path, "bob", {}).status_code == 200

    # Both views: the course header's query and the ChapterManager's query.
    page.page.locator("#course-view li.item", has_text="week1-intro.pdf").wait_for()
    page.page.locator("#chapters-view li.item", has_text="week1-intro.pdf").wait_for()
    page.page.wait_for_timeout(1500)  # time for any refetch the event might have caused
    assert page.gets_since(mark) == [], "the event was applied by refetching"
    assert page.errors == []


def test_a_library_uploads_progress_moves_on_a_library_page_that_holds_no_course_id(
    open_react: Callable[..., ReactPage], stack: Stack
) -> None:
    page = open_react("alice")
    mark = len(page.gets)
    size = 24 * MiB
    body = {"filename": "library-talk.mp4", "contentType": "video/mp4", "size": size}
    started = stack.call("POST", "/uploads", "alice", {**body, "target": {"type": "library"}})
    assert started.status_code == 201, started.text
    upload = started.json()
    operation, part_size, count = upload["operationId"], upload["partSize"], upload["partCount"]
    assert count >= 3, upload
    bar = page.page.locator(f'#library-view li[data-operation-id="{operation}"] progress')
    seen: list[float] = []

    def watch(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if bar.count():
                value = float(bar.get_attribute("value") or 0)
                if not seen or seen[-1] != value:
                    seen.append(value)
            page.page.wait_for_timeout(50)

    numbers = list(range(1, count + 1))
    signed = stack.call("POST", f"/uploads/{operation}/parts", "alice", {"partNumbers": numbers})
    urls = signed.json()["urls"]
    block = bytes(range(256)) * (part_size // 256 + 1)
    sent = 0
    for number in numbers:
        part = block[: min(part_size, size - sent)]
        assert requests.put(urls[str(number)], data=part, timeout=30).status_code == 200
        sent += len(part)
        # What an uploading client does (from another tab, say): report what reached S3.
        progress = {"bytesUploaded": sent}
        reported = stack.call("POST", f"/uploads/{operation}/progress", "alice", progress)
        assert reported.status_code < 300, reported.text
        watch(0.5)  # the server broadcasts at most 4 reports a second
    assert stack.call("POST", f"/uploads/{operation}/complete", "alice", {}).status_code == 202

    page.page.locator(
        f'#library-view li[data-operation-id="{operation}"][data-status=completed]'
    ).wait_for()
    page.page.locator("#library-view .files li.item", has_text="library-talk.mp4").wait_for()
    moving = [v for v in seen if 0 < v < size]
    assert len(moving) >= 2, f"the bar did not move on the library page: {seen}"
    assert seen == sorted(seen), f"the bar went backwards: {seen}"
    # The new file came with upload.completed: the library list was not refetched.
    assert [g for g in page.gets_since(mark) if g.split("?")[0].endswith("/api/media")] == []
    assert page.errors == []
