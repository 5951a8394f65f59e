"""Region maps as input: a person's map (drawn, or a job's own map edited) read, checked and framed.

A region map is a PNG the size of a picture where pixel value k means "the k-th style here", as the
regions mix writes it (``--regions-out``, a job's ``regions_url``): a palette ("P") PNG whose
colours are :data:`PALETTE`. Given back (``--regions-in``, a job's ``regions_map``), it replaces the
planning of where each style goes; painting then follows it as it follows a planned map
(:meth:`stylemixer.neural.engine.Engine.paint_regions`: feathered by the edge softness and brought
to full resolution along the photo's own edges).

A map is untrusted like any upload, so :func:`read_region_map` works in a fixed order and stops at
the first broken rule: the byte size; the PNG signature; the width and height from the header,
before a pixel is decoded (a map needs no more pixels than a photo may have); the mode (one style
number per pixel: palette, whose *index* is the number, or grey, whose value is); the decode; every
value below the number of styles. :func:`fit_to_photo` then checks the map was drawn for a picture
of the photo's shape and brings it to the photo's size, nearest neighbour (a style number is never
blended with its neighbour's).

No torch and no numpy here: the API imports this module to check a map when a job names it.
"""

from __future__ import annotations

import io
import os
import struct
from typing import IO, Final

from PIL import Image

from stylemixer.errors import (
    REGIONS_MAP_INVALID,
    REGIONS_MAP_MISMATCH,
    REGIONS_MAP_STYLE_MISSING,
    REGIONS_MAP_TOO_LARGE,
    ImageTooLargeError,
    InvalidRequestError,
    StyleMixerError,
)
from stylemixer.images import read_bounded
from stylemixer.limits import MAX_MAP_BYTES, MAX_PIXELS, MAX_SIDE, megabytes

#: Colours of the palette region map, one per style (distinct, readable on screen and in print).
PALETTE: Final[tuple[tuple[int, int, int], ...]] = (
    (230, 25, 75),
    (60, 180, 75),
    (0, 130, 200),
    (255, 200, 25),
)

#: How far a map's aspect ratio may be from the photo's (a fraction of it), beyond a pixel of rounding.
ASPECT_TOLERANCE: Final = 0.02
#: The PNG file signature (ISO/IEC 15948, 5.2).
PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
#: The modes a map may have: one number per pixel.
MAP_MODES: Final = ("P", "L")
#: How a map is named in sentences, and what it should be.
_WHAT_IT_IS: Final = (
    "a region map is a PNG with one style number per pixel, a palette or grey picture "
    "(as the regions mix writes it)"
)

#: What :func:`read_region_map` reads: the bytes themselves, a file path, or a binary stream.
MapSource = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]


def invalid(message: str) -> StyleMixerError:
    """The refusal of a map that is not one (400, :data:`REGIONS_MAP_INVALID`)."""
    return InvalidRequestError(REGIONS_MAP_INVALID, message)


def read_region_map(source: MapSource, n_styles: int, *, max_bytes: int = MAX_MAP_BYTES) -> Image.Image:
    """Read a region map for ``n_styles`` styles: an "L" picture whose values are style numbers.

    Refusals are :class:`~stylemixer.errors.StyleMixerError` with the ``REGIONS_MAP_*`` codes of
    :mod:`stylemixer.errors` and a sentence for a person; no Pillow exception escapes. A palette map
    gives its indices (not its colours).

    Example:
        >>> drawn = Image.new("L", (40, 30)); drawn.paste(1, (20, 0, 40, 30))  # right half: style 1
        >>> buffer = io.BytesIO(); drawn.save(buffer, "PNG")
        >>> read_region_map(buffer.getvalue(), 2).getextrema()
        (0, 1)
        >>> try:
        ...     read_region_map(buffer.getvalue(), 1)
        ... except StyleMixerError as error:
        ...     print(error.code, error.message)
        RegionsMapStyleMissing The region map gives style number 1 to some pixels, but there is only ...
    """
    data = read_bounded(source, max_bytes, check_size=check_map_bytes, unreadable=_unreadable)
    if not data.startswith(PNG_SIGNATURE):
        kind = "empty" if not data else "not a PNG file"
        raise invalid(f"The region map is {kind}; {_WHAT_IT_IS}.")
    try:
        from PIL import PngImagePlugin

        im = PngImagePlugin.PngImageFile(io.BytesIO(data))
    except Exception as exc:
        raise _broken(exc) from None
    _check_size(*im.size)
    if getattr(im, "is_animated", False):
        raise invalid(f"The region map is an animated PNG; {_WHAT_IT_IS}.")
    if im.mode not in MAP_MODES:
        raise invalid(f"The region map is a {_mode_name(im.mode)} picture; {_WHAT_IT_IS}.")
    try:
        im.load()
    except Exception as exc:
        raise _broken(exc) from None
    numbers = Image.frombytes("L", im.size, im.tobytes())  # a palette's indices, not its colours
    check_styles(numbers, n_styles)
    return numbers


