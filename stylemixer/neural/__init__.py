"""The neural core: the three networks, their weights, the engine, bands, stroke size and regions.

Everything that imports torch lives in this package, and only here (ruff's banned-import rule,
TID251, refuses ``torch`` anywhere else in the project's code): the API function, which never
stylizes, never imports it. Importing this package itself is cheap; its modules import torch.

The examples in this package's docstrings use ``nets`` (:func:`stylemixer.neural.weights.load_networks`,
the networks with the real weights), ``photo`` (a 512 x 512 photo) and ``painting_a``,
``painting_b`` (two style pictures), as PIL images; the test suite runs them with these defined.
"""

from __future__ import annotations

#: Environment for the processes that run the networks; must be set before torch is imported
#: (libgomp reads it once, at load; see :mod:`stylemixer.neural.runtime`): a thread that finished its
#: share of an operation waits for the next one actively for ``GOMP_SPINCOUNT`` spins (well under a
#: millisecond here), then sleeps. ``GOMP_SPINCOUNT`` overrides the passive policy's zero.
OPENMP_ENV: dict[str, str] = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "50000"}
