"""On the local stack, as in AWS, a committed change is delivered by the outbox's
stream, never by the request: with the event log's table refusing every call,
a new chapter is still answered 201, and its event reaches the subscriber once
the table answers again, once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.e2e.conftest import Socket, Stack
from tests.e2e.test_stack_faults import set_faults

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

OpenSocket = Callable[..., Socket]
# The stack's event source retries a failing batch after at most 5 s.
DELIVERY_TIMEOUT = 12.0


@pytest.fixture(autouse=True)
def no_faults_after(stack: Stack) -> Iterator[None]:
    set_faults(stack)
    yield
    set_faults(stack)


def test_a_chapter_written_while_the_event_log_fails_is_a_201_and_arrives_once_it_recovers(
    stack: Stack, ws: OpenSocket
) -> None:
    course_id = stack.call("POST", "/courses", "otto", {"title": "Outbox"}).json()["courseId"]
    watcher = ws("otto")
    channel = f"course:{course_id}"
    assert watcher.subscribe(channel)["type"] == "subscribed"
    set_faults(stack, dynamodb_throttled={"EventsTable": 1.0})

    created = stack.call("POST", f"/courses/{course_id}/chapters", "otto", {"title": "Late"})

    assert created.status_code == 201
    assert created.json()["title"] == "Late"
    with pytest.raises(AssertionError):
        watcher.recv_until(lambda m: m["type"] == "chapter.updated", timeout=1.5)
    listed = stack.call("GET", f"/courses/{course_id}/chapters", "otto").json()["chapters"]
    assert [c["chapterId"] for c in listed] == [created.json()["chapterId"]]

    set_faults(stack)
    event = watcher.recv_until(lambda m: m["type"] == "chapter.updated", timeout=DELIVERY_TIMEOUT)

    assert event["data"]["chapter"] == created.json()
    assert event["seq"] == 1
    with pytest.raises(AssertionError):
        watcher.recv_until(lambda m: m["type"] == "chapter.updated", timeout=1.0)
    (source,) = stack.status()["streams"]
    assert source["table"] == "OutboxTable"
    assert source["delivered"] >= 1
