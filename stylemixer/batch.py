"""Many photos in one run of ``stylemixer stylize``: the engine is loaded once, each photo is painted in
turn, and a photo that cannot be painted is reported and skipped, never the end of the run.

Starting the engine (importing torch, reading the weights) takes seconds; paying it once for a
folder of photos instead of once per photo is the point. What is decided before anything is
painted: where each result goes (:func:`plan_batch`, which refuses two photos that would be written
to one file, or a result that would overwrite a photo); what happens to each photo is one
:class:`Outcome`, and the run's exit status comes from all of them (:func:`exit_status`).

Reading a photo (decoding it, turning it upright, into sRGB) happens one photo ahead, in a thread of
its own (:class:`ReadAhead`): the first while torch is imported, each next one while the engine
paints, so neither waits for the other.

Torch-free: the painting itself is passed in, so the planning and the reporting are tested alone.

Example:
    >>> from stylemixer.options import OutputFormat
    >>> items = plan_batch([Path("a.jpg"), Path("b.png")], Path("out"), OutputFormat.PNG)
    >>> [str(item.output) for item in items]
    ['out/a.png', 'out/b.png']
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Self, TextIO, TypeVar

from stylemixer.errors import (
    INTERNAL_ERROR,
    OUTPUT_CLASH,
    OUTPUT_IS_INPUT,
    OUTPUT_NOT_A_FOLDER,
    InvalidRequestError,
    StyleMixerError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import TracebackType

    from stylemixer.options import OutputFormat

T = TypeVar("T")

#: Exit statuses of a run: as for one photo, a refused photo is 2 and a fault of ours is 1.
EXIT_OK, EXIT_INTERNAL, EXIT_REFUSED = 0, 1, 2
#: The suffix of a region map written beside its result (in ``--regions-out``'s folder).
REGIONS_SUFFIX = ".regions.png"


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One photo of a run, and where its result (and region map, if asked for) are written."""

    input: Path
    output: Path
    regions: Path | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one photo: its report (``--json``'s object) and, if it failed, how."""

    item: BatchItem
    report: dict[str, Any]
    failure: str | None = None  # None, "refused" (the photo's fault) or "internal" (ours)


def is_folder(output: str) -> bool:
    """True when ``output`` names a folder: it ends with a path separator or is one already.

    Example:
        >>> is_folder("results/"), is_folder("result.jpg")
        (True, False)
    """
    return output.endswith(("/", os.sep)) or Path(output).is_dir()


def plan_batch(
    inputs: Sequence[Path], folder: Path, fmt: OutputFormat, regions_folder: Path | None = None
) -> list[BatchItem]:
    """Where each photo's result goes: ``folder/<photo's name>.<format's suffix>``, and its region
    map ``regions_folder/<photo's name>.regions.png``.

    Refuses, before anything is painted, two photos whose results would share a file (``a/x.jpg``
    and ``b/x.png``), a result that would overwrite one of the photos, and a folder that is a file.

    Example:
        >>> from stylemixer.options import OutputFormat
        >>> photos = [Path("a/x.jpg"), Path("b/x.png")]
        >>> plan_batch(photos, Path("out"), OutputFormat.JPEG)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stylemixer.errors.InvalidRequestError: a/x.jpg and b/x.png would both be written to out/x.jpg; ...
    """
    for where in filter(None, (folder, regions_folder)):
        if where.exists() and not where.is_dir():
            raise InvalidRequestError(
                OUTPUT_NOT_A_FOLDER,
                f"{where} is a file; with several photos, name a folder to write them to.",
            )
    items = [
        BatchItem(
            photo,
            folder / f"{photo.stem}.{fmt.extension}",
            regions_folder / f"{photo.stem}{REGIONS_SUFFIX}" if regions_folder is not None else None,
        )
        for photo in inputs
    ]
    photos = {_same_file_key(item.input): item.input for item in items}
    written: dict[Path, Path] = {}
    for item in items:
        for target in filter(None, (item.output, item.regions)):
            key = _same_file_key(target)
            if key in photos:
                raise InvalidRequestError(
                    OUTPUT_IS_INPUT,
                    f"The result of {item.input} would overwrite the photo {photos[key]}; "
                    "write the results to another folder.",
                )
            if key in written and written[key] != item.input:
                raise InvalidRequestError(
                    OUTPUT_CLASH,
                    f"{written[key]} and {item.input} would both be written to {target}; "
                    "rename one of them or paint them in two runs.",
                )
            written[key] = item.input
    return items


def _same_file_key(path: Path) -> Path:
    return Path(os.path.normcase(os.path.abspath(path)))


class ReadAhead(Generic[T]):
    """``read(item)`` for each of ``items`` in order, done one item ahead in a thread of its own.

    :meth:`next` gives the next item's result (or raises what reading it raised) and starts reading
    the one after, so the reading of a photo overlaps the painting of the one before (Pillow decodes
    without holding the interpreter's lock). At most ``ahead`` results wait in memory.

    Example:
        >>> with ReadAhead(["a", "b"], str.upper) as reads:
        ...     reads.next(), reads.next()
        ('A', 'B')
    """

    def __init__(self, items: Sequence[Any], read: Callable[[Any], T], ahead: int = 1) -> None:
        self._items = iter(items)
        self._read = read
        self._ahead = ahead
        self._pending: deque[Future[T]] = deque()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead")

    def __enter__(self) -> Self:
        for _ in range(self._ahead):
            self._submit_next()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit_next(self) -> None:
        item = next(self._items, _END)
        if item is not _END:
            self._pending.append(self._pool.submit(self._read, item))

    def next(self) -> T:
        """The next item's result; the reading of the one after it starts now."""
        future = self._pending.popleft()
        self._submit_next()
        return future.result()


_END = object()


@dataclass
class BatchRun:
    """Paints ``items`` one after another with ``paint`` and says how each went.

    ``paint(item, label)`` paints one photo and returns its report (``--json``'s object); it raises
    :class:`StyleMixerError` for a photo it cannot paint. Each failure is one line on ``stderr``,
    naming the photo; with ``json_lines`` each photo, painted or not, is one JSON object on ``stdout``.
    """

    paint: Callable[[BatchItem, str], dict[str, Any]]
    json_lines: bool = False
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    def run(self, items: Sequence[BatchItem]) -> list[Outcome]:
        outcomes = []
        for number, item in enumerate(items, start=1):
            outcome = self._one(item, f"[{number}/{len(items)}] {item.input.name}")
            if self.json_lines:
                print(json.dumps(outcome.report), file=self.stdout, flush=True)
            outcomes.append(outcome)
        painted = sum(1 for o in outcomes if o.failure is None)
        failed = len(outcomes) - painted
        summary = f"painted {painted} of {len(outcomes)} photos"
        print(summary + (f"; {failed} could not be painted" if failed else ""), file=self.stderr)
        return outcomes

    def _one(self, item: BatchItem, label: str) -> Outcome:
        started = time.perf_counter()
        try:
            return Outcome(item, self.paint(item, label))
        except StyleMixerError as exc:
            failure, error = "refused", exc.to_dict()
            line = exc.message
        except Exception as exc:  # a bug or an outage: that photo fails, the run goes on
            failure = "internal"
            line = f"unexpected internal error ({type(exc).__name__}); please report it."
            error = {"code": INTERNAL_ERROR, "message": line}
        print(f"stylemixer: {item.input}: {line}", file=self.stderr, flush=True)
        report = {
            "input": str(item.input),
            "output": None,
            "error": error,
            "seconds": round(time.perf_counter() - started, 3),
        }
        return Outcome(item, report, failure)


def exit_status(outcomes: Sequence[Outcome]) -> int:
    """0 when every photo was painted; 1 if any failed through a fault of ours; else 2 if any was refused.

    Example:
        >>> exit_status([])
        0
    """
    failures = {o.failure for o in outcomes}
    if "internal" in failures:
        return EXIT_INTERNAL
    return EXIT_REFUSED if "refused" in failures else EXIT_OK
