"""Generate docs/openapi.json, docs/events.schema.json and docs/asyncapi.json from
the code, the client package's TypeScript declarations from the first two, and
the route table app.py registers the routes from (chalicelib/routes/routes.json,
chalicelib/routes/routing.py).

The REST document is built from the Chalice app's routes and the `api_doc`
metadata each route carries (chalicelib/http.py); request and response schemas
come from the pydantic models, by alias, so the document shows the wire names.
The event schema comes from chalicelib.event_schema.json_schema() (server and client
messages), and the AsyncAPI 3 document of the WebSocket API from the same models
(scripts/gen_asyncapi.py; `make test` validates it with @asyncapi/parser). The
declarations in packages/client/generated/ come from both documents through
packages/client/scripts/generate-types.mjs (openapi-typescript and
json-schema-to-typescript, from the npm workspace: `make npm-deps`).

    python -m scripts.gen_docs          # write both files
    python -m scripts.gen_docs --check  # exit 1 when a file is out of date

tests/integration/test_docs_current.py runs the check, so CI fails on drift.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.routes.routing import TABLE, declared_routes, handler_of, render_table

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "docs" / "openapi.json"
ROUTE_TABLE = Path(TABLE)
EVENTS = ROOT / "docs" / "events.schema.json"
ASYNCAPI = ROOT / "docs" / "asyncapi.json"
CLIENT = ROOT / "packages" / "client"
TYPES = CLIENT / "generated"
TYPES_SCRIPT = CLIENT / "scripts" / "generate-types.mjs"

METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error, from our code and from API Gateway alike.",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "description": "Field problems on 400 ({field, issue, message}); "
                    "{requestId} on 5xx.",
                    "items": {"type": "object"},
                },
            },
        }
    },
}

# status -> (components.responses name, description). Every status an operation
# can answer is listed on it, and no other: there is no catch-all `default`.
ERRORS: dict[str, tuple[str, str]] = {
    "400": ("BadRequest", "Malformed or invalid input; `details` names each field"),
    "401": ("Unauthorized", "Missing, expired or forged token"),
    "403": ("Forbidden", "The caller's role does not allow this"),
    "404": ("NotFound", "No such resource, or not the caller's"),
    "409": ("Conflict", "The resource's state does not allow this now (the codes: docs/API.md)"),
    "413": ("TooLarge", "Request body larger than 6 MiB, or an upload past the size limit"),
    "415": ("UnsupportedMediaType", "A body that is not `application/json`"),
    "429": ("Throttled", "Too many requests; `Retry-After` says when to retry"),
    "500": ("InternalError", "Unexpected failure; `details` carries the requestId to quote"),
    "503": ("Unavailable", "A dependency failed; `Retry-After` says when to retry"),
}


def _path_parameters() -> dict[str, dict[str, Any]]:
    """Path parameters by name: ids are checked against their pattern (400
    otherwise); an operation or S3 upload id that names nothing is a 404."""
    from chalicelib.ids import RESOURCE_ID, USER_ID
    from chalicelib.routes.uppy import MAX_ID, PART_NUMBER

    resource = {"type": "string", "pattern": f"^{RESOURCE_ID}$"}
    return {
        "courseId": resource,
        "chapterId": resource,
        "mediaId": resource,
        "userId": {"type": "string", "pattern": f"^{USER_ID}$"},
        "operationId": {"type": "string", "minLength": 1, "maxLength": MAX_ID},
        "uploadId": {"type": "string", "minLength": 1, "maxLength": MAX_ID},
        "partNumber": {"type": "string", "pattern": f"^{PART_NUMBER}$"},
    }


def _statuses(doc: dict[str, Any], has_path: bool, has_input: bool) -> list[str]:
    """The statuses an operation answers: those of its kind, and its own."""
    codes = {500, *doc.get("errors", ())}
    body = doc.get("body") is not None
    if has_input or body:
        codes.add(400)
    if body:
        codes |= {413, 415}
    if doc.get("auth", True):
        # Every authenticated route reads DynamoDB: throttling and outages reach it.
        codes |= {401, 429, 503}
    if has_path:
        codes.add(404)
    return [str(code) for code in sorted(codes)]


def _route_table() -> list[tuple[str, str, Any]]:
    from app import app

    rows = []
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            rows.append((path, method, entry))
    return sorted(rows, key=lambda r: (r[0], METHOD_ORDER.index(r[1])))


def _schemas(rows: list[tuple[str, str, Any]]) -> tuple[dict[Any, Any], dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for _, _, entry in rows:
        doc = getattr(handler_of(entry.view_function), "__api_doc__", None) or {}
        modes: tuple[tuple[str, JsonSchemaMode], ...] = (
            ("body", "validation"),
            ("query", "validation"),
            ("response", "serialization"),
        )
        for key, mode in modes:
            model = doc.get(key)
            if model is not None and (model, mode) not in wanted:
                wanted.append((model, mode))
    if not wanted:
        return {}, {}
    refs, defs = models_json_schema(
        wanted, by_alias=True, ref_template="#/components/schemas/{model}"
    )
    return refs, defs.get("$defs", {})


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(path: str, method: str, entry: Any, refs: dict[Any, Any]) -> dict[str, Any]:
    fn = handler_of(entry.view_function)
    doc = getattr(fn, "__api_doc__", None) or {
        "summary": (fn.__doc__ or fn.__name__).strip().splitlines()[0],
        "auth": False,
        "status": 200,
    }
    op: dict[str, Any] = {
        "operationId": fn.__name__,
        "summary": doc["summary"],
        "tags": [fn.__module__.rsplit(".", 1)[-1]],
    }
    path_schemas = _path_parameters()
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": path_schemas[name]}
        for name in entry.view_args
    ]
    if doc.get("query") is not None:
        params += _query_parameters(doc["query"])
    if params:
        op["parameters"] = params
    if doc.get("body") is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(doc["body"], "validation")]}},
        }
    status = str(doc.get("status", 200))
    ok: dict[str, Any] = {"description": "Success"}
    if doc.get("response") is not None and status != "204":
        ok["content"] = {"application/json": {"schema": refs[(doc["response"], "serialization")]}}
    responses: dict[str, Any] = {status: ok}
    for code in _statuses(doc, bool(entry.view_args), bool(params)):
        responses[code] = {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
    op["responses"] = responses
    if not doc.get("auth", True):
        op["security"] = []
    return op


def openapi() -> dict[str, Any]:
    rows = _route_table()
    refs, defs = _schemas(rows)
    paths: dict[str, Any] = {}
    for path, method, entry in rows:
        paths.setdefault(path, {})[method.lower()] = _operation(path, method, entry, refs)
    schemas = {name: defs[name] for name in sorted(defs)}
    schemas["Error"] = ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "course-media",
            "version": "1",
            "description": "Generated by scripts/gen_docs.py from the Chalice routes and "
            "their pydantic models; do not edit. See docs/API.md.",
        },
        "servers": [
            {
                # The port is the stack's --port / DEVSTACK_PORT (tests use free ones).
                "url": "http://{host}:{port}/api",
                "description": "the local stack (make run)",
                "variables": {
                    "host": {"default": "127.0.0.1", "description": "--host / DEVSTACK_HOST"},
                    "port": {"default": "8000", "description": "--port / DEVSTACK_PORT"},
                },
            },
            {
                "url": "https://{restApiId}.execute-api.{region}.amazonaws.com/api",
                "description": "a deployed stack (the EndpointURL output)",
                "variables": {
                    "restApiId": {"default": "restApiId"},
                    "region": {"default": "us-east-1"},
                },
            },
        ],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": schemas,
            "responses": {name: _error(text) for name, text in ERRORS.values()},
        },
    }


def events_schema() -> dict[str, Any]:
    from chalicelib.event_schema import json_schema

    return json_schema()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def typescript(openapi_text: str, events_text: str) -> dict[Path, str]:
    """The client's declarations for these two documents, as the generators write them."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "openapi-typescript").exists():
        raise SystemExit(
            "the TypeScript generators need Node and the npm workspace: run `make npm-deps`"
        )
    with tempfile.TemporaryDirectory() as folder:
        sources = []
        for name, text in (("openapi.json", openapi_text), ("events.schema.json", events_text)):
            path = Path(folder) / name
            path.write_text(text)
            sources.append(str(path))
        result = subprocess.run(  # noqa: S603 (our script, our files)
            [node, str(TYPES_SCRIPT), *sources],
            cwd=CLIENT,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    if result.returncode != 0:
        raise SystemExit(f"generate-types.mjs failed:\n{result.stderr}")
    generated: dict[str, str] = json.loads(result.stdout)
    return {TYPES / name: text for name, text in sorted(generated.items())}


def asyncapi() -> dict[str, Any]:
    from scripts.gen_asyncapi import asyncapi as document

    return document()


def outputs() -> dict[Path, str]:
    openapi_text = render(openapi())
    events_text = render(events_schema())
    return {
        ROUTE_TABLE: render_table(declared_routes()),
        OPENAPI: openapi_text,
        EVENTS: events_text,
        ASYNCAPI: render(asyncapi()),
        **typescript(openapi_text, events_text),
    }


def stale() -> list[Path]:
    """The generated files whose content differs from what the code says now."""
    return [
        path for path, text in outputs().items() if not path.exists() or path.read_text() != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail when a file is out of date")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for path in out_of_date:
            print(f"{path.relative_to(ROOT)} is out of date: run `make docs`", file=sys.stderr)
        return 1 if out_of_date else 0
    for path, text in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
