"""`make run` logs at INFO: an upload with progress reports and a subscriber adds
no DEBUG line to the stack's output (the dev stage's LOG_LEVEL=DEBUG in
.chalice/config.json is for a deployed dev stage, not for the local stack)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

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
