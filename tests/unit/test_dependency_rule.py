"""The dependency rule, read from the imports: routes -> services -> domain <-
adapters (docs/ARCHITECTURE.md). Every chalicelib module belongs to one layer,
so a new module has to be placed before this passes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"

# Layers by module prefix. The kernel is what every layer shares: errors, ids,
# the wire models and events, time, roles, settings, the logger.
LAYERS: dict[str, tuple[str, ...]] = {
    "domain": ("chalicelib.domain",),
    "kernel": (
        "chalicelib.auth",
        "chalicelib.chalice_cli",
        "chalicelib.channels",
        "chalicelib.client_messages",
        "chalicelib.clock",
        "chalicelib.correlation",
        "chalicelib.errors",
        "chalicelib.event_schema",
        "chalicelib.events",
        "chalicelib.ids",
        "chalicelib.logging",
        "chalicelib.models",
        "chalicelib.publisher",
        "chalicelib.settings",
    ),
    "services": (
        "chalicelib.broadcast",
        "chalicelib.course_list",
        "chalicelib.connection_gate",
        "chalicelib.courses",
        "chalicelib.delivery",
        "chalicelib.linking",
        "chalicelib.media",
        "chalicelib.pages",
        "chalicelib.playback",
        "chalicelib.processing",
        "chalicelib.progress",
        "chalicelib.realtime",
        "chalicelib.removal",
        "chalicelib.fanout_worker",
        "chalicelib.shards",
        "chalicelib.uploads",
    ),
    "adapters": (
        "chalicelib.aws_clients",
        "chalicelib.management_api",
        "chalicelib.media_probe",
        "chalicelib.metrics",
        "chalicelib.store",
    ),
    "routes": ("chalicelib.routes", "chalicelib.http"),
    "root": (
        "chalicelib.services",
        "chalicelib.course_features",
        "chalicelib.media_features",
        "chalicelib.fanout_features",
        "chalicelib.upload_features",
    ),
    # The non-REST functions' entry points: wiring, as app.py is.
    "functions": ("chalicelib.functions",),
}
AWS_SDK = ("boto3", "botocore", "mypy_boto3_")

# What each layer must not import directly.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": (
        *LAYERS["services"],
        *LAYERS["adapters"],
        *LAYERS["routes"],
        *LAYERS["root"],
        *AWS_SDK,
    ),
    "kernel": (*LAYERS["services"], *LAYERS["adapters"], *LAYERS["routes"], *LAYERS["root"]),
    "services": (*LAYERS["adapters"], *LAYERS["routes"], *LAYERS["root"], *AWS_SDK),
    "adapters": (*LAYERS["routes"], *LAYERS["root"]),
    "routes": LAYERS["adapters"],
    "root": LAYERS["routes"],
    # Lambda imports these instead of app.py so that they skip the REST routes
    # (chalicelib/functions/__init__.py); AWS only through the container.
    "functions": ("chalicelib.routes", *LAYERS["adapters"], *AWS_SDK),
}


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(_name(path) for path in PACKAGE.rglob("*.py") if _name(path) != "chalicelib")


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(
        module == p or module.startswith(p if p.endswith("_") else p + ".") for p in prefixes
    )


def layer_of(module: str) -> str | None:
    found = [layer for layer, prefixes in LAYERS.items() if _under(module, prefixes)]
    return found[0] if len(found) == 1 else None


def imports_of(module: str) -> set[str]:
    path = ROOT / Path(*module.split("."))
    source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_every_module_belongs_to_exactly_one_layer() -> None:
    assert [m for m in MODULES if layer_of(m) is None] == []


@pytest.mark.parametrize("module", MODULES)
def test_a_module_imports_nothing_its_layer_must_not(module: str) -> None:
    layer = layer_of(module)
    assert layer is not None
    wrong = sorted(i for i in imports_of(module) if _under(i, FORBIDDEN[layer]))
    assert wrong == [], f"{module} ({layer}) imports {wrong}"


def test_the_domain_loads_without_the_aws_sdk_or_any_outer_layer() -> None:
    """Transitively too: importing every domain module pulls in no boto3 or
    botocore, no adapter, service, route or composition root."""
    domain = [m for m in MODULES if layer_of(m) == "domain"]
    outer = (*LAYERS["services"], *LAYERS["adapters"], *LAYERS["routes"], *LAYERS["root"])
    script = (
        "import importlib, sys\n"
        f"for m in {domain!r}: importlib.import_module(m)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    loaded = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert [m for m in loaded if _under(m, (*outer, *AWS_SDK))] == []
