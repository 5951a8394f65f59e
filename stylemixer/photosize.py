"""The size a photo is painted at: its own, up to the cap; a larger one brought down to the cap.

A phone's 108 or 200 MP mode, or a panorama longer than :data:`~stylemixer.limits.MAX_SIDE`, is not a
reason to turn a person away: such a photo is decoded (up to :data:`~stylemixer.limits.MAX_DECODED_PIXELS`,
refused from its header beyond that, before anything is decoded) and brought down to the largest
size painted, keeping its shape, and the person is told so. The CLI reads photos here, the worker
reads uploads here, and the API answers a new job with :func:`painted_size` of the photo's header,
so all three agree on the size. The page brings such a photo down itself before sending it, where
the browser can decode it (``static_site/js/downsize.js``).

No torch here: the API function imports this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from stylemixer.errors import IMAGE_TOO_SMALL
from stylemixer.images import (
    ImageSource,
    ImageTooSmallError,
    check_format,
    header_size,
    read_bounded,
    read_image,
)
from stylemixer.images.formats import TEXT_SNIFF_BYTES
from stylemixer.limits import (
    MAX_DECODED_PIXELS,
    MAX_DECODED_SIDE,
    MAX_PIXELS,
    MAX_SIDE,
    MAX_UPLOAD_BYTES,
    MIN_SIDE,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Photo", "painted_size", "read_photo", "reduction_note"]


def painted_size(width: int, height: int) -> tuple[int, int]:
    """The (W, H) a picture of ``width`` x ``height`` is painted at: as it is within the cap, else
    the largest size of its shape within :data:`~stylemixer.limits.MAX_PIXELS` and
    :data:`~stylemixer.limits.MAX_SIDE` (each side scaled by the same factor, rounded down).

    Refuses a picture that would be thinner than :data:`~stylemixer.limits.MIN_SIDE` once brought down
    (a long strip).

    Example:
        >>> painted_size(8160, 6120), painted_size(16320, 12240), painted_size(20000, 5000)
        ((8160, 6120), (8164, 6123), (8192, 2048))
    """
    scale = min(1.0, math.sqrt(MAX_PIXELS / (width * height)), MAX_SIDE / max(width, height))
    if scale >= 1.0:
        return width, height
    size = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    if min(size) < MIN_SIDE:
        raise ImageTooSmallError(
            IMAGE_TOO_SMALL,
            f"The picture is {width} × {height} pixels; brought down to the largest size painted it would "
            f"be {size[0]} × {size[1]}, and both sides must be at least {MIN_SIDE} pixels.",
        )
    return size


@dataclass(frozen=True, slots=True)
class Photo:
    """A photo as it will be painted (``image``), and the size it was sent at (``source_size``)."""

    image: Image.Image
    source_size: tuple[int, int]

    @property
    def reduced(self) -> bool:
        """Whether the photo was brought down to the cap."""
        return self.image.size != self.source_size

    def note(self, name: str = "The photo") -> str | None:
        """The sentence that tells a person their photo was brought down, or None when it was not."""
        return reduction_note(self.source_size, self.image.size, name) if self.reduced else None


def reduction_note(source: Sequence[int], painted: Sequence[int], name: str = "The photo") -> str:
    """What a person is told when their photo is brought down to the largest size painted.

    Example:
        >>> reduction_note((16320, 12240), (8164, 6123))
        'The photo is 16320 × 12240 pixels (199.8 megapixels); it is painted at 8164 × 6123, the largest size accepted (50 megapixels and 8192 pixels on a side).'
    """  # noqa: E501
    return (
        f"{name} is {source[0]} × {source[1]} pixels ({source[0] * source[1] / 1e6:.1f} megapixels); it is "
        f"painted at {painted[0]} × {painted[1]}, the largest size accepted ({MAX_PIXELS / 1e6:g} megapixels "
        f"and {MAX_SIDE} pixels on a side)."
    )


def read_photo(source: ImageSource, *, max_bytes: int = MAX_UPLOAD_BYTES) -> Photo:
    """Read a picture as :func:`~stylemixer.images.read_image` does, bringing one past the cap down to it.

    Up to :data:`~stylemixer.limits.MAX_DECODED_PIXELS` are decoded (a JPEG at a half, a quarter or an
    eighth of its size where that is still at least the size painted), then brought down (Lanczos) to
    :func:`painted_size`. Refusals as :func:`~stylemixer.images.read_image`'s, with the decoded
    limits in their sentences.

    Example:
        >>> from stylemixer.images import encode_image
        >>> photo = read_photo(encode_image(Image.new("RGB", (9000, 40)), "png"))
        >>> photo.image.size, photo.source_size, photo.reduced
        ((8192, 36), (9000, 40), True)
    """
    data = read_bounded(source, max_bytes)
    scale = None
    declared = header_size(data) if check_format(data[:TEXT_SNIFF_BYTES]) == "JPEG" else None
    if declared is not None:  # a JPEG's header gives its upright size: decoded at a reduction if it can
        target = painted_size(declared[0], declared[1])
        scale = target[0] / declared[0]
    image = read_image(data, max_pixels=MAX_DECODED_PIXELS, max_side=MAX_DECODED_SIDE, draft_scale=scale)
    source_size = (declared[0], declared[1]) if declared is not None else image.size
    target = painted_size(*source_size)
    if image.size != target:
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return Photo(image=image, source_size=source_size)
