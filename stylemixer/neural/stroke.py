"""Stroke size: the scale the style is painted at, and the photo's detail brought back after.

The networks paint strokes of a roughly fixed size in pixels (they learned them on pictures of a few
hundred pixels). How big a stroke looks in the picture is therefore set by the size the picture is
painted at, not by the photo's own resolution: painted at 512 px, a 640 px web picture and a 16 MP
phone photo get strokes of the same size relative to the picture. So a stroke size names a
*working long side*, a function of the picture's long side:

- ``coarse``: 512 px, about the scale the networks learned their strokes at (never upscaled);
- ``fine``: the photo's own resolution, and 1024 px for a smaller picture, which is upscaled for
  it (at most 2x) so that its strokes are fine there too;
- ``medium`` (the default): the geometric middle of the two, so that each step changes the stroke
  size by a factor of √2 or more at every picture size: 724 px for pictures up to 1024 px, about
  1000 px for a 2 MP picture, 1430-1540 px for a 12-16 MP photo.

The painting is then brought back to the photo's size with the photo's own finer detail added as
strongly as the painting has detail of its own (:func:`restore_detail`): strokes keep their painted size,
edges stay sharp. See docs/full-resolution.md for the side-by-sides behind these choices.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from stylemixer.limits import MIN_SIDE
from stylemixer.options import Stroke

#: Working long side of ``coarse``: about the scale the networks learned their strokes at.
COARSE_SIDE = 512
#: ``fine`` paints at the photo's own resolution, and a smaller picture at this long side.
FINE_MIN_SIDE = 1024
#: The most a picture is upscaled to paint it (``fine`` on a small picture).
MAX_UPSCALE = 2.0
#: A working size within this factor (1/16) of the photo's own is not worth a resample: paint it as it is.
SNAP = 1.0625
#: The default for any picture: the best-looking choice on web pictures and phone photos alike.
DEFAULT_STROKE = Stroke.MEDIUM
#: Luminance weights of R, G and B (ITU-R BT.601): the photo's detail brought back to a painting
#: here, and the guide a region map follows the photo's edges along (regions.paint).
LUMA = (0.299, 0.587, 0.114)


def working_side(long_side: int, stroke: Stroke | None) -> int:
    """The long side the style is painted at, for a picture whose long side is ``long_side``.

    Example:
        >>> [working_side(4000, s) for s in Stroke]
        [4000, 1431, 512]
        >>> [working_side(640, s) for s in Stroke]
        [1024, 724, 512]
    """
    fine = max(long_side, min(round(MAX_UPSCALE * long_side), FINE_MIN_SIDE))
    coarse = min(long_side, COARSE_SIDE)
    sides = {Stroke.FINE: fine, Stroke.MEDIUM: round(math.sqrt(fine * coarse)), Stroke.COARSE: coarse}
    side = sides[stroke or DEFAULT_STROKE]
    return long_side if 1 / SNAP < side / long_side < SNAP else side


def working_size(size: tuple[int, int], stroke: Stroke | None) -> tuple[int, int]:
    """The (W, H) the style is painted at for a picture of ``size`` and a stroke size.

    The picture keeps its shape; it is never made thinner than the shortest side the networks take.

    Example:
        >>> working_size((4000, 3000), Stroke.COARSE)
        (512, 384)
        >>> working_size((640, 427), None)
        (724, 483)
    """
    width, height = size
    long_side, short_side = max(width, height), min(width, height)
    side = working_side(long_side, stroke)
    if side == long_side:
        return size
    scale = max(side / long_side, MIN_SIDE / short_side)
    if scale >= 1 and side < long_side:  # a strip too thin to shrink: painted as it is
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


def restore_detail(
    painted: np.ndarray, work: np.ndarray, photo: np.ndarray, rows_per_band: int = 512
) -> np.ndarray:
    """Bring a painting made at another scale back to the photo's resolution, keeping its fine detail.

    ``painted`` and ``work`` (h, w, 3) are the painting and the photo at the working scale, ``photo``
    (H, W, 3) the photo at full scale, all uint8. The painting is resized (bicubic) and the photo's
    own detail finer than the working scale, ``photo - resize(work)`` in luminance, is added back:
    the strokes keep their size, edges and texture stay as sharp as the photo's.

    The detail is scaled by the ratio of the painting's own finest detail to the photo's at the
    working scale (:func:`detail_gain`): added fully to a style that paints crisp detail, less to one
    that paints smoothly, whose strokes would otherwise carry the photo's edges like pen outlines.

    Example:
        >>> work = np.asarray(photo.resize((128, 128)))  # the photo at the working scale
        >>> painted = 255 - work  # stands in for its painting
        >>> restore_detail(painted, work, np.asarray(photo)).shape
        (512, 512, 3)
    """
    height, width = photo.shape[:2]
    up_p = np.asarray(Image.fromarray(painted).resize((width, height), Image.Resampling.BICUBIC))
    luma = np.array(LUMA, dtype=np.float32)
    # Only the working photo's luminance is brought up (bicubic is linear: the same numbers, but for
    # rounding), a third of the work of bringing up its colours: 1 s less at 50 MP.
    up_lw = np.asarray(
        Image.fromarray(work.astype(np.float32) @ luma, "F").resize((width, height), Image.Resampling.BICUBIC)
    )
    gain = detail_gain(painted, work)
    out = np.empty_like(photo)
    for r0 in range(0, height, rows_per_band):
        r1 = min(r0 + rows_per_band, height)
        detail = gain * (photo[r0:r1].astype(np.float32) @ luma - up_lw[r0:r1])  # (rows, W)
        band = up_p[r0:r1].astype(np.float32) + detail[..., None]
        out[r0:r1] = np.clip(band + 0.5, 0, 255).astype(np.uint8)
    return out


def detail_gain(painted: np.ndarray, work: np.ndarray) -> float:
    """How strongly the photo's finer detail is added to a painting: the ratio of the painting's own
    finest detail to the photo's at the working scale, at most 1.

    That is the spread of the painting's luminance minus its 1-pixel Gaussian blur over the same for
    the photo at the working scale. A style that renders the photo smoothly, or in a narrow band of
    luminance (a blue and orange night sky), would otherwise get the photo's full-contrast edges drawn
    over its strokes like pen outlines; a style that paints crisp detail gets the photo's as it is.

    Example:
        >>> flat = np.full((8, 8, 3), 128, np.uint8)
        >>> detail_gain(flat, np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8))
        0.0
    """
    photo_detail = _finest_detail(work)
    if photo_detail < 1e-3:  # a flat photo: nothing to scale by
        return 1.0
    return min(1.0, _finest_detail(painted) / photo_detail)


def _finest_detail(rgb: np.ndarray) -> float:
    """Standard deviation of the luminance minus its Gaussian blur of 1 pixel."""
    gray = Image.fromarray(rgb).convert("L")
    blurred = np.asarray(gray.filter(ImageFilter.GaussianBlur(1)), np.float32)
    return float((np.asarray(gray, np.float32) - blurred).std())
