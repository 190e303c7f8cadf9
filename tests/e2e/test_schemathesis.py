"""docs/openapi.json against the running local stack, by Schemathesis: every
operation, schema-valid and schema-violating requests, every check.

The document promises that a request it allows is accepted (or answered with a
status it declares for the resource's state), that one it forbids is refused,
that every answer's status is declared and its body matches, and that nothing
answers 5xx. The CLI runs with a fixed seed and 5 examples per operation
(tests/e2e/schemathesis.toml says what else is configured, and why;
tests/e2e/schemathesis_hooks.py how page tokens and state-bound 400s are
handled), and the test prints what it ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

SEED = 20261203
USER = "schemathesis"
RUN_TIMEOUT_SECONDS = 300


def _genuine_course_page_token(stack: Stack) -> str:
    for title in ("First", "Second"):
        assert stack.call("POST", "/courses", USER, {"title": title}).status_code == 201
    page = stack.call("GET", "/courses?limit=1", USER).json()
    return str(page["nextToken"])


def _run(stack: Stack, report: Path, har: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
        "SCHEMATHESIS_PAGE_TOKENS": json.dumps({"/courses": _genuine_course_page_token(stack)}),
    }
    command = [
        sys.executable, "-m", "schemathesis.cli",
        "--config-file", str(ROOT / "tests" / "e2e" / "schemathesis.toml"),
        "run", str(ROOT / "docs" / "openapi.json"),
        "--url", stack.api(""),
        "--header", f"Authorization: Bearer {stack.token(USER)}",
        "--seed", str(SEED),
        "--mode", "all",
        "--checks", "all",
        "--workers", "2",
        "--report", "json,har",
        "--report-json-path", str(report),
        "--report-har-path", str(har),
    ]  # fmt: skip
    return subprocess.run(  # noqa: S603 (our interpreter, fixed arguments)
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS
    )


def test_the_api_answers_as_docs_openapi_json_says(stack: Stack, tmp_path: Path) -> None:
    report_path, har_path = tmp_path / "report.json", tmp_path / "requests.har"
    run = _run(stack, report_path, har_path)
    assert report_path.exists(), run.stdout[-6000:] + run.stderr[-3000:]
    report: dict[str, Any] = json.loads(report_path.read_text())
    requests_sent = len(json.loads(har_path.read_text())["log"]["entries"])
    operations = report["operations"]
    failures = sum(f["count"] for f in report["failures"])
    print(
        f"\nschemathesis {report['schemathesis_version']}, seed {report['seed']}: "
        f"{operations['tested']} operations, {report['test_cases']['generated']} test cases, "
        f"{requests_sent} requests, {failures} failures, {len(report['errors'])} errors, "
        f"{report['filtered']} state-bound 400s excused, {report['running_time']:.1f} s"
    )
    documented = json.loads((ROOT / "docs" / "openapi.json").read_text())["paths"]
    assert operations["tested"] == sum(len(methods) for methods in documented.values())
    assert operations["errored"] == 0
    assert (failures, report["errors"]) == (0, []), run.stdout[-12000:]
    assert run.returncode == 0, run.stdout[-6000:]