def check_styles(numbers: Image.Image, n_styles: int) -> None:
    """Refuse a map (mode "L") with a pixel whose number names no style of the ``n_styles``."""
    highest = int(numbers.getextrema()[1])  # type: ignore[index]
    if highest >= n_styles:
        raise style_missing(highest, n_styles)


def style_missing(number: int, n_styles: int) -> StyleMixerError:
    """The refusal of a map whose pixels give style ``number``, which none of the ``n_styles`` is."""
    styles = "style" if n_styles == 1 else "styles"
    return InvalidRequestError(
        REGIONS_MAP_STYLE_MISSING,
        f"The region map gives style number {number} to some pixels, but there "
        f"{'is' if n_styles == 1 else 'are'} only {n_styles} {styles} (numbered from 0).",
    )


def check_aspect(map_size: tuple[int, int], photo_size: tuple[int, int]) -> None:
    """Refuse a map whose shape is not the photo's (upright): it was drawn for another picture.

    The shapes may differ by :data:`ASPECT_TOLERANCE`, or by rounding to whole pixels (a small map).

    Example:
        >>> check_aspect((400, 300), (4000, 3010))
        >>> try:
        ...     check_aspect((400, 300), (3000, 4000))
        ... except StyleMixerError as error:
        ...     print(error.code, error.message)
        RegionsMapMismatch The region map is 400 × 300 pixels (landscape, 1.33:1) but the photo is ...
    """
    (mw, mh), (pw, ph) = map_size, photo_size
    expected_h = mw * ph / pw  # the map's height had it the photo's shape
    if abs(mh - expected_h) <= max(1.0, ASPECT_TOLERANCE * expected_h):
        return
    raise InvalidRequestError(
        REGIONS_MAP_MISMATCH,
        f"The region map is {mw} × {mh} pixels ({_shape(mw, mh)}) but the photo is {pw} × {ph} "
        f"({_shape(pw, ph)}): the map was drawn for another picture. Draw it over this photo, or "
        "start from this photo's own map.",
    )


def fit_to_photo(numbers: Image.Image, photo_size: tuple[int, int]) -> Image.Image:
    """The map at the (upright) photo's size, nearest neighbour, once its shape is checked.

    Example:
        >>> fit_to_photo(Image.new("L", (4, 3), 1), (400, 300)).size
        (400, 300)
    """
    check_aspect(numbers.size, photo_size)
    if numbers.size == photo_size:
        return numbers
    return numbers.resize(photo_size, Image.Resampling.NEAREST)


def with_palette(numbers: Image.Image) -> Image.Image:
    """A map of style numbers (mode "L") as the palette PNG the regions mix writes.

    Example:
        >>> with_palette(Image.new("L", (2, 2), 1)).convert("RGB").getpixel((0, 0)) == PALETTE[1]
        True
    """
    img = Image.frombytes("P", numbers.size, numbers.tobytes())  # the numbers become palette indices
    colours = [v for colour in PALETTE for v in colour]
    img.putpalette(colours + [0] * (768 - len(colours)))
    return img


def _broken(exc: BaseException) -> StyleMixerError:
    """A PNG that Pillow could not read, in words: cut short, or damaged."""
    causes = (exc, exc.__cause__, exc.__context__)
    if any(isinstance(c, EOFError | struct.error) for c in causes) or "truncated" in str(exc).lower():
        return invalid("The region map's PNG file ends too early (it was cut off); send it again.")
    return invalid(f"The region map is a damaged PNG file; {_WHAT_IT_IS}.")


def _unreadable(path: str, reason: str) -> StyleMixerError:
    return invalid(f"Cannot read the region map {path}: {reason}.")


def check_map_bytes(size: int, limit: int = MAX_MAP_BYTES) -> None:
    """Refuse a map of ``size`` bytes over ``limit`` (413, with both sizes), before it is read.

    Example:
        >>> check_map_bytes(MAX_MAP_BYTES)
        >>> check_map_bytes(MAX_MAP_BYTES + 1)
        Traceback (most recent call last):
        ...
        stylemixer.errors.ImageTooLargeError: The region map is 4,194,305 bytes; the largest accepted is ...
    """
    if size > limit:
        raise ImageTooLargeError(
            REGIONS_MAP_TOO_LARGE,
            f"The region map is {size:,} bytes; the largest accepted is {limit:,} bytes "
            f"({megabytes(limit)}; a map saved as a palette or grey PNG is far smaller).",
        )


def _check_size(width: int, height: int) -> None:
    """A map may have as many pixels as a photo (its header's word, before any decoding)."""
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise ImageTooLargeError(
            REGIONS_MAP_TOO_LARGE,
            f"The region map is {width} × {height} pixels; a map may have at most "
            f"{MAX_PIXELS / 1e6:.1f} megapixels and a longer side of {MAX_SIDE} pixels.",
        )


def _mode_name(mode: str) -> str:
    names = {
        "RGB": "colour (RGB)",
        "RGBA": "colour (RGBA)",
        "LA": "grey with transparency",
        "1": "black-and-white",
    }
    return names.get(mode, f"{mode} mode")


def _shape(width: int, height: int) -> str:
    kind = "square" if width == height else "landscape" if width > height else "portrait"
    return f"{kind}, {width / height:.2f}:1"
