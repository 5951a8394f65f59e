"""sRGB and white: the colour space every picture is read into and written in, and what an alpha
channel is flattened on (reading and writing alike)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from PIL import ImageCms

#: Transparent pixels are shown on white, as a browser shows them on a page.
WHITE: Final = (255, 255, 255)


@cache
def srgb_profile() -> ImageCms.ImageCmsProfile:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@cache
def srgb_icc_bytes() -> bytes | None:
    """The sRGB profile to embed in what we write (about 600 bytes), if LittleCMS is available."""
    try:
        return srgb_profile().tobytes()
    except Exception:
        return None
