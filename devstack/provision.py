"""Create course-media's AWS resources from infra/template.json.

The tests (against moto's in-process mock) and the local stack (against moto's
server) both call this, so neither can drift from the CloudFormation that ships.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.json"


def load_template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads(TEMPLATE.read_text())
    return template


def _resolve(value: Any) -> str:
    """Resolve the intrinsic functions the template uses for environment values
    to the names provisioned here (the logical id stands in for a generated name)."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return str(value)


def physical_name(logical_id: str, resources: dict[str, Any]) -> str:
    """The name a resource gets here. S3 bucket names must be lowercase, so a
    bucket is named after its logical id in kebab case (MediaBucket ->
    media-bucket), a FIFO queue's name ends in .fifo as SQS demands; every
    other resource keeps its logical id."""
    resource = resources.get(logical_id, {})
    if resource.get("Type") == "AWS::S3::Bucket":
        return re.sub(r"(?<!^)(?=[A-Z])", "-", logical_id).lower()
    fifo = resource.get("Properties", {}).get("FifoQueue")
    if resource.get("Type") == "AWS::SQS::Queue" and fifo:
        return f"{logical_id}.fifo"
    return logical_id


def environment(template: dict[str, Any] | None = None) -> dict[str, str]:
    """The functions' environment variables, as the template wires them."""
    template = template or load_template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    resources = template["Resources"]
    # Only values naming a resource are resolvable here; deploy-time parameters
    # (AUTH_*) and URLs built with Fn::Sub (WEBSOCKET_ENDPOINT) come from the
    # caller's own environment instead (tests, the local stack).
    return {
        name: physical_name(_resolve(value), resources)
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
    stream = props.get("StreamSpecification")
    if stream:
        spec["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
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


def _of_type(template: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (logical_id, resource.get("Properties", {}))
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == kind
    ]


def create_queues(
    session: boto3.session.Session,
    endpoint_url: str | None = None,
    template: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Create the template's SQS queues (dead-letter queues first, so redrive
    policies can name them); return each queue's ARN by logical id."""
    template = template or load_template()
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    queues = _of_type(template, "AWS::SQS::Queue")
    queues.sort(key=lambda q: "RedrivePolicy" in q[1])
    arns: dict[str, str] = {}
    for logical_id, props in queues:
        attributes: dict[Any, str] = {
            name: str(props[name]).lower() if isinstance(props[name], bool) else str(props[name])
            for name in (
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "SqsManagedSseEnabled",
                "FifoQueue",
            )
            if name in props
        }
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arns[target], "maxReceiveCount": redrive["maxReceiveCount"]}
            )
        name = physical_name(logical_id, template["Resources"])
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        arns[logical_id] = arn["QueueArn"]
    return arns


def _lifecycle_rule(rule: dict[str, Any], template: dict[str, Any]) -> Any:
    """One lifecycle rule in the S3 API's words; a stack parameter stands at its default."""
    found: dict[str, Any] = {
        "ID": rule["Id"],
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "AbortIncompleteMultipartUpload" in rule:
        found["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    days: Any = rule.get("ExpirationInDays")
    if isinstance(days, dict) and "Ref" in days:
        days = template.get("Parameters", {})[days["Ref"]]["Default"]
    if days is not None:
        found["Expiration"] = {"Days": int(days)}
    return found


def create_buckets(
    session: boto3.session.Session,
    endpoint_url: str | None = None,
    template: dict[str, Any] | None = None,
    queue_arns: dict[str, str] | None = None,
) -> list[str]:
    """Create the template's buckets with their CORS rule, encryption, public
    access block, lifecycle rules and queue notifications (CloudFormation's
    property names translated to the S3 API's)."""
    template = template or load_template()
    s3 = session.client("s3", endpoint_url=endpoint_url)
    region = session.region_name or "us-east-1"
    created = []
    for logical_id, props in _of_type(template, "AWS::S3::Bucket"):
        name = physical_name(logical_id, template["Resources"])
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(
                Bucket=name,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
        cors = props.get("CorsConfiguration")
        if cors:
            rules = [
                {
                    "AllowedOrigins": rule["AllowedOrigins"],
                    "AllowedMethods": rule["AllowedMethods"],
                    "AllowedHeaders": rule.get("AllowedHeaders", []),
                    "ExposeHeaders": rule.get("ExposedHeaders", []),
                    "MaxAgeSeconds": rule.get("MaxAge", 0),
                }
                for rule in cors["CorsRules"]
            ]
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})  # type: ignore[typeddict-item]
        encryption = props.get("BucketEncryption")
        if encryption:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": rule[
                                "ServerSideEncryptionByDefault"
                            ],
                            "BucketKeyEnabled": rule.get("BucketKeyEnabled", False),
                        }
                        for rule in encryption["ServerSideEncryptionConfiguration"]
                    ]
                },
            )
        block = props.get("PublicAccessBlockConfiguration")
        if block:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
        lifecycle = props.get("LifecycleConfiguration")
        if lifecycle:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [_lifecycle_rule(rule, template) for rule in lifecycle["Rules"]]
                },
            )
        notifications = props.get("NotificationConfiguration", {}).get("QueueConfigurations")
        if notifications and queue_arns is not None:
            s3.put_bucket_notification_configuration(
                Bucket=name,
                NotificationConfiguration={
                    "QueueConfigurations": [
                        {
                            "QueueArn": queue_arns[item["Queue"]["Fn::GetAtt"][0]],
                            "Events": [item["Event"]],
                            "Filter": {"Key": {"FilterRules": item["Filter"]["S3Key"]["Rules"]}},
                        }
                        for item in notifications
                    ]
                },
            )
        created.append(name)
    return created


def provision(session: boto3.session.Session, endpoint_url: str | None = None) -> dict[str, str]:
    """Create every resource the template defines; return the app's environment."""
    template = load_template()
    create_tables(session, endpoint_url, template)
    queue_arns = create_queues(session, endpoint_url, template)
    create_buckets(session, endpoint_url, template, queue_arns)
    env = environment(template)
    # CloudFormation's Ref of a queue is its URL, which only exists once created.
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    for name, value in variables.items():
        ref = value.get("Ref") if isinstance(value, dict) else None
        if ref in queue_arns:
            env[name] = sqs.get_queue_url(QueueName=ref)["QueueUrl"]
    return env
