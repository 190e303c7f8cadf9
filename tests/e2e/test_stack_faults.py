"""The local stack fails as AWS fails, on demand (`PUT /dev/faults`): connections
that vanish, throttled and slow @connections posts, duplicated and delayed S3
events, throttled DynamoDB tables, presigned URLs that expire early. Each test
turns one fault on and the fixture turns every fault off again."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import Socket, Stack
from tests.e2e.test_stack_uploads import EVENT_TIMEOUT, PAYLOAD, of_type, upload

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

OpenSocket = Callable[..., Socket]


def set_faults(stack: Stack, **settings: Any) -> dict[str, Any]:
    response = requests.put(f"{stack.base_url}/dev/faults", json=settings, timeout=5)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def injected(stack: Stack) -> dict[str, int]:
    counts: dict[str, int] = requests.get(f"{stack.base_url}/dev/faults", timeout=5).json()[
        "injected"
    ]
    return counts


@pytest.fixture(autouse=True)
def no_faults_after(stack: Stack) -> Iterator[None]:
    set_faults(stack)
    yield
    set_faults(stack)


def connection_id(stack: Stack, user_agent: str) -> str:
    for conn in requests.get(f"{stack.base_url}/dev/connections", timeout=5).json()["connections"]:
        if conn["userAgent"] == user_agent:
            return str(conn["connectionId"])
    raise AssertionError(f"no connection with user agent {user_agent}")


def test_without_faults_nothing_is_injected(stack: Stack) -> None:
    state = requests.get(f"{stack.base_url}/dev/faults", timeout=5).json()
    assert state["injected"] == {}
    assert state["settings"]["dynamodb_throttled"] == {}


def test_a_fault_setting_out_of_range_is_refused(stack: Stack) -> None:
    response = requests.put(f"{stack.base_url}/dev/faults", json={"connections_gone": 2}, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_vanished_connection_answers_410_and_its_socket_closes(
    stack: Stack, ws: OpenSocket
) -> None:
    set_faults(stack, connections_gone=1.0)
    sock = ws("gina")
    sock.send({"action": "ping"})
    with pytest.raises(ConnectionClosed) as closed:
        sock.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001
    assert injected(stack)["connections_gone"] == 1


def test_a_throttled_post_answers_429_limit_exceeded(stack: Stack, ws: OpenSocket) -> None:
    ws("hank", user_agent="throttle-test")
    set_faults(stack, connections_throttled=1.0)
    url = f"{stack.base_url}/ws/@connections/{connection_id(stack, 'throttle-test')}"
    response = requests.post(url, data=b'{"type": "x"}', timeout=5)
    assert response.status_code == 429
    assert response.headers["x-amzn-ErrorType"] == "LimitExceededException"


def test_a_slow_post_is_answered_after_the_delay(stack: Stack, ws: OpenSocket) -> None:
    sock = ws("ivan", user_agent="slow-test")
    set_faults(stack, connections_delay_seconds=0.5)
    url = f"{stack.base_url}/ws/@connections/{connection_id(stack, 'slow-test')}"
    started = time.monotonic()
    response = requests.post(url, data=b'{"type": "slow"}', timeout=5)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.5
    assert sock.recv()["type"] == "slow"


def test_a_throttled_table_answers_provisioned_throughput_exceeded(stack: Stack) -> None:
    set_faults(stack, dynamodb_throttled={"CoursesTable": 1.0})
    ddb = stack.aws("dynamodb", Config(retries={"mode": "standard", "max_attempts": 1}))
    with pytest.raises(ClientError) as refused:
        ddb.get_item(TableName="CoursesTable", Key={"pk": {"S": "x"}, "sk": {"S": "x"}})
    assert refused.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    # Other tables answer as usual.
    assert "Items" in ddb.scan(TableName="MediaTable", Limit=1)


def test_a_duplicated_s3_event_completes_the_upload_once(stack: Stack, ws: OpenSocket) -> None:
    sock = ws("judy")
    set_faults(stack, s3_events_duplicated=1.0)
    operation_id = upload(stack, "judy", {"type": "library"})
    sock.recv_until(of_type("upload.completed", operation_id), EVENT_TIMEOUT)
    assert injected(stack)["s3_events_duplicated"] >= 1
    time.sleep(2)  # the copies arrive and change nothing
    media = stack.call("GET", "/media", "judy").json()["items"]
    assert [m["operationId"] for m in media].count(operation_id) == 1
    with pytest.raises(AssertionError):
        sock.recv_until(of_type("upload.completed", operation_id), 1.0)


def test_a_delayed_s3_event_completes_the_upload_late(stack: Stack, ws: OpenSocket) -> None:
    sock = ws("kyle")
    set_faults(stack, s3_events_delay_seconds=2.0)
    started = time.monotonic()
    operation_id = upload(stack, "kyle", {"type": "library"})
    sock.recv_until(of_type("upload.completed", operation_id), EVENT_TIMEOUT)
    assert time.monotonic() - started >= 2.0


def test_a_presigned_url_can_be_made_to_expire_early(stack: Stack) -> None:
    body = {
        "filename": "early.mp4",
        "contentType": "video/mp4",
        "size": len(PAYLOAD),
        "target": {"type": "library"},
    }
    operation_id = stack.call("POST", "/uploads", "lena", body).json()["operationId"]
    urls = stack.call("POST", f"/uploads/{operation_id}/parts", "lena", {"partNumbers": [1]})
    set_faults(stack, presign_expires_after_seconds=0)
    time.sleep(1.1)
    response = requests.put(urls.json()["urls"]["1"], data=PAYLOAD, timeout=5)
    assert response.status_code == 403
    assert b"Request has expired" in response.content
    assert injected(stack)["presign_expired_early"] == 1
