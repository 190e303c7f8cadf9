"""Check the packaged template for what cfn-lint cannot know.

`chalice package` names its resources itself and infra/template.json overrides
some of them by name (each function's role, RestAPI, the WebSocket stage, the
log groups). When someone adds a Lambda handler, a table, a bucket or a queue,
this check fails `make package` with the exact thing infra/template.json (or
infra/function-access.json, infra/dashboard.json, docs/OPERATIONS.md) is
missing, instead of a deployment that silently has no role of its own, no
alarm, no dashboard line or no runbook (scripts/package_checks says what each
concern asserts).

It also runs CloudFormation's own SAM transform (aws-sam-translator) on the
template and writes the result next to it (transformed.json) for a second
cfn-lint pass: cfn-lint checks SAM resources against a schema only, so a
malformed GatewayResponses or event source would otherwise surface at deploy.

Last, it unzips deployment.zip and imports app.py and every chalicelib module
from it in a Python that sees only the package and what the Lambda runtime
provides (boto3 and its dependencies): a runtime dependency missing from
requirements.txt fails here, not in production. The package must stay lean
(no media libraries, under a size), and the processing function's view (the
package with its layer, build/layers/media) must load PyAV and the FFmpeg
codecs the probe uses.

Usage: python -m scripts.check_package build/package/sam.json
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from scripts.package_checks import Template, edges, functions, layers, observability, roles

ACCESS = Path("infra/function-access.json")
OPERATIONS = Path("docs/OPERATIONS.md")

# `aws cloudformation package` replaces each local CodeUri with the S3 location
# it uploads to; the transform only demands that shape.
UPLOADED_CODE = "s3://course-media-artifacts/deployment.zip"
UPLOADED_LAYER = "s3://course-media-artifacts/media-layer.zip"
# The layer's folder, as infra/template.json's MediaLibrariesLayer names it
# relative to the packaged template.
MEDIA_LAYER = Path("build/layers/media")


def anchors(markdown: str) -> set[str]:
    """GitHub's ids for a document's headings: lower case, punctuation dropped,
    spaces to hyphens."""
    found = set()
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif line.startswith("#") and not fenced:
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return found


def problems(
    template: Template, access: dict[str, Any], runbooks: set[str] | None = None
) -> list[str]:
    if not functions(template):
        return ["no Lambda function in the package"]
    if runbooks is None:
        runbooks = anchors(OPERATIONS.read_text())
    return [
        *roles.problems(template, access),
        *observability.log_problems(template),
        *observability.alarm_problems(template, runbooks),
        *observability.dashboard_problems(template),
        *observability.tracing_problems(template),
        *edges.stage_problems(template),
        *edges.concurrency_problems(template),
        *edges.source_problems(template),
        *edges.queue_policy_problems(template),
        *layers.layer_problems(template),
    ]


# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

IMPORT_EVERYTHING = """
import importlib, pkgutil
import app, chalicelib
for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    importlib.import_module(module.name)
"""
# What the processing function needs of its layer: the demuxers and decoders of
# the accepted formats, and the JPEG encoder for posters.
IMPORT_MEDIA = """
import av, chalicelib.media_probe
for name in ("mov", "matroska", "mp3", "wav", "image2", "png_pipe", "webp_pipe"):
    av.format.ContainerFormat(name, "r")
for name in ("h264", "hevc", "vp8", "vp9", "av1", "aac", "mp3", "opus", "mjpeg", "png", "webp"):
    av.codec.Codec(name, "r")
av.codec.Codec("mjpeg", "w")
"""


def import_check(
    package: Path, layer: Path | None = None, script: str = IMPORT_EVERYTHING
) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        task, runtime = Path(tmp, "task"), Path(tmp, "runtime")
        with zipfile.ZipFile(package) as archive:
            archive.extractall(task)
        runtime.mkdir()
        for name in RUNTIME_PROVIDED:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                return [f"{name} is not installed here, so the import check cannot run"]
            origin = Path(spec.origin)
            source = origin.parent if origin.name == "__init__.py" else origin
            (runtime / source.name).symlink_to(source)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join(
                str(p) for p in (task, layer and layer.resolve() / "python", runtime) if p
            ),
            "PYTHONNOUSERSITE": "1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        # -S: no site-packages, so nothing from this virtualenv leaks in.
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-S", "-c", script],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        alone = "with its layer" if layer else "alone"
        last = result.stderr.strip().splitlines()[-1]
        return [f"{package.name} does not import {alone}: {last}"]
    return []


class _NoManagedPolicies:
    """The transform asks for AWS managed policy ARNs only when a function
    names one in `Policies`; ours name their own role, so the answer is empty."""

    def load(self) -> dict[str, str]:
        return {}


def sam_transform(template: Template) -> tuple[Template | None, list[str]]:
    from samtranslator.model.exceptions import InvalidDocumentException  # type: ignore[import-untyped]
    from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

    document = copy.deepcopy(template)
    for resource in document["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = UPLOADED_CODE
        if resource.get("Type") == layers.LAYER:
            resource["Properties"]["ContentUri"] = UPLOADED_LAYER
    try:
        transformed: Template = transform(document, {}, _NoManagedPolicies())
    except InvalidDocumentException as exc:
        return None, [f"SAM transform: {cause.message}" for cause in exc.causes]
    return transformed, []


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "build/package/sam.json")
    template = json.loads(path.read_text())
    found = problems(template, json.loads(ACCESS.read_text()))
    transformed, refused = sam_transform(template)
    found += refused
    if transformed is not None:
        (path.parent / "transformed.json").write_text(json.dumps(transformed, indent=1))
    package = path.parent / "deployment.zip"
    if package.exists():
        found += import_check(package)
        found += layers.lean_problems(package)
        if not (MEDIA_LAYER / "python").is_dir():
            found.append(f"{MEDIA_LAYER} is not built: python -m scripts.build_layer {MEDIA_LAYER}")
        else:
            found += import_check(package, MEDIA_LAYER, IMPORT_MEDIA)
    for problem in found:
        print(f"check_package: {problem}", file=sys.stderr)
    names = sorted(functions(template))
    if not found:
        print(f"check_package: {len(template['Resources'])} resources, functions {names}: ok")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
