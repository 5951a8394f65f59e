"""The kinds of style a job can name, and what a stylization returns. No torch here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True, slots=True)
class PresetStyle:
    """One of the 26 presets, by its stable id (see :mod:`stylemixer.presets`)."""

    preset_id: str

    @property
    def label(self) -> str:
        return self.preset_id


@dataclass(frozen=True, slots=True)
class ImageStyle:
    """Any picture used as the style (already decoded under the limits, RGB)."""

    image: Image.Image
    name: str = "custom"

    @property
    def label(self) -> str:
        return self.name


Style = PresetStyle | ImageStyle


@dataclass(slots=True)
class StylizeResult:
    """The stylized picture and, for a regions mix, its region map.

    ``regions`` is a palette ("P") image the size of ``image`` where pixel value k means the k-th
    style (in the order given) dominates there.
    """

    image: Image.Image
    regions: Image.Image | None = None
