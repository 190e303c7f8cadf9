"""`make run` logs at INFO: an upload with progress reports and a subscriber adds
no DEBUG line to the stack's output (the dev stage's LOG_LEVEL=DEBUG in
.chalice/config.json is for a deployed dev stage, not for the local stack).
And each line carries its own invocation's context, although the stack runs
many invocations at once on one logger."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Socket, Stack
from tests.e2e.test_stack_uploads import EVENT_TIMEOUT, PAYLOAD, of_type, upload

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]


def _levels(output: str) -> dict[str, int]:
    counted: dict[str, int] = {}
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                level = str(json.loads(line).get("level"))
            except json.JSONDecodeError:
                continue
            counted[level] = counted.get(level, 0) + 1
    return counted


def test_the_stack_logs_no_debug_line_by_default(stack: Stack, ws: Callable[..., Socket]) -> None:
    sock = ws("lena")
    sock.subscribe("user:lena")
    body = {"filename": "a.mp4", "contentType": "video/mp4", "size": len(PAYLOAD)}
    started = stack.call("POST", "/uploads", "lena", {**body, "target": {"type": "library"}})
    operation_id = started.json()["operationId"]
    for sent in (100, 200, 300):
        progress = {"bytesUploaded": sent}
        answer = stack.call("POST", f"/uploads/{operation_id}/progress", "lena", progress)
        assert answer.status_code == 202, answer.text
    done = upload(stack, "lena", {"type": "library"})
    sock.recv_until(of_type("upload.completed", done), EVENT_TIMEOUT)
    # S3Events logs its INFO line once the event it published is out.
    deadline = time.monotonic() + EVENT_TIMEOUT
    while '"message":"object created"' not in stack.output() and time.monotonic() < deadline:
        time.sleep(0.1)

    levels = _levels(stack.output())
    assert levels.get("INFO", 0) > 0, levels
    assert "DEBUG" not in levels, levels
    assert '"level":"DEBUG"' not in stack.output()


def _json_lines(output: str) -> list[dict[str, Any]]:
    found = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return found


def test_an_s3_event_logs_only_its_own_context_while_requests_run(
    stack: Stack, ws: Callable[..., Socket]
) -> None:
    # The stack runs many invocations at once on one logger; each line must
    # carry only its own invocation's keys, as in Lambda.
    sock = ws("lars")
    busy = threading.Event()

    def requests_meanwhile() -> None:
        # A pause between calls: three readers back to back can starve the
        # stack's S3-event poller on a busy machine (all one process), and the
        # overlap is what matters, not the rate.
        while not busy.wait(0.01):
            stack.call("GET", "/uploads?status=active", "mona")

    readers = [threading.Thread(target=requests_meanwhile) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        operations = [upload(stack, "lars", {"type": "library"}) for _ in range(4)]
        for operation_id in operations:
            sock.recv_until(of_type("upload.completed", operation_id), EVENT_TIMEOUT)
        # The line follows the commit that sent upload.completed; a handler
        # that failed after it logs it on SQS's redelivery, seconds later.
        deadline = time.monotonic() + 4 * EVENT_TIMEOUT
        while time.monotonic() < deadline:
            created = [
                line
                for line in _json_lines(stack.output())
                if line.get("message") == "object created"
                and any(op in str(line.get("key")) for op in operations)
            ]
            if len(created) == len(operations):
                break
            time.sleep(0.1)
    finally:
        busy.set()
        for reader in readers:
            reader.join(10)

    ddb = stack.aws("dynamodb")
    troubles = [line for line in _json_lines(stack.output()) if line.get("level") == "ERROR"]
    assert len(created) == len(operations), troubles[-5:]
    for line in created:
        operation_id = str(line["key"]).split("/")[2]
        item = ddb.get_item(TableName="UploadsTable", Key={"operationId": {"S": operation_id}})
        started_under = item["Item"]["correlationId"]["S"]
        assert "path" not in line, line
        assert "method" not in line, line
        assert line["correlation_id"] == started_under, line
