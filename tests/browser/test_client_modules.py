"""The browser client's own unit tests (packages/client/test/*.test.js), run by Node's test
runner: the uploader, the realtime client and the cache against fakes.

Each JavaScript test is one pytest test, so a failure is named and counted
like any other. Collection asks Node for the tests' names without running
them (a name pattern that matches none: Node reports every test as skipped);
the first test to run executes every file once, with the TAP reporter, and
each test then reads its own outcome.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.xdist_group("node")

NODE = shutil.which("node")
TESTS = ROOT / "packages" / "client" / "test"
FILES = sorted(str(p.relative_to(ROOT)) for p in TESTS.glob("*.test.js"))
_RESULT = re.compile(
    r"^(?P<indent> *)(?P<ok>not ok|ok) \d+ - (?P<name>.*?)(?: # (?P<directive>.*))?$"
)
_SUBTEST = re.compile(r"^(?P<indent> *)# Subtest: (?P<name>.*)$")


@dataclass(frozen=True)
class Outcome:
    passed: bool
    directive: str | None  # "SKIP ..." or "TODO ..." when Node gave one
    details: str


def _tap(*args: str) -> str:
    assert NODE is not None
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        [NODE, "--test", "--test-reporter=tap", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.stdout


def parse_tap(file: str, tap: str) -> dict[str, Outcome]:
    """The outcome of every test (not of the suites around them), keyed
    `file > suite > test`. Node nests subtests four spaces per level and reports
    a suite after its tests; a YAML block under a result holds its details."""
    outcomes: dict[str, Outcome] = {}
    stack: list[tuple[str, bool]] = []  # (name, has children) of the open subtests
    lines = tap.splitlines()
    for n, line in enumerate(lines):
        if subtest := _SUBTEST.match(line):
            depth = len(subtest["indent"]) // 4
            del stack[depth:]
            if stack:
                stack[-1] = (stack[-1][0], True)
            stack.append((subtest["name"], False))
        elif (result := _RESULT.match(line)) and stack:
            depth = len(result["indent"]) // 4
            path = [name for name, _ in stack[: depth + 1]]
            _, has_children = stack[depth] if depth < len(stack) else ("", False)
            del stack[depth:]
            if has_children:
                continue
            block = []
            for following in lines[n + 1 :]:
                if _RESULT.match(following) or _SUBTEST.match(following):
                    break
                block.append(following)
            outcomes[" > ".join([Path(file).name, *path])] = Outcome(
                result["ok"] == "ok", result["directive"], "\n".join(block)
            )
    return outcomes


def _names() -> list[str]:
    if NODE is None:
        return []
    found: list[str] = []
    for file in FILES:
        found.extend(parse_tap(file, _tap("--test-name-pattern=^$", file)))
    return found


@cache
def _run() -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for file in FILES:
        outcomes.update(parse_tap(file, _tap(file)))
    return outcomes


NAMES = _names()


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_node_finds_the_browser_client_tests() -> None:
    # Guards the collection itself: a parse that found nothing would pass
    # every JavaScript test by running none.
    assert len(NAMES) >= len(FILES)
    assert {name.split(" > ")[0] for name in NAMES} == {Path(f).name for f in FILES}


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
@pytest.mark.parametrize("name", NAMES)
def test_js(name: str) -> None:
    outcome = _run().get(name)
    assert outcome is not None, f"{name} did not run"
    if outcome.directive and outcome.directive.upper().startswith(("SKIP", "TODO")):
        pytest.skip(outcome.directive)
    assert outcome.passed, outcome.details
