"""Browser tests: Debian's Chromium, driven by Playwright, against the local stack.

The stack is the e2e suite's own fixture (`python -m devstack` on free ports,
stopped by PID), so both suites test the same thing and, in one xdist group,
share one stack. Chromium is the system's (/usr/bin/chromium): Playwright's
own browser download is never used. Without it the tests skip and say why.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e import conftest as e2e
from tests.e2e.conftest import ROOT, Stack

# The e2e suite's local stack (one per session), and its hook that adds the
# stack's last log lines to a failed test's report.
stack = e2e.stack
pytest_runtest_makereport = e2e.pytest_runtest_makereport

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MiB = 1024 * 1024
UI_TIMEOUT_MS = 20_000

# A bar read in the watching browser: (percent or None, item present?).
READ_CHAPTER = """([chapterId, filename]) => {
  const chapter = document.querySelector(`li.chapter[data-chapter-id="${chapterId}"]`);
  const bar = chapter?.querySelector('li.upload progress');
  const names = [...(chapter?.querySelectorAll('.items .name strong') ?? [])]
    .map((e) => e.textContent);
  return [bar ? bar.value : null, names.includes(filename)];
}"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Chromium is not installed at /usr/bin/chromium "
            "(`make browser-deps` installs it with apt-get when run as root)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """`shot(page, "label")` saves test-artifacts/<test>-<label>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def shot(page: Any, label: str) -> Path:
        path = ARTIFACTS / f"{test}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot


@dataclass
class DemoPage:
    """The demo page as one user sees it, in its own browser context."""

    user: str
    context: Any
    page: Any
    errors: list[str]

    def chapter(self, title: str) -> Any:
        return self.page.locator("li.chapter").filter(
            has=self.page.get_by_role("heading", name=re.compile(rf"{re.escape(title)}$"))
        )

    def chapter_id(self, title: str) -> str:
        return str(self.chapter(title).get_attribute("data-chapter-id"))

    def upload_into_chapter(self, title: str, file: Path) -> None:
        self.page.get_by_label(f"Upload a file into {title}").set_input_files(str(file))

    def upload_to_library(self, file: Path) -> None:
        self.page.locator("#library-file").set_input_files(str(file))

    def wait_live(self) -> None:
        self.page.locator("#connection[data-state=open]").wait_for(timeout=UI_TIMEOUT_MS)
        # The page has its data once the course has rendered.
        self.page.locator("li.chapter").first.wait_for(timeout=UI_TIMEOUT_MS)

    def throttle_uploads(self, bytes_per_second: int) -> None:
        """Slow this page's uploads, as a real link would be, so a bar can be watched."""
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 0,
                "downloadThroughput": -1,
                "uploadThroughput": bytes_per_second,
            },
        )

    def mark(self) -> None:
        """Set a flag that only survives as long as the page is not reloaded."""
        self.page.evaluate("window.__sameDocument = true")

    def was_reloaded(self) -> bool:
        return not self.page.evaluate("window.__sameDocument === true")

    def watch_bar_until_item(
        self,
        chapter_id: str,
        filename: str,
        timeout: float = 60,
        on_moving: Callable[[], Any] | None = None,
    ) -> list[float]:
        """Every distinct value of the chapter's upload bar, read until `filename`
        is among the chapter's items; `on_moving` runs once at the third value."""
        seen: list[float] = []

        def item_arrived() -> bool:
            percent, present = self.page.evaluate(READ_CHAPTER, [chapter_id, filename])
            if percent is not None and (not seen or seen[-1] != percent):
                seen.append(percent)
                if len(seen) == 3 and on_moving:
                    on_moving()
            return bool(present)

        wait_until(self.page, item_arrived, timeout=timeout)
        return seen


@pytest.fixture
def open_page(browser: Any, stack: Stack) -> Iterator[Callable[..., DemoPage]]:
    """`open_page("bob")`: the demo page as bob, connected and rendered."""
    contexts: list[Any] = []

    def open_as(user: str, before_load: Callable[[Any], Any] | None = None) -> DemoPage:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        if before_load:
            before_load(page)  # e.g. routes that must exist before the page connects
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{stack.base_url}/?user={user}")
        demo = DemoPage(user=user, context=context, page=page, errors=errors)
        demo.wait_live()
        return demo

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, int], Path]:
    """`media_file("lecture.mp4", 48 * MiB)`: a file of that size, made once per session."""
    folder = tmp_path_factory.mktemp("media")
    made: dict[tuple[str, int], Path] = {}

    def media_file(name: str, size: int) -> Path:
        if (name, size) not in made:
            path = folder / name
            block = bytes(range(256)) * 4096  # 1 MiB
            with path.open("wb") as out:
                for _ in range(size // len(block)):
                    out.write(block)
                out.write(block[: size % len(block)])
            made[(name, size)] = path
        return made[(name, size)]

    return media_file


def wait_until(
    page: Any, predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05
) -> Any:
    """Poll `predicate` while letting `page` run: Playwright's sync API dispatches
    events and route handlers only while the test is inside one of its calls,
    so a plain sleep would stall them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(interval * 1000)
    raise AssertionError(f"condition not met within {timeout} s")


def library_media(stack: Stack, user: str, name: str) -> str:
    """Upload a small file into `user`'s library through the REST flow; its media id."""
    payload = b"%PDF-1.4\n" + bytes(range(256)) * 64
    body = {"filename": name, "contentType": "application/pdf", "size": len(payload)}
    started = stack.call("POST", "/uploads", user, {**body, "target": {"type": "library"}})
    assert started.status_code == 201, started.text
    operation = started.json()["operationId"]
    urls = stack.call("POST", f"/uploads/{operation}/parts", user, {"partNumbers": [1]}).json()
    assert requests.put(urls["urls"]["1"], data=payload, timeout=10).status_code == 200
    assert stack.call("POST", f"/uploads/{operation}/complete", user, {}).status_code == 202

    def media_id() -> str | None:
        upload = stack.call("GET", f"/uploads/{operation}", user).json()
        return str(upload["mediaId"]) if upload["status"] == "completed" else None

    # The S3 event reaches the app through SQS and the stack's poller.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if found := media_id():
            return found
        time.sleep(0.1)
    raise AssertionError("the upload did not complete")
