"""The browser client's own unit tests (web/test/*.test.js), run by Node's test
runner: the uploader, the realtime client and the cache against fakes."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.e2e.conftest import ROOT


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_browser_client_modules_pass_their_unit_tests() -> None:
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "web" / "test").glob("*.test.js"))
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        ["node", "--test", *files],  # noqa: S607 (node from PATH, like npm)
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
