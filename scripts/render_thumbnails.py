"""Render the preset thumbnails committed under ``static_site/presets/``.

Each preset is painted on the same soft field of colours (made here, from a fixed seed) rather than
on someone's photograph: what a thumbnail shows is the style's own look, its palette and its strokes,
until the person chooses a photo and the page repaints the gallery with it (the preview's networks,
in the browser). Run with ``make thumbnails`` after changing the networks or the preset list.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from stylemixer.images import encode_image
from stylemixer.neural.engine import Engine
from stylemixer.options import StylizeOptions
from stylemixer.presets import PRESETS
from stylemixer.styles import PresetStyle

SIZE = 256
OUT_DIR = Path(__file__).resolve().parent.parent / "static_site"


#: The field's seed: the same thumbnails on every run.
SEED = 7


def source_photo() -> Image.Image:
    """A soft field of colours, square, at twice the thumbnail size (strokes read well at that scale):
    large patches of a few tones for the palette, a finer grain for the strokes to catch on."""
    rng = np.random.default_rng(SEED)
    side = SIZE * 2

    def noise(cells: int) -> Image.Image:
        values = (rng.random((cells, cells, 3)) * 255).astype(np.uint8)
        return Image.fromarray(values).resize((side, side), Image.Resampling.BICUBIC)

    return Image.blend(noise(8), noise(side // 8), 0.25).filter(ImageFilter.GaussianBlur(2))


def main() -> None:
    engine = Engine.default()
    photo = source_photo()
    for preset in PRESETS:
        result = engine.stylize(photo, [PresetStyle(preset.id)], StylizeOptions())
        thumb = result.image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
        path = OUT_DIR / preset.thumbnail
        path.parent.mkdir(parents=True, exist_ok=True)
        # Quality 80: the gallery shows 26 of them at once; at this size it is indistinguishable.
        path.write_bytes(encode_image(thumb, "jpeg", quality=80))
        print(f"{path.relative_to(OUT_DIR.parent)}")


if __name__ == "__main__":
    main()
