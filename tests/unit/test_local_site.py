"""The page's own copy of engine facts stays equal to the engine's (the page cannot import Python)."""

from __future__ import annotations

import re

from stylemixer.regionmap import PALETTE
from tests.support.paths import ROOT

CSS = ROOT / "static_site" / "css" / "app.css"


def test_region_legend_colours_are_the_region_map_palette() -> None:
    # Given the stylesheet's swatch colours, style by style
    css = CSS.read_text(encoding="utf-8")
    swatches = {
        int(index): (int(r), int(g), int(b))
        for index, r, g, b in re.findall(r"\.swatch-(\d)\s*\{\s*background:\s*rgb\((\d+) (\d+) (\d+)\);", css)
    }

    # Then there is one per palette entry, with the same colour
    assert swatches == dict(enumerate(PALETTE))


def test_the_region_editor_colours_a_map_without_a_palette_as_the_engine_does() -> None:
    # Given the editor's fallback colours (used when a map PNG carries no PLTE)
    source = (ROOT / "static_site" / "js" / "mapedit" / "editor.js").read_text(encoding="utf-8")
    block = re.search(r"export const PALETTE = \[(.*?)\];", source, re.DOTALL)
    assert block is not None
    colours = [
        tuple(int(v) for v in entry) for entry in re.findall(r"\[(\d+), (\d+), (\d+)\]", block.group(1))
    ]

    # Then they are the engine's palette, style by style
    assert colours == list(PALETTE)
