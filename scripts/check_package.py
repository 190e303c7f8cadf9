"""Check the packaged template for what cfn-lint cannot know.

`chalice package` names its resources itself and infra/template.json overrides
some of them by name (DefaultRole, RestAPI, the log groups). When someone adds
a Lambda handler, a table, a bucket or a queue, this check fails `make package`
with the exact thing infra/template.json is missing, instead of a deployment
that silently has no alarm, no log permission or no access.

It also runs CloudFormation's own SAM transform (aws-sam-translator) on the
template and writes the result next to it (transformed.json) for a second
cfn-lint pass: cfn-lint checks SAM resources against a schema only, so a
malformed GatewayResponses or event source would otherwise surface at deploy.

Last, it unzips deployment.zip and imports app.py and every chalicelib module
from it in a Python that sees only the package and what the Lambda runtime
provides (boto3 and its dependencies): a runtime dependency missing from
requirements.txt fails here, not in production.

Usage: python -m scripts.check_package build/package/sam.json
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Template = dict[str, Any]

ROLE = {"Fn::GetAtt": ["DefaultRole", "Arn"]}

# `aws cloudformation package` replaces each local CodeUri with the S3 location
# it uploads to; the transform only demands that shape.
UPLOADED_CODE = "s3://course-media-artifacts/deployment.zip"


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _refs(node: Any) -> set[str]:
    """Every logical id a subtree points at through Ref, GetAtt or ${...} in Sub."""
    found: set[str] = set()
    for item in _walk(node):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("Ref"), str):
            found.add(item["Ref"])
        if isinstance(item.get("Fn::GetAtt"), list):
            found.add(str(item["Fn::GetAtt"][0]))
        sub = item.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) else sub
        if isinstance(text, str):
            for part in text.split("${")[1:]:
                found.add(part.split("}")[0].split(".")[0])
    return found


def _of_type(template: Template, kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v.get("Type") == kind}


def _role_statements(template: Template) -> list[dict[str, Any]]:
    """DefaultRole's statements: its inline policies and AWS::IAM::Policy
    resources attached to it (kept apart where a GetAtt would make a cycle)."""
    role = template["Resources"].get("DefaultRole", {})
    documents = [p["PolicyDocument"] for p in role.get("Properties", {}).get("Policies", [])]
    for policy in _of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": "DefaultRole"} in policy["Properties"].get("Roles", []):
            documents.append(policy["Properties"]["PolicyDocument"])
    statements: list[dict[str, Any]] = []
    for document in documents:
        listed = document["Statement"]
        statements.extend(listed if isinstance(listed, list) else [listed])
    return statements


def problems(template: Template) -> list[str]:
    found: list[str] = []
    resources = template["Resources"]
    functions = _of_type(template, "AWS::Serverless::Function")
    if not functions:
        return ["no Lambda function in the package"]

    # One role for every function, and it carries only our policies.
    for name, fn in functions.items():
        if fn["Properties"].get("Role") != ROLE:
            found.append(f"{name} does not use DefaultRole (set autogen_policy in .chalice)")
    role = resources.get("DefaultRole", {}).get("Properties", {})
    policy_names = {p["PolicyName"] for p in role.get("Policies", [])}
    if "DefaultRolePolicy" in policy_names:
        found.append("DefaultRole still has Chalice's wildcard policy: override Policies")
    actions_to = [
        (s.get("Action", []), _refs(s.get("Resource", []))) for s in _role_statements(template)
    ]
    granted = set().union(*(refs for _, refs in actions_to)) if actions_to else set()

    # Logs: each function's log group exists, names a real function and may be written.
    log_policy = resources.get("WriteOwnLogsPolicy", {})
    writable = _refs(log_policy.get("Properties", {}).get("PolicyDocument", {}))
    logged: set[str] = set()
    for name, group in _of_type(template, "AWS::Logs::LogGroup").items():
        targets = _refs(group["Properties"].get("LogGroupName"))
        logged |= targets & set(functions)
        for target in targets - set(functions):
            found.append(f"{name} names {target}, which is not a function (override LogGroupName)")
        if name not in writable:
            found.append(f"{name} is missing from WriteOwnLogsPolicy")
    for name in sorted(set(functions) - logged):
        found.append(f"{name} has no log group (log_retention_in_days in .chalice/config.json)")

    # Alarms: every function is in the errors and throttles alarms.
    for alarm in ("LambdaErrorsAlarm", "LambdaThrottlesAlarm"):
        metrics = resources.get(alarm, {}).get("Properties", {}).get("Metrics", [])
        if len(metrics) > 10:
            found.append(f"{alarm} has {len(metrics)} metrics; CloudWatch allows 10: split it")
        covered = _refs(metrics)
        for name in sorted(set(functions) - covered):
            found.append(f"{name} is missing from {alarm}")

    # Data: functions may reach every table, bucket and working queue, nothing else.
    queues = _of_type(template, "AWS::SQS::Queue")
    dead_letter = {
        ref
        for q in queues.values()
        for ref in _refs(q.get("Properties", {}).get("RedrivePolicy", {}))
    }
    data = (
        set(_of_type(template, "AWS::DynamoDB::Table"))
        | set(_of_type(template, "AWS::S3::Bucket"))
        | (set(queues) - dead_letter)
    )
    for name in sorted(data - granted):
        found.append(f"DefaultRole grants nothing on {name}")
    alarmed = _refs(list(_of_type(template, "AWS::CloudWatch::Alarm").values()))
    for name in sorted(dead_letter - alarmed):
        found.append(f"dead-letter queue {name} has no alarm")

    # Event sources point at the template's queues, not at a name typed in app.py.
    # Chalice writes {"Fn::Sub": arn-with-that-name}; the override must use the
    # same key, or the deep merge leaves two functions in one value.
    for name, fn in functions.items():
        for event_name, event in fn["Properties"].get("Events", {}).items():
            queue = event.get("Properties", {}).get("Queue")
            if event.get("Type") != "SQS":
                continue
            if not isinstance(queue, dict) or len(queue) != 1 or not _refs(queue) & set(queues):
                found.append(
                    f"{name}.Events.{event_name}.Properties.Queue must be exactly "
                    '{"Fn::Sub": "${YourQueue.Arn}"} for a queue in infra/template.json'
                )

    # WebSocket: handlers can post to connections and know where.
    if "WebsocketAPI" in resources:
        variables = template.get("Globals", {}).get("Function", {}).get("Environment", {})
        if "WEBSOCKET_ENDPOINT" not in variables.get("Variables", {}):
            found.append("Globals lack WEBSOCKET_ENDPOINT for the WebSocket API")
        if not any(
            "execute-api:ManageConnections" in actions and "WebsocketAPI" in refs
            for actions, refs in actions_to
        ):
            found.append("DefaultRole lacks execute-api:ManageConnections on WebsocketAPI")
    return found


# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

IMPORT_EVERYTHING = """
import importlib, pkgutil
import app, chalicelib
for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    importlib.import_module(module.name)
"""


def import_check(package: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        task, runtime = Path(tmp, "task"), Path(tmp, "runtime")
        with zipfile.ZipFile(package) as archive:
            archive.extractall(task)
        runtime.mkdir()
        for name in RUNTIME_PROVIDED:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                return [f"{name} is not installed here, so the import check cannot run"]
            origin = Path(spec.origin)
            source = origin.parent if origin.name == "__init__.py" else origin
            (runtime / source.name).symlink_to(source)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": f"{task}{os.pathsep}{runtime}",
            "PYTHONNOUSERSITE": "1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        # -S: no site-packages, so nothing from this virtualenv leaks in.
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-S", "-c", IMPORT_EVERYTHING],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        return [f"{package.name} does not import alone: {result.stderr.strip().splitlines()[-1]}"]
    return []


class _NoManagedPolicies:
    """The transform asks for AWS managed policy ARNs only when a function
    names one in `Policies`; ours use DefaultRole, so the answer is empty."""

    def load(self) -> dict[str, str]:
        return {}


def sam_transform(template: Template) -> tuple[Template | None, list[str]]:
    from samtranslator.model.exceptions import InvalidDocumentException  # type: ignore[import-untyped]
    from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

    document = copy.deepcopy(template)
    for resource in document["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = UPLOADED_CODE
    try:
        transformed: Template = transform(document, {}, _NoManagedPolicies())
    except InvalidDocumentException as exc:
        return None, [f"SAM transform: {cause.message}" for cause in exc.causes]
    return transformed, []


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "build/package/sam.json")
    template = json.loads(path.read_text())
    found = problems(template)
    transformed, refused = sam_transform(template)
    found += refused
    if transformed is not None:
        (path.parent / "transformed.json").write_text(json.dumps(transformed, indent=1))
    package = path.parent / "deployment.zip"
    if package.exists():
        found += import_check(package)
    for problem in found:
        print(f"check_package: {problem}", file=sys.stderr)
    functions = sorted(_of_type(template, "AWS::Serverless::Function"))
    if not found:
        print(f"check_package: {len(template['Resources'])} resources, functions {functions}: ok")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
