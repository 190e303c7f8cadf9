"""Unmodified Uppy 6 from the npm registry (its ESM bundle) uploads through the API
with `@uppy/aws-s3` in both server-signed modes: `signRequest` against
`POST /s3/sign`, and `companionEndpoint` against the Companion-compatible
`/s3/multipart` routes (web/uppy.html shows both; see docs/uppy.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.conftest import DemoPage, MiB, wait_until
from tests.e2e.conftest import ROOT, Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("stack")]

BUNDLE = "node_modules/uppy/dist/uppy.min.mjs"


@pytest.mark.parametrize("mode", ["sign", "companion"])
def test_an_upload_through_unmodified_uppy_lands_in_the_chapter(
    mode: str,
    browser: Any,
    stack: Stack,
    media_files: Callable[[str, int], Path],
    artifacts: Callable[[Any, str], Path],
) -> None:
    if not (ROOT / BUNDLE).exists():
        pytest.skip(f"{BUNDLE} is missing: `make browser-deps` (npm ci) installs Uppy")
    if requests.get(f"{stack.base_url}/{BUNDLE}", timeout=5).status_code != 200:
        pytest.skip("the stack was started before node_modules/ existed, so it does not serve it")
    video = media_files(f"uppy-{mode}.mp4", 12 * MiB)
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        api_calls: list[str] = []
        page.on("request", lambda r: api_calls.append(r.url.split("?")[0].split("/api")[-1]))
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.goto(f"{stack.base_url}/uppy.html?user=bob&mode={mode}")
        # The input is enabled once Uppy is loaded and configured.
        page.locator("#file:enabled").wait_for(state="attached")
        page.get_by_label("Upload a file with Uppy").set_input_files(str(video))
        result = page.locator("#result[data-outcome]")
        try:
            result.wait_for(timeout=60_000)
        except Exception as timeout:
            artifacts(page, "uppy-stuck")
            message = f"Uppy did not finish; calls {api_calls}; console {console}"
            raise AssertionError(message) from timeout
        artifacts(page, "uppy-done")
        assert result.get_attribute("data-outcome") == "done", result.inner_text()
        assert errors == []
        expected = "/s3/sign" if mode == "sign" else "/s3/multipart"
        assert expected in api_calls, api_calls
    finally:
        context.close()

    demo = requests.get(f"{stack.base_url}/dev/demo", timeout=5).json()
    chapters = f"/courses/{demo['courseId']}/chapters"

    def in_first_chapter() -> bool:
        first = stack.call("GET", chapters, "bob").json()["chapters"][0]
        return any(item["filename"] == video.name for item in first["items"])

    # The S3 event completes the upload and links it into its chapter.
    checker = browser.new_context()
    try:
        wait_until(checker.new_page(), in_first_chapter, timeout=30)
    finally:
        checker.close()


def test_a_co_editor_sees_the_bar_of_a_companion_mode_uppy_upload_move(
    browser: Any,
    stack: Stack,
    open_page: Callable[..., DemoPage],
    media_files: Callable[[str, int], Path],
    artifacts: Callable[[Any, str], Path],
) -> None:
    # Uppy's Companion mode measures progress only in the uploader's browser;
    # the package's UppyProgress plugin reports it, so co-editors see it too.
    if not (ROOT / BUNDLE).exists():
        pytest.skip(f"{BUNDLE} is missing: `make browser-deps` (npm ci) installs Uppy")
    carol = open_page("carol")
    video = media_files("uppy-shared.mp4", 24 * MiB)
    chapter_id = carol.chapter_id("Welcome")

    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        reports: list[str] = []
        page.on("request", lambda r: reports.append(r.url) if r.url.endswith("/progress") else None)
        uploader = DemoPage(user="bob", context=context, page=page, errors=errors)
        uploader.throttle_uploads(3 * MiB)
        page.goto(f"{stack.base_url}/uppy.html?user=bob&mode=companion")
        page.locator("#file:enabled").wait_for(state="attached")
        page.get_by_label("Upload a file with Uppy").set_input_files(str(video))

        seen = carol.watch_bar_until_item(
            chapter_id,
            video.name,
            timeout=90,
            on_moving=lambda: artifacts(carol.page, "carol-watching-uppy"),
        )
        assert page.locator("#result").get_attribute("data-outcome") == "done"
        assert errors == []
    finally:
        context.close()
    moving = sorted({p for p in seen if 0 < p < 100})
    assert len(moving) >= 3, f"the co-editor's bar did not move: {seen} ({len(reports)} reports)"
    assert seen == sorted(seen), f"the bar went backwards: {seen}"
    assert carol.errors == []
