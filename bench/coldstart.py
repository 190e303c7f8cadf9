"""Cold-start benchmark: the app's functions beside a bare Chalice + boto3 app.

A Lambda cold start is a fresh interpreter that imports the handler's module
and then runs its first invocation. This bench measures exactly that, as whole
fresh processes, for each function kind the stack deploys, timed from spawn
to the last answer (Lambda keeps the process for the next invocation, so this
is the cold start) and, beside it, to exit:

  rest       GET /health, then one authenticated GET /media (token verified,
             one DynamoDB query)
  websocket  $connect with a token (verified, the connection stored)
  s3_events  one SQS batch holding one S3 ObjectCreated record
  schedule   the stale-upload sweep (a DynamoDB query per index shard)

The bare app does the same work by hand: the same Chalice decorators, boto3
clients for the same calls against the same tables, and PyJWT's HS256 decode
where the app verifies a token (a bare app that checked no token would not be
doing the same). The sweep reads each of the stale-upload index's keys, as the
app does since that index is sharded (chalicelib/store/upload_items.py): ten
shards and the unsharded marker, eleven queries. Both talk to one moto server
started here, on 127.0.0.1 and a free port. Runs alternate app/bare, and
rounds run every kind, so a drift in the machine's load hits both sides and
every kind; the table shows the medians and their ratio. Target: at most 1.3x per kind.

    .venv/bin/python -m bench.coldstart [--runs 15] [--kinds rest,websocket]

Byte code is compiled before the first timed run for both apps (Lambda
packages usually ship without it; both sides would pay the same).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from chalicelib.store.upload_items import open_since_keys

ROOT = Path(__file__).resolve().parent.parent
SECRET = "cold-start-bench-secret-0123456789abcdef"  # noqa: S105 - moto only
USER = "u_coldstartbench"
REGION = "us-east-1"
KINDS = ("rest", "websocket", "s3_events", "schedule")

# The bare app: the least a Chalice + boto3 function does for the same calls.
BARE_APP = """
import json, os
import boto3, jwt
from chalice.app import Chalice, Rate

app = Chalice(app_name="bare")
app.experimental_feature_flags.update(["WEBSOCKETS"])
SECRET = os.environ["AUTH_JWT_SECRET"]
OPEN_KEYS = __OPEN_KEYS__


def ddb():
    return boto3.client("dynamodb")


@app.route("/health")
def health():
    return {"status": "ok"}


@app.route("/media")
def media():
    header = app.current_request.headers["authorization"]
    claims = jwt.decode(header.split(" ", 1)[1], SECRET, algorithms=["HS256"])
    found = ddb().query(
        TableName=os.environ["MEDIA_TABLE"], IndexName="byOwner", Limit=50,
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": claims["sub"]}},
    )
    return {"items": found["Items"]}


@app.on_ws_connect()
def on_ws_connect(event):
    claims = jwt.decode(event.to_dict()["queryStringParameters"]["token"], SECRET,
                        algorithms=["HS256"])
    ddb().put_item(TableName=os.environ["CONNECTIONS_TABLE"], Item={
        "pk": {"S": "conn#" + event.connection_id}, "sk": {"S": "meta"},
        "userId": {"S": claims["sub"]}})


@app.on_sqs_message(queue="q", name="s3_events")
def on_s3_events(event):
    for record in event:
        for s3 in json.loads(record.body).get("Records", []):
            ddb().get_item(TableName=os.environ["UPLOADS_TABLE"],
                           Key={"operationId": {"S": s3["s3"]["object"]["key"]}})


@app.schedule(Rate(15, unit=Rate.MINUTES), name="expire_stale_uploads")
def expire_stale_uploads(event):
    client = ddb()
    for key in OPEN_KEYS:
        client.query(
            TableName=os.environ["UPLOADS_TABLE"], IndexName="openByAge",
            KeyConditionExpression="openSince = :o",
            ExpressionAttributeValues={":o": {"S": key}},
        )
"""

BARE_APP = BARE_APP.replace("__OPEN_KEYS__", json.dumps(open_since_keys()))

# What each child runs: import the handler's module (the module the function's
# Handler names), invoke it once (twice for REST), check the answer, exit.
# Events come in through the environment.
DRIVER = """
import importlib, json, os, sys
sys.path.insert(0, os.environ["BENCH_APP_DIR"])
events = json.loads(os.environ["BENCH_EVENTS"])


