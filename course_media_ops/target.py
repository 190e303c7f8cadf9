"""Which stack the CLI acts on, and the app's own stores and services for it.

A deployed stack is found by its CloudFormation name: its tables, bucket,
queues and WebSocket API are the physical ids of the template's logical ones
(infra/template.json names), so the CLI follows the template, not a naming
convention. The local stack (`make run`) names each resource after its
logical id (devstack/provision.py) behind moto's server.

The operator container is the app's own (chalicelib/services.py): aborting an
upload or replaying events does what the app does, with the same checks and
the same events. It verifies no tokens; its HS256 secret is random per run.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3

from chalicelib.services import Container
from chalicelib.settings import Settings
from chalicelib.store.dynamo import from_ddb, to_ddb

TABLES = {
    "courses_table": "CoursesTable",
    "media_table": "MediaTable",
    "uploads_table": "UploadsTable",
    "connections_table": "ConnectionsTable",
    "events_table": "EventsTable",
    "outbox_table": "OutboxTable",
}
BUCKET = "MediaBucket"
WEBSOCKET_API = "WebsocketAPI"
WEBSOCKET_STAGE = "api"
LOCAL_MOTO = "http://127.0.0.1:5000"
LOCAL_GATEWAY = "http://127.0.0.1:8000"


class TargetError(RuntimeError):
    """The stack named cannot be reached or lacks a resource a command needs."""


@dataclass
class Target:
    """One stack's resources: logical id -> physical name (a queue's is its URL)."""

    name: str
    session: boto3.session.Session
    resources: dict[str, str]
    websocket_endpoint: str
    endpoint_url: str | None = None
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            make: Any = self.session.client
            self._clients[service] = make(service, endpoint_url=self.endpoint_url)
        return self._clients[service]

    def physical(self, logical_id: str) -> str:
        try:
            return self.resources[logical_id]
        except KeyError:
            raise TargetError(f"{self.name} has no resource {logical_id}") from None

    def queue_url(self, logical_id: str) -> str:
        found = self.physical(logical_id)
        if found.startswith(("http://", "https://")):
            return found
        url: str = self.client("sqs").get_queue_url(QueueName=found)["QueueUrl"]
        return url

    def scan(
        self,
        table: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a table the filter keeps (the operator may scan; the
        app's roles may not), as the app's stores read items."""
        ddb = self.container.aws.ddb
        request: dict[str, Any] = {
            "TableName": table,
            "FilterExpression": condition,
            "ExpressionAttributeValues": to_ddb(values),
        }
        if names:
            request["ExpressionAttributeNames"] = names
        found: list[dict[str, Any]] = []
        while True:
            page = ddb.scan(**request)
            found.extend(from_ddb(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @cached_property
    def container(self) -> Container:
        settings = Settings.model_validate(
            {
                **{name: self.physical(logical) for name, logical in TABLES.items()},
                "media_bucket": self.physical(BUCKET),
                "websocket_endpoint": self.websocket_endpoint,
                "aws_region": self.session.region_name or "us-east-1",
                "s3_endpoint_url": self.endpoint_url or "",
                "auth_mode": "hs256",
                "auth_jwt_secret": secrets.token_urlsafe(48),
            }
        )
        return Container(settings, self.session)


def deployed(stack_name: str, region: str | None, profile: str | None) -> Target:
    """The resources of a CloudFormation stack, by logical id."""
    session = boto3.session.Session(region_name=region, profile_name=profile)
    cfn = session.client("cloudformation")
    resources: dict[str, str] = {}
    try:
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            for item in page["StackResourceSummaries"]:
                resources[item["LogicalResourceId"]] = item.get("PhysicalResourceId", "")
    except Exception as exc:  # botocore's ClientError and connection errors alike
        raise TargetError(f"cannot read stack {stack_name}: {exc}") from None
    api = resources.get(WEBSOCKET_API, "")
    region_name = session.region_name or "us-east-1"
    endpoint = f"https://{api}.execute-api.{region_name}.amazonaws.com/{WEBSOCKET_STAGE}"
    return Target(stack_name, session, resources, endpoint)


def local(moto_url: str = LOCAL_MOTO, gateway_url: str = LOCAL_GATEWAY) -> Target:
    """The local stack: every resource of infra/template.json, named as
    devstack/provision.py names it, behind moto's server."""
    from devstack.provision import load_template, physical_name
    from devstack.stack import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY

    template = load_template()["Resources"]
    resources = {
        logical: physical_name(logical, template)
        for logical, body in template.items()
        if body.get("Type") in ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue")
    }
    # Every client this process makes, the app container's included, talks to
    # moto, as the local stack's own handlers do (devstack/stack.py).
    os.environ["AWS_ENDPOINT_URL"] = moto_url
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        region_name=REGION,
    )
    return Target("local stack", session, resources, f"{gateway_url}/ws", endpoint_url=moto_url)
