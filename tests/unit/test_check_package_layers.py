"""The API functions' package stays lean (scripts/package_checks/layers.py):
the media libraries ship in their own layer, only the processing function
lists it, and deployment.zip never holds them or grows heavy."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from scripts.package_checks.layers import layer_problems, lean_problems

OTEL = {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${OtelLayer}"}
LAYER = {"Ref": "MediaLibrariesLayer"}


def _template(**layers: Any) -> dict[str, Any]:
    functions = {
        name: {"Type": "AWS::Serverless::Function", "Properties": {"Layers": value}}
        for name, value in layers.items()
    }
    return {
        "Resources": {
            **functions,
            "MediaLibrariesLayer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {}},
        }
    }


def _both(*listed: Any) -> dict[str, Any]:
    return {"Fn::If": ["TracingEnabled", [*listed, OTEL], list(listed)]}


def test_only_the_processing_function_lists_the_media_layer() -> None:
    assert layer_problems(_template(ProcessMedia=_both(LAYER), APIHandler=_both())) == []
    assert layer_problems(_template(ProcessMedia=_both(LAYER), APIHandler=_both(LAYER))) == [
        "APIHandler lists MediaLibrariesLayer, which only {'ProcessMedia'} may"
    ]


def test_the_processing_function_lists_the_layer_whether_tracing_is_on_or_off() -> None:
    half = {"Fn::If": ["TracingEnabled", [LAYER, OTEL], [OTEL]]}
    assert layer_problems(_template(ProcessMedia=half)) == [
        "ProcessMedia must list MediaLibrariesLayer in every branch of its Layers"
    ]


def test_a_package_holding_pyav_or_grown_heavy_is_named(tmp_path: Path) -> None:
    lean = tmp_path / "deployment.zip"
    with zipfile.ZipFile(lean, "w") as archive:
        archive.writestr("chalicelib/__init__.py", "")
    assert lean_problems(lean) == []

    heavy = tmp_path / "heavy.zip"
    with zipfile.ZipFile(heavy, "w") as archive:
        archive.writestr("av/__init__.py", "")
        archive.writestr("av.libs/libavcodec.so", "")
    assert lean_problems(heavy) == [
        "heavy.zip holds av/: it belongs in its layer",
        "heavy.zip holds av.libs/: it belongs in its layer",
    ]
