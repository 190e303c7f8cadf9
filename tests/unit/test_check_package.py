"""scripts/check_package.py names what infra/template.json (and the files next
to it) lack for the functions and resources Chalice and the template define
together: a function someone adds later fails `make package` until covered."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from scripts.check_package import anchors, problems
from scripts.package_checks.observability import REQUIRED_ALARMS

RUNBOOKS = {"api-5xx", "lambda-errors", "lambda-duration", "queues"}
TOPIC = {"Ref": "AlarmTopic"}
TRACING = {"Fn::If": ["TracingEnabled", "Active", "PassThrough"]}
JSON_LOG = json.dumps({"requestId": "$context.requestId", "status": "$context.status"})
ACCESS: dict[str, Any] = {
    "_comment": "kept apart from the functions",
    "APIHandler": {"Table": ["dynamodb:GetItem"], "Bucket/uploads/*": ["s3:PutObject"]},
    "Consumer": {
        "Queue": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        "Table": ["dynamodb:UpdateItem"],
        "WebsocketAPI/api/POST/@connections/*": ["execute-api:ManageConnections"],
    },
}


def _function(role: str, **events: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            "Timeout": 30,
            "Tracing": TRACING,
            "Events": events,
        },
    }


def _role(*statements: dict[str, Any]) -> dict[str, Any]:
    trace = {
        "Effect": "Allow",
        "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        "Resource": "*",
    }
    listed = [*statements, {"Fn::If": ["TracingEnabled", trace, {"Ref": "AWS::NoValue"}]}]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {"Policies": [{"PolicyDocument": {"Statement": listed}}]},
    }


def _allow(actions: list[str], resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def _alarm(anchor: str, **props: Any) -> dict[str, Any]:
    body = {
        "AlarmDescription": f"see docs/OPERATIONS.md#{anchor}",
        "AlarmActions": [TOPIC],
        "OKActions": [TOPIC],
        **props,
    }
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": body}


def _summed(metric: str, functions: list[str]) -> dict[str, Any]:
    stats = [
        {
            "Id": f"m{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": f}}],
                }
            },
        }
        for i, f in enumerate(functions)
    ]
    return _alarm("lambda-errors", Metrics=stats)


def _duration(function: str, threshold: float = 24000) -> dict[str, Any]:
    return _alarm(
        "lambda-duration",
        Namespace="AWS/Lambda",
        MetricName="Duration",
        ExtendedStatistic="p99",
        Dimensions=[{"Name": "FunctionName", "Value": {"Ref": function}}],
        Threshold=threshold,
    )


def _dashboard(functions: list[str], alarms: list[str]) -> dict[str, Any]:
    emf = [["CourseMedia", m, "service", "course-media"] for m in _emf_names()]
    lam = [
        ["AWS/Lambda", metric, "FunctionName", f"${{{fn}}}", {"stat": stat}]
        for fn in functions
        for metric, stat in (("Invocations", "Sum"), ("Errors", "Sum"), ("Duration", "p50"))
    ]
    lam += [
        ["AWS/Lambda", "Duration", "FunctionName", f"${{{fn}}}", {"stat": "p99"}]
        for fn in functions
    ]
    rest = [
        ["AWS/ApiGateway", m, "ApiName", "${AWS::StackName}-rest"]
        for m in ("4XXError", "5XXError", "Latency")
    ]
    ws = [
        ["AWS/ApiGateway", m, "ApiId", "${WebsocketAPI}", "Stage", "api"]
        for m in ("ConnectCount", "MessageCount", "IntegrationError")
    ]
    ddb = [
        ["AWS/DynamoDB", m, "TableName", "${Table}"]
        for m in ("ReadThrottleEvents", "WriteThrottleEvents")
    ]
    search = (
        'SEARCH(\'{AWS/DynamoDB,Operation,TableName} MetricName="SystemErrors" '
        "TableName=\"${Table}\"', 'Sum', 300)"
    )
    sqs = [
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "${Queue.QueueName}"],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${Dlq.QueueName}"],
    ]
    body = {
        "widgets": [
            {
                "type": "metric",
                "properties": {"stat": "Sum", "metrics": emf + lam + rest + ws + ddb + sqs},
            },
            {"type": "metric", "properties": {"metrics": [[{"expression": search, "id": "e0"}]]}},
            {"type": "alarm", "properties": {"alarms": [f"${{{a}.Arn}}" for a in alarms]}},
        ]
    }
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {"DashboardBody": {"Fn::Sub": json.dumps(body)}},
    }


def _emf_names() -> list[str]:
    from scripts.package_checks.observability import DASHBOARD_EMF

    return list(DASHBOARD_EMF)


def _required() -> dict[str, Any]:
    """Issue 14's named alarms, each watching what it must."""
    found: dict[str, Any] = {}
    for name, (namespace, metrics) in REQUIRED_ALARMS.items():
        stats = [
            {"Id": f"m{i}", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": m}}}
            for i, m in enumerate(sorted(metrics))
        ]
        found[name] = _alarm("api-5xx", Metrics=stats)
    for name in ("WebSocketErrorsAlarm", "DynamoDbThrottlesAlarm", "DynamoDbSystemErrorsAlarm"):
        found[name]["Properties"]["Dimensions"] = [
            {"Value": {"Ref": "WebsocketAPI"}},
            {"Value": {"Ref": "Table"}},
        ]
    return found


def _sound() -> dict[str, Any]:
    """A packaged template with one REST and one SQS function, fully covered."""
    resources: dict[str, Any] = {
        "ApiHandlerRole": _role(
            _allow(["dynamodb:GetItem"], {"Fn::GetAtt": ["Table", "Arn"]}),
            _allow(["s3:PutObject"], {"Fn::Sub": "${Bucket.Arn}/uploads/*"}),
        ),
        "ConsumerRole": _role(
            _allow(
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                {"Fn::GetAtt": ["Queue", "Arn"]},
            ),
            _allow(["dynamodb:UpdateItem"], [{"Fn::GetAtt": ["Table", "Arn"]}]),
            _allow(
                ["execute-api:ManageConnections"],
                {
                    "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                    "${AWS::AccountId}:${WebsocketAPI}/api/POST/@connections/*"
                },
            ),
        ),
        "APIHandler": _function("ApiHandlerRole"),
        "Consumer": _function(
            "ConsumerRole",
            Source={"Type": "SQS", "Properties": {"Queue": {"Fn::Sub": "${Queue.Arn}"}}},
        ),
        "Table": {"Type": "AWS::DynamoDB::Table"},
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"LoggingConfiguration": {"DestinationBucketName": {"Ref": "LogBucket"}}},
        },
        "LogBucket": {"Type": "AWS::S3::Bucket"},
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}
            },
        },
        "Dlq": {"Type": "AWS::SQS::Queue"},
        "DlqAlarm": _alarm(
            "queues",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Value": {"Fn::GetAtt": ["Dlq", "QueueName"]}}],
        ),
        "BacklogAlarm": _alarm(
            "queues",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Value": {"Fn::GetAtt": ["Queue", "QueueName"]}}],
        ),
        "LambdaErrorsAlarm": _summed("Errors", ["APIHandler", "Consumer"]),
        "LambdaThrottlesAlarm": _summed("Throttles", ["APIHandler", "Consumer"]),
        "APIHandlerDurationAlarm": _duration("APIHandler"),
        "ConsumerDurationAlarm": _duration("Consumer"),
        **_required(),
        "AlarmTopic": {"Type": "AWS::SNS::Topic"},
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"TopicArn": TOPIC, "Endpoint": {"Ref": "AlarmEmail"}},
        },
        "RestAPI": {
            "Type": "AWS::Serverless::Api",
            "Properties": {"AccessLogSetting": {"DestinationArn": "arn:logs", "Format": JSON_LOG}},
        },
        "WebsocketAPI": {"Type": "AWS::ApiGatewayV2::Api"},
        "WebsocketAPIStage": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {
                "AccessLogSettings": {"DestinationArn": "arn:logs", "Format": JSON_LOG},
                "DefaultRouteSettings": {"ThrottlingRateLimit": 1, "ThrottlingBurstLimit": 2},
            },
        },
    }
    resources["Consumer"]["Properties"]["ReservedConcurrentExecutions"] = 5
    for function, role in (("APIHandler", "ApiHandlerRole"), ("Consumer", "ConsumerRole")):
        group = f"{function}LogGroup"
        resources[group] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{function}}}"}},
        }
        resources[f"{function}LogsPolicy"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "Roles": [{"Ref": role}],
                "PolicyDocument": {
                    "Statement": _allow(
                        ["logs:CreateLogStream", "logs:PutLogEvents"],
                        {"Fn::GetAtt": [group, "Arn"]},
                    )
                },
            },
        }
    alarms = [k for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"]
    resources["Dashboard"] = _dashboard(["APIHandler", "Consumer"], alarms)
    layers = {"Fn::If": ["TracingEnabled", [{"Fn::Sub": "${OtelLayer}"}], {"Ref": "AWS::NoValue"}]}
    wrapper = {"Fn::If": ["TracingEnabled", "/opt/otel-instrument", {"Ref": "AWS::NoValue"}]}
    variables = {"WEBSOCKET_ENDPOINT": "wss://", "AWS_LAMBDA_EXEC_WRAPPER": wrapper}
    return {
        "Parameters": {"AlarmEmail": {}, "Tracing": {}},
        "Globals": {"Function": {"Layers": layers, "Environment": {"Variables": variables}}},
        "Resources": resources,
    }


def check(template: dict[str, Any], access: dict[str, Any] | None = None) -> list[str]:
    return problems(template, ACCESS if access is None else access, RUNBOOKS)


def test_a_fully_covered_template_passes() -> None:
    assert check(_sound()) == []


def test_a_new_function_is_named_for_everything_it_lacks() -> None:
    template = _sound()
    template["Resources"]["Sweep"] = _function("SweepRole", Tick={"Type": "Schedule"})
    template["Resources"]["SweepRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Policies": [
                {
                    "PolicyDocument": {
                        "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]
                    }
                }
            ]
        },
    }
    found = check(template)
    for expected in (
        "Sweep is missing from infra/function-access.json: declare what it calls",
        "SweepRole still has the deny-all placeholder (.chalice/deny-all.json)",
        "Sweep has no log group",
        "Sweep is missing from LambdaErrorsAlarm",
        "Sweep is missing from LambdaThrottlesAlarm",
        "Sweep has no p99 Duration alarm at 24000 ms (80% of its 30 s timeout)",
        "the dashboard lacks Sweep invocations",
        "the dashboard lacks Sweep p99 duration",
        "Sweep drains a queue or schedule: set ReservedConcurrentExecutions",
    ):
        assert any(line.startswith(expected) for line in found), (expected, found)


def test_a_role_allowing_more_than_its_function_calls_is_named() -> None:
    template = _sound()
    statements = template["Resources"]["ConsumerRole"]["Properties"]["Policies"][0]
    statements["PolicyDocument"]["Statement"].append(
        _allow(["dynamodb:Scan", "dynamodb:UpdateItem"], {"Fn::Sub": "${Table.Arn}"})
    )
    assert check(template) == [
        "ConsumerRole allows dynamodb:Scan on Table, which Consumer does not call "
        "(infra/function-access.json)"
    ]


def test_a_role_lacking_what_its_function_calls_is_named() -> None:
    access = copy.deepcopy(ACCESS)
    access["APIHandler"]["Table"].append("dynamodb:Query")
    assert check(_sound(), access) == [
        "ApiHandlerRole lacks dynamodb:Query on Table, which APIHandler calls "
        "(infra/function-access.json)"
    ]


def test_a_role_shared_by_two_functions_is_named() -> None:
    template = _sound()
    template["Resources"]["Consumer"]["Properties"]["Role"] = {
        "Fn::GetAtt": ["ApiHandlerRole", "Arn"]
    }
    assert "ApiHandlerRole is shared by APIHandler, Consumer: one role per function" in check(
        template
    )


def test_traces_are_allowed_only_while_tracing_is_enabled() -> None:
    template = _sound()
    statements = template["Resources"]["ApiHandlerRole"]["Properties"]["Policies"][0]
    statements["PolicyDocument"]["Statement"].append(_allow(["xray:PutTraceSegments"], "*"))
    assert check(template) == [
        "ApiHandlerRole allows xray:PutTraceSegments on *, which APIHandler does not call "
        "(infra/function-access.json)"
    ]


def test_a_table_no_function_reaches_is_named() -> None:
    template = _sound()
    template["Resources"]["Other"] = {"Type": "AWS::DynamoDB::Table"}
    found = check(template)
    assert "no function's role grants anything on Other (infra/function-access.json)" in found


def test_a_log_group_naming_a_function_that_does_not_exist_is_named() -> None:
    template = _sound()
    group = template["Resources"]["APIHandlerLogGroup"]["Properties"]
    group["LogGroupName"] = {"Fn::Sub": "/aws/lambda/${ApiHandler}"}
    found = check(template)
    assert (
        "APIHandlerLogGroup names ApiHandler, which is not a function (override LogGroupName)"
        in found
    )


def test_a_dead_letter_queue_without_an_alarm_is_named() -> None:
    template = _sound()
    del template["Resources"]["DlqAlarm"]
    template["Resources"]["Dashboard"] = _dashboard(
        ["APIHandler", "Consumer"],
        [k for k, v in template["Resources"].items() if v["Type"] == "AWS::CloudWatch::Alarm"],
    )
    assert check(template) == ["dead-letter queue Dlq has no alarm"]


@pytest.mark.parametrize("alarm", sorted(REQUIRED_ALARMS))
def test_each_alarm_the_issue_names_is_required(alarm: str) -> None:
    template = _sound()
    del template["Resources"][alarm]
    found = check(template)
    assert any(line.startswith(f"{alarm} is missing (it watches") for line in found), found


def test_an_alarm_without_a_runbook_or_topic_is_named() -> None:
    template = _sound()
    alarm = template["Resources"]["ConsumerDurationAlarm"]["Properties"]
    alarm["AlarmDescription"] = "see docs/OPERATIONS.md#nowhere"
    alarm["OKActions"] = []
    assert check(template) == [
        "ConsumerDurationAlarm does not notify AlarmTopic (AlarmActions and OKActions)",
        "ConsumerDurationAlarm's runbook docs/OPERATIONS.md#nowhere does not exist",
    ]


def test_a_duration_alarm_at_the_wrong_share_of_the_timeout_is_named() -> None:
    template = _sound()
    template["Resources"]["ConsumerDurationAlarm"] = _duration("Consumer", 29000)
    assert check(template) == [
        "Consumer has no p99 Duration alarm at 24000 ms (80% of its 30 s timeout)"
    ]


def test_a_stage_without_json_access_logs_or_throttling_is_named() -> None:
    template = _sound()
    stage = template["Resources"]["WebsocketAPIStage"]["Properties"]
    stage["AccessLogSettings"]["Format"] = json.dumps({"status": "$context.status"})
    del stage["DefaultRouteSettings"]["ThrottlingBurstLimit"]
    del template["Resources"]["RestAPI"]["Properties"]["AccessLogSetting"]
    assert check(template) == [
        "RestAPI has no access log (AccessLogSetting(s) with a DestinationArn)",
        "WebsocketAPIStage's access log does not carry $context.requestId",
        "WebsocketAPIStage is not throttled (DefaultRouteSettings.Throttling*)",
    ]


def test_a_bucket_without_server_access_logs_is_named() -> None:
    template = _sound()
    del template["Resources"]["Bucket"]["Properties"]["LoggingConfiguration"]
    found = check(template)
    assert "Bucket keeps no server access log (LoggingConfiguration)" in found


def test_a_function_tracing_without_the_switch_is_named() -> None:
    template = _sound()
    template["Resources"]["Consumer"]["Properties"]["Tracing"] = "PassThrough"
    assert check(template) == [f"Consumer.Tracing must be {json.dumps(TRACING)}"]


@pytest.mark.parametrize(
    "queue",
    [
        {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:typed-name"},
        {"Fn::Sub": "arn:...:typed-name", "Fn::GetAtt": ["Queue", "Arn"]},
    ],
)
def test_an_sqs_source_not_pointing_at_the_templates_queue_is_named(queue: Any) -> None:
    template = copy.deepcopy(_sound())
    source = template["Resources"]["Consumer"]["Properties"]["Events"]["Source"]
    source["Properties"]["Queue"] = queue
    assert any(
        "Consumer.Events.Source.Properties.Queue must be exactly" in p for p in check(template)
    )


def test_a_stream_source_without_its_table_or_failure_handling_is_named() -> None:
    template = copy.deepcopy(_sound())
    events = template["Resources"]["Consumer"]["Properties"]["Events"]
    events["Changes"] = {
        "Type": "DynamoDB",
        "Properties": {"Stream": "arn:aws:dynamodb:us-east-1:1:table/typed/stream/x"},
    }
    found = check(template)
    assert any("Consumer.Events.Changes.Properties.Stream must be" in p for p in found)
    assert any(
        "Consumer.Events.Changes (a stream source) lacks BisectBatchOnFunctionError, "
        "MaximumRetryAttempts, DestinationConfig, FunctionResponseTypes ReportBatchItemFailures"
        in p
        for p in found
    )


def test_runbook_anchors_are_githubs_heading_ids_outside_code() -> None:
    markdown = "# Ops\n## API 5xx\n```sh\n# not a heading\n```\n### Fan-out failures\n"
    assert anchors(markdown) == {"ops", "api-5xx", "fan-out-failures"}
