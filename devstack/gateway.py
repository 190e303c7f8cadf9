"""The one gateway process: what API Gateway does in AWS, on one port.

- `/api/...`: the REST API (API Gateway REST, stage `api`)
- `/ws`: the WebSocket API (stage `ws`)
- `/ws/@connections/{id}`: its management API (also at `/@connections/{id}`)
- `/dev/token?user=NAME`: a development token (HS256)
- `/dev/demo`, `/dev/status`, `/dev/connections`: the demo course, what runs, open sockets
- `POST /dev/schedules/{name}`: run a scheduled handler now
- `GET`/`PUT /dev/faults`: the failures injected on demand (devstack/faults.py)
- `/`: the demo page and the browser client (web/); `/node_modules/` when installed
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from chalicelib.auth import mint_token
from chalicelib.http import error_body
from chalicelib.ids import is_user_id
from devstack.faults import Faults, FaultSpecError
from devstack.rest import RestGateway
from devstack.seed import Demo
from devstack.websocket import WebSocketGateway

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
DEV_TOKEN_TTL_SECONDS = 3600
MAX_DEV_TOKEN_TTL_SECONDS = 7 * 24 * 3600


class AnyPath(Convertor[str]):
    """A path of any characters. Starlette's `path` is `.*`, which stops at a
    newline, so `/api/courses/a%0Ab` matched no route and got Starlette's
    plain-text 404; API Gateway hands such a path to the API, whose id check
    answers 400 in the contract's format."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPath())


class DevStaticFiles(StaticFiles):
    """A directory as it is on disk: no caching, so an edit shows on the next reload,
    and a directory created after the start (npm install) is served when it appears."""

    def __init__(self, directory: Path, *, follow_symlink: bool = False) -> None:
        super().__init__(directory=directory, check_dir=False, follow_symlink=follow_symlink)

    async def check_config(self) -> None:
        """A missing directory answers 404 instead of failing every request."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if path.endswith(".js"):
            # ES modules load only with a JavaScript MIME type, whatever /etc/mime.types says.
            response.headers["Content-Type"] = "text/javascript; charset=utf-8"
        return response


def _placeholder(page: Path, status: dict[str, Any]) -> str:
    """The root page when the web directory (`--web-dir`) has no demo page."""
    return (
        "<!doctype html><meta charset=utf-8><title>course-media local stack</title>"
        f"<h1>course-media local stack</h1><p>There is no demo page at {html.escape(str(page))}. "
        "The API answers at <a href=/api/health>/api/health</a>; see "
        "<a href=/dev/demo>/dev/demo</a> and <a href=/dev/status>/dev/status</a>.</p>"
        f"<pre>{html.escape(str(status))}</pre>"
    )


def _dev_token(secret: str) -> Callable[[Request], Any]:
    async def dev_token(request: Request) -> Response:
        user = request.query_params.get("user", "")
        ttl_text = request.query_params.get("ttl", str(DEV_TOKEN_TTL_SECONDS))
        if not is_user_id(user):
            return JSONResponse(
                error_body(
                    "validation_error",
                    "user must be 1-128 characters of letters, digits and ._@+-",
                    [{"field": "user", "issue": "pattern"}],
                ),
                status_code=400,
            )
        if not ttl_text.isdigit() or not 1 <= int(ttl_text) <= MAX_DEV_TOKEN_TTL_SECONDS:
            return JSONResponse(
                error_body(
                    "validation_error",
                    f"ttl must be 1-{MAX_DEV_TOKEN_TTL_SECONDS} seconds",
                    [{"field": "ttl", "issue": "range"}],
                ),
                status_code=400,
            )
        ttl = int(ttl_text)
        return JSONResponse(
            {"userId": user, "token": mint_token(secret, user, ttl), "expiresIn": ttl},
            headers={"Cache-Control": "no-store"},
        )

    return dev_token


def build(
    *,
    rest: RestGateway,
    websockets: WebSocketGateway,
    secret: str,
    web_dir: Path,
    demo: Callable[[], Demo | None],
    status: Callable[[], dict[str, Any]],
    run_schedule: Callable[[str], Awaitable[bool]],
    faults: Faults | None = None,
    lifespan: Any = None,
) -> Starlette:
    injector = faults or Faults()

    async def faults_endpoint(request: Request) -> Response:
        """GET: the settings and what was injected so far. PUT: replace the
        settings with the body's (what it leaves out is off) and reset the counts."""
        if request.method == "PUT":
            try:
                changes = await request.json()
            except ValueError:
                changes = None
            if not isinstance(changes, dict):
                return JSONResponse(error_body("validation_error", "send a JSON object"), 400)
            try:
                injector.configure(changes, reset=True)
            except (FaultSpecError, TypeError) as exc:
                return JSONResponse(error_body("validation_error", str(exc)), 400)
        return JSONResponse(injector.describe(), headers={"Cache-Control": "no-store"})

    async def schedule_endpoint(request: Request) -> Response:
        name = request.path_params["name"]
        if not await run_schedule(name):
            return JSONResponse(error_body("not_found", f"no scheduled handler {name!r}"), 404)
        return JSONResponse({"handler": name, "ran": True})

    async def demo_endpoint(request: Request) -> Response:
        current = demo()
        if current is None:
            return JSONResponse(error_body("not_found", "the stack runs without demo data"), 404)
        return JSONResponse(current.describe(), headers={"Cache-Control": "no-store"})

    async def status_endpoint(request: Request) -> Response:
        return JSONResponse(status())

    async def connections_endpoint(request: Request) -> Response:
        return JSONResponse({"connections": websockets.describe()})

    async def index(request: Request) -> Response:
        page = web_dir / "index.html"
        if page.is_file():
            return FileResponse(page, headers={"Cache-Control": "no-store"})
        return HTMLResponse(_placeholder(page, status()))

    connections = [
        Route(path, websockets.post_to_connection, methods=["POST"])
        for path in ("/ws/@connections/{connection_id}", "/@connections/{connection_id}")
    ]
    connections += [
        Route(path, websockets.get_connection, methods=["GET"])
        for path in ("/ws/@connections/{connection_id}", "/@connections/{connection_id}")
    ]
    connections += [
        Route(path, websockets.delete_connection, methods=["DELETE"])
        for path in ("/ws/@connections/{connection_id}", "/@connections/{connection_id}")
    ]
    routes: list[BaseRoute] = [
        Route("/api", rest.handle, methods=METHODS),
        Route("/api/{path:anypath}", rest.handle, methods=METHODS),
        WebSocketRoute("/ws", websockets.endpoint),
        *connections,
        Route("/dev/token", _dev_token(secret), methods=["GET"]),
        Route("/dev/demo", demo_endpoint, methods=["GET"]),
        Route("/dev/status", status_endpoint, methods=["GET"]),
        Route("/dev/connections", connections_endpoint, methods=["GET"]),
        Route("/dev/schedules/{name}", schedule_endpoint, methods=["POST"]),
        Route("/dev/faults", faults_endpoint, methods=["GET", "PUT"]),
        Route("/", index, methods=["GET", "HEAD"]),
    ]
    routes += [
        # npm packages the page imports as ES modules (Uppy, and @course-media/client,
        # which npm links into node_modules/ from the workspace packages/client/).
        Mount(
            "/node_modules",
            DevStaticFiles(web_dir.parent / "node_modules", follow_symlink=True),
        ),
        Mount("/", DevStaticFiles(web_dir)),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
