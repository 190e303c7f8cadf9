"""Sharded delivery beside the inline fan-out, at 1,000, 10,000 and 50,000
connections (issue 12); bench/fanout.py runs it after its own figures.

Everything runs against the same local @connections endpoint (bench/fanout.py's
HTTP server in a child process, `--delay-ms` per POST). For each size:

  inline    the project's one-Lambda fan-out (BroadcastDelivery, 32 threads):
            deliver() returns once every connection has its post.
  sharded   ShardedDelivery puts the delivery shards on a FIFO queue (SQS in
            moto's server, a child process) and returns; `--workers` worker
            processes, each the app's `fanout_worker` handler polled as Lambda
            would (devstack/poller.py, infra/template.json's settings) with
            `--threads` posting threads, drain it. Delivery ends when the
            endpoint has answered every post.

The bound of sharded delivery is connections x latency / (workers x threads);
a last run at 10,000 connections gives the workers a budget below what they
could post (`--budget` posts/s in all) and measures the rate they keep, from
the first post to the last (what the budget governs) and, beside it, from
deliver() (which adds the shards' way through the queue).

The channel's connections are the bench's own list (moto's DynamoDB answers a
50,000-item query in minutes; DynamoDB pages it at 1 MB, about 10,000 of these
items a page). Everything binds 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

STAGE_CHANNEL = "course:c_bench"
QUEUE = "FanoutQueue.fifo"


def bench_event(resources: list[str]) -> Any:
    """The one event both fan-out benches send: a small chapter.updated, as a
    link makes. Built on call, after the bench has set the environment."""
    from chalicelib.events import ChapterData, ChapterUpdated
    from chalicelib.models import Chapter

    chapter = Chapter.model_validate(
        {
            "courseId": "c_bench",
            "chapterId": "ch_1",
            "title": "Week 1",
            "position": 1,
            "version": 2,
            "items": [],
            "createdAt": "2026-11-21T10:00:00.000Z",
            "updatedAt": "2026-11-21T10:00:00.000Z",
        }
    )
    return ChapterUpdated.new(
        ChapterData(chapter=chapter),
        course_id="c_bench",
        resources=resources,
        at=chapter.updated_at,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _quiet() -> None:
    """A child's prints (moto's request lines, the workers' EMF metrics) off the report."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def _moto(port: int, lifetime: float) -> None:
    _quiet()
    from moto.server import ThreadedMotoServer

    threading.Timer(lifetime, lambda: os._exit(0)).start()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    threading.Event().wait()


def _environment(
    moto_url: str, endpoint: str, workers: int, threads: int, budget: float, threshold: int
) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_ENDPOINT_URL": moto_url,
        "AUTH_JWT_SECRET": "bench-secret-that-is-long-enough-0123456789",
        "WEBSOCKET_ENDPOINT": endpoint,
        **{
            name: "unused"
            for name in (
                "COURSES_TABLE",
                "MEDIA_TABLE",
                "UPLOADS_TABLE",
                "CONNECTIONS_TABLE",
                "EVENTS_TABLE",
                "OUTBOX_TABLE",
                "MEDIA_BUCKET",
            )
        },
        "FANOUT_QUEUE": QUEUE,
        "FANOUT_THRESHOLD": str(threshold),
        "FANOUT_CONCURRENCY": str(workers),
        "FANOUT_POSTS_PER_SECOND": str(budget),
        "BROADCAST_WORKERS": str(threads),
        "LOG_LEVEL": "ERROR",
    }


def _worker(env: dict[str, str], stop_after: float) -> None:
    """One fanout worker 'Lambda': the app's handler, polled as Lambda's SQS
    event source would (batch size and item failures from the template)."""
    _quiet()
    os.environ.update(env)
    threading.Timer(stop_after, lambda: os._exit(0)).start()
    import boto3

    from app import app
    from devstack.handlers import AppHandlers
    from devstack.poller import QueuePoller
    from devstack.provision import load_template

    (handler,) = [q for q in AppHandlers(app, load_template()).queues() if q.queue_name == QUEUE]
    sqs = boto3.session.Session(region_name="us-east-1").client("sqs")
    QueuePoller(handler, sqs, "us-east-1", threading.Event(), wait_seconds=1).run()


