"""Start, run and stop the whole local stack in one process.

Order matters: moto's server first, then the resources from infra/template.json,
then the app's environment, and only then the app import (chalicelib/logging.py
reads LOG_LEVEL when it is first imported; settings wait for the first request).
Shutdown runs in reverse on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import errno
import importlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import TYPE_CHECKING, Any

import boto3
import uvicorn
from chalice.app import Chalice
from chalice.config import Config

from devstack.aws import MotoServer
from devstack.faults import Faults
from devstack.handlers import AppHandlers, LambdaHandler, lambda_context
from devstack.options import ROOT, Options, parse
from devstack.poller import QueuePoller
from devstack.rest import RestGateway, chalice_config
from devstack.s3front import buckets_of
from devstack.scheduler import Schedule, UnsupportedSchedule, run_scheduled
from devstack.streams import StreamPoller, StreamPump
from devstack.websocket import WebSocketGateway

if TYPE_CHECKING:
    from devstack.seed import Demo

log = logging.getLogger("devstack")

REGION = "us-east-1"
DEFAULT_BUCKET = "course-media-local"
# Lambda runs each invocation in its own sandbox; here they share a pool.
WORKERS = 32
# Fake credentials: nothing here can reach a real account. The S3 front checks
# presigned URLs against exactly these.
ACCESS_KEY_ID = "devstack"
SECRET_ACCESS_KEY = "devstack"  # noqa: S105


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def app_environment(options: Options, provisioned: dict[str, str]) -> dict[str, str]:
    """The app's environment: moto for every AWS call, URLs a browser can reach."""
    env = {
        # Fake credentials and no profile: nothing here can reach a real account.
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_ENDPOINT_URL": options.moto_url,
        "MEDIA_BUCKET": DEFAULT_BUCKET,
        **provisioned,
        "S3_ENDPOINT_URL": options.moto_url,
        "WEBSOCKET_ENDPOINT": f"{options.base_url}/ws",
        "AUTH_MODE": "hs256",
        "AUTH_JWT_SECRET": options.secret,
        # The app logs at the stack's level, not at the dev stage's DEBUG
        # (.chalice/config.json, for a deployed dev stage): every request and
        # progress broadcast would be a line. `--log-level debug` asks for them.
        "LOG_LEVEL": app_log_level(options.log_level),
        # Committed events reach connections as in AWS: only through the
        # outbox's stream, which the stack's own event source feeds to the
        # delivery handler (devstack/streams.py).
        "OUTBOX_DELIVERY": "stream",
    }
    return env


def app_log_level(stack_level: str) -> str:
    """The app's Powertools level for uvicorn's: `trace` has no Powertools peer."""
    level = stack_level.upper()
    return "DEBUG" if level == "TRACE" else level


