"""Completion benchmark: does the processing step slow completion down?

`POST /uploads/{operationId}/complete` should answer as fast with the
processing step as without it: the step is fed by the S3 events function once
S3 reports the object, never by the request. This drives the app's own route
(the chalice test client, DynamoDB and S3 in moto in-process) for one-part
uploads, alternating a stack without a processing queue ("before") and one with
it ("after") upload by upload so both meet the same machine load, and prints
the median and p90 of each side by side. It also times the S3 events handler
for the same uploads, where the one `SendMessage` per completed file now is.

    .venv/bin/python -m bench.complete [--uploads 40] [--mib 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import boto3
import requests
from chalice.test import Client
from moto import mock_aws

from chalicelib import services
from chalicelib.auth import mint_token
from chalicelib.services import Container
from chalicelib.settings import load_settings
from devstack.provision import provision

REGION = "us-east-1"
SECRET = "bench-secret-long-enough-0123456789"  # noqa: S105 - a bench token's key


def _environment() -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AUTH_MODE": "hs256",
        "AUTH_JWT_SECRET": SECRET,
        "WEBSOCKET_ENDPOINT": "https://bench.execute-api.us-east-1.amazonaws.com/api",
        # Events are committed to the outbox; no stream consumer runs here.
        "OUTBOX_DELIVERY": "stream",
    }.items():
        os.environ[name] = value


class Side:
    """One stack: the app's container with or without the processing queue."""

    def __init__(self, name: str, env: dict[str, str], processing: bool) -> None:
        self.name = name
        queue = env["PROCESSING_QUEUE"] if processing else ""
        settings = load_settings({**os.environ, **env, "PROCESSING_QUEUE": queue})
        self.container = Container(settings)
        self.complete_ms: list[float] = []
        self.s3_event_ms: list[float] = []


def _one(side: Side, client: Client, headers: dict[str, str], data: bytes, env: Any) -> None:
    services.reset(side.container)
    body = {
        "filename": "lecture.mp4",
        "contentType": "video/mp4",
        "size": len(data),
        "target": {"type": "library"},
    }
    started = json.loads(client.http.post("/uploads", headers=headers, body=json.dumps(body)).body)
    operation_id = started["operationId"]
    parts = client.http.post(
        f"/uploads/{operation_id}/parts", headers=headers, body=json.dumps({"partNumbers": [1]})
    )
    put = requests.put(json.loads(parts.body)["urls"]["1"], data=data, timeout=30)
    assert put.status_code == 200, put.text
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.get_queue_url(QueueName=env["S3_EVENTS_QUEUE"])["QueueUrl"]
    _drain(sqs, queue)

    begun = time.perf_counter()
    done = client.http.post(f"/uploads/{operation_id}/complete", headers=headers, body="{}")
    side.complete_ms.append((time.perf_counter() - begun) * 1000)
    assert done.status_code == 202, done.body

    messages = _drain(sqs, queue)
    event = {
        "Records": [
            {"messageId": m["MessageId"], "body": m["Body"], "attributes": {}}
            for m in messages
            if "ObjectCreated" in m["Body"]
        ]
    }
    begun = time.perf_counter()
    answer = side.container.upload_features.s3_events.handle(event)
    side.s3_event_ms.append((time.perf_counter() - begun) * 1000)
    assert answer == {"batchItemFailures": []}, answer


def _drain(sqs: Any, queue: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
        for m in batch:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        found.extend(batch)
    return found


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def run(uploads: int, mib: float) -> tuple[Side, Side]:
    _environment()
    from app import app

    with mock_aws():
        env = provision(boto3.session.Session(region_name=REGION))
        os.environ.update(env)
        before, after = Side("before", env, False), Side("after", env, True)
        headers = {"Authorization": f"Bearer {mint_token(SECRET, 'bench-user')}"}
        data = os.urandom(int(mib * 1024**2))
        with Client(app) as client:
            for n in range(uploads + 2):
                # The first two of each side warm their container up, uncounted.
                for side in (before, after) if n % 2 else (after, before):
                    _one(side, client, headers, data, env)
                    if n < 2:
                        side.complete_ms.clear()
                        side.s3_event_ms.clear()
        services.reset()
    return before, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--mib", type=float, default=1.0)
    args = parser.parse_args()
    before, after = run(args.uploads, args.mib)
    print(f"{args.uploads} one-part uploads of {args.mib} MiB per side, alternating")
    print(f"load average {os.getloadavg()[0]:.2f}")
    for label, pick in (
        ("POST complete", lambda s: s.complete_ms),
        ("S3 event -> completed", lambda s: s.s3_event_ms),
    ):
        b, a = pick(before), pick(after)
        print(
            f"{label:<22} median before {statistics.median(b):7.2f} ms  after "
            f"{statistics.median(a):7.2f} ms  (p90 {_p90(b):.2f} / {_p90(a):.2f})  "
            f"ratio after/before {statistics.median(a) / statistics.median(b):.2f}"
        )


if __name__ == "__main__":
    main()
