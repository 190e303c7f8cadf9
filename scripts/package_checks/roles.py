"""One role per function, allowing exactly what infra/function-access.json says
the function calls: a role that allows more, or less, fails `make package`.

Two grants are every function's own and are not declared: writing its own log
group, and sending traces while the stack's Tracing parameter is Enabled (the
ADOT layer's collector exports to X-Ray)."""

from __future__ import annotations

import re
from typing import Any

from scripts.package_checks import Template, functions, log_buckets, of_type, props, queues

Access = dict[str, dict[str, list[str]]]
Grant = tuple[str, str]  # (resource, action)

DECLARATION = "infra/function-access.json"
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
TRACE_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
TRACING = "TracingEnabled"
SQS_CONSUMER = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")

_ARN_PREFIX = re.compile(
    r"^arn:\$\{AWS::Partition\}:[a-z0-9-]+:(\$\{AWS::Region\}|[^:]*):(\$\{AWS::AccountId\}|[^:]*):"
)
_SUB_REF = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.Arn)?\}")


def resource_name(node: Any) -> str:
    """A statement's resource as the declaration writes it: the logical id, then
    the ARN's path (`MediaBucket/uploads/*`, `WebsocketAPI/api/POST/@connections/*`)."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and isinstance(node.get("Fn::GetAtt"), list):
        return str(node["Fn::GetAtt"][0])
    if isinstance(node, dict) and isinstance(node.get("Fn::Sub"), str):
        text = _ARN_PREFIX.sub("", node["Fn::Sub"])
        return _SUB_REF.sub(lambda m: m.group(1), text)
    if isinstance(node, dict) and isinstance(node.get("Ref"), str):
        return str(node["Ref"])
    return repr(node)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


Conditioned = list[tuple[dict[str, Any], str | None]]


def _statements(document: Any, condition: str | None = None) -> Conditioned:
    """Each statement with the condition it is under (Fn::If's branches both count)."""
    found: Conditioned = []
    for statement in _listed(document.get("Statement", [])):
        if isinstance(statement, dict) and "Fn::If" in statement:
            name, *branches = statement["Fn::If"]
            for branch in branches:
                if isinstance(branch, dict) and branch != {"Ref": "AWS::NoValue"}:
                    found.extend(_statements({"Statement": [branch]}, name))
        elif isinstance(statement, dict):
            found.append((statement, condition))
    return found


def _documents(template: Template, role: str) -> list[Any]:
    inline = props(template["Resources"][role]).get("Policies", [])
    documents = [p.get("PolicyDocument", {}) for p in inline]
    for policy in of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in props(policy).get("Roles", []):
            documents.append(props(policy).get("PolicyDocument", {}))
    return documents


def role_of(fn: dict[str, Any]) -> str | None:
    role = props(fn).get("Role")
    if isinstance(role, dict) and isinstance(role.get("Fn::GetAtt"), list):
        return str(role["Fn::GetAtt"][0])
    return None


def log_group_of(template: Template, function: str) -> str | None:
    for name, group in of_type(template, "AWS::Logs::LogGroup").items():
        if props(group).get("LogGroupName") == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}:
            return name
    return None


def _grants(template: Template, role: str, function: str) -> tuple[set[Grant], list[str]]:
    """What the role allows beyond its function's own log group and traces."""
    found: set[Grant] = set()
    problems: list[str] = []
    own_logs = log_group_of(template, function)
    for document in _documents(template, role):
        for statement, condition in _statements(document):
            if statement.get("Effect") == "Deny" and statement.get("Action") == "*":
                problems.append(
                    f"{role} still has the deny-all placeholder (.chalice/deny-all.json): give "
                    f"{function} its policy in infra/template.json and its calls in {DECLARATION}"
                )
                continue
            if "NotAction" in statement or "NotResource" in statement:
                problems.append(f"{role} uses NotAction/NotResource: name what {function} calls")
                continue
            if statement.get("Effect") != "Allow":
                continue
            for action in _listed(statement.get("Action", [])):
                for resource in _listed(statement.get("Resource", [])):
                    name = resource_name(resource)
                    if action in LOG_ACTIONS and own_logs is not None and name == own_logs:
                        continue
                    if action in TRACE_ACTIONS and name == "*" and condition == TRACING:
                        continue
                    found.add((name, str(action)))
    managed = props(template["Resources"][role]).get("ManagedPolicyArns")
    if managed:
        problems.append(f"{role} has managed policies: grant what {function} calls instead")
    return found, problems


