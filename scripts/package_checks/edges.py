"""Where requests come in and work queues up: JSON access logs with the request id
on every API stage, throttling on the WebSocket stage, server access logs on
every bucket clients read or write through presigned URLs, reserved concurrency
on the functions that drain queues or run on a schedule, event sources wired
to the template's own queues, and queues a bucket notifies accepting that bucket
of this account only."""

from __future__ import annotations

import json
from typing import Any

from scripts.package_checks import Template, functions, log_buckets, of_type, props, queues, refs

REQUEST_ID = "$context.requestId"


def _access_log(name: str, setting: Any) -> list[str]:
    if not isinstance(setting, dict) or "DestinationArn" not in setting:
        return [f"{name} has no access log (AccessLogSetting(s) with a DestinationArn)"]
    try:
        fields = json.loads(setting.get("Format", ""))
    except (TypeError, json.JSONDecodeError):
        return [f"{name}'s access log Format is not JSON"]
    if REQUEST_ID not in fields.values():
        return [f"{name}'s access log does not carry {REQUEST_ID}"]
    return []


def stage_problems(template: Template) -> list[str]:
    found: list[str] = []
    for name, api in sorted(of_type(template, "AWS::Serverless::Api").items()):
        found += _access_log(name, props(api).get("AccessLogSetting"))
    stages = of_type(template, "AWS::ApiGatewayV2::Stage")
    if "WebsocketAPI" in template["Resources"] and not stages:
        found.append("WebsocketAPI has no stage to log and throttle")
    for name, stage in sorted(stages.items()):
        p = props(stage)
        found += _access_log(name, p.get("AccessLogSettings"))
        route = p.get("DefaultRouteSettings", {})
        if "ThrottlingRateLimit" not in route or "ThrottlingBurstLimit" not in route:
            found.append(f"{name} is not throttled (DefaultRouteSettings.Throttling*)")
    targets = log_buckets(template)
    for name, bucket in sorted(of_type(template, "AWS::S3::Bucket").items()):
        if name in targets:
            continue
        if "DestinationBucketName" not in props(bucket).get("LoggingConfiguration", {}):
            found.append(f"{name} keeps no server access log (LoggingConfiguration)")
    return found


def concurrency_problems(template: Template) -> list[str]:
    """A queue consumer or a scheduled job scales with its backlog, not with its
    callers: capped, it cannot take the executions the APIs need."""
    found: list[str] = []
    for name, fn in sorted(functions(template).items()):
        kinds = {e.get("Type") for e in props(fn).get("Events", {}).values()}
        if kinds & {"SQS", "Schedule"} and "ReservedConcurrentExecutions" not in props(fn):
            found.append(f"{name} drains a queue or schedule: set ReservedConcurrentExecutions")
    return found


# What a DynamoDB stream source must set: without them a record that keeps
# failing blocks its shard until the stream drops it (24 h), then is lost.
_STREAM_SETTINGS = ("BisectBatchOnFunctionError", "MaximumRetryAttempts", "DestinationConfig")


def _stream_source_problems(template: Template, where: str, event: Any) -> list[str]:
    settings = props(event)
    stream = settings.get("Stream")
    tables = set(of_type(template, "AWS::DynamoDB::Table"))
    found = []
    if not (
        isinstance(stream, dict)
        and isinstance(stream.get("Fn::GetAtt"), list)
        and stream["Fn::GetAtt"][1:] == ["StreamArn"]
        and refs(stream) & tables
    ):
        found.append(
            f'{where}.Properties.Stream must be {{"Fn::GetAtt": [YourTable, "StreamArn"]}} '
            "for a table in infra/template.json"
        )
    missing = [name for name in _STREAM_SETTINGS if name not in settings]
    if "ReportBatchItemFailures" not in settings.get("FunctionResponseTypes", []):
        missing.append("FunctionResponseTypes ReportBatchItemFailures")
    if missing:
        found.append(f"{where} (a stream source) lacks {', '.join(missing)}")
    return found


def source_problems(template: Template) -> list[str]:
    """Event sources point at the template's queues, not at a name typed in app.py.
    Chalice writes {"Fn::Sub": arn-with-that-name}; the override must use the same
    key, or the deep merge leaves two functions in one value."""
    found: list[str] = []
    working, dead = queues(template)
    for name, fn in sorted(functions(template).items()):
        for event_name, event in props(fn).get("Events", {}).items():
            queue = props(event).get("Queue")
            if event.get("Type") == "DynamoDB":
                found += _stream_source_problems(template, f"{name}.Events.{event_name}", event)
            if event.get("Type") != "SQS":
                continue
            if not isinstance(queue, dict) or len(queue) != 1 or not refs(queue) & (working | dead):
                found.append(
                    f"{name}.Events.{event_name}.Properties.Queue must be exactly "
                    '{"Fn::Sub": "${YourQueue.Arn}"} for a queue in infra/template.json'
                )
    if "WebsocketAPI" in template["Resources"]:
        variables = template.get("Globals", {}).get("Function", {}).get("Environment", {})
        if "WEBSOCKET_ENDPOINT" not in variables.get("Variables", {}):
            found.append("Globals lack WEBSOCKET_ENDPOINT for the WebSocket API")
    return found


def _bucket_arn(bucket: Any) -> Any:
    """The bucket's ARN as the template can spell it without naming the bucket
    resource (which depends on the queue policy: a reference would be a cycle)."""
    name = props(bucket).get("BucketName")
    prefix = "arn:${AWS::Partition}:s3:::"
    sub = name.get("Fn::Sub") if isinstance(name, dict) else None
    if isinstance(sub, str):
        return {"Fn::Sub": prefix + sub}
    if isinstance(sub, list) and len(sub) == 2 and isinstance(sub[0], str):
        return {"Fn::Sub": [prefix + sub[0], sub[1]]}
    return None


def _s3_statements(template: Template, queue: str) -> list[dict[str, Any]]:
    """The statements of the queue's policies that let S3 send to it."""
    return [
        statement
        for policy in of_type(template, "AWS::SQS::QueuePolicy").values()
        if queue in refs(props(policy).get("Queues"))
        for statement in props(policy).get("PolicyDocument", {}).get("Statement", [])
        if statement.get("Effect") == "Allow"
        and statement.get("Principal") == {"Service": "s3.amazonaws.com"}
    ]


def queue_policy_problems(template: Template) -> list[str]:
    """Each queue a bucket notifies accepts S3's messages from that bucket of this
    account only (aws:SourceArn, aws:SourceAccount): otherwise any bucket can put
    claims on the queue."""
    found: list[str] = []
    for name, bucket in sorted(of_type(template, "AWS::S3::Bucket").items()):
        configs = props(bucket).get("NotificationConfiguration", {}).get("QueueConfigurations", [])
        for queue in sorted({q for c in configs for q in refs(c.get("Queue"))}):
            arn = _bucket_arn(bucket)
            if arn is None:
                found.append(f"{name} needs a BucketName (Fn::Sub) so {queue}'s policy can name it")
                continue
            statements = _s3_statements(template, queue)
            if not statements:
                found.append(f"no queue policy lets {name} send to {queue}")
            for statement in statements:
                condition = statement.get("Condition", {})
                account = condition.get("StringEquals", {}).get("aws:SourceAccount")
                arns = condition.get("ArnEquals") or condition.get("ArnLike") or {}
                if account != {"Ref": "AWS::AccountId"}:
                    found.append(f"{queue}'s policy must require aws:SourceAccount = this account")
                if arns.get("aws:SourceArn") != arn:
                    found.append(f"{queue}'s policy must require aws:SourceArn = {name}'s ARN")
    return found