class _Channel:
    """The bench's connection store: one channel's ids (ChannelConnections)."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids

    def connections_on(self, channel: str) -> list[str]:
        return list(self.ids)

    def remove(self, connection_id: str) -> None:
        pass


@dataclass
class Row:
    connections: int
    inline_s: float | None
    sharded_return_s: float
    sharded_total_s: float
    bound_s: float


def _wait_for(served: Any, target: int, timeout: float) -> float:
    deadline = time.perf_counter() + timeout
    while served() < target:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"only {served()} of {target} posts arrived")
        time.sleep(0.02)
    return time.perf_counter()


def run(
    endpoint: str,
    posts_served: Any,
    *,
    sizes: list[int],
    delay_ms: float,
    workers: int,
    threads: int,
    budget: float,
    budget_size: int,
    inline_limit: int,
    threshold: int,
    lifetime: float,
) -> None:
    ctx = multiprocessing.get_context("spawn")
    port = _free_port()
    moto = ctx.Process(target=_moto, args=(port, lifetime), daemon=True)
    moto.start()
    moto_url = f"http://127.0.0.1:{port}"
    fast = _environment(moto_url, endpoint, workers, threads, 1e9, threshold)
    paced = _environment(moto_url, endpoint, workers, threads, budget, threshold)
    # The inline fan-out keeps its own pool (settings.broadcast_workers, 32).
    os.environ.update({k: v for k, v in fast.items() if k != "BROADCAST_WORKERS"})
    import boto3

    sqs = boto3.session.Session(region_name="us-east-1").client("sqs")
    for _ in range(100):
        try:
            sqs.create_queue(QueueName=QUEUE, Attributes={"FifoQueue": "true"})
            break
        except Exception:  # moto's server still starting
            time.sleep(0.1)
    from chalicelib import services
    from chalicelib.broadcast import BroadcastDelivery

    services.reset()
    container = services.container()
    event = bench_event(resources=[])

    def deliveries(ids: list[str]) -> tuple[Any, Any]:
        channel = _Channel(ids)
        inline = BroadcastDelivery(
            channel,  # type: ignore[arg-type]
            container.fanout,
            max_message_bytes=container.settings.max_ws_message_bytes,
        )
        return inline, container.fanout_features.sharded(inline)

    def start_workers(env: dict[str, str]) -> list[Any]:
        procs = [
            ctx.Process(target=_worker, args=(env, lifetime), daemon=True) for _ in range(workers)
        ]
        for proc in procs:
            proc.start()
        return procs

    def stop(procs: list[Any]) -> None:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(5)

    rows: list[Row] = []
    seq = 0
    procs = start_workers(fast)
    try:
        # Warm the workers (imports, connections) with one small sharded event.
        warm = [f"warm{i:05d}=" for i in range(threshold + 100)]
        seq += 1
        before = posts_served()
        deliveries(warm)[1].deliver([event.on_channel(STAGE_CHANNEL, seq)])
        _wait_for(posts_served, before + len(warm), lifetime)
        for n in sizes:
            ids = [f"bench{i:06d}=" for i in range(n)]
            inline, sharded = deliveries(ids)
            inline_s = None
            if n <= inline_limit:
                seq += 1
                start = time.perf_counter()
                inline.deliver([event.on_channel(STAGE_CHANNEL, seq)])
                inline_s = time.perf_counter() - start
            seq += 1
            before = posts_served()
            start = time.perf_counter()
            sharded.deliver([event.on_channel(STAGE_CHANNEL, seq)])
            returned = time.perf_counter() - start
            done = _wait_for(posts_served, before + n, lifetime)
            bound = n * delay_ms / 1000 / (workers * threads)
            rows.append(Row(n, inline_s, returned, done - start, bound))
    finally:
        stop(procs)

    # The budget binding: the same workers, paced to `budget` posts/s in all.
    procs = start_workers(paced)
    try:
        ids = [f"paced{i:06d}=" for i in range(budget_size)]
        seq += 1
        before = posts_served()
        deliveries(warm)[1].deliver([event.on_channel(STAGE_CHANNEL, seq)])
        _wait_for(posts_served, before + len(warm), lifetime)
        seq += 1
        before = posts_served()
        start = time.perf_counter()
        deliveries(ids)[1].deliver([event.on_channel(STAGE_CHANNEL, seq)])
        # The first post marks when the budget starts to govern: before it the
        # delivery is the shards' way through the queue, which the rows above
        # time (deliver() returns, total).
        first = _wait_for(posts_served, before + 1, lifetime)
        done = _wait_for(posts_served, before + budget_size, lifetime)
        paced_rate = (budget_size - 1) / (done - first)
        delivery_rate = budget_size / (done - start)
    finally:
        stop(procs)
        moto.terminate()
        moto.join(5)
    capacity = workers * threads * 1000 / delay_ms

    print()
    print(
        f"sharded delivery: {workers} worker processes x {threads} threads, "
        f"{delay_ms:g} ms per post, shards of {container.settings.fanout_shard_size}, "
        f"{container.settings.fanout_groups} groups; "
        f"inline: {container.settings.broadcast_workers} threads in one process"
    )
    print(
        "  connections | inline deliver() | sharded deliver() returns | ratio  | "
        "sharded total | bound (n x latency / concurrency) | total/bound"
    )
    for row in rows:
        inline_text = f"{row.inline_s:8.3f} s" if row.inline_s is not None else "  (skipped)"
        ratio = f"{row.inline_s / row.sharded_return_s:6.0f}x" if row.inline_s else "      "
        print(
            f"  {row.connections:>11,} | {inline_text:>16} | {row.sharded_return_s:23.3f} s | "
            f"{ratio} | {row.sharded_total_s:11.2f} s | {row.bound_s:31.2f} s | "
            f"{row.sharded_total_s / row.bound_s:9.2f}x"
        )
    print(
        f"  budget binding: {budget_size:,} connections at a budget of {budget:g} posts/s "
        f"(the workers could post {capacity:,.0f}/s): {paced_rate:,.0f} posts/s from the "
        f"first post to the last, {paced_rate / budget:.2f}x the budget (target within 10%); "
        f"{delivery_rate:,.0f} posts/s from deliver() ({delivery_rate / budget:.2f}x), "
        f"the first post {first - start:.2f} s after it"
    )
    one, five, fifteen = os.getloadavg()
    print(f"  machine: {os.cpu_count()} CPUs, load average {one:.1f} {five:.1f} {fifteen:.1f}")
