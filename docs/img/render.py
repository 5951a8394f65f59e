"""Render the pictures of docs/full-resolution.md from public-domain photos scikit-image ships.

    PYTHONPATH=. .venv/bin/python docs/img/render.py

- ``stroke-sizes.jpg``: one preset at the three stroke sizes on a phone-photo-sized picture (NASA's
  astronaut portrait, public domain, upscaled to 3072 x 3072): top row the whole picture as a screen
  shows it, bottom row a 1:1 crop.
- ``regions.jpg``: the regions mix of two presets on the coffee photo (public domain), with its map.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from skimage import data

from stylemixer.neural.engine import Engine
from stylemixer.options import StylizeOptions
from stylemixer.styles import PresetStyle

HERE = Path(__file__).resolve().parent
TILE = 360


def _label(img: Image.Image, text: str) -> Image.Image:
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 8 + 7 * len(text), 18), fill=(0, 0, 0))
    draw.text((4, 3), text, fill=(255, 255, 255))
    return img


def stroke_sizes(engine: Engine) -> None:
    photo = Image.fromarray(data.astronaut()).resize((3072, 3072), Image.Resampling.LANCZOS)
    sheet = Image.new("RGB", (3 * TILE, 2 * TILE), "white")
    crop = (1300, 760, 1300 + TILE, 760 + TILE)  # the face, 1:1
    for i, stroke in enumerate(("fine", "medium", "coarse")):
        out = engine.stylize(photo, [PresetStyle("swirling-night")], StylizeOptions(stroke=stroke)).image
        whole = out.resize((TILE, TILE), Image.Resampling.LANCZOS)
        sheet.paste(_label(whole, f"{stroke}: whole picture"), (i * TILE, 0))
        sheet.paste(_label(out.crop(crop), f"{stroke}: 1:1 crop"), (i * TILE, TILE))
    sheet.save(HERE / "stroke-sizes.jpg", quality=85, optimize=True)


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
    stroke_sizes(engine)
    regions(engine)
