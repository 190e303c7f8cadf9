"""Operator counters as CloudWatch Embedded Metric Format lines (Powertools):
CloudWatch turns the log line into a metric, so no API call is made."""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib.logging import SERVICE

NAMESPACE = "CourseMedia"


class EmfMetrics:
    def __init__(self, namespace: str = NAMESPACE) -> None:
        self._namespace = namespace

    def count(
        self,
        name: str,
        value: float = 1,
        unit: str = "Count",
        *,
        dimensions: Mapping[str, str] | None = None,
    ) -> None:
        """One metric datum; `dimensions` split it (a drop's reason, say)."""
        with single_metric(
            name=name,
            unit=MetricUnit(unit),
            value=value,
            namespace=self._namespace,
            default_dimensions={"service": SERVICE, **(dimensions or {})},
        ):
            pass
