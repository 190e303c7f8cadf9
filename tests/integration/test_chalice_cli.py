"""`chalice deploy` and `chalice local` stop before they act, with the path that
works (docs/OPERATIONS.md#deploy, docs/local-stack.md); `chalice package`, what
`make package` runs, is not stopped. No AWS is reachable: dummy credentials,
hidden config files, and every endpoint and proxy pointed at a closed port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.chalice_cli import chalice_command

ROOT = Path(__file__).resolve().parents[2]
CHALICE = Path(sys.executable).with_name("chalice")
NOWHERE = "http://127.0.0.1:9"


def _offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="dummy",
        AWS_SECRET_ACCESS_KEY="dummy",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_ENDPOINT_URL=NOWHERE,
        HTTP_PROXY=NOWHERE,
        HTTPS_PROXY=NOWHERE,
        NO_PROXY="",
    )
    return env


def _chalice(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (the project's own chalice, fixed arguments)
        [str(CHALICE), *args],
        cwd=ROOT,
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_chalice_deploy_refuses_before_touching_aws_and_names_the_supported_path() -> None:
    deployed = ROOT / ".chalice" / "deployed"
    before = sorted(deployed.iterdir()) if deployed.exists() else []

    result = _chalice("deploy", "--stage", "prod")

    assert result.returncode == 1, result.stderr
    assert "chalice deploy is not supported here" in result.stderr
    assert "make package" in result.stderr
    assert "docs/OPERATIONS.md#deploy" in result.stderr
    assert "Nothing was sent to AWS" in result.stderr
    # It stopped at import: no package built, no endpoint tried, nothing recorded.
    assert "Creating deployment package" not in result.stdout + result.stderr
    assert "Could not connect" not in result.stderr
    assert (sorted(deployed.iterdir()) if deployed.exists() else []) == before


@pytest.mark.parametrize("reload", [[], ["--no-autoreload"]])
def test_chalice_local_refuses_pointing_at_make_run_and_serves_nothing(reload: list[str]) -> None:
    port = _free_port()

    result = _chalice("local", "--port", str(port), *reload)

    assert "chalice local is not supported here" in result.stderr
    assert "Run `make run` instead" in result.stderr
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["/venv/bin/chalice", "deploy"], "deploy"),
        (["chalice", "--project-dir", "deploy", "local", "--port", "1"], "local"),
        (["chalice", "--debug", "--project-dir=x", "package", "build"], "package"),
        (["/venv/bin/python", "-m", "devstack"], None),
        (["pytest", "deploy"], None),
        (["chalice"], None),
    ],
)
def test_the_command_is_read_past_chalices_own_options(
    argv: list[str], command: str | None
) -> None:
    assert chalice_command(argv) == command
