"""Render the preset thumbnails committed under ``static_site/presets/``.

Each preset is painted on the same public-domain photograph (NASA's portrait of astronaut Eileen
Collins, shipped inside scikit-image as ``skimage.data.astronaut``), so the gallery compares styles,
not photos. Run with ``make thumbnails`` after changing the networks or the preset list.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from stylemixer.images import encode_image
from stylemixer.neural.engine import Engine
from stylemixer.options import StylizeOptions
from stylemixer.presets import PRESETS
from stylemixer.styles import PresetStyle

SIZE = 256
OUT_DIR = Path(__file__).resolve().parent.parent / "static_site"


def source_photo() -> Image.Image:
    """The astronaut photo, square, at twice the thumbnail size (strokes read well at that scale)."""
    from skimage.data import astronaut

    return Image.fromarray(astronaut()).resize((SIZE * 2, SIZE * 2), Image.Resampling.LANCZOS)


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
