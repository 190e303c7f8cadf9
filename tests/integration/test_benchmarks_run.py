"""The benchmarks in bench/ keep running as the code changes (a tiny
configuration each; their figures are read from full runs, not here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AUTH_"))}
    result = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


@pytest.mark.integration
def test_the_progress_benchmark_runs_and_never_exceeds_four_broadcasts_a_second() -> None:
    # A step small enough that every report is news: the 4-a-second limit binds.
    out = run_bench("bench.progress", "--rate", "40", "--seconds", "2", "--step-percent", "0.01")
    assert "(max 4, limit 4)" in out
    assert "per report (bound:" in out


@pytest.mark.integration
def test_the_fanout_benchmark_runs_and_prints_its_ratios() -> None:
    out = run_bench("bench.fanout", "--quick")
    assert "ratio publisher vs chalice loop" in out
    assert "ratio publisher vs bare pool" in out
    # Sharded delivery beside the inline path, with the budget's run.
    assert "sharded deliver() returns" in out
    assert "budget binding:" in out


@pytest.mark.integration
def test_the_cold_start_benchmark_runs_every_function_kind_and_prints_its_ratios() -> None:
    # Each child process asserts its handler's answer, so this also shows that
    # every function kind still starts from a fresh interpreter.
    out = run_bench("bench.coldstart", "--runs", "1", "--no-warmup")
    for kind in ("rest", "websocket", "s3_events", "schedule"):
        assert f"\n{kind} " in out
    assert "worst ratio" in out


@pytest.mark.integration
def test_the_local_upload_benchmark_runs_both_flows_against_the_local_stack() -> None:
    out = run_bench("bench.local_upload", "--mib", "12", "--runs", "1")
    assert "project flow" in out
    assert "boto3 upload_file" in out
    assert "ratio" in out


@pytest.mark.integration
def test_the_completion_benchmark_runs_both_sides_and_prints_their_ratio() -> None:
    out = run_bench("bench.complete", "--uploads", "3", "--mib", "0.1")
    assert "POST complete" in out
    assert "S3 event -> completed" in out
    assert out.count("ratio after/before") == 2


@pytest.mark.integration
def test_the_cost_benchmark_counts_and_prices_an_upload_beside_its_s3_floor() -> None:
    out = run_bench("bench.cost", "--parts", "3", "--watchers", "2")
    assert "@connections posts" in out
    assert "the S3 floor" in out
