"""Cost of one upload: the AWS requests and @connections posts of a 128-part
upload into a chapter with 5 watchers, priced at list prices beside its S3 floor.

The scenario, in moto (in process) with the app's real handlers, stores and
fan-out (OUTBOX_DELIVERY=inline, so what the delivery Lambda does runs and is
counted here): a course with a chapter and 5 members online, one connection
each subscribed to the course's channel; the uploader's own connection is
also subscribed to its user channel, as the demo page does. The uploader then
does what the browser client does: POST /uploads, presigned URLs in batches of
10, each part PUT to S3, a progress report after each part (a part takes a
simulated second, so each report may broadcast), POST complete; S3's event
reaches the S3-events function through SQS (one receive and one delete, as
Lambda's event source does), which completes the upload and links it into
the chapter.

Counted, not estimated: every botocore request the app (and the event source)
makes, by service and operation, from a hook on botocore's client; every
@connections post, at the transport; every REST request and Lambda invocation.
DynamoDB is priced per request at one unit per item (two in a transaction),
the least each costs: items above 1 KB and writes to an index that carries the
item cost more, so the DynamoDB line is a lower bound. The S3 floor is the
upload's own S3 requests (create, 128 parts, complete): what storing the file
costs however the app is built.

Parts are 8 KiB here, not 8 MiB (moto's minimum part size is lowered to
match): no count depends on the bytes, and moto would otherwise hold 1 GiB.

    .venv/bin/python -m bench.cost [--parts 128] [--watchers 5] [--before REF]

`--before REF` runs this same bench against the code at git REF (a temporary
checkout) and prints its figures beside today's, in one run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
PART = 8 * 1024
PRESIGN_BATCH = 10

# us-east-1 list prices, USD per request (December 2026 price pages).
S3_PUT = 0.005 / 1000  # PUT, COPY, POST, LIST (multipart create/part/complete, ListParts)
S3_GET = 0.0004 / 1000  # GET, HEAD and every other request
DDB_WRITE = 0.625 / 1e6  # on-demand, per write request unit
DDB_READ = 0.125 / 1e6  # on-demand, per read request unit
SQS = 0.40 / 1e6
WS_MESSAGE = 1.00 / 1e6  # API Gateway WebSocket, per message (32 KB increments)
REST_REQUEST = 3.50 / 1e6  # API Gateway REST API
LAMBDA_REQUEST = 0.20 / 1e6  # duration is not priced here
S3_PUT_CLASS = {"CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "ListParts"}
DDB_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
DDB_READS = {"GetItem", "Query", "Scan"}


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class CountingTransport:
    """@connections, answering 200 to every post, counting them."""

    def __init__(self) -> None:
        self.posts: Counter[str] = Counter()

    def post(self, connection_id: str, payload: bytes) -> int:
        self.posts[connection_id] += 1
        return 200


@contextmanager
def counting_requests() -> Iterator[Counter[tuple[str, str]]]:
    """Every botocore request by (service, operation), with the items a
    DynamoDB batch or transaction carries counted as units."""
    from botocore.client import BaseClient

    counts: Counter[tuple[str, str]] = Counter()
    original = BaseClient._make_api_call

    def counted(self: Any, operation: str, params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        counts[(service, operation)] += 1
        if service == "dynamodb" and operation in DDB_WRITES and "TableName" in params:
            table = str(params["TableName"]).rsplit("-", 1)[-1]
            counts[("writes to", table)] += 1
        if operation == "TransactWriteItems":
            counts[(service, "transact item")] += len(params.get("TransactItems", []))
        elif operation == "BatchWriteItem":
            items = sum(len(v) for v in params.get("RequestItems", {}).values())
            counts[(service, "batch write item")] += items
        elif operation == "BatchGetItem":
            keys = sum(len(v.get("Keys", [])) for v in params.get("RequestItems", {}).values())
            counts[(service, "batch get item")] += keys
        return original(self, operation, params)

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def _environment() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AUTH_MODE": "hs256",
            "AUTH_JWT_SECRET": "cost-bench-secret-long-enough-0123456789",
            "WEBSOCKET_ENDPOINT": "https://bench.execute-api.us-east-1.amazonaws.com/api",
            "OUTBOX_DELIVERY": "inline",
            "LOG_LEVEL": "ERROR",
        }
    )


def run(parts: int, watchers: int) -> dict[str, Any]:
    sys.path.insert(0, str(os.getcwd()))
    _environment()
    import boto3
    import moto.s3.models
    import requests
    from chalice.test import Client
    from moto import mock_aws

    import chalicelib.uploads.lifecycle as lifecycle
    from chalicelib import services
    from chalicelib.services import Container
    from chalicelib.settings import load_settings
    from devstack.poller import sqs_event
    from devstack.provision import provision
    from scripts.mint_token import mint_token

    moto.s3.models.S3_UPLOAD_PART_MIN_SIZE = PART  # type: ignore[attr-defined]
    lifecycle.choose_part_size = lambda size: PART  # type: ignore[attr-defined]
    secret = os.environ["AUTH_JWT_SECRET"]

    with mock_aws():
        os.environ.update(provision(boto3.session.Session(region_name=REGION)))
        clock, transport = Clock(), CountingTransport()
        c = Container(load_settings(), clock=clock, sleep=clock.sleep, transport=transport)
        services.reset(c)
        from app import app

        course = c.courses.create_course("uploader", "Physics")
        chapter = c.courses.create_chapter(course.course_id, "uploader", "Motion")
        for i in range(1, watchers):
            c.courses.set_member(course.course_id, "uploader", f"watcher{i}", "viewer")
        channel = f"course:{course.course_id}"
        online = [("uploader=", "uploader", [channel, "user:uploader"])]
        online += [(f"watcher{i}=", f"watcher{i}", [channel]) for i in range(1, watchers)]
        c.connections.add_many(online)
        sqs = boto3.client("sqs", region_name=REGION)
        queue = sqs.get_queue_url(QueueName=os.environ["S3_EVENTS_QUEUE"])["QueueUrl"]
        sqs.purge_queue(QueueUrl=queue)  # S3's test event, sent when the stack was made
        headers = {
            "Authorization": f"Bearer {mint_token(secret, 'uploader', 3600)}",
            "Content-Type": "application/json",
        }
        rest = Counter[str]()

        with Client(app) as client, counting_requests() as counts:

            def call(method: str, path: str, body: Any) -> Any:
                rest[method] += 1
                answer = getattr(client.http, method)(path, headers=headers, body=json.dumps(body))
                assert answer.status_code < 300, answer.body
                return json.loads(answer.body)

            target = {
                "type": "chapter",
                "courseId": course.course_id,
                "chapterId": chapter.chapter_id,
            }
            upload = call(
                "post",
                "/uploads",
                {
                    "filename": "lecture.mp4",
                    "contentType": "video/mp4",
                    "size": parts * PART,
                    "target": target,
                },
            )
            op = upload["operationId"]
            urls: dict[str, str] = {}
            for first in range(1, parts + 1, PRESIGN_BATCH):
                batch = list(range(first, min(first + PRESIGN_BATCH, parts + 1)))
                urls.update(call("post", f"/uploads/{op}/parts", {"partNumbers": batch})["urls"])
            done, browser_puts = [], 0
            for n in range(1, parts + 1):
                clock.now += 1.0
                answer = requests.put(urls[str(n)], data=b"x" * PART, timeout=30)
                browser_puts += 1
                done.append({"partNumber": n, "etag": answer.headers["ETag"]})
                call("post", f"/uploads/{op}/progress", {"bytesUploaded": n * PART})
            call("post", f"/uploads/{op}/complete", {"parts": done})
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
            sqs.delete_message_batch(
                QueueUrl=queue,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
            arn = f"arn:aws:sqs:{REGION}:123456789012:S3EventsQueue"
            client.lambda_.invoke("s3_events", sqs_event(messages, arn, REGION))
            status = call("get", f"/uploads/{op}", None)["status"]
        assert status == "completed", status
    return {
        "requests": {f"{s} {o}": n for (s, o), n in sorted(counts.items())},
        "browser_s3_puts": browser_puts,
        "posts": sum(transport.posts.values()),
        "posts_by_connection": dict(transport.posts),
        "rest": sum(rest.values()),
    }


def price(r: dict[str, Any]) -> list[tuple[str, int, float]]:
    """(line, requests, USD) for each priced line of a run."""
    req: dict[str, int] = r["requests"]

    def total(service: str, names: set[str]) -> int:
        return sum(
            n
            for k, n in req.items()
            if k.split(" ", 1)[0] == service and k.split(" ", 1)[1] in names
        )

    s3_put = total("s3", S3_PUT_CLASS) + r["browser_s3_puts"]
    s3_other = sum(n for k, n in req.items() if k.startswith("s3 ")) - total("s3", S3_PUT_CLASS)
    writes = total("dynamodb", DDB_WRITES) + 2 * req.get("dynamodb transact item", 0)
    writes += req.get("dynamodb batch write item", 0)
    reads = total("dynamodb", DDB_READS) + req.get("dynamodb batch get item", 0)
    sqs = sum(n for k, n in req.items() if k.startswith("sqs "))
    # A Lambda invocation per REST request, and one for the S3-events batch;
    # the inline delivery stands for the delivery Lambda's stream batches.
    lambdas = r["rest"] + 1
    return [
        ("S3 PUT-class (create, parts, complete)", s3_put, s3_put * S3_PUT),
        ("S3 other (HEAD, GET)", s3_other, s3_other * S3_GET),
        ("DynamoDB write units (at least)", writes, writes * DDB_WRITE),
        ("DynamoDB read units (at least)", reads, reads * DDB_READ),
        ("SQS requests", sqs, sqs * SQS),
        ("@connections posts", r["posts"], r["posts"] * WS_MESSAGE),
        ("Lambda invocations", lambdas, lambdas * LAMBDA_REQUEST),
        ("REST API requests", r["rest"], r["rest"] * REST_REQUEST),
    ]


def summary(r: dict[str, Any], parts: int) -> dict[str, float]:
    lines = price(r)
    floor = (parts + 2) * S3_PUT
    without_rest = sum(usd for name, _, usd in lines if not name.startswith("REST"))
    with_rest = sum(usd for _, _, usd in lines)
    return {"floor": floor, "ratio": without_rest / floor, "ratio_rest": with_rest / floor}


def _before(ref: str, parts: int, watchers: int) -> dict[str, Any]:
    """This bench, run against the code at `ref` in a temporary checkout."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(  # noqa: S603 - git, fixed arguments
            ["git", "archive", ref],  # noqa: S607 - git from PATH, as make does
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)  # noqa: S603,S607
        (Path(tmp) / "bench").mkdir(exist_ok=True)
        shutil.copy(Path(__file__), Path(tmp) / "bench" / "cost.py")
        done = subprocess.run(  # noqa: S603 - our own interpreter and bench
            [sys.executable, "-m", "bench.cost", "--json", "--parts", str(parts),
             "--watchers", str(watchers)],
            cwd=tmp, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"the bench failed at {ref}:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=128)
    parser.add_argument("--watchers", type=int, default=5)
    parser.add_argument("--before", help="a git ref to run beside today's code")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(io.StringIO()):  # the metrics' EMF lines
        runs = {"now": run(args.parts, args.watchers)}
    if args.json:
        print(json.dumps(runs["now"]))
        return 0
    if args.before:
        runs = {f"at {args.before}": _before(args.before, args.parts, args.watchers), **runs}
    print(f"one {args.parts}-part chapter upload, {args.watchers} watchers online")
    names = list(runs)
    print(f"{'line':<42}" + "".join(f"{n:>24}" for n in names))
    priced = {n: price(r) for n, r in runs.items()}
    for i, (line, _, _) in enumerate(priced[names[-1]]):
        cells = "".join(f"{priced[n][i][1]:>10,} ${priced[n][i][2] * 1000:>9.4f}/1k" for n in names)
        print(f"{line:<42}{cells}")
    for n in names:
        s = summary(runs[n], args.parts)
        print(
            f"{n}: {s['ratio']:.2f}x the S3 floor (${s['floor'] * 1000:.4f} per 1,000 uploads),"
            f" {s['ratio_rest']:.2f}x with REST API requests; posts per connection"
            f" {sorted(runs[n]['posts_by_connection'].values())}"
        )
    print("target: at most 1.50x the S3 floor")
    print("requests, " + names[-1] + ": " + json.dumps(runs[names[-1]]["requests"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
