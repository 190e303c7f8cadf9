"""Logs, alarms, the dashboard and tracing cover every function, table and queue,
and every alarm named in issue 14 exists, notifies the topic and has a runbook."""

from __future__ import annotations

import json
import re
from typing import Any

from scripts.package_checks import Template, functions, of_type, props, queues, refs

ALARM = "AWS::CloudWatch::Alarm"
TOPIC = {"Ref": "AlarmTopic"}
EMF = "CourseMedia"
RUNBOOK = re.compile(r"docs/OPERATIONS\.md#([a-z0-9-]+)")
DURATION_SHARE = 0.8

# Issue 14's alarms beyond the per-function, per-queue ones: what each watches.
REQUIRED_ALARMS: dict[str, tuple[str, set[str]]] = {
    "ApiServerErrorsAlarm": ("AWS/ApiGateway", {"5XXError"}),
    "WebSocketErrorsAlarm": ("AWS/ApiGateway", {"IntegrationError", "ExecutionError"}),
    "DynamoDbThrottlesAlarm": ("AWS/DynamoDB", {"ThrottledRequests"}),
    "DynamoDbSystemErrorsAlarm": ("AWS/DynamoDB", {"SystemErrors"}),
    "FanoutFailuresAlarm": (EMF, {"FanoutFailed"}),
    "FanoutThrottledAlarm": (EMF, {"FanoutThrottled"}),
    "ProcessingFailuresAlarm": (EMF, {"UploadsFailed", "ProcessingFailed"}),
}
TABLE_ALARMS = ("DynamoDbThrottlesAlarm", "DynamoDbSystemErrorsAlarm")

# The dashboard's project metrics (chalicelib/metrics.py's EMF counters).
DASHBOARD_EMF = (
    "UploadsStarted",
    "UploadsCompleted",
    "UploadsFailed",
    "UploadsAborted",
    "MediaProcessed",
    "ProcessingFailed",
    "ProgressBroadcasts",
    "FanoutDelivered",
    "FanoutGone",
    "FanoutThrottled",
    "FanoutFailed",
)
_INSIGHTS = re.compile(r"SELECT\s+\w+\((\w+)\)\s+FROM\s+SCHEMA\(\"([^\"]+)\"", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z]+))?\}")


def _watched(alarm: dict[str, Any]) -> set[tuple[str, str]]:
    """(namespace, metric) pairs an alarm reads, whichever form it takes."""
    p = props(alarm)
    found = set()
    if "MetricName" in p:
        found.add((str(p.get("Namespace")), str(p["MetricName"])))
    for metric in p.get("Metrics", []):
        stat = metric.get("MetricStat", {}).get("Metric", {})
        if stat:
            found.add((str(stat.get("Namespace")), str(stat.get("MetricName"))))
        expression = metric.get("Expression")
        text = expression.get("Fn::Sub") if isinstance(expression, dict) else expression
        if isinstance(text, str):
            found.update((ns, name) for name, ns in _INSIGHTS.findall(text))
    return found


