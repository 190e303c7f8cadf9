"""The HTTP edge: one error format for every failure, whoever raised it.

A small Chalice app wired exactly like app.py (same middleware, same logger
set-up) raises each kind of error; API Gateway's own errors are checked in the
gateway responses infra/template.json gives it.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from chalice.app import Chalice
from chalice.test import Client
from pydantic import Field

from chalicelib.errors import Conflict, DomainError, Forbidden, NotFound, Throttled, Unavailable
from chalicelib.http import MAX_BODY_BYTES, http_middleware, json_response, parse_body
from chalicelib.logging import SERVICE, share_json_logs
from chalicelib.models import WireModel

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.json"
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


class Thing(WireModel):
    display_name: str = Field(max_length=5, strict=True)
    count: int = Field(ge=0, strict=True)


ERRORS: dict[str, DomainError] = {
    "forbidden": Forbidden("owners only"),
    "not_found": NotFound("no such course", details=[{"courseId": "c_1"}]),
    "conflict": Conflict("version mismatch", code="version_conflict"),
    "throttled": Throttled("slow down"),
    "unavailable": Unavailable("try again"),
}

edge = Chalice(app_name=SERVICE, configure_logs=False)
share_json_logs(edge.log)
edge.register_middleware(http_middleware, "http")


@edge.route("/errors/{kind}", methods=["GET"])
def raise_domain_error(kind: str) -> None:
    raise ERRORS[kind]


@edge.route("/boom", methods=["GET"])
def boom() -> None:
    raise RuntimeError("db password is hunter2")


@edge.route("/things", methods=["POST"])
def create_thing() -> Any:
    assert edge.current_request is not None
    return json_response(parse_body(edge.current_request, Thing), 201)


@edge.route("/chalice-json", methods=["POST"])
def chalice_json() -> Any:
    assert edge.current_request is not None
    return edge.current_request.json_body


@pytest.fixture
def http() -> Iterator[Any]:
    with Client(edge) as client:
        yield client.http


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the app's logger writes during the test."""
    buffer = io.StringIO()
    handlers = [h for h in edge.log.handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(buffer) for h in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)


def error_of(body: str | bytes) -> dict[str, Any]:
    document = json.loads(body)
    assert list(document) == ["error"]
    error = document["error"]
    assert list(error) == ["code", "message", "details"]
    assert SNAKE.match(error["code"])
    assert isinstance(error["details"], list)
    return dict(error)


def post(http: Any, path: str, body: str | bytes, content_type: str = "application/json") -> Any:
    return http.post(path, headers={"Content-Type": content_type}, body=body)


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("forbidden", 403, "forbidden"),
        ("not_found", 404, "not_found"),
        ("conflict", 409, "version_conflict"),
        ("throttled", 429, "throttled"),
        ("unavailable", 503, "unavailable"),
    ],
)
def test_a_domain_error_becomes_its_status_and_code(
    http: Any, kind: str, status: int, code: str
) -> None:
    response = http.get(f"/errors/{kind}")
    assert response.status_code == status
    assert error_of(response.body)["code"] == code


def test_a_domain_errors_details_reach_the_client(http: Any) -> None:
    error = error_of(http.get("/errors/not_found").body)
    assert error["message"] == "no such course"
    assert error["details"] == [{"courseId": "c_1"}]


def test_a_throttled_client_is_told_when_to_retry(http: Any) -> None:
    assert http.get("/errors/throttled").headers["Retry-After"] == "1"


def test_a_valid_body_comes_back_in_wire_form(http: Any) -> None:
    response = post(http, "/things", '{"displayName": "ab", "count": 2}')
    assert response.status_code == 201
    assert json.loads(response.body) == {"displayName": "ab", "count": 2}


@pytest.mark.parametrize(
    ("body", "field", "issue"),
    [
        ('{"displayName": 5, "count": 2}', "displayName", "string_type"),
        ('{"displayName": "ab", "count": "2"}', "count", "int_type"),
        ('{"displayName": "abcdef", "count": 2}', "displayName", "string_too_long"),
        ('{"displayName": "ab", "count": -1}', "count", "greater_than_equal"),
        ('{"displayName": "ab", "count": 2, "extra": 1}', "extra", "extra_forbidden"),
        ('{"count": 2}', "displayName", "missing"),
    ],
)
def test_an_invalid_body_is_400_naming_the_field_by_its_wire_name(
    http: Any, body: str, field: str, issue: str
) -> None:
    response = post(http, "/things", body)
    assert response.status_code == 400
    error = error_of(response.body)
    assert error["code"] == "validation_error"
    assert [(d["field"], d["issue"]) for d in error["details"]] == [(field, issue)]


