"""The local stack as the e2e tests meet it: `python -m devstack` in a subprocess on
free ports, reached over HTTP and WebSocket like any client would.

One stack per test session (per xdist worker): every e2e module carries
`pytest.mark.xdist_group("stack")` so `--dist loadgroup` runs them on one worker
and the stack starts once. It is stopped by its PID at the end; its output is
kept in the session's temporary directory and shown when it fails to start.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from websockets.sync.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60
RECV_TIMEOUT_SECONDS = 5.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    base_url: str
    ws_url: str
    moto_url: str
    pid: int
    log: Path
    _tokens: dict[str, str] = field(default_factory=dict)

    def api(self, path: str) -> str:
        return f"{self.base_url}/api{path}"

    def token(self, user: str) -> str:
        if user not in self._tokens:
            response = requests.get(f"{self.base_url}/dev/token", params={"user": user}, timeout=5)
            response.raise_for_status()
            self._tokens[user] = response.json()["token"]
        return self._tokens[user]

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def call(self, method: str, path: str, user: str, body: Any = None) -> requests.Response:
        return requests.request(
            method, self.api(path), headers=self.headers(user), json=body, timeout=10
        )

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = requests.get(f"{self.base_url}/dev/status", timeout=5).json()
        return result

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def aws(self, service: str, config: Config | None = None) -> Any:
        """A boto3 client of the stack's moto, with the stack's fake credentials."""
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.moto_url,
            region_name="us-east-1",
            aws_access_key_id="devstack",
            aws_secret_access_key="devstack",
            config=config,
        )


def _wait_until_healthy(process: subprocess.Popen[bytes], stack: Stack) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the stack exited with {process.returncode}:\n{stack.output()[-4000:]}")
        try:
            if requests.get(stack.api("/health"), timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"the stack did not answer within {START_TIMEOUT_SECONDS} s:\n{stack.output()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextmanager
def running_stack(log: Path, *flags: str) -> Iterator[Stack]:
    """`python -m devstack` on free ports until the block ends; its output in `log`."""
    port, moto_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "devstack", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 (our own module, fixed arguments)
            [*command, "--moto-port", str(moto_port), *flags],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    stack = Stack(
        base_url=f"http://127.0.0.1:{port}",
        ws_url=f"ws://127.0.0.1:{port}/ws",
        moto_url=f"http://127.0.0.1:{moto_port}",
        pid=process.pid,
        log=log,
    )
    try:
        _wait_until_healthy(process, stack)
        yield stack
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("devstack") / "devstack.log") as started:
        yield started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed e2e test shows what the stack logged, which is where the cause is."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack, Stack):
        report.sections.append(("local stack (last lines)", stack.output()[-6000:]))
    return report


class Socket:
    """A WebSocket client that reads the server's envelopes as dicts."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    def send(self, message: dict[str, Any] | str) -> None:
        self.connection.send(message if isinstance(message, str) else json.dumps(message))

    def recv(self, timeout: float = RECV_TIMEOUT_SECONDS) -> dict[str, Any]:
        raw = self.connection.recv(timeout=timeout)
        document: dict[str, Any] = json.loads(raw)
        return document

    def recv_until(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = RECV_TIMEOUT_SECONDS
    ) -> dict[str, Any]:
        """The first message that matches, skipping others (e.g. progress)."""
        deadline = time.monotonic() + timeout
        seen = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.recv(timeout=left)
            except TimeoutError:
                break
            if match(message):
                return message
            seen.append(message.get("type"))
        raise AssertionError(f"no matching message within {timeout} s; saw {seen}")

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.send(message)
        return self.recv()

    def subscribe(self, channel: str, since: int | None = None) -> dict[str, Any]:
        """Subscribe; the `subscribed` reply (or the `error`).

        The outbox delivers after the commit, from another function, so an
        event committed just before the subscription was stored can be posted
        to it before the reply arrives, as on AWS (docs/realtime.md, Replay).
        Such a message must be an event of this channel that the reply's `seq`
        already counts; anything else is a bug and fails here."""
        message: dict[str, Any] = {"action": "subscribe", "channel": channel}
        if since is not None:
            message["since"] = since
        self.send(message)
        overtaking = []
        while (reply := self.recv())["type"] not in ("subscribed", "error"):
            overtaking.append(reply)
        if reply["type"] == "subscribed":
            counted = reply["data"]["seq"]
            assert all(
                m["channel"] == channel and m["seq"] is not None and m["seq"] <= counted
                for m in overtaking
            ), f"before the reply (seq {counted}) came {overtaking}"
        else:
            assert not overtaking, f"before the error came {overtaking}"
        return reply


@pytest.fixture
def ws(stack: Stack) -> Iterator[Callable[..., Socket]]:
    """Open sockets as a user: `ws("alice")`; all are closed after the test."""
    with ExitStack() as opened:

        def open_socket(user: str, user_agent: str | None = None) -> Socket:
            url = f"{stack.ws_url}?token={stack.token(user)}"
            connection = connect(url, user_agent_header=user_agent, open_timeout=5)
            return Socket(opened.enter_context(connection))

        yield open_socket
