"""The instant preview as the tests and the benchmark see it: the canvas ``data-testid="preview"``.

The page's preview controller counts what it drew on the canvas (``data-renders``), says whether a
request is still in flight (``data-state``: working, ready or off) and how long the last one took
from the change to the drawing (``data-last-ms``; ``data-first-ms`` for the first preview, runtime
and model downloads included). These helpers wait on those and read the pixels back.
"""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from collections.abc import Callable

#: Requests that belong to the preview: its code, its runtime and its models.
PREVIEW_REQUEST_MARKERS = ("/js/preview/", "/vendor/onnxruntime/", "/models/", ".onnx", ".wasm")
#: Long enough for the first preview on a machine shared with several test suites.
PREVIEW_TIMEOUT_MS = 120_000

_DONE = """([before]) => {
  const canvas = document.querySelector('[data-testid=preview]');
  if (!canvas) return false;
  if (canvas.dataset.state === 'off') return 'off';
  return Number(canvas.dataset.renders || 0) > before && canvas.dataset.state === 'ready' ? 'ready' : false;
}"""


def renders(page: Any) -> int:
    return int(page.get_by_test_id("preview").get_attribute("data-renders") or 0)


def after_change(
    page: Any, change: Callable[[], None], timeout_ms: int = PREVIEW_TIMEOUT_MS
) -> dict[str, Any]:
    """Make ``change`` on the page and wait until the preview shows it; returns the canvas's figures.

    ``wall_ms`` is measured here, from just before the change to the moment the wait saw it drawn.
    """
    before = renders(page)
    started = time.perf_counter()
    change()
    outcome = page.wait_for_function(_DONE, arg=[before], timeout=timeout_ms, polling=10).json_value()
    wall_ms = (time.perf_counter() - started) * 1000
    data = page.get_by_test_id("preview").evaluate("c => ({...c.dataset, width: c.width, height: c.height})")
    if outcome == "off":
        raise AssertionError(f"the preview switched itself off: {data}")
    return {**data, "wall_ms": round(wall_ms)}


def preview_image(page: Any) -> Image.Image:
    """The pixels on the preview canvas, read back losslessly (PNG)."""
    url = page.get_by_test_id("preview").evaluate("c => c.toDataURL('image/png')")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")


def cli_picture(photo: Path, out: Path, *args: str) -> Image.Image:
    """What ``stylemixer stylize photo ...`` paints, through the installed console script, brought to
    the preview's 384 px as the preview shows it (``fit_within``).

    The preview paints at the scale the job paints at (the stroke size and the output size), so the
    same choice given to the CLI, then reduced, is the picture it should be. Choices whose working
    scale is larger than the preview paints at (see ``js/preview/stroke.js``), or that bring the
    photo's finer detail back at a larger size, differ by design.
    """
    from stylemixer.images import fit_within

    script = Path(sys.executable).with_name("stylemixer")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "stylemixer.cli"]
    subprocess.run(
        [*command, "stylize", str(photo), "-o", str(out), *args],
        check=True,
        capture_output=True,
        timeout=300,
    )
    with Image.open(out) as image:
        return fit_within(image.convert("RGB"), 384)


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB of two RGB pictures of the same size."""
    assert a.size == b.size, (a.size, b.size)
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    mse = float(np.mean(diff**2))
    return float("inf") if mse == 0 else 10.0 * float(np.log10(255.0**2 / mse))


def preview_requests(urls: list[str]) -> list[str]:
    return [u for u in urls if any(marker in u for marker in PREVIEW_REQUEST_MARKERS)]
