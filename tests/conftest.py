"""Test isolation: no test can reach a real AWS account.

Credentials are fake, every AWS config file is hidden, and any socket to a
non-loopback address is refused, so a missing mock fails loudly instead of
touching an account.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from moto import mock_aws

from chalicelib import services
from chalicelib.auth import mint_token
from chalicelib.aws_clients import process_session
from chalicelib.services import Container
from chalicelib.settings import get_settings
from devstack.provision import provision
from tests.aws_calls import CallRecorder
from tests.fakes import FakeConnectionsApi, FakeWebsocketGateway

TEST_SECRET = "test-secret-that-is-long-enough-0123456789"
REGION = "us-east-1"

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AUTH_MODE": "hs256",
    "AUTH_JWT_SECRET": TEST_SECRET,
    "MEDIA_BUCKET": "course-media-test",
    # Nothing listens on the discard port, so a post no test asked to see fails
    # at once; realtime tests attach tests/fakes.py's FakeConnectionsApi to see
    # each connection's messages.
    "WEBSOCKET_ENDPOINT": "http://127.0.0.1:9/api",
    # No event source runs in-process: the committing container delivers what it
    # committed, through the stream consumer's own code (docs/realtime.md,
    # "Testing"). The stream path itself has its own tests (test_outbox_stream.py).
    "OUTBOX_DELIVERY": "inline",
}
for _name, _value in _FAKE_ENV.items():
    os.environ[_name] = _value
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

_real_connect = socket.socket.connect
_LOOPBACK = ("::1", "localhost")


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    inet = self.family in (socket.AF_INET, socket.AF_INET6)
    if inet and isinstance(host, str) and not host.startswith("127.") and host not in _LOOPBACK:
        raise OSError(f"tests may not open network connections (to {host})")
    return _real_connect(self, address)


socket.socket.connect = _loopback_only  # type: ignore[method-assign,assignment]


_calls = CallRecorder.build()
process_session(REGION).events.register("before-parameter-build", _calls)


@pytest.fixture(autouse=True)
def handlers_call_only_what_their_roles_allow() -> Iterator[None]:
    """Fails a test whose handlers called AWS outside their function's role
    (tests/aws_calls.py): in AWS, IAM would have refused the call."""
    yield
    refused = _calls.take()
    if refused:
        pytest.fail("\n".join(refused), pytrace=False)


@pytest.fixture
def aws() -> Iterator[dict[str, str]]:
    """moto's in-process AWS with every resource of infra/template.json created."""
    with aws_stack() as env:
        yield env


@contextmanager
def aws_stack() -> Iterator[dict[str, str]]:
    """The body of the `aws` fixture, for fixtures of a wider scope (a module
    that only asserts nothing changed can share one stack between its tests)."""
    with mock_aws():
        env = provision(process_session(REGION))
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        services.reset()
        try:
            yield env
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            services.reset()


@pytest.fixture
def client(aws: dict[str, str]) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as c:
        yield c


def use_container(**collaborators: Any) -> Container:
    """Make the handlers use a container built with these collaborators
    (chalicelib/services.py's Container takes them all); until the test ends."""
    built = Container(get_settings(), **collaborators)
    services.reset(built)
    return built


def token_for(user_id: str, ttl_seconds: int = 3600) -> str:
    return mint_token(TEST_SECRET, user_id, ttl_seconds)


def auth(user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user_id)}", "Content-Type": "application/json"}


@pytest.fixture
def ws_api(client: Any) -> FakeConnectionsApi:
    """The @connections API the app posts to, faked: each connection's messages
    kept apart, GoneException for closed connections (moto's does neither)."""
    api = FakeConnectionsApi()
    use_container(transport=api)
    return api


@pytest.fixture
def ws(client: Any, ws_api: FakeConnectionsApi) -> FakeWebsocketGateway:
    """API Gateway's WebSocket side: connect, send and disconnect as clients."""
    return FakeWebsocketGateway(client.lambda_)
