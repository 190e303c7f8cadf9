"""Progress benchmark: 100 reports a second for 10 s into one upload.

It drives the project's own progress path (chalicelib/progress.py with the
uploads table adapter, DynamoDB in moto in-process) and prints, per second of
the run, how many `upload.progress` broadcasts went out (the contract allows at
most 4), and how many DynamoDB requests each report cost: one read, and writes
only for a report that is broadcast (two: the bytes with the claim, and the
note that its fan-out returned). The run's 1,000 reports cover the whole file,
so the 5 % step rule gives about 20 broadcasts; `--step-percent` changes it
(a tiny step shows the 4-a-second limit binding).

    .venv/bin/python -m bench.progress [--rate 100] [--seconds 10] [--simulated]
                                       [--step-percent 5]

It runs twice in one go. First on a simulated clock that advances exactly
1/rate s per report (the same code path; only the clock is injected), which is
the only way moto in-process sustains 100 reports a second. Then paced on the
real clock, as fast as moto allows up to the asked rate, and it prints the rate
it achieved. `--simulated` skips the real-clock run.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import boto3
from moto import mock_aws

from chalicelib.domain.uploads import NewFile
from chalicelib.events import Envelope
from chalicelib.models import LibraryTarget
from chalicelib.progress import ProgressPace, ProgressTracker
from chalicelib.services import Container
from chalicelib.settings import load_settings
from devstack.provision import provision

REGION = "us-east-1"
SIZE = 50 * 1024**3


class CountingPublisher:
    def __init__(self) -> None:
        self.events: list[Envelope] = []

    def publish(self, event: Envelope, channels: Sequence[str]) -> list[Envelope]:
        if event.type == "upload.progress":
            self.events.append(event)
        return [event.on_channel(c, None) for c in channels]


class SimulatedClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def _environment() -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AUTH_MODE": "hs256",
        "AUTH_JWT_SECRET": "bench-secret-long-enough-0123456789",
        # The publisher is replaced by a counting one; settings still require it.
        "WEBSOCKET_ENDPOINT": "https://bench.execute-api.us-east-1.amazonaws.com/api",
    }.items():
        os.environ[name] = value


def run(rate: int, seconds: int, simulated: bool, step_percent: float) -> dict[str, Any]:
    _environment()
    with mock_aws():
        os.environ.update(provision(boto3.session.Session(region_name=REGION)))
        publisher = CountingPublisher()
        c = Container(load_settings())
        file = NewFile("lecture.mp4", "video/mp4", SIZE, LibraryTarget(type="library"))
        upload = c.uploads.initiate("bench-user", file)
        writes: Counter[str] = Counter()
        reads: Counter[str] = Counter()

        def count(event_name: str, **_: Any) -> None:
            op = event_name.rsplit(".", 1)[-1]
            (reads if op in {"GetItem", "Query", "BatchGetItem"} else writes)[op] += 1

        ddb = c.aws.ddb  # the client every table adapter writes through
        for op in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"):
            ddb.meta.events.register(f"before-call.dynamodb.{op}", count)
        for op in ("GetItem", "Query", "BatchGetItem"):
            ddb.meta.events.register(f"before-call.dynamodb.{op}", count)

        clock = SimulatedClock(time.time()) if simulated else time.time
        s = c.settings
        pace = ProgressPace(
            s.progress_broadcasts_per_second, step_percent, s.progress_heartbeat_seconds
        )
        tracker = ProgressTracker(c.upload_features.upload_store, publisher, pace, clock=clock)
        reports = rate * seconds
        step = SIZE // (reports + 1)
        start = clock()
        for i in range(1, reports + 1):
            due = start + i / rate
            if isinstance(clock, SimulatedClock):
                clock.now = due
            else:
                delay = due - time.time()
                if delay > 0:
                    time.sleep(delay)
            tracker.report(upload.operation_id, "bench-user", i * step)
        elapsed = clock() - start

    buckets = max(1, int(elapsed + 0.999))
    per_second = Counter(int(e.at.timestamp() - start - 1e-9) for e in publisher.events)
    return {
        "clock": "simulated" if simulated else "real time",
        "reports": reports,
        "elapsed_s": round(elapsed, 2),
        "broadcasts": len(publisher.events),
        "per_second": [per_second.get(s, 0) for s in range(buckets)],
        "writes": sum(writes.values()),
        "writes_by_op": dict(writes),
        "reads": sum(reads.values()),
        "step_percent": step_percent,
    }


def report(r: dict[str, Any]) -> None:
    print(f"== {r['clock']} clock, {r['step_percent']:g} % steps")
    print(
        f"{r['reports']} reports in {r['elapsed_s']} s "
        f"({r['reports'] / r['elapsed_s']:.1f} reports/s achieved)"
    )
    print(f"broadcasts per second: {r['per_second']} (max {max(r['per_second'])}, limit 4)")
    print(f"broadcasts: {r['broadcasts']} ({r['broadcasts'] / r['elapsed_s']:.2f}/s)")
    per_report = r["writes"] / r["reports"]
    bound = 2 * r["broadcasts"] / r["reports"]
    print(
        f"DynamoDB writes: {r['writes']} {r['writes_by_op']} -> {per_report:.3f} per report "
        f"(bound: 0 per report + 2 per broadcast = {bound:.3f}); "
        f"reads: {r['reads']} -> {r['reads'] / r['reports']:.3f} per report"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--simulated", action="store_true", help="only the simulated-clock run (fast)"
    )
    parser.add_argument(
        "--step-percent", type=float, default=5.0, help="PROGRESS_STEP_PERCENT (default 5)"
    )
    args = parser.parse_args()
    report(run(args.rate, args.seconds, True, args.step_percent))
    if not args.simulated:
        # moto in-process costs tens of ms per DynamoDB call, so this run may
        # fall short of the asked rate; it shows the limit holds on a real clock.
        report(run(args.rate, args.seconds, False, args.step_percent))
    print("(counts start after the upload's initiating PutItem)")


if __name__ == "__main__":
    main()
