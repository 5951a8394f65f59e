#!/usr/bin/env python3
"""CDK entry point: ``npx aws-cdk@2 deploy`` runs this (see ``cdk.json`` at the repository root).

Settings come from ``cdk.json`` context or ``-c key=value``; see ``docs/operators.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The project's packages, whether or not they are pip-installed (the CDK CLI runs this file as a script).
sys.path[:0] = [p for p in (str(ROOT), str(ROOT / "cdk")) if p not in sys.path]

from stylemixer_cdk import build_app  # noqa: E402
from stylemixer_cdk.entry import synth_app  # noqa: E402


def main() -> int:
    return synth_app(build_app)


if __name__ == "__main__":
    sys.exit(main())
