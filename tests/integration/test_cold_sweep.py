"""A cold sweep function that finds nothing stale builds no publishing.

The stale-upload sweep runs every 15 minutes in a container of its own, and
most runs expire nothing: its cold start then queries the index and stops. It
should not pay for the event classes, the linker, the course service or the
realtime modules that only an expired upload's announcement uses (the
announcer is built on its first use, the outbox parses events on the first
it reads). A fresh interpreter, as Lambda's, against moto in-process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SWEEP = """
import json, os, sys
from datetime import UTC, datetime, timedelta

os.environ.update(
    AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1",
    MEDIA_BUCKET="media-bucket", WEBSOCKET_ENDPOINT="https://ws.example.test/api",
    AUTH_MODE="hs256", AUTH_JWT_SECRET="test-secret-that-is-long-enough-0123456789",
    LOG_LEVEL="WARNING",
)
import boto3
from moto import mock_aws

with mock_aws():
    from devstack.provision import provision

    os.environ.update(provision(boto3.session.Session(region_name="us-east-1")))
    from chalicelib.functions import uploads

    event = {
        "version": "0", "id": "sweep", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "region": "us-east-1",
        "time": datetime.now(UTC).isoformat(), "resources": [], "detail": {},
    }
    uploads.expire_stale_uploads(event, None)
    print(json.dumps(sorted(sys.modules)))
"""


def test_a_sweep_that_expires_nothing_loads_no_event_class_and_builds_no_announcer() -> None:
    ran = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SWEEP], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    loaded = set(json.loads(ran.stdout.strip().splitlines()[-1]))
    # It did run: it built completion and queried the index.
    assert {"chalicelib.uploads.completion", "chalicelib.store.upload_items"} <= loaded
    publishing = {
        "chalicelib.events",
        "chalicelib.uploads.announce",
        "chalicelib.linking",
        "chalicelib.courses",
        "chalicelib.realtime",
        "chalicelib.broadcast",
    }
    assert loaded & publishing == set()
