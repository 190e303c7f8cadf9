"""The chaos suite's REST client, upload plans and the reads of the truth
(OutboxTable, the dead-letter queues) on the local stack's moto."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
from botocore.config import Config

from devstack.provision import load_template, physical_name
from tests.e2e.conftest import Stack
from tests.e2e.test_stack_uploads import PAYLOAD

TERMINAL = {"completed": "upload.completed", "aborted": "upload.aborted", "failed": "upload.failed"}
MIB = 1024 * 1024
# Two parts: the server's part size is 8 MiB.
TWO_PARTS = bytes(range(256)) * (8 * MIB // 256) + b"tail" * 256
PART_SIZE = 8 * MIB


class Api:
    """REST as the documented client calls it: a 429 or a network error is
    retried with back-off (packages/client/src/api.js). A 5xx is retried too,
    so the run goes on, but it is counted: the suite expects none."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._lock = threading.Lock()
        self.server_errors = 0
        self.errors: list[str] = []
        self._owners: dict[str, str] = {}

    def _count_5xx(self, what: str) -> None:
        with self._lock:
            self.server_errors += 1
            self.errors.append(what)

    def call(self, method: str, path: str, user: str, body: Any = None) -> requests.Response:
        last = ""
        for attempt in range(10):
            try:
                response = self._stack.call(method, path, user, body)
            except requests.RequestException as exc:
                time.sleep(0.1 * 2**attempt)
                last = str(exc)
                continue
            if response.status_code >= 500:
                self._count_5xx(f"{method} {path}: {response.status_code} {response.text[:200]}")
            if response.status_code != 429 and response.status_code < 500:
                return response
            time.sleep(min(2.0, 0.05 * 2**attempt))
            last = response.text
        raise AssertionError(f"{method} {path} kept failing: {last}")

    def ok(self, method: str, path: str, user: str, body: Any = None) -> Any:
        response = self.call(method, path, user, body)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    def put_part(self, url: str, data: bytes) -> str:
        for attempt in range(6):
            response = requests.put(url, data=data, timeout=30)
            if response.status_code >= 500:
                self._count_5xx(f"PUT part: {response.status_code} {response.text[:200]}")
                time.sleep(0.1 * 2**attempt)
                continue
            assert response.status_code == 200, response.text
            return str(response.headers["ETag"])
        raise AssertionError("a part PUT kept failing")

    def await_terminal(self, operation_ids: list[str], timeout: float) -> dict[str, str]:
        """Each upload's status once it is terminal (or its last status at the timeout)."""
        users = dict(self._owners)
        statuses: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for op in operation_ids:
                if statuses.get(op) not in TERMINAL:
                    statuses[op] = self.ok("GET", f"/uploads/{op}", users[op])["status"]
            if all(s in TERMINAL for s in statuses.values()):
                break
            time.sleep(0.5)
        return statuses

    def owns(self, operation_id: str, user: str) -> None:
        with self._lock:
            self._owners[operation_id] = user


@dataclass(frozen=True)
class Plan:
    index: int
    user: str
    target: dict[str, str]
    abort: str | None = None  # "before_put" or "after_put"
    resume: str | None = None  # "missing_part" (two parts) or "no_part_sent"

    @property
    def expected(self) -> str:
        return "aborted" if self.abort else "completed"


@dataclass(frozen=True)
class Outcome:
    operation_id: str
    expected: str
    resumed: bool


