"""Benchmarks, run as modules from the project's root: ``make bench``, or ``python -m bench.<name>``.

What they share lives here: the project's root, the real photos and paintings in ``../shared/testdata``
that the published figures were measured on, and the OpenMP setting of the Lambda image. A benchmark
drives the system as the tests do, so it may import the tests' helpers (:mod:`tests.support`: the
page's steps, the browser, the stroke measure); it never imports a test module or a conftest.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT.parent / "shared" / "testdata"


def use_lambda_openmp() -> None:
    """torch's OpenMP settings as the Lambda image sets them (unless set); call before torch is imported."""
    from stylemixer.neural import OPENMP_ENV

    for key, value in OPENMP_ENV.items():
        os.environ.setdefault(key, value)
