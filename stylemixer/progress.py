"""Progress reporting shared by the engine, the CLI and the worker.

A callback receives a stage name and the fraction of the *whole* job done so far (0..1, never
decreasing). The engine reports ``"prepare"`` (fitting the photo to its working size), ``"style"``
(the style vectors, or where each style goes for regions), ``"stylize"`` (the networks' pass, in
many small steps) and ``"finish"``; the worker adds ``"fetching"`` before them and ``"saving"``
after, and the stored job also shows ``"queued"``, ``"starting"``, ``"done"`` or ``"failed"``. The
engine owns the split between its stages so that callers only draw or store what they are given.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[str, float], None]


def no_progress(stage: str, fraction: float) -> None:
    """The default callback: report nothing."""


class Stages:
    """Maps each stage's own 0..1 progress onto one monotone 0..1 scale for the whole job.

    Example:
        >>> seen = []
        >>> stages = Stages({"prepare": 1, "stylize": 8, "finish": 1}, lambda s, f: seen.append((s, f)))
        >>> stages.report("stylize", 0.5)
        >>> seen[-1]
        ('stylize', 0.5)
    """

    def __init__(self, weights: dict[str, float], callback: ProgressCallback | None) -> None:
        total = sum(weights.values())
        self._start: dict[str, float] = {}
        self._span: dict[str, float] = {}
        acc = 0.0
        for name, weight in weights.items():
            self._start[name] = acc / total
            self._span[name] = weight / total
            acc += weight
        self._callback = callback or no_progress
        self._last = 0.0

    def report(self, stage: str, fraction: float = 0.0) -> None:
        """Report that ``stage`` is ``fraction`` done; never moves the overall figure backwards."""
        fraction = min(max(fraction, 0.0), 1.0)
        overall = self._start[stage] + self._span[stage] * fraction
        self._last = max(self._last, overall)
        self._callback(stage, self._last)
