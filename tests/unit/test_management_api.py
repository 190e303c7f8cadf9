"""The @connections adapter over real HTTP, against a loopback server that
answers as API Gateway does: SigV4-signed POSTs, 410 for a gone connection."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.credentials import Credentials

from chalicelib.broadcast import DeliveryError
from chalicelib.management_api import ConnectionsApi, SignedHttpTransport

CREDENTIALS = Credentials("AKIDEXAMPLE", "secret", "session-token")


class _Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    gone: set[str] = set()
    hang_up_after: set[str] = set()
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(
            {
                "path": self.path,
                "headers": dict(self.headers),
                "body": body,
                # The client's side of the TCP connection: one port per connection.
                "client_port": self.client_address[1],
            }
        )
        connection_id = self.path.rsplit("/", 1)[-1]
        self.send_response(410 if connection_id in self.gone else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        # Closing without saying so, as a server dropping an idle kept-alive
        # connection does: the client only learns on its next request.
        self.close_connection = connection_id in self.hang_up_after

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    _Api.gone, _Api.hang_up_after, _Api.seen = set(), set(), []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def api_for(endpoint: str) -> ConnectionsApi:
    return ConnectionsApi(SignedHttpTransport(endpoint, "eu-west-1", CREDENTIALS))


def test_a_post_is_delivered_signed_for_execute_api(endpoint: str) -> None:
    assert api_for(endpoint).post("Ab+c/d=", b'{"v": 1}') is True

    request = _Api.seen[-1]
    # The id is percent-encoded with nothing left safe, as boto3's client sends it.
    assert request["path"] == "/api/@connections/Ab%2Bc%2Fd%3D"
    assert request["body"] == b'{"v": 1}'
    authorization = request["headers"]["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert request["headers"]["X-Amz-Security-Token"] == "session-token"


def test_a_gone_connection_is_reported_as_such(endpoint: str) -> None:
    _Api.gone = {"c1%3D"}

    assert api_for(endpoint).post("c1=", b"{}") is False


def test_posts_from_one_thread_reuse_one_connection(endpoint: str) -> None:
    api = api_for(endpoint)
    for i in range(5):
        api.post(f"c{i}=", b"{}")

    assert len(_Api.seen) == 5
    assert len({request["client_port"] for request in _Api.seen}) == 1


def test_posts_from_two_threads_use_a_connection_each(endpoint: str) -> None:
    # The other side of the previous test: the comparison of ports tells
    # connections apart, so a transport sharing one connection across
    # threads (or opening one per post) would show here.
    api = api_for(endpoint)
    threads = [
        threading.Thread(target=lambda n=n: [api.post(f"t{n}p{i}=", b"{}") for i in range(3)])
        for n in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(_Api.seen) == 6
    assert len({request["client_port"] for request in _Api.seen}) == 2


def test_a_kept_alive_connection_the_server_dropped_is_replaced(endpoint: str) -> None:
    _Api.hang_up_after = {"c1%3D"}
    api = api_for(endpoint)
    api.post("c1=", b"{}")

    assert api.post("c2=", b"{}") is True
    assert [r["path"] for r in _Api.seen] == ["/api/@connections/c1%3D", "/api/@connections/c2%3D"]


def test_an_unreachable_endpoint_is_a_delivery_error() -> None:
    api = api_for("http://127.0.0.1:9/api")  # discard port: nothing listens

    with pytest.raises(DeliveryError):
        api.post("c1=", b"{}")
