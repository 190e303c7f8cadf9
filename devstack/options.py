"""What the local stack is told: ports, host, secrets and timings, from flags or env.

Flags win over environment variables, which win over the defaults, so `make run`
needs neither while tests start the stack on free ports.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.settings import hs256_secret_problem
from devstack.faults import FaultSettings, FaultSpecError, parse_table_fractions

ROOT = Path(__file__).resolve().parent.parent

# A fixed development secret keeps tokens valid across restarts of the stack.
# It signs nothing outside this machine: production verifies RS256 via JWKS.
DEV_SECRET = "course-media-local-development-secret"  # noqa: S105

# API Gateway's WebSocket quotas, mirrored so a client that works here works there.
WS_IDLE_SECONDS = 600.0
WS_MAX_SECONDS = 7200.0


@dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    port: int = 8000
    moto_port: int = 5000
    secret: str = DEV_SECRET
    web_dir: Path = ROOT / "web"
    seed: bool = True
    log_level: str = "info"
    ws_idle_seconds: float = WS_IDLE_SECONDS
    ws_max_seconds: float = WS_MAX_SECONDS
    # Run every scheduled handler this often instead of on its own schedule.
    schedule_seconds: float | None = None
    # How long one SQS receive waits; also bounds how long a shutdown waits for the poller.
    poll_wait_seconds: int = 1
    # Failures AWS has and moto does not (devstack/faults.py); none by default.
    faults: FaultSettings = field(default_factory=FaultSettings)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def moto_url(self) -> str:
        return f"http://{self.host}:{self.moto_port}"


def _env_float(name: str) -> float | None:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else None


def parse(argv: list[str] | None = None) -> Options:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description="course-media on one machine: moto's server, REST, WebSocket, "
        "@connections, the S3-event poller, the scheduled sweep and the demo page.",
    )
    parser.add_argument(
        "--host",
        default=env.get("DEVSTACK_HOST", "127.0.0.1"),
        help="address both servers bind (DEVSTACK_HOST; default 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(env.get("DEVSTACK_PORT", "8000")),
        help="the gateway: REST, WebSocket, demo page (DEVSTACK_PORT; default 8000)",
    )
    parser.add_argument(
        "--moto-port",
        type=int,
        default=int(env.get("DEVSTACK_MOTO_PORT", "5000")),
        help="moto's server (DEVSTACK_MOTO_PORT; default 5000)",
    )
    parser.add_argument(
        "--web-dir",
        type=Path,
        default=Path(env.get("DEVSTACK_WEB_DIR", str(ROOT / "web"))),
        help="what / serves (DEVSTACK_WEB_DIR; default web/)",
    )
    parser.add_argument(
        "--no-seed",
        action="store_true",
        default=env.get("DEVSTACK_NO_SEED", "") not in ("", "0", "false"),
        help="start without the demo course (DEVSTACK_NO_SEED=1)",
    )
    parser.add_argument(
        "--log-level",
        default=env.get("DEVSTACK_LOG_LEVEL", "info"),
        help="uvicorn's and the stack's log level (DEVSTACK_LOG_LEVEL; default info)",
    )
    parser.add_argument(
        "--schedule-seconds",
        type=float,
        default=_env_float("DEVSTACK_SCHEDULE_SECONDS"),
        help="run scheduled handlers this often instead of on their own schedule "
        "(DEVSTACK_SCHEDULE_SECONDS)",
    )
    faults = parser.add_argument_group(
        "faults",
        "fail as AWS fails, on demand (all off by default; change them while the stack "
        "runs with PUT /dev/faults)",
    )
    fault_flags = {
        "connections_gone": (
            "--fault-gone-connections",
            "FRACTION",
            "fraction of connections that vanish: the first post to one answers 410 "
            "GoneException and its socket is closed",
        ),
        "connections_throttled": (
            "--fault-throttled-posts",
            "FRACTION",
            "fraction of @connections posts answered 429 LimitExceededException",
        ),
        "connections_delay_seconds": (
            "--fault-slow-posts",
            "SECONDS",
            "seconds every @connections post waits before it is answered",
        ),
        "s3_events_duplicated": (
            "--fault-duplicate-events",
            "FRACTION",
            "fraction of S3 event messages delivered twice",
        ),
        "s3_events_reordered": (
            "--fault-reorder-events",
            "FRACTION",
            "fraction of S3 event messages held back so later ones overtake them",
        ),
        "s3_events_delay_seconds": (
            "--fault-delay-events",
            "SECONDS",
            "seconds every S3 event message waits before delivery",
        ),
        "presign_expires_after_seconds": (
            "--fault-presign-expires-after",
            "SECONDS",
            "seconds after signing at which every presigned URL expires",
        ),
    }
    for name, (flag, metavar, text) in fault_flags.items():
        env_name = "DEVSTACK_" + flag.removeprefix("--").replace("-", "_").upper()
        faults.add_argument(
            flag,
            dest=name,
            type=float,
            metavar=metavar,
            default=_env_float(env_name),
            help=f"{text} ({env_name})",
        )
    faults.add_argument(
        "--fault-throttle-dynamodb",
        metavar="TABLE=FRACTION,...",
        default=env.get("DEVSTACK_FAULT_THROTTLE_DYNAMODB", ""),
        help="fraction of a table's DynamoDB calls throttled (ProvisionedThroughputExceeded"
        "Exception); '*' or a bare fraction means every table (DEVSTACK_FAULT_THROTTLE_DYNAMODB)",
    )
    faults.add_argument(
        "--fault-seed",
        type=int,
        default=int(env["DEVSTACK_FAULT_SEED"]) if env.get("DEVSTACK_FAULT_SEED") else None,
        help="seed of the fault decisions, for a repeatable run (DEVSTACK_FAULT_SEED)",
    )
    args = parser.parse_args(argv)
    chosen = {name: getattr(args, name) for name in fault_flags}
    try:
        fault_settings = FaultSettings(
            **{k: v for k, v in chosen.items() if v is not None},
            dynamodb_throttled=parse_table_fractions(args.fault_throttle_dynamodb),
            seed=args.fault_seed,
        )
    except FaultSpecError as exc:
        parser.error(str(exc))
    # A secret the app would refuse must stop the stack here, with the rule, rather
    # than be swapped for the development one: tokens signed elsewhere with it
    # would all get 401 with nothing saying why.
    secret = env.get("AUTH_JWT_SECRET", "")
    if secret and (problem := hs256_secret_problem(secret)):
        parser.error(f"{problem}; unset it to use the development secret")
    return Options(
        host=args.host,
        port=args.port,
        moto_port=args.moto_port,
        secret=secret or DEV_SECRET,
        web_dir=args.web_dir,
        seed=not args.no_seed,
        log_level=args.log_level,
        ws_idle_seconds=_env_float("DEVSTACK_WS_IDLE_SECONDS") or WS_IDLE_SECONDS,
        ws_max_seconds=_env_float("DEVSTACK_WS_MAX_SECONDS") or WS_MAX_SECONDS,
        schedule_seconds=args.schedule_seconds,
        poll_wait_seconds=int(env.get("DEVSTACK_POLL_WAIT_SECONDS", "1")),
        faults=fault_settings,
    )