def plan_uploads(users: list[str], courses: list[tuple[str, list[str]]]) -> list[Plan]:
    """50 uploads: half into chapters, 8 aborted, 9 resumed (4 of them with a
    second part still to send after the reload)."""
    plans = []
    for i in range(50):
        target = {"type": "library"}
        if i % 2 == 0:
            course_id, chapters = courses[(i // 2) % len(courses)]
            target = {
                "type": "chapter",
                "courseId": course_id,
                "chapterId": chapters[(i // 4) % 2],
            }
        abort = resume = None
        if i % 6 == 5:
            abort = "before_put" if i % 12 == 5 else "after_put"
        elif i % 12 == 1:
            resume = "missing_part"
        elif i % 12 == 7:
            resume = "no_part_sent"
        plans.append(Plan(i, users[i % len(users)], target, abort, resume))
    return plans


def run_upload(api: Api, plan: Plan) -> Outcome:
    data = TWO_PARTS if plan.resume == "missing_part" else PAYLOAD
    body = {
        "filename": f"chaos-{plan.index}.mp4",
        "contentType": "video/mp4",
        "size": len(data),
        "target": plan.target,
    }
    user = plan.user
    op = api.ok("POST", "/uploads", user, body)["operationId"]
    api.owns(op, user)
    parts = [data[:PART_SIZE], data[PART_SIZE:]] if plan.resume == "missing_part" else [data]
    urls = api.ok("POST", f"/uploads/{op}/parts", user, {"partNumbers": [1]})["urls"]
    if plan.abort == "before_put":
        api.ok("DELETE", f"/uploads/{op}", user)
        return Outcome(op, plan.expected, False)
    if plan.resume != "no_part_sent":
        api.put_part(urls["1"], parts[0])
        api.ok("POST", f"/uploads/{op}/progress", user, {"bytesUploaded": len(parts[0])})
    if plan.abort == "after_put":
        api.ok("DELETE", f"/uploads/{op}", user)
        return Outcome(op, plan.expected, False)
    if plan.resume:
        # The page reloads: it finds the upload open and sends what S3 lacks.
        active = api.ok("GET", "/uploads?status=active", user)["uploads"]
        assert op in [u["operationId"] for u in active]
        held = {p["partNumber"] for p in api.ok("GET", f"/uploads/{op}", user)["parts"]}
        missing = [n for n in range(1, len(parts) + 1) if n not in held]
        assert missing == ([2] if plan.resume == "missing_part" else [1]), held
        urls = api.ok("POST", f"/uploads/{op}/parts", user, {"partNumbers": missing})["urls"]
        for n in missing:
            api.put_part(urls[str(n)], parts[n - 1])
    answer = api.call("POST", f"/uploads/{op}/complete", user, {})
    assert answer.status_code == 202, answer.text
    return Outcome(op, plan.expected, plan.resume is not None)


class Outbox:
    """OutboxTable read straight from moto: every committed durable event."""

    def __init__(self, stack: Stack) -> None:
        # The suite's own reads are throttled too: retried until they pass.
        self._ddb = stack.aws("dynamodb", Config(retries={"mode": "standard", "max_attempts": 20}))

    def heads(self, channels: list[str]) -> dict[str, int]:
        heads = {}
        for channel in channels:
            item = self._ddb.get_item(
                TableName="OutboxTable",
                Key={"channel": {"S": channel}, "seq": {"N": "0"}},
                ConsistentRead=True,
            ).get("Item")
            heads[channel] = int(item["last"]["N"]) if item else 0
        return heads

    def events(self, channel: str, *, after: int, upto: int) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        kwargs: dict[str, Any] = {
            "TableName": "OutboxTable",
            "KeyConditionExpression": "channel = :c AND seq BETWEEN :a AND :b",
            "ExpressionAttributeValues": {
                ":c": {"S": channel},
                ":a": {"N": str(after + 1)},
                ":b": {"N": str(upto)},
            },
            "ConsistentRead": True,
        }
        while True:
            page = self._ddb.query(**kwargs)
            found += [(int(i["seq"]["N"]), i["eventId"]["S"]) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return sorted(found)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dead_letter_queues() -> list[str]:
    """Every queue of the template an operator must act on: each queue's
    dead-letter target, and each event source's on-failure destination."""

    def targets(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("deadLetterTargetArn", "OnFailure") and isinstance(value, dict):
                    found = value.get("Destination", value)
                    if isinstance(found, dict) and "Fn::GetAtt" in found:
                        yield str(found["Fn::GetAtt"][0])
                yield from targets(value)
        elif isinstance(node, list):
            for value in node:
                yield from targets(value)

    resources = load_template()["Resources"]
    return sorted({physical_name(name, resources) for name in targets(resources)})


def dead_letters(stack: Stack) -> dict[str, int]:
    sqs = stack.aws("sqs")
    counts = {}
    for name in dead_letter_queues():
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        counts[name] = sum(int(v) for v in attributes.values())
    return counts
