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


def test_every_rule_of_the_stylesheet_is_closed() -> None:
    # A rule left open swallows every rule after it (as nested rules that match nothing intended)
    css = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.DOTALL)
    depth = 0
    for line_number, line in enumerate(css.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"a brace closes nothing on line {line_number}"
    assert depth == 0, "a rule is left open"
