"""docs/asyncapi.json is a valid AsyncAPI 3 document, as AsyncAPI's own parser
(@asyncapi/parser, from the npm workspace) judges it, and describes every
message the WebSocket carries, both ways."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from chalicelib.events import EVENTS_BY_TYPE
from scripts import gen_docs
from tests.e2e.conftest import ROOT
from tests.fakes import FakeConnectionsApi, FakeWebsocketGateway
from tests.integration.test_websocket_schema import conversation

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("node")]

VALIDATE = ROOT / "scripts" / "validate-asyncapi.mjs"
CLIENT_MESSAGES = {"SubscribeMessage", "UnsubscribeMessage", "PingMessage", "AuthenticateMessage"}


def parse(path: Path) -> tuple[int, dict[str, Any]]:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed to run the AsyncAPI parser"
    assert (ROOT / "node_modules" / "@asyncapi" / "parser").exists(), (
        "@asyncapi/parser is not installed: run `make npm-deps`"
    )
    result = subprocess.run(  # noqa: S603 (our script, fixed arguments)
        [node, str(VALIDATE), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


def test_the_asyncapi_parser_finds_no_error_nor_warning() -> None:
    code, report = parse(gen_docs.ASYNCAPI)
    assert (code, report["errors"], report["warnings"]) == (0, [], [])
    assert report["version"] == "3.0.0"


def test_it_describes_every_server_message_every_client_message_and_both_channels() -> None:
    _, report = parse(gen_docs.ASYNCAPI)
    server = {cls.__name__ for cls in EVENTS_BY_TYPE.values()}
    assert set(report["messages"]) == server | CLIENT_MESSAGES
    assert set(report["channels"]) == {"user", "course", "connection"}
    document = json.loads(gen_docs.ASYNCAPI.read_text())
    assert document["channels"]["course"]["address"] == "course:{courseId}"
    # Each client message is received with its reply.
    replies = {
        op["messages"][0]["$ref"].rsplit("/", 1)[-1]: op["reply"]["messages"][0]["$ref"]
        for op in document["operations"].values()
        if op["action"] == "receive"
    }
    assert replies["SubscribeMessage"].endswith("/Subscribed")
    assert set(replies) == CLIENT_MESSAGES


def test_every_payload_is_the_event_schemas_own_definition() -> None:
    document = json.loads(gen_docs.ASYNCAPI.read_text())
    events = json.loads(gen_docs.EVENTS.read_text())["$defs"]
    for name, message in document["components"]["messages"].items():
        assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
        envelope = document["components"]["schemas"][name]
        assert envelope["required"] == events[name]["required"]


def test_the_parser_refuses_a_document_that_references_a_message_it_lacks(
    tmp_path: Path,
) -> None:
    # The check is real: the same document with one message removed fails.
    document = json.loads(gen_docs.ASYNCAPI.read_text())
    del document["components"]["messages"]["MediaLinked"]
    broken = tmp_path / "asyncapi.json"
    broken.write_text(json.dumps(document))
    code, report = parse(broken)
    assert code == 1
    assert any("MediaLinked" in str(error) for error in report["errors"]), report["errors"]


def test_the_captured_conversation_validates_against_the_documents_payloads(
    ws: FakeWebsocketGateway, ws_api: FakeConnectionsApi
) -> None:
    # The conversation of test_websocket_schema.py (every message type, both
    # ways), each message against its AsyncAPI message's payload; one without
    # operationId against none.
    document = json.loads(gen_docs.ASYNCAPI.read_text())
    names = {cls.model_fields["type"].default: cls.__name__ for cls in EVENTS_BY_TYPE.values()}
    actions = {"subscribe", "unsubscribe", "ping", "authenticate"}

    def payload(name: str) -> Draft202012Validator:
        schema = {**document["components"]["messages"][name]["payload"], **document}
        return Draft202012Validator(schema)

    sent, received = conversation(ws, ws_api)
    assert {m["type"] for m in received} == set(names)
    for message in received:
        payload(names[message["type"]]).validate(message)
    for message in sent:
        assert message["action"] in actions
        payload(f"{message['action'].title()}Message").validate(message)
    without = {k: v for k, v in received[-1].items() if k != "operationId"}
    with pytest.raises(ValidationError):
        payload(names[without["type"]]).validate(without)
