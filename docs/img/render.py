"""Render the pictures of docs/full-resolution.md from public-domain photos scikit-image ships.

    PYTHONPATH=. .venv/bin/python docs/img/render.py [stroke] [regions]

- ``stroke-sizes.jpg``: one preset at the three stroke sizes on a small and a large picture: SpaceX's
  launch photo (public domain, 640 x 427, as it is) and NASA's astronaut portrait (public domain,
  upscaled to 3072 x 3072 to stand in for a phone photo); each seen whole as a screen shows it, and
  the large one also as a 1:1 crop.
- ``regions.jpg``: the regions mix of two presets on the coffee photo (public domain), with its map.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from skimage import data

from stylemixer.neural.engine import Engine
from stylemixer.neural.stroke import working_size
from stylemixer.options import StylizeOptions
from stylemixer.styles import PresetStyle

HERE = Path(__file__).resolve().parent
TILE = 360
STROKE_TILE = 400


def _label(img: Image.Image, text: str) -> Image.Image:
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 8 + 7 * len(text), 18), fill=(0, 0, 0))
    draw.text((4, 3), text, fill=(255, 255, 255))
    return img


def stroke_sizes(engine: Engine) -> None:
    style = [PresetStyle("swirling-night")]
    small = Image.fromarray(data.rocket())  # 640 x 427
    large = Image.fromarray(data.astronaut()).resize((3072, 3072), Image.Resampling.LANCZOS)
    crop = (1300, 760, 1300 + STROKE_TILE, 760 + STROKE_TILE)  # the face, 1:1
    small_h = STROKE_TILE * small.height // small.width
    sheet = Image.new("RGB", (3 * STROKE_TILE, small_h + 2 * STROKE_TILE), "white")
    for i, stroke in enumerate(("fine", "medium", "coarse")):
        options = StylizeOptions(stroke=stroke)
        side = max(working_size(small.size, stroke))
        out = engine.stylize(small, style, options).image.resize(
            (STROKE_TILE, small_h), Image.Resampling.LANCZOS
        )
        sheet.paste(_label(out, f"640 px, {stroke}: painted at {side}"), (i * STROKE_TILE, 0))
        side = max(working_size(large.size, stroke))
        out = engine.stylize(large, style, options).image
        whole = out.resize((STROKE_TILE, STROKE_TILE), Image.Resampling.LANCZOS)
        sheet.paste(_label(whole, f"3072 px, {stroke}: painted at {side}"), (i * STROKE_TILE, small_h))
        sheet.paste(
            _label(out.crop(crop), f"3072 px, {stroke}: 1:1 crop"), (i * STROKE_TILE, small_h + STROKE_TILE)
        )
    sheet.save(HERE / "stroke-sizes.jpg", quality=80, optimize=True)


def regions(engine: Engine) -> None:
    photo = Image.fromarray(data.coffee())
    styles = [PresetStyle("delft-engraving"), PresetStyle("scarlet-blaze")]
    result = engine.stylize(photo, styles, StylizeOptions(mix="regions"))
    assert result.regions is not None
    width = TILE * photo.width // photo.height
    parts = [photo, result.regions.convert("RGB"), result.image]
    sheet = Image.new("RGB", (3 * width, TILE), "white")
    for i, (img, text) in enumerate(zip(parts, ("photo", "region map", "regions mix"), strict=True)):
        sheet.paste(_label(img.resize((width, TILE), Image.Resampling.LANCZOS), text), (i * width, 0))
    sheet.save(HERE / "regions.jpg", quality=85, optimize=True)
    print("region shares:", [round(float((np.asarray(result.regions) == k).mean()), 2) for k in range(2)])


if __name__ == "__main__":
    engine = Engine.default()
    renders = {"stroke": stroke_sizes, "regions": regions}
    for name in sys.argv[1:] or renders:  # e.g. `render.py stroke` for one picture only
        renders[name](engine)
