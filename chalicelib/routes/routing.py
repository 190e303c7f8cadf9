"""The REST function's routes, registered before their modules are imported.

A route module (its request and response models, the domain modules it
reaches) costs its import on every cold start that loads it, and a cold REST
container serves one route first: GET /media has no use for the course,
upload and Uppy routes' forty-odd pydantic classes. So app.py registers every
route from routes.json, a table scripts/gen_docs.py writes from what the
route modules declare, and each route's view imports its module on the
route's first request (docs/PERFORMANCE.md#cold-start).

The route modules stay the one place a route is declared: each has a
`RouteBlueprint` and decorates its handlers as any Chalice blueprint's. The
table is what `chalice package`, the local stack and the tests see through
app.py; `make docs` rewrites it and CI fails when it is stale.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import import_module
from threading import Lock
from typing import Any

from chalice.app import Blueprint, Chalice, CORSConfig, Request

from chalicelib.functions import loading

# The route modules in the order app.py registers them (the order of
# `app.routes`, and of the table).
ROUTE_MODULES = (
    "chalicelib.routes.health",
    "chalicelib.routes.courses",
    "chalicelib.routes.media",
    "chalicelib.routes.playback",
    "chalicelib.routes.uploads",
    "chalicelib.routes.uppy",
    "chalicelib.routes.uppy_signer",
)

TABLE = os.path.join(os.path.dirname(__file__), "routes.json")

# Browsers call the API from the authoring app's origin; the token travels in a
# header, never a cookie, so any origin may call and no credentials are shared.
CORS = CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type"], max_age=600)
# How the table names a route's CORS: this configuration, Chalice's default
# (`cors=True`), or none.
_CORS_NAMES: dict[str, CORSConfig | bool] = {"api": CORS, "default": True, "none": False}


class RouteBlueprint(Blueprint):
    """A route module's blueprint. Its routes reach the app through the table,
    not `register_blueprint`, so the view that imports the module binds the
    blueprint to the app whose requests it then serves."""

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self._bound: Chalice | None = None

    def bind(self, app: Chalice) -> None:
        self._bound = app

    @property
    def current_request(self) -> Request:
        if self._bound is not None and self._bound.current_request is not None:
            return self._bound.current_request
        # Registered the usual way, as on the scratch app `declared_routes` reads.
        return super().current_request


@dataclass(frozen=True)
class RouteSpec:
    """One row of the table: a method of a path and the handler that serves it."""

    path: str
    method: str
    module: str
    function: str
    cors: str = "api"
    content_types: tuple[str, ...] = ("application/json",)
    # Chalice's Swagger reads a view's docstring (`chalice package`).
    doc: str | None = None


class LazyView:
    """A route's view until its first request: then the module's handler,
    imported once (with the collector paused, as every handler module is;
    chalicelib/functions/__init__.py says why)."""

    def __init__(self, app: Chalice, spec: RouteSpec) -> None:
        self._app = app
        self._spec = spec
        self._handler: Callable[..., Any] | None = None
        self._lock = Lock()
        # Chalice names a route's handler after its view; Swagger reads its docstring.
        self.__name__ = spec.function
        self.__doc__ = spec.doc

    @property
    def handler(self) -> Callable[..., Any]:
        if self._handler is None:
            # The local stack serves requests on threads; one import binds.
            with self._lock:
                if self._handler is None:
                    with loading():
                        module = import_module(self._spec.module)
                    blueprint: RouteBlueprint = module.bp
                    blueprint.bind(self._app)
                    self._handler = getattr(module, self._spec.function)
        return self._handler

    def __call__(self, **path_parameters: str) -> Any:
        return self.handler(**path_parameters)


def handler_of(view: Callable[..., Any]) -> Callable[..., Any]:
    """The function a route entry's view runs (the docs and the input sweep read
    its `api_doc`); importing its module if the view has not yet."""
    return view.handler if isinstance(view, LazyView) else view


def load_table(path: str = TABLE) -> list[RouteSpec]:
    with open(path, encoding="utf-8") as table:
        rows = json.load(table)
    return [RouteSpec(**{**row, "content_types": tuple(row["content_types"])}) for row in rows]


def register_routes(app: Chalice, routes: Iterable[RouteSpec]) -> None:
    for spec in routes:
        view = LazyView(app, spec)
        app.route(
            spec.path,
            methods=[spec.method],
            name=spec.function,
            cors=_CORS_NAMES[spec.cors],
            content_types=list(spec.content_types),
        )(view)


def _cors_name(cors: CORSConfig | None) -> str:
    if cors is None:
        return "none"
    if cors == CORS:
        return "api"
    if cors == CORSConfig():
        return "default"
    raise ValueError(f"a route's CORS is neither the API's nor Chalice's default: {cors}")


def declared_routes(modules: Sequence[str] = ROUTE_MODULES) -> list[RouteSpec]:
    """What the route modules declare: each module's blueprint registered on a
    scratch app, read back from its route entries. A blueprint that registers
    anything but routes, or a route with an authorizer or an API key, has no
    row the table could hold, and is refused."""
    specs = []
    for name in modules:
        module = import_module(name)
        scratch = Chalice(app_name="route-table")
        scratch.register_blueprint(module.bp)
        registered_more = (
            scratch.event_sources,
            scratch.websocket_handlers,
            scratch.middleware_handlers,
            scratch.pure_lambda_functions,
            scratch.builtin_auth_handlers,
        )
        if any(registered_more):
            raise ValueError(f"{name} registers more than routes; app.py must register it")
        for path, methods in scratch.routes.items():
            for method, entry in methods.items():
                if entry.authorizer is not None or entry.api_key_required:
                    raise ValueError(f"{method} {path}: the route table holds no authorizers")
                fn = entry.view_function
                specs.append(
                    RouteSpec(
                        path=path,
                        method=method,
                        module=fn.__module__,
                        function=fn.__name__,
                        cors=_cors_name(entry.cors),
                        content_types=tuple(entry.content_types),
                        doc=fn.__doc__,
                    )
                )
    return specs


def render_table(specs: Iterable[RouteSpec]) -> str:
    rows = [asdict(spec) for spec in specs]
    return json.dumps(rows, indent=2) + "\n"
