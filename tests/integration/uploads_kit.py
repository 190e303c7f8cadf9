"""What the upload tests share: a chalice test client with an in-memory
publisher and a clock that moves only when a test moves it, a browser-like part
uploader and the S3-event queue drained into the SQS handler the way Lambda's
event source mapping would deliver it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from chalice.test import Client

from chalicelib import services
from chalicelib.services import Container, container
from chalicelib.settings import get_settings
from devstack.handlers import lambda_context
from tests.conftest import REGION, auth
from tests.fakes import FakeClock, InMemoryPublisher

MIB = 1024**2


@dataclass
class Harness:
    client: Client
    publisher: InMemoryPublisher
    env: dict[str, str]
    # The container's clock: a test lets time pass by advancing it, and the
    # container's waits advance it instead of sleeping.
    clock: FakeClock

    @property
    def s3(self) -> Any:
        return boto3.client("s3", region_name=REGION)

    @property
    def bucket(self) -> str:
        return self.env["MEDIA_BUCKET"]

    def call(self, method: str, path: str, user: str, body: Any = None) -> tuple[int, Any]:
        raw = body if isinstance(body, str) else (None if body is None else json.dumps(body))
        response = getattr(self.client.http, method)(path, headers=auth(user), body=raw)
        return response.status_code, json.loads(response.body) if response.body else None

    def start(self, user: str, size: int, target: dict[str, Any] | None = None) -> dict[str, Any]:
        status, upload = self.call(
            "post",
            "/uploads",
            user,
            {
                "filename": "Lecture 1.mp4",
                "contentType": "video/mp4",
                "size": size,
                "target": target or {"type": "library"},
            },
        )
        assert status == 201, upload
        return dict(upload)

    def put_parts(self, user: str, upload: dict[str, Any], data: bytes) -> list[dict[str, Any]]:
        """PUT each part to its presigned URL with plain HTTP, as a browser does,
        reporting progress after each part."""
        numbers = list(range(1, upload["partCount"] + 1))
        status, presigned = self.call(
            "post", f"/uploads/{upload['operationId']}/parts", user, {"partNumbers": numbers}
        )
        assert status == 200, presigned
        parts = []
        size = upload["partSize"]
        for n in numbers:
            chunk = data[(n - 1) * size : n * size]
            response = requests.put(presigned["urls"][str(n)], data=chunk, timeout=10)
            assert response.status_code == 200, response.text
            parts.append({"partNumber": n, "etag": response.headers["ETag"]})
            done = min(n * size, len(data))
            status, _ = self.call(
                "post",
                f"/uploads/{upload['operationId']}/progress",
                user,
                {"bytesUploaded": done},
            )
            assert status == 202
        return parts

    def s3_messages(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.get_queue_url(QueueName=self.env["S3_EVENTS_QUEUE"])["QueueUrl"]
        messages: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return messages
            for m in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            messages.extend(dict(m) for m in batch)

    def deliver(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Invoke the SQS handler with the messages, as Lambda's event source would."""
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:S3EventsQueue",
                    "awsRegion": REGION,
                }
                for m in messages
            ]
        }
        result = self.client.lambda_.invoke("s3_events", event)
        return dict(result.payload)

    def processing_messages(self) -> list[dict[str, Any]]:
        """Take every message off the processing queue (ProcessingQueue)."""
        sqs = boto3.client("sqs", region_name=REGION)
        url = self.env["PROCESSING_QUEUE"]
        messages: list[dict[str, Any]] = []
        while batch := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            for m in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            messages.extend(dict(m) for m in batch)
        return messages

    def process(
        self, messages: list[dict[str, Any]] | None = None, receive_count: int = 1
    ) -> list[dict[str, Any]]:
        """Invoke the processing handler once per message (its batch size is 1),
        as Lambda's event source would: the processing queue's messages unless
        given; returns each invocation's answer."""
        from chalicelib.functions.processing import process_media

        answers = []
        for m in self.processing_messages() if messages is None else messages:
            record = {
                "messageId": m["MessageId"],
                "receiptHandle": m.get("ReceiptHandle", "r"),
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": str(receive_count)},
                "messageAttributes": {
                    name: {"stringValue": v["StringValue"], "dataType": "String"}
                    for name, v in m.get("MessageAttributes", {}).items()
                },
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:ProcessingQueue",
                "awsRegion": REGION,
            }
            # Called as Lambda calls it, with the function's 120 s timeout: the
            # test client's context gives every function 3 s.
            answers.append(dict(process_media({"Records": [record]}, lambda_context("pm", 120))))
        return answers

    def upload_file(
        self, user: str, data: bytes, target: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Upload `data` whole (start, parts, complete, S3's event): the upload."""
        upload = self.start(user, len(data), target)
        self.put_parts(user, upload, data)
        status, done = self.call("post", f"/uploads/{upload['operationId']}/complete", user, {})
        assert status == 202, done
        self.deliver(self.s3_messages())
        return upload

    def chapter_target(self, owner: str) -> dict[str, str]:
        """A new course of `owner` with one chapter, as an upload target."""
        courses = container().courses
        course = courses.create_course(owner, "Physics")
        chapter = courses.create_chapter(course.course_id, owner, "Motion")
        return {"type": "chapter", "courseId": course.course_id, "chapterId": chapter.chapter_id}

    def multipart_uploads(self) -> list[Any]:
        return list(self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", []))

    def objects(self) -> list[Any]:
        return list(self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", []))


@pytest.fixture(name="harness")
def harness_fixture(aws: dict[str, str]) -> Iterator[Harness]:
    from app import app

    publisher, clock = InMemoryPublisher(), FakeClock(time.time())
    services.reset(Container(get_settings(), delivery=publisher, clock=clock, sleep=clock.advance))
    with Client(app) as client:
        yield Harness(client, publisher, aws, clock)
    services.reset()


def data_of(size: int) -> bytes:
    return bytes(range(256)) * (size // 256) + bytes(size % 256)
