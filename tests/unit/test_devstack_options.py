"""The local stack's start-up options: the one HS256 secret rule (RFC 7518)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from devstack.options import DEV_SECRET, parse
from tests.e2e.conftest import ROOT, free_port


def test_a_twenty_character_secret_stops_the_stack_at_start_naming_the_rule() -> None:
    # What `make run` runs, with a secret the app would refuse: it must stop
    # before moto or the gateway start, not fall back to the development secret.
    env = {"AUTH_JWT_SECRET": "x" * 20, "PATH": "/usr/bin:/bin"}
    started = subprocess.run(  # noqa: S603 (our own module, fixed arguments)
        [sys.executable, "-m", "devstack", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 2
    assert "AUTH_JWT_SECRET must be at least 32 characters" in started.stderr
    assert "RFC 7518" in started.stderr
    assert "this one has 20" in started.stderr


def test_a_long_enough_secret_is_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_JWT_SECRET", "s" * 32)
    assert parse([]).secret == "s" * 32


def test_without_a_secret_the_stack_uses_its_development_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    assert parse([]).secret == DEV_SECRET


@pytest.mark.parametrize(
    ("argv", "env", "level"),
    [
        ([], {}, "INFO"),
        (["--log-level", "debug"], {}, "DEBUG"),
        ([], {"DEVSTACK_LOG_LEVEL": "debug"}, "DEBUG"),
        (["--log-level", "trace"], {}, "DEBUG"),
        (["--log-level", "warning"], {"DEVSTACK_LOG_LEVEL": "debug"}, "WARNING"),
    ],
)
def test_the_app_logs_at_the_stacks_level_info_unless_debug_is_asked_for(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], env: dict[str, str], level: str
) -> None:
    from devstack.stack import app_environment

    monkeypatch.delenv("DEVSTACK_LOG_LEVEL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert app_environment(parse(argv), {})["LOG_LEVEL"] == level
