"""What scripts/check_package.py asserts about the packaged template, by concern:
roles.py (one least-privilege role per function), observability.py (logs,
alarms, the dashboard, tracing) and edges.py (access logs, throttling,
concurrency, event sources). Each check is generic: a function, table, bucket
or queue someone adds later fails `make package` until it is covered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

Template = dict[str, Any]
Resources = dict[str, Any]

FUNCTION = "AWS::Serverless::Function"
_SUB_REF = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z]+)?\}")


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def refs(node: Any) -> set[str]:
    """Every logical id a subtree points at through Ref, GetAtt or ${...} in Sub."""
    found: set[str] = set()
    for item in walk(node):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("Ref"), str):
            found.add(item["Ref"])
        if isinstance(item.get("Fn::GetAtt"), list):
            found.add(str(item["Fn::GetAtt"][0]))
        sub = item.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) else sub
        if isinstance(text, str):
            found.update(_SUB_REF.findall(text))
    return found


def of_type(template: Template, kind: str) -> Resources:
    return {k: v for k, v in template["Resources"].items() if v.get("Type") == kind}


def functions(template: Template) -> Resources:
    return of_type(template, FUNCTION)


def queues(template: Template) -> tuple[set[str], set[str]]:
    """(working queues, dead-letter queues): a queue another names in its RedrivePolicy."""
    found = of_type(template, "AWS::SQS::Queue")
    dead = {r for q in found.values() for r in refs(q.get("Properties", {}).get("RedrivePolicy"))}
    return set(found) - dead, dead & set(found)


def log_buckets(template: Template) -> set[str]:
    """Buckets other buckets write their server access logs to."""
    return {
        r
        for b in of_type(template, "AWS::S3::Bucket").values()
        for r in refs(b.get("Properties", {}).get("LoggingConfiguration", {}))
    }


def props(resource: Any) -> dict[str, Any]:
    found = resource.get("Properties", {}) if isinstance(resource, dict) else {}
    return found if isinstance(found, dict) else {}
