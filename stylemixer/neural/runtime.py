"""Process-wide runtime tuning for CPU inference, applied once before the first stylization.

Why the allocator matters: one stylization allocates and frees activation buffers of tens to
hundreds of megabytes, dozens of times. With glibc's defaults each such buffer is a fresh ``mmap``
returned to the system on ``free``, so every layer pays page faults on memory it just had; eager
torch measured about twice as slow as onnxruntime (which keeps its own arena) for that reason
alone. Telling malloc to serve big blocks from the heap and never to trim it keeps the pages
mapped between layers and runs. The price is that the process keeps its peak heap, which is what a
Lambda worker, alive for one job at a time, wants anyway.

Safe everywhere: on a C library without ``mallopt`` (musl, macOS) the allocator step is skipped.

OpenMP: torch's CPU kernels split each operation evenly between threads, and every operation ends
at a barrier. On cores shared with other processes the thread that finished first should give its
core away rather than spin for long: with libgomp's default (300,000 spins) the engine measured
0.8-1.9x onnxruntime's time at 384-512 px on two busy cores. But sleeping at once
(``OMP_WAIT_POLICY=PASSIVE`` alone) makes every operation wake its threads through the kernel,
which a network of many small layers pays at each one: the style predictor took 21 ms where
onnxruntime takes 5.5, most of it waking threads. So the threads spin briefly, then sleep
(``GOMP_SPINCOUNT=50000``): the next layer, microseconds later, finds them awake, and a stretch of
single-threaded work (decoding, encoding) finds them asleep within a millisecond: the predictor
took 21 ms before and 9-10 ms after, the arbitrary transform at 384 px 0.72 → 0.53 of
onnxruntime's time (the measurements, quiet and on busy cores, and the counts tried: docs/speed.md).
libgomp reads these once, when torch is imported, so they belong in the environment of the process
(:data:`stylemixer.neural.OPENMP_ENV`: the Lambda image, the local stack, the benchmark), not in
this module.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

#: glibc ``mallopt`` parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4

_lock = threading.Lock()
_state: dict[str, bool] = {}


def tune_allocator() -> bool:
    """Keep big buffers on the heap and never trim it (glibc); True if applied. Runs once.

    ``M_MMAP_MAX = 0`` stops ``mmap`` for large blocks (glibc caps ``M_MMAP_THRESHOLD`` at 32 MB,
    below our activations, so raising the threshold is not enough); ``M_TRIM_THRESHOLD`` at its
    maximum stops returning the top of the heap after each free.

    Example:
        >>> tune_allocator() in (True, False)
        True
    """
    with _lock:
        if "allocator" not in _state:
            _state["allocator"] = _mallopt(M_MMAP_MAX, 0) and _mallopt(M_TRIM_THRESHOLD, 2**31 - 1)
        return _state["allocator"]


def release_memory() -> bool:
    """Give the heap's free pages back to the system (glibc ``malloc_trim``); True if it could.

    For a job that paints several large pictures one after another (the regions mix at 16 MP):
    the heap is never trimmed (:func:`tune_allocator`) and glibc keeps two arenas, and when the
    next picture's buffers come from the arena the last one did not use, the kept free pages of the
    other add to the peak (measured 1.40 or 1.71 GB for the same job, by chance). Trimming between
    the pictures costs their page faults once more, a few percent of a 16 MP painting.

    Example:
        >>> release_memory() in (True, False)
        True
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
    return True


def _mallopt(param: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(param, value))


def tune_runtime(threads: int | None = None) -> None:
    """Tune torch and the allocator for CPU inference; cheap and idempotent, call it before each job.

    ``threads``: intra-op threads for torch (``None`` keeps torch's choice, one per core). Also
    flushes denormals to zero (tiny activations otherwise take the slow path in the convolutions).

    Example:
        >>> tune_runtime(2)
    """
    import torch

    tune_allocator()
    if threads is not None and threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
