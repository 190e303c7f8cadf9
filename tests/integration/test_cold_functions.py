"""Cold functions that publish nothing load none of the publishing modules.

Two functions run cold often and, most of the time, publish nothing: the
stale-upload sweep (every 15 minutes in a container of its own; most runs
expire nothing) and `$connect` (a token checked, a connection stored). Neither
should pay at its cold start for the event classes, the linker, the course
service or the realtime modules: the sweep's announcer is built on its first
use and the outbox parses events on the first it reads; `$connect` has a
service of its own (chalicelib/connection_gate.py). Each runs in a fresh
interpreter, as Lambda's, against moto in-process (docs/PERFORMANCE.md#cold-start).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-that-is-long-enough-0123456789"

SETUP = f"""
import json, os, sys
from datetime import UTC, datetime

os.environ.update(
    AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1",
    MEDIA_BUCKET="media-bucket", WEBSOCKET_ENDPOINT="https://ws.example.test/api",
    AUTH_MODE="hs256", AUTH_JWT_SECRET="{SECRET}", LOG_LEVEL="WARNING",
)
import boto3
from moto import mock_aws

with mock_aws():
    from devstack.provision import provision

    os.environ.update(provision(boto3.session.Session(region_name="us-east-1")))
"""

SWEEP = """
    from chalicelib.functions import uploads

    event = {
        "version": "0", "id": "sweep", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "region": "us-east-1",
        "time": datetime.now(UTC).isoformat(), "resources": [], "detail": {},
    }
    uploads.expire_stale_uploads(event, None)
    table = boto3.client("dynamodb").scan(TableName=os.environ["UPLOADS_TABLE"])
    print(json.dumps({"modules": sorted(sys.modules), "stored": table["Count"]}))
"""

CONNECT = """
    import jwt

    token = jwt.encode({"sub": "alice", "exp": 4102444800}, os.environ["AUTH_JWT_SECRET"])
    from chalicelib.functions import websocket

    event = {
        "requestContext": {
            "routeKey": "$connect", "eventType": "CONNECT", "connectionId": "Cold1Conn=",
            "domainName": "ws.example.test", "stage": "api", "apiId": "cold",
        },
        "queryStringParameters": {"token": token},
        "isBase64Encoded": False,
    }
    answer = websocket.on_ws_connect(event, None)
    assert answer["statusCode"] == 200, answer
    table = boto3.client("dynamodb").scan(TableName=os.environ["CONNECTIONS_TABLE"])
    print(json.dumps({"modules": sorted(sys.modules), "stored": table["Count"]}))
"""

PUBLISHING = {
    "chalicelib.events",
    "chalicelib.client_messages",
    "chalicelib.uploads.announce",
    "chalicelib.linking",
    "chalicelib.courses",
    "chalicelib.realtime",
    "chalicelib.broadcast",
}


def _run(body: str) -> tuple[set[str], int]:
    ran = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SETUP + body],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    return set(seen["modules"]), int(seen["stored"])


def test_a_sweep_that_expires_nothing_loads_no_event_class_and_builds_no_announcer() -> None:
    loaded, uploads = _run(SWEEP)
    # It did run: it built completion and queried the index, and wrote nothing.
    assert {"chalicelib.uploads.completion", "chalicelib.store.upload_items"} <= loaded
    assert uploads == 0
    assert loaded & PUBLISHING == set()


def test_a_connect_stores_the_connection_and_loads_no_event_class() -> None:
    loaded, stored = _run(CONNECT)
    assert stored >= 1  # the connection's item(s), as $default and the fan-out read them
    assert "chalicelib.connection_gate" in loaded
    assert loaded & PUBLISHING == set()