@pytest.mark.parametrize("body", ['{"displayName": ', "[1, 2]", '"text"', "null"])
def test_a_body_that_is_not_a_json_object_is_400(http: Any, body: str) -> None:
    response = post(http, "/things", body)
    assert response.status_code == 400
    assert error_of(response.body)["code"] == "validation_error"


def test_a_body_over_the_limit_is_413_before_parsing(http: Any) -> None:
    response = post(http, "/things", b"[" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert error_of(response.body)["code"] == "too_large"


def test_chalices_own_bad_json_error_is_in_the_contract_format(http: Any) -> None:
    response = post(http, "/chalice-json", "{bad")
    assert response.status_code == 400
    assert error_of(response.body)["code"] == "bad_request"


def test_a_wrong_method_is_405_in_the_contract_format(http: Any) -> None:
    response = post(http, "/boom", "{}")
    assert response.status_code == 405
    assert error_of(response.body)["code"] == "method_not_allowed"


def test_a_wrong_content_type_is_415_in_the_contract_format(http: Any) -> None:
    response = post(http, "/things", "x", content_type="text/plain")
    assert response.status_code == 415
    assert error_of(response.body)["code"] == "unsupported_media_type"


def _api_gateway_event(path: str, request_id: str) -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": "GET",
            "requestId": request_id,
            "path": f"/api{path}",
            "stage": "api",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def test_an_unexpected_exception_is_a_500_with_the_request_id_and_no_trace() -> None:
    response = edge(_api_gateway_event("/boom", "req-42"), None)
    assert response["statusCode"] == 500
    error = error_of(response["body"])
    assert error == {
        "code": "internal_error",
        "message": "an internal error occurred",
        "details": [{"requestId": "req-42"}],
    }
    assert "hunter2" not in response["body"]
    assert "Traceback" not in response["body"]


def test_an_unexpected_exception_is_logged_as_json_with_the_correlation_id(
    logged: io.StringIO,
) -> None:
    edge(_api_gateway_event("/boom", "req-43"), None)
    lines = [json.loads(line) for line in logged.getvalue().splitlines()]
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["correlation_id"] == "req-43"
    assert errors[0]["service"] == SERVICE
    assert errors[0]["exception_name"] == "RuntimeError"


def test_without_an_api_gateway_request_id_each_request_gets_its_own(http: Any) -> None:
    first = error_of(http.get("/boom").body)["details"][0]["requestId"]
    second = error_of(http.get("/boom").body)["details"][0]["requestId"]
    assert first.startswith("req_")
    assert first != second


def test_the_real_apps_logger_writes_powertools_json() -> None:
    from app import app

    assert app.log.handlers
    assert all(isinstance(h.formatter, LambdaPowertoolsFormatter) for h in app.log.handlers)


def _gateway_responses() -> dict[str, Any]:
    template = json.loads(TEMPLATE.read_text())
    responses: dict[str, Any] = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    return responses


@pytest.mark.parametrize("kind", sorted(_gateway_responses()))
def test_api_gateways_own_errors_use_the_contract_format(kind: str) -> None:
    spec = _gateway_responses()[kind]
    rendered = (
        spec["ResponseTemplates"]["application/json"]
        .replace("$context.error.messageString", json.dumps("Missing Authentication Token"))
        .replace("$context.requestId", "req-7")
    )
    error = error_of(rendered)
    assert error["message"]
    if kind in ("DEFAULT_5XX", "INTEGRATION_TIMEOUT"):
        assert error["details"] == [{"requestId": "req-7"}]


def test_an_unknown_route_on_api_gateway_is_a_404_not_a_403() -> None:
    spec = _gateway_responses()["MISSING_AUTHENTICATION_TOKEN"]
    assert spec["StatusCode"] == "404"
    assert '"not_found"' in spec["ResponseTemplates"]["application/json"]
