"""Write the template `chalice package --merge-template` merges: infra/template.json
with each dashboard's body read from the file its Metadata names.

A dashboard body is one JSON string to CloudFormation. Kept as a string in
infra/template.json it would be one unreadable line that every new function has
to be spliced into; kept as infra/dashboard.json it is reviewed like any other
file, and its `${Logical}` references become an Fn::Sub here.

Usage: python -m scripts.build_template infra/template.json build/infra/template.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

BODY_FILE = "BodyFile"


def build(template: dict[str, Any], base: Path) -> dict[str, Any]:
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::CloudWatch::Dashboard":
            continue
        source = resource.get("Metadata", {}).get(BODY_FILE)
        if not isinstance(source, str):
            raise SystemExit(f"build_template: {name} names no Metadata.{BODY_FILE}")
        body = json.loads((base / source).read_text())
        resource["Properties"]["DashboardBody"] = {
            "Fn::Sub": json.dumps(body, separators=(",", ":"))
        }
    return template


def main(argv: list[str]) -> int:
    source, target = Path(argv[1]), Path(argv[2])
    template = build(json.loads(source.read_text()), source.parent.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(template, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
