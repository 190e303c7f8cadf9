"""scripts/package_checks/edges.py's queue-policy check: a queue a bucket
notifies accepts S3's messages from that bucket of this account only, so no
other bucket can put claims on the S3-event queue."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from scripts.package_checks.edges import queue_policy_problems

BUCKET_NAME = {"Fn::Sub": ["media-${AWS::AccountId}-${Key}", {"Key": "k"}]}
BUCKET_ARN = {
    "Fn::Sub": ["arn:${AWS::Partition}:s3:::media-${AWS::AccountId}-${Key}", {"Key": "k"}]
}


def _notifying() -> dict[str, Any]:
    """A bucket that notifies Queue, and the queue policy that lets only that
    bucket of this account send."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
            "ArnEquals": {"aws:SourceArn": copy.deepcopy(BUCKET_ARN)},
        },
    }
    return {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": copy.deepcopy(BUCKET_NAME),
                    "NotificationConfiguration": {
                        "QueueConfigurations": [{"Queue": {"Fn::GetAtt": ["Queue", "Arn"]}}]
                    },
                },
            },
            "QueuePolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{"Ref": "Queue"}],
                    "PolicyDocument": {"Statement": [statement]},
                },
            },
        }
    }


def _condition(template: dict[str, Any]) -> dict[str, Any]:
    policy = template["Resources"]["QueuePolicy"]["Properties"]["PolicyDocument"]
    condition: dict[str, Any] = policy["Statement"][0]["Condition"]
    return condition


def test_a_queue_only_its_bucket_of_this_account_may_notify_passes() -> None:
    assert queue_policy_problems(_notifying()) == []


def test_a_queue_any_bucket_may_notify_is_named() -> None:
    template = _notifying()
    _condition(template)["ArnEquals"]["aws:SourceArn"] = {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}
    assert queue_policy_problems(template) == [
        "Queue's policy must require aws:SourceArn = Bucket's ARN"
    ]


def test_a_queue_any_account_may_notify_is_named() -> None:
    template = _notifying()
    del _condition(template)["StringEquals"]
    assert queue_policy_problems(template) == [
        "Queue's policy must require aws:SourceAccount = this account"
    ]


def test_a_notified_queue_without_a_policy_for_s3_is_named() -> None:
    template = _notifying()
    del template["Resources"]["QueuePolicy"]
    assert queue_policy_problems(template) == ["no queue policy lets Bucket send to Queue"]


def test_a_notifying_bucket_without_a_name_to_put_in_the_policy_is_named() -> None:
    template = _notifying()
    del template["Resources"]["Bucket"]["Properties"]["BucketName"]
    assert queue_policy_problems(template) == [
        "Bucket needs a BucketName (Fn::Sub) so Queue's policy can name it"
    ]


def test_the_stacks_template_lets_only_the_media_bucket_of_its_account_notify() -> None:
    template = json.loads((Path(__file__).parents[2] / "infra" / "template.json").read_text())
    assert queue_policy_problems(template) == []
    statement = template["Resources"]["S3EventsQueuePolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ][0]
    assert "*" not in json.dumps(statement["Condition"])
