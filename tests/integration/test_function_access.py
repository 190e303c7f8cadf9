"""What a handler may call is checked in every test, as IAM would check it:
tests/aws_calls.py hooks the process's boto3 session, finds the handler on the
call stack and compares each call with its function's declaration in
infra/function-access.json; tests/conftest.py fails any test whose handlers
called outside it. These tests show that check refusing, so a green suite
means the declared roles are enough, not that nothing was checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib.aws_clients import process_session
from tests.aws_calls import DECLARATION, CallRecorder, handler_codes
from tests.conftest import REGION, auth


@pytest.fixture
def narrowed() -> Iterator[CallRecorder]:
    """A second recorder for which APIHandler may call nothing on CoursesTable."""
    recorder = CallRecorder.build()
    recorder.declaration["APIHandler"] = {
        pattern: actions
        for pattern, actions in recorder.declaration["APIHandler"].items()
        if not pattern.startswith("CoursesTable")
    }
    events = process_session(REGION).events
    events.register("before-parameter-build", recorder)
    try:
        yield recorder
    finally:
        events.unregister("before-parameter-build", recorder)


def test_every_handler_runs_as_a_function_the_declaration_names() -> None:
    declared = {k for k in json.loads(DECLARATION.read_text()) if not k.startswith("_")}
    assert set(handler_codes().values()) == declared


def test_a_route_calling_a_table_its_role_does_not_grant_is_refused(
    client: Any, narrowed: CallRecorder
) -> None:
    created = client.http.post(
        "/courses", headers=auth("ada"), body=json.dumps({"title": "Refused"})
    )

    assert created.status_code == 201  # moto has no IAM: only the check can tell
    refused = narrowed.take()
    assert refused
    assert all(r.startswith("APIHandler called dynamodb:") for r in refused), refused
    assert any(
        "on CoursesTable, which infra/function-access.json does not allow" in r for r in refused
    )


def test_the_declared_role_is_enough_for_the_same_route(client: Any) -> None:
    recorder = CallRecorder.build()
    events = process_session(REGION).events
    events.register("before-parameter-build", recorder)
    try:
        created = client.http.post(
            "/courses", headers=auth("ada"), body=json.dumps({"title": "Allowed"})
        )
    finally:
        events.unregister("before-parameter-build", recorder)
    assert created.status_code == 201
    assert recorder.take() == []


def test_a_call_outside_any_handler_is_not_attributed(
    aws: dict[str, str], narrowed: CallRecorder
) -> None:
    # A test's own setup (or provisioning) acts as no function.
    boto3.client("dynamodb", region_name=REGION).scan(TableName="CoursesTable", Limit=1)
    process_session(REGION).client("dynamodb").scan(TableName="CoursesTable", Limit=1)
    assert narrowed.take() == []
