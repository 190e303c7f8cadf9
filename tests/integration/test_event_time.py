"""Events and replies carry the time of the container's clock, not the wall
clock: a client sees when a change happened by the same clock that stamped the
change itself (the chapter's `updatedAt` and its event's `at` agree)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.channels import course_channel
from tests.conftest import token_for, use_container
from tests.fakes import FakeClock, FakeConnectionsApi, FakeWebsocketGateway

pytestmark = pytest.mark.integration


def _at(message: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(message["at"]).replace("Z", "+00:00"))


def test_events_and_replies_are_stamped_by_the_injected_clock(client: Any) -> None:
    # Ten minutes ago, to the second: well off the wall clock, and still within
    # the life of the connection's token, which the clock also judges.
    then = datetime.fromtimestamp(int(time.time()) - 600, UTC)
    clock, api = FakeClock(then.timestamp()), FakeConnectionsApi()
    c = use_container(transport=api, clock=clock)
    ws = FakeWebsocketGateway(client.lambda_)
    course_id = c.courses.create_course("olga", "Biology").course_id
    connection_id, status = ws.connect(token_for("olga"))
    assert status == 200
    ws.send_json(connection_id, {"action": "subscribe", "channel": course_channel(course_id)})

    clock.advance(90)
    chapter = c.courses.create_chapter(course_id, "olga", "Cells")
    ws.send_json(connection_id, {"action": "ping"})

    by_type = {m["type"]: m for m in api.received(connection_id)}
    assert _at(by_type["subscribed"]) == then
    assert _at(by_type["chapter.updated"]) == chapter.updated_at
    assert chapter.updated_at.timestamp() == pytest.approx(then.timestamp() + 90, abs=0.001)
    assert _at(by_type["pong"]).timestamp() == pytest.approx(then.timestamp() + 90, abs=0.001)
