"""The 26 preset styles of the multistyle26 network (Dumoulin et al. 2017).

Names are ours, chosen by looking at each style rendered on the same photo; they describe the look,
not the painting the style was learned from (which the weights do not record). Ids are stable: the
API, the page and stored jobs refer to them. Importing this module costs nothing (no torch).
"""

from __future__ import annotations

from dataclasses import dataclass

from stylemixer.errors import UNKNOWN_STYLE, StyleMixerError


class UnknownStyleError(StyleMixerError):
    """A preset id that does not exist."""

    code = UNKNOWN_STYLE


@dataclass(frozen=True, slots=True)
class Preset:
    """One preset: a stable ``id``, a display ``name`` and its ``index`` in multistyle26."""

    id: str
    name: str
    index: int

    @property
    def thumbnail(self) -> str:
        """Path of its thumbnail, relative to ``static_site/``."""
        return f"presets/{self.id}.jpg"


PRESETS: tuple[Preset, ...] = tuple(
    Preset(id_, name, index)
    for index, (id_, name) in enumerate(
        [
            ("soft-pastel", "Soft pastel"),
            ("yellow-outline", "Yellow outline"),
            ("grey-ink", "Grey ink"),
            ("electric-ribbons", "Electric ribbons"),
            ("crimson-fresco", "Crimson fresco"),
            ("amber-glow", "Amber glow"),
            ("blue-cells", "Blue cells"),
            ("color-fields", "Colour fields"),
            ("marker-sketch", "Marker sketch"),
            ("floral-print", "Floral print"),
            ("terracotta", "Terracotta"),
            ("golden-etching", "Golden etching"),
            ("lavender-haze", "Lavender haze"),
            ("fauve-green", "Fauve green"),
            ("frost-watercolor", "Frost watercolour"),
            ("stained-glass", "Stained glass"),
            ("swirling-night", "Swirling night"),
            ("brick-weave", "Brick weave"),
            ("sepia-sketch", "Sepia sketch"),
            ("indigo-brush", "Indigo brush"),
            ("scarlet-blaze", "Scarlet blaze"),
            ("pastel-cutout", "Pastel cut-out"),
            ("slate-poster", "Slate poster"),
            ("moss-shadow", "Moss shadow"),
            ("delft-engraving", "Delft engraving"),
            ("tapestry", "Tapestry"),
        ]
    )
)

#: How many presets, and rows in each of multistyle26's normalisation tables.
NUM_PRESETS = len(PRESETS)
PRESET_IDS: tuple[str, ...] = tuple(p.id for p in PRESETS)
_BY_ID = {p.id: p for p in PRESETS}


def get_preset(preset_id: str) -> Preset:
    """Look a preset up by id, or refuse with a message that names a few valid ids.

    Example:
        >>> get_preset("swirling-night").index
        16
    """
    try:
        return _BY_ID[preset_id]
    except (KeyError, TypeError):
        raise UnknownStyleError(
            message=f"There is no preset style called {preset_id!r}. "
            f"Run `stylemixer styles` to list them (for example {PRESETS[16].id!r})."
        ) from None
