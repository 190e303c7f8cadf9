"""Create course-media's AWS resources from infra/template.json.

The tests (against moto's in-process mock) and the local stack (against moto's
server) both call this, so neither can drift from the CloudFormation that ships.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.json"


def load_template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text())


def _resolve(value: Any) -> str:
    """Resolve the intrinsic functions the template uses for environment values
    to the names provisioned here (the logical id stands in for a generated name)."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return str(value)


def environment(template: dict[str, Any] | None = None) -> dict[str, str]:
    """The functions' environment variables, as the template wires them."""
    template = template or load_template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    resources = template["Resources"]
    # Only values naming a resource are resolvable here; deploy-time parameters
    # (AUTH_*) and URLs built with Fn::Sub (WEBSOCKET_ENDPOINT) come from the
    # caller's own environment instead (tests, the local stack).
    return {
        name: _resolve(value)
        for name, value in variables.items()
        if not isinstance(value, dict) or _resolve(value) in resources
    }


def _table_spec(logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "TableName": logical_id,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if "GlobalSecondaryIndexes" in props:
        spec["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return spec


def create_tables(
    session: boto3.session.Session,
    endpoint_url: str | None = None,
    template: dict[str, Any] | None = None,
) -> list[str]:
    template = template or load_template()
    ddb = session.client("dynamodb", endpoint_url=endpoint_url)
    existing = set(ddb.list_tables().get("TableNames", []))
    created = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::DynamoDB::Table" or logical_id in existing:
            continue
        props = resource["Properties"]
        ddb.create_table(**_table_spec(logical_id, props))
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=logical_id,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        created.append(logical_id)
    return created


def provision(session: boto3.session.Session, endpoint_url: str | None = None) -> dict[str, str]:
    """Create every resource the template defines; return the app's environment."""
    template = load_template()
    create_tables(session, endpoint_url, template)
    return environment(template)
