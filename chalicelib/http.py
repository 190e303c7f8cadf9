"""The HTTP edge: request parsing and the one place errors become responses.

Every error a client sees has the contract's shape
`{"error": {"code", "message", "details"}}`, whether it came from our domain,
from Chalice itself (unknown route, wrong method, wrong content type) or from a
bug (500 with the request id, never a trace).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from chalice.app import Request, Response
from pydantic import BaseModel, ValidationError

from chalicelib import correlation
from chalicelib.errors import DomainError, InvalidInput, TooLarge
from chalicelib.ids import new_id
from chalicelib.logging import logger

M = TypeVar("M", bound=BaseModel)

# API Gateway caps a REST payload at 10 MB. Past this a body is refused before
# parsing: room for the largest body a route takes, a completion naming 10,000
# parts with ETags at their 256-character limit (each character escaped, 2 bytes),
# which Uppy sends for every upload of more than about 1,300 parts.
MAX_BODY_BYTES = 6 * 1024 * 1024

JSON_HEADERS: dict[str, str | list[str]] = {"Content-Type": "application/json"}

# Chalice reports its own errors as {"Code": ..., "Message": ...}.
_CHALICE_CODES = {
    "BadRequestError": "bad_request",
    "UnauthorizedError": "unauthorized",
    "ForbiddenError": "forbidden",
    "NotFoundError": "not_found",
    "MethodNotAllowedError": "method_not_allowed",
    "ConflictError": "conflict",
    "UnprocessableEntityError": "validation_error",
    "TooManyRequestsError": "throttled",
    "RequestTimeoutError": "timeout",
    "UnsupportedMediaType": "unsupported_media_type",
    "InternalServerError": "internal_error",
}


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def error_response(err: DomainError) -> Response:
    headers: dict[str, str | list[str]] = dict(JSON_HEADERS)
    if err.retry_after is not None:
        headers["Retry-After"] = str(err.retry_after)
    return Response(
        body=error_body(err.code, err.message, err.details), status_code=err.status, headers=headers
    )


def json_response(
    body: Any, status: int = 200, headers: dict[str, str | list[str]] | None = None
) -> Response:
    """A JSON response; pydantic models are dumped in their wire form (camelCase)."""
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json", by_alias=True)
    return Response(body=body, status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"])
        details.append({"field": loc or "body", "issue": err["type"], "message": err["msg"]})
    return details


def parse_body(request: Request, model: type[M]) -> M:
    """Parse and validate a JSON body strictly: unknown fields, wrong types and
    oversized values are a 400 with field details, before anything is written."""
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise TooLarge(f"request body is larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        raw = b"{}"
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("request body is not valid JSON") from None
    except RecursionError:
        # A few KB of "[[[[..." exhausts the parser's stack before any size limit.
        raise InvalidInput("request body is nested too deeply") from None
    if not isinstance(document, dict):
        raise InvalidInput("request body must be a JSON object")
    return validate(model, document)


def validate(model: type[M], document: Any) -> M:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise InvalidInput("request is invalid", details=validation_details(exc)) from None


F = TypeVar("F", bound=Callable[..., Any])


def api_doc(
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    auth: bool = True,
    query: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
) -> Callable[[F], F]:
    """Describe a route for docs/openapi.json (scripts/gen_docs.py reads this)
    and for the malformed-input sweep test, which sends every documented body
    model garbage. Apply it under the route decorator.

    `errors` names the statuses the route's service answers beyond those every
    route of its kind can (400 for input, 401 without a token, 404 for a path
    naming nothing, 413 and 415 for a body, 429, 500 and 503): 403 where a role
    decides, 404 where the body names something, 409 where state decides."""

    def mark(fn: F) -> F:
        fn.__api_doc__ = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "response": response,
            "status": status,
            "auth": auth,
            "query": query,
            "errors": errors,
        }
        return fn

    return mark


def request_id(request: Request | None) -> str:
    """API Gateway's request id; a fresh one where there is none (the local
    stack, the test client), so a quoted id always finds its log lines."""
    found = (request.context or {}).get("requestId") if request is not None else None
    return str(found) if found else new_id("req")


def http_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Chalice http middleware: correlation id on every log line, domain errors
    and Chalice's own errors in the contract's format."""
    rid = request_id(request)
    correlation.adopt(rid)

    # Per thread, like the id (chalicelib/correlation.py), so an S3 event
    # handled meanwhile on another thread of the local stack logs no path.
    logger.thread_safe_append_keys(path=request.path, method=request.method)
    try:
        response = get_response(request)
    except DomainError as err:
        if err.status >= 500:
            logger.exception("request failed", extra={"code": err.code})
        return error_response(err)
    finally:
        logger.thread_safe_remove_keys(["path", "method"])
    return _normalise_chalice_error(response, rid)


def _normalise_chalice_error(response: Response, rid: str) -> Response:
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return response
    code = _CHALICE_CODES.get(str(body["Code"]), "error")
    message = str(body.get("Message", ""))
    if response.status_code >= 500:
        # Chalice already logged the exception (through our JSON formatter);
        # the client gets the id to quote, never the trace.
        message = "an internal error occurred"
        details: list[dict[str, Any]] = [{"requestId": rid}]
    else:
        details = []
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    return Response(
        body=error_body(code, message, details),
        status_code=response.status_code,
        headers={**headers, **JSON_HEADERS},
    )
