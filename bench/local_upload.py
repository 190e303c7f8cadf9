"""Local upload path benchmark: the project's upload flow on the local stack
beside boto3's `upload_file` of the same file to the same moto.

Starts the local stack (`python -m devstack`) on free ports, then, alternating,
uploads one file of `--mib` MiB (256 by default) two ways:

  project  what the browser client (packages/client/src/uploader.js) does with
           its defaults: POST /uploads, presigned URLs in batches of 10, 4 part
           PUTs in flight, a progress POST at most every 500 ms (beside the
           PUTs, never holding them up), then POST /uploads/{id}/complete.
           Timed until `complete` answers; the time until the upload reads
           `completed` (the S3 event through the stack's SQS poller) is shown
           beside it.
  boto3    `upload_file` with boto3's default transfer configuration (8 MiB
           parts, 10 threads) straight to the stack's moto server.

Prints the medians, their ratio (target: at most 1.10x), the slowest progress
POST and `complete`'s own time, and the load average.

    .venv/bin/python -m bench.local_upload [--mib 256] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import requests

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024**2
CONCURRENCY = 4  # the browser client's default
PRESIGN_BATCH = 10
REPORT_INTERVAL = 0.5
BUCKET = "media-bucket"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalStack:
    def __init__(self, log: Path) -> None:
        self.port, self.moto_port = _free_port(), _free_port()
        env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
        env["PYTHONUNBUFFERED"] = "1"
        self._sink = log.open("wb")
        command = [sys.executable, "-m", "devstack", "--port", str(self.port)]
        command += ["--moto-port", str(self.moto_port), "--no-seed", "--log-level", "WARNING"]
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            command, cwd=ROOT, env=env, stdout=self._sink, stderr=subprocess.STDOUT
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the stack exited:\n{log.read_text()[-3000:]}")
            try:
                if requests.get(f"{self.base}/api/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError(f"the stack did not start:\n{log.read_text()[-3000:]}")
        token = requests.get(f"{self.base}/dev/token", params={"user": "bench"}, timeout=10)
        self.headers = {"Authorization": f"Bearer {token.json()['token']}"}

    def api(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(
            method, f"{self.base}/api{path}", headers=self.headers, json=body, timeout=120
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._sink.close()


def project_upload(stack: LocalStack, data: bytes) -> dict[str, float]:
    """The browser client's flow; returns its timings in seconds."""
    started = time.perf_counter()
    upload = stack.api(
        "post",
        "/uploads",
        {
            "filename": "bench.mp4",
            "contentType": "video/mp4",
            "size": len(data),
            "target": {"type": "library"},
        },
    )
    operation_id, size, count = upload["operationId"], upload["partSize"], upload["partCount"]
    urls: dict[int, str] = {}
    signing = threading.Lock()

    def url_for(n: int) -> str:
        with signing:
            if n not in urls:
                batch = list(range(n, min(n + PRESIGN_BATCH, count + 1)))
                signed = stack.api("post", f"/uploads/{operation_id}/parts", {"partNumbers": batch})
                urls.update({int(k): v for k, v in signed["urls"].items()})
            return urls[n]

    done = [0]
    progress_times: list[float] = []
    finished = threading.Event()

    def reporter() -> None:
        sent = -1
        while not finished.wait(REPORT_INTERVAL):
            if done[0] != sent:
                sent = done[0]
                t0 = time.perf_counter()
                stack.api("post", f"/uploads/{operation_id}/progress", {"bytesUploaded": sent})
                progress_times.append(time.perf_counter() - t0)

    def put(n: int) -> dict[str, Any]:
        chunk = data[(n - 1) * size : n * size]
        response = requests.put(url_for(n), data=chunk, timeout=120)
        if response.status_code != 200:
            raise RuntimeError(f"part {n}: {response.status_code} {response.text[:300]}")
        done[0] += len(chunk)
        return {"partNumber": n, "etag": response.headers["ETag"]}

    thread = threading.Thread(target=reporter, name="progress")
    thread.start()
    try:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            parts = list(pool.map(put, range(1, count + 1)))
    finally:
        finished.set()
        thread.join()
    stack.api("post", f"/uploads/{operation_id}/progress", {"bytesUploaded": len(data)})
    t0 = time.perf_counter()
    stack.api("post", f"/uploads/{operation_id}/complete", {"parts": parts})
    complete_s = time.perf_counter() - t0
    answered = time.perf_counter() - started
    while stack.api("get", f"/uploads/{operation_id}")["status"] != "completed":
        if time.perf_counter() - started > answered + 60:
            raise RuntimeError("the upload never read completed")
        time.sleep(0.05)
    return {
        "total": answered,
        "until_completed": time.perf_counter() - started,
        "complete": complete_s,
        "slowest_progress": max(progress_times, default=0.0),
        "parts": float(count),
    }


def boto3_upload(stack: LocalStack, path: Path, key: str) -> float:
    s3 = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the local stack's moto
        region_name="us-east-1",
    ).client("s3", endpoint_url=f"http://127.0.0.1:{stack.moto_port}")
    started = time.perf_counter()
    s3.upload_file(str(path), BUCKET, key)
    return time.perf_counter() - started


def measure(mib: int, runs: int) -> dict[str, Any]:
    data = os.urandom(mib * MIB)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "bench.bin")
        path.write_bytes(data)
        stack = LocalStack(Path(tmp, "devstack.log"))
        try:
            project_upload(stack, data[: min(len(data), 16 * MIB)])  # warm the first calls
            projects, bares = [], []
            for i in range(runs):
                projects.append(project_upload(stack, data))
                bares.append(boto3_upload(stack, path, f"bench/boto3-{i}.bin"))
        finally:
            stack.stop()
    total = statistics.median(p["total"] for p in projects)
    bare = statistics.median(bares)
    return {
        "project": total,
        "boto3": bare,
        "ratio": total / bare,
        "until_completed": statistics.median(p["until_completed"] for p in projects),
        "complete": statistics.median(p["complete"] for p in projects),
        "slowest_progress": max(p["slowest_progress"] for p in projects),
        "parts": projects[0]["parts"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    r = measure(args.mib, args.runs)
    load = os.getloadavg()
    print(f"local upload of {args.mib} MiB, medians of {args.runs} alternating runs")
    print(
        f"project flow {r['project']:.2f} s ({r['parts']:.0f} parts, {CONCURRENCY} in flight)"
        f"  boto3 upload_file {r['boto3']:.2f} s  ratio {r['ratio']:.2f}x  target <= 1.10x"
    )
    print(
        f"complete alone {r['complete'] * 1000:.0f} ms; slowest progress POST "
        f"{r['slowest_progress'] * 1000:.0f} ms; until the upload reads completed "
        f"{r['until_completed']:.2f} s"
    )
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