def alarm_problems(template: Template, anchors: set[str]) -> list[str]:
    found: list[str] = []
    resources = template["Resources"]
    alarms = of_type(template, ALARM)
    fns = functions(template)
    tables = set(of_type(template, "AWS::DynamoDB::Table"))
    for name, alarm in sorted(alarms.items()):
        p = props(alarm)
        if TOPIC not in p.get("AlarmActions", []) or TOPIC not in p.get("OKActions", []):
            found.append(f"{name} does not notify AlarmTopic (AlarmActions and OKActions)")
        anchor = RUNBOOK.search(str(p.get("AlarmDescription", "")))
        if anchor is None:
            found.append(f"{name}'s AlarmDescription names no docs/OPERATIONS.md#section")
        elif anchor.group(1) not in anchors:
            found.append(f"{name}'s runbook docs/OPERATIONS.md#{anchor.group(1)} does not exist")
    for name, (namespace, metrics) in REQUIRED_ALARMS.items():
        if name not in alarms:
            found.append(f"{name} is missing (it watches {namespace} {', '.join(sorted(metrics))})")
            continue
        missing = {(namespace, m) for m in metrics} - _watched(alarms[name])
        for ns, metric in sorted(missing):
            found.append(f"{name} does not watch {ns} {metric}")
    ws_alarm = alarms.get("WebSocketErrorsAlarm")
    if ws_alarm and "WebsocketAPI" in resources and "WebsocketAPI" not in refs(ws_alarm):
        found.append("WebSocketErrorsAlarm does not watch WebsocketAPI")
    for name in TABLE_ALARMS:
        if name in alarms:
            for table in sorted(tables - refs(alarms[name])):
                found.append(f"{name} does not watch {table}")

    for alarm_name in ("LambdaErrorsAlarm", "LambdaThrottlesAlarm"):
        metrics = props(resources.get(alarm_name, {})).get("Metrics", [])
        if len(metrics) > 10:
            found.append(f"{alarm_name} has {len(metrics)} metrics; CloudWatch allows 10: split it")
        for fn in sorted(set(fns) - refs(metrics)):
            found.append(f"{fn} is missing from {alarm_name}")
    for fn, body in sorted(fns.items()):
        timeout = props(body).get("Timeout", 3)
        threshold = DURATION_SHARE * float(timeout) * 1000
        if not any(_is_duration_alarm(a, fn, threshold) for a in alarms.values()):
            found.append(
                f"{fn} has no p99 Duration alarm at {threshold:.0f} ms "
                f"(80% of its {timeout} s timeout)"
            )
    working, dead = queues(template)
    watched_by = {
        q: {m for a in alarms.values() if q in refs(a) for _, m in _watched(a)}
        for q in working | dead
    }
    for queue in sorted(dead):
        if "ApproximateNumberOfMessagesVisible" not in watched_by[queue]:
            found.append(f"dead-letter queue {queue} has no alarm")
    for queue in sorted(working):
        if "ApproximateAgeOfOldestMessage" not in watched_by[queue]:
            found.append(f"queue {queue} has no ApproximateAgeOfOldestMessage (backlog) alarm")

    email = [
        s
        for s in of_type(template, "AWS::SNS::Subscription").values()
        if props(s).get("TopicArn") == TOPIC and props(s).get("Endpoint") == {"Ref": "AlarmEmail"}
    ]
    if "AlarmEmail" not in template.get("Parameters", {}) or not email:
        found.append("AlarmTopic has no subscription to the AlarmEmail stack parameter")
    return found


def _is_duration_alarm(alarm: dict[str, Any], fn: str, threshold: float) -> bool:
    p = props(alarm)
    return (
        p.get("Namespace") == "AWS/Lambda"
        and p.get("MetricName") == "Duration"
        and p.get("ExtendedStatistic") == "p99"
        and {"Name": "FunctionName", "Value": {"Ref": fn}} in p.get("Dimensions", [])
        and abs(float(p.get("Threshold", -1)) - threshold) < 1
    )


def dashboard_metrics(body: dict[str, Any]) -> tuple[set[tuple[str, str, str, str]], set[str]]:
    """(namespace, metric, dimension value, stat) for every metric line, and the
    alarms an alarm widget lists. Dimension values are logical ids where a
    ${Logical} or ${Logical.Attr} stood."""
    lines: set[tuple[str, str, str, str]] = set()
    alarms: set[str] = set()
    for widget in body.get("widgets", []):
        p = widget.get("properties", {})
        if widget.get("type") == "alarm":
            alarms.update(_PLACEHOLDER.sub(lambda m: m.group(1), a) for a in p.get("alarms", []))
        for metric in p.get("metrics", []):
            options = metric[-1] if metric and isinstance(metric[-1], dict) else {}
            names = [m for m in metric if isinstance(m, str)]
            if "expression" in options:
                text = str(options["expression"])
                for ref in _PLACEHOLDER.findall(text):
                    for found in re.findall(r'MetricName="(\w+)"', text):
                        lines.add(("search", found, ref[0], "Sum"))
                continue
            if len(names) < 2:
                continue
            stat = str(options.get("stat", p.get("stat", "Average")))
            dims = names[2:]
            values = [_PLACEHOLDER.sub(lambda m: m.group(1), v) for v in dims[1::2]] or [""]
            for value in values:
                lines.add((names[0], names[1], value, stat))
    return lines, alarms


