"""Fan-out benchmark: one event to 1,000 WebSocket connections.

In one run, against the same local @connections endpoint (an HTTP server in a
child process on 127.0.0.1 and a free port, that takes 20 ms per POST, as API
Gateway's round trip might), it times:

  publisher   the project's fan-out (chalicelib/broadcast.py, built by the
              composition root: its client, its thread pool)
  chalice     Chalice's `app.websocket_api.send` in a loop, as its docs show
  bare pool   a bare boto3 client in a ThreadPoolExecutor of the same size

and prints the ratios. Targets: publisher >= 20x the Chalice loop and >= 0.9x
the bare pool. It also times a whole publish (the outbox commit that numbers
the event, then the delivery's event log write, channel query and posts, with
DynamoDB in moto) to show what the stores add around the fan-out.

    .venv/bin/python -m bench.fanout [--connections 1000] [--delay-ms 20]

The server binds 127.0.0.1 only and everything stops by itself: the server is
terminated at the end, and watchdogs end both processes if a run hangs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any

import boto3
from botocore.config import Config

STAGE = "bench"
WATCHDOG_SECONDS = 1500


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog is 5: 32 senders opening their connections
    # at once overflow it on a busy machine and get "connection reset by peer",
    # which API Gateway's endpoint would never answer. A backlog past the
    # senders' pool keeps the bench measuring the fan-out, not the accept queue.
    request_queue_size = 256
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway's endpoint
    delay = 0.02

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        time.sleep(self.delay)
        self.server.posts += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        """GET /posts: how many POSTs the server has answered (a sanity check)."""
        body = str(self.server.posts).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(delay_ms: float, port_out: Connection, lifetime: float) -> None:
    """The endpoint's process: its own interpreter, so its request parsing does
    not compete with the senders for the benchmark's GIL (API Gateway is remote)."""
    _Handler.delay = delay_ms / 1000
    server = _Server(("127.0.0.1", 0), _Handler)
    server.posts = 0  # type: ignore[attr-defined]
    threading.Timer(lifetime, lambda: os._exit(0)).start()  # never outlive the bench
    port_out.send(server.server_address[1])
    server.serve_forever()


@contextmanager
def connections_endpoint(delay_ms: float) -> Iterator[str]:
    """A local @connections API on 127.0.0.1 and a free port: 200 after
    `delay_ms` for every POST."""
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_serve, args=(delay_ms, send, WATCHDOG_SECONDS), daemon=True)
    process.start()
    try:
        if not receive.poll(30):
            raise RuntimeError("the local @connections endpoint did not start")
        yield f"http://127.0.0.1:{receive.recv()}/{STAGE}"
    finally:
        process.terminate()
        process.join(5)


def posts_served(endpoint: str) -> int:
    base = endpoint.rsplit("/", 1)[0]
    with urllib.request.urlopen(f"{base}/posts", timeout=5) as response:  # noqa: S310 - loopback
        return int(response.read())


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=5, help="runs of each pooled sender")
    parser.add_argument(
        "--sizes", default="1000,10000,50000", help="channel sizes for sharded delivery"
    )
    parser.add_argument("--workers", type=int, default=2, help="fanout worker processes")
    parser.add_argument("--threads", type=int, default=8, help="posting threads per worker")
    parser.add_argument("--budget", type=float, default=400, help="posts/s of the paced run")
    parser.add_argument("--budget-connections", type=int, default=10000)
    parser.add_argument("--threshold", type=int, default=500, help="FANOUT_THRESHOLD")
    parser.add_argument(
        "--quick", action="store_true", help="a tiny configuration that only shows it runs"
    )
    args = parser.parse_args()
    if args.quick:
        args.connections, args.delay_ms, args.runs = 40, 1.0, 1
        args.sizes, args.workers, args.threads = "60,200", 2, 2
        args.budget, args.budget_connections, args.threshold = 100.0, 100, 20
    watchdog = threading.Timer(WATCHDOG_SECONDS, lambda: os._exit(3))
    watchdog.daemon = True
    watchdog.start()
    try:
        run(args.connections, args.delay_ms, args.runs)
        from bench import sharded

        with connections_endpoint(args.delay_ms) as endpoint:
            sharded.run(
                endpoint,
                lambda: posts_served(endpoint),
                sizes=[int(n) for n in args.sizes.split(",")],
                delay_ms=args.delay_ms,
                workers=args.workers,
                threads=args.threads,
                budget=args.budget,
                budget_size=args.budget_connections,
                inline_limit=max(int(n) for n in args.sizes.split(",")),
                threshold=args.threshold,
                lifetime=WATCHDOG_SECONDS,
            )
    finally:
        watchdog.cancel()


