"""What stroke size is measured with: the share of fine detail in a picture, and real photos of 640,
800 and 1680 px, landscapes and upright portraits (used by tests/unit/test_stroke.py and
``python -m bench.stroke``)."""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
from skimage import data

from stylemixer.images import read_image
from tests.support.paths import testdata_path


def fine_detail_share(img: Image.Image) -> float:
    """The share of the picture's luminance variance that lies in detail finer than about 12 pixels.

    ``L`` is the luminance (ITU-R 601, as ``Image.convert("L")``), ``D = L - G(L)`` its difference
    from a Gaussian blur of σ = 2 px (reflected at the borders), which keeps what varies over less
    than about 2π·σ ≈ 12 px; the share is ``mean(D²) / var(L)``, between 0 and 1. It does not
    depend on the picture's brightness or contrast, only on how its structure is spread over scales:
    strokes painted larger move energy out of ``D`` into the blur.
    """
    lum = np.asarray(img.convert("L"), np.float64)
    fine = lum - gaussian_filter(lum, sigma=2.0, mode="reflect")
    return float(np.mean(fine**2) / lum.var())


def photo_640() -> Image.Image:
    """640 x 450, a crop of a real photo at its own resolution (a camera's fine detail)."""
    return read_image(testdata_path("photos", "cornell.jpg")).crop((44, 31, 684, 481))


def photo_800() -> Image.Image:
    """800 x 534, a 1024 px photo brought down to 800 px."""
    img = read_image(testdata_path("multistyle", "m2", "c.jpg"))
    return img.resize((800, round(800 * img.height / img.width)), Image.Resampling.LANCZOS)


def photo_1680() -> Image.Image:
    """1680 x 948: six real photos side by side at their own resolution (474 px high crops), so the
    picture has a camera's fine detail at 1680 px. The hardest of the three: the coarser the strokes,
    the more of the photo's own detail is brought back (:func:`stylemixer.neural.stroke.restore_detail`)."""
    rows = [
        [("cornell.jpg", 729), ("golden_gate.jpg", 512), ("sailboat.jpg", 439)],
        [("chicago.jpg", 712), ("brad_pitt.jpg", 512), (None, 456)],
    ]
    mosaic = Image.new("RGB", (1680, 2 * 474))
    for r, row in enumerate(rows):
        x = 0
        for name, width in row:
            img = read_image(testdata_path("photos", name)) if name else Image.fromarray(data.astronaut())
            left = (img.width - width) // 2
            mosaic.paste(img.crop((left, 0, left + width, 474)), (x, r * 474))
            x += width
    return mosaic


def _face() -> Image.Image:
    """A portrait at its own resolution: the test data's head-and-shoulders photo, cut upright
    (450 x 512)."""
    return read_image(testdata_path("photos", "brad_pitt.jpg")).crop((31, 0, 481, 512))


def portrait_640() -> Image.Image:
    """562 x 640, an upright portrait (a face filling the picture) brought up a quarter."""
    return _face().resize((562, 640), Image.Resampling.LANCZOS)


def portrait_800() -> Image.Image:
    """703 x 800, the same portrait brought up to 800 px."""
    return _face().resize((703, 800), Image.Resampling.LANCZOS)


def portrait_1680() -> Image.Image:
    """948 x 1680: six upright crops of two portraits (a head and shoulders, an astronaut), two wide
    and three high, each 433 x 512 at its own resolution brought up a tenth to 474 x 560: an
    upright portrait with a camera's fine detail at 1680 px."""
    face = read_image(testdata_path("photos", "brad_pitt.jpg"))
    astronaut = Image.fromarray(data.astronaut())
    crops = [
        face.crop((0, 0, 433, 512)),
        astronaut.crop((79, 0, 512, 512)),
        astronaut.crop((0, 0, 433, 512)),
        face.crop((79, 0, 512, 512)),
        face.crop((40, 0, 473, 512)).transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        astronaut.crop((40, 0, 473, 512)).transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    ]
    mosaic = Image.new("RGB", (948, 1680))
    for i, crop in enumerate(crops):
        mosaic.paste(crop.resize((474, 560), Image.Resampling.LANCZOS), (474 * (i % 2), 560 * (i // 2)))
    return mosaic


#: The photos of the stroke-size number, by name: three sizes, each as a landscape photo and as an
#: upright portrait (a face, whose smooth skin leaves the strokes fewer edges to show on).
STROKE_PHOTOS = {
    "640px": photo_640,
    "800px": photo_800,
    "1680px": photo_1680,
    "640px-portrait": portrait_640,
    "800px-portrait": portrait_800,
    "1680px-portrait": portrait_1680,
}
