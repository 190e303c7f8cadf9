"""Uploads the browser makes itself (Uppy's signRequest mode), on fakes: the
server never creates, assembles or aborts their S3 upload, the first S3 upload
id a request names is theirs, and `completing` follows the transition table."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.upload_states import STATUSES, UploadStatus, can_move
from chalicelib.domain.uploads import NewFile, Source, UploadRecord
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import LibraryTarget
from chalicelib.uploads.announce import UploadAnnouncer
from chalicelib.uploads.browser import BrowserDrivenUploads
from chalicelib.uploads.lifecycle import UploadLifecycle
from tests.fakes import FakeClock, InMemoryPublisher
from tests.upload_fakes import (
    POLICY,
    T0,
    FakeMultipart,
    InMemoryUploadStore,
    OpenCourses,
    RecordingLinker,
)

FILE = NewFile("talk.mp4", "video/mp4", 20 * 1024**2, LibraryTarget(type="library"))


class World:
    def __init__(self) -> None:
        self.store = InMemoryUploadStore(outbox=InMemoryPublisher())
        self.storage = FakeMultipart()
        clock = FakeClock(T0.timestamp())
        announcer = UploadAnnouncer(
            store=self.store, linker=RecordingLinker(), clock=clock, sleep=lambda s: None
        )
        self.lifecycle = UploadLifecycle(
            store=self.store,
            storage=self.storage,
            courses=OpenCourses(),
            announcer=announcer,
            policy=POLICY,
            clock=clock,
        )
        self.browser = BrowserDrivenUploads(store=self.store, clock=clock)

    def start(self, source: Source = "signer") -> UploadRecord:
        upload = self.lifecycle.initiate("alice", FILE, source=source)
        record = self.store.get(upload.operation_id)
        assert record is not None
        return record


@pytest.fixture
def w() -> World:
    return World()


def test_the_server_creates_no_s3_upload_for_the_browser_and_one_for_everyone_else(
    w: World,
) -> None:
    assert w.start("signer").upload.upload_id == ""
    assert w.storage.uploads == {}
    assert w.start("companion").upload.upload_id in w.storage.uploads


def test_the_first_s3_upload_id_named_is_bound_and_any_other_is_someone_elses(
    w: World,
) -> None:
    record = w.start()
    bound = w.browser.bind(record, "s3-upload-from-browser")
    assert bound.upload.upload_id == "s3-upload-from-browser"
    assert w.browser.bind(bound, "s3-upload-from-browser") == bound
    with pytest.raises(NotFound):
        w.browser.bind(bound, "another-upload")
    with pytest.raises(NotFound):
        # A stale copy of the record, read before the bind, cannot rebind it.
        w.browser.bind(record, "another-upload")


def test_aborting_a_browser_made_upload_leaves_its_s3_upload_to_the_browser(w: World) -> None:
    record = w.browser.bind(w.start(), "s3-upload-from-browser")
    assert w.lifecycle.abort(record).status == "aborted"
    assert w.storage.aborted == []
    server_made = w.start("companion")
    w.lifecycle.abort(server_made)
    assert w.storage.aborted == [server_made.upload.key]


@pytest.mark.parametrize("current", STATUSES)
def test_completing_in_the_browser_is_a_move_the_table_allows(
    w: World, current: UploadStatus
) -> None:
    record = w.browser.bind(w.start(), "s3-upload-from-browser")
    forced = replace(record, upload=record.upload.model_copy(update={"status": current}))
    w.store.put(forced)
    if can_move(current, "completing"):
        assert w.browser.completing(forced).status == "completing"
    else:
        with pytest.raises(Conflict):
            w.browser.completing(forced)
    expected = "completing" if can_move(current, "completing") else current
    assert w.store.status_of(record.upload.operation_id) == expected
