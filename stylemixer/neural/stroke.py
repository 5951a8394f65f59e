"""Stroke size: the scale the style is painted at, and the photo's detail brought back after.

The networks paint strokes sized for pictures of about 512 to 1024 px; painted at 16 MP they shrink to
a fine noise. So a large photo is painted at a working size chosen by the stroke size, and the
painting is brought back to the photo's resolution with the photo's own fine detail added back
(:func:`restore_detail`): strokes keep their painted size, edges stay as sharp as the photo's.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from stylemixer.options import Stroke

#: Longest side the style is painted at, per stroke size (``None``: the picture's own resolution).
#: The networks paint strokes sized for pictures of about 512 to 1024 px; painted at 16 MP they
#: shrink to a fine noise. See docs/full-resolution.md for the side-by-side behind these numbers.
STROKE_SIDES: dict[Stroke, int | None] = {Stroke.FINE: None, Stroke.MEDIUM: 2048, Stroke.COARSE: 1024}
#: The default for a phone photo (12-16 MP); pictures smaller than its side are painted as they are.
DEFAULT_STROKE = Stroke.MEDIUM


def working_size(size: tuple[int, int], stroke: Stroke | None) -> tuple[int, int]:
    """The (W, H) the style is painted at for a picture of ``size`` and a stroke size.

    Example:
        >>> working_size((4000, 3000), Stroke.COARSE)
        (1024, 768)
    """
    side = STROKE_SIDES[stroke or DEFAULT_STROKE]
    width, height = size
    if side is None or max(width, height) <= side:
        return size
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def restore_detail(
    painted: np.ndarray, work: np.ndarray, photo: np.ndarray, rows_per_band: int = 512
) -> np.ndarray:
    """Bring a painting made at a reduced scale back to the photo's resolution, keeping its fine detail.

    ``painted`` and ``work`` (h, w, 3) are the painting and the photo at the working scale, ``photo``
    (H, W, 3) the photo at full scale, all uint8. The painting is upsampled (bicubic) and the photo's
    own detail finer than the working scale, ``photo - upsample(work)`` in luminance, is added back:
    the strokes keep their size, edges and texture stay as sharp as the photo's.

    Example:
        >>> restore_detail(painted_1024, photo_1024, photo_4000).shape  # doctest: +SKIP
        (3000, 4000, 3)
    """
    height, width = photo.shape[:2]
    up_p = np.asarray(Image.fromarray(painted).resize((width, height), Image.Resampling.BICUBIC))
    up_w = np.asarray(Image.fromarray(work).resize((width, height), Image.Resampling.BICUBIC))
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    out = np.empty_like(photo)
    for r0 in range(0, height, rows_per_band):
        r1 = min(r0 + rows_per_band, height)
        detail = (photo[r0:r1].astype(np.float32) - up_w[r0:r1]) @ luma  # (rows, W)
        band = up_p[r0:r1].astype(np.float32) + detail[..., None]
        out[r0:r1] = np.clip(band + 0.5, 0, 255).astype(np.uint8)
    return out
