"""A WebSocket connection's rights end with its token, and a fresh token of
the same user restores them in place (`authenticate`), losing nothing: what
the connection missed meanwhile comes back with `subscribe` and `since`.

The tokens here live one to two seconds and the verifier's clock-skew leeway is 0, so
"past its expiry" is a real second away (the leeway is part of the rights
otherwise: a connection keeps them as long as REST would accept its token)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from chalicelib import services
from chalicelib.channels import course_channel, user_channel
from tests.conftest import TEST_SECRET, token_for
from tests.fakes import FakeConnectionsApi, FakeWebsocketGateway, assert_valid_events

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def no_leeway(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AUTH_LEEWAY_SECONDS", "0")
    services.reset()
    yield
    services.reset()


@pytest.fixture
def course_id(client: Any) -> str:
    courses = services.container().courses
    course_id = courses.create_course("alice", "Physics").course_id
    courses.set_member(course_id, "alice", "bob", "viewer")
    return course_id


def short_token(user_id: str) -> tuple[str, int]:
    # At least one whole second ahead: `exp` is whole seconds.
    token = token_for(user_id, ttl_seconds=2)
    exp = int(jwt.decode(token, TEST_SECRET, algorithms=["HS256"])["exp"])
    return token, exp


def wait_past(exp: int) -> None:
    time.sleep(max(0.0, exp - time.time()) + 0.05)


def connect_and_subscribe(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, token: str, channel: str
) -> str:
    connection_id, status = ws.connect(token)
    assert status == 200
    ws.send_json(connection_id, {"action": "subscribe", "channel": channel})
    assert ws_api.types(connection_id) == ["subscribed"]
    return connection_id


def messages(ws_api: FakeConnectionsApi, connection_id: str) -> list[dict[str, Any]]:
    received = ws_api.received(connection_id)
    assert_valid_events(received)
    return received


def test_past_its_tokens_expiry_a_connection_gets_no_events_and_cannot_subscribe(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    token, exp = short_token("bob")
    connection_id = connect_and_subscribe(ws, ws_api, token, course_channel(course_id))
    wait_past(exp)

    courses = services.container().courses
    courses.create_chapter(course_id, "alice", "Week 1")
    ws.send_json(connection_id, {"action": "subscribe", "channel": course_channel(course_id)})

    received = messages(ws_api, connection_id)
    assert [m["type"] for m in received] == ["subscribed", "error"]
    assert received[-1]["data"]["code"] == "token_expired"
    # Its own user channel goes quiet too.
    store = services.container().connections
    assert connection_id not in store.connections_on(user_channel("bob"))


def test_a_fresh_token_restores_the_connection_and_since_replays_what_it_missed(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    token, exp = short_token("bob")
    channel = course_channel(course_id)
    connection_id = connect_and_subscribe(ws, ws_api, token, channel)
    wait_past(exp)
    courses = services.container().courses
    missed = courses.create_chapter(course_id, "alice", "Week 1")

    fresh = token_for("bob", ttl_seconds=600)
    ws.send_json(connection_id, {"action": "authenticate", "token": fresh})
    ws.send_json(connection_id, {"action": "subscribe", "channel": channel, "since": 0})
    live = courses.create_chapter(course_id, "alice", "Week 2")

    received = messages(ws_api, connection_id)
    assert [m["type"] for m in received] == [
        "subscribed",
        "authenticated",
        "subscribed",
        "chapter.updated",  # the replay of what it missed
        "chapter.updated",  # live again
    ]
    fresh_exp = jwt.decode(fresh, TEST_SECRET, algorithms=["HS256"])["exp"]
    assert received[1]["data"]["expiresAt"] == time.strftime(
        "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(fresh_exp)
    )
    assert received[3]["data"]["chapter"]["chapterId"] == missed.chapter_id
    assert received[4]["data"]["chapter"]["chapterId"] == live.chapter_id
    assert [received[3]["seq"], received[4]["seq"]] == [1, 2]


def test_authenticating_before_expiry_keeps_every_subscription_live(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi, course_id: str
) -> None:
    token, exp = short_token("bob")
    connection_id = connect_and_subscribe(ws, ws_api, token, course_channel(course_id))
    ws.send_json(
        connection_id, {"action": "authenticate", "token": token_for("bob", ttl_seconds=600)}
    )
    wait_past(exp)

    services.container().courses.create_chapter(course_id, "alice", "Week 1")

    assert [m["type"] for m in messages(ws_api, connection_id)] == [
        "subscribed",
        "authenticated",
        "chapter.updated",
    ]


@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        (lambda: token_for("alice"), "token_subject_mismatch"),
        (lambda: token_for("bob", ttl_seconds=-60), "token_expired"),
        (lambda: token_for("bob") + "x", "invalid_token"),
    ],
)
def test_a_token_that_cannot_renew_the_connection_is_refused_and_changes_nothing(
    ws: FakeWebsocketGateway,
    ws_api: FakeConnectionsApi,
    course_id: str,
    make_token: Any,
    code: str,
) -> None:
    token, exp = short_token("bob")
    connection_id = connect_and_subscribe(ws, ws_api, token, course_channel(course_id))
    ws.send_json(connection_id, {"action": "authenticate", "token": make_token()})
    wait_past(exp)
    services.container().courses.create_chapter(course_id, "alice", "Week 1")

    received = messages(ws_api, connection_id)
    assert [m["type"] for m in received] == ["subscribed", "error"]
    assert received[1]["data"]["code"] == code