def run(n: int, delay_ms: float, runs: int) -> None:
    # Fake credentials and no config files: nothing here may reach AWS.
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AUTH_JWT_SECRET": "bench-secret-that-is-long-enough-0123456789",
        }
    )
    from chalice.app import Chalice
    from moto import mock_aws

    from bench.sharded import bench_event
    from chalicelib import services
    from chalicelib.broadcast import encode
    from devstack.provision import provision

    event = bench_event(resources=["/courses/c_bench"])
    channel = "course:c_bench"
    ids = [f"bench{i:05d}=" for i in range(n)]

    with connections_endpoint(delay_ms) as endpoint:
        # The senders run outside moto: under mock_aws every botocore request,
        # even one to 127.0.0.1, first goes through moto's URL matching.
        os.environ.update(
            {
                "WEBSOCKET_ENDPOINT": endpoint,
                "COURSES_TABLE": "unused",
                "MEDIA_TABLE": "unused",
                "UPLOADS_TABLE": "unused",
                "CONNECTIONS_TABLE": "unused",
                "EVENTS_TABLE": "unused",
                "OUTBOX_TABLE": "unused",
                "MEDIA_BUCKET": "unused",
            }
        )
        services.reset()
        container = services.container()
        workers = container.settings.broadcast_workers
        payload = encode(event.on_channel(channel, 1), container.settings.max_ws_message_bytes)
        deliveries = [(cid, payload) for cid in ids]

        # -- the project's fan-out: the publisher's sender, as the container builds it
        fanout = container.fanout
        report = fanout.send(deliveries)  # also warms the threads and connections
        assert report.delivered == n, report

        # -- a bare boto3 client in a thread pool of the same size
        bare_client = boto3.session.Session().client(
            "apigatewaymanagementapi",
            endpoint_url=endpoint,
            config=Config(max_pool_connections=workers, retries={"max_attempts": 1}),
        )
        pool = ThreadPoolExecutor(workers)

        def post(cid: str) -> None:
            bare_client.post_to_connection(ConnectionId=cid, Data=payload)

        def bare() -> None:
            list(pool.map(post, ids))

        bare()

        # Alternate the two pooled senders so a change in the machine's load
        # during the run hits both alike.
        posts_before = posts_served(endpoint)
        publisher_times, bare_times = [], []
        for _ in range(runs):
            publisher_times.append(timed(lambda: fanout.send(deliveries)))
            bare_times.append(timed(bare))
        pool.shutdown()
        served = posts_served(endpoint) - posts_before
        assert served == 2 * n * runs, f"{served} posts reached the endpoint"
        publisher_best, publisher_median = min(publisher_times), statistics.median(publisher_times)
        bare_best, bare_median = min(bare_times), statistics.median(bare_times)

        # -- Chalice's own sender, one post after another
        app = Chalice(app_name="bench")
        app.websocket_api.session = boto3.session.Session()
        # Chalice builds https://{domain}/{stage}; the local endpoint is plain
        # HTTP, so its endpoint is set where configure() would put it.
        app.websocket_api._endpoint = endpoint
        message = payload.decode()
        app.websocket_api.send(ids[0], message)

        def chalice_loop() -> None:
            for cid in ids:
                app.websocket_api.send(cid, message)

        chalice_time = timed(chalice_loop)

        # -- a whole publish(): commit to the outbox (seq), then what the
        # delivery Lambda does: record in the event log, channel query (moto), fan-out
        with mock_aws():
            os.environ.update(provision(boto3.session.Session(region_name="us-east-1")))
            services.reset()
            container = services.container()
            container.connections.add_many(
                (cid, f"user{i}", [channel]) for i, cid in enumerate(ids)
            )
            store_query = timed(lambda: container.connections.connections_on(channel))
            publish_time = timed(
                lambda: container.outbox_consumer.deliver(
                    container.publisher.publish(event, [channel])
                )
            )

    print(f"fan-out of one event to {n} connections, {delay_ms:g} ms per @connections POST,")
    print(f"{workers} workers (settings.broadcast_workers); best of {runs} (median in brackets)")
    print(f"  project publisher fan-out : {publisher_best:7.3f} s  ({publisher_median:.3f})")
    print(f"  bare boto3 thread pool    : {bare_best:7.3f} s  ({bare_median:.3f})")
    print(f"  chalice websocket_api loop: {chalice_time:7.3f} s  (one run)")
    print(
        f"  ratio publisher vs chalice loop : {chalice_time / publisher_best:6.1f}x  (target >= 20)"
    )
    print(
        f"  ratio publisher vs bare pool    : {bare_best / publisher_best:6.2f}x  (target >= 0.9)"
    )
    print(
        f"  whole publish (commit, record, query, post) under moto: {publish_time:.3f} s; "
        f"moto's channel query alone {store_query:.3f} s (moto scans the table and runs every "
        "request, posts included, through its URL matching: DynamoDB and AWS do neither)"
    )
    load = os.getloadavg()[0]
    print(f"  machine: {os.cpu_count()} CPUs, load average {load:.1f} during the run")


if __name__ == "__main__":
    main()
