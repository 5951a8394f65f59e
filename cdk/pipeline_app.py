#!/usr/bin/env python3
"""CDK entry point of the optional delivery pipeline (the service's own entry is ``cdk/app.py``).

    npx aws-cdk@2 deploy --app ".venv/bin/python cdk/pipeline_app.py" \\
        -c pipeline_repository=owner/repo -c pipeline_connection_arn=arn:aws:codeconnections:...

See ``docs/operators.md``, "Continuous delivery".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [p for p in (str(ROOT), str(ROOT / "cdk")) if p not in sys.path]

from stylemixer_cdk import build_pipeline_app  # noqa: E402
from stylemixer_cdk.entry import synth_app  # noqa: E402


def main() -> int:
    return synth_app(
        lambda app: build_pipeline_app(
            app,
            default_account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            default_region=os.environ.get("CDK_DEFAULT_REGION"),
        )
    )


if __name__ == "__main__":
    sys.exit(main())
