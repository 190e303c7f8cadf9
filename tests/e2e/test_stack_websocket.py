"""The WebSocket API against a running stack: connect with a token, the app's
`$default` actions, and the @connections API the app answers through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.e2e.conftest import Socket, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

OpenSocket = Callable[..., Socket]


def connections_client(stack: Stack) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"{stack.base_url}/ws",
        region_name="us-east-1",
        aws_access_key_id="devstack",
        aws_secret_access_key="devstack",
        config=Config(retries={"max_attempts": 1}),
    )


def connection_id(stack: Stack, user_agent: str) -> str:
    listed = requests.get(f"{stack.base_url}/dev/connections", timeout=5).json()["connections"]
    ids = [c["connectionId"] for c in listed if c["userAgent"] == user_agent]
    assert len(ids) == 1, listed
    return str(ids[0])


def test_connect_without_token_is_refused_with_401(stack: Stack) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(stack.ws_url, open_timeout=5)
    assert refused.value.response.status_code == 401


def test_connect_with_a_forged_token_is_refused_with_401(stack: Stack) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{stack.ws_url}?token=eyJhbGciOiJIUzI1NiJ9.e30.forged", open_timeout=5)
    assert refused.value.response.status_code == 401


def test_ping_is_answered_with_pong(ws: OpenSocket) -> None:
    reply = ws("alice").request({"action": "ping"})
    assert reply["type"] == "pong"
    assert reply["seq"] is None


def test_garbage_gets_an_error_and_the_connection_stays_open(ws: OpenSocket) -> None:
    sock = ws("alice")
    sock.send("this is not json")
    assert sock.recv()["type"] == "error"
    assert sock.request({"action": "ping"})["type"] == "pong"


def test_unknown_action_gets_an_error(ws: OpenSocket) -> None:
    reply = ws("alice").request({"action": "dance"})
    assert reply["type"] == "error"


def test_member_subscribes_to_the_course_channel(stack: Stack, ws: OpenSocket) -> None:
    course_id = stack.call("POST", "/courses", "frank", {"title": "WS course"}).json()["courseId"]
    reply = ws("frank").subscribe(f"course:{course_id}")
    assert reply["type"] == "subscribed"
    assert reply["data"]["channel"] == f"course:{course_id}"


def test_non_member_cannot_subscribe_to_a_course(stack: Stack, ws: OpenSocket) -> None:
    course_id = stack.call("POST", "/courses", "frank", {"title": "Closed"}).json()["courseId"]
    reply = ws("mallory").subscribe(f"course:{course_id}")
    assert reply["type"] == "error"


def test_subscriber_sees_a_new_chapter_without_asking(stack: Stack, ws: OpenSocket) -> None:
    course_id = stack.call("POST", "/courses", "gina", {"title": "Live"}).json()["courseId"]
    stack.call("PUT", f"/courses/{course_id}/members/hal", "gina", {"role": "editor"})
    watcher = ws("gina")
    assert watcher.subscribe(f"course:{course_id}")["type"] == "subscribed"
    created = stack.call("POST", f"/courses/{course_id}/chapters", "hal", {"title": "Intro"})
    assert created.status_code == 201
    event = watcher.recv_until(lambda m: m["type"] == "chapter.updated")
    assert event["data"]["chapter"]["chapterId"] == created.json()["chapterId"]
    assert event["courseId"] == course_id


def test_post_to_connection_reaches_the_socket(stack: Stack, ws: OpenSocket) -> None:
    sock = ws("ivan", user_agent="e2e-post")
    connections_client(stack).post_to_connection(
        ConnectionId=connection_id(stack, "e2e-post"), Data=b'{"hello": "ivan"}'
    )
    assert sock.recv_until(lambda m: "hello" in m) == {"hello": "ivan"}


def test_get_connection_describes_the_socket(stack: Stack, ws: OpenSocket) -> None:
    ws("ivan", user_agent="e2e-get")
    info = connections_client(stack).get_connection(ConnectionId=connection_id(stack, "e2e-get"))
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "e2e-get"}
    assert info["ConnectedAt"] <= info["LastActiveAt"]


def test_post_to_an_unknown_connection_raises_gone(stack: Stack) -> None:
    client = connections_client(stack)
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="AAAAAAAAAAAAAAA=", Data=b"{}")


def test_deleted_connection_is_closed_and_then_gone(stack: Stack, ws: OpenSocket) -> None:
    sock = ws("ivan", user_agent="e2e-delete")
    client = connections_client(stack)
    conn_id = connection_id(stack, "e2e-delete")
    client.delete_connection(ConnectionId=conn_id)
    with pytest.raises(ConnectionClosed):
        sock.recv()
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=conn_id, Data=b"{}")


def test_resubscribing_with_since_replays_what_was_missed(stack: Stack, ws: OpenSocket) -> None:
    course_id = stack.call("POST", "/courses", "jill", {"title": "Replay"}).json()["courseId"]
    channel = f"course:{course_id}"
    seen = ws("jill").subscribe(channel)["data"]["seq"]
    missed = stack.call("POST", f"/courses/{course_id}/chapters", "jill", {"title": "Missed"})
    later = ws("jill")
    assert later.subscribe(channel, since=seen)["type"] == "subscribed"
    replayed = later.recv_until(lambda m: m["type"] == "chapter.updated")
    assert replayed["data"]["chapter"]["chapterId"] == missed.json()["chapterId"]
    assert replayed["seq"] > seen
