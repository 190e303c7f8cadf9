"""scripts/check_package.py names what infra/template.json lacks for the
functions and resources Chalice and the template define together."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scripts.check_package import problems

ROLE = {"Fn::GetAtt": ["DefaultRole", "Arn"]}


def _function(**events: Any) -> dict[str, Any]:
    return {"Type": "AWS::Serverless::Function", "Properties": {"Role": ROLE, "Events": events}}


def _alarm(metric: str, functions: list[str]) -> dict[str, Any]:
    stats = [
        {
            "Id": f"m{i}",
            "MetricStat": {
                "Metric": {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": f}}],
                }
            },
        }
        for i, f in enumerate(functions)
    ]
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": stats}}


def _sound() -> dict[str, Any]:
    """A packaged template with one REST and one SQS function, fully covered."""
    resources: dict[str, Any] = {
        "DefaultRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Policies": [
                    {
                        "PolicyName": "Data",
                        "PolicyDocument": {
                            "Statement": [
                                {
                                    "Action": ["dynamodb:GetItem"],
                                    "Resource": [{"Fn::GetAtt": ["Table", "Arn"]}],
                                },
                                {
                                    "Action": ["sqs:ReceiveMessage"],
                                    "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
                                },
                            ]
                        },
                    }
                ]
            },
        },
        "APIHandler": _function(),
        "Consumer": _function(
            Source={"Type": "SQS", "Properties": {"Queue": {"Fn::Sub": "${Queue.Arn}"}}}
        ),
        "Table": {"Type": "AWS::DynamoDB::Table"},
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}
            },
        },
        "Dlq": {"Type": "AWS::SQS::Queue"},
        "DlqAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {"Dimensions": [{"Value": {"Fn::GetAtt": ["Dlq", "QueueName"]}}]},
        },
        "LambdaErrorsAlarm": _alarm("Errors", ["APIHandler", "Consumer"]),
        "LambdaThrottlesAlarm": _alarm("Throttles", ["APIHandler", "Consumer"]),
        "WriteOwnLogsPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "Roles": [{"Ref": "DefaultRole"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Resource": [
                                {"Fn::GetAtt": ["ApiHandlerLogGroup", "Arn"]},
                                {"Fn::GetAtt": ["ConsumerLogGroup", "Arn"]},
                            ]
                        }
                    ]
                },
            },
        },
    }
    for group, function in (("ApiHandlerLogGroup", "APIHandler"), ("ConsumerLogGroup", "Consumer")):
        resources[group] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{function}}}"}},
        }
    return {"Resources": resources}


def test_a_fully_covered_template_passes() -> None:
    assert problems(_sound()) == []


def test_a_new_function_without_alarms_or_log_grant_is_named() -> None:
    template = _sound()
    template["Resources"]["Sweep"] = _function()
    template["Resources"]["SweepLogGroup"] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${Sweep}"}},
    }
    assert problems(template) == [
        "SweepLogGroup is missing from WriteOwnLogsPolicy",
        "Sweep is missing from LambdaErrorsAlarm",
        "Sweep is missing from LambdaThrottlesAlarm",
    ]


def test_a_table_the_role_cannot_reach_is_named() -> None:
    template = _sound()
    template["Resources"]["Other"] = {"Type": "AWS::DynamoDB::Table"}
    assert problems(template) == ["DefaultRole grants nothing on Other"]


def test_chalices_wildcard_policy_left_in_place_is_named() -> None:
    template = _sound()
    policies = template["Resources"]["DefaultRole"]["Properties"]["Policies"]
    policies.append({"PolicyName": "DefaultRolePolicy", "PolicyDocument": {"Statement": []}})
    assert problems(template) == [
        "DefaultRole still has Chalice's wildcard policy: override Policies"
    ]


def test_a_log_group_naming_a_function_that_does_not_exist_is_named() -> None:
    template = _sound()
    group = template["Resources"]["ApiHandlerLogGroup"]["Properties"]
    group["LogGroupName"] = {"Fn::Sub": "/aws/lambda/${ApiHandler}"}
    assert "ApiHandlerLogGroup names ApiHandler, which is not a function" in problems(template)[0]


def test_a_dead_letter_queue_without_an_alarm_is_named() -> None:
    template = _sound()
    del template["Resources"]["DlqAlarm"]
    assert problems(template) == ["dead-letter queue Dlq has no alarm"]


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
    assert len(problems(template)) == 1
    assert "Consumer.Events.Source.Properties.Queue" in problems(template)[0]
