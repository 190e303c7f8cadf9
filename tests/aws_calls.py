"""Every AWS call a handler makes in the tests is checked against what its
function's role allows (infra/function-access.json), as IAM would check it.

A botocore hook on the process's session sees each call (and each presigned
URL, which acts with the role's rights); the handler making it is found on the
call stack: a route view function is APIHandler, an app.py event or WebSocket
handler is the function Chalice packages it as. Calls outside any handler
(provisioning, a test's own setup, the fan-out's worker threads) are not
attributed and not checked.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any

from chalicelib.routes.routing import handler_of
from devstack.provision import load_template, physical_name

ROOT = Path(__file__).resolve().parent.parent
DECLARATION = ROOT / "infra" / "function-access.json"

# The IAM action an S3 API operation (or the presigned URL for it) needs.
S3_ACTIONS = {
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "PutObject": "s3:PutObject",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "DeleteObject": "s3:DeleteObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
    "ListObjectsV2": "s3:ListBucket",
    "CopyObject": "s3:PutObject",
}
# A batch call needs the action of its single form.
SQS_ACTIONS = {
    "SendMessageBatch": "sqs:SendMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
WEBSOCKET_FUNCTIONS = {
    "$connect": "WebsocketConnect",
    "$default": "WebsocketMessage",
    "$disconnect": "WebsocketDisconnect",
}


def handler_codes() -> dict[CodeType, str]:
    """Each handler's code object -> the function (logical id) it runs in."""
    from chalice.utils import to_cfn_resource_name

    import app as application

    chalice = application.app
    codes: dict[CodeType, str] = {}
    for methods in chalice.routes.values():
        for route in methods.values():
            codes[handler_of(route.view_function).__code__] = "APIHandler"
    for route_key, config in chalice.websocket_handlers.items():
        codes[config.handler_function.__code__] = WEBSOCKET_FUNCTIONS[route_key]
    for source in chalice.event_sources:
        # The module and name Lambda's Handler setting gives (chalice package writes it).
        module, _, attribute = source.handler_string.rpartition(".")
        handler = getattr(importlib.import_module(module), attribute)
        func = getattr(handler, "func", handler)
        codes[func.__code__] = to_cfn_resource_name(source.name)
    return codes


def _logical_ids() -> dict[str, str]:
    resources = load_template()["Resources"]
    return {physical_name(name, resources): name for name in resources}


def _calls(
    service: str, operation: str, params: dict[str, Any], names: dict[str, str]
) -> list[tuple[str, str]]:
    """(resource, IAM action) pairs one call needs, resources as the declaration names them."""

    def name(physical: str) -> str:
        return names.get(physical, physical)

    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [
                (name(body["TableName"]), TRANSACT_ACTIONS[kind])
                for item in params.get("TransactItems", [])
                for kind, body in item.items()
            ]
        if operation == "BatchWriteItem":
            return [(name(t), "dynamodb:BatchWriteItem") for t in params.get("RequestItems", {})]
        if operation == "BatchGetItem":
            return [(name(t), "dynamodb:BatchGetItem") for t in params.get("RequestItems", {})]
        table = name(str(params.get("TableName", "*")))
        if "IndexName" in params:
            table = f"{table}/index/{params['IndexName']}"
        return [(table, f"dynamodb:{operation}")]
    if service == "s3":
        action = S3_ACTIONS.get(operation, f"s3:{operation}")
        bucket = name(str(params.get("Bucket", "*")))
        key = params.get("Key")
        return [(f"{bucket}/{key}" if key is not None else bucket, action)]
    if service == "sqs":
        queue = str(params.get("QueueUrl") or params.get("QueueName") or "*").rsplit("/", 1)[-1]
        return [(name(queue), SQS_ACTIONS.get(operation, f"sqs:{operation}"))]
    return [("*", f"{service}:{operation}")]


def allowed(declared: dict[str, list[str]], resource: str, action: str) -> bool:
    return any(
        action in actions and fnmatch.fnmatchcase(resource, pattern)
        for pattern, actions in declared.items()
    )


@dataclass
class CallRecorder:
    """Records (function, resource, action) for each call a handler makes."""

    codes: dict[CodeType, str]
    names: dict[str, str]
    declaration: dict[str, dict[str, list[str]]]
    refused: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls) -> CallRecorder:
        declared = json.loads(DECLARATION.read_text())
        functions = {k: v for k, v in declared.items() if not k.startswith("_")}
        return cls(handler_codes(), _logical_ids(), functions)

    def _function(self) -> str | None:
        frame = sys._getframe(2)
        found = None
        while frame is not None:
            found = self.codes.get(frame.f_code, found)
            frame = frame.f_back  # type: ignore[assignment]
        return found

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        function = self._function()
        if function is None:
            return
        service = model.service_model.service_name
        declared = self.declaration.get(function, {})
        for resource, action in _calls(service, model.name, params, self.names):
            if not allowed(declared, resource, action):
                with self._lock:
                    self.refused.append(
                        f"{function} called {action} on {resource}, which "
                        f"infra/function-access.json does not allow (its role would refuse it)"
                    )

    def take(self) -> list[str]:
        with self._lock:
            found, self.refused = sorted(set(self.refused)), []
        return found
