"""Two editors on the demo page, in two browsers: what one does, the other sees live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DemoPage, MiB, library_media, wait_until
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("stack")]

OpenPage = Callable[[str], DemoPage]
MediaFile = Callable[[str, int], Path]
Shot = Callable[[Any, str], Path]


def test_a_second_editor_watches_a_chapter_upload_progress_and_sees_the_new_item_without_reload(
    open_page: OpenPage, media_files: MediaFile, artifacts: Shot
) -> None:
    bob, carol = open_page("bob"), open_page("carol")
    carol.mark()
    video = media_files("lecture-01.mp4", 30 * MiB)
    chapter_id = carol.chapter_id("Welcome")

    bob.throttle_uploads(8 * MiB)
    bob.upload_into_chapter("Welcome", video)

    def screenshots() -> None:
        artifacts(carol.page, "carol-watching-progress")
        artifacts(bob.page, "bob-uploading")

    seen = carol.watch_bar_until_item(chapter_id, video.name, timeout=60, on_moving=screenshots)
    artifacts(carol.page, "carol-sees-new-item")

    moving = [p for p in seen if 0 < p < 100]
    assert len(moving) >= 2, f"the bar did not move in the second browser: {seen}"
    assert seen == sorted(seen), f"the bar went backwards: {seen}"
    assert not carol.was_reloaded()
    assert carol.errors == []
    assert bob.errors == []


def test_library_upload_shows_progress_and_a_link_reaches_the_other_editor_live(
    open_page: OpenPage, media_files: MediaFile, artifacts: Shot
) -> None:
    bob, carol = open_page("bob"), open_page("carol")
    carol.mark()
    slides = media_files("slides.pdf", 12 * MiB)

    bob.throttle_uploads(4 * MiB)
    bob.upload_to_library(slides)
    # The fault this product ends: library uploads whose bar never showed.
    bar = bob.page.locator('[data-uploads-for="library"] li.upload progress')
    bar.wait_for()
    wait_until(bob.page, lambda: 0 < float(bar.get_attribute("value") or 0) < 100, timeout=30)
    artifacts(bob.page, "bob-library-progress")

    library_item = bob.page.locator("#library li.item").filter(has_text=slides.name)
    library_item.wait_for(timeout=30_000)
    library_item.get_by_label(f"Chapter to link {slides.name} into").select_option(
        label="Getting started"
    )
    library_item.get_by_role("button", name="Link").click()

    in_chapter = carol.chapter("Getting started").locator(".items").get_by_text(slides.name)
    in_chapter.wait_for()
    artifacts(carol.page, "carol-sees-linked-media")
    assert not carol.was_reloaded()
    assert library_item.locator(".linked-to").inner_text() == " · in Getting started"

    # Any editor may take it out again; the owner's chapter and library follow.
    carol.page.get_by_role("button", name=f"Remove {slides.name} from Getting started").click()
    bob.chapter("Getting started").locator(".items").get_by_text(slides.name).wait_for(
        state="detached"
    )
    library_item.locator(".linked-to").wait_for(state="detached")


def test_cancelling_an_upload_removes_its_bar_for_the_other_editor_too(
    open_page: OpenPage, stack: Stack, media_files: MediaFile
) -> None:
    bob, carol = open_page("bob"), open_page("carol")
    video = media_files("lecture-cancelled.mp4", 24 * MiB)
    bob.throttle_uploads(2 * MiB)
    bob.upload_into_chapter("Getting started", video)
    carol_bar = carol.chapter("Getting started").locator("li.upload")
    carol_bar.wait_for()
    operation_id = str(carol_bar.get_attribute("data-operation-id"))

    bob.page.get_by_role("button", name=f"Cancel uploading {video.name}").click()

    carol_bar.wait_for(state="detached")
    assert stack.call("GET", f"/uploads/{operation_id}", "bob").json()["status"] == "aborted"


def test_switching_user_shows_that_users_library_and_stays_live(
    open_page: OpenPage, stack: Stack
) -> None:
    library_media(stack, "bob", "bobs-notes.pdf")
    page = open_page("carol").page
    bobs_file = page.locator("#library li.item").filter(has_text="bobs-notes.pdf")
    assert bobs_file.count() == 0

    page.get_by_label("Signed in as").select_option("bob")
    bobs_file.wait_for()
    page.locator("#connection[data-state=open]").wait_for()
    assert page.url.endswith("?user=bob")

    page.get_by_label("Signed in as").select_option("carol")
    bobs_file.wait_for(state="detached")


def test_a_chapter_picked_for_a_library_file_survives_an_event_that_redraws_the_library(
    open_page: OpenPage, stack: Stack
) -> None:
    """An event about any file redraws the library (here another file's
    completion; in the flake this replaced, the file's own processing outcome):
    the chapter the user picked must still be the one Link uses."""
    library_media(stack, "bob", "handout.pdf")
    bob, carol = open_page("bob"), open_page("carol")
    item = bob.page.locator("#library li.item").filter(has_text="handout.pdf")
    picker = item.get_by_label("Chapter to link handout.pdf into")
    picker.select_option(label="Getting started")
    redrawn = picker.element_handle()

    library_media(stack, "bob", "handout-2.pdf")
    bob.page.locator("#library li.item").filter(has_text="handout-2.pdf").wait_for()
    assert redrawn is not None
    wait_until(bob.page, lambda: not redrawn.evaluate("e => e.isConnected"), timeout=10)

    assert picker.evaluate("e => e.selectedOptions[0].textContent") == "Getting started"
    item.get_by_role("button", name="Link").click()
    carol.chapter("Getting started").locator(".items").get_by_text("handout.pdf").wait_for()
    assert carol.chapter("Welcome").locator(".items").get_by_text("handout.pdf").count() == 0
    assert bob.errors == []
