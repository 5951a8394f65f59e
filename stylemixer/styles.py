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


#: The refusal of a blend of presets and pictures: its code, and its sentence, which the page shows
#: before uploading anything (it reads it from ``config.json``, see :func:`stylemixer.page.site_config`).
MIXED_KINDS_CODE = "MixedStyleKinds"
MIXED_KINDS_MESSAGE = (
    "A blend can combine presets with presets or your own pictures with each other, "
    "not both; choose the regions mix to combine them."
)


def check_blend_kinds(n_presets: int, n_pictures: int, mix: str) -> None:
    """Refuse a blend that mixes presets with pictures: their networks share no style space.

    Torch-free, so the API refuses such a job with a 4xx before it is queued, and the engine (which
    the CLI drives directly) applies the same rule with the same words.

    Example:
        >>> check_blend_kinds(2, 0, "blend")
    """
    from stylemixer.errors import InvalidRequestError

    if mix == "blend" and n_presets and n_pictures:
        raise InvalidRequestError(MIXED_KINDS_CODE, MIXED_KINDS_MESSAGE)