def dashboard_problems(template: Template) -> list[str]:
    boards = of_type(template, "AWS::CloudWatch::Dashboard")
    if len(boards) != 1:
        return [f"the package has {len(boards)} dashboards; one operator dashboard expected"]
    (board,) = boards.values()
    body = props(board).get("DashboardBody")
    text = body.get("Fn::Sub") if isinstance(body, dict) else body
    try:
        parsed = json.loads(text) if isinstance(text, str) else {}
    except json.JSONDecodeError as exc:
        return [f"the dashboard body is not JSON: {exc}"]
    lines, listed = dashboard_metrics(parsed)
    names = {(ns, metric, value) for ns, metric, value, _ in lines}
    found: list[str] = []

    def need(ns: str, metric: str, value: str, what: str, stat: str | None = None) -> None:
        ok = any(
            line[:3] == (ns, metric, value) and (stat is None or line[3] == stat) for line in lines
        )
        if not ok:
            found.append(f"the dashboard lacks {what}")

    for metric in DASHBOARD_EMF:
        need(EMF, metric, "course-media", f"{EMF} {metric}")
    for fn in sorted(functions(template)):
        need("AWS/Lambda", "Invocations", fn, f"{fn} invocations")
        need("AWS/Lambda", "Errors", fn, f"{fn} errors")
        need("AWS/Lambda", "Duration", fn, f"{fn} p50 duration", "p50")
        need("AWS/Lambda", "Duration", fn, f"{fn} p99 duration", "p99")
    rest = "AWS::StackName-rest"
    for metric in ("4XXError", "5XXError", "Latency"):
        need("AWS/ApiGateway", metric, rest, f"REST {metric}")
    if "WebsocketAPI" in template["Resources"]:
        for metric in ("ConnectCount", "MessageCount", "IntegrationError"):
            need("AWS/ApiGateway", metric, "WebsocketAPI", f"WebSocket {metric}")
    for table in sorted(of_type(template, "AWS::DynamoDB::Table")):
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
            need("AWS/DynamoDB", metric, table, f"{table} {metric}")
        if ("search", "SystemErrors", table) not in names:
            found.append(f"the dashboard lacks {table} SystemErrors")
    working, dead = queues(template)
    for queue in sorted(working):
        need("AWS/SQS", "ApproximateAgeOfOldestMessage", queue, f"{queue}'s oldest message age")
    for queue in sorted(dead):
        need("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue, f"{queue}'s depth")
    for alarm in sorted(set(of_type(template, ALARM)) - listed):
        found.append(f"the dashboard's alarm widget lacks {alarm}")
    return found


def tracing_problems(template: Template) -> list[str]:
    found: list[str] = []
    switch = {"Fn::If": ["TracingEnabled", "Active", "PassThrough"]}
    if "Tracing" not in template.get("Parameters", {}):
        found.append("no Tracing stack parameter switches OpenTelemetry")
    glob = template.get("Globals", {}).get("Function", {})
    layers = json.dumps(glob.get("Layers"))
    if "TracingEnabled" not in layers or "OtelLayer" not in layers:
        found.append("Globals.Function.Layers lack the ADOT layer under TracingEnabled")
    wrapper = glob.get("Environment", {}).get("Variables", {}).get("AWS_LAMBDA_EXEC_WRAPPER")
    if not isinstance(wrapper, dict) or "/opt/otel-instrument" not in str(wrapper):
        found.append("Globals lack AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-instrument (TracingEnabled)")
    for name, fn in sorted(functions(template).items()):
        if props(fn).get("Tracing") != switch:
            found.append(f"{name}.Tracing must be {json.dumps(switch)}")
    return found


def log_problems(template: Template) -> list[str]:
    """Each function's log group exists and names a real function."""
    found: list[str] = []
    fns = set(functions(template))
    logged: set[str] = set()
    for name, group in of_type(template, "AWS::Logs::LogGroup").items():
        log_name = props(group).get("LogGroupName")
        text = log_name.get("Fn::Sub", "") if isinstance(log_name, dict) else ""
        if not str(text).startswith("/aws/lambda/"):
            continue
        targets = refs(log_name)
        logged |= targets & fns
        for target in sorted(targets - fns):
            found.append(f"{name} names {target}, which is not a function (override LogGroupName)")
    for name in sorted(fns - logged):
        found.append(f"{name} has no log group (log_retention_in_days in .chalice/config.json)")
    return found
