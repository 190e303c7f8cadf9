"""The API functions' package stays lean: the media libraries (PyAV and the
FFmpeg it bundles, requirements-processing.txt) ship in their own layer, which
only the processing function lists, and never inside deployment.zip, which
every function shares."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from scripts.package_checks import Template, functions, of_type, props, refs

LAYER = "AWS::Serverless::LayerVersion"
# Which function may list which layer of ours.
LAYER_USERS = {"MediaLibrariesLayer": {"ProcessMedia"}}
# Top-level names the media libraries install; none may be in the shared package.
HEAVY = ("av/", "av.libs/")
# deployment.zip is about 8.8 MB (docs/ARCHITECTURE.md); PyAV alone would add 40.
LEAN_ZIPPED_BYTES = 15 * 1024 * 1024


def _listed(layers: Any) -> list[set[str]]:
    """The layers a function lists, per branch of an Fn::If (or the one list)."""
    if isinstance(layers, dict) and isinstance(layers.get("Fn::If"), list):
        return [refs(branch) for branch in layers["Fn::If"][1:]]
    return [refs(layers)]


def layer_problems(template: Template) -> list[str]:
    found: list[str] = []
    ours = set(of_type(template, LAYER))
    for layer in sorted(ours - set(LAYER_USERS)):
        found.append(f"{layer}: name the functions that may list it in LAYER_USERS")
    for name, fn in sorted(functions(template).items()):
        for branch in _listed(props(fn).get("Layers")):
            for layer in sorted(branch & ours):
                if name not in LAYER_USERS.get(layer, set()):
                    found.append(f"{name} lists {layer}, which only {LAYER_USERS[layer]} may")
            for layer, users in LAYER_USERS.items():
                if name in users and layer in ours and layer not in branch:
                    found.append(f"{name} must list {layer} in every branch of its Layers")
    # Both branches of an Fn::If can say the same thing.
    return list(dict.fromkeys(found))


def lean_problems(package: Path) -> list[str]:
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
    found = [
        f"{package.name} holds {heavy}: it belongs in its layer"
        for heavy in HEAVY
        if any(name.startswith(heavy) for name in names)
    ]
    size = package.stat().st_size
    if size > LEAN_ZIPPED_BYTES:
        found.append(f"{package.name} is {size / 2**20:.1f} MiB zipped: the API package got heavy")
    return found
