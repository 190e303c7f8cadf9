"""The generated documents under docs/ say what the code does today.

`make docs` rewrites them; these tests fail CI when someone changed a route, a
model or an event without regenerating.
"""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from scripts import gen_docs


def test_openapi_json_is_what_the_routes_generate() -> None:
    expected = gen_docs.render(gen_docs.openapi())
    assert gen_docs.OPENAPI.read_text() == expected, "docs/openapi.json is stale: run `make docs`"


def test_the_route_table_is_what_the_route_modules_declare() -> None:
    # app.py registers the routes from this table, not from the modules, so a
    # route added, moved or removed without `make docs` would be served wrongly.
    from chalicelib.routes.routing import declared_routes, render_table

    expected = render_table(declared_routes())
    assert gen_docs.ROUTE_TABLE.read_text() == expected, (
        "chalicelib/routes/routes.json is stale: run `make docs`"
    )


def test_events_schema_json_is_what_the_event_models_generate() -> None:
    expected = gen_docs.render(gen_docs.events_schema())
    assert gen_docs.EVENTS.read_text() == expected, (
        "docs/events.schema.json is stale: run `make docs`"
    )


def test_openapi_json_documents_every_route_of_the_app() -> None:
    from app import app

    documented = json.loads(gen_docs.OPENAPI.read_text())["paths"]
    for path, methods in app.routes.items():
        for method in methods:
            assert method.lower() in documented.get(path, {}), f"{method} {path} is undocumented"


def test_openapi_json_is_a_valid_openapi_3_1_document() -> None:
    # A pinned dev dependency (requirements-dev.txt): a missing validator
    # fails here rather than skipping the check.
    validate(json.loads(gen_docs.OPENAPI.read_text()))


def test_the_client_packages_declarations_are_what_the_documents_generate() -> None:
    # openapi-typescript and json-schema-to-typescript from the npm workspace
    # (`make npm-deps`, part of `make test`): missing, this fails, never skips.
    generated = gen_docs.typescript(
        gen_docs.render(gen_docs.openapi()), gen_docs.render(gen_docs.events_schema())
    )
    assert sorted(path.name for path in generated) == ["events.d.ts", "openapi.d.ts"]
    for path, text in generated.items():
        assert path.read_text() == text, (
            f"{path.relative_to(gen_docs.ROOT)} is stale: run `make docs`"
        )


def test_asyncapi_json_is_what_the_event_models_generate() -> None:
    expected = gen_docs.render(gen_docs.asyncapi())
    assert gen_docs.ASYNCAPI.read_text() == expected, "docs/asyncapi.json is stale: run `make docs`"


def test_every_operation_declares_what_it_answers_and_no_catch_all() -> None:
    document = json.loads(gen_docs.OPENAPI.read_text())
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            name = f"{method.upper()} {path}"
            assert "default" not in responses, f"{name} has a catch-all response"
            assert "500" in responses, name
            if operation.get("security") != []:
                assert {"401", "429", "503"} <= set(responses), name
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= set(responses), name