class Context:
    function_name = "bench"
    aws_request_id = "cold-start"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    def get_remaining_time_in_millis(self):
        return 30000


module_name, _, attribute = os.environ["BENCH_HANDLER"].rpartition(".")
handler = getattr(importlib.import_module(module_name), attribute)
kind = os.environ["BENCH_KIND"]
for event in events:
    answer = handler(event, Context())
    if kind in ("rest", "websocket"):
        assert (answer or {{}}).get("statusCode", 200) == 200, answer
# A cold start ends here: Lambda keeps the process for the next invocation,
# so what the interpreter does at exit is no part of it.
import resource, time
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"at": time.time(), "cpu": usage.ru_utime + usage.ru_stime}}))
""".replace("{{", "{").replace("}}", "}")


BARE_HANDLERS = {
    "rest": "bare_app.app",
    "websocket": "bare_app.on_ws_connect",
    "s3_events": "bare_app.on_s3_events",
    "schedule": "bare_app.expire_stale_uploads",
}


def app_handlers() -> dict[str, str]:
    """Each kind's Handler as `chalice package` writes it: app.py for REST, a
    module of chalicelib/functions for the others."""
    import app

    chalice = app.app
    named = {c.name: c.handler_string for c in chalice.websocket_handlers.values()}
    named.update({source.name: source.handler_string for source in chalice.event_sources})
    return {
        "rest": "app.app",
        "websocket": named["on_ws_connect"],
        "s3_events": named["s3_events"],
        "schedule": named["expire_stale_uploads"],
    }


def _rest_event(path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": "GET",
            "path": f"/api{path}",
            "stage": "api",
            "requestId": "cold-start",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def events_for(kind: str, token: str) -> list[dict[str, Any]]:
    if kind == "rest":
        auth = {"authorization": f"Bearer {token}", "host": "127.0.0.1"}
        return [_rest_event("/health", {"host": "127.0.0.1"}), _rest_event("/media", auth)]
    if kind == "websocket":
        return [
            {
                "requestContext": {
                    "routeKey": "$connect",
                    "eventType": "CONNECT",
                    "connectionId": "Cold1Start2Bench=",
                    "domainName": "127.0.0.1",
                    "stage": "api",
                    "apiId": "bench",
                },
                "queryStringParameters": {"token": token},
                "isBase64Encoded": False,
            }
        ]
    if kind == "s3_events":
        key = f"uploads/{USER}/op_coldstartbench0000000000/clip.mp4"
        body = {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:CompleteMultipartUpload",
                    "awsRegion": REGION,
                    "s3": {
                        "bucket": {"name": "media-bucket", "arn": "arn:aws:s3:::media-bucket"},
                        "object": {"key": key, "size": 1024, "eTag": "0" * 32 + "-1"},
                    },
                }
            ]
        }
        return [
            {
                "Records": [
                    {
                        "messageId": "cold-start-1",
                        "receiptHandle": "cold-start",
                        "body": json.dumps(body),
                        "attributes": {"ApproximateReceiveCount": "1"},
                        "messageAttributes": {},
                        "md5OfBody": "",
                        "eventSource": "aws:sqs",
                        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:S3EventsQueue",
                        "awsRegion": REGION,
                    }
                ]
            }
        ]
    return [
        {
            "version": "0",
            "id": "cold-start",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": "2026-12-03T00:00:00Z",
            "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:123456789012:rule/bench"],
            "detail": {},
        }
    ]


def _environment(moto_url: str, provisioned: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BENCH_", "PYTHON"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ENDPOINT_URL": moto_url,
            "S3_ENDPOINT_URL": moto_url,
            "MEDIA_BUCKET": "media-bucket",
            "WEBSOCKET_ENDPOINT": f"{moto_url}/ws",
            "AUTH_MODE": "hs256",
            "AUTH_JWT_SECRET": SECRET,
            "LOG_LEVEL": "WARNING",
            **provisioned,
        }
    )
    return env


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(env: dict[str, str], handler: str, app_dir: str) -> dict[str, float]:
    """One fresh process: its wall time from spawn to its last answer and to
    exit, and its CPU time (user + system, which a busy machine disturbs less
    than the wall time) at both."""
    env = {**env, "BENCH_HANDLER": handler, "BENCH_APP_DIR": app_dir}
    cpu_before = _cpu_of_children()
    spawned = time.time()
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and driver
        [sys.executable, "-c", DRIVER], env=env, capture_output=True, text=True, timeout=120
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{handler} {env['BENCH_KIND']} failed:\n{done.stderr[-3000:]}")
    answered = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "wall": float(answered["at"]) - spawned,
        "cpu": float(answered["cpu"]),
        "exit_wall": elapsed,
        "exit_cpu": _cpu_of_children() - cpu_before,
    }


def measure(runs: int, kinds: list[str], warmup: bool = True) -> dict[str, dict[str, float]]:
    sys.path.insert(0, str(ROOT))
    from devstack.provision import provision
    from scripts.mint_token import mint_token

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        moto_url = f"http://{host}:{port}"
        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto only
            region_name=REGION,
        )
        provisioned = provision(session, moto_url)
        base_env = _environment(moto_url, provisioned)
        token = mint_token(SECRET, USER, 3600)
        results: dict[str, dict[str, float]] = {}
        handlers = app_handlers()
        with tempfile.TemporaryDirectory() as bare_dir:
            (Path(bare_dir) / "bare_app.py").write_text(textwrap.dedent(BARE_APP))
            for compile_dir in (str(ROOT / "app.py"), str(ROOT / "chalicelib"), bare_dir):
                subprocess.run(  # noqa: S603 - our own interpreter
                    [sys.executable, "-m", "compileall", "-q", compile_dir], check=True
                )
            envs = {
                kind: {
                    **base_env,
                    "BENCH_KIND": kind,
                    "BENCH_EVENTS": json.dumps(events_for(kind, token)),
                }
                for kind in kinds
            }
            app_runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
            bare_runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
            # Round by round, every kind in each: a burst of load on the
            # machine (seconds long, here) then lands on one run of several
            # kinds, app and bare alike, instead of on most runs of one kind.
            for round_ in range(runs + 1 if warmup else runs):
                for kind in kinds:
                    app_run = _run(envs[kind], handlers[kind], str(ROOT))
                    bare_run = _run(envs[kind], BARE_HANDLERS[kind], bare_dir)
                    if warmup and round_ == 0:
                        continue  # the untimed round warms the OS file cache for both
                    app_runs[kind].append(app_run)
                    bare_runs[kind].append(bare_run)
            for kind in kinds:
                results[kind] = {}
                for name in ("wall", "cpu", "exit_wall", "exit_cpu"):
                    app_m = statistics.median(r[name] for r in app_runs[kind])
                    bare_m = statistics.median(r[name] for r in bare_runs[kind])
                    results[kind][f"app_{name}"] = app_m
                    results[kind][f"bare_{name}"] = bare_m
                    results[kind][f"{name}_ratio"] = app_m / bare_m
        return results
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--no-warmup", action="store_true", help="skip the untimed first pair")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    results = measure(args.runs, kinds, warmup=not args.no_warmup)
    load = os.getloadavg()
    print(f"cold start, medians of {args.runs} alternating fresh processes per side")
    print("to the last answer (a Lambda cold start: the process lives on), then to exit")
    print(
        f"{'function':<12}{'app':>9}{'bare':>9}{'ratio':>8}"
        f"{'app cpu':>10}{'bare cpu':>10}{'ratio':>8}{'to exit':>10}"
        "   target: at most 1.30x"
    )
    worst = worst_exit = 0.0
    for kind, r in results.items():
        worst = max(worst, r["wall_ratio"])
        worst_exit = max(worst_exit, r["exit_wall_ratio"])
        print(
            f"{kind:<12}{r['app_wall'] * 1000:>7.0f}ms{r['bare_wall'] * 1000:>7.0f}ms"
            f"{r['wall_ratio']:>7.2f}x{r['app_cpu'] * 1000:>8.0f}ms{r['bare_cpu'] * 1000:>8.0f}ms"
            f"{r['cpu_ratio']:>7.2f}x{r['exit_wall_ratio']:>9.2f}x"
        )
    print(
        f"worst ratio {worst:.2f}x to the last answer, {worst_exit:.2f}x to exit;"
        f" load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
