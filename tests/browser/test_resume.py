"""Reloading in the middle of an upload and choosing the same file again continues
from the parts S3 already holds instead of starting over."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DemoPage, MiB, wait_until
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("stack")]

PARTS_LET_THROUGH = 2


def test_choosing_the_same_file_after_a_reload_sends_only_the_missing_parts(
    open_page: Callable[[str], DemoPage],
    stack: Stack,
    media_files: Callable[[str, int], Path],
    artifacts: Callable[[Any, str], Path],
) -> None:
    bob = open_page("bob")
    video = media_files("lecture-resume.mp4", 48 * MiB)
    s3 = f"{stack.moto_url}/**"

    # Let two part PUTs reach S3 and hold the others, as a connection that
    # dies mid-upload would; the reload then cancels the held ones.
    reached: list[str] = []

    def s3_route(route: Any) -> None:
        if route.request.method != "PUT":
            route.continue_()
        elif len(reached) < PARTS_LET_THROUGH:
            reached.append(route.request.url)
            route.continue_()
        # else: never answered

    bob.page.route(s3, s3_route)
    bob.upload_into_chapter("Welcome", video)
    row = bob.page.locator("li.upload")
    operation_id = str(row.get_attribute("data-operation-id"))

    def held_parts() -> list[dict[str, Any]]:
        detail = stack.call("GET", f"/uploads/{operation_id}", "bob").json()
        return list(detail["parts"])

    wait_until(bob.page, lambda: len(held_parts()) == PARTS_LET_THROUGH, timeout=30)
    part_count = int(stack.call("GET", f"/uploads/{operation_id}", "bob").json()["partCount"])
    artifacts(bob.page, "before-reload")

    bob.page.reload()
    bob.page.unroute_all(behavior="ignoreErrors")
    bob.wait_live()
    bob.page.get_by_text("Interrupted uploads").wait_for()
    artifacts(bob.page, "after-reload")

    puts: list[str] = []

    def count_part_puts(request: Any) -> None:
        if request.method == "PUT" and request.url.startswith(stack.moto_url):
            puts.append(request.url)

    bob.page.on("request", count_part_puts)
    # The page offers to continue; choosing the same file there sends the rest.
    bob.page.get_by_label(f"Continue uploading {video.name}").set_input_files(str(video))
    bob.page.get_by_text(f"Continuing {video.name}").wait_for()
    bob.chapter("Welcome").locator(".items").get_by_text(video.name).wait_for(timeout=60_000)
    artifacts(bob.page, "completed")

    assert part_count == 6
    assert len(puts) == part_count - PARTS_LET_THROUGH
    detail = stack.call("GET", f"/uploads/{operation_id}", "bob").json()
    assert detail["status"] == "completed"
