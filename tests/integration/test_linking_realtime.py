"""Issue 5's first acceptance check, end to end through the WebSocket handlers,
the real publisher and a faked @connections API: a link reaches every course
subscriber with the new chapter, and nobody else."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import services
from chalicelib.channels import course_channel
from tests.conftest import token_for, use_container
from tests.fakes import FakeConnectionsApi, FakeWebsocketGateway, assert_valid_events
from tests.integration.course_kit import add_media, body, call

pytestmark = pytest.mark.integration


@pytest.fixture
def api(client: Any) -> FakeConnectionsApi:
    fake = FakeConnectionsApi()
    use_container(transport=fake)
    return fake


@pytest.fixture
def ws(client: Any, api: FakeConnectionsApi) -> FakeWebsocketGateway:
    return FakeWebsocketGateway(client.lambda_)


def connect(ws: FakeWebsocketGateway, user: str, channel: str | None = None) -> str:
    connection_id, status = ws.connect(token_for(user))
    assert status == 200
    if channel:
        ws.send_json(connection_id, {"action": "subscribe", "channel": channel})
    return connection_id


def events(api: FakeConnectionsApi, connection_id: str) -> list[dict[str, Any]]:
    messages = api.received(connection_id)
    assert_valid_events(messages)
    return [m for m in messages if m["seq"] is not None]


def test_a_link_reaches_every_course_member_with_the_new_chapter_and_no_one_else(
    client: Any, ws: FakeWebsocketGateway, api: FakeConnectionsApi
) -> None:
    courses = services.container().courses
    course_id = courses.create_course("olga", "Biology").course_id
    for user, role in (("eddie", "editor"), ("edna", "editor"), ("vera", "viewer")):
        courses.set_member(course_id, "olga", user, role)  # type: ignore[arg-type]
    chapter_id = courses.create_chapter(course_id, "olga", "Cells").chapter_id
    add_media("m_1", "eddie")
    members = {u: connect(ws, u, course_channel(course_id)) for u in ("eddie", "edna", "vera")}
    outsider = connect(ws, "mallory")
    api.clear()

    path = f"/courses/{course_id}/chapters/{chapter_id}/media/m_1"
    assert call(client, "PUT", path, "eddie").status_code == 200
    listed = body(call(client, "GET", f"/courses/{course_id}/chapters", "vera"))["chapters"][0]

    for user, connection_id in members.items():
        on_course = [e for e in events(api, connection_id) if e["channel"] == f"course:{course_id}"]
        assert [e["type"] for e in on_course] == ["media.linked", "chapter.updated"], user
        assert [i["mediaId"] for i in on_course[1]["data"]["chapter"]["items"]] == ["m_1"]
        assert on_course[1]["data"]["chapter"] == listed
    assert events(api, outsider) == []
