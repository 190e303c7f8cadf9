"""Each function that serves no REST route runs from its own module
(chalicelib/functions): the Handler `chalice package` writes for it names that
module, Lambda imports it alone, and it answers with the very handler app.py
registers, so the tests and the local stack exercise what Lambda runs."""

from __future__ import annotations

import gc
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import app as application
import chalicelib.routes as routes_package
from chalicelib.routes.routing import ROUTE_MODULES as REGISTERED_ROUTE_MODULES
from chalicelib.routes.routing import RouteBlueprint, handler_of

ROOT = Path(__file__).resolve().parents[2]
CHALICE = application.app
HANDLERS = {
    **{config.name: config.handler_string for config in CHALICE.websocket_handlers.values()},
    **{source.name: source.handler_string for source in CHALICE.event_sources},
}


def test_every_function_but_the_rest_api_has_an_entry_point_of_its_own() -> None:
    assert sorted(HANDLERS) == [
        "expire_stale_uploads",
        "fanout_worker",
        "on_ws_connect",
        "on_ws_disconnect",
        "on_ws_message",
        "outbox_delivery",
        "process_media",
        "s3_events",
    ]
    assert {h.rpartition(".")[0] for h in HANDLERS.values()} == {
        "chalicelib.functions.websocket",
        "chalicelib.functions.uploads",
        "chalicelib.functions.outbox",
        "chalicelib.functions.processing",
        "chalicelib.functions.fanout",
    }


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_the_deployed_handler_is_the_one_app_registers(name: str) -> None:
    module, _, attribute = HANDLERS[name].rpartition(".")
    assert getattr(importlib.import_module(module), attribute) is CHALICE.handler_map[name]


def loaded_by(module: str) -> set[str]:
    """The modules a fresh interpreter holds once it has imported `module`, as
    Lambda imports a function's handler module."""
    script = f"import sys, {module}\nprint('\\n'.join(sorted(sys.modules)))\n"
    return set(
        subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    )


@pytest.mark.parametrize("module", sorted({h.rpartition(".")[0] for h in HANDLERS.values()}))
def test_an_entry_point_loads_without_app_py_or_the_rest_routes(module: str) -> None:
    loaded = loaded_by(module)
    assert [m for m in loaded if m == "app" or m.startswith("chalicelib.routes")] == []
    # PyAV is in the processing function's layer only, and loads on its first probe.
    assert "av" not in loaded


def test_the_rest_function_loads_no_publishing_until_a_request_publishes() -> None:
    """A cold REST container's first GET defines no event class and builds no
    broadcast: the composition root imports them where it builds them."""
    loaded = loaded_by("app")
    publishing = {
        "chalicelib.events",
        "chalicelib.client_messages",
        "chalicelib.broadcast",
        "chalicelib.shards",
        "chalicelib.realtime",
        "chalicelib.uploads.lifecycle",
    }
    assert loaded & publishing == set()
    assert {"chalicelib.services", "chalicelib.routes.routing"} <= loaded


def _route_modules() -> set[str]:
    """Every module of chalicelib/routes that declares routes (has a RouteBlueprint)."""
    found = set()
    for info in pkgutil.iter_modules(routes_package.__path__, "chalicelib.routes."):
        module = importlib.import_module(info.name)
        if isinstance(getattr(module, "bp", None), RouteBlueprint):
            found.add(info.name)
    return found


ROUTE_MODULES = _route_modules()

GET_HEALTH = """
import json, sys
import app
event = {
    "resource": "/health", "path": "/health", "httpMethod": "GET",
    "headers": {"host": "127.0.0.1"}, "multiValueHeaders": {"host": ["127.0.0.1"]},
    "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
    "requestContext": {"resourcePath": "/health", "httpMethod": "GET", "path": "/api/health",
                       "stage": "api", "requestId": "first", "identity": {"sourceIp": "127.0.0.1"}},
}
before = sorted(sys.modules)
answer = app.app(event, None)
print(json.dumps({"before": before, "after": sorted(sys.modules), "answer": answer}))
"""


def test_a_cold_rest_container_imports_a_route_module_on_its_routes_first_request() -> None:
    """The REST function registers every route from the table, and a route's
    module (its models, the domain modules it reaches) loads with the route's
    first request: a cold GET /health loads no course, media or upload route."""
    ran = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", GET_HEALTH], cwd=ROOT, capture_output=True, text=True, check=True
    )
    seen = json.loads(ran.stdout)
    assert seen["answer"]["statusCode"] == 200
    assert json.loads(seen["answer"]["body"]) == {"ok": True}
    assert set(seen["before"]) & ROUTE_MODULES == set()
    assert set(seen["after"]) & ROUTE_MODULES == {"chalicelib.routes.health"}
    assert "chalicelib.routes.upload_fields" not in seen["after"]


def test_every_route_module_is_in_the_table_app_py_registers() -> None:
    # A route module missing from routing.ROUTE_MODULES would be left out of
    # the table, and its routes out of the app, with nothing else failing.
    assert set(REGISTERED_ROUTE_MODULES) == ROUTE_MODULES
    served = {
        handler_of(entry.view_function).__module__
        for methods in CHALICE.routes.values()
        for entry in methods.values()
    }
    assert served == ROUTE_MODULES


@pytest.mark.parametrize(
    "module", ["app", *sorted({h.rpartition(".")[0] for h in HANDLERS.values()})]
)
def test_the_cyclic_collector_is_back_on_once_a_handler_module_is_loaded(module: str) -> None:
    """Imports run with the collector off (chalicelib/functions: loading); a
    function whose collector stayed off would hold every cycle it ever made."""
    script = f"import gc, {module}\nprint(gc.isenabled(), gc.get_freeze_count() > 1000)\n"
    answer = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert answer == ["True", "True"]


def test_the_collector_is_back_on_even_when_an_import_fails() -> None:
    from chalicelib.functions import loading

    with pytest.raises(ImportError), loading():
        import chalicelib.no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert gc.isenabled()
