"""The REST API under /api: API Gateway's proxy integration, in front of the app.

Chalice's own LocalGateway turns a request into the Lambda proxy event, matches
the route, answers CORS preflights and runs the app; this module only moves
requests between Starlette and it. The app blocks (boto3), so every request runs
in the worker pool and the event loop stays free for WebSockets and for the
@connections calls those very handlers make.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from concurrent.futures import Executor
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import ForbiddenError, LocalChalice, LocalGateway, LocalGatewayException
from starlette.requests import Request
from starlette.responses import Response

from devstack.provision import load_template

STAGE = "api"
REST_API_ID = "devstackapi"
# API Gateway refuses REST payloads over 10 MB before the function runs.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024

Headers = list[tuple[str, str]]


def chalice_config(project_dir: Path, stage: str = "dev", app: Chalice | None = None) -> Config:
    """The project's .chalice/config.json for a stage, as `chalice local` reads it
    (without the app for the stage's environment, read before the app is imported)."""
    config_file = project_dir / ".chalice" / "config.json"
    from_disk = json.loads(config_file.read_text()) if config_file.exists() else {}
    return Config(
        chalice_stage=stage,
        user_provided_params={"chalice_app": app} if app is not None else {},
        config_from_disk=from_disk,
        default_params={"project_dir": str(project_dir), "api_gateway_stage": STAGE},
    )


def make_thread_safe(app: Chalice) -> None:
    """Give each worker thread its own `app.current_request`, as `chalice local` does:
    Chalice keeps it on the app object, which concurrent requests would share."""
    if isinstance(app, LocalChalice):
        return
    app.__class__ = type("DevstackChalice", (LocalChalice, type(app)), {})


class _ProxyGateway(LocalGateway):
    """LocalGateway plus the request context fields API Gateway also sends
    (the app's logs use requestId as the correlation id) and decoded path
    parameters, as API Gateway passes them."""

    def __init__(self, app: Chalice, config: Config, domain_name: str) -> None:
        super().__init__(app, config)
        self._domain_name = domain_name
        self.local = threading.local()

    def _generate_lambda_event(
        self, method: str, path: str, headers: dict[str, Any], body: bytes | None
    ) -> dict[str, Any]:
        event: dict[str, Any] = super()._generate_lambda_event(method, path, headers, body)
        now = time.time()
        context = event["requestContext"]
        context.update(
            requestId=getattr(self.local, "request_id", str(uuid.uuid4())),
            stage=STAGE,
            apiId=REST_API_ID,
            domainName=self._domain_name,
            protocol="HTTP/1.1",
            requestTimeEpoch=int(now * 1000),
            requestTime=time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        )
        context["identity"]["userAgent"] = event["headers"].get("user-agent", "")
        event["pathParameters"] = {
            k: unquote(v) for k, v in (event.get("pathParameters") or {}).items()
        } or None
        event["path"] = context["path"]
        event["httpMethod"] = method
        event["resource"] = context["resourcePath"]
        return event


def _response_headers(response: dict[str, Any]) -> Headers:
    multi: dict[str, list[Any]] = response.get("multiValueHeaders") or {}
    multi_names = {name.lower() for name in multi}
    headers: Headers = [
        (name, str(value))
        for name, value in (response.get("headers") or {}).items()
        if name.lower() not in multi_names
    ]
    headers += [(name, str(value)) for name, values in multi.items() for value in values]
    return headers


def _response_body(response: dict[str, Any]) -> bytes:
    body = response.get("body")
    if body is None:
        return b""
    if response.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def gateway_response(kind: str, message: str = "") -> tuple[int, Headers, bytes]:
    """What API Gateway answers itself for `kind` (MISSING_AUTHENTICATION_TOKEN
    when no route matches, REQUEST_TOO_LARGE past its payload limit, ...): the
    gateway response infra/template.json configures, in the contract's format.
    Read from the same template, so the local stack cannot drift from a
    deployment; `message` is what API Gateway puts in $context.error.messageString."""
    rest_api = load_template()["Resources"]["RestAPI"]["Properties"]
    response = rest_api["GatewayResponses"][kind]
    headers: Headers = [("Content-Type", "application/json")]
    for name, value in response.get("ResponseParameters", {}).get("Headers", {}).items():
        headers.append((name, str(value).strip("'")))
    template = response["ResponseTemplates"]["application/json"]
    body = template.replace("$context.error.messageString", json.dumps(message))
    return int(response["StatusCode"]), headers, body.encode("utf-8")


def no_route_response() -> tuple[int, Headers, bytes]:
    return gateway_response("MISSING_AUTHENTICATION_TOKEN")


class RestGateway:
    def __init__(self, app: Chalice, config: Config, executor: Executor, domain_name: str) -> None:
        make_thread_safe(app)
        self._gateway = _ProxyGateway(app, config, domain_name)
        self._executor = executor
        self._no_route = no_route_response()
        self._too_large = gateway_response("REQUEST_TOO_LARGE", "Request Too Long")

    def invoke(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, Headers, bytes]:
        """One request through the app, blocking: (status, headers, body).
        `path` is relative to the stage and carries the query string."""
        request_id = str(uuid.uuid4())
        self._gateway.local.request_id = request_id
        try:
            response = self._gateway.handle_request(method, path, headers, body)
            status = int(response["statusCode"])
            out_headers = _response_headers(response)
            out_body = _response_body(response)
        except ForbiddenError:
            # Chalice's LocalGateway raises this when no route matches (with or
            # without an Authorization header), as API Gateway does before any
            # gateway response applies.
            status, out_headers, out_body = self._no_route
            out_headers = list(out_headers)
        except LocalGatewayException as exc:
            status = exc.CODE
            out_headers = [(k, str(v)) for k, v in exc.headers.items()]
            out_body = exc.body or b""
        names = {name.lower() for name, _ in out_headers}
        if out_body and "content-type" not in names:
            out_headers.append(("Content-Type", "application/json"))
        if "x-amzn-requestid" not in names:
            out_headers.append(("x-amzn-RequestId", request_id))
        return status, out_headers, out_body

    async def handle(self, request: Request) -> Response:
        """The Starlette endpoint for /api and everything under it."""
        body = await request.body()
        if len(body) > MAX_PAYLOAD_BYTES:
            # API Gateway's own answer, before any Lambda runs (the API's
            # limit is lower: chalicelib.http.MAX_BODY_BYTES).
            status, gateway_headers, too_long = self._too_large
            return Response(too_long, status, headers=dict(gateway_headers))
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        path = raw_path.decode("latin-1")[len("/" + STAGE) :] or "/"
        query = request.scope.get("query_string", b"").decode("latin-1")
        if query:
            path = f"{path}?{query}"
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        loop = asyncio.get_running_loop()
        status, out_headers, out_body = await loop.run_in_executor(
            self._executor, self.invoke, request.method, path, headers, body or None
        )
        response = Response(out_body, status_code=status)
        response.raw_headers = [(k, v) for k, v in response.raw_headers if k != b"content-type"] + [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in out_headers
            if name.lower() != "content-length"
        ]
        return response
