"""The operator CLI as a person meets it: `python -m course_media_ops` in a
pseudo-terminal against a moto server standing in for the local stack, where
`dlq redrive --yes` draws its progress bar live and moves every message."""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from devstack.provision import provision

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def moto_url() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _in_a_terminal(argv: list[str], timeout: float = 60) -> tuple[int, str]:
    """Run `argv` with a pty as its terminal; its exit code and everything it drew."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    env.update(TERM="xterm-256color", COLUMNS="100", LINES="30")
    process = subprocess.Popen(  # noqa: S603 (our own module, fixed arguments)
        argv, cwd=ROOT, env=env, stdin=follower, stdout=follower, stderr=follower
    )
    os.close(follower)
    drawn = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the pty closes once the process exits
                break
            if not chunk:
                break
            drawn.extend(chunk)
        elif process.poll() is not None:
            break
    os.close(leader)
    return process.wait(timeout=10), drawn.decode(errors="replace")


def test_dlq_redrive_draws_its_progress_bar_in_a_terminal(moto_url: str) -> None:
    session = boto3.session.Session(
        aws_access_key_id="devstack", aws_secret_access_key="devstack", region_name="us-east-1"
    )
    provision(session, moto_url)
    sqs = session.client("sqs", endpoint_url=moto_url)
    dlq = sqs.get_queue_url(QueueName="S3EventsDeadLetterQueue")["QueueUrl"]
    for n in range(MESSAGES):
        sqs.send_message(QueueUrl=dlq, MessageBody=f'{{"Records": [], "n": {n}}}')
    source = sqs.get_queue_url(QueueName="S3EventsQueue")["QueueUrl"]
    before = _waiting(sqs, source)

    code, drawn = _in_a_terminal(
        [
            sys.executable,
            "-m",
            "course_media_ops",
            "--moto-url",
            moto_url,
            "dlq",
            "redrive",
            "--yes",
        ]
    )

    assert code == 0, drawn
    # Drawn live: the bar's line is erased and redrawn in place (ESC [2K after a
    # carriage return) from 0/3 to 3/3, not printed once as plain text.
    frames = [f for f in drawn.split("\r\x1b[2K") if "redriving" in f]
    assert len(frames) >= 2, drawn
    assert f"0/{MESSAGES}" in frames[0]
    assert f"{MESSAGES}/{MESSAGES}" in frames[-1]
    assert "━" in frames[-1]
    assert _waiting(sqs, source) == before + MESSAGES
    assert _waiting(sqs, dlq) == 0


def _waiting(sqs: Any, url: str) -> int:
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(found["Attributes"]["ApproximateNumberOfMessages"])
