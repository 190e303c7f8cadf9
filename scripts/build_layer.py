"""Build the processing function's Lambda layer: requirements-processing.txt
(PyAV, whose manylinux wheel bundles the FFmpeg libraries) installed for the
Lambda runtime (CPython 3.11, x86_64 Linux) under python/, where Lambda puts
a layer on the path. infra/template.json's MediaLibrariesLayer points at it;
only ProcessMedia lists that layer (scripts/check_package.py checks it).

Usage: python -m scripts.build_layer build/layers/media
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path("requirements-processing.txt")
# The Lambda runtime's: Amazon Linux 2023 has glibc 2.34.
PLATFORM = "x86_64-manylinux_2_28"
PYTHON = "3.11"


def main(argv: list[str]) -> int:
    target = Path(argv[1]) / "python"
    if target.exists():
        shutil.rmtree(target)
    uv = Path(sys.executable).parent / "uv"
    command = [
        str(uv), "pip", "install", "--quiet", "--target", str(target),
        "--python-platform", PLATFORM, "--python-version", PYTHON,
        "--only-binary", ":all:", "-r", str(REQUIREMENTS),
    ]  # fmt: skip
    subprocess.run(command, check=True)  # noqa: S603 - our own uv and requirements
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    print(f"build_layer: {target} holds {size / 1e6:.1f} MB unzipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
