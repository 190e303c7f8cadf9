"""The upload's state machine: every (from, to) pair of statuses, allowed and
refused, through the services that make each move, on in-memory fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import product

import pytest

from chalicelib.domain.upload_states import (
    STATUSES,
    TRANSITIONS,
    UploadStatus,
    can_move,
    sources_of,
)
from chalicelib.domain.uploads import NewFile, UploadRecord
from chalicelib.errors import Conflict, InvalidInput
from chalicelib.models import LibraryTarget
from chalicelib.uploads.announce import UploadAnnouncer
from chalicelib.uploads.completion import UploadCompletion
from chalicelib.uploads.lifecycle import UploadLifecycle
from tests.fakes import FakeClock, InMemoryMediaStore, InMemoryPublisher
from tests.upload_fakes import (
    POLICY,
    T0,
    FakeMultipart,
    InMemoryUploadStore,
    OpenCourses,
    RecordingLinker,
)

SIZE = 20 * 1024**2
T_OLD = T0 - POLICY.stale_after - timedelta(minutes=1)

# The contract, written out: the moves an upload may make. Everything else is refused.
ALLOWED: set[tuple[str, str]] = {
    ("uploading", "completing"),
    ("uploading", "completed"),
    ("uploading", "failed"),
    ("uploading", "aborted"),
    ("completing", "uploading"),
    ("completing", "completing"),
    ("completing", "completed"),
    ("completing", "failed"),
    ("completing", "aborted"),
}
PAIRS = list(product(STATUSES, STATUSES))


@dataclass
class World:
    store: InMemoryUploadStore
    storage: FakeMultipart
    publisher: InMemoryPublisher
    lifecycle: UploadLifecycle
    completion: UploadCompletion

    def upload_in(self, status: str) -> UploadRecord:
        file = NewFile("talk.mp4", "video/mp4", SIZE, LibraryTarget(type="library"))
        upload = self.lifecycle.initiate("alice", file)
        self.storage.put_part(upload.upload_id, 1, SIZE)
        record = self.store.get(upload.operation_id)
        assert record is not None
        forced = replace(record, upload=upload.model_copy(update={"status": status}))
        self.store.put(forced)
        self.publisher.sent.clear()
        return forced

    def events(self) -> list[str]:
        return self.publisher.types_on("user:alice")


@pytest.fixture
def w() -> World:
    publisher = InMemoryPublisher()
    store, storage = InMemoryUploadStore(outbox=publisher), FakeMultipart()
    clock = FakeClock(T0.timestamp())
    announcer = UploadAnnouncer(
        store=store,
        linker=RecordingLinker(),
        clock=clock,
        sleep=lambda s: None,
    )
    lifecycle = UploadLifecycle(
        store=store,
        storage=storage,
        courses=OpenCourses(),
        announcer=announcer,
        policy=POLICY,
        clock=clock,
    )
    completion = UploadCompletion(
        store=store,
        storage=storage,
        media=InMemoryMediaStore(),
        announcer=announcer,
        policy=POLICY,
        clock=clock,
    )
    return World(store, storage, publisher, lifecycle, completion)


# ---- the table -----------------------------------------------------------------


@pytest.mark.parametrize(("current", "to"), PAIRS)
def test_the_table_allows_exactly_the_listed_moves(current: UploadStatus, to: UploadStatus) -> None:
    assert can_move(current, to) is ((current, to) in ALLOWED)


def test_terminal_statuses_have_no_way_out() -> None:
    assert {s for s, targets in TRANSITIONS.items() if not targets} == {
        "completed",
        "failed",
        "aborted",
    }


def test_the_store_condition_is_the_table_read_backwards() -> None:
    for to in STATUSES:
        assert sources_of(to) == {s for s, t in ALLOWED if t == to}


# ---- every pair, through the service that makes the move -------------------------


def _complete(w: World, record: UploadRecord) -> None:
    w.lifecycle.complete(record, [(1, '"e1"')])


def _reopen(w: World, record: UploadRecord) -> None:
    """S3 refuses the parts of a complete; meanwhile the stored status became
    `record`'s (a concurrent abort, completion, failure or reopen)."""
    status = record.upload.status
    completing = replace(record, upload=record.upload.model_copy(update={"status": "completing"}))
    w.store.put(completing)

    def refuse(key: str) -> None:
        w.store.put(record)
        raise InvalidInput("S3 refused the parts", code="invalid_parts")

    w.storage.on_complete = refuse
    with pytest.raises(InvalidInput):
        w.lifecycle.complete(completing, [(1, '"e1"')])
    assert w.store.status_of(record.upload.operation_id) in {status, "uploading"}


def _object_created(w: World, record: UploadRecord) -> None:
    # S3 holds the assembled object, as the event says (it is checked).
    w.storage.put_object(record.upload.key, SIZE, parts=record.upload.part_count)
    w.completion.object_created(record.upload.key, SIZE)


def _wrong_size(w: World, record: UploadRecord) -> None:
    w.storage.put_object(record.upload.key, SIZE - 1, parts=record.upload.part_count)
    w.completion.object_created(record.upload.key, SIZE - 1)


def _abort(w: World, record: UploadRecord) -> None:
    w.lifecycle.abort(record)


ATTEMPTS: dict[str, Callable[[World, UploadRecord], None]] = {
    "uploading": _reopen,
    "completing": _complete,
    "completed": _object_created,
    "failed": _wrong_size,
    "aborted": _abort,
}
ANSWERED = {"completing", "aborted"}
EVENTS = {"completed": "upload.completed", "failed": "upload.failed", "aborted": "upload.aborted"}


@pytest.mark.parametrize(("current", "to"), PAIRS)
def test_every_move_is_made_only_when_the_table_allows_it(
    w: World, current: UploadStatus, to: UploadStatus
) -> None:
    record = w.upload_in(current)
    allowed = (current, to) in ALLOWED

    refused: str | None = None
    try:
        ATTEMPTS[to](w, record)
    except Conflict as err:
        refused = err.code

    # A client's request is answered 409; an S3 event or the sweep just changes nothing.
    assert refused == (None if allowed or to not in ANSWERED else "upload_not_open")
    assert w.store.status_of(record.upload.operation_id) == (to if allowed else current)
    expected = [EVENTS[to]] if allowed and to in EVENTS else []
    assert w.events() == expected


@pytest.mark.parametrize("current", STATUSES)
def test_the_sweep_fails_only_uploads_the_table_lets_fail(w: World, current: UploadStatus) -> None:
    record = w.upload_in(current)
    w.store.put(replace(record, upload=record.upload.model_copy(update={"created_at": T_OLD})))

    expired = w.completion.expire_stale()

    open_ = can_move(current, "failed")
    assert expired == (1 if open_ else 0)
    assert w.store.status_of(record.upload.operation_id) == ("failed" if open_ else current)
    assert w.events() == (["upload.failed"] if open_ else [])