def _declared(access: Access, function: str) -> set[Grant]:
    return {(res, act) for res, actions in access.get(function, {}).items() for act in actions}


def problems(template: Template, declared_access: dict[str, Any]) -> list[str]:
    # Keys starting with "_" are the file's comments.
    access: Access = {k: v for k, v in declared_access.items() if not k.startswith("_")}
    found: list[str] = []
    resources = template["Resources"]
    fns = functions(template)
    users: dict[str, list[str]] = {}
    for name, fn in fns.items():
        role = role_of(fn)
        if role is None or resources.get(role, {}).get("Type") != "AWS::IAM::Role":
            found.append(f"{name} has no role of its own in the template (autogen_policy false)")
            continue
        users.setdefault(role, []).append(name)
    for role, names in sorted(users.items()):
        if len(names) > 1:
            found.append(f"{role} is shared by {', '.join(sorted(names))}: one role per function")
    for name in sorted(set(access) - set(fns)):
        found.append(f"{DECLARATION} declares {name}, which is not a function in the package")

    for name, fn in sorted(fns.items()):
        role = role_of(fn)
        if role is None or role not in resources:
            continue
        if name not in access:
            found.append(f"{name} is missing from {DECLARATION}: declare what it calls")
        granted, refused = _grants(template, role, name)
        found += refused
        declared = _declared(access, name)
        for resource, action in sorted(granted - declared):
            found.append(
                f"{role} allows {action} on {resource}, which {name} does not call ({DECLARATION})"
            )
        for resource, action in sorted(declared - granted):
            found.append(f"{role} lacks {action} on {resource}, which {name} calls ({DECLARATION})")
        group = log_group_of(template, name)
        if group is not None and not _writes_logs(template, role, group):
            found.append(f"{role} cannot write {name}'s log group {group}")
        for event_name, event in props(fn).get("Events", {}).items():
            if event.get("Type") != "SQS":
                continue
            queue = resource_name(props(event).get("Queue"))
            queue = queue.removesuffix(".Arn")
            for action in SQS_CONSUMER:
                if (queue, action) not in declared:
                    found.append(f"{name}.Events.{event_name} reads {queue} but lacks {action}")

    # Every table, bucket and working queue is reached by some function.
    reached = {res.split("/")[0] for fn_access in access.values() for res in fn_access}
    working, _ = queues(template)
    data = (
        set(of_type(template, "AWS::DynamoDB::Table"))
        | (set(of_type(template, "AWS::S3::Bucket")) - log_buckets(template))
        | working
    )
    for name in sorted(data - reached):
        found.append(f"no function's role grants anything on {name} ({DECLARATION})")
    if "WebsocketAPI" in resources and not any(
        res.startswith("WebsocketAPI/") and "execute-api:ManageConnections" in acts
        for fn_access in access.values()
        for res, acts in fn_access.items()
    ):
        found.append("no function may post to WebsocketAPI's connections (ManageConnections)")
    return found


def _writes_logs(template: Template, role: str, group: str) -> bool:
    for document in _documents(template, role):
        for statement, _ in _statements(document):
            actions = set(_listed(statement.get("Action", [])))
            names = {resource_name(r) for r in _listed(statement.get("Resource", []))}
            allowed = statement.get("Effect") == "Allow" and set(LOG_ACTIONS) <= actions
            if allowed and group in names:
                return True
    return False