class Stack:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.faults = Faults(options.faults)
        self.stop = threading.Event()
        self.executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="lambda")
        self.moto: MotoServer | None = None
        self.server: uvicorn.Server | None = None
        self.pollers: list[QueuePoller] = []
        self.streams: list[StreamPoller] = []
        self.schedules: list[Schedule] = []
        self.handlers: AppHandlers | None = None
        self.demo: Demo | None = None
        self.env: dict[str, str] = {}
        self._websockets: WebSocketGateway | None = None
        self._signalled = False

    # ---- lifecycle -----------------------------------------------------------
    def run(self) -> int:
        o = self.options
        for name, port in (("gateway", o.port), ("moto", o.moto_port)):
            if not port_free(o.host, port):
                print(
                    f"devstack: {o.host}:{port} ({name}) is in use; pick another with "
                    f"--{'port' if name == 'gateway' else 'moto-port'}",
                    file=sys.stderr,
                )
                return 1
        self._install_signal_handlers()
        try:
            self._start_aws()
            if self._signalled:
                return 0
            self._serve()
        finally:
            self._shutdown()
        return 0

    def _install_signal_handlers(self) -> None:
        # uvicorn swaps in its own while serving and re-raises the signal after a
        # graceful exit: ours then only notes it, so the cleanup below still runs.
        def note(signum: int, frame: FrameType | None) -> None:
            self._signalled = True
            if self.server is not None:
                self.server.should_exit = True

        signal.signal(signal.SIGINT, note)
        signal.signal(signal.SIGTERM, note)

    def _start_aws(self) -> None:
        o = self.options
        from devstack.provision import load_template

        self.moto = MotoServer(
            o.host,
            o.moto_port,
            faults=self.faults,
            front={
                "credentials": {ACCESS_KEY_ID: SECRET_ACCESS_KEY},
                "region": REGION,
                "buckets": buckets_of(load_template()),
            },
        )
        self.moto.start()
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(app_environment(o, {}))
        from devstack.provision import provision

        session = boto3.session.Session(region_name=REGION)
        self.env = app_environment(o, provision(session, o.moto_url))
        os.environ.update(self.env)

    def _import_app(self) -> tuple[Chalice, Config]:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        # The stage's variables first, as `chalice local` applies them; ours win.
        stage_env = chalice_config(ROOT).environment_variables
        os.environ.update({**stage_env, **self.env})
        app: Chalice = importlib.import_module("app").app
        return app, chalice_config(ROOT, app=app)

    def _serve(self) -> None:
        o = self.options
        app, config = self._import_app()
        # Imported only now, after the app: they import chalicelib, whose logger
        # reads LOG_LEVEL when first imported (chalicelib/logging.py).
        from devstack import gateway
        from devstack.provision import load_template
        from devstack.seed import seed

        self.handlers = AppHandlers(app, load_template())
        domain = f"{o.host}:{o.port}"
        rest = RestGateway(app, config, self.executor, domain)
        if o.seed:
            self.demo = seed(rest.invoke, o.secret)

        async def invoke(handler: LambdaHandler, event: dict[str, Any], name: str) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.executor, handler, event, lambda_context(name))

        websockets = WebSocketGateway(
            self.handlers, invoke, domain, o.ws_idle_seconds, o.ws_max_seconds, self.faults
        )
        self._websockets = websockets

        asgi = gateway.build(
            rest=rest,
            websockets=websockets,
            secret=o.secret,
            web_dir=o.web_dir,
            demo=lambda: self.demo,
            status=self.status,
            run_schedule=self.run_schedule,
            faults=self.faults,
        )
        uv_config = uvicorn.Config(
            asgi,
            host=o.host,
            port=o.port,
            log_level=o.log_level,
            lifespan="off",
            ws_max_size=128 * 1024,
            timeout_graceful_shutdown=3,
        )
        self.server = _Server(uv_config, on_started=self._started)
        if self._signalled:
            return
        self.server.run()

    def _started(self) -> None:
        self._start_event_sources()
        print(self.banner(), flush=True)

    def _start_event_sources(self) -> None:
        assert self.handlers is not None
        sqs = boto3.session.Session(region_name=REGION).client(
            "sqs", endpoint_url=self.options.moto_url
        )
        for queue in self.handlers.queues():
            for _ in range(queue.pollers):
                poller = QueuePoller(
                    queue, sqs, REGION, self.stop, self.options.poll_wait_seconds, self.faults
                )
                poller.start()
                self.pollers.append(poller)
        session = boto3.session.Session(region_name=REGION)
        for handler in self.handlers.streams():
            url = self.options.moto_url
            pump = StreamPump(
                handler,
                session.client("dynamodb", endpoint_url=url),
                session.client("dynamodbstreams", endpoint_url=url),
                sqs,
                REGION,
            )
            stream = StreamPoller(pump, self.stop)
            stream.start()
            self.streams.append(stream)
        for scheduled in self.handlers.schedules():
            try:
                schedule = Schedule(scheduled, REGION, self.stop, self.options.schedule_seconds)
            except UnsupportedSchedule as exc:
                log.warning("not scheduling %s: %s", scheduled.name, exc)
                continue
            schedule.start()
            self.schedules.append(schedule)

    def _shutdown(self) -> None:
        self.stop.set()
        for thread in [*self.pollers, *self.streams, *self.schedules]:
            thread.join(timeout=self.options.poll_wait_seconds + 5)
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.moto is not None:
            self.moto.stop()
        print("devstack: stopped", flush=True)

    async def run_schedule(self, name: str) -> bool:
        """Run a scheduled handler now (POST /dev/schedules/{name}); False if there is none.
        Its failure surfaces as a 500, so a developer sees the trace in the log."""
        assert self.handlers is not None
        for scheduled in self.handlers.schedules():
            if scheduled.name == name:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self.executor, run_scheduled, scheduled, REGION)
                return True
        return False

    # ---- what it serves ------------------------------------------------------
    def status(self) -> dict[str, Any]:
        o = self.options
        handlers = self.handlers.summary() if self.handlers else {}
        return {
            "urls": {
                "web": f"{o.base_url}/",
                "api": f"{o.base_url}/api",
                "websocket": o.ws_url,
                "connections": f"{o.base_url}/ws/@connections",
                "aws": o.moto_url,
            },
            "handlers": handlers,
            "pollers": [
                {"queue": p.handler.queue_name, "url": p.queue_url, "delivered": p.delivered}
                for p in self.pollers
            ],
            "streams": [
                {
                    "table": p.pump.handler.table_name,
                    "handler": p.pump.handler.name,
                    "delivered": p.pump.delivered,
                    "givenUp": p.pump.given_up,
                }
                for p in self.streams
            ],
            "schedules": [
                {"handler": s.handler.name, "runs": s.describe()} for s in self.schedules
            ],
            "connections": len(self._websockets.connections) if self._websockets else 0,
            "faults": self.faults.describe(),
            "env": self.env,
        }

    def banner(self) -> str:
        o = self.options
        h: dict[str, Any] = (
            self.handlers.summary() if self.handlers else {"websocket": [], "routes": 0}
        )
        ws = ", ".join(h["websocket"]) or "none"
        lines = [
            "",
            "course-media local stack",
            f"  demo page     {o.base_url}/",
            f"  REST API      {o.base_url}/api   ({h['routes']} routes; {o.base_url}/api/health)",
            f"  WebSocket     {o.ws_url}?token=TOKEN   (handlers: {ws})",
            f"  @connections  {o.base_url}/ws/@connections/{{connectionId}}",
            f"  dev token     {o.base_url}/dev/token?user=NAME",
            f"  AWS (moto)    {o.moto_url}",
        ]
        for p in {p.handler.queue_name: p for p in self.pollers}.values():
            lines.append(f"  queue         {p.handler.queue_name} -> {p.handler.name}")
        for st in self.streams:
            source = st.pump.handler
            lines.append(f"  stream        table {source.table_name} -> {source.name}")
        for s in self.schedules:
            lines.append(f"  schedule      {s.handler.name}: {s.describe()}")
        if self.faults.settings.active:
            active = {
                k: v
                for k, v in self.faults.describe()["settings"].items()
                if v not in (0, {}, None)
            }
            lines.append(f"  faults        {active}  (GET/PUT {o.base_url}/dev/faults)")
        if self.demo is not None:
            d = self.demo
            lines.append(f'  demo course   {d.course_id or "(not created)"}  "{d.course_title}"')
            if d.chapter_ids:
                lines.append(f"  chapters      {', '.join(d.chapter_ids)}")
            for user, role in d.members.items():
                lines.append(f"    {user:<6} {role:<7} {d.token(user)}")
            if d.note:
                lines.append(f"  note          {d.note}")
        if not o.host.startswith("127.") and o.host not in ("localhost", "::1"):
            lines.append(
                f"  WARNING       bound to {o.host}: anyone who reaches it can mint tokens "
                "at /dev/token and read the fake AWS"
            )
        lines += ["Press Ctrl-C to stop.", ""]
        return "\n".join(lines)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_started()


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    logging.basicConfig(
        level=getattr(logging, options.log_level.upper(), logging.INFO),
        format="%(levelname)s %(name)s: %(message)s",
    )
    # moto and botocore narrate every request at INFO; the stack's own lines matter here.
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return Stack(options).run()
