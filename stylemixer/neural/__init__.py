"""The neural core: the three networks, their weights, the engine, bands, stroke size and regions.

Everything that imports torch lives in this package, and only here (ruff's banned-import rule,
TID251, refuses ``torch`` anywhere else in the project's code): the API function, which never
stylizes, never imports it. Importing this package itself is cheap; its modules import torch.
"""

from __future__ import annotations

#: Environment for the processes that run the networks; must be set before torch is imported
#: (libgomp reads it once, at load; see :mod:`stylemixer.neural.runtime`).
OPENMP_ENV: dict[str, str] = {"OMP_WAIT_POLICY": "PASSIVE"}
