"""What both CDK entry points do: build the app, refuse bad settings in one line, synthesize."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from aws_cdk import App

from stylemixer.errors import StyleMixerError

if TYPE_CHECKING:
    from collections.abc import Callable


def synth_app(build: Callable[[App], object]) -> int:
    """Build with ``build`` and synthesize; a settings error is one line on stderr and exit status 2.

    Example:
        >>> sys.exit(synth_app(build_app))  # doctest: +SKIP
    """
    app = App()
    try:
        build(app)
    except StyleMixerError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    app.synth()
    return 0
