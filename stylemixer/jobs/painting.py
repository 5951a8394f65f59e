"""The size a job paints its photo at, as the job keeps it (:class:`~stylemixer.jobs.model.Painting`).

A photo past the largest size painted is brought down to it (:mod:`stylemixer.photosize`): by the
worker, or before it is sent (the page does, where the browser can decode it, and gives the photo's
own size as the request's ``reduced_from``). Either way the job keeps both sizes, so whoever opens
it later, after a reload or from a shared link, is told the result was painted smaller, and not only
the page that had the answer to ``POST /jobs``.

The size is known twice: from the photo's header when the job is posted (:func:`painting_of`; none
when the header does not say), and from the photo itself once the worker has painted it
(:func:`painted`), which replaces the first. Both take a ``reduced_from`` only where it agrees with
the photo sent: brought down to the largest size painted, it must be that photo's size.

No Pillow at import: the API function imports this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stylemixer.errors import IMAGE_DIMENSIONS_TOO_LARGE, ImageTooLargeError, InvalidRequestError
from stylemixer.jobs.model import Painting
from stylemixer.limits import MAX_DECODED_PIXELS, MAX_DECODED_SIDE

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["check_decoded_size", "painted", "painting_of", "sized"]


def check_decoded_size(width: int, height: int) -> None:
    """Refuse a photo of ``width`` x ``height`` that is larger than any decoded (413): a
    decompression bomb's header, or a picture far past any camera's.

    Example:
        >>> check_decoded_size(40000, 40000)
        Traceback (most recent call last):
        ...
        stylemixer.errors.ImageTooLargeError: The picture is 40000 × 40000 pixels (1600.0 megapixels); ...
    """
    if width * height > MAX_DECODED_PIXELS or max(width, height) > MAX_DECODED_SIDE:
        raise ImageTooLargeError(
            IMAGE_DIMENSIONS_TOO_LARGE,
            f"The picture is {width} × {height} pixels ({width * height / 1e6:.1f} megapixels); the largest "
            f"read is {MAX_DECODED_PIXELS / 1e6:g} megapixels and {MAX_DECODED_SIDE} pixels on a side "
            "(larger photos up to that are painted at 50 megapixels).",
        )


def sized(photo: Sequence[int], max_size: int | None = None) -> Painting:
    """The painting of a photo of size ``photo`` (W, H): brought down to the largest size painted if
    it is past it (:func:`stylemixer.photosize.painted_size`), then within ``max_size``.

    Example:
        >>> sized((16320, 12240), 2048)
        Painting(width=2048, height=1536, reduced=True, photo_width=16320, photo_height=12240)
    """
    from stylemixer.images import fitted_size
    from stylemixer.photosize import painted_size

    width, height = photo[0], photo[1]
    capped = painted_size(width, height)
    size = capped if max_size is None else fitted_size(capped, max_size)
    return Painting(size[0], size[1], capped != (width, height), width, height)


def painting_of(
    photo_head: bytes, max_size: int | None = None, reduced_from: tuple[int, int] | None = None
) -> Painting | None:
    """The painting of the photo whose first bytes are ``photo_head``, as its header gives its size;
    None when the header does not say (the worker tells it then, its decoder checking the same
    limits). A header claiming more pixels than are ever decoded is refused here, before any work
    (413): a decompression bomb, or a picture far past any camera's.

    ``reduced_from`` is the photo's own size when it was brought down before it was sent: refused
    unless brought down to the largest size painted it gives the size sent (either way round where
    the header does not say how the photo stands), or when it is larger than any photo decoded.

    Example:
        >>> import io; from PIL import Image
        >>> photo = io.BytesIO(); Image.new("RGB", (4000, 3000)).save(photo, "PNG")
        >>> painting_of(photo.getvalue()[:64], max_size=1000)
        Painting(width=1000, height=750, reduced=False, photo_width=4000, photo_height=3000)
        >>> painting_of(photo.getvalue()[:64], reduced_from=(16000, 12000))
        Traceback (most recent call last):
        ...
        stylemixer.errors.InvalidRequestError: reduced_from gives the photo's own size before it was ...
        >>> strip = io.BytesIO(); Image.new("RGB", (8192, 36)).save(strip, "PNG")
        >>> painting_of(strip.getvalue()[:64], reduced_from=(9000, 40))
        Painting(width=8192, height=36, reduced=True, photo_width=9000, photo_height=40)
        >>> import struct
        >>> ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
        >>> painting_of(b"\\x89PNG\\r\\n\\x1a\\n" + struct.pack(">I", 13) + b"IHDR" + ihdr)
        Traceback (most recent call last):
        ...
        stylemixer.errors.ImageTooLargeError: The picture is 40000 × 40000 pixels (1600.0 megapixels); ...
    """
    from stylemixer.images import header_size

    declared = header_size(photo_head)
    if declared is not None:
        check_decoded_size(declared[0], declared[1])
    if reduced_from is not None:
        check_decoded_size(*reduced_from)
    if declared is None:
        return None
    width, height, upright = declared
    if reduced_from is None:
        return sized((width, height), max_size)
    _check_reduced_from(reduced_from, (width, height), upright=upright)
    return sized(reduced_from, max_size)


def painted(
    source_size: tuple[int, int], size: tuple[int, int], reduced_from: tuple[int, int] | None = None
) -> Painting:
    """What the worker keeps once it has painted a photo sent at ``source_size`` (upright, as read)
    at ``size``: the photo's own size is ``reduced_from`` where that agrees with the photo sent (it
    was brought down before it was sent), else the photo's.

    Example:
        >>> painted((819, 8192), (819, 8192), reduced_from=(1000, 10000))
        Painting(width=819, height=8192, reduced=True, photo_width=1000, photo_height=10000)
        >>> painted((819, 8192), (51, 512), reduced_from=(800, 10000))  # not this photo's size
        Painting(width=51, height=512, reduced=False, photo_width=819, photo_height=8192)
    """
    from stylemixer.photosize import painted_size

    photo = source_size
    if reduced_from is not None and _brought_down(reduced_from) == source_size:
        photo = reduced_from
    reduced = painted_size(*photo) != photo
    return Painting(size[0], size[1], reduced, photo[0], photo[1])


def _brought_down(photo: tuple[int, int]) -> tuple[int, int] | None:
    """``photo`` brought down to the largest size painted, or None when it cannot be painted at all
    (a strip that would be thinner than a picture may be)."""
    from stylemixer.errors import StyleMixerError
    from stylemixer.photosize import painted_size

    try:
        return painted_size(*photo)
    except StyleMixerError:
        return None


def _check_reduced_from(reduced_from: tuple[int, int], sent: tuple[int, int], *, upright: bool) -> None:
    """Refuse a ``reduced_from`` that is not the size of a photo that, brought down, is the one sent."""
    brought = _brought_down(reduced_from)
    turned = (sent[1], sent[0])
    if brought == sent or (not upright and brought == turned):
        return
    shown = f"{brought[0]} × {brought[1]}" if brought is not None else "too thin to paint"
    raise InvalidRequestError(
        message=f"reduced_from gives the photo's own size before it was brought down to the largest size "
        f"painted: {reduced_from[0]} × {reduced_from[1]} brought down is {shown}, and the photo sent is "
        f"{sent[0]} × {sent[1]}."
    )
